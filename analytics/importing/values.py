"""Parsing the values of cells as county files write them: text, numbers, dates, yes/no.

Pure functions of one cell's value; what is wrong with a value (a rule code, a message) is
decided by the cell rules (analytics/importing/row_rules.py). Sources: ../shared/DOMAIN.md
("Real workbooks look like this").
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from decimal import Decimal, InvalidOperation

from analytics.domain import schema

SPACES = re.compile(r"\s+")
_UNIT_SUFFIX = re.compile(r"(人次|人|户|元|平方米|平米|m2|m²|㎡|场|个|年)$")
_DATE_TEXT = re.compile(r"^(\d{4})\s*[-./年]\s*(\d{1,2})\s*[-./月]\s*(\d{1,2})\s*日?$")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
_DATE_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
# A month: 201403, 201403.0 (a number cell read as text), 2014-03, 2014/3, 2014.03, 2014年3月
_MONTH_TEXT = re.compile(r"^(\d{4})\s*(?:[-./年]\s*(\d{1,2})\s*月?|(\d{2})(?:\.0+)?)$")
_EXCEL_EPOCH = dt.date(1899, 12, 30)
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
# Between the values of a list field's cell (因病，因学、因残): comma, semicolon, 、 (NFKC has
# already made the full-width ， and ； half-width ones).
LIST_SEPARATORS = re.compile(r"[,;、]")
DATE_FLOOR = dt.date(1990, 1, 1)  # no survey or meeting of the registry predates this


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
    return SPACES.sub(" ", s).strip()


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


def is_blank(text: str, kind: str) -> bool:
    """Whether a cell's clean text (``clean_text``) says "nothing here" in a field of value
    kind ``kind`` (``schema``'s kinds): empty, or a word of ``schema.BLANK_WORDS`` (无, /,
    —); a yes/no field reads 无 as 否, not as empty (有/无, DOMAIN.md "Real workbooks")."""
    if not text:
        return True
    compact = text.replace(" ", "")
    if kind == schema.YESNO and compact in schema.NO:
        return False
    return compact in schema.BLANK_WORDS


def parse_month(value: object) -> dt.date | None:
    """A calendar month as its first day, from how the national exports write YYYYMM: a
    number cell 201403 or 201403.0, text "201403", "201403.0", "2014-03", "2014/3",
    "2014.03", "2014年3月"; a date cell or a full date gives its month. None when none
    applies (a month 0 or 13, "2014", a serial number).

    Source: ../shared/DOMAIN.md ("What offices really export": 首次识别时间 is YYYYMM).
    """
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.replace(day=1)
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        if not float(value).is_integer():
            return None
        value = str(int(value))
    s = clean_text(value).replace(" ", "")
    m = _MONTH_TEXT.match(s)
    if m:
        month = int(m.group(2) or m.group(3))
        return dt.date(int(m.group(1)), month, 1) if 1 <= month <= 12 else None
    day = parse_date(s) if not s.isdigit() else None
    return day.replace(day=1) if day is not None else None


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


def parse_list(value: object) -> list[str]:
    """The values of a list field's cell (致贫/返贫风险 "因病，因学、因残"): split on , ， 、
    ; ； and each part cleaned (``clean_text``); empty parts and blank words (无, /, —:
    ``is_blank``) dropped, a value written twice kept once, in the cell's order. An empty or
    blank cell gives an empty list. Spaces do not separate values ("因 病" is one value).

    Source: ../shared/DOMAIN.md ("After 2020": a risk cell may hold several, split on , ，
    、 ; ；).

    Examples
    --------
    >>> parse_list("因病，因学、因残;因病")
    ['因病', '因学', '因残']
    >>> parse_list("无")
    []
    """
    out: list[str] = []
    for part in LIST_SEPARATORS.split(clean_text(value)):
        text = part.strip()
        if not is_blank(text, schema.TEXT) and text not in out:
            out.append(text)
    return out
