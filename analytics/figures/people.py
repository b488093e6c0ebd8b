"""Persons (人) by age band, health (健康状况), labour (劳动技能) and education (文化程度),
counted from the member rows of the households in an area: the 贫困户情况 page's persons
breakdown, for the page, the command line and the report alike.

A member counts for its household's unit (same round, same 户编号). A blank value is its
own category (None, shown as 未填写), never dropped: each breakdown's persons add up to the
member rows of the area. Without member rows in the area (a round of household-level sheets
only) there is no breakdown: the figures are missing, not 0 (``MemberCoverage``).
Source: ../shared/DOMAIN.md "What offices really export" (health, labour, education values;
persons = member rows); the age bands are ``settings.AGE_BANDS``.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import pandas as pd

from analytics.domain import idcard
from analytics.domain.settings import AGE_BANDS
from analytics.figures.filters import Filters, apply_filters
from analytics.figures.metrics import LEVELS, REGISTERED

# The breakdowns: "age_band" (from birth_date at the data date), then member fields.
DIMENSIONS = ("age_band", "health", "labour", "education")
# An age below 0 (born after the data date, a data-entry error the person rules warn of):
# a category of its own, neither a band nor blank.
BORN_AFTER = "born_after"


def band_names(edges: Sequence[int] = AGE_BANDS) -> tuple[str, ...]:
    """The names of the age bands whose lower edges are ``edges`` (whole years, rising,
    the first 0): ``(0, 6, 16, 60)`` -> ``("0-5", "6-15", "16-59", "60+")``.

    Raises
    ------
    ValueError
        When ``edges`` is empty, does not start at 0 or does not rise.
    """
    if not edges or edges[0] != 0 or any(b <= a for a, b in itertools.pairwise(edges)):
        raise ValueError(f"age band edges must start at 0 and rise: {tuple(edges)}")
    inner = [f"{lo}-{hi - 1}" for lo, hi in itertools.pairwise(edges)]
    return (*inner, f"{edges[-1]}+")


def age_band(age: int | None, edges: Sequence[int] = AGE_BANDS) -> str | None:
    """The band (``band_names``) of an age in whole years; None for a missing age,
    ``BORN_AFTER`` for a negative one."""
    if age is None:
        return None
    if age < 0:
        return BORN_AFTER
    names = band_names(edges)
    i = sum(1 for e in edges if age >= e) - 1
    return names[i]


@dataclass(frozen=True)
class MemberCoverage:
    """How far an area's persons come from member rows.

    Attributes
    ----------
    households : households of the area in the round (户).
    with_members : of them, those with at least one member row (户).
    persons : member rows of the area (人): what every breakdown adds up to.
    """

    households: int
    with_members: int
    persons: int

    @property
    def any(self) -> bool:
        """Whether the area has member rows at all (else the breakdowns are missing)."""
        return self.persons > 0


def _unit_keys(level: str) -> tuple[str, ...]:
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; use one of {', '.join(LEVELS)}")
    return LEVELS[level]


def _area_households(con: ibis.BaseBackend, f: Filters, registered: bool) -> ir.Table:
    h = apply_filters(con.table("households"), f)
    return h.filter(h.registry_state.isin(REGISTERED)) if registered else h


def member_rows(con: ibis.BaseBackend, f: Filters, *, registered: bool = False) -> ir.Table:
    """The member rows of ``f``'s round whose household is in ``f``'s area (and, when
    ``registered``, is a registered household: ``metrics.REGISTERED``), each with its
    household's place columns (those of ``apply_filters``: county, township, village,
    group). With no area chosen and all households, every member row of the round: one
    whose 户编号 has no household row in the round (a bare 家庭成员 sheet) has a null place."""
    m = con.table("members")
    m = m.filter(m["round"] == f.round)
    h = _area_households(con, f, registered)
    places = list(dict.fromkeys(k for keys in LEVELS.values() for k in keys))
    h = h.select(_hid=h.household_id, **{k: h[k] for k in places})
    area = f.townships or f.villages or f.groups or registered
    joined = (m.inner_join if area else m.left_join)(h, m.household_id == h._hid)
    return joined.select(*places, "household_id", "birth_date", *DIMENSIONS[1:])


def coverage(con: ibis.BaseBackend, f: Filters, *, registered: bool = False) -> MemberCoverage:
    """The households of ``f``'s area (registered ones only when ``registered``), how many
    have member rows, and the member rows (``MemberCoverage``, ``member_rows``)."""
    h = _area_households(con, f, registered)
    m = con.table("members")
    held = m.filter(m["round"] == f.round).household_id
    counts = h.aggregate(
        households=h.count(), with_members=h.household_id.isin(held).ifelse(1, 0).sum()
    ).execute()
    persons = int(member_rows(con, f, registered=registered).count().execute())
    return MemberCoverage(
        int(counts["households"].iloc[0]),
        int(counts["with_members"].fillna(0).iloc[0]),
        persons,
    )


def persons_by(
    con: ibis.BaseBackend,
    f: Filters,
    dimension: str,
    level: str,
    as_of: dt.date | None,
    edges: Sequence[int] = AGE_BANDS,
    *,
    registered: bool = False,
) -> pd.DataFrame:
    """Persons (member rows) per unit of ``level`` and value of ``dimension``.

    Parameters
    ----------
    con : an Ibis backend holding the store's ``households`` and ``members`` tables.
    f : the round and area.
    dimension : one of ``DIMENSIONS``.
    level : a ``metrics.LEVELS`` key ("township", "village", ...).
    as_of : the round's data date (ages in whole years at it, ``idcard.age_at``); None
        makes every age missing (all persons in the None band).
    edges : the age bands' lower edges (``settings.AGE_BANDS``).
    registered : count the members of registered households only (``member_rows``).

    Returns
    -------
    pd.DataFrame, one row per unit and value with any person: the unit columns of
    ``level``, ``value`` (the field's text, an age band of ``band_names``, ``BORN_AFTER``,
    or None for a blank cell / an unknown age) and ``persons`` (int). Empty when the area
    has no member rows. Ordered by value (display order: age bands young to old, other
    values by persons, most first; ``BORN_AFTER`` and None last), then unit.

    Raises
    ------
    ValueError
        For an unknown dimension or level.
    """
    if dimension not in DIMENSIONS:
        raise ValueError(f"unknown dimension {dimension!r}; use one of {', '.join(DIMENSIONS)}")
    keys = list(_unit_keys(level))
    m = member_rows(con, f, registered=registered)
    source = "birth_date" if dimension == "age_band" else dimension
    frame = m.group_by([*keys, m[source].name("value")]).aggregate(persons=m.count()).execute()
    if dimension == "age_band":
        born = [_day(v) for v in frame["value"]]
        # one band per distinct birth date (a county's members share a few thousand dates)
        bands = {
            b: age_band(idcard.age_at(b, as_of), edges) if as_of and b else None for b in set(born)
        }
        frame["value"] = [bands[b] for b in born]
        frame = frame.groupby([*keys, "value"], dropna=False, as_index=False)["persons"].sum()
    for c in [*keys, "value"]:  # a missing unit or value is None (pandas 3 reads NaN)
        frame[c] = frame[c].astype(object).where(frame[c].notna(), None)
    frame["persons"] = frame["persons"].astype("int64")
    order = _value_order(frame, dimension, edges)
    frame["_rank"] = frame["value"].map(order.index)
    frame = frame.sort_values(["_rank", *keys], na_position="last").drop(columns="_rank")
    return frame.reset_index(drop=True)


def _day(value: object) -> dt.date | None:
    """A stored birth date as a ``datetime.date``; None when missing (None, NaT)."""
    if value is None or pd.isna(value):
        return None
    if isinstance(value, pd.Timestamp | dt.datetime):
        return value.date()
    return value if isinstance(value, dt.date) else None


def _value_order(frame: pd.DataFrame, dimension: str, edges: Sequence[int]) -> list[str | None]:
    """The values in display order: age bands young to old, other values by their persons
    (most first, then by name); ``BORN_AFTER`` and None (blank) last."""
    totals = frame.groupby("value", dropna=True)["persons"].sum()
    present = [str(v) for v in totals.index]
    if dimension == "age_band":
        known = [b for b in band_names(edges) if b in present]
    else:
        known = sorted(present, key=lambda v: (-int(totals[v]), v))
    extra = [BORN_AFTER] if dimension == "age_band" and BORN_AFTER in present else []
    return [*known, *extra, None]


def spread_persons(frame: pd.DataFrame, unit: str, blank: str = "blank") -> pd.DataFrame:
    """``persons_by`` as the table behind a stacked bar chart: one row per value of ``unit``
    (a unit column of the frame, in name order; a null unit, members without a household
    row, kept as None and last), one column per value in ``persons_by``'s order (the blank
    value's column named ``blank``, e.g. 未填写), 0 where a unit has no person of a value,
    and ``total`` (the unit's member rows).

    Returns
    -------
    pd.DataFrame: ``unit``, the value columns, ``total``. Empty (those columns only) for an
    empty frame.
    """
    values = list(dict.fromkeys(frame["value"]))
    units = sorted(set(frame[unit]), key=lambda u: (u is None, u or ""))
    rows = []
    for u in units:
        part = frame[frame[unit].isna()] if u is None else frame[frame[unit] == u]
        row: dict[object, object] = {unit: u}
        for v in values:
            hit = part["value"].isna() if v is None else part["value"] == v
            row[blank if v is None else v] = int(part.loc[hit, "persons"].sum())
        row["total"] = int(part["persons"].sum())
        rows.append(row)
    names = [blank if v is None else v for v in values]
    return pd.DataFrame(rows, columns=[unit, *names, "total"])
