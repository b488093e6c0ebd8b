"""总览 Overview: the round's headline figures, the per-village table, the upload area."""

import streamlit as st

from analytics import export
from ui.common import (
    APPROVAL_FLOOR,
    THRESHOLDS,
    display_frame,
    fmt_count,
    fmt_rate,
    metrics_frame,
    store,
    t,
)
from ui.upload import upload_block


def round_picker() -> str | None:
    """The round selector (latest first); the choice is kept in the URL as ?round=."""
    rounds = list(reversed(store().round_names()))
    if not rounds:
        return None
    wanted = st.query_params.get("round")
    index = rounds.index(wanted) if wanted in rounds else 0
    labels = {r: r + (t("round_latest") if i == 0 else "") for i, r in enumerate(rounds)}
    chosen = st.selectbox(t("round"), rounds, index=index, format_func=labels.get)
    if chosen != rounds[0] or "round" in st.query_params:
        st.query_params["round"] = chosen
    return chosen


def headline(row) -> None:
    """Tiles: registry, adjustments, findings with their rates, meetings, relocation."""
    hh, pp = t("households_unit"), t("persons_unit")

    def pair(key: str) -> str:
        return (
            f"{fmt_count(row[key + '_households'])} {hh} / {fmt_count(row[key + '_persons'])} {pp}"
        )

    tiles = [
        ("registered_households", pair("registered")),
        ("remaining_poor_households", pair("remaining_poor")),
        ("exited_households", pair("exited")),
        ("new_households", pair("new")),
        ("relapse_households", pair("relapse")),
        ("exit_proposed_households", pair("exit_proposed")),
        ("removed_households", pair("removed")),
        ("inclusion_error_households", pair("inclusion_error")),
        ("exclusion_error_households", pair("exclusion_error")),
        ("wrongful_exit_households", pair("wrongful_exit")),
        (
            "meetings_count",
            f"{fmt_count(row['meetings'])} {t('sessions_unit')} / "
            f"{fmt_count(row['meeting_attendance'])} {t('attendance_unit')}",
        ),
        ("relocated_households", pair("relocated")),
        ("relocation_over_standard_households", pair("relocation_over_standard")),
    ]
    cols = st.columns(4)
    for i, (key, value) in enumerate(tiles):
        cols[i % 4].metric(t(key), value, border=True)
    cols = st.columns(5)
    for i, (key, ceiling) in enumerate(THRESHOLDS.items()):
        value = row[key]
        over = value == value and value > ceiling  # NaN never exceeds
        status = t("threshold_over" if over else "threshold_ok", t=fmt_rate(ceiling))
        cols[i].metric(
            t(key),
            fmt_rate(value),
            delta=status if value == value else None,
            delta_color="inverse" if over else "off",
            delta_arrow="off",
            border=True,
        )
    approval = row["approval_rate"]
    cols[4].metric(
        t("approval_rate"),
        fmt_rate(approval),
        delta=t(
            "threshold_ok" if approval >= APPROVAL_FLOOR else "threshold_over",
            t=fmt_rate(APPROVAL_FLOOR),
        )
        if approval == approval
        else None,
        delta_color="off",
        delta_arrow="off",
        border=True,
    )


st.title(t("app_title"))
if store().batches()["is_demo"].any():
    st.info(t("demo_banner"))
round_name = round_picker()
if round_name is None:
    st.warning(t("empty_db"))
else:
    all_villages = metrics_frame(round_name, "village")
    picked = tuple(
        st.sidebar.multiselect(
            t("village_filter"),
            sorted(all_villages["village"].dropna()),
            key="village_filter",
            placeholder=t("all"),
        )
    )
    township = metrics_frame(round_name, "township", picked)
    for _, row in township.iterrows():
        scope = "、".join(picked) if picked else row["township"]
        st.subheader(f"{scope} · {round_name}")
        headline(row)
    st.subheader(t("per_village"))
    villages = metrics_frame(round_name, "village", picked) if picked else all_villages
    shown = display_frame(villages)
    st.dataframe(shown, hide_index=True, width="stretch")
    c1, c2, _ = st.columns([1, 1, 4])
    c1.download_button(
        t("download_csv"), export.to_csv_bytes(shown), f"{round_name}_各村指标.csv", "text/csv"
    )
    c2.download_button(
        t("download_xlsx"),
        export.to_xlsx_bytes(shown, "metrics"),
        f"{round_name}_各村指标.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )

with st.expander(t("upload"), expanded=round_name is None):
    upload_block()
