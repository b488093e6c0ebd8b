"""Person-level sheets rolled up into households: the one home of that rule, for every
import path.

A person-level sheet (one row per household member, the national system's person lists;
analytics/importing/locate.py finds it) gives households and members at once. The rows of
a file are grouped by 户编号 across its sheets (a household split over two sheets is one
household) and each group becomes one household and its members:

- households = distinct 户编号, persons = member rows: a household's ``household_size`` is
  its number of member rows; a declared 人数 that differs is a warning (W_SIZE_MEMBERS);
- the household's fields come from its 户主 row (relation "head"), its head's name and ID
  number too where the sheet has no 户主姓名 / 户主身份证号 column; a field the 户主 row
  leaves blank from its first member row that has one; without a 户主 row from its first
  row (the person rules warn of it: analytics/importing/person_rules.py, W_NO_HEAD; a
  second 户主: W_TWO_HEADS, both rows kept);
- a member row whose household field disagrees with the household's: a warning
  (W_MEMBER_DISAGREE), the household's value kept; a blank cell is never a disagreement;
- the household row rules (analytics/importing/row_rules.py) apply to the rolled-up
  household as to a row of a household sheet; a household with an error is rejected with
  all its member rows (E_HOUSEHOLD_REJECTED), a member row with an error of its own
  (no 户编号: E_REQUIRED) alone;
- members of a household that a household-level sheet of the same file holds attach to it
  (no second household); a 家庭人口数 that differs from them is a warning.

Bare member sheets (户编号 + member fields only: ``schema.MEMBERS``) are parsed as a table of
their own (``Validator.parse``); their rows join the groups for the 户主 checks.

The person rules (analytics/importing/person_rules.py: heads, relation against sex, ages,
school-age children, a person in two households) run after the roll-up over every members
table of the file (analytics/importing/parse.py ``parse_file``).

Source: ../shared/DOMAIN.md "What offices really export: one row per person".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from analytics.domain import schema
from analytics.domain.labels import LABELS, texts
from analytics.importing.results import ERROR, ParsedTable, Problem
from analytics.importing.row_rules import first_seen, problem

if TYPE_CHECKING:
    from analytics.importing.locate import LocatedTable
    from analytics.importing.row_rules import Sheet
    from analytics.importing.validate import Validator

HEAD = "head"  # the relation code of the head of household (schema.RELATIONS)
# The header the household table of a person-level sheet names for household_size when the
# sheet has no 人数 column: its persons are counted from the member rows.
MEMBER_ROWS_HEADER = LABELS["member_rows"][0]
# Household field -> the member field of its 户主 row it is read from where the sheet has
# no column of its own (户主姓名, 户主身份证号): on a member sheet the head is the 户主 row.
HEAD_FIELDS = {"head_name": "name", "head_id_number": "id_number"}


@dataclass
class PersonRow:
    """One data row of a person-level household sheet, its cells parsed.

    Attributes
    ----------
    excel_row : the Excel row number.
    household : household field key -> parsed value (the sheet's household columns).
    member : member field key -> parsed value (its member columns and 户编号).
    problems : the problems of its cells and of the member row rules, in column order.
    cells : the row's cells as read, for the quarantine when the row is rejected
        (``LocatedTable.raw_row``).
    """

    excel_row: int
    household: dict[str, Any]
    member: dict[str, Any]
    problems: list[Problem]
    cells: list[object]

    def errors(self) -> list[str]:
        """The messages of the row's own errors."""
        return [p.message for p in self.problems if p.severity == ERROR]


@dataclass
class PersonSheet:
    """A person-level household sheet parsed row by row, before its roll-up.

    Attributes
    ----------
    located : the located sheet (``located.members`` non-empty).
    rows : its data rows.
    problems : its sheet-level problems (a missing or duplicated column).
    sheet_errors : messages of sheet-level errors: every row is rejected with them.
    skipped : skipped rows by kind.
    township_source : where a row without a township takes one from.
    households : the household row rules' view of the sheet.
    columns : household or member field key -> the column as the report names it.
    """

    located: LocatedTable
    rows: list[PersonRow]
    problems: list[Problem]
    sheet_errors: list[str]
    skipped: dict[str, int]
    township_source: str
    households: Sheet
    columns: dict[str, str]
    member_columns: dict[str, str] = field(default_factory=dict)

    @property
    def sheet(self) -> str:
        """The sheet's name."""
        return self.located.grid.sheet


@dataclass
class _Out:
    """What one sheet gives after the roll-up."""

    households: list[dict[str, Any]] = field(default_factory=list)
    members: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _shown(value: object) -> str:
    """A parsed value as a message shows it: a code's label, else its text."""
    if isinstance(value, str) and value in LABELS:
        return LABELS[value][0]
    return "" if value is None else str(value)


def _member(values: dict[str, Any], sheet: str, excel_row: int) -> dict[str, Any]:
    return {**values, "source_sheet": sheet, "source_row": excel_row}


def roll_up(
    validator: Validator,
    person_sheets: list[PersonSheet],
    member_tables: Iterable[ParsedTable] = (),
    household_tables: Iterable[ParsedTable] = (),
    column_names: Mapping[tuple[str, str], str] = MappingProxyType({}),
) -> list[tuple[ParsedTable, ParsedTable]]:
    """Rolls the person-level sheets of one file up into households and members.

    Parameters
    ----------
    validator : the file's validator (its household ids seen, its row rules).
    person_sheets : the file's person-level household sheets, parsed row by row.
    member_tables : the file's bare member tables (already parsed): their rows join the
        household groups for the 户主 checks, and their problems gain those warnings.
    household_tables : the file's household-level tables: a household they hold takes the
        members of the person-level sheets as its own (no second household), and its
        declared 家庭人口数 is compared with them (W_SIZE_MEMBERS on its row).
    column_names : (sheet, field key) -> the column as the report names it ("F 家庭人口数"),
        for a problem on a row of a household-level or bare member table.

    Returns
    -------
    Per person-level sheet, in order, its households table and its members table (rows,
    rejected rows, problems in row order).
    """
    outs = {id(ps): _Out() for ps in person_sheets}
    groups: dict[str, list[tuple[PersonSheet, PersonRow]]] = {}
    for ps in person_sheets:
        out = outs[id(ps)]
        out.problems.extend(ps.problems)
        for row in ps.rows:
            hid = row.member.get("household_id")
            out.problems.extend(row.problems)
            if ps.sheet_errors or not hid:
                _reject(out, ps, row, [*row.errors(), *ps.sheet_errors])
                continue
            groups.setdefault(hid, []).append((ps, row))
    known = {r["household_id"]: (t, r) for t in household_tables for r in t.rows}
    bare = _bare_groups(member_tables)
    for hid, rows in groups.items():
        if hid in known:
            n = len(rows) + len(bare.get(hid, ()))
            _attach(rows, outs, known[hid], n, column_names)
        else:
            _household(validator, hid, rows, outs)
    for table in household_tables:
        for r in table.rows:
            attached = bare.get(r["household_id"])
            if attached and r["household_id"] not in groups:
                _size_warning(table, r, len(attached), column_names)
    result = []
    for ps in person_sheets:
        out = outs[id(ps)]
        out.problems.sort(key=lambda p: -1 if p.row is None else p.row)
        household_headers = {ps.located.headers[c]: k for c, k in ps.located.columns.items()}
        if "household_size" not in household_headers.values():
            household_headers[MEMBER_ROWS_HEADER] = "household_size"
        member_headers = {ps.located.headers[c]: k for c, k in ps.located.members.items()}
        for key, of_member in HEAD_FIELDS.items():
            if key not in household_headers.values():
                household_headers.update(
                    {h: key for h, k in member_headers.items() if k == of_member}
                )
        id_col = ps.located.column_of("household_id")
        if id_col is not None:
            member_headers[ps.located.headers[id_col]] = "household_id"
        households = _table(ps, "households", out.households, household_headers)
        households.rejected, households.problems = out.rejected, out.problems
        result.append((households, _table(ps, "members", out.members, member_headers)))
    return result


def _table(ps: PersonSheet, key: str, rows: list[Any], headers: dict[str, str]) -> ParsedTable:
    return ParsedTable(
        file=ps.located.grid.file,
        sheet=ps.sheet,
        table=key,
        rows=rows,
        rejected=[],
        problems=[],
        skipped=ps.skipped if key == "households" else {},
        headers=headers,
        township_source=ps.township_source,
        township=ps.households.township,
    )


def _reject(out: _Out, ps: PersonSheet, row: PersonRow, reasons: list[str]) -> None:
    out.rejected.append(
        {
            "source_sheet": ps.sheet,
            "source_row": row.excel_row,
            "raw": ps.located.raw_row(row.cells),
            "reasons": "；".join(dict.fromkeys(reasons)),
        }
    )


def _problem(
    file: str, sheet: str, row: int | None, column: str, value: str, code: str, **p: object
) -> Problem:
    return problem(file, sheet, row, column, value, code, **p)


def _household(
    validator: Validator,
    hid: str,
    rows: list[tuple[PersonSheet, PersonRow]],
    outs: dict[int, _Out],
) -> None:
    """One household rolled up from its member rows (see the module)."""
    heads = [(ps, r) for ps, r in rows if r.member.get("relation") == HEAD]
    head_ps, head = heads[0] if heads else rows[0]
    values = dict(head.household)
    origin = dict.fromkeys(values, (head_ps.sheet, head.excel_row))
    for ps, r in rows:
        if r.household == values:  # the head's fields repeated: nothing to fill or report
            continue
        for key, value in r.household.items():
            if value is None:
                continue
            if values.get(key) is None:
                values[key], origin[key] = value, (ps.sheet, r.excel_row)
            elif value != values[key] and key != "household_id":
                outs[id(ps)].problems.append(
                    _problem(
                        ps.located.grid.file,
                        ps.sheet,
                        r.excel_row,
                        ps.columns.get(key, ""),
                        _shown(value),
                        "W_MEMBER_DISAGREE",
                        field=schema.HOUSEHOLDS.by_key[key].header,
                        head=_shown(values[key]),
                        first=first_seen(origin[key]),
                    )
                )
    for key, of_member in HEAD_FIELDS.items():  # the head is the 户主 row
        if values.get(key) is None:
            values[key] = head.member.get(of_member)
    head_out = outs[id(head_ps)]
    declared = values.get("household_size")
    values["household_size"] = len(rows)  # persons = member rows, whatever 人数 says
    own = [p for p in head.problems if p.column in head_ps.columns.values()]
    checked = list(own)
    validator.apply_rules(
        head_ps.located.grid.file,
        head_ps.sheet,
        head.excel_row,
        values,
        checked,
        head_ps.households,
    )
    head_out.problems.extend(checked[len(own) :])
    if declared is not None and declared != len(rows):
        head_out.problems.append(
            _problem(
                head_ps.located.grid.file,
                head_ps.sheet,
                head.excel_row,
                head_ps.columns.get("household_size", ""),
                str(declared),
                "W_SIZE_MEMBERS",
                household=hid,
                field=_header(head_ps, "household_size"),
                members=len(rows),
            )
        )
    errors = [p.message for p in checked if p.severity == ERROR]
    if errors:
        reason = texts(
            "msg_E_HOUSEHOLD_REJECTED",
            value=hid,
            first=first_seen((head_ps.sheet, head.excel_row)),
            reasons="；".join(dict.fromkeys(errors)),
        )
        for ps, r in rows:
            mine = [*r.errors(), *errors] if r is head else [*r.errors(), reason.zh]
            _reject(outs[id(ps)], ps, r, mine)
        return
    validator.seen.setdefault(("households", hid), (head_ps.sheet, head.excel_row))
    head_out.households.append(_member(values, head_ps.sheet, head.excel_row))
    _members(rows, outs)


def _members(rows: list[tuple[PersonSheet, PersonRow]], outs: dict[int, _Out]) -> None:
    for ps, r in rows:
        if r.errors():
            _reject(outs[id(ps)], ps, r, r.errors())
        else:
            outs[id(ps)].members.append(_member(r.member, ps.sheet, r.excel_row))


def _attach(
    rows: list[tuple[PersonSheet, PersonRow]],
    outs: dict[int, _Out],
    known: tuple[ParsedTable, Any],
    n: int,
    names: Mapping[tuple[str, str], str],
) -> None:
    """Members of a household a household-level sheet of the file holds: they are its
    members; its declared 家庭人口数 against ``n`` member rows (W_SIZE_MEMBERS)."""
    table, row = known
    _size_warning(table, row, n, names)
    _members(rows, outs)


def _size_warning(
    table: ParsedTable, row: Any, n: int, names: Mapping[tuple[str, str], str]
) -> None:
    declared = row.get("household_size")
    if declared is None or declared == n:
        return
    header = next((h for h, k in table.headers.items() if k == "household_size"), "")
    table.problems.append(
        _problem(
            table.file,
            table.sheet,
            row["source_row"],
            names.get((table.sheet, "household_size"), header),
            str(declared),
            "W_SIZE_MEMBERS",
            household=row["household_id"],
            field=header or schema.HOUSEHOLDS.by_key["household_size"].header,
            members=n,
        )
    )


def _header(ps: PersonSheet, key: str) -> str:
    """Field ``key``'s header as the sheet writes it, else its template header."""
    c = ps.located.column_of(key)
    return ps.located.headers[c] if c is not None else schema.HOUSEHOLDS.by_key[key].header


def _bare_groups(tables: Iterable[ParsedTable]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for t in tables:
        for r in t.rows:
            out.setdefault(r["household_id"], []).append(r)
    return out
