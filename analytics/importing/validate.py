"""Turn a located table into typed rows and a row report.

Every data row ends up in exactly one place: loaded (``ParsedTable.rows``), rejected with
its reasons (``ParsedTable.rejected``), or skipped as a blank, totals, numbering or
signature line (``ParsedTable.skipped``). Every problem names file, sheet, Excel row,
column and value, with a rule code from ``RULES``. Rules: ../shared/DOMAIN.md and the
registry-import issue ("Validation: a row report, nothing lost").
"""

from __future__ import annotations

import datetime as dt
import math
import operator
import re
import unicodedata
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from itertools import compress, repeat

from openpyxl.utils import get_column_letter

from analytics.domain import schema
from analytics.domain.labels import label
from analytics.importing import columns
from analytics.importing.read import LocatedTable

ERROR, WARNING = "error", "warning"

# code -> (severity, Chinese message, English message). Messages take str.format fields.
RULES: dict[str, tuple[str, str, str]] = {
    "E_REQUIRED": (ERROR, "缺少必填项“{field}”", "required value '{field}' is missing"),
    "E_NO_COLUMN": (
        ERROR,
        "表中没有“{field}”列，所有行都无法导入",
        "the sheet has no '{field}' column: no row can be loaded",
    ),
    "E_NO_TOWNSHIP": (
        ERROR,
        "无法确定乡镇：乡镇为空（或没有乡镇列），标题中也没有乡镇名，上传时也未填写",
        "no township: the township is empty (or there is no such column), none in the title,"
        " none given at upload",
    ),
    "E_POSITIVE_INT": (
        ERROR,
        "“{field}”应为正整数，实际为“{value}”",
        "'{field}' must be a positive whole number, got '{value}'",
    ),
    "E_NONNEG_INT": (
        ERROR,
        "“{field}”应为不小于 0 的整数，实际为“{value}”",
        "'{field}' must be a whole number >= 0, got '{value}'",
    ),
    "E_POSITIVE_NUMBER": (
        ERROR,
        "“{field}”应为正数，实际为“{value}”",
        "'{field}' must be a positive number, got '{value}'",
    ),
    "E_CODE": (
        ERROR,
        "“{field}”的值“{value}”无法识别，可用的值：{allowed}",
        "'{field}' value '{value}' is not recognised; accepted: {allowed}",
    ),
    "E_DUPLICATE_ID": (
        ERROR,
        "户编号“{value}”在本文件中重复，首次出现在“{first}”",
        "household id '{value}' repeats in this file; first seen at {first_en}",
    ),
    "E_GROUP_WITHOUT_VILLAGE": (
        ERROR,
        "填写了村民小组“{value}”但没有行政村",
        "group '{value}' is given without a village",
    ),
    "W_NUMBER": (
        WARNING,
        "“{field}”不是数字：“{value}”，按空值处理",
        "'{field}' is not a number: '{value}'; kept as empty",
    ),
    "W_DATE_RANGE": (
        WARNING,
        "“{field}”的日期“{value}”不在合理范围（1990 年至明年）内，按空值处理",
        "'{field}' date '{value}' is outside the plausible range (1990 to next year); kept as"
        " empty",
    ),
    "W_DATE": (
        WARNING,
        "“{field}”不是可识别的日期：“{value}”，按空值处理",
        "'{field}' is not a recognisable date: '{value}'; kept as empty",
    ),
    "W_YESNO": (
        WARNING,
        "“{field}”应为是/否：“{value}”，按空值处理",
        "'{field}' should be yes/no: '{value}'; kept as empty",
    ),
    "W_ID_CHECK": (
        WARNING,
        "身份证号校验位错误（GB 11643 MOD 11-2 应为“{expected}”）",
        "ID number check character is wrong (GB 11643 MOD 11-2 expects '{expected}')",
    ),
    "W_ID_BIRTH": (
        WARNING,
        "身份证号中的出生日期无效",
        "the ID number's birth date is not a valid date",
    ),
    "W_ID_LENGTH": (
        WARNING,
        "身份证号应为 18 位，实际 {length} 位",
        "ID number should have 18 characters, has {length}",
    ),
    "W_ID_LEGACY15": (
        WARNING,
        "15 位旧身份证号，请核实并更新为 18 位",
        "legacy 15-digit ID number: verify and update to 18 digits",
    ),
    "W_ID_AS_NUMBER": (
        WARNING,
        "身份证号以数字形式保存，Excel 只保留 15 位有效数字，末尾几位已变为 0，无法恢复，"
        "请核实原始号码并以文本格式填写",
        "ID number was stored as a number: Excel keeps 15 significant digits, so its last "
        "digits were turned into zeros and cannot be recovered; re-enter it as text",
    ),
    "W_HOUSEHOLD_ID_AS_NUMBER": (
        WARNING,
        "户编号以数字形式保存且超过 15 位，末尾数字可能已丢失",
        "household id stored as a number with more than 15 digits: trailing digits may be lost",
    ),
    "W_CONTRADICTION": (
        WARNING,
        "“{outcome}”与建档立卡状态“{state}”矛盾：{why}",
        "'{outcome}' contradicts registry state '{state}': {why_en}",
    ),
    "W_DUPLICATE_COLUMN": (
        WARNING,
        "列“{value}”与前面的列重复，已忽略",
        "column '{value}' repeats an earlier column and was ignored",
    ),
    "W_INVISIBLE": (
        WARNING,
        "“{field}”含有不可见的格式字符（{chars}，如从右到左覆盖、零宽字符），已删除",
        "'{field}' held invisible formatting characters ({chars}: right-to-left override, "
        "zero-width ...); they were removed",
    ),
    "W_CELL_TRUNCATED": (
        WARNING,
        "“{field}”正好 32,767 个字符，是 Excel 单元格的上限，内容多半已被截断，请核实",
        "'{field}' is exactly 32,767 characters long, Excel's limit for a cell: it was "
        "probably cut off; check it",
    ),
}


