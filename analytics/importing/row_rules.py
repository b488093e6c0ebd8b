"""The importer's rules, each written once: cell rules (which fields a row needs, which
numbers must be positive, which codes a field takes) and row rules (across the cells of
one row, and across the rows of a file).

Every row rule is one ``RowRule`` entry of ``ROW_RULES``, its three forms side by side:

- ``check``: the reference, in Python, on one row (the per-row path,
  analytics/importing/validate.py ``Validator``): the problems it finds.
- ``column``: on whole columns (the column-at-a-time path, analytics/importing/by_column.py):
  the rows it *may* find a problem on (a superset of ``check``'s; those rows go through
  ``check``, the others are loaded directly).
- ``sql``: the same as DuckDB conditions on the staged rows (the bulk path,
  analytics/importing/bulk.py): a row matching any of them goes through ``check``.

So a new row rule is one entry here, with its message ``msg_<code>`` in the label table
(analytics/domain/labels.py); tests/test_fast_paths.py and tests/test_bulk_import.py hold
the three forms to the same results. ``UNIQUE_ID`` (a household id once per file) is the
one rule across rows: the per-row path keeps the ids it has seen, the column path checks
them in blocks, the bulk path groups them in SQL.

Sources: ../shared/DOMAIN.md ("Tables and fields", "Metric definitions": an outcome counts
only in the states it belongs to) and the registry-import issue ("Validation: a row report,
nothing lost").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from analytics.domain import idcard, schema
from analytics.domain.labels import LABELS, Both, texts
from analytics.importing.results import ERROR, WARNING, Problem

# Rule code -> severity. Each code's message is ``msg_<code>`` of the label table.
SEVERITY: dict[str, str] = {
    "E_REQUIRED": ERROR,
    "E_NO_COLUMN": ERROR,
    "E_NO_TOWNSHIP": ERROR,
    "E_TOWNSHIP_UNCLEAR": ERROR,
    "E_POSITIVE_INT": ERROR,
    "E_NONNEG_INT": ERROR,
    "E_POSITIVE_NUMBER": ERROR,
    "E_CODE": ERROR,
    "E_DUPLICATE_ID": ERROR,
    "E_GROUP_WITHOUT_VILLAGE": ERROR,
    "W_NUMBER": WARNING,
    "W_DATE_RANGE": WARNING,
    "W_DATE": WARNING,
    "W_MONTH": WARNING,
    "W_YESNO": WARNING,
    "W_ID_CHECK": WARNING,
    "W_ID_BIRTH": WARNING,
    "W_ID_LENGTH": WARNING,
    "W_ID_LEGACY15": WARNING,
    "W_ID_AS_NUMBER": WARNING,
    "W_HOUSEHOLD_ID_AS_NUMBER": WARNING,
    "W_CONTRADICTION": WARNING,
    "W_STATE_DISAGREE": WARNING,
    "W_IMPLIED_ADJUSTMENT": WARNING,
    "W_DUPLICATE_COLUMN": WARNING,
    "W_INVISIBLE": WARNING,
    "W_CELL_TRUNCATED": WARNING,
    "W_CODE": WARNING,
    # person-level sheets rolled up into households (analytics/importing/rollup.py)
    "W_MEMBER_DISAGREE": WARNING,
    "W_SIZE_MEMBERS": WARNING,
    "E_HOUSEHOLD_REJECTED": ERROR,
    # person rules, across the members of a household or a round
    # (analytics/importing/person_rules.py): warnings, every row kept
    "W_NO_HEAD": WARNING,
    "W_TWO_HEADS": WARNING,
    "W_HEAD_SPOUSE_SEX": WARNING,
    "W_RELATION_SEX": WARNING,
    "W_BORN_AFTER": WARNING,
    "W_TOO_OLD": WARNING,
    "W_SCHOOL_AGE": WARNING,
    "W_PERSON_TWO_HOUSEHOLDS": WARNING,
    "W_PERSON_TWO_COUNTIES": WARNING,
}


def problem(
    file: str, sheet: str, row: int | None, column: str, value: str, code: str, **params: object
) -> Problem:
    """A ``Problem`` of rule ``code`` (``SEVERITY``) with its message
    ``msg_<code>`` of the label table, formatted with ``params`` (and ``value``).

    Raises
    ------
    KeyError
        When ``code`` is not a rule code.
    """
    params.setdefault("value", value)
    zh, en = texts(f"msg_{code}", **params)
    return Problem(file, sheet, row, column, value, code, SEVERITY[code], zh, en)


# ------------------------------------------------------------------ cell rules
# Fields whose absence or bad value rejects the row, per table.
REQUIRED: dict[str, tuple[str, ...]] = {
    "households": ("household_id", "village", "household_size", "registry_state"),
    "meetings": ("attendance",),
    "relocation": ("household_id", "persons", "house_area"),
    "villages": ("village",),
    "members": ("household_id",),  # a member row without 户编号 belongs to no household
}
NO_SPACE_FIELDS = frozenset({"province", "county", "township", "village", "group", "site"})
POSITIVE_INT = frozenset({"household_size", "persons"})
NONNEG_INT = frozenset({"attendance", "households", "population", "rural_population"})
POSITIVE_NUMBER = frozenset({"house_area"})
CODE_TABLES = {
    schema.STATE: schema.value_lookup(schema.REGISTRY_STATES | schema.STATES_WITH_ADJUSTMENT),
    schema.ADJUSTMENT: schema.value_lookup(schema.ADJUSTMENTS),
    schema.FINDING: schema.value_lookup(schema.FINDINGS),
    schema.RELATION: schema.value_lookup(schema.RELATIONS),
    schema.SEX: schema.value_lookup(schema.SEXES),
}
# Coded kinds whose unknown value is a warning (W_CODE: the value left empty, the row kept: a
# member with an unreadable relation is still a person), not an error (E_CODE).
LENIENT_CODES = frozenset({schema.RELATION, schema.SEX})
CODE_ALLOWED = {
    schema.STATE: "未脱贫/贫困户、已脱贫/脱贫户、非建档立卡/一般农户",
    schema.ADJUSTMENT: "新增、返贫、拟退出、剔除，或空",
    schema.FINDING: "错评、漏评、错退，或空",
    schema.RELATION: "户主/本人、配偶、之子、之女、之儿媳、之女婿、之孙子、之孙女、之父、之母、"
    "之祖父、之祖母、兄弟姐妹、其他，或 GB/T 4761 代码",
    schema.SEX: "男/1、女/2",
}

# Outcome -> the registry states it belongs to (DOMAIN.md: an outcome counts only there),
# with the reason (zh, en) W_CONTRADICTION gives (label ``msg_why_<outcome>``).
_ALLOWED_STATES: dict[str, frozenset[str]] = {
    "new": frozenset({"nonregistered"}),
    "relapse": frozenset({"exited"}),
    "exit_proposed": frozenset({"remaining_poor"}),
    "removed": frozenset({"remaining_poor", "exited"}),
    "inclusion_error": frozenset({"remaining_poor", "exited"}),
    "exclusion_error": frozenset({"nonregistered"}),
    "wrongful_exit": frozenset({"exited"}),
}
CONTRADICTIONS: dict[str, tuple[frozenset[str], str, str]] = {
    outcome: (states, *LABELS[f"msg_why_{outcome}"]) for outcome, states in _ALLOWED_STATES.items()
}
OUTCOME_FIELDS = ("adjustment", "verification")  # the household fields holding an outcome


# ------------------------------------------------------------------- row rules
@dataclass(frozen=True)
class Sheet:
    """What a row rule knows of the sheet its rows come from.

    Attributes
    ----------
    table : the table kind (``schema.TABLES``).
    fields : the field keys the sheet has a column for.
    township : the township a row without one takes (given at upload, else named in the
        title or by the rest of the workbook), or None.
    unclear : when the rest of the workbook names townships that disagree, its sources
        (both languages) for the message of a row without a township, else None.
    headers : field key -> its column as the report names it ("M 脱贫属性"), for a message
        that names another cell than the one it is reported on.
    places : the province and county (``schema.ABOVE_TOWNSHIP`` key -> name) a row whose
        cell is blank, or a sheet without the column, takes (``LocatedTable.places``).
    """

    table: schema.Table
    fields: frozenset[str]
    township: str | None
    unclear: Both | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    places: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Row:
    """One row as the per-row check sees it.

    Attributes
    ----------
    values : field key -> parsed value (a rule may fill one in: the township).
    flagged : the fields whose cell already has a problem (a required value reported as
        bad is not reported again as missing).
    where : (sheet name, Excel row number), for a rule that says where it saw a value.
    seen : (table key, household id) -> where it was first seen in the file: labels
        (zh, en) or (sheet, Excel row). Shared by every row of one file.
    """

    values: dict
    flagged: frozenset[str] | set[str]
    where: tuple[str, int]
    seen: dict[tuple[str, str], tuple[str, object]] = field(default_factory=dict)


# A problem a row rule finds: (code, field whose column it names or None, value shown,
# message fields).
Finding = tuple[str, str | None, str, dict[str, object]]
Columns = Mapping[str, Sequence[object]]  # field key -> its parsed values, row by row


@dataclass(frozen=True)
class RowRule:
    """One row rule in its three forms (see the module).

    Attributes
    ----------
    code : the rule code of its problems (``SEVERITY``; message ``msg_<code>``).
    tables : the table kinds it applies to.
    check : ``(row, sheet) -> findings``: the reference.
    column : ``(columns, n, sheet) -> rows`` (indices 0..n-1) it may fire on, or None for
        every row; ``columns`` holds the sheet's fields only.
    sql : ``sheet -> conditions`` on the staged rows (one column per field key, quoted) that
        hold where it may fire; "TRUE" for every row.
    """

    code: str
    tables: frozenset[str]
    check: Callable[[Row, Sheet], Iterable[Finding]]
    column: Callable[[Columns, int, Sheet], Iterable[int] | None]
    sql: Callable[[Sheet], list[str]]


def _sql_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _nulls(values: Sequence[object], missing: Callable[[object], bool]) -> Iterator[int]:
    return (j for j, v in enumerate(values) if missing(v))


# E_REQUIRED: a required field's column is there but its value is missing.
def _required_check(row: Row, sheet: Sheet) -> Iterator[Finding]:
    for key in REQUIRED[sheet.table.key]:
        if key in sheet.fields and row.values.get(key) is None and key not in row.flagged:
            yield "E_REQUIRED", key, "", {"field": sheet.table.by_key[key].header}


def _required_column(columns: Columns, n: int, sheet: Sheet) -> Iterator[int]:
    for key in REQUIRED[sheet.table.key]:
        values = columns.get(key)
        if values is not None and None in values:
            yield from _nulls(values, lambda v: v is None)


def _required_sql(sheet: Sheet) -> list[str]:
    return [f'"{key}" IS NULL' for key in REQUIRED[sheet.table.key] if key in sheet.fields]


# E_NO_TOWNSHIP: a row without a township takes the sheet's; without either, an error
# (E_TOWNSHIP_UNCLEAR, naming them, when the workbook's sources disagree). A row without a
# province or county takes the sheet's where it names one (``Sheet.places``), silently:
# a blank county is one unnamed county.
def _township_check(row: Row, sheet: Sheet) -> Iterator[Finding]:
    for key, name in sheet.places.items():
        if not row.values.get(key):
            row.values[key] = name
    if not row.values.get("township"):
        if sheet.township:
            row.values["township"] = sheet.township
        elif sheet.unclear is not None:
            yield "E_TOWNSHIP_UNCLEAR", None, "", {"sources": sheet.unclear}
        else:
            yield "E_NO_TOWNSHIP", None, "", {}


def _township_column(columns: Columns, n: int, sheet: Sheet) -> Iterable[int] | None:
    # a sheet without a province or county column takes the sheet's in the column path
    # (by_column.ByColumn, the bulk path): only its blank cells go through the check
    blanks = [j for key in sheet.places if key in columns for j in _nulls(columns[key], _blank)]
    if "township" not in columns:
        return blanks if sheet.township else None
    townships = columns["township"]
    return blanks if all(townships) else [*_nulls(townships, _blank), *blanks]


def _blank(v: object) -> bool:
    return not v


def _township_sql(sheet: Sheet) -> list[str]:
    blanks = [f'"{key}" IS NULL' for key in sheet.places if key in sheet.fields]
    if "township" not in sheet.fields:
        return blanks if sheet.township else ["TRUE"]
    return ['"township" IS NULL', *blanks]


# E_GROUP_WITHOUT_VILLAGE: a meeting held in a group must name its village.
def _group_check(row: Row, sheet: Sheet) -> Iterator[Finding]:
    v = row.values
    if v.get("group") and not v.get("village"):
        yield "E_GROUP_WITHOUT_VILLAGE", "group", v["group"], {}


def _group_column(columns: Columns, n: int, sheet: Sheet) -> Iterator[int]:
    groups = columns.get("group")
    if groups is None:
        return iter(())
    villages = columns.get("village") or [None] * n
    return (j for j, (g, v) in enumerate(zip(groups, villages, strict=True)) if g and not v)


def _group_sql(sheet: Sheet) -> list[str]:
    if "group" not in sheet.fields:
        return []
    village = ' AND "village" IS NULL' if "village" in sheet.fields else ""
    return [f'("group" IS NOT NULL{village})']


# E_DUPLICATE_ID: a household id once per file (across its sheets of one table).
def first_seen(where: tuple[str, object]) -> Both:
    """Where a household id was first seen, as the message says it ("户信息 第 5 行"): from
    (sheet, Excel row), or the labels already made."""
    sheet, row = where
    if isinstance(row, str):
        return Both(sheet, row)
    return texts("msg_first_seen", sheet=sheet, row=row)


def _unique_check(row: Row, sheet: Sheet) -> Iterator[Finding]:
    hid = row.values.get("household_id")
    if not hid:
        return
    key = (sheet.table.key, hid)
    first = row.seen.get(key)
    if first:
        yield "E_DUPLICATE_ID", "household_id", hid, {"first": first_seen(first)}
    else:
        row.seen[key] = row.where


def _unique_column(columns: Columns, n: int, sheet: Sheet) -> Iterator[int]:
    # Across rows: by_column.ByColumn.take checks the ids of the rows it loads in blocks.
    return iter(())


def _unique_sql(sheet: Sheet) -> list[str]:
    # Across rows: bulk._Run.go groups the ids in SQL (_bulk_first).
    return []


# W_STATE_DISAGREE: 户类型 (household_type) beside 脱贫属性 / 建档立卡状态 (registry_state).
# The registry state decides; a row without one takes 户类型's; a blank cell is never a
# disagreement (DOMAIN.md "What offices really export"). 户类型's own value keeps its state.
def _base(code: object) -> str | None:
    """The registry state of a state code (``schema.split_state``); None for no code."""
    return schema.split_state(code)[0] if isinstance(code, str) else None


def _state_fires(state: object, kind: object) -> bool:
    return isinstance(kind, str) and (state is None or _base(state) != kind or "+" in kind)


def _state_check(row: Row, sheet: Sheet) -> Iterator[Finding]:
    v = row.values
    code, kind = v.get("registry_state"), _base(v.get("household_type"))
    if kind is None:
        return
    if code is None:
        v["registry_state"] = v["household_type"]  # split by W_IMPLIED_ADJUSTMENT if need be
    v["household_type"] = kind
    state = _base(code)
    if state is not None and state != kind:
        yield (
            "W_STATE_DISAGREE",
            "household_type",
            LABELS[kind][0],
            {
                "state_header": _header(sheet, "registry_state"),
                "state": texts(state),
                "type_header": _header(sheet, "household_type"),
            },
        )


def _state_column(columns: Columns, n: int, sheet: Sheet) -> Iterator[int]:
    kinds = columns.get("household_type")
    if kinds is None:
        return iter(())
    states = columns.get("registry_state") or [None] * n
    pairs = zip(states, kinds, strict=True)
    return (j for j, (s, k) in enumerate(pairs) if _state_fires(s, k))


def _state_sql(sheet: Sheet) -> list[str]:
    if "household_type" not in sheet.fields:
        return []
    state = (
        '"registry_state" IS NULL OR split_part("registry_state", \'+\', 1) <> "household_type" OR '
        if "registry_state" in sheet.fields
        else "TRUE OR "
    )
    return [f'("household_type" IS NOT NULL AND ({state}contains("household_type", \'+\')))']


def _header(sheet: Sheet, key: str) -> str:
    """Field ``key``'s column as the report names it, else its template header."""
    return sheet.headers.get(key) or sheet.table.by_key[key].header


