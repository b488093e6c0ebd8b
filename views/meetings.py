"""贫情分析会议 Meetings: sessions and attendance per unit, group and phase, over time, the
attendance per session, and the groups or villages that held no meeting."""

import streamlit as st

from analytics.figures import summaries
from ui import charts, filters, reads
from ui.blocks import chart_and_table, page_filters, table_with_download
from ui.common import t, tm

view = filters.frame("page_meetings")
if view is None:
    st.stop()
f = page_filters(view, ("meetings",))
level = view.level
unit_label = t(level)
meetings = reads.meetings(f)
if meetings.empty:
    st.info(t("no_meetings_round"))
else:
    per_unit = summaries.meetings_per_unit(meetings, level, t("township_level"))
    fig = charts.bars_and_line(
        per_unit,
        "unit",
        ("meetings", t("meetings_count")),
        ("attendance", t("attendance")),
        t("sessions_per_unit", u=unit_label),
        unit_label,
    )
    chart_and_table(
        fig,
        per_unit.rename(
            columns={
                "unit": unit_label,
                "meetings": t("meetings_count"),
                "attendance": t("attendance"),
                "per_session": t("attendance_per_session"),
            }
        ),
        f"{f.round}_会议_{unit_label}",
        "meet_units",
    )

    per_day = summaries.meetings_per_day(meetings, t("not_recorded"))
    fig = charts.series_bars(
        per_day,
        "meeting_date",
        "phase",
        "meetings",
        t("sessions_per_day"),
        t("meeting_date"),
        t("meetings_count"),
        height=340,
        by_day=True,
    )
    chart_and_table(
        fig,
        per_day.rename(
            columns={
                "meeting_date": t("meeting_date"),
                "phase": t("phase"),
                "meetings": t("meetings_count"),
                "attendance": t("attendance"),
            }
        ),
        f"{f.round}_每日会议",
        "meet_days",
    )

    per_phase = summaries.meetings_per_phase(meetings, t("not_recorded"))
    st.subheader(t("per_phase"))
    table_with_download(
        per_phase.rename(
            columns={
                "phase": t("phase"),
                "meetings": t("meetings_count"),
                "attendance": t("attendance"),
                "per_session": t("attendance_per_session"),
            }
        ),
        f"{f.round}_会议阶段",
        "meet_phases",
    )

    groups = summaries.meetings_per_group(meetings)
    with st.expander(t("group")):
        table_with_download(
            groups.rename(columns={c: t(c) for c in ("township", "village", "group")}).rename(
                columns={"meetings": t("meetings_count"), "attendance": t("attendance")}
            ),
            f"{f.round}_小组会议",
            "meet_groups",
        )

if not meetings.empty:
    # only a round that records meetings can tell which units held none
    villages = reads.metrics_frame(
        f.round, "village", villages=f.villages, townships=f.townships, groups=f.groups
    )
    silent = summaries.villages_without_meetings(villages)
    if silent:
        st.warning(tm("villages_no_meeting", v="、".join(silent)))
    missing = reads.groups_without_meetings(f)
    st.subheader(t("groups_no_meeting"))
    if missing.empty:
        st.caption(t("all_have_meetings"))
    else:
        names = {c: t(c) for c in ("township", "village", "group")} | {"households": t("surveyed")}
        table_with_download(missing.rename(columns=names), f"{f.round}_未开会小组", "meet_missing")
