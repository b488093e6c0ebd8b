"""Which rows of a table are not data: blank rows, totals, a numbering row under the
header, signature and note lines at the foot, the template's example rows, the header
repeated. The reasons a row is skipped, written once: the per-row path asks ``skip_kind``;
the column-at-a-time and bulk paths load a row directly only when no cell of it
``cell_may_skip`` (tests/test_fast_paths.py holds the paths equal).

Sources: ../shared/DOMAIN.md ("Real workbooks look like this").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from analytics.domain import schema
from analytics.importing.values import clean_text

if TYPE_CHECKING:
    from analytics.importing.locate import LocatedTable

EXAMPLE_MARK = "(示例)"  # NFKC of （示例）: marks the blank template's example rows
SKIP_KINDS = ("blank", "total", "numbering", "footer", "header", "example")


def skip_kind(cells: list[object], id_col: int | None, first: bool, in_footer: bool) -> str:
    """Why a row is not data: "blank", "example", "total", "numbering", "footer", or ""
    (it is data). ``id_col``: the household id's column; ``first``: the first row under the
    header; ``in_footer``: a footer line came before."""
    texts = [clean_text(v) for v in cells]
    values = [t for t in texts if t]
    if not values:
        return "blank"
    id_text = texts[id_col].replace(" ", "") if id_col is not None else ""
    # A note merged across the table, or 填表人：… written in the id column, is not an id.
    has_id = bool(id_text) and not schema.FOOTER_PATTERN.match(id_text)
    compact = [t.replace(" ", "") for t in values]
    # the template's example row, marked （示例） in its first cell, is never data
    if compact[0].startswith(EXAMPLE_MARK):
        return "example"
    # 合计 / 小计 rows often carry counts in the id or size columns: the word decides.
    if any(schema.TOTAL_PATTERN.search(t) for t in compact[:3]):
        return "total"
    if first and is_numbering(compact):
        return "numbering"
    distinct = list(dict.fromkeys(compact))
    # a signature or note line holds a few texts, not a household's dozen cells
    if not has_id and schema.FOOTER_PATTERN.match(distinct[0]) and len(distinct) <= 3:
        return "footer"
    if in_footer and not has_id and len(distinct) <= 2:
        return "footer"
    return ""


class RowKinds:
    """Why each row of a located table is not data, asked row by row from the top (the
    per-row parse and ``Validator.data_ids`` ask the same way): a row that only merged
    cells span is blank, else ``skip_kind`` (remembering whether a footer line came
    before), else the header repeated ("header": two tables pasted one under the other).
    """

    def __init__(self, located: LocatedTable) -> None:
        self.located = located
        self.lookup = located.lookup()
        self.id_col = located.column_of("household_id")
        self.in_footer = False

    def of(self, i: int) -> str:
        """The skip kind of grid row ``i`` (see ``SKIP_KINDS``), "" for a data row."""
        grid, located = self.located.grid, self.located
        cells = grid.rows[i]
        if i in grid.merged_only:
            kind = "blank"
        else:
            kind = skip_kind(cells, self.id_col, i == located.data_start, self.in_footer)
        if not kind and repeats_header(cells, located.columns, self.lookup):
            kind = "header"
        self.in_footer = self.in_footer or kind == "footer"
        return kind


def repeats_header(cells: list[object], columns: dict[int, str], lookup: dict[str, str]) -> bool:
    """Whether a data row is the header again: most mapped columns hold their own header."""
    same = sum(
        1
        for c, key in columns.items()
        if isinstance(cells[c], str) and lookup.get(schema.header_key(cells[c])) == key
    )
    return same >= max(2, (len(columns) + 1) // 2)


def is_numbering(values: list[str]) -> bool:
    """A column-numbering row under the header: 1 2 3 ... or 甲 乙 丙 ..."""
    if len(values) < 3:
        return False
    if all(v.isdigit() for v in values):
        return [int(v) for v in values] == list(range(int(values[0]), int(values[0]) + len(values)))
    return all(v in "甲乙丙丁戊己庚辛壬癸" for v in values)


def compact(s: str) -> str:
    """A cell's clean text without spaces."""
    return clean_text(s).replace(" ", "")


def is_total(s: str) -> bool:
    """Whether a cell holds a total word (合计, 小计 ...: ``schema.TOTAL_PATTERN``)."""
    return bool(schema.TOTAL_PATTERN.search(compact(s)))


# Every total word (schema.TOTAL_PATTERN) and the example mark hold one of these, and a clean
# string is its own header key unless it holds one of the marks header_key removes: a clean
# string without any of them cannot make its row skipped or a repeated header unless it is
# one of its field's spellings (analytics/importing/bulk.py tests that much in DuckDB).
SKIP_TRIGGERS = "计示([【*:"


def cell_may_skip(value: object, key: str | None, lookup: dict[str, str]) -> bool:
    """Whether a cell may make its row skipped (a total word, the example mark) or a
    repeated header (it holds a spelling of its own field ``key``; None for a column that
    is not mapped): what the fast paths check cell by cell before loading a row directly."""
    if value.__class__ is not str:
        return False
    return (
        is_total(value)
        or EXAMPLE_MARK in compact(value)
        or (key is not None and lookup.get(schema.header_key(value)) == key)
    )
