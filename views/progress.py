"""工作进度 Campaign progress: households surveyed per day and cumulatively per unit,
against the village table's household count, with the campaign's phases marked."""

import plotly.graph_objects as go
import streamlit as st

from ui import charts, filters, reads
from ui.blocks import chart_and_table, page_filters, readable
from ui.common import fmt_rate, t

view = filters.frame("page_progress")
if view is None:
    st.stop()
f = page_filters(view, ("households",))
level = view.level
unit_label = t(level)

progress = reads.survey_progress(f)
if progress.empty:
    st.warning(t("no_data"))
    st.stop()
dated = progress.dropna(subset=["survey_date"])
per_day = dated.groupby([level, "survey_date"], as_index=False)["households"].sum()
per_day["cumulative"] = per_day.groupby(level)["households"].cumsum()

# The phases: date spans of the meetings' phases in this round (贫情分析, 实地调查).
meetings = reads.meetings(f).dropna(subset=["meeting_date", "phase"])
phases = meetings.groupby("phase")["meeting_date"].agg(["min", "max"]).sort_values("min")

fig = go.Figure()
for unit, part in per_day.groupby(level):
    fig.add_scatter(
        x=part["survey_date"], y=part["cumulative"], name=str(unit), mode="lines+markers"
    )
for i, (phase, span) in enumerate(phases.iterrows()):
    fig.add_vrect(
        x0=span["min"],
        x1=span["max"],
        opacity=0.08,
        line_width=0,
        fillcolor=charts.PALETTE[i % len(charts.PALETTE)],
        annotation_text=phase,
        annotation_position="top left",
    )
fig.update_layout(xaxis_title=t("survey_date"), yaxis_title=t("surveyed"))
charts.whole_numbers(charts.daily(charts.style(fig, t("progress_title", u=unit_label), height=460)))

targets = reads.village_table(f)
done = progress.groupby(level, as_index=False)["households"].sum()
undated = progress[progress["survey_date"].isna()].groupby(level)["households"].sum()
done[t("undated")] = done[level].map(undated).fillna(0).astype(int)
shown = None
if len(targets):
    target = targets.groupby(level)["households"].sum()
    done[t("target")] = done[level].map(target)
    ratio = done["households"] / done[t("target")]
    done[t("completion") + " (%)"] = (ratio * 100).round(2)
    shown = done.drop(columns=[t("completion") + " (%)"]).assign(
        **{t("completion"): ratio.map(fmt_rate)}
    )
else:
    st.caption(t("no_village_table"))
names = {level: unit_label, "households": t("surveyed")}
table = done.rename(columns=names)
shown = readable(shown.rename(columns=names)) if shown is not None else None
chart_and_table(fig, table, f"{f.round}_工作进度", "prog_cumulative", shown=shown)

daily = dated.groupby("survey_date", as_index=False)["households"].sum()
fig = go.Figure(go.Bar(x=daily["survey_date"], y=daily["households"]))
fig.update_layout(xaxis_title=t("survey_date"), yaxis_title=t("surveyed"))
charts.whole_numbers(charts.daily(charts.style(fig, t("daily_title"), height=320)))
chart_and_table(
    fig,
    daily.rename(columns={"survey_date": t("survey_date"), "households": t("surveyed")}),
    f"{f.round}_每日调查",
    "prog_daily",
)