# W_IMPLIED_ADJUSTMENT: a registry state that names an adjustment too (脱贫属性 预脱贫 ->
# remaining_poor and exit_proposed; schema.STATES_WITH_ADJUSTMENT) is split into the two
# fields; an explicit 动态管理结果 that says otherwise wins, with a warning.
def _implied_check(row: Row, sheet: Sheet) -> Iterator[Finding]:
    v = row.values
    code = v.get("registry_state")
    if not isinstance(code, str):
        return
    state, implied = schema.split_state(code)
    if implied is None:
        return
    v["registry_state"] = state
    explicit = v.get("adjustment")
    if explicit is None:
        v["adjustment"] = implied
    elif explicit != implied:
        yield (
            "W_IMPLIED_ADJUSTMENT",
            "adjustment",
            LABELS[explicit][0],
            {
                "state_header": _header(sheet, "registry_state"),
                "implied": texts(implied),
                "adjustment_header": _header(sheet, "adjustment"),
            },
        )


def _implied_column(columns: Columns, n: int, sheet: Sheet) -> Iterator[int]:
    # A state taken from 户类型 (W_STATE_DISAGREE) is on a row that rule flags.
    states = columns.get("registry_state")
    if states is None or not any(s in schema.STATES_WITH_ADJUSTMENT for s in set(states)):
        return iter(())
    return (j for j, s in enumerate(states) if s in schema.STATES_WITH_ADJUSTMENT)


