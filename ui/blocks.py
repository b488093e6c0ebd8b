"""Reusable page sections: a table with its downloads, a chart with its table."""

from __future__ import annotations

from dataclasses import asdict

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analytics import accounts, export
from ui import auth
from ui.common import store, t


def _log_export(name: str, fmt: str) -> None:
    view = st.session_state.get("_view")
    detail = {"file": name, "format": fmt, "filters": asdict(view) if view else {}}
    accounts.audit(store(), auth.user().username or "visitor", "export", detail)


def table_with_download(frame: pd.DataFrame, name: str, key: str, **table_args) -> None:
    """The table as shown, and its CSV (UTF-8 with BOM) and Excel downloads.

    The files are written when a download is clicked (Streamlit's deferred ``data``), not
    on every rerun: an Excel file of a large table took most of a cached rerun
    (bench/RESULTS.md, "Page reruns"). The table sits in a container keyed ``box_<key>``
    so that tests find it by name.
    """
    with st.container(key=f"box_{key}"):
        st.dataframe(frame, hide_index=True, width="stretch", **table_args)
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


def chart_and_table(fig: go.Figure, frame: pd.DataFrame, name: str, key: str) -> None:
    """A Plotly chart, then the table it was drawn from, then the table's downloads."""
    st.plotly_chart(fig, width="stretch", key=f"chart_{key}")
    with st.expander(t("table_below"), expanded=False):
        table_with_download(frame, name, key)
