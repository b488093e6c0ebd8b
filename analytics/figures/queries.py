"""Read access shared by the pages and the command line: the store seen through Ibis."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import ibis
import pandas as pd

from analytics.domain import config
from analytics.figures import breakdowns, coverage, headline, metrics, records
from analytics.store.database import Store


def backend_from_url(url: str) -> ibis.BaseBackend:
    """An Ibis backend from a connection URL (``ibis.connect``), e.g.
    ``duckdb:///srv/poverty/province.duckdb``, ``trino://analyst@trino:8080/hive/poverty``
    or ``pyspark://?spark.sql.ansi.enabled=true`` (Spark's master and catalog come from its
    own configuration). The backend must hold the tables households, meetings, relocation
    and villages with the store's column names.

    Raises
    ------
    ValueError
        For a URL that Ibis cannot connect with (unknown scheme, missing driver).
    """
    try:
        return ibis.connect(url)
    except ImportError as e:
        scheme = url.split(":", 1)[0]
        raise ValueError(
            f"cannot connect to {scheme!r}: install ibis-framework[{scheme}] ({e})"
        ) from e


def backend(store: Store) -> ibis.BaseBackend:
    """The Ibis backend that holds the data: the one at ``$POVERTY_BACKEND_URL`` when set
    (a new connection per call), else DuckDB on a fresh cursor of the store (one per
    caller/thread)."""
    url = config.backend_url()
    if url:
        return backend_from_url(url)
    return ibis.duckdb.from_connection(store.cursor())


def metrics_frame(
    store: Store,
    round_name: str | None = None,
    level: str = "village",
    *,
    townships: Sequence[str] = (),
    villages: Sequence[str] = (),
    groups: Sequence[str] = (),
    area_standard: float = metrics.RELOCATION_AREA_STANDARD,
) -> pd.DataFrame:
    """Every metric for one round (the latest when None) at one level, filtered, with its
    coverage (``coverage.apply``): a metric that the unit's files did not measure is null,
    and the ``coverage_<input>`` columns say which inputs were measured fully, partly or
    not at all.

    Returns an empty frame with the metric columns when the database holds no round.

    Raises
    ------
    KeyError
        When ``round_name`` is not a round of the database.
    ValueError
        For an unknown level.
    """
    if level not in metrics.LEVELS:
        raise ValueError(f"unknown level {level!r}; use one of {', '.join(metrics.LEVELS)}")
    order = store.round_names()
    if round_name is None:
        if not order:
            keys = metrics.LEVELS[level]
            return pd.DataFrame(columns=[*keys, "round", *metrics.METRIC_KEYS, *coverage.COLUMNS])
        round_name = order[-1]
    elif round_name not in order:
        raise KeyError(round_name)
    filters = metrics.Filters(round_name, tuple(townships), tuple(villages), tuple(groups))
    frame = metrics.compute(
        backend(store), filters, level, round_order=order, area_standard=area_standard
    )
    return coverage.apply(
        frame, coverage.RoundFiles(*store.round_files(round_name)), level, filters
    )


def year_figures(
    store: Store,
    rounds: Sequence[str],
    *,
    townships: Sequence[str] = (),
    villages: Sequence[str] = (),
    groups: Sequence[str] = (),
    area_standard: float = metrics.RELOCATION_AREA_STANDARD,
) -> dict[str, headline.Figure]:
    """The year's picture of an area: every metric from the first of ``rounds`` (newest
    first, one year's) whose files measured it (``headline.figures_of_year``).

    Raises
    ------
    KeyError
        When a round is not a round of the database; ValueError when ``rounds`` is empty.
    """
    if not rounds:
        raise ValueError("no round")
    rows = []
    for r in rounds:
        frame = metrics_frame(
            store,
            r,
            "county",
            townships=townships,
            villages=villages,
            groups=groups,
            area_standard=area_standard,
        )
        if len(frame):
            rows.append((r, frame.iloc[0]))
    if not rows:
        raise ValueError("no round holds the area")
    return headline.figures_of_year(rows)


@dataclass(frozen=True)
class SharedArea:
    """The part of an area two rounds both hold (see ``shared_area``)."""

    townships: tuple[str, ...]
    villages: tuple[str, ...]
    groups: tuple[str, ...]
    narrowed: bool  # True when one round holds units the other does not

    def kwargs(self) -> dict[str, tuple[str, ...]]:
        """``townships`` and ``groups`` as keyword arguments of ``metrics_frame``."""
        return {"townships": self.townships, "groups": self.groups}


def shared_area(store: Store, a: str, b: str, filters: metrics.Filters) -> SharedArea:
    """The villages (and their townships) of ``filters``' area that rounds ``a`` and ``b``
    both hold: totals compared between two rounds are taken over these only, never over
    another township's figures."""
    now = metrics_frame(store, a, "village", townships=filters.townships, villages=filters.villages)
    then = metrics_frame(
        store, b, "village", townships=filters.townships, villages=filters.villages
    )
    keys = ["township", "village"]
    mine = {tuple(r) for r in now[keys].itertuples(index=False)}
    theirs = {tuple(r) for r in then[keys].itertuples(index=False)}
    common = mine & theirs
    if common == mine == theirs:
        return SharedArea(filters.townships, filters.villages, filters.groups, False)
    return SharedArea(
        tuple(sorted({t for t, _ in common if isinstance(t, str)})),
        tuple(sorted({v for _, v in common if isinstance(v, str)})),
        filters.groups,
        True,
    )


