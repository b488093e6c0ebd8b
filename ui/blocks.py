"""Reusable page sections: a table with its downloads, a chart with its table."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analytics.access import accounts
from analytics.figures import metrics
from analytics.output import export
from ui import auth, reads
from ui.common import audit_filters, display_frame, export_frame, md, store, t, tm


def _log_export(name: str, fmt: str) -> None:
    detail = {"file": name, "format": fmt, "filters": audit_filters()}
    accounts.audit(store(), auth.user().username or "visitor", "export", detail)


def readable(frame: pd.DataFrame) -> pd.DataFrame:
    """A table for the screen: an empty cell where a value is missing (never the text
    "None"), dates without "00:00:00"."""
    out = frame.copy()
    for c in out.columns:
        col = out[c]
        if pd.api.types.is_datetime64_any_dtype(col):
            if (col.dropna() == col.dropna().dt.normalize()).all():
                out[c] = col.dt.strftime("%Y-%m-%d").fillna("")
            else:
                out[c] = col.dt.strftime("%Y-%m-%d %H:%M").fillna("")
        elif col.dtype == object or pd.api.types.is_string_dtype(col):
            out[c] = col.map(_cell_text)
        elif col.isna().any():  # a number column with gaps: empty cells, not "None"
            out[c] = col.astype(object).map(_cell_text)
    return out


def _cell_text(value: object) -> object:
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return ""
    if isinstance(value, pd.Timestamp | dt.datetime):
        return value.strftime("%Y-%m-%d" if value.time() == dt.time() else "%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def table_with_download(
    frame: pd.DataFrame,
    name: str,
    key: str,
    *,
    shown: pd.DataFrame | None = None,
    table_key: str | None = None,
    **table_args: object,
) -> Any:
    """A table on screen and its CSV (UTF-8 with BOM) and Excel downloads; returns what
    ``st.dataframe`` returns (its selection, when ``table_args`` ask for one).

    ``frame`` is what the files hold (numbers as numbers); ``shown`` what the screen shows
    (default: ``readable(frame)``); ``table_key`` keys the table itself (its selection
    state). The files are written when a download is clicked
    (Streamlit's deferred ``data``), not on every rerun: an Excel file of a large table
    took most of a cached rerun (bench/RESULTS.md, "Page reruns"). The table sits in a
    container keyed ``box_<key>`` so that tests find it by name.
    """
    with st.container(key=f"box_{key}"):
        event = st.dataframe(
            readable(frame) if shown is None else shown,
            hide_index=True,
            width="stretch",
            key=table_key,
            **table_args,
        )
    c1, c2, _ = st.columns([1, 1, 4])
    c1.download_button(
        t("download_csv"),
        lambda: export.to_csv_bytes(frame),
        f"{name}.csv",
        "text/csv",
        key=f"csv_{key}",
        on_click=_log_export,
        args=(name, "csv"),
    )
    c2.download_button(
        t("download_xlsx"),
        lambda: export.to_xlsx_bytes(frame, name[:31]),
        f"{name}.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key=f"xlsx_{key}",
        on_click=_log_export,
        args=(name, "xlsx"),
    )
    return event


def metrics_table(frame: pd.DataFrame, name: str, key: str, *, signed: bool = False) -> None:
    """A metrics frame (``queries.metrics_frame``) as a table with its downloads: the
    screen shows "—" for a missing figure and a notes column saying why; the files hold
    numbers (rates in percent) and the same notes. ``signed`` shows changes (+12)."""
    table_with_download(export_frame(frame), name, key, shown=display_frame(frame, signed))


def chart_and_table(
    fig: go.Figure,
    frame: pd.DataFrame,
    name: str,
    key: str,
    *,
    shown: pd.DataFrame | None = None,
) -> None:
    """A Plotly chart, then the table it was drawn from behind a closed expander, with the
    table's downloads (``frame`` in the files, ``shown`` on screen: see
    ``table_with_download``).

    The table is drawn only while its expander is open (Streamlit's stateful expander,
    ``on_change="rerun"``, key ``table_<key>``): a closed one cost every page switch its
    tables and download buttons (bench/RESULTS.md, "Browser"); opening it reruns the page
    with the table.
    """
    st.plotly_chart(fig, width="stretch", key=f"chart_{key}")
    box = st.expander(t("table_below"), expanded=False, key=f"table_{key}", on_change="rerun")
    if box.open:
        with box:
            table_with_download(frame, name, key, shown=shown)


def _choose_round(round_name: str) -> None:
    st.session_state["round"] = round_name  # the sidebar's round (bound to ?round=)


def page_filters(view, inputs: tuple[str, ...]) -> metrics.Filters:
    """The round and area a page shows.

    The chosen round's; with no round chosen, the latest round of the year whose files
    measured ``inputs`` (``coverage.INPUTS`` keys), named in a caption. When the round holds
    none of them, says so, names the rounds that do (each a button choosing it), and stops
    the page.
    """
    what = "、".join(t(f"input_{i}") for i in inputs)
    if view.round is not None and reads.measured(view.round, inputs, view):
        return view.filters
    if view.round is None:
        for r in view.year_rounds:
            if reads.measured(r, inputs, view):
                st.caption(tm("showing_round", r=r, what=what))
                st.session_state["_shown_round"] = r  # what the audit log records
                return view.filters_for(r)
    holders = [r for r in view.rounds if reads.measured(r, inputs, view)]
    if view.round is None:
        st.info(t("year_lacks", y=view.year, what=what))
    else:  # name only what this round lacks (it may hold households, not findings)
        lacking = [i for i in inputs if not reads.measured(view.round, (i,), view)]
        lacks = "、".join(t(f"input_{i}") for i in lacking or inputs)
        st.info(tm("round_lacks", r=view.round, what=lacks))
    if holders:
        st.caption(t("rounds_that_have", what=what))
        cols = st.columns(min(len(holders), 4))
        for i, r in enumerate(holders):
            cols[i % len(cols)].button(
                md(r),
                key=f"goto_round_{i}",
                on_click=_choose_round,
                args=(r,),
                icon=":material/arrow_forward:",
            )
    st.stop()
