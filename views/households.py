"""贫困户情况 Households: causes of poverty, 两不愁三保障 shortfalls, income against the
year's poverty line, for registered households per unit."""

import streamlit as st

from analytics.figures import summaries
from analytics.figures.breakdowns import SECURE_FIELDS, income_summary
from ui import charts, filters, reads
from ui.blocks import chart_and_table, page_filters
from ui.common import settings, t

view = filters.frame("page_households")
if view is None:
    st.stop()
f = page_filters(view, ("households",))
level = view.level
unit_label = t(level)
value = view.basis

causes = reads.causes(f)
if causes.empty:
    st.warning(t("no_data"))
    st.stop()
st.subheader(t("causes_title", u=unit_label))
if causes["main_cause"].isna().all():
    st.info(t("not_in_files", what=t("main_cause")))
else:
    causes = causes.assign(main_cause=causes["main_cause"].fillna(t("not_recorded")))
    pivot = summaries.spread(causes, level, "main_cause", value)
    series = {c: c for c in pivot.columns if c != level}
    fig = charts.stacked_bars(pivot, level, series, "", unit_label, t(f"{value}_unit_long"))
    chart_and_table(
        fig, pivot.rename(columns={level: unit_label}), f"{f.round}_致贫原因", "hh_causes"
    )

st.subheader(t("shortfall_title"))
short = reads.shortfalls(f)
answered = summaries.answered_items(short)
unanswered = [k for k in SECURE_FIELDS if k not in answered]
if unanswered:
    st.caption(t("not_in_files", what="、".join(t(k) for k in unanswered)))
if answered:
    short = summaries.shortfalls_per_unit(short, level, answered)
    fig = charts.stacked_bars(
        short,
        level,
        {k: t(k) for k in answered},
        "",
        unit_label,
        t("households_unit_long"),
        barmode="group",
    )
    shown = short.rename(
        columns={level: unit_label, **{k: t(k) for k in (*answered, "registered")}}
    )
    chart_and_table(fig, shown, f"{f.round}_两不愁三保障", "hh_short")

year = reads.round_year(f.round)
line = settings().poverty_line(year) if year else None
summary = income_summary(reads.incomes(f), level, line)
if not summaries.incomes_recorded(summary):
    st.info(t("not_in_files", what=t("income_per_capita")))
    st.stop()
if line:
    title = t("income_title", y=year, l=f"{line:,.0f}")
else:
    st.caption(t("year_unknown") if year is None else t("no_line", y=year))
    title = t("income_per_capita")
fig = charts.income_boxes(
    summary, level, line, t("poverty_line"), title, unit_label, t("income_per_capita")
)
counts = summary[[level, "registered", "below", "at_or_above", "missing"]]
counts = counts.rename(
    columns={
        level: unit_label,
        "registered": t("registered"),
        "below": t("below_line"),
        "at_or_above": t("at_or_above_line"),
        "missing": t("income_missing"),
    }
)
chart_and_table(fig, counts, f"{f.round}_收入与贫困线", "hh_income")