@dataclass(frozen=True)
class Problem:
    """One line of the row report.

    ``row`` is the Excel row number the user sees (None for a sheet-level problem);
    ``column`` is "C 户主身份证号" (letter and header); ``value`` is already masked.
    """

    file: str
    sheet: str
    row: int | None
    column: str
    value: str
    code: str
    severity: str
    message: str
    message_en: str


@dataclass
class ParsedTable:
    """The outcome of validating one located table.

    ``rows`` are the loadable rows as dicts of field key -> typed value, each with
    ``source_sheet`` and ``source_row``. ``rejected`` rows keep their raw cells (header ->
    text) and reasons. ``skipped`` counts blank / total / numbering / footer rows.
    """

    file: str
    sheet: str
    table: str
    rows: list[dict]
    rejected: list[dict]
    problems: list[Problem]
    skipped: dict[str, int]
    headers: dict[str, str]
    township_source: str

    @property
    def errors(self) -> int:
        """Number of rejected rows."""
        return len(self.rejected)


@dataclass
class _Row:
    """Working state of one row while it is validated."""

    excel_row: int
    values: dict = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


# ---------------------------------------------------------------- value parsers
_SPACES = re.compile(r"\s+")
_UNIT_SUFFIX = re.compile(r"(人次|人|户|元|平方米|平米|m2|m²|㎡|场|个|年)$")
_DATE_TEXT = re.compile(r"^(\d{4})\s*[-./年]\s*(\d{1,2})\s*[-./月]\s*(\d{1,2})\s*日?$")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
_SCIENTIFIC = re.compile(r"\d(\.\d+)?E\+?\d+")
_DATE_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_EXCEL_EPOCH = dt.date(1899, 12, 30)
EXAMPLE_MARK = "(示例)"  # NFKC of （示例）: marks the blank template's example rows
# Invisible formatting characters (Unicode category Cf) that turn up in pasted text: soft
# hyphen, Arabic and Syriac marks, Mongolian vowel separator, zero-width space / joiners,
# left-to-right and right-to-left marks, embeddings and overrides (U+202E reverses what
# follows on screen), word joiner and invisible operators, isolates, byte order mark,
# interlinear annotation, tag characters. clean_text drops them; W_INVISIBLE reports them.
INVISIBLE = re.compile(
    "[\u00ad\u0600-\u0605\u061c\u06dd\u070f\u08e2\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]"
)
DATE_FLOOR = dt.date(1990, 1, 1)  # no survey or meeting of the registry predates this
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"


