"""Every read a page makes, cached on the data version.

Each read is a typed function of ``analytics.figures.queries`` wrapped by ``cached``: a
page calls it as the query function without its store (``reads.meetings(filters)``), so
the call is checked like any other. The cache key is the database file, its data version
(``Store.data_version``, bumped by every import, deletion and settings change) and the
call's arguments: an import refreshes every cached result, and nothing else decides one.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

import pandas as pd
import streamlit as st

from analytics.figures import coverage, metrics, queries
from analytics.store.database import Store
from ui import common

P = ParamSpec("P")
R = TypeVar("R")


def _miss(name: str, read: Callable[..., R], store: Store, *args: object, **kwargs: object) -> R:
    """Runs one read on a cache miss: the one place pages reach the queries (the page
    benchmark times each call here, ``bench/bench_pages.py``)."""
    del name
    return read(store, *args, **kwargs)


def cached(read: Callable[Concatenate[Store, P], R]) -> Callable[P, R]:
    """``read`` on the process's store, cached per data version (``st.cache_data``).

    The returned function takes ``read``'s arguments without the store. Its results are
    kept per (database file, data version, arguments); every argument must be hashable by
    Streamlit (tuples, strings, numbers, frozen dataclasses).
    """
    name = f"{read.__module__}.{read.__qualname__}"

    def _query(path: str, version: int, *args: P.args, **kwargs: P.kwargs) -> R:
        # ``version`` is in the key so that every import or deletion refreshes the result;
        # everything the read uses is in the key (no closure over other state: ``read``
        # is named in the function's own name, which Streamlit keys its cache on).
        del version
        return _miss(name, read, common.open_store(path), *args, **kwargs)

    # Streamlit keys a cache on the function's module, qualified name and source: without
    # a name of its own every read wrapped here would share one cache.
    _query.__qualname__ = f"cached[{name}]"

    @functools.cache
    def kept() -> Callable[..., R]:
        # made on the first call, inside the server's runtime: made at import, before the
        # runtime exists, Streamlit logs a warning per read (its storage is the runtime's
        # either way, chosen at each call)
        return st.cache_data(show_spinner=False, max_entries=512)(_query)

    @functools.wraps(read)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        s = common.store()
        # keywords in one order, so that a call keyed either way finds the same entry
        ordered = dict(sorted(kwargs.items()))
        return kept()(str(s.path), s.data_version(), *args, **ordered)

    return call


metrics_frame = cached(queries.metrics_frame)
units = cached(queries.units)
year_figures = cached(queries.year_figures)
shared_area = cached(queries.shared_area)
anomalies = cached(queries.anomalies)
flows = cached(queries.flows)
causes = cached(queries.causes)
shortfalls = cached(queries.shortfalls)
incomes = cached(queries.incomes)
survey_progress = cached(queries.survey_progress)
village_table = cached(queries.village_table)
meetings = cached(queries.meetings)
groups_without_meetings = cached(queries.groups_without_meetings)
relocation_households = cached(queries.relocation_households)
household_list = cached(queries.household_list)
household_history = cached(queries.household_history)
household_members = cached(queries.household_members)
member_coverage = cached(queries.member_coverage)
member_record = cached(queries.member_record)
persons_by = cached(queries.persons_by)
search = cached(queries.search)
table_rows = cached(queries.table_rows)


def round_year(round_name: str) -> int | None:
    """The round's year (for the poverty line): see ``queries.round_year``."""
    return queries.round_year(common.store(), round_name)


def year_rounds(rounds: tuple[str, ...]) -> tuple[int | None, tuple[str, ...]]:
    """The latest round's year and the rounds of that year (``rounds`` newest first)."""
    if not rounds:
        return None, ()
    year = round_year(rounds[0])
    return year, tuple(r for r in rounds if round_year(r) == year)


def measured(round_name: str, inputs: tuple[str, ...], view) -> bool:
    """Whether ``round_name``'s files measured every one of ``inputs`` (``coverage.INPUTS``
    keys) anywhere in the view's area."""
    f = view.filters_for(round_name)
    area = metrics_frame(
        round_name,
        "county",
        townships=f.townships,
        villages=f.villages,
        groups=f.groups,
        counties=f.counties,
    )
    if area.empty:
        return False
    row = area.iloc[0]
    return all(row[f"coverage_{i}"] != coverage.MISSING for i in inputs)


def household_rules(filters: metrics.Filters, household_id: str) -> pd.DataFrame:
    """The anomaly rules one household hits in the round of ``filters`` (cached with the
    round's)."""
    hits = anomalies(filters)
    return hits[(hits["level"] == "household") & (hits["household_id"] == household_id)]
