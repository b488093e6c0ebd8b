"""Read access shared by the pages and the command line: the store seen through Ibis."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

import ibis
import pandas as pd

from analytics.domain import config
from analytics.domain.settings import AREA_STANDARD
from analytics.figures import breakdowns, coverage, headline, metrics, people, records
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
    counties: Sequence[str] = (),
    area_standard: float = AREA_STANDARD,
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
    filters = metrics.Filters(
        round_name, tuple(townships), tuple(villages), tuple(groups), tuple(counties)
    )
    frame = metrics.compute(
        backend(store), filters, level, round_order=order, area_standard=area_standard
    )
    return coverage.apply(
        frame, coverage.RoundFiles(*store.round_files(round_name)), level, filters
    )


def units(
    store: Store, round_name: str, level: str, *, county: bool = False
) -> tuple[tuple[str | None, ...], ...]:
    """The distinct units of one round at ``level`` ("counties", "township", "village" or
    "group"), as the metrics count them: (county,), (township,), (township, village) or
    (township, village, group), in the metrics' order; None for a missing name (a relocated
    household of unknown village is a unit without a village name). With ``county``, each
    unit's county first ("" for none: ``metrics.unit_keys``).

    Raises
    ------
    KeyError
        When ``round_name`` is not a round of the database.
    ValueError
        For an unknown level.
    """
    frame = metrics_frame(store, round_name, level)
    keys = list(metrics.unit_keys(level) if county else metrics.LEVELS[level])
    seen = {
        tuple(v if isinstance(v, str) else None for v in row): None
        for row in frame[keys].itertuples(index=False)
    }
    return tuple(seen)


def year_figures(
    store: Store,
    rounds: Sequence[str],
    *,
    townships: Sequence[str] = (),
    villages: Sequence[str] = (),
    groups: Sequence[str] = (),
    counties: Sequence[str] = (),
    area_standard: float = AREA_STANDARD,
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
            counties=counties,
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
    counties: tuple[str, ...] = ()

    def kwargs(self) -> dict[str, tuple[str, ...]]:
        """``townships``, ``groups`` and ``counties`` as keyword arguments of
        ``metrics_frame``."""
        return {"townships": self.townships, "groups": self.groups, "counties": self.counties}


def shared_area(store: Store, a: str, b: str, filters: metrics.Filters) -> SharedArea:
    """The villages (and their townships) of ``filters``' area that rounds ``a`` and ``b``
    both hold: totals compared between two rounds are taken over these only, never over
    another township's figures."""
    now, then = (
        metrics_frame(
            store,
            r,
            "village",
            townships=filters.townships,
            villages=filters.villages,
            counties=filters.counties,
        )
        for r in (a, b)
    )
    keys = list(metrics.unit_keys("village"))  # (county, township, village)
    mine = {tuple(r) for r in now[keys].itertuples(index=False)}
    theirs = {tuple(r) for r in then[keys].itertuples(index=False)}
    common = mine & theirs
    if common == mine == theirs:
        return SharedArea(
            filters.townships, filters.villages, filters.groups, False, filters.counties
        )
    return SharedArea(
        tuple(sorted({t for _, t, _ in common if isinstance(t, str)})),
        tuple(sorted({v for _, _, v in common if isinstance(v, str)})),
        filters.groups,
        True,
        tuple(sorted({c for c, _, _ in common if c})) if filters.counties else (),
    )


def village_sources(store: Store, round_name: str) -> dict[str, str]:
    """Per township, the round whose village table serves ``round_name``."""
    return metrics.village_table_rounds(backend(store), round_name, store.round_names())


# The breakdown reads (``breakdowns``): one typed function each, on this store.
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


def flows(store: Store, filters: metrics.Filters) -> pd.DataFrame:
    """Households and persons by registry state x adjustment x finding (``breakdowns.flows``)."""
    return breakdowns.flows(backend(store), filters)


def causes(store: Store, filters: metrics.Filters) -> pd.DataFrame:
    """Registered households and persons per village and main cause (``breakdowns.causes``)."""
    return breakdowns.causes(backend(store), filters)


def shortfalls(store: Store, filters: metrics.Filters) -> pd.DataFrame:
    """Registered households per village lacking each 两不愁三保障 item
    (``breakdowns.shortfalls``)."""
    return breakdowns.shortfalls(backend(store), filters)


def incomes(store: Store, filters: metrics.Filters) -> pd.DataFrame:
    """Each registered household's per-capita income (yuan), without identity
    (``breakdowns.incomes``)."""
    return breakdowns.incomes(backend(store), filters)


def survey_progress(store: Store, filters: metrics.Filters) -> pd.DataFrame:
    """Households surveyed per village and day (``breakdowns.survey_progress``)."""
    return breakdowns.survey_progress(backend(store), filters)


def village_table(store: Store, filters: metrics.Filters) -> pd.DataFrame:
    """The village table rows serving the round, per township's source round
    (``breakdowns.village_table``, ``village_sources``)."""
    return breakdowns.village_table(backend(store), filters, village_sources(store, filters.round))


def meetings(store: Store, filters: metrics.Filters) -> pd.DataFrame:
    """Meetings (场) and attendance (人次) per unit, phase and day (``breakdowns.meetings``)."""
    return breakdowns.meetings(backend(store), filters)


