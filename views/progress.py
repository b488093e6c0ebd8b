"""工作进度 Campaign progress: households surveyed per day and cumulatively per unit,
against the village table's household count, with the campaign's phases marked."""

import plotly.graph_objects as go
import streamlit as st

from analytics.figures import summaries
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
per_day = summaries.progress_per_day(progress, level)
# The phases: date spans of the meetings' phases in this round (贫情分析, 实地调查).
phases = summaries.campaign_phases(reads.meetings(f))

fig = go.Figure()
for unit in per_day[level].drop_duplicates().sort_values():
    part = per_day[per_day[level] == unit]
    fig.add_scatter(
        x=part["survey_date"], y=part["cumulative"], name=str(unit), mode="lines+markers"
    )
for i, span in enumerate(phases.itertuples()):
    fig.add_vrect(
        x0=span.first,
        x1=span.last,
        opacity=0.08,
        line_width=0,
        fillcolor=charts.PALETTE[i % len(charts.PALETTE)],
        annotation_text=span.phase,
        annotation_position="top left",
    )
fig.update_layout(xaxis_title=t("survey_date"), yaxis_title=t("surveyed"))
charts.whole_numbers(charts.daily(charts.style(fig, t("progress_title", u=unit_label), height=460)))

targets = reads.village_table(f)
done = summaries.survey_completion(progress, targets, level)
names = {level: unit_label, "households": t("surveyed"), "undated": t("undated")}
names |= {"target": t("target"), "completion": t("completion")}
shown = None
if len(targets):
    table = done.assign(completion=(done["completion"] * 100).round(2))
    table = table.rename(columns={**names, "completion": t("completion") + " (%)"})
    shown = readable(done.assign(completion=done["completion"].map(fmt_rate)).rename(columns=names))
else:
    st.caption(t("no_village_table"))
    table = done[[level, "households", "undated"]].rename(columns=names)
chart_and_table(fig, table, f"{f.round}_工作进度", "prog_cumulative", shown=shown)

daily = summaries.surveys_per_date(progress)
fig = go.Figure(go.Bar(x=daily["survey_date"], y=daily["households"]))
fig.update_layout(xaxis_title=t("survey_date"), yaxis_title=t("surveyed"))
charts.whole_numbers(charts.daily(charts.style(fig, t("daily_title"), height=320)))
chart_and_table(
    fig,
    daily.rename(columns={"survey_date": t("survey_date"), "households": t("surveyed")}),
    f"{f.round}_每日调查",
    "prog_daily",
)
