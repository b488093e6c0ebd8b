"""The column-at-a-time path of ``validate.Validator.parse``: the cells of a located table
parsed a column at a time (each distinct value once, large columns with the numpy
shortcuts of analytics/importing/columns.py), and the rows that are plainly data loaded
without the per-row code.

A row is plainly data when no skip reason can apply to it (analytics/importing/skips.py)
and no row rule may fire on it (the column form of each rule of
analytics/importing/row_rules.py); every other row goes through the per-row code, which
is the reference (tests/test_fast_paths.py holds the two equal).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Collection
from itertools import compress, repeat
from typing import TYPE_CHECKING

from analytics.domain import schema
from analytics.importing import columns, row_rules
from analytics.importing.locate import LocatedTable
from analytics.importing.results import ERROR, Problem
from analytics.importing.skips import EXAMPLE_MARK, compact, is_total

if TYPE_CHECKING:
    from analytics.importing.validate import Row, Validator

_MEMO_ONLY = 256  # a column with at most this many distinct values is parsed value by value
_FIRST_BLOCK = 16  # household ids ByColumn.take checks at once at first (then 32, 64, ...)
_TOTAL_LINES = re.compile(schema.TOTAL_PATTERN.pattern, re.MULTILINE)
_FOOTER_LINES = re.compile(schema.FOOTER_PATTERN.pattern, re.MULTILINE)
# Characters header_key removes or cuts at; text without them (and already clean) is its key.
_HEADER_MARKS = re.compile(r"[（(\[【*＊:：]")


class _Col:
    """One column of a table's data rows, looked at once: its distinct cells, its distinct
    strings split into clean ones (``columns.plain_texts``) and the rest, and the clean
    ones joined one a line (to search them all with one regex)."""

    __slots__ = ("clean", "distinct", "joined", "rest", "strings", "types", "values")

    def __init__(self, values) -> None:
        self.values = values
        self.distinct = set(values)
        self.types = set(map(type, self.distinct))
        if self.types == {str}:
            self.strings = list(self.distinct)
        elif str in self.types:
            self.strings = [v for v in self.distinct if v.__class__ is str]
        else:
            self.strings = []
        ok = columns.plain_texts(self.strings)
        if not schema.BLANK_WORDS.isdisjoint(self.strings):  # 无, /: no value (values.is_blank)
            ok = [
                good and s not in schema.BLANK_WORDS
                for s, good in zip(self.strings, ok, strict=True)
            ]
        if all(ok):
            self.clean, self.rest = self.strings, []
        else:
            self.clean = [s for s, good in zip(self.strings, ok, strict=True) if good]
            self.rest = [s for s, good in zip(self.strings, ok, strict=True) if not good]
        self.joined = "\n".join(self.clean)


def _column_values(
    validator: Validator, file: str, sheet: str, table, key: str, col: _Col, colname: str
) -> tuple[list, dict[int, tuple[Problem, ...]]]:
    """``_cell`` of every cell of one column: (values, {row offset: problems with row 0}).

    Each distinct cell is parsed once (cells of different types are told apart: 1, 1.0 and
    True are three cells). In a large column of a text, ID number or number field, the
    shortcuts of ``analytics.columns`` give the values of clean cells; the per-cell code
    parses the rest. A cell whose value is the cell itself (clean text, a valid ID number,
    a float) and that has no problem is copied with the column, not looked up.
    """
    f = table.by_key[key]
    values, distinct = col.values, col.distinct
    typed = len(col.types - {str, type(None)}) > 1
    if typed:
        return _typed_column_values(validator, file, sheet, table, key, values, colname)
    todo: Collection[object] = distinct  # the cells the per-cell code parses
    mapped: dict = {}  # cell -> its value, where that is not the cell itself
    if len(distinct) > _MEMO_ONLY:
        slow = columns.SLOW
        every_string = len(col.strings) == len(distinct)
        if f.kind == schema.TEXT:
            todo = col.rest if every_string else distinct.difference(col.clean)
        elif f.kind == schema.ID_NUMBER:
            shortcut = columns.id_numbers(col.strings)
            todo = [v for v, o in zip(col.strings, shortcut, strict=True) if o is slow]
            if not every_string:
                todo += [v for v in distinct if v.__class__ is not str]
        elif f.kind == schema.NUMBER:
            cells = list(distinct)
            todo = []
            for v, o in zip(
                cells, columns.numbers(cells, key in row_rules.POSITIVE_NUMBER), strict=True
            ):
                if o is slow:
                    todo.append(v)
                elif o is not v:
                    mapped[v] = o
    found_of: dict = {}
    for k in todo:
        out, found = validator.cell_result(file, sheet, table, key, k, colname)
        if out is not k and not (out.__class__ is str and k.__class__ is str and out == k):
            mapped[k] = out
        if found:
            found_of[k] = found
    if not mapped:
        outs = list(values)
    elif len(distinct) <= _MEMO_ONLY or len(mapped) * 8 > len(distinct):
        out_of = {k: k for k in distinct}
        out_of.update(mapped)
        outs = list(map(out_of.__getitem__, values))
    else:  # a few cells to change in a large column
        outs = list(values)
        for j in compress(range(len(values)), map(mapped.__contains__, values)):
            outs[j] = mapped[values[j]]
    probs: dict[int, tuple[Problem, ...]] = {}
    if found_of:
        where = compress(range(len(values)), map(found_of.__contains__, values))
        probs = {j: found_of[values[j]] for j in where}
    return outs, probs


def _typed_column_values(
    validator: Validator, file: str, sheet: str, table, key: str, values, colname: str
) -> tuple[list, dict[int, tuple[Problem, ...]]]:
    """``_column_values`` of a column holding cells of more than one type besides text
    (1, 1.0 and True are three cells): every distinct (type, cell) parsed once."""
    keys = list(zip(map(type, values), values, strict=True))
    out_of: dict = {}
    found_of: dict = {}
    for k in set(keys):
        out_of[k], found = validator.cell_result(file, sheet, table, key, k[1], colname)
        if found:
            found_of[k] = found
    outs = list(map(out_of.__getitem__, keys))
    probs: dict[int, tuple[Problem, ...]] = {}
    if found_of:
        where = compress(range(len(keys)), map(found_of.__contains__, keys))
        probs = {j: found_of[keys[j]] for j in where}
    return outs, probs


def skip_free_rows(located: LocatedTable, cols: list[_Col], ids: list | None, n: int) -> list[bool]:
    """True for each of the ``n`` data rows of ``located`` that no skip reason can apply to
    (``skips.RowKinds.of`` gives ""): a household id (parsed, ``ids``) that is not a footer
    word, not the first data row, no cell that only merges fill, no cell that may be a total
    word or the example mark, no mapped cell that may repeat its header. A superset test:
    every other row is asked ``RowKinds.of``. ``cols``: every column of the data rows.
    """
    start = located.data_start
    if ids is None or n == 0:
        return [False] * n
    plain = [True] * n
    plain[0] = False  # the first data row may be a column-numbering row
    for i in located.grid.merged_only:  # blank whatever merges span them (skips.skip_kind)
        if i >= start:
            plain[i - start] = False
    # has_id of skips.skip_kind: the id's clean text, spaces removed, not a footer word
    distinct_ids = [h for h in set(ids) if h]
    footers = set()
    if _FOOTER_LINES.search("\n".join(distinct_ids)):
        footers = {h for h in distinct_ids if schema.FOOTER_PATTERN.match(h.replace(" ", ""))}
    if footers or None in distinct_ids or None in ids:
        for j, h in enumerate(ids):
            if not h or h in footers:
                plain[j] = False
    # A total word or the example mark anywhere in the row (see skips.skip_kind); a mapped
    # cell holding its own header. Clean strings (columns.plain_texts) are their own
    # compact text, are searched all at once, one string a line, and are their own
    # header key unless they hold a bracket, "*" or ":".
    lookup = located.lookup()
    for c, col in enumerate(cols):
        if not col.strings:
            continue
        clean, rest, joined = col.clean, col.rest, col.joined
        bad = {s for s in rest if is_total(s) or EXAMPLE_MARK in compact(s)}
        if _TOTAL_LINES.search(joined):
            bad.update(s for s in clean if is_total(s))
        if EXAMPLE_MARK in joined:
            bad.update(s for s in clean if EXAMPLE_MARK in s)
        key = located.columns.get(c)
        if key is not None:
            bad.update(s for s in rest if lookup.get(schema.header_key(s)) == key)
            if _HEADER_MARKS.search(joined):
                bad.update(s for s in clean if lookup.get(schema.header_key(s)) == key)
            else:
                bad.update({k for k, v in lookup.items() if v == key}.intersection(clean))
        if bad:
            for j, v in enumerate(col.values):
                if v in bad:
                    plain[j] = False
    return plain


class ByColumn:
    """The cells of one located table parsed a column at a time, for ``Validator.parse``.

    ``take`` loads a row directly when it is plainly data and raises no row rule: not the
    first data row (a numbering row may be there); a household id that is not a footer
    word; no cell that may be a total word, no mapped cell that may repeat its header;
    no error in any cell; no row rule that may fire on it (``row_rules.flagged_rows``);
    an id not seen before (``row_rules.UNIQUE_ID``). ``fill`` hands the
    parsed cells of any other row to the per-row code.
    """

    def __init__(self, validator: Validator, located: LocatedTable, colname, file_township):
        grid, table = located.grid, located.table
        self.validator, self.table, self.sheet = validator, table, grid.sheet
        self.start = start = located.data_start
        data = grid.rows[start:]
        n = len(data)
        cols = [_Col(values) for values in (zip(*data, strict=True) if n else [()] * grid.width)]
        self.keys = list(located.columns.values())
        self.outs: list[list] = []
        self.probs: list[dict[int, tuple[Problem, ...]]] = []
        for c, key in located.columns.items():
            outs, probs = _column_values(
                validator, grid.file, grid.sheet, table, key, cols[c], colname[c]
            )
            self.outs.append(outs)
            self.probs.append(probs)
        by_key = dict(zip(self.keys, self.outs, strict=True))
        # a table of placed rows without a township column takes the sheet's (members: none)
        self.fill_township = "township" not in by_key and table.key in schema.PLACED_TABLES
        self.township = file_township
        self.check_ids = table.key in row_rules.UNIQUE_ID.tables
        places = located.places() if table.key in schema.PLACED_TABLES else {}
        self.rule_sheet = row_rules.Sheet(table, frozenset(self.keys), file_township, places=places)
        self.plain = self._plain_rows(located, cols, by_key, n)
        # run_end[j]: the first row from j on that is not plain (j itself when j is not)
        run_end: list[int] = []
        after = 0
        for b in compress(range(n), map(operator.not_, self.plain)):
            run_end.extend(repeat(b, b - after + 1))
            after = b + 1
        run_end.extend(repeat(n, n - after))
        self.run_end = run_end
        # The loaded plain rows, as columns: each row a columns.RowView of this frame.
        frame = dict(by_key)
        if self.fill_township:
            frame["township"] = [file_township] * n
        for key, name in places.items():  # the sheet's county and province (row_rules)
            if key not in by_key:
                frame[key] = [name] * n
        frame["source_sheet"] = [grid.sheet] * n
        numbers = grid.row_numbers
        frame["source_row"] = (
            list(numbers[start:]) if numbers is not None else list(range(start + 1, start + 1 + n))
        )
        self.frame = frame
        self.ids = by_key.get("household_id")
        warnings: dict[int, list[Problem]] = {}
        for probs in self.probs:
            for j, found in probs.items():
                warnings.setdefault(j, []).extend(found)
        self.warnings = warnings

    def _plain_rows(
        self, located: LocatedTable, cols: list[_Col], by_key: dict, n: int
    ) -> list[bool]:
        plain = skip_free_rows(located, cols, by_key.get("household_id"), n)
        # errors in cells; then every row rule's column form (row_rules.ROW_RULES)
        for probs in self.probs:
            for j, found in probs.items():
                if any(p.severity == ERROR for p in found):
                    plain[j] = False
        flagged = row_rules.flagged_rows(by_key, n, self.rule_sheet)
        if any(flagged):
            plain = [p and not f for p, f in zip(plain, flagged, strict=True)]
        return plain

    def take(self, i: int, rows: list, problems: list[Problem]) -> int:
        """Loads the run of plain rows (see the class) from row ``i`` on; returns the first
        row not loaded (``i`` when row ``i`` is not plain).

        Linear in the rows loaded (plus a bounded look past a repeated id): the end of each
        run of plain rows is known from the start (``run_end``), and household ids are
        checked in blocks that double while they hold no id seen before, so a sheet whose
        household id repeats on every row (filled down by mistake) costs the same per row as
        any other, however many rows follow.
        """
        start, sheet = self.start, self.sheet
        j0 = j = i - start
        end = self.run_end[j0] if j0 < len(self.run_end) else j0
        ids = self.ids  # None without a household id column: then no row is plain
        if self.check_ids and ids is not None and end > j0:
            seen, table_key = self.validator.seen, self.table.key
            numbers = self.frame["source_row"]
            size = _FIRST_BLOCK
            while j < end:
                k = min(end, j + size)
                keys = list(zip(repeat(table_key), ids[j:k]))
                if len(set(keys)) == len(keys) and seen.keys().isdisjoint(keys):
                    # (sheet, Excel row): row_rules.first_seen makes the message's labels
                    seen.update(zip(keys, zip(repeat(sheet), numbers[j:k]), strict=True))
                    j = k
                    size *= 2
                    continue
                for key, number in zip(keys, numbers[j:k], strict=True):
                    if key in seen:
                        break  # a repeated id: load up to it; the per-row code reports it
                    seen[key] = (sheet, number)
                    j += 1
                break
        else:
            j = end
        rows.extend(map(columns.RowView, repeat(self.frame, j - j0), range(j0, j)))
        warnings = self.warnings
        if warnings and j > j0:
            numbers = self.frame["source_row"]
            run = range(j0, j)
            for k in sorted(warnings.keys() & run) if len(run) > len(warnings) else run:
                found = warnings.get(k)
                if found:
                    problems.extend(p.at(numbers[k]) for p in found)
        return j + start

    def fill(self, row: Row, i: int) -> None:
        """Puts the parsed cells of row ``i`` into ``row``, as ``_cell`` would have."""
        j = i - self.start
        for key, outs, probs in zip(self.keys, self.outs, self.probs, strict=True):
            row.values[key] = outs[j]
            found = probs.get(j)
            if found:
                row.problems.extend(p.at(row.excel_row) for p in found)


class PersonColumns:
    """The cells of a person-level household sheet (``located.members`` non-empty) parsed
    a column at a time, for ``Validator.parse_persons``: its household columns as fields of
    the households table, its member columns as fields of the members table, each distinct
    cell once (``_column_values``); and which rows no skip reason can apply to
    (``skip_free_rows``: only the others are asked ``skips.RowKinds.of``).

    ``house(j)`` and ``member(j)`` give data row ``j``'s parsed values (a new dict each)
    and its cells' problems (Excel row set), in column order, as the per-row code makes
    them.
    """

    def __init__(self, validator: Validator, located: LocatedTable, colname) -> None:
        grid, start = located.grid, located.data_start
        data = grid.rows[start:]
        n = len(data)
        cols = [_Col(values) for values in (zip(*data, strict=True) if n else [()] * grid.width)]
        numbers = grid.row_numbers
        self.numbers = (
            list(numbers[start:]) if numbers is not None else list(range(start + 1, start + 1 + n))
        )

        def parsed(table, of: dict[int, str]):
            keys, outs, probs = [], [], []
            for c, key in of.items():
                o, p = _column_values(
                    validator, grid.file, grid.sheet, table, key, cols[c], colname[c]
                )
                keys.append(key)
                outs.append(o)
                probs.append(p)
            found: dict[int, list[Problem]] = {}
            for p in probs:  # column order, as the per-row code reports a row's cells
                for j, f in p.items():
                    found.setdefault(j, []).extend(f)
            return keys, outs, found

        self.house_keys, house_outs, self.house_found = parsed(located.table, located.columns)
        self.member_keys, member_outs, self.member_found = parsed(schema.MEMBERS, located.members)
        self.house_rows = list(zip(*house_outs, strict=True)) if house_outs else [()] * n
        self.member_rows = list(zip(*member_outs, strict=True)) if member_outs else [()] * n
        by_key = dict(zip(self.house_keys, house_outs, strict=True))
        self.member_columns = dict(zip(self.member_keys, member_outs, strict=True))
        if "household_id" in by_key:
            self.member_columns["household_id"] = by_key["household_id"]
        self.skip_free = skip_free_rows(located, cols, by_key.get("household_id"), n)

    def house(self, j: int) -> tuple[dict, list[Problem]]:
        """Row ``j``'s household values and its household cells' problems."""
        found = self.house_found.get(j)
        at = self.numbers[j]
        return dict(zip(self.house_keys, self.house_rows[j], strict=True)), (
            [p.at(at) for p in found] if found else []
        )

    def member(self, j: int) -> tuple[dict, list[Problem]]:
        """Row ``j``'s member values and its member cells' problems."""
        found = self.member_found.get(j)
        at = self.numbers[j]
        return dict(zip(self.member_keys, self.member_rows[j], strict=True)), (
            [p.at(at) for p in found] if found else []
        )