def groups_without_meetings(store: Store, filters: metrics.Filters) -> pd.DataFrame:
    """Groups with surveyed households but no group meeting
    (``breakdowns.groups_without_meetings``)."""
    return breakdowns.groups_without_meetings(backend(store), filters)


def relocation_households(
    store: Store, filters: metrics.Filters, area_standard: float
) -> pd.DataFrame:
    """Each relocated household against ``area_standard`` (m² per person)
    (``breakdowns.relocation_households``)."""
    return breakdowns.relocation_households(backend(store), filters, area_standard)


def household_list(
    store: Store,
    filters: metrics.Filters,
    *,
    family: str | None = None,
    household_ids: tuple[str, ...] = (),
    unmask: bool = False,
) -> pd.DataFrame:
    """The households of an area, or those a metric family counts (``records.household_list``;
    masked unless ``unmask``)."""
    return records.household_list(
        backend(store), filters, family=family, household_ids=household_ids, unmask=unmask
    )


def household_history(store: Store, household_id: str, *, unmask: bool = False) -> pd.DataFrame:
    """One household's rows, round by round (``records.household_history``; masked unless
    ``unmask``)."""
    return records.household_history(backend(store), household_id, unmask=unmask)


def round_data_date(store: Store, round_name: str) -> dt.date | None:
    """The date a round's data is as of (``Store.rounds``: the latest data date of its
    batches), or None when none of its batches has one or the round is unknown."""
    rounds = store.rounds()
    row = rounds[rounds["round"] == round_name]
    if not len(row) or pd.isna(row["data_date"].iloc[0]):
        return None
    return pd.Timestamp(row["data_date"].iloc[0]).date()


def household_members(
    store: Store, round_name: str, household_id: str, *, unmask: bool = False
) -> tuple[pd.DataFrame, dt.date | None]:
    """One household's members in a round with their ages at the round's data date
    (``records.household_members``; masked unless ``unmask``), and that date (None: the
    ages are missing)."""
    as_of = round_data_date(store, round_name)
    rows = records.household_members(backend(store), round_name, household_id, as_of, unmask=unmask)
    return rows, as_of


def member_record(
    store: Store,
    round_name: str,
    household_id: str,
    key: tuple[int, str, int],
    *,
    unmask: bool = False,
) -> tuple[pd.DataFrame, dt.date | None]:
    """One member's whole record, its age at the round's data date (``records.member_record``;
    masked unless ``unmask``), and that date (None: the age is missing)."""
    as_of = round_data_date(store, round_name)
    rows = records.member_record(
        backend(store), round_name, household_id, key, as_of, unmask=unmask
    )
    return rows, as_of


def member_coverage(
    store: Store, filters: metrics.Filters, *, registered: bool = False
) -> people.MemberCoverage:
    """The households of an area (registered ones when ``registered``), how many have
    member rows, and its member rows (``people.coverage``)."""
    return people.coverage(backend(store), filters, registered=registered)


def persons_by(
    store: Store,
    filters: metrics.Filters,
    dimension: str,
    level: str,
    *,
    registered: bool = False,
) -> tuple[pd.DataFrame, dt.date | None]:
    """Persons (member rows; of registered households when ``registered``) per unit and
    value of ``dimension`` (``people.persons_by``), ages at the round's data date, and that
    date (None: every age is missing).

    Raises
    ------
    ValueError
        For an unknown dimension or level.
    """
    as_of = round_data_date(store, filters.round)
    frame = people.persons_by(
        backend(store), filters, dimension, level, as_of, registered=registered
    )
    return frame, as_of


def search(
    store: Store, text: str, round_name: str | None = None, *, unmask: bool = False
) -> pd.DataFrame:
    """Households found by id, head's name or ID number (``records.search``; masked unless
    ``unmask``)."""
    return records.search(backend(store), text, round_name, unmask=unmask)


def table_rows(
    store: Store,
    table: str,
    filters: metrics.Filters,
    *,
    unmask: bool = False,
    household_ids: tuple[str, ...] = (),
) -> pd.DataFrame:
    """The stored rows of one table in an area (``records.table_rows``; masked unless
    ``unmask``).

    Raises
    ------
    KeyError
        For an unknown table.
    """
    return records.table_rows(
        backend(store), table, filters, unmask=unmask, household_ids=household_ids
    )


def round_year(store: Store, round_name: str) -> int | None:
    """The year a round belongs to: its earliest survey or meeting date's year, else the
    first four-digit year (19xx/20xx) in its name, else None."""
    rounds = store.rounds()
    row = rounds[rounds["round"] == round_name]
    if len(row) and pd.notna(row["first_date"].iloc[0]):
        return int(pd.Timestamp(row["first_date"].iloc[0]).year)
    m = re.search(r"(19|20)\d{2}", round_name)
    return int(m.group(0)) if m else None


def demo_only(store: Store, rounds: Sequence[str]) -> bool:
    """Whether every one of ``rounds`` holds demo batches only (``Store.rounds``' is_demo):
    then a page says its figures are the demo's. A round the store does not hold is not a
    demo round; no round at all is vacuously demo-only."""
    demo = store.rounds().set_index("round")["is_demo"]
    return bool(demo.reindex(list(rounds)).fillna(False).all())


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