def _implied_sql(sheet: Sheet) -> list[str]:
    # A state taken from 户类型 (W_STATE_DISAGREE) is on a row that rule sends through check.
    if "registry_state" not in sheet.fields:
        return []
    codes = ", ".join(_sql_str(c) for c in schema.STATES_WITH_ADJUSTMENT)
    return [f'"registry_state" IN ({codes})']


# W_CONTRADICTION: an outcome in a registry state it does not belong to.
def _contradiction(state: object, outcome: object) -> bool:
    # Parsed outcomes and states are codes (str) or None: a missing one contradicts nothing.
    return bool(
        state and isinstance(outcome, str) and outcome and state not in CONTRADICTIONS[outcome][0]
    )


def _contradiction_check(row: Row, sheet: Sheet) -> Iterator[Finding]:
    v = row.values
    state = v.get("registry_state")
    if not isinstance(state, str) or not state:
        return  # no state, no contradiction
    state = schema.split_state(state)[0]  # split already on import (W_IMPLIED_ADJUSTMENT)
    for key in OUTCOME_FIELDS:
        outcome = v.get(key)
        if outcome is not None and _contradiction(state, outcome):
            _, why, why_en = CONTRADICTIONS[outcome]
            yield (
                "W_CONTRADICTION",
                key,
                LABELS[outcome][0],
                {"outcome": texts(outcome), "state": texts(state), "why": Both(why, why_en)},
            )


