"""Masking personal data: names and ID numbers, the one home of how they are shown masked.

A name keeps its surname (the first character): 张三丰 -> 张**. An ID number keeps its
region code (6 characters) and its last character: 530921198001010018 ->
530921***********8; one of 7 characters or fewer is all stars. Each rule is written in two
forms side by side: Python, for one value (the row report, the anomaly messages, the audit
log), and Ibis, inside a query (analytics/figures/records.py: a masked row never leaves the
database). tests/test_privacy.py holds the two equal.

Source: the privacy rules of README.md ("Accounts, roles and privacy").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the parse worker imports this module: no Ibis there
    import ibis.expr.types as ir

ID_KEEP_START = 6  # the region code
ID_KEEP_END = 1  # the check character


def mask_name(value: str) -> str:
    """Masks a name: the surname (first character) kept, one '*' per other character."""
    return value[:1] + "*" * (len(value) - 1) if value else value


def mask_id(value: str) -> str:
    """Masks an ID number: the region code and the last character kept, the rest '*'."""
    if len(value) <= ID_KEEP_START + ID_KEEP_END:
        return "*" * len(value)
    return value[:ID_KEEP_START] + "*" * (len(value) - 7) + value[-ID_KEEP_END:]


def mask_name_expr(name: ir.StringValue) -> ir.StringValue:
    """``mask_name`` inside a query (Ibis): 张三丰 -> 张**."""
    import ibis

    return ibis.ifelse(
        name.length() > 1, name.substr(0, 1) + ibis.literal("*").repeat(name.length() - 1), name
    )


def mask_id_expr(value: ir.StringValue) -> ir.StringValue:
    """``mask_id`` inside a query (Ibis): 530921198001010018 -> 530921***********8."""
    import ibis

    n = value.length()
    keep = ID_KEEP_START + ID_KEEP_END
    return ibis.ifelse(
        n > keep,
        value.substr(0, ID_KEEP_START)
        + ibis.literal("*").repeat(n - keep)
        + value.right(ID_KEEP_END),
        ibis.literal("*").repeat(n),
    )
