"""Which rows a question counts: a round and optionally some provinces, counties,
townships, villages and groups.

Used by every figure (``metrics``, ``breakdowns``, ``records``, ``rules``) and by the SQL kept
per query shape (``prepared``). A township is known by its county (DOMAIN.md "What offices
really export": township names repeat across counties): every filtered row carries its
``county`` and ``province`` ("" where the data names none: one unnamed county), and the
figures group by (county, township) wherever they group by township (``UNIT``).
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from analytics.domain.schema import ABOVE_TOWNSHIP

# The place fields above the township every filtered row carries, outermost first.
PLACE = ABOVE_TOWNSHIP


@dataclass(frozen=True)
class Filters:
    """Which rows count: a round and optionally some townships, villages, groups,
    counties and provinces.

    Empty tuples mean "all". A village or group filter leaves out meetings that have no
    village (township-level) or no group (village-level). A township filter holds names:
    with ``counties`` it is the townships of those names in those counties.
    """

    round: str
    townships: tuple[str, ...] = ()
    villages: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    counties: tuple[str, ...] = ()
    provinces: tuple[str, ...] = ()


def apply_filters(t: ir.Table, f: Filters, *, has_group: bool = True) -> ir.Table:
    """Rows of ``t`` in the filters' round, provinces, counties, townships, villages and
    (if ``has_group``) groups; every row gets its ``province`` and ``county`` with "" for
    none (a table without those columns: "" on every row), the key of the "county" level
    and the county a township is known by."""
    present = set(t.columns)
    places = {k: t[k].fill_null("") if k in present else ibis.literal("") for k in PLACE}
    t = t.filter(t["round"] == f.round).mutate(**places)
    if f.provinces:
        t = t.filter(t.province.isin(f.provinces))
    if f.counties:
        t = t.filter(t.county.isin(f.counties))
    if f.townships:
        t = t.filter(t.township.isin(f.townships))
    if f.villages:
        t = t.filter(t.village.isin(f.villages))
    if f.groups and has_group:
        t = t.filter(t["group"].isin(f.groups))
    return t
