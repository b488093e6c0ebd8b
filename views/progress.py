"""工作进度 Campaign progress: households surveyed per day and cumulatively per unit,
against the village table's household count, with the campaign's phases marked."""

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

fig = charts.cumulative_lines(
    per_day,
    level,
    phases,
    t("progress_title", u=unit_label),
    t("survey_date"),
    t("surveyed"),
)

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
fig = charts.series_bars(
    daily.assign(series=t("surveyed")),
    "survey_date",
    "series",
    "households",
    t("daily_title"),
    t("survey_date"),
    t("surveyed"),
    height=320,
    by_day=True,
)
chart_and_table(
    fig,
    daily.rename(columns={"survey_date": t("survey_date"), "households": t("surveyed")}),
    f"{f.round}_每日调查",
    "prog_daily",
)