def _contradiction_column(columns: Columns, n: int, sheet: Sheet) -> Iterator[int]:
    states = columns.get("registry_state") or [None] * n
    for key in OUTCOME_FIELDS:
        outcomes = columns.get(key)
        if outcomes is None:
            continue
        pairs = set(zip(states, outcomes, strict=True))
        if any(_contradiction(s, o) for s, o in pairs):
            pairs_of = zip(states, outcomes, strict=True)
            yield from (j for j, (s, o) in enumerate(pairs_of) if _contradiction(s, o))


def _contradiction_sql(sheet: Sheet) -> list[str]:
    if "registry_state" not in sheet.fields:
        return []
    out = []
    for key in OUTCOME_FIELDS:
        if key not in sheet.fields:
            continue
        for outcome, (allowed, *_) in CONTRADICTIONS.items():
            ok = ", ".join(_sql_str(s) for s in sorted(allowed))
            out.append(
                f'("{key}" = {_sql_str(outcome)} AND "registry_state" IS NOT NULL '
                f'AND "registry_state" NOT IN ({ok}))'
            )
    return out


# FROM_ID (fills, never reports): a member's sex and birth date, where the row has none,
# from a valid ID number (DOMAIN.md "What offices really export": from the ID number where
# the columns are absent). An ID number with a problem of its own gives nothing.
def _from_id_check(row: Row, sheet: Sheet) -> Iterator[Finding]:
    v = row.values
    number = v.get("id_number")
    if not isinstance(number, str) or "id_number" in row.flagged:
        return
    if v.get("sex") is None or v.get("birth_date") is None:
        sex, birth = idcard.sex(number), idcard.birth_date(number)
        if v.get("sex") is None:
            v["sex"] = sex
        if v.get("birth_date") is None:
            v["birth_date"] = birth
    yield from ()


