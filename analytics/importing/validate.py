"""Turn a located table into typed rows and a row report: the per-row path, the reference.

Every data row ends up in exactly one place: loaded (``ParsedTable.rows``), rejected with
its reasons (``ParsedTable.rejected``), or skipped as a blank, totals, numbering or
signature line (``ParsedTable.skipped``; analytics/importing/skips.py). Every problem names
file, sheet, Excel row, column and value, with a rule code of ``row_rules.SEVERITY`` and
its message from the label table. Each cell is parsed by its field's kind
(analytics/importing/values.py; ID numbers: analytics/domain/idcard.py); the rules across
a row's cells are those of ``row_rules.ROW_RULES``. Large tables are parsed a column at a
time (analytics/importing/by_column.py), every other row through the code here.

Rules: ../shared/DOMAIN.md and the registry-import issue ("Validation: a row report,
nothing lost").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from openpyxl.utils import get_column_letter

from analytics.domain import idcard, schema
from analytics.domain.labels import label
from analytics.domain.privacy import mask_id
from analytics.importing import columns, rollup, row_rules
from analytics.importing.by_column import ByColumn, PersonColumns
from analytics.importing.locate import LocatedTable
from analytics.importing.results import ERROR, ParsedTable, Problem
from analytics.importing.row_rules import (
    CODE_ALLOWED,
    CODE_TABLES,
    LENIENT_CODES,
    NO_SPACE_FIELDS,
    NONNEG_INT,
    POSITIVE_INT,
    POSITIVE_NUMBER,
    REQUIRED,
    problem,
)
from analytics.importing.skips import SKIP_KINDS, RowKinds
from analytics.importing.values import (
    DATE_FLOOR,
    INVISIBLE,
    SPACES,
    clean_text,
    is_blank,
    parse_date,
    parse_month,
    parse_number,
    parse_whole,
    parse_yesno,
)


@dataclass
class Row:
    """Working state of one row while it is validated."""

    excel_row: int
    values: dict = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def missing_columns(located: LocatedTable) -> list[Problem]:
    """One sheet-level E_NO_COLUMN error per required field (``REQUIRED``) the located table
    has no column for; the message names the unrecognised header most like it, if any
    (``LocatedTable.proposals``). A person-level household sheet needs no 人数 column (its
    persons are its member rows: analytics/importing/rollup.py)."""
    grid, table = located.grid, located.table
    proposed = {key: header for header, key in located.proposals.items()}
    out = []
    for key in REQUIRED[table.key]:
        if located.column_of(key) is not None or (located.members and key == "household_size"):
            continue
        header = table.by_key[key].header
        p = problem(grid.file, grid.sheet, None, "", "", "E_NO_COLUMN", field=header)
        if key in proposed:
            p = replace(
                p,
                column=proposed[key],
                message=p.message + label("no_column_hint", "zh", h=proposed[key], f=header),
                message_en=p.message_en + label("no_column_hint", "en", h=proposed[key], f=header),
            )
        out.append(p)
    return out


class Validator:
    """Validates the located tables of one file; remembers household ids across its sheets.

    Parameters
    ----------
    township : the township given at upload, used when a sheet has no township column
        (else the township its title names).
    """

    def __init__(self, township: str | None = None) -> None:
        self.township = township.strip() if township and township.strip() else None
        # (table, household id) -> where first seen: (sheet, Excel row), or the labels of
        # row_rules.first_seen; shared with by_column.ByColumn and the bulk path's worker
        self.seen: dict[tuple[str, str], tuple[str, object]] = {}

    def parse(self, located: LocatedTable, *, by_column: bool = True) -> ParsedTable:
        """Validates every data row of ``located``; see ``ParsedTable``.

        ``by_column`` (the default) parses a column at a time (``by_column.ByColumn``):
        each distinct value once, and the clean text, ID numbers and numbers of large
        columns in bulk (``analytics.columns``); a row that is plainly data, has no error
        and raises no row rule is then put together directly. Every other row goes through
        the per-row code below, as with ``by_column=False``, which parses every cell on its
        own: the reference the fast path is tested against (tests/test_fast_paths.py).
        """
        grid, table = located.grid, located.table
        file, sheet = grid.file, grid.sheet
        colname = {c: f"{get_column_letter(c + 1)} {located.headers[c]}" for c in located.columns}
        file_township, township_source = located.township_for(self.township)
        rule_sheet = row_rules.Sheet(
            table,
            frozenset(located.columns.values()),
            file_township,
            located.unclear_sources(),
            {k: colname[c] for c, k in located.columns.items()},
            located.places(),
        )
        sheet_problems = [
            problem(file, sheet, None, h, h, "W_DUPLICATE_COLUMN")
            for h in located.duplicate_headers
        ]
        missing = missing_columns(located)
        sheet_problems.extend(missing)
        # A sheet without a required column loads nothing: each data row is rejected with
        # the reason (a relocation sheet without 搬迁人口 would otherwise load 0 persons).
        sheet_errors = [p.message for p in missing]
        skipped = dict.fromkeys(SKIP_KINDS, 0)
        kinds = RowKinds(located)
        rows: list[dict] = []
        rejected: list[dict] = []
        problems = list(sheet_problems)
        fast = (
            ByColumn(self, located, colname, file_township)
            if by_column and not sheet_errors
            else None
        )
        resume = 0
        for i in range(located.data_start, len(grid.rows)):
            if i < resume:
                continue  # loaded by fast.take
            if fast is not None:
                resume = fast.take(i, rows, problems)
                if resume > i:
                    continue
            cells = grid.rows[i]
            kind = kinds.of(i)
            if kind:
                skipped[kind] += 1
                continue
            row = Row(excel_row=grid.row_number(i))
            if fast is not None:
                fast.fill(row, i)
            else:
                for c, key in located.columns.items():
                    self._cell(file, sheet, row, table, key, cells[c], colname[c])
            self._row_rules(file, sheet, row, located, colname, rule_sheet)
            errors = [p.message for p in row.problems if p.severity == ERROR] + sheet_errors
            problems.extend(row.problems)
            if errors:
                rejected.append(
                    {
                        "source_sheet": sheet,
                        "source_row": row.excel_row,
                        "raw": located.raw_row(cells),
                        "reasons": "；".join(errors),
                    }
                )
            else:
                row.values["source_sheet"] = sheet
                row.values["source_row"] = row.excel_row
                rows.append(row.values)
        return ParsedTable(
            file=file,
            sheet=sheet,
            table=table.key,
            rows=rows,
            rejected=rejected,
            problems=problems,
            skipped=skipped,
            headers={located.headers[c]: k for c, k in located.columns.items()},
            township_source=township_source,
            township=file_township,
        )

    def data_ids(self, located: LocatedTable) -> list[tuple[int, object]]:
        """(Excel row, household id) of every row of ``located`` that ``parse`` would not
        skip, by the same tests in the same order (for analytics/importing/bulk.py, which must know
        which rows are data before it parses them)."""
        grid, table = located.grid, located.table
        kinds = RowKinds(located)
        id_col = kinds.id_col
        out: list[tuple[int, object]] = []
        for i in range(located.data_start, len(grid.rows)):
            cells = grid.rows[i]
            if kinds.of(i):
                continue
            hid = None
            if id_col is not None:
                col = f"{get_column_letter(id_col + 1)} {located.headers[id_col]}"
                hid = self.cell_result(
                    grid.file, grid.sheet, table, "household_id", cells[id_col], col
                )[0]
            out.append((grid.row_number(i), hid))
        return out

    def cell_result(self, file, sheet, table, key, raw, col) -> tuple[object, tuple]:
        """One cell's value on its own, as the row code parses it: (value, problems with
        row 0). ``table``: a ``schema.Table``; ``key``: the field; ``col``: the column's
        name in the report ("C 户主身份证号")."""
        row = Row(excel_row=0)
        self._cell(file, sheet, row, table, key, raw, col)
        return row.values[key], tuple(row.problems)

    # One cell: parse by kind, report what is wrong with it.
    def _cell(self, file, sheet, row: Row, table, key, raw, col) -> None:
        f = table.by_key[key]
        text = clean_text(raw)
        if text and is_blank(text, f.kind):
            text = ""  # 无, /, —: nothing here
        out: object = None  # the cell's value; each kind parses into its own name first

        def add(code: str, **params: object) -> None:
            is_id = f.kind == schema.ID_NUMBER
            shown = mask_id(idcard.normalise(text)) if is_id else text
            row.problems.append(
                problem(file, sheet, row.excel_row, col, shown, code, field=f.header, **params)
            )

        if raw.__class__ is str:
            found = INVISIBLE.findall(raw)
            if found:
                chars = ", ".join(f"U+{ord(c):04X}" for c in dict.fromkeys(found))
                add("W_INVISIBLE", chars=chars)
            if len(raw) == columns.EXCEL_CELL_CHARS:
                add("W_CELL_TRUNCATED")
        if f.kind == schema.ID_NUMBER:
            out = self._id_number(raw, text, add)
        elif not text:
            out = None
        elif f.kind == schema.TEXT:
            # Place names and Chinese names hold no spaces: "孔兴 村" is 孔兴村, not a new village.
            out = SPACES.sub("", text) if key in NO_SPACE_FIELDS else text
            if key == "household_id" and isinstance(raw, float) and len(text) > 15:
                add("W_HOUSEHOLD_ID_AS_NUMBER")
        elif f.kind == schema.INT:
            whole = parse_whole(raw)
            if key in POSITIVE_INT and (whole is None or whole <= 0):
                add("E_POSITIVE_INT")
                whole = None
            elif key in NONNEG_INT and (whole is None or whole < 0):
                add("E_NONNEG_INT")
                whole = None
            elif whole is None:
                add("W_NUMBER")
            out = whole
        elif f.kind == schema.NUMBER:
            number = parse_number(raw)
            if key in POSITIVE_NUMBER and (number is None or number <= 0):
                add("E_POSITIVE_NUMBER")
                number = None
            elif number is None:
                add("W_NUMBER")
            out = number
        elif f.kind == schema.DATE:
            day = parse_date(raw)
            if day is None:
                add("W_DATE")
            elif not DATE_FLOOR <= day <= dt.date.today() + dt.timedelta(days=366):
                # 1900-01-01 (a date cell holding 1) would make its round the "earliest"
                add("W_DATE_RANGE")
                day = None
            out = day
        elif f.kind == schema.MONTH:
            out = _month(raw, add)
        elif f.kind == schema.YESNO:
            out = parse_yesno(raw)
            if out is None:
                add("W_YESNO")
        elif f.kind in CODE_TABLES:
            compact = text.replace(" ", "")
            if compact in schema.NO_OUTCOME and f.kind != schema.STATE:
                out = None
            else:
                codes = CODE_TABLES[f.kind]
                out = codes.get(compact) or codes.get(compact.lower())
                if out is None:
                    lenient = f.kind in LENIENT_CODES
                    add("W_CODE" if lenient else "E_CODE", allowed=CODE_ALLOWED[f.kind])
        row.values[key] = out

    @staticmethod
    def _id_number(raw, text: str, add) -> str | None:
        if not text:
            return None
        value = idcard.normalise(text)
        # a number cell, or a CSV written from one ("5.30921E+17"): digits already lost
        as_number = isinstance(raw, int | float) and not isinstance(raw, bool)
        found = idcard.problems(value, stored_as_number=as_number)
        for code, params in found:
            add(code, **params)
        return text if found and found[0][0] == idcard.AS_NUMBER else value

    def _row_rules(
        self, file: str, sheet: str, row: Row, located: LocatedTable, colname, rule_sheet
    ) -> None:
        """The row rules (``row_rules.ROW_RULES``, their reference form) on one row."""
        self.apply_rules(file, sheet, row.excel_row, row.values, row.problems, rule_sheet)

    def apply_rules(
        self,
        file: str,
        sheet: str,
        excel_row: int,
        values: dict,
        problems: list[Problem],
        rule_sheet: row_rules.Sheet,
    ) -> None:
        """The row rules of ``rule_sheet``'s table (``row_rules.check_row``) on one row's
        ``values`` (parsed; ``problems``: those its cells already have), their problems
        appended to ``problems``; a problem names the column ``rule_sheet.headers`` gives
        its field.

        Used on every row of a sheet, and on a household rolled up from a person-level
        sheet (analytics/importing/rollup.py)."""
        names = rule_sheet.headers
        flagged = (
            {k for k, name in names.items() if any(p.column == name for p in problems)}
            if problems
            else set()
        )
        view = row_rules.Row(values, flagged, (sheet, excel_row), self.seen)
        for code, key, value, params in row_rules.check_row(view, rule_sheet):
            column = names.get(key, "") if key is not None else ""
            problems.append(problem(file, sheet, excel_row, column, value, code, **params))

    def parse_persons(self, located: LocatedTable, *, by_column: bool = True) -> rollup.PersonSheet:
        """Parses a person-level household sheet (``located.members`` non-empty), before
        its roll-up (``rollup.roll_up``): each row's household cells and member cells, and
        the member row rules (no 户编号: E_REQUIRED). The household row rules run on the
        rolled-up household, not here.

        ``by_column`` (the default) parses the cells a column at a time
        (``by_column.PersonColumns``: each distinct value once), asks only the rows a skip
        reason may apply to why they are not data, and runs the member row rules only on
        the rows their column form flags; ``by_column=False`` parses every cell on its own
        and asks every row: the reference (tests/test_fast_paths.py holds them equal)."""
        grid, table = located.grid, located.table
        file, sheet = grid.file, grid.sheet
        every = {**located.columns, **located.members}
        colname = {c: f"{get_column_letter(c + 1)} {located.headers[c]}" for c in every}
        file_township, township_source = located.township_for(self.township)
        households = row_rules.Sheet(
            table,
            frozenset(located.columns.values()),
            file_township,
            located.unclear_sources(),
            {k: colname[c] for c, k in located.columns.items()},
            located.places(),
        )
        member_names = {k: colname[c] for c, k in located.members.items()}
        id_col = located.column_of("household_id")
        if id_col is not None:
            member_names["household_id"] = colname[id_col]
        members = row_rules.Sheet(schema.MEMBERS, frozenset(member_names), None, None, member_names)
        sheet_problems = [
            problem(file, sheet, None, h, h, "W_DUPLICATE_COLUMN")
            for h in located.duplicate_headers
        ]
        missing = missing_columns(located)
        sheet_problems.extend(missing)
        skipped = dict.fromkeys(SKIP_KINDS, 0)
        kinds = RowKinds(located)
        rows: list[rollup.PersonRow] = []
        start = located.data_start
        fast = PersonColumns(self, located, colname) if by_column else None
        # rows the member row rules may fire on (their column form); all without ``fast``
        ruled = (
            row_rules.flagged_rows(fast.member_columns, len(fast.skip_free), members)
            if fast is not None
            else None
        )
        for i in range(start, len(grid.rows)):
            j = i - start
            if fast is None or not fast.skip_free[j]:
                kind = kinds.of(i)
                if kind:
                    skipped[kind] += 1
                    continue
            cells = grid.rows[i]
            excel_row = grid.row_number(i)
            if fast is not None:
                house_values, house_problems = fast.house(j)
                member_values, member_problems = fast.member(j)
            else:
                house, member = Row(excel_row=excel_row), Row(excel_row=excel_row)
                for c, key in located.columns.items():
                    self._cell(file, sheet, house, table, key, cells[c], colname[c])
                for c, key in located.members.items():
                    self._cell(file, sheet, member, schema.MEMBERS, key, cells[c], colname[c])
                house_values, house_problems = house.values, house.problems
                member_values, member_problems = member.values, member.problems
            member_values["household_id"] = house_values.get("household_id")
            if ruled is None or ruled[j]:
                self.apply_rules(file, sheet, excel_row, member_values, member_problems, members)
            problems = house_problems + member_problems
            if problems:
                problems.sort(key=lambda p: _column_index(p.column))
            rows.append(rollup.PersonRow(excel_row, house_values, member_values, problems, cells))
        return rollup.PersonSheet(
            located=located,
            rows=rows,
            problems=sheet_problems,
            sheet_errors=[p.message for p in missing],
            skipped=skipped,
            township_source=township_source,
            households=households,
            columns=dict(households.headers),
            member_columns=member_names,
        )


def _month(raw: object, add: Callable[..., None]) -> dt.date | None:
    """A month cell's value (``parse_month``), with W_MONTH when it is none and
    W_DATE_RANGE when it is outside the years a registry month can be."""
    month = parse_month(raw)
    if month is None:
        add("W_MONTH")
    elif not DATE_FLOOR <= month <= dt.date.today() + dt.timedelta(days=366):
        add("W_DATE_RANGE")
        return None
    return month


def _column_index(column: str) -> int:
    """The order of a problem's column ("AB 人数" -> 28), for a row's problems in column
    order; a problem without a column first."""
    letters = column.split(" ", 1)[0] if column else ""
    n = 0
    for ch in letters:
        if not "A" <= ch <= "Z":
            return 0
        n = n * 26 + ord(ch) - 64
    return n


def _has_problem(row: Row, column: str) -> bool:
    return any(p.column == column for p in row.problems)
