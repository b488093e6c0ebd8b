"""贫情分析会议 Meetings: sessions and attendance per unit, group and phase, over time, the
attendance per session, and the groups or villages that held no meeting."""

import plotly.graph_objects as go
import streamlit as st

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
    m = meetings.copy()
    if level == "village":
        m["unit"] = m["village"].fillna(t("township_level"))
    else:
        m["unit"] = m["township"]
    per_unit = m.groupby("unit", as_index=False)[["meetings", "attendance"]].sum()
    per_unit["per_session"] = (per_unit["attendance"] / per_unit["meetings"]).round(1)
    fig = go.Figure()
    fig.add_bar(x=per_unit["unit"], y=per_unit["meetings"], name=t("meetings_count"))
    fig.add_scatter(
        x=per_unit["unit"],
        y=per_unit["attendance"],
        name=t("attendance"),
        yaxis="y2",
        mode="markers+lines",
    )
    fig.update_layout(
        yaxis={"title": t("meetings_count")},
        yaxis2={"title": t("attendance"), "overlaying": "y", "side": "right"},
        xaxis_title=unit_label,
    )
    charts.whole_numbers(charts.style(fig, t("sessions_per_unit", u=unit_label)))
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

    m["phase"] = m["phase"].fillna(t("not_recorded"))
    per_day = m.groupby(["meeting_date", "phase"], as_index=False)[["meetings", "attendance"]].sum()
    fig = go.Figure()
    for phase, part in per_day.groupby("phase"):
        fig.add_bar(x=part["meeting_date"], y=part["meetings"], name=phase)
    fig.update_layout(
        barmode="stack", xaxis_title=t("meeting_date"), yaxis_title=t("meetings_count")
    )
    charts.whole_numbers(charts.daily(charts.style(fig, t("sessions_per_day"), height=340)))
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

    per_phase = m.groupby("phase", as_index=False)[["meetings", "attendance"]].sum()
    per_phase["per_session"] = (per_phase["attendance"] / per_phase["meetings"]).round(1)
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

    groups = (
        m.dropna(subset=["group"])
        .groupby(["township", "village", "group"], as_index=False)[["meetings", "attendance"]]
        .sum()
    )
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
    silent = villages.loc[villages["meetings"].eq(0).fillna(False), "village"].dropna().tolist()
    if silent:
        st.warning(tm("villages_no_meeting", v="、".join(silent)))
    missing = reads.groups_without_meetings(f)
    st.subheader(t("groups_no_meeting"))
    if missing.empty:
        st.caption(t("all_have_meetings"))
    else:
        names = {c: t(c) for c in ("township", "village", "group")} | {"households": t("surveyed")}
        table_with_download(missing.rename(columns=names), f"{f.round}_未开会小组", "meet_missing")