def _from_id_column(columns: Columns, n: int, sheet: Sheet) -> Iterable[int] | None:
    if "id_number" not in columns:
        return ()
    numbers = columns["id_number"]
    sexes = columns.get("sex") or [None] * n
    births = columns.get("birth_date") or [None] * n
    return (
        j
        for j, (i, s, b) in enumerate(zip(numbers, sexes, births, strict=True))
        if i is not None and (s is None or b is None)
    )


def _from_id_sql(sheet: Sheet) -> list[str]:
    if "id_number" not in sheet.fields:
        return []
    empty = [f'"{k}" IS NULL' for k in ("sex", "birth_date") if k in sheet.fields]
    return ['"id_number" IS NOT NULL' + (f" AND ({' OR '.join(empty)})" if empty else "")]


_ALL = frozenset(schema.TABLES)
_PLACED = frozenset(schema.PLACED_TABLES)  # members take their household's place
UNIQUE_ID = RowRule(
    "E_DUPLICATE_ID",
    frozenset({"households", "relocation"}),
    _unique_check,
    _unique_column,
    _unique_sql,
)
# In report order: a row's problems are listed in this order. The registry state is settled
# first (from 户类型, then split from its implied adjustment): the rules after it read it.
ROW_RULES: tuple[RowRule, ...] = (
    RowRule("W_STATE_DISAGREE", frozenset({"households"}), _state_check, _state_column, _state_sql),
    RowRule(
        "W_IMPLIED_ADJUSTMENT",
        frozenset({"households"}),
        _implied_check,
        _implied_column,
        _implied_sql,
    ),
    RowRule("E_REQUIRED", _ALL, _required_check, _required_column, _required_sql),
    RowRule("E_NO_TOWNSHIP", _PLACED, _township_check, _township_column, _township_sql),
    RowRule(
        "E_GROUP_WITHOUT_VILLAGE",
        frozenset({"meetings"}),
        _group_check,
        _group_column,
        _group_sql,
    ),
    UNIQUE_ID,
    RowRule(
        "W_CONTRADICTION",
        frozenset({"households"}),
        _contradiction_check,
        _contradiction_column,
        _contradiction_sql,
    ),
    RowRule("FROM_ID", frozenset({"members"}), _from_id_check, _from_id_column, _from_id_sql),
)


