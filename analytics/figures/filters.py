"""Which rows a question counts: a round and optionally some townships, villages and groups.

Used by every figure (``metrics``, ``breakdowns``, ``records``, ``rules``) and by the SQL kept
per query shape (``prepared``).
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import ibis.expr.types as ir


@dataclass(frozen=True)
class Filters:
    """Which rows count: a round and optionally some townships, villages and groups.

    Empty tuples mean "all". A village or group filter leaves out meetings that have no
    village (township-level) or no group (village-level).
    """

    round: str
    townships: tuple[str, ...] = ()
    villages: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()


def apply_filters(t: ir.Table, f: Filters, *, has_group: bool = True) -> ir.Table:
    """Rows of ``t`` in the filters' round, townships, villages and (if ``has_group``) groups;
    every row gets a constant ``county`` column, the key of the "county" level."""
    t = t.filter(t["round"] == f.round).mutate(county=ibis.literal(""))
    if f.townships:
        t = t.filter(t.township.isin(f.townships))
    if f.villages:
        t = t.filter(t.village.isin(f.villages))
    if f.groups and has_group:
        t = t.filter(t["group"].isin(f.groups))
    return t
