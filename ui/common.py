"""The shared frame of every page: the store, the language, formatting (cached reads are
``ui.reads``)."""

from __future__ import annotations

import logging

import pandas as pd
import streamlit as st

from analytics.domain.labels import (
    fmt_change,
    fmt_change_rate,
    fmt_count,
    fmt_rate,
    label,
    md_escape,
)
from analytics.domain.settings import Settings
from analytics.figures import coverage, metrics
from analytics.fixtures.demo import ensure_demo
from analytics.importing import worker
from analytics.output import export
from analytics.store.database import Store, StoreError, default_path

_LOG = logging.getLogger(__name__)


@st.cache_resource(show_spinner=False)
def open_store(path: str) -> Store:
    """The store of the database at ``path``, opened once per process (the demo loaded
    into an empty one); pages use ``store``."""
    worker.warm()  # the parse workers' fork server, ready before the first upload
    store = Store(path)
    ensure_demo(store)
    return store


def store() -> Store:
    """The process's one store (the database named by $POVERTY_DB or data/poverty.duckdb).

    On first start with an empty database it loads the demo township.

    Raises
    ------
    StoreError
        When the database cannot be opened: its message is plain (pages show it to
        anyone); the details (file, process, DuckDB's words) go to the server log.
    """
    try:
        return open_store(str(default_path()))
    except StoreError as e:
        _LOG.error("database not available: %s", e.detail or e)
        raise


def lang() -> str:
    """The chosen language, "zh" (default) or "en": the entrypoint's language switch
    (``ui.filters.language_switch``, bound to ``?lang=``)."""
    return "en" if st.session_state.get("lang") == "en" else "zh"


def t(key: str, **fmt: object) -> str:
    """The label of ``key`` in the chosen language (for plain-text places: tables, charts,
    file names; in a Markdown element use ``tm``)."""
    return label(key, lang(), **fmt)


def tm(key: str, **fmt: object) -> str:
    """``t`` for an element that renders Markdown (title, subheader, caption, info, button,
    widget label): every text value filled in comes from data or the URL and is escaped
    (``md``), so it shows as text, never as a link or an image."""
    return label(key, lang(), **{k: md(v) if isinstance(v, str) else v for k, v in fmt.items()})


def md(text: object) -> str:
    """Text from data or the URL, for a Markdown element: shown as written
    (``labels.md_escape``)."""
    return md_escape(text)


def metric_label(key: str) -> str:
    """The on-screen name of a metric key or unit column."""
    return t("meetings_count" if key == "meetings" else key)


def display_frame(frame: pd.DataFrame, signed: bool = False) -> pd.DataFrame:
    """A metrics frame for reading: rates as percentages, counts with separators, "—" for
    a missing figure, labels, and a notes column saying why a figure is missing or partial
    (from its coverage columns, which are dropped).

    ``signed`` shows changes: +12, -3, +0.25 pp.
    """
    shown = [c for c in frame.columns if c not in coverage.COLUMNS]
    out = frame[shown].copy()
    for c in shown:
        if c in metrics.RATE_KEYS:
            out[c] = out[c].map(fmt_change_rate if signed else fmt_rate)
        elif c in metrics.COUNT_KEYS:
            out[c] = out[c].map(fmt_change if signed else fmt_count)
        elif out[c].dtype == object:
            out[c] = out[c].map(lambda v: "" if v is None or v != v else v)
    if "notes" in out.columns and not out["notes"].fillna("").astype(bool).any():
        out = out.drop(columns=["notes"])
    elif "notes" not in out.columns:
        note = export.notes(frame, [c for c in shown if c in metrics.METRIC_KEYS], lang())
        if any(note):
            out["notes"] = note
    out.columns = [metric_label(c) for c in out.columns]
    return out


def export_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A metrics frame as a download holds it (``export.metrics_table``): numbers as numbers,
    rates in percent, empty where missing, with its notes column."""
    return export.metrics_table(frame, lang())


def settings() -> Settings:
    """The thresholds, poverty lines and housing standard in force (stored in the database)."""
    return store().settings()


def labelled(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame with its column names translated (values untouched)."""
    return frame.rename(columns={c: metric_label(c) for c in frame.columns})


def audit_filters() -> dict[str, object]:
    """The view as the audit log records it: the round shown (the chosen one, or the one
    the page showed when none was chosen, see ``ui.blocks.page_filters``), the area, the
    basis and the compared round."""
    view = st.session_state.get("_view")
    if view is None:
        return {}
    shown = st.session_state.get("_shown_round")
    return {
        "round": view.round or shown,
        "townships": list(view.townships),
        "villages": list(view.villages),
        "groups": list(view.groups),
        "basis": view.basis,
        "compare": view.compare,
    }