def rules_of(table_key: str) -> tuple[RowRule, ...]:
    """The row rules of table kind ``table_key``, in report order."""
    kept = _RULES_OF.get(table_key)
    if kept is None or kept[0] is not ROW_RULES:  # the table of rules is the one in force
        kept = _RULES_OF[table_key] = (
            ROW_RULES,
            tuple(r for r in ROW_RULES if table_key in r.tables),
        )
    return kept[1]


# rules_of's answers (asked once per row), with the ROW_RULES they were read from
_RULES_OF: dict[str, tuple[tuple[RowRule, ...], tuple[RowRule, ...]]] = {}


def check_row(row: Row, sheet: Sheet) -> list[Finding]:
    """Every row rule's ``check`` on one row, in report order."""
    return [f for rule in rules_of(sheet.table.key) for f in rule.check(row, sheet)]


def flagged_rows(columns: Columns, n: int, sheet: Sheet) -> list[bool]:
    """The column form of every row rule: True for each of the ``n`` rows some rule may fire
    on (they go through ``check_row``)."""
    flagged = [False] * n
    for rule in rules_of(sheet.table.key):
        rows = rule.column(columns, n, sheet)
        if rows is None:
            return [True] * n
        for j in rows:
            flagged[j] = True
    return flagged


def sql_conditions(sheet: Sheet) -> list[str]:
    """The SQL form of every row rule: conditions on the staged rows, any of which sends a
    row through ``check_row``."""
    return [c for rule in rules_of(sheet.table.key) for c in rule.sql(sheet)]