def clean_text(value: object) -> str:
    """Text of a cell: NFKC (full-width to half-width), trimmed, inner spaces collapsed.

    Numbers become their shortest text (4.0 -> "4"); None becomes "".
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return _number_text(value)
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M") if value.time() != dt.time() else str(value.date())
    s = unicodedata.normalize("NFKC", str(value))
    # control characters (NUL, BEL, ...) and invisible formatting characters (right-to-left
    # override, zero-width space, ...: INVISIBLE) are dropped; tabs and line breaks become
    # spaces
    s = "".join(ch for ch in s if ch in "\t\n\r" or unicodedata.category(ch) not in ("Cc", "Cf"))
    return _SPACES.sub(" ", s).strip()


def _number_text(v: float) -> str:
    if v.is_integer():
        return format(Decimal(repr(v)), "f").split(".")[0]
    return repr(v)


def parse_number(value: object) -> float | None:
    """A number from a number cell or text ("1,234.5", "３", "3000元"); None if not one.

    Raises nothing; an empty cell is None too (callers tell the two apart).
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        x = float(value)
        return x if math.isfinite(x) else None  # NaN / inf (a Parquet float): not a count
    s = clean_text(value).replace(",", "").replace(" ", "")
    s = _UNIT_SUFFIX.sub("", s)
    if not s or not _PLAIN_NUMBER.fullmatch(s):
        return None  # "1e1", "NaN", "Infinity": not how anyone writes a count or an income
    try:
        d = Decimal(s)
    except InvalidOperation:
        return None
    return float(d) if d.is_finite() else None


def parse_whole(value: object) -> int | None:
    """A whole number ("4", 4.0, "4人"); None for empty, fractions and text."""
    n = parse_number(value)
    if n is None or not float(n).is_integer():
        return None
    return int(n)


def parse_date(value: object) -> dt.date | None:
    """A date from a date cell, an Excel serial number, or text.

    Text forms: ``2017-07-08``, ``2017/7/8``, ``2017.7.8``, ``2017年7月8日``, ``20170708``,
    and a serial number written as text. Returns None when none applies.
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _serial_date(float(value))
    s = clean_text(value).replace(" ", "")
    if not s:
        return None
    m = _DATE_TEXT.match(s) or _DATE_COMPACT.match(s)
    if m:
        try:
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            return None
    s = s.split(" ")[0]
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}(T|\s)?.*", s):
        try:
            return dt.date.fromisoformat(s[:10])
        except ValueError:
            return None
    n = parse_number(s)
    return _serial_date(n) if n is not None else None


def _serial_date(n: float) -> dt.date | None:
    # Excel 1900 date system; serials 20000..80000 cover 1954..2119.
    if 20000 <= n <= 80000:
        return _EXCEL_EPOCH + dt.timedelta(days=int(n))
    return None


def parse_yesno(value: object) -> bool | None:
    """True / False from 是/否, √/×, 有/无, Y/N, 1/0, yes/no; None if empty or unknown."""
    if isinstance(value, bool):
        return value
    s = clean_text(value).lower().replace(" ", "")
    if s in schema.YES:
        return True
    if s in schema.NO:
        return False
    return None


def id_check_char(first17: str) -> str:
    """The GB 11643-1999 check character (ISO 7064 MOD 11-2) of the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK[total % 11]


def mask_id(value: str) -> str:
    """Masks an ID number: region code (6) and the last character kept, the rest '*'."""
    if len(value) <= 7:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 7) + value[-1]


def mask_name(value: str) -> str:
    """Masks a name: the surname (first character) kept, the rest '*'."""
    return value[:1] + "*" * (len(value) - 1) if value else value


