"""总览 Overview: headline tiles against thresholds, change vs a chosen round, per-unit table."""

import pandas as pd
import streamlit as st

from analytics import metrics, report
from analytics.metrics import FINDING_FAMILIES
from ui import auth, filters
from ui.blocks import table_with_download
from ui.common import (
    display_frame,
    fmt_count,
    fmt_rate,
    metrics_frame,
    query,
    settings,
    store,
    t,
)

COUNT_TILES = (
    "registered",
    "remaining_poor",
    "exited",
    "new",
    "relapse",
    "exit_proposed",
    "removed",
    "inclusion_error",
    "exclusion_error",
    "wrongful_exit",
    "relocated",
    "relocation_over_standard",
)


def situation_report(view: filters.View) -> report.Report:
    """The 情况报告 for the view's round and area, with the anomaly counts by rule."""
    hits = query("anomalies", view.filters)
    return report.build_report(
        store(), view.round, view.villages, anomalies=hits, townships=view.townships
    )


def headline(row: pd.Series, before: pd.Series | None, view: filters.View) -> None:
    """Count tiles (households / persons) and rate tiles against their thresholds."""
    hh, pp = t("households_unit"), t("persons_unit")
    cfg = settings()

    def delta(key: str, rate: bool = False) -> str | None:
        if before is None:
            return None
        now, then = row[key], before[key]
        if now != now or then != then:
            return None
        diff = now - then
        text = f"{diff * 100:+.2f} pp" if rate else f"{int(diff):+,}"
        return f"{text} {t('change_vs', r=view.compare)}"

    cols = st.columns(3)
    for i, fam in enumerate(COUNT_TILES):
        value = (
            f"{fmt_count(row[f'{fam}_households'])} {hh} / {fmt_count(row[f'{fam}_persons'])} {pp}"
        )
        cols[i % 3].metric(
            t(f"{fam}_households"),
            value,
            delta=delta(f"{fam}{view.suffix()}"),
            delta_color="off",
            border=True,
        )
    i = len(COUNT_TILES)
    value = (
        f"{fmt_count(row['meetings'])} {t('sessions_unit')} / "
        f"{fmt_count(row['meeting_attendance'])} {t('attendance_unit')}"
    )
    cols[i % 3].metric(
        t("meetings_count"), value, delta=delta("meetings"), delta_color="off", border=True
    )
    st.divider()
    cols = st.columns(5)
    # A round where no finding was recorded was not checked: its 0% says nothing.
    checked = any(row[f"{f}_households"] for f in FINDING_FAMILIES)
    for j, (key, ceiling) in enumerate(cfg.rate_ceilings.items()):
        shown = key if view.basis == "persons" else f"{key}_households"  # the chosen basis
        value = row[shown]
        needs_check = key != "comprehensive_poverty_rate" and not checked
        over = value == value and value > ceiling and not needs_check
        if needs_check:
            status = t("no_findings")
        elif value == value:
            status = t("threshold_over" if over else "threshold_ok", t=fmt_rate(ceiling))
            change = delta(shown, rate=True)
            status += f" · {change}" if change else ""
        else:
            status = None
        cols[j].metric(
            t(shown),
            fmt_rate(value) if not needs_check else "—",
            delta=status,
            delta_color="inverse" if over else "off",
            delta_arrow="off",
            border=True,
        )
    approval = row["approval_rate"]
    low = approval == approval and approval < cfg.approval_floor
    floor = fmt_rate(cfg.approval_floor)
    cols[4].metric(
        t("approval_rate"),
        fmt_rate(approval),
        delta=t("floor_under" if low else "floor_ok", t=floor)
        if approval == approval
        else t("approval_none"),
        delta_color="inverse" if low else "off",
        delta_arrow="off",
        border=True,
    )


view = filters.frame("app_title")
if view is None:
    st.stop()
if store().rounds().set_index("round")["is_demo"].get(view.round, False):
    st.info(t("demo_banner"))

f = view.filters
area = metrics_frame(f.round, "county", f.villages, townships=f.townships, groups=f.groups)
if area.empty:
    st.warning(t("no_data"))
    st.stop()
before = None
if view.compare:
    prior = metrics_frame(
        view.compare, "county", f.villages, townships=f.townships, groups=f.groups
    )
    before = prior.iloc[0] if len(prior) else None
row = area.iloc[0]
names = view.villages or view.townships or view.all_townships
scope = "、".join(names) if len(names) <= 3 else t("county_totals")
st.subheader(f"{scope} · {view.round}")
headline(row, before, view)

level = view.level
st.subheader(t("per_village") if level == "village" else t("township"))
units = metrics_frame(f.round, level, f.villages, townships=f.townships, groups=f.groups)
table_with_download(display_frame(units), f"{view.round}_{t('per_village')}", "overview_units")

if view.compare:
    st.subheader(t("round_comparison"))
    other = metrics_frame(view.compare, level, f.villages, townships=f.townships, groups=f.groups)
    change = metrics.compare(units, other, metrics.LEVELS[level])
    table_with_download(
        display_frame(change, signed=True), f"{view.round}_vs_{view.compare}", "overview_compare"
    )

st.subheader(t("report"))
if st.button(t("make_report"), key="make_report"):
    st.session_state["report_for"] = (view.round, view.villages, view.townships)
if st.session_state.get("report_for") == (view.round, view.villages, view.townships):
    built = situation_report(view)
    c1, c2, _ = st.columns([1, 1, 4])
    c1.download_button(
        t("download_docx"),
        report.to_docx(built),
        f"{built.title}.docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        key="report_docx",
        on_click=auth.audit_report,
        args=("docx", built.title),
    )
    c2.download_button(
        t("download_md"),
        report.to_markdown(built),
        f"{built.title}.md",
        "text/markdown",
        key="report_md",
        on_click=auth.audit_report,
        args=("md", built.title),
    )
    with st.expander(t("preview"), expanded=True):
        st.markdown(report.to_markdown(built))
