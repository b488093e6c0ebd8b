"""The households every figure reads, with their persons: the one place that says how
many persons a household counts for.

A household's persons are its member rows where it has members in its round (a person-level
sheet rolled up on import, or a 家庭成员 sheet of the same or another file of the round),
else its declared 家庭人口数 (a household-level sheet, as before members existed).
Source: ../shared/DOMAIN.md ("What offices really export": persons = member rows; "a
household sheet and a member sheet for the same households ... persons = member rows").
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir


def households(con: ibis.BaseBackend) -> ir.Table:
    """The stored households table with ``household_size`` as the household's persons.

    Parameters
    ----------
    con : an Ibis backend holding the store's ``households`` and ``members`` tables.

    Returns
    -------
    The households table, the same columns in the same order, one row per stored household
    row; ``household_size`` (persons) is the number of member rows of the same round and
    户编号 where there is at least one, else the stored 家庭人口数 (possibly null: missing).
    """
    h = con.table("households")
    m = con.table("members")
    counts = m.group_by([m["round"], m.household_id]).aggregate(_member_rows=m.count())
    counts = counts.rename(_m_round="round", _m_household_id="household_id")
    joined = h.left_join(
        counts,
        (h["round"] == counts._m_round) & (h.household_id == counts._m_household_id),
    )
    persons = ibis.coalesce(joined._member_rows, joined.household_size)
    return joined.select(
        *[persons.name(c) if c == "household_size" else joined[c] for c in h.columns]
    )