def village_sources(store: Store, round_name: str) -> dict[str, str]:
    """Per township, the round whose village table serves ``round_name``."""
    return metrics.village_table_rounds(backend(store), round_name, store.round_names())


def breakdown(store: Store, name: str, filters: metrics.Filters, *args: object) -> pd.DataFrame:
    """One of the ``breakdowns`` functions by name, on this store.

    Raises
    ------
    KeyError
        For an unknown breakdown name.
    """
    if name not in BREAKDOWNS:
        raise KeyError(name)
    con = backend(store)
    if name == "village_table":
        return breakdowns.village_table(con, filters, village_sources(store, filters.round))
    return getattr(breakdowns, name)(con, filters, *args)


BREAKDOWNS = frozenset(
    {
        "flows",
        "causes",
        "shortfalls",
        "incomes",
        "survey_progress",
        "village_table",
        "meetings",
        "groups_without_meetings",
        "relocation_households",
    }
)


RECORDS = {
    "household_list": records.household_list,
    "household_history": records.household_history,
    "search": records.search,
    "table_rows": records.table_rows,
}


def run(store: Store, name: str, *args: object, **kwargs: object) -> pd.DataFrame:
    """Dispatches a named read: "metrics" (``metrics_frame``), a breakdown name, or a
    household-level read of ``RECORDS`` (masked unless ``unmask=True`` is passed).

    Raises
    ------
    KeyError
        For an unknown name.
    """
    if name == "metrics":
        return metrics_frame(store, *args, **kwargs)
    if name == "anomalies":
        return anomalies(store, *args, **kwargs)
    if name == "shared_area":
        return shared_area(store, *args, **kwargs)  # type: ignore[return-value]
    if name == "year_figures":
        return year_figures(store, *args, **kwargs)  # type: ignore[return-value]
    if name in RECORDS:
        return RECORDS[name](backend(store), *args, **kwargs)
    return breakdown(store, name, *args, **kwargs)


def round_year(store: Store, round_name: str) -> int | None:
    """The year a round belongs to: its earliest survey or meeting date's year, else the
    first four-digit year (19xx/20xx) in its name, else None."""
    rounds = store.rounds()
    row = rounds[rounds["round"] == round_name]
    if len(row) and pd.notna(row["first_date"].iloc[0]):
        return int(pd.Timestamp(row["first_date"].iloc[0]).year)
    m = re.search(r"(19|20)\d{2}", round_name)
    return int(m.group(0)) if m else None


def anomalies(store: Store, filters: metrics.Filters) -> pd.DataFrame:
    """Every anomaly rule hit (``rules.anomalies``) for a round and area, with the store's
    settings, the round's year for the poverty line, and the round order."""
    from analytics.figures import rules

    return rules.anomalies(
        backend(store),
        filters,
        store.settings(),
        round_year(store, filters.round),
        store.round_names(),
    )