# -------------------------------------------------------------- the validator
_CODE_TABLES = {
    schema.STATE: schema.value_lookup(schema.REGISTRY_STATES),
    schema.ADJUSTMENT: schema.value_lookup(schema.ADJUSTMENTS),
    schema.FINDING: schema.value_lookup(schema.FINDINGS),
}
_CODE_ALLOWED = {
    schema.STATE: "未脱贫/贫困户、已脱贫/脱贫户、非建档立卡/一般农户",
    schema.ADJUSTMENT: "新增、返贫、拟退出、剔除，或空",
    schema.FINDING: "错评、漏评、错退，或空",
}
# Fields whose absence or bad value rejects the row, per table.
REQUIRED = {
    "households": ("household_id", "village", "household_size", "registry_state"),
    "meetings": ("attendance",),
    "relocation": ("household_id", "persons", "house_area"),
    "villages": ("village",),
}
NO_SPACE_FIELDS = frozenset({"township", "village", "group", "site"})
POSITIVE_INT = {"household_size", "persons"}
NONNEG_INT = {"attendance", "households", "population", "rural_population"}
POSITIVE_NUMBER = {"house_area"}
# (outcome, states it is allowed on, zh reason, en reason) for W_CONTRADICTION.
CONTRADICTIONS = {
    "new": ({"nonregistered"}, "新增只适用于非建档立卡户", "new applies to non-registered only"),
    "relapse": ({"exited"}, "返贫只适用于已脱贫户", "relapse applies to exited households only"),
    "exit_proposed": (
        {"remaining_poor"},
        "拟退出只适用于未脱贫户",
        "exit_proposed applies to remaining-poor households only",
    ),
    "removed": (
        {"remaining_poor", "exited"},
        "剔除只适用于建档立卡户",
        "removed applies to registered households only",
    ),
    "inclusion_error": (
        {"remaining_poor", "exited"},
        "错评只适用于建档立卡户，不计入错评",
        "inclusion_error applies to registered households only; not counted",
    ),
    "exclusion_error": (
        {"nonregistered"},
        "漏评只适用于非建档立卡户，不计入漏评",
        "exclusion_error applies to non-registered households only; not counted",
    ),
    "wrongful_exit": (
        {"exited"},
        "错退只适用于已脱贫户，不计入错退",
        "wrongful_exit applies to exited households only; not counted",
    ),
}


def problem(
    file: str, sheet: str, row: int | None, column: str, value: str, code: str, **params: object
) -> Problem:
    """Builds a Problem from a rule code of ``RULES`` and its message fields."""
    severity, zh, en = RULES[code]
    params.setdefault("value", value)
    return Problem(
        file, sheet, row, column, value, code, severity, zh.format(**params), en.format(**params)
    )


