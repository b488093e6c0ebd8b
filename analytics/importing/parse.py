"""Parsing one file's bytes into validated tables: the sheets (analytics/importing/sheets.py),
the table of each (analytics/importing/locate.py), every row validated
(analytics/importing/validate.py), into a ``FileReport``. Runs in the parse worker
(analytics/importing/worker.py), never in the server's process.
"""

from __future__ import annotations

import datetime as dt

from openpyxl.utils import get_column_letter

from analytics.domain import config, schema
from analytics.domain.labels import texts
from analytics.importing import guard, person_rules, rollup, validate, workbook
from analytics.importing.locate import LocatedTable, SheetNote, locate
from analytics.importing.results import (
    FileReport,
    ParsedTable,
    ReadError,
    SheetSummary,
    unreadable,
)
from analytics.importing.row_rules import problem
from analytics.importing.sheets import Grid, parse_grids


def parse_file(
    report: FileReport,
    data: bytes,
    township: str | None,
    limits: config.Limits,
    spellings: schema.Spellings = schema.NO_SPELLINGS,
    data_date: dt.date | None = None,
    *,
    by_column: bool = True,
) -> FileReport:
    """The part of ``inspect_file`` that parses: the sheets (``sheets.parse_grids``, after
    ``guard.check_file`` passed), their tables (found with the office's ``spellings``), what
    the workbook says as a whole (a township for the sheets that name none, the data date:
    analytics/importing/workbook.py), every row validated, into ``report``.

    Runs in the worker process (analytics/importing/worker.py), never in the server's.
    ``data_date``, given at upload, is the file's data date over what the file says; the
    person rules age the members at it. ``by_column=False`` parses every cell and row on
    its own (``Validator.parse``, ``Validator.parse_persons``): the reference the fast
    paths are tested against.

    Raises
    ------
    ReadError
        When the file cannot be read.
    """
    file_name = report.file
    grids = parse_grids(file_name, data, limits)
    validator = validate.Validator(township)
    found: list[tuple[Grid, LocatedTable | SheetNote | None]] = [
        (grid, None if grid.hidden else locate(grid, spellings)) for grid in grids
    ]
    tables = [t for _, t in found if isinstance(t, LocatedTable)]
    workbook.settle(file_name, tables)  # a township for the sheets that name none
    report.data_date, report.data_date_source = workbook.data_date(file_name, tables)
    report.give_date(data_date)
    persons: list[tuple[int, rollup.PersonSheet]] = []
    for grid, located in found:
        if located is None:
            hidden = texts("msg_hidden_sheet")
            report.sheets.append(SheetSummary(grid.sheet, None, note=hidden.zh, note_en=hidden.en))
            continue
        if isinstance(located, SheetNote):
            report.sheets.append(
                SheetSummary(
                    sheet=grid.sheet, table=None, note=located.reason, note_en=located.reason_en
                )
            )
            continue
        if located.members:  # a person-level household sheet: rolled up below
            persons.append(
                (len(report.sheets), validator.parse_persons(located, by_column=by_column))
            )
            report.sheets.append(SheetSummary(grid.sheet, located.table.key))
            continue
        parsed = validator.parse(located, by_column=by_column)
        report.parsed.append(parsed)
        report.sheets.append(_summary(located, parsed))
    has_members = bool(persons) or any(p.table == "members" for p in report.parsed)
    names: dict[tuple[str, str], str] = {}
    if has_members:
        names = {
            (t.grid.sheet, k): f"{get_column_letter(c + 1)} {t.headers[c]}"
            for t in tables
            for c, k in (*t.columns.items(), *t.members.items())
        }
        _roll_up(report, validator, persons, names)
        order = {s.sheet: i for i, s in enumerate(report.sheets)}
        report.parsed.sort(key=lambda p: order[p.sheet])  # stable: households, then members
    if report.data_date is None:  # nothing names one: as of the rows' latest survey day
        report.data_date = workbook.latest_row_date(report.parsed)
        report.data_date_source = "survey_date" if report.data_date else ""
    if has_members:
        _person_rules(report, names)
    report.problems = [p for parsed in report.parsed for p in parsed.problems]
    if not report.parsed and guard.is_excel_name(file_name) and not guard.is_workbook(data):
        # An Excel name on bytes that are no workbook and hold no table as text either.
        unreadable(report, ReadError.of("msg_not_a_workbook", file=file_name))
    elif not report.parsed:
        report.status = "refused"
        report.message, report.message_en = texts("msg_no_table")
    return report


def _person_rules(report: FileReport, names: dict[tuple[str, str], str]) -> None:
    """The person rules (analytics/importing/person_rules.py) over the members of the file:
    per household (its members across the file's sheets, in sheet and row order), ages at
    the file's data date; one 证件号码 in two households of the file. Warnings, added to
    the members tables' problems in row order."""
    tables = [p for p in report.parsed if p.table == "members"]
    by_sheet = {p.sheet: p for p in tables}
    # a member's county is its household's (1_01_001 within a county, 1_01_002 across)
    county = {
        str(r["household_id"]): r.get("county") or None
        for p in report.parsed
        if p.table == "households"
        for r in p.rows
    }
    households: dict[str, list[dict[str, object]]] = {}
    everyone = []
    for table in tables:
        present = set(table.headers.values())
        for r in table.rows:
            member = {k: v for k, v in r.items() if k in present or v is not None}
            member["source_sheet"], member["source_row"] = table.sheet, r["source_row"]
            member["county"] = county.get(str(r["household_id"]))
            households.setdefault(str(r["household_id"]), []).append(member)
            everyone.append(member)
    found = [
        f
        for ms in households.values()
        for f in person_rules.household_findings(ms, report.data_date)
    ]
    found += person_rules.duplicate_persons(everyone)
    for f in found:
        table = by_sheet[f.sheet]
        own = names.get((f.sheet, f.key))
        column = own or names.get((f.sheet, "id_number"), "")  # sex / birth read from the ID
        table.problems.append(
            problem(table.file, f.sheet, f.row, column, f.value, f.code, **f.fields)
        )
    for table in tables:
        table.problems.sort(key=lambda p: -1 if p.row is None else p.row)


def _summary(located: LocatedTable, parsed: ParsedTable, members: int = 0) -> SheetSummary:
    """What a sheet held: its table, header rows, row counts and columns."""
    columns = dict(parsed.headers)
    for c, key in located.members.items():
        columns[located.headers[c]] = key
    return SheetSummary(
        sheet=located.grid.sheet,
        table=located.table.key,
        header_rows="-".join(str(r + 1) for r in located.header_rows),
        township_source=parsed.township_source,
        township=parsed.township,
        loaded=len(parsed.rows),
        rejected=len(parsed.rejected),
        members=len(parsed.rows) if parsed.table == "members" else members,
        skipped=parsed.skipped,
        columns=columns,
        unused_columns=located.unused_headers,
        proposals=located.proposals,
    )


def _roll_up(
    report: FileReport,
    validator: validate.Validator,
    persons: list[tuple[int, rollup.PersonSheet]],
    names: dict[tuple[str, str], str],
) -> None:
    """The person-level sheets of the file rolled up into households and members
    (analytics/importing/rollup.py), their tables and sheet summaries added to ``report``."""
    rolled = rollup.roll_up(
        validator,
        [ps for _, ps in persons],
        [p for p in report.parsed if p.table == "members"],
        [p for p in report.parsed if p.table == "households"],
        names,
    )
    for (at, ps), (households, members) in zip(persons, rolled, strict=True):
        report.parsed.extend((households, members))
        report.sheets[at] = _summary(ps.located, households, members=len(members.rows))
