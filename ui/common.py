"""The shared frame of every page: the store, the language, cached queries, formatting."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analytics import metrics, queries, worker
from analytics.demo import ensure_demo
from analytics.labels import fmt_change, fmt_change_rate, fmt_count, fmt_rate, label
from analytics.settings import Settings
from analytics.store import Store, default_path


@st.cache_resource(show_spinner=False)
def _store(path: str) -> Store:
    worker.warm()  # the parse workers' fork server, ready before the first upload
    store = Store(path)
    ensure_demo(store)
    return store


def store() -> Store:
    """The process's one store (the database named by $POVERTY_DB or data/poverty.duckdb).

    On first start with an empty database it loads the demo township.
    """
    return _store(str(default_path()))


def lang() -> str:
    """The chosen language, "zh" (default) or "en"; opened from the URL's ?lang=en."""
    if "lang" not in st.session_state:
        st.session_state["lang"] = "en" if st.query_params.get("lang") == "en" else "zh"
    return st.session_state["lang"]


def set_lang(value: str) -> None:
    """Switches the language and keeps it in the URL so that a copied link keeps it."""
    st.session_state["lang"] = value
    if value == "en":
        st.query_params["lang"] = "en"
    else:
        st.query_params.pop("lang", None)


def t(key: str, **fmt: object) -> str:
    """The label of ``key`` in the chosen language."""
    return label(key, lang(), **fmt)


def metric_label(key: str) -> str:
    """The on-screen name of a metric key or unit column."""
    return t("meetings_count" if key == "meetings" else key)


@st.cache_data(show_spinner=False, max_entries=512)
def _query(path: str, version: int, name: str, args: tuple, kwargs: tuple) -> pd.DataFrame:
    # ``version`` is in the key so that every import or deletion refreshes the result;
    # everything the query reads is in the key (no closure over other state).
    del version
    return queries.run(_store(path), name, *args, **dict(kwargs))


def query(name: str, *args: object, **kwargs: object) -> pd.DataFrame:
    """A cached read (``queries.run``), keyed on its arguments and the data version."""
    s = store()
    return _query(str(s.path), s.data_version(), name, args, tuple(sorted(kwargs.items())))


def metrics_frame(
    round_name: str | None, level: str, villages: tuple[str, ...] = (), **kwargs: object
) -> pd.DataFrame:
    """Cached metrics (``queries.metrics_frame``) for one round and level."""
    return query("metrics", round_name, level, villages=tuple(villages), **kwargs)


def display_frame(frame: pd.DataFrame, signed: bool = False) -> pd.DataFrame:
    """A metrics frame for reading: rates as percentages, counts with separators, labels.

    ``signed`` shows changes: +12, -3, +0.25 pp.
    """
    out = frame.copy()
    for c in out.columns:
        if c in metrics.RATE_KEYS:
            out[c] = out[c].map(fmt_change_rate if signed else fmt_rate)
        elif c in metrics.COUNT_KEYS:
            out[c] = out[c].map(fmt_change if signed else fmt_count)
    out.columns = [metric_label(c) for c in out.columns]
    return out


def settings() -> Settings:
    """The thresholds, poverty lines and housing standard in force (stored in the database)."""
    return store().settings()


def labelled(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame with its column names translated (values untouched)."""
    return frame.rename(columns={c: metric_label(c) for c in frame.columns})


def round_year(round_name: str) -> int | None:
    """The round's year (for the poverty line): see ``queries.round_year``."""
    return queries.round_year(store(), round_name)


def household_rules(view, household_id: str) -> pd.DataFrame:
    """The anomaly rules one household hits in the view's round (cached with the round's)."""
    hits = query("anomalies", view.filters)
    return hits[(hits["level"] == "household") & (hits["household_id"] == household_id)]