def missing_columns(located: LocatedTable) -> list[Problem]:
    """One sheet-level E_NO_COLUMN error per required field (``REQUIRED``) the located table
    has no column for; the message names the unrecognised header most like it, if any
    (``LocatedTable.proposals``)."""
    grid, table = located.grid, located.table
    proposed = {key: header for header, key in located.proposals.items()}
    out = []
    for key in REQUIRED[table.key]:
        if located.column_of(key) is not None:
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
        # (table, household id) -> where first seen: labels, or (sheet, Excel row) (_labels)
        self._seen_ids: dict[tuple[str, str], tuple[str, object]] = {}

    def parse(self, located: LocatedTable, *, by_column: bool = True) -> ParsedTable:
        """Validates every data row of ``located``; see ``ParsedTable``.

        ``by_column`` (the default) parses a column at a time (``_ByColumn``): each distinct
        value once, and the clean text, ID numbers and numbers of large columns in bulk
        (``analytics.columns``); a row that is plainly data, has no error and raises no row
        rule is then put together directly. Every other row goes through the per-row code
        below, as with ``by_column=False``, which parses every cell on its own: the
        reference the fast path is tested against (tests/test_fast_paths.py).
        """
        grid, table = located.grid, located.table
        file, sheet = grid.file, grid.sheet
        colname = {c: f"{get_column_letter(c + 1)} {located.headers[c]}" for c in located.columns}
        township_col = located.column_of("township")
        file_township = self.township or located.title_township
        township_source = (
            "column"
            if township_col is not None
            else ("upload" if self.township else ("title" if file_township else "none"))
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
        skipped = {"blank": 0, "total": 0, "numbering": 0, "footer": 0, "header": 0, "example": 0}
        lookup = schema.header_lookup(table, located.spellings)
        rows: list[dict] = []
        rejected: list[dict] = []
        problems = list(sheet_problems)
        id_col = located.column_of("household_id")
        in_footer = False
        fast = (
            _ByColumn(self, located, colname, file_township)
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
            kind = (
                "blank"
                if i in grid.merged_only
                else _skip_kind(cells, id_col, i == located.data_start, in_footer)
            )
            if not kind and _repeats_header(cells, located.columns, lookup):
                kind = "header"  # two tables pasted one under the other
            if kind:
                skipped[kind] += 1
                in_footer = in_footer or kind == "footer"
                continue
            row = _Row(excel_row=grid.row_number(i))
            if fast is not None:
                fast.fill(row, i)
            else:
                for c, key in located.columns.items():
                    self._cell(file, sheet, row, table, key, cells[c], colname[c])
            self._row_rules(file, sheet, row, table, colname, located, file_township)
            errors = [p.message for p in row.problems if p.severity == ERROR] + sheet_errors
            problems.extend(row.problems)
            if errors:
                raw = {
                    (located.headers.get(c) or get_column_letter(c + 1)): clean_text(v)
                    for c, v in enumerate(cells)
                    if v is not None
                }
                rejected.append(
                    {
                        "source_sheet": sheet,
                        "source_row": row.excel_row,
                        "raw": raw,
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
        )

    def data_ids(self, located: LocatedTable) -> list[tuple[int, object]]:
        """(Excel row, household id) of every row of ``located`` that ``parse`` would not
        skip, by the same tests in the same order (for analytics/importing/bulk.py, which must know
        which rows are data before it parses them)."""
        grid, table = located.grid, located.table
        lookup = schema.header_lookup(table, located.spellings)
        id_col = located.column_of("household_id")
        out: list[tuple[int, object]] = []
        in_footer = False
        for i in range(located.data_start, len(grid.rows)):
            cells = grid.rows[i]
            kind = (
                "blank"
                if i in grid.merged_only
                else _skip_kind(cells, id_col, i == located.data_start, in_footer)
            )
            if not kind and _repeats_header(cells, located.columns, lookup):
                kind = "header"
            if kind:
                in_footer = in_footer or kind == "footer"
                continue
            hid = None
            if id_col is not None:
                col = f"{get_column_letter(id_col + 1)} {located.headers[id_col]}"
                hid = self._cell_result(
                    grid.file, grid.sheet, table, "household_id", cells[id_col], col
                )[0]
            out.append((grid.row_number(i), hid))
        return out

    def _cell_result(self, file, sheet, table, key, raw, col) -> tuple[object, tuple]:
        """``_cell`` of one value on its own: (value, problems with row 0)."""
        row = _Row(excel_row=0)
        self._cell(file, sheet, row, table, key, raw, col)
        return row.values[key], tuple(row.problems)

    # One cell: parse by kind, report what is wrong with it.
    def _cell(self, file, sheet, row: _Row, table, key, raw, col) -> None:
        f = table.by_key[key]
        text = clean_text(raw)
        out = None

        def add(code: str, **params: object) -> None:
            is_id = f.kind == schema.ID_NUMBER
            shown = mask_id(text.replace(" ", "").upper()) if is_id else text
            row.problems.append(
                problem(file, sheet, row.excel_row, col, shown, code, field=f.header, **params)
            )

        if raw.__class__ is str:
            found = INVISIBLE.findall(raw)  # type: ignore[arg-type]
            if found:
                chars = ", ".join(f"U+{ord(c):04X}" for c in dict.fromkeys(found))
                add("W_INVISIBLE", chars=chars)
            if len(raw) == columns.EXCEL_CELL_CHARS:  # type: ignore[arg-type]
                add("W_CELL_TRUNCATED")
        if f.kind == schema.ID_NUMBER:
            out = self._id_number(raw, text, add)
        elif not text:
            out = None
        elif f.kind == schema.TEXT:
            # Place names and Chinese names hold no spaces: "孔兴 村" is 孔兴村, not a new village.
            out = _SPACES.sub("", text) if key in NO_SPACE_FIELDS else text
            if key == "household_id" and isinstance(raw, float) and len(text) > 15:
                add("W_HOUSEHOLD_ID_AS_NUMBER")
        elif f.kind == schema.INT:
            out = parse_whole(raw)
            if key in POSITIVE_INT and (out is None or out <= 0):
                add("E_POSITIVE_INT")
                out = None
            elif key in NONNEG_INT and (out is None or out < 0):
                add("E_NONNEG_INT")
                out = None
            elif out is None:
                add("W_NUMBER")
        elif f.kind == schema.NUMBER:
            out = parse_number(raw)
            if key in POSITIVE_NUMBER and (out is None or out <= 0):
                add("E_POSITIVE_NUMBER")
                out = None
            elif out is None:
                add("W_NUMBER")
        elif f.kind == schema.DATE:
            out = parse_date(raw)
            if out is None:
                add("W_DATE")
            elif not DATE_FLOOR <= out <= dt.date.today() + dt.timedelta(days=366):
                # 1900-01-01 (a date cell holding 1) would make its round the "earliest"
                add("W_DATE_RANGE")
                out = None
        elif f.kind == schema.YESNO:
            out = parse_yesno(raw)
            if out is None:
                add("W_YESNO")
        elif f.kind in _CODE_TABLES:
            compact = text.replace(" ", "")
            if compact in schema.NO_OUTCOME and f.kind != schema.STATE:
                out = None
            else:
                codes = _CODE_TABLES[f.kind]
                out = codes.get(compact) or codes.get(compact.lower())
                if out is None:
                    add("E_CODE", allowed=_CODE_ALLOWED[f.kind])
        row.values[key] = out

    @staticmethod
    def _id_number(raw, text: str, add) -> str | None:
        if not text:
            return None
        value = text.replace(" ", "").upper()
        if (isinstance(raw, int | float) and not isinstance(raw, bool)) or _SCIENTIFIC.fullmatch(
            value
        ):
            # a number cell, or a CSV written from one ("5.30921E+17"): digits already lost
            add("W_ID_AS_NUMBER")
            return text
        if re.fullmatch(r"\d{17}[\dX]", value):
            expected = id_check_char(value[:17])
            if value[17] != expected:
                add("W_ID_CHECK", expected=expected)
            try:
                dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
            except ValueError:
                add("W_ID_BIRTH")
        elif re.fullmatch(r"\d{15}", value):
            add("W_ID_LEGACY15")
        else:
            add("W_ID_LENGTH", length=len(value))
        return value

    # Rules across cells of one row, and across rows of the file. A new rule must be known to
    # the rows loaded without it too: _ByColumn._plain_rows and analytics/importing/bulk.py
    # (classify).
    def _row_rules(self, file, sheet, row: _Row, table, colname, located, file_township) -> None:
        v = row.values
        for key in REQUIRED[table.key]:
            c = located.column_of(key)
            if c is not None and v.get(key) is None and not _has_problem(row, colname[c]):
                row.problems.append(
                    problem(
                        file,
                        sheet,
                        row.excel_row,
                        colname[c],
                        "",
                        "E_REQUIRED",
                        field=table.by_key[key].header,
                    )
                )
        if not v.get("township"):
            if file_township:
                v["township"] = file_township
            else:
                row.problems.append(problem(file, sheet, row.excel_row, "", "", "E_NO_TOWNSHIP"))
        if table.key == "meetings" and v.get("group") and not v.get("village"):
            c = located.column_of("group")
            row.problems.append(
                problem(
                    file, sheet, row.excel_row, colname[c], v["group"], "E_GROUP_WITHOUT_VILLAGE"
                )
            )
        if table.key in ("households", "relocation") and v.get("household_id"):
            key = (table.key, v["household_id"])
            first = self._seen_ids.get(key)
            c = located.column_of("household_id")
            if first:
                first = _labels(first)
                row.problems.append(
                    problem(
                        file,
                        sheet,
                        row.excel_row,
                        colname[c],
                        v["household_id"],
                        "E_DUPLICATE_ID",
                        first=first[0],
                        first_en=first[1],
                    )
                )
            else:
                self._seen_ids[key] = (
                    f"{sheet} 第 {row.excel_row} 行",
                    f"sheet {sheet} row {row.excel_row}",
                )
        if table.key == "households":
            state = v.get("registry_state")
            for key in ("adjustment", "verification"):
                outcome = v.get(key)
                if state and outcome and state not in CONTRADICTIONS[outcome][0]:
                    _, why, why_en = CONTRADICTIONS[outcome]
                    c = located.column_of(key)
                    labels = schema.ADJUSTMENT_LABELS | schema.FINDING_LABELS
                    row.problems.append(
                        problem(
                            file,
                            sheet,
                            row.excel_row,
                            colname[c],
                            labels[outcome],
                            "W_CONTRADICTION",
                            outcome=labels[outcome],
                            state=schema.STATE_LABELS[state],
                            why=why,
                            why_en=why_en,
                        )
                    )


def _has_problem(row: _Row, column: str) -> bool:
    return any(p.column == column for p in row.problems)


# A new reason to skip a row must be known to _ByColumn._plain_rows too (the rows it loads
# without asking _skip_kind): tests/test_fast_paths.py holds the two paths equal.
def _skip_kind(cells: list[object], id_col: int | None, first: bool, in_footer: bool) -> str:
    """Why a row is not data: "blank", "total", "numbering", "footer", or "" (it is data)."""
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
    if first and _is_numbering(compact):
        return "numbering"
    distinct = list(dict.fromkeys(compact))
    # a signature or note line holds a few texts, not a household's dozen cells
    if not has_id and schema.FOOTER_PATTERN.match(distinct[0]) and len(distinct) <= 3:
        return "footer"
    if in_footer and not has_id and len(distinct) <= 2:
        return "footer"
    return ""


def _repeats_header(cells: list[object], columns: dict[int, str], lookup: dict[str, str]) -> bool:
    """Whether a data row is the header again: most mapped columns hold their own header."""
    same = sum(
        1
        for c, key in columns.items()
        if isinstance(cells[c], str) and lookup.get(schema.header_key(cells[c])) == key
    )
    return same >= max(2, (len(columns) + 1) // 2)


def _is_numbering(values: list[str]) -> bool:
    """A column-numbering row under the header: 1 2 3 ... or 甲 乙 丙 ..."""
    if len(values) < 3:
        return False
    if all(v.isdigit() for v in values):
        return [int(v) for v in values] == list(range(int(values[0]), int(values[0]) + len(values)))
    return all(v in "甲乙丙丁戊己庚辛壬癸" for v in values)


# ------------------------------------------------------------- column at a time
_MEMO_ONLY = 256  # a column with at most this many distinct values is parsed value by value
_FIRST_BLOCK = 16  # household ids _ByColumn.take checks at once at first (then 32, 64, ...)
_TOTAL_LINES = re.compile(schema.TOTAL_PATTERN.pattern, re.MULTILINE)
_FOOTER_LINES = re.compile(schema.FOOTER_PATTERN.pattern, re.MULTILINE)
# Characters header_key removes or cuts at; text without them (and already clean) is its key.
_HEADER_MARKS = re.compile(r"[（(\[【*＊:：]")


def _labels(first: tuple) -> tuple[str, str]:
    """The labels ("户信息 第 5 行", "sheet 户信息 row 5") of where a household id was first
    seen: ``Validator._seen_ids`` holds them, or (sheet, Excel row) to make them from."""
    sheet, row = first
    if not isinstance(row, str):
        return f"{sheet} 第 {row} 行", f"sheet {sheet} row {row}"
    return first


def _at(p: Problem, excel_row: int) -> Problem:
    return Problem(
        p.file, p.sheet, excel_row, p.column, p.value, p.code, p.severity, p.message, p.message_en
    )


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
    todo: object = distinct  # the cells the per-cell code parses
    mapped: dict = {}  # cell -> its value, where that is not the cell itself
    if len(distinct) > _MEMO_ONLY:
        slow = columns.SLOW
        every_string = len(col.strings) == len(distinct)
        if f.kind == schema.TEXT:
            todo = col.rest if every_string else distinct.difference(col.clean)
        elif f.kind == schema.ID_NUMBER:
            found = columns.id_numbers(col.strings)
            todo = [v for v, o in zip(col.strings, found, strict=True) if o is slow]
            if not every_string:
                todo += [v for v in distinct if v.__class__ is not str]
        elif f.kind == schema.NUMBER:
            cells = list(distinct)
            todo = []
            for v, o in zip(cells, columns.numbers(cells, key in POSITIVE_NUMBER), strict=True):
                if o is slow:
                    todo.append(v)
                elif o is not v:
                    mapped[v] = o
    found_of: dict = {}
    for k in todo:
        out, found = validator._cell_result(file, sheet, table, key, k, colname)
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
        out_of[k], found = validator._cell_result(file, sheet, table, key, k[1], colname)
        if found:
            found_of[k] = found
    outs = list(map(out_of.__getitem__, keys))
    probs: dict[int, tuple[Problem, ...]] = {}
    if found_of:
        where = compress(range(len(keys)), map(found_of.__contains__, keys))
        probs = {j: found_of[keys[j]] for j in where}
    return outs, probs


def _compact(s: str) -> str:
    return clean_text(s).replace(" ", "")


def _is_total(s: str) -> bool:
    return bool(schema.TOTAL_PATTERN.search(_compact(s)))


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
        _is_total(value)  # type: ignore[arg-type]
        or EXAMPLE_MARK in _compact(value)  # type: ignore[arg-type]
        or (key is not None and lookup.get(schema.header_key(value)) == key)
    )


class _ByColumn:
    """The cells of one located table parsed a column at a time, for ``Validator.parse``.

    ``take`` loads a row directly when it is plainly data and raises no row rule: not the
    first data row (a numbering row may be there); a household id that is not a footer
    word; no cell that may be a total word, no mapped cell that may repeat its header;
    no error in any cell; every required value present; a township (or one to fill in);
    no contradiction between state and outcome; an id not seen before. ``fill`` hands the
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
        self.fill_township = "township" not in by_key
        self.township = file_township
        self.check_ids = table.key in ("households", "relocation")
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
        table = self.table
        ids = by_key.get("household_id")
        if ids is None or n == 0 or (self.fill_township and not self.township):
            return [False] * n
        plain = [True] * n
        plain[0] = False  # the first data row may be a column-numbering row
        for i in located.grid.merged_only:  # blank whatever merges span them (_skip_kind)
            if i >= self.start:
                plain[i - self.start] = False
        # has_id of _skip_kind: the id's clean text, spaces removed, not a footer word
        distinct_ids = [h for h in set(ids) if h]
        footers = set()
        if _FOOTER_LINES.search("\n".join(distinct_ids)):
            footers = {h for h in distinct_ids if schema.FOOTER_PATTERN.match(h.replace(" ", ""))}
        if footers or None in distinct_ids or None in ids:
            for j, h in enumerate(ids):
                if not h or h in footers:
                    plain[j] = False
        # A total word or the example mark anywhere in the row (see _skip_kind); a mapped
        # cell holding its own header. Clean strings (columns.plain_texts) are their own
        # compact text, are searched all at once, one string a line, and are their own
        # header key unless they hold a bracket, "*" or ":".
        lookup = schema.header_lookup(table)
        for c, col in enumerate(cols):
            if not col.strings:
                continue
            clean, rest, joined = col.clean, col.rest, col.joined
            bad = {s for s in rest if _is_total(s) or EXAMPLE_MARK in _compact(s)}
            if _TOTAL_LINES.search(joined):
                bad.update(s for s in clean if _is_total(s))
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
        # errors in cells; required values; the township; contradictions
        for probs in self.probs:
            for j, found in probs.items():
                if any(p.severity == ERROR for p in found):
                    plain[j] = False
        for key in REQUIRED[table.key]:
            outs = by_key.get(key)
            if outs is not None and None in outs:
                for j, v in enumerate(outs):
                    if v is None:
                        plain[j] = False
        if not self.fill_township:
            townships = by_key["township"]
            if not all(townships):
                for j, v in enumerate(townships):
                    if not v:
                        plain[j] = False
        if table.key == "households":
            states = by_key.get("registry_state") or [None] * n
            for key in ("adjustment", "verification"):
                outcomes = by_key.get(key)
                if outcomes is None:
                    continue
                pairs = set(zip(states, outcomes, strict=True))
                if any(s and o and s not in CONTRADICTIONS[o][0] for s, o in pairs):
                    for j, (state, outcome) in enumerate(zip(states, outcomes, strict=True)):
                        if state and outcome and state not in CONTRADICTIONS[outcome][0]:
                            plain[j] = False
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
        if self.check_ids and end > j0:
            seen, table_key, ids = self.validator._seen_ids, self.table.key, self.ids
            numbers = self.frame["source_row"]
            size = _FIRST_BLOCK
            while j < end:
                k = min(end, j + size)
                keys = list(zip(repeat(table_key), ids[j:k]))
                if len(set(keys)) == len(keys) and seen.keys().isdisjoint(keys):
                    # (sheet, Excel row): _labels makes the labels of _row_rules from it
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
                    problems.extend(_at(p, numbers[k]) for p in found)
        return j + start

    def fill(self, row: _Row, i: int) -> None:
        """Puts the parsed cells of row ``i`` into ``row``, as ``_cell`` would have."""
        j = i - self.start
        for key, outs, probs in zip(self.keys, self.outs, self.probs, strict=True):
            row.values[key] = outs[j]
            found = probs.get(j)
            if found:
                row.problems.extend(_at(p, row.excel_row) for p in found)
