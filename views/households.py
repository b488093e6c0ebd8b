"""贫困户情况 Households: causes of poverty, 两不愁三保障 shortfalls, income against the
year's poverty line, for registered households per unit."""

import plotly.graph_objects as go
import streamlit as st

from analytics.breakdowns import SECURE_FIELDS
from ui import charts, filters
from ui.blocks import chart_and_table
from ui.common import query, round_year, settings, t

view = filters.frame("page_households")
if view is None:
    st.stop()
f = view.filters
level = view.level
unit_label = t(level)
value = view.basis

causes = query("causes", f)
if causes.empty:
    st.warning(t("no_data"))
    st.stop()
causes = causes.assign(main_cause=causes["main_cause"].fillna(t("not_recorded")))
pivot = causes.pivot_table(
    index=level, columns="main_cause", values=value, aggfunc="sum", fill_value=0
)
pivot = pivot.reset_index()
series = {c: c for c in pivot.columns if c != level}
fig = charts.stacked_bars(
    pivot, level, series, t("causes_title", u=unit_label), unit_label, t(f"basis_{value}")
)
chart_and_table(
    fig, pivot.rename(columns={level: unit_label}), f"{view.round}_致贫原因", "hh_causes"
)

short = query("shortfalls", f)
short = short.groupby(level, as_index=False)[["registered", *SECURE_FIELDS, "any_shortfall"]].sum()
fig = go.Figure()
for k in SECURE_FIELDS:
    fig.add_bar(x=short[level], y=short[k], name=t(k))
fig.update_layout(barmode="group", xaxis_title=unit_label, yaxis_title=t("basis_households"))
charts.style(fig, t("shortfall_title"))
shown = short.rename(
    columns={
        level: unit_label,
        **{k: t(k) for k in (*SECURE_FIELDS, "registered", "any_shortfall")},
    }
)
chart_and_table(fig, shown, f"{view.round}_两不愁三保障", "hh_short")

year = round_year(view.round)
line = settings().poverty_line(year) if year else None
incomes = query("incomes", f)
fig = go.Figure()
for unit, part in incomes.groupby(level):
    fig.add_box(y=part["income_per_capita"], name=str(unit), boxpoints="outliers", showlegend=False)
if line:
    fig.add_hline(
        y=line,
        line_dash="dash",
        line_color=charts.OVER,
        annotation_text=f"{t('poverty_line')} {line:,.0f}",
    )
    title = t("income_title", y=year, l=f"{line:,.0f}")
else:
    st.caption(t("year_unknown"))
    title = t("income_per_capita")
fig.update_layout(xaxis_title=unit_label, yaxis_title=t("income_per_capita"), yaxis_tickformat=",")
charts.style(fig, title)
income = incomes["income_per_capita"]
counts = (
    incomes.assign(
        below=(income < line) if line else False,
        above=(income >= line) if line else False,
        missing=income.isna(),
    )
    .groupby(level, as_index=False)[["below", "above", "missing"]]
    .sum()
)
counts = counts.rename(
    columns={
        level: unit_label,
        "below": t("below_line"),
        "above": t("at_or_above_line"),
        "missing": t("income_missing"),
    }
)
chart_and_table(fig, counts, f"{view.round}_收入与贫困线", "hh_income")
