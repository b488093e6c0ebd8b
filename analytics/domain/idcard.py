"""Citizen ID numbers (公民身份号码, GB 11643-1999): the one home of their rules.

An 18-character number is 6 digits of region code, 8 of birth date (YYYYMMDD), 3 of
sequence and a check character: ISO 7064 MOD 11-2 over the first 17 digits, weights
``WEIGHTS``, remainder 0-10 -> ``CHECK_CHARS``. Numbers issued before 1999 have 15 digits
(a 2-digit year, no check character). Excel keeps 15 significant digits of a number, so an
ID number typed into a number cell has lost its last digits for good. The national exports'
证件号码 column may hold a disability certificate number (残疾人证号) instead: the holder's
18-character ID number, then the disability category (1-7) and grade (1-4), 20 characters,
on some cards with two more characters (22); it is valid when its ID number is, and is kept
whole (``DISABILITY``, ``disability``).

The check is written once here, in three forms side by side: ``problems`` (Python, the
reference: what is wrong with one number), ``valid_rows`` (numpy, a whole column at a time)
and ``sql_valid`` (DuckDB SQL, the bulk import). The two fast forms accept only numbers
``problems`` finds nothing wrong with (a subset: everything else goes to ``problems``);
tests/test_idcard.py holds them to it.

What a number says of its holder is read here too: the sex (``sex``: the 17th digit, odd
for a man, even for a woman), the birth date (``birth_date``: digits 7-14) and the region
of issue (``region``: GB/T 2260 province, prefecture and county codes, the first 2, 4 and
6 digits), with ``person_key`` (the number a person is known by across households) and
``age_at`` (whole years at a date). The sex and birth date have a column form (``holders``,
numpy) and a SQL form for the bulk import (``sql_sex``, ``sql_birth_date``), held to the
Python one by the tests.

Source: GB 11643-1999 "公民身份号码"; GB/T 2260 (region codes); ../shared/DOMAIN.md ("Tables
and fields", "What offices really export": sex and birth date from the ID number where the
columns are absent, the region code gives the province and county).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import cast

import numpy as np

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"  # remainder of the weighted sum mod 11 -> check character
LENGTH = 18
LEGACY_LENGTH = 15

# The shapes of a whole ID number (after ``normalise``), for finding one in typed text.
SHAPE = re.compile(r"\d{17}[\dX]|\d{15}")
_SHAPE18 = re.compile(r"\d{17}[\dX]")
_SHAPE15 = re.compile(r"\d{15}")
# A disability certificate number: an 18-character ID number, category 1-7, grade 1-4, and
# on some cards two more letters or digits (../shared/DOMAIN.md "What offices really export").
DISABILITY = re.compile(r"(\d{17}[\dX])([1-7])([1-4])(?:[0-9A-Z]{2})?")
# A number cell written out as text by a CSV export ("5.30921E+17"): its digits are lost.
SCIENTIFIC = re.compile(r"\d(\.\d+)?E\+?\d+")

# Rule codes of the row report (analytics/importing/row_rules.py gives their severity, the
# label table analytics/domain/labels.py their messages ``msg_<code>``).
AS_NUMBER, CHECK, BIRTH, LEGACY15, BAD_LENGTH = (
    "W_ID_AS_NUMBER",
    "W_ID_CHECK",
    "W_ID_BIRTH",
    "W_ID_LEGACY15",
    "W_ID_LENGTH",
)


def normalise(text: str) -> str:
    """An ID number as compared and stored: no spaces, a lower-case ``x`` upper-case."""
    return text.replace(" ", "").upper()


def check_char(first17: str) -> str:
    """The check character (ISO 7064 MOD 11-2) of the first 17 digits of an ID number.

    Raises
    ------
    ValueError
        When ``first17`` is not 17 digits.
    """
    if len(first17) != 17:
        raise ValueError(f"{first17!r} is not 17 digits")
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def problems(value: str, *, stored_as_number: bool = False) -> list[tuple[str, dict[str, object]]]:
    """What is wrong with one ID number: (rule code, message fields) in report order;
    empty when it is a valid 18-character number.

    Parameters
    ----------
    value : the number as written, already ``normalise``d (not empty).
    stored_as_number : the cell was a number cell (Excel zeroed its last digits).

    Returns
    -------
    ``W_ID_AS_NUMBER`` alone for a number cell or scientific notation; else for 18
    characters ``W_ID_CHECK`` (field ``expected``) and ``W_ID_BIRTH``; for a disability
    certificate number (``DISABILITY``, 20 or 22 characters) those of its first 18; for 15
    digits ``W_ID_LEGACY15``; for anything else ``W_ID_LENGTH`` (field ``length``).
    """
    if stored_as_number or SCIENTIFIC.fullmatch(value):
        return [(AS_NUMBER, {})]
    if len(value) > LENGTH and DISABILITY.fullmatch(value):
        return problems(value[:LENGTH])
    if _SHAPE18.fullmatch(value):
        found: list[tuple[str, dict[str, object]]] = []
        expected = check_char(value[:17])
        if value[17] != expected:
            found.append((CHECK, {"expected": expected}))
        try:
            dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
        except ValueError:
            found.append((BIRTH, {}))
        return found
    if _SHAPE15.fullmatch(value):
        return [(LEGACY15, {})]
    return [(BAD_LENGTH, {"length": len(value)})]


def disability(value: str) -> tuple[int, int] | None:
    """The disability category (1-7) and grade (1-4) a disability certificate number in an
    ID column holds (``DISABILITY``), or None for any other value (an ID number)."""
    m = DISABILITY.fullmatch(value)
    return (int(m.group(2)), int(m.group(3))) if m else None


# ------------------------------------------------------------------ numpy form
_WEIGHTS_NP = np.array(WEIGHTS, dtype=np.int64)
_CHECK_NP = np.frombuffer(CHECK_CHARS.encode("ascii"), dtype=np.uint8)
_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


def check_chars(digits: np.ndarray) -> np.ndarray:
    """``check_char`` of many numbers at once: ``digits`` (n x 17 integers 0-9) -> the n
    check characters as ASCII bytes (uint8)."""
    return _CHECK_NP[(digits.astype(np.int64) @ _WEIGHTS_NP) % 11]


def valid_rows(chars: np.ndarray) -> np.ndarray:
    """``problems`` of many 18-character numbers at once, as a yes/no: ``chars`` (n x 18
    ASCII bytes, uint8) -> n booleans, True where the row is 17 ASCII digits and a digit
    or upper-case ``X``, its check character right and its birth date a real date of year
    1 or later (exactly the rows ``problems`` finds nothing wrong with)."""
    digits = chars[:, :17].astype(np.int64) - 48
    last = chars[:, 17]
    shaped = ((digits >= 0) & (digits <= 9)).all(axis=1)
    shaped &= ((last >= 48) & (last <= 57)) | (last == 88)
    safe = np.where(shaped[:, None], digits, 0)
    dated = _birth_parts(safe)[3]
    result: np.ndarray = shaped & (check_chars(safe) == last) & dated
    return result


def _birth_parts(digits: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Year, month and day of the birth dates of ``digits`` (n x 14 or more integers, the
    digits of the numbers), and whether each is a real calendar date of year 1 or later
    (only where every one of the 8 digits is 0-9)."""
    birth = digits[:, 6:14].astype(np.int64)
    year = birth[:, 0:4] @ np.array([1000, 100, 10, 1])
    month = birth[:, 4:6] @ np.array([10, 1])
    day = birth[:, 6:8] @ np.array([10, 1])
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    month_ok = (month >= 1) & (month <= 12)
    days = _MONTH_DAYS[np.where(month_ok, month, 0)] + ((month == 2) & leap)
    dated = month_ok & (year >= 1) & (day >= 1) & (day <= days)
    return year, month, day, dated


# -------------------------------------------------------------------- SQL form
def sql_valid(column: str) -> str:
    """``problems`` as a DuckDB condition on the text column ``column`` (an SQL name or
    expression): TRUE where it holds 17 ASCII digits and a digit or ``X`` whose check
    character is right and whose birth date exists in the years 1800-2199 (the birth years
    of people alive; any other number, even a valid one, is left to ``problems``)."""
    digits = " + ".join(
        f"(ord(substr({column}, {i + 1}, 1)) - 48) * {w}" for i, w in enumerate(WEIGHTS)
    )
    return (
        f"regexp_full_match({column}, '[0-9]{{17}}[0-9X]') "
        f"AND substr('{CHECK_CHARS}', (({digits}) % 11) + 1, 1) = substr({column}, 18, 1) "
        f"AND substr({column}, 7, 4) >= '1800' AND substr({column}, 7, 4) <= '2199' "
        f"AND try_strptime(substr({column}, 7, 8), '%Y%m%d') IS NOT NULL"
    )


# ------------------------------------------------------- what a number says of its holder
# An 18-character number as written on its own or at the head of a disability certificate
# number (``DISABILITY``), ASCII digits only (``SHAPE`` takes any Unicode digit).
_HOLDER = re.compile(r"([0-9]{17}[0-9X])(?:[1-7][1-4](?:[0-9A-Z]{2})?)?")
_HOLDER_SQL = "[0-9]{17}[0-9X]([1-7][1-4]([0-9A-Z]{2})?)?"
# ``person_key`` as a regular expression for a query engine (RE2 and Java both read it): a
# whole normalised number, the key in group 1.
PERSON_KEY_PATTERN = "^" + _HOLDER.pattern + "$"
MALE, FEMALE = "male", "female"  # the member table's sex codes
# GB/T 2260 levels -> how many leading digits of the region code name the unit.
REGION_DIGITS = {"province": 2, "prefecture": 4, "county": 6}


def person_key(value: str) -> str | None:
    """The number a person is known by: the 18-character ID number of ``value`` (itself,
    or the first 18 characters of a disability certificate number), after ``normalise``;
    None for anything else (a 15-digit or mistyped number, a number cell's lost digits).

    The check character is not checked: a mistyped number repeated is still the same
    text (``problems`` reports the check character on its own).

    Examples
    --------
    >>> person_key("11010519491231002x")
    '11010519491231002X'
    >>> person_key("11010519491231002X31")  # category 3, grade 1
    '11010519491231002X'
    >>> person_key("110105491231002") is None
    True
    """
    m = _HOLDER.fullmatch(normalise(value))
    return m.group(1) if m else None


def sex(value: str) -> str | None:
    """The holder's sex by GB 11643: the 17th digit (the sequence number's last) is odd for
    a man ("male"), even for a woman ("female"); None when ``value`` is not an 18-character
    number or a disability certificate number (``person_key``)."""
    key = person_key(value)
    if key is None:
        return None
    return MALE if int(key[16]) % 2 else FEMALE


def birth_date(value: str) -> dt.date | None:
    """The holder's birth date, digits 7-14 (YYYYMMDD) of an 18-character number or of the
    first 18 of a disability certificate number; None when there is none or those digits
    are not a real calendar date (year 1 or later, 30 February is not)."""
    key = person_key(value)
    if key is None:
        return None
    try:
        return dt.date(int(key[6:10]), int(key[10:12]), int(key[12:14]))
    except ValueError:
        return None


def region(value: str, level: str = "county") -> str | None:
    """The GB/T 2260 code of the region that issued the number, at ``level``: "province"
    (the first 2 digits), "prefecture" (4) or "county" (6), padded with zeros to six digits
    as GB/T 2260 writes it ("530000", "530900", "530921"); None when ``value`` is not an
    18-character, disability certificate or 15-digit number.

    The code is where the number was issued, not necessarily where the holder lives now,
    and a county code may have been renamed since.

    Raises
    ------
    KeyError
        When ``level`` is not one of ``REGION_DIGITS``.
    """
    digits = REGION_DIGITS[level]
    text = normalise(value)
    key = person_key(text) or (text if re.fullmatch("[0-9]{15}", text) else None)
    if key is None:
        return None
    return key[:digits].ljust(6, "0")


def age_at(born: dt.date, on: dt.date) -> int:
    """Age in whole years on the date ``on``: the years between, less one when the birthday
    of that year is still to come (born 29 February: one year older on 1 March in a year
    without one). Negative when ``born`` is after ``on``."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def holders(values: Sequence[object]) -> tuple[list[str | None], list[dt.date | None]]:
    """``sex`` and ``birth_date`` of a whole column at once (the column-at-a-time import):
    ``values`` (n cells; a cell that is not a ``str`` has neither) -> the n sexes and the
    n birth dates, exactly as ``sex`` and ``birth_date`` read each value. Texts of 18 ASCII
    characters are read with numpy, longer ones (disability certificate numbers, spaces)
    one by one."""
    n = len(values)
    sexes = np.full(n, None, dtype=object)
    births = np.full(n, None, dtype=object)
    where = [j for j, v in enumerate(values) if v.__class__ is str and len(v) == LENGTH]
    slow = [j for j, v in enumerate(values) if v.__class__ is str and len(v) > LENGTH]
    joined = "".join(cast("list[str]", [values[j] for j in where])).upper()
    if not joined.isascii():  # some non-ASCII text of 18 characters: those one by one
        slow += (j for j in where if not cast("str", values[j]).isascii())
        where = [j for j in where if cast("str", values[j]).isascii()]
        joined = "".join(cast("list[str]", [values[j] for j in where])).upper()
    for j in slow:  # shorter texts hold no number (``person_key``)
        text = cast("str", values[j])
        sexes[j], births[j] = sex(text), birth_date(text)
    if where:
        chars = np.frombuffer(joined.encode("ascii"), dtype=np.uint8).reshape(-1, LENGTH)
        digits = chars[:, :17] - np.uint8(48)  # wraps: anything but a digit is above 9
        last = chars[:, 17]
        shaped = (digits <= 9).all(axis=1) & (((last >= 48) & (last <= 57)) | (last == 88))
        year, month, day, dated = _birth_parts(digits)
        dated &= shaped
        # a date where there is one, 1970-01-01 elsewhere (then None)
        dates = (
            (np.where(dated, year, 1970) - 1970).astype("datetime64[Y]")
            + (np.where(dated, month, 1) - 1).astype("timedelta64[M]")
        ).astype("datetime64[D]") + (np.where(dated, day, 1) - 1).astype("timedelta64[D]")
        odd = digits[:, 16] % 2 == 1
        found = np.full(len(where), None, dtype=object)
        found[shaped & odd] = MALE
        found[shaped & ~odd] = FEMALE
        at = np.array(where, dtype=np.int64)
        sexes[at] = found
        found = dates.astype(object)
        found[~dated] = None
        births[at] = found
    return sexes.tolist(), births.tolist()


def sql_sex(column: str) -> str:
    """``sex`` as a DuckDB expression on the text column ``column`` (an SQL name or
    expression): 'male', 'female' or NULL, exactly as ``sex`` reads each value."""
    v = f"upper(replace({column}, ' ', ''))"
    return (
        f"CASE WHEN regexp_full_match({v}, '{_HOLDER_SQL}') THEN "
        f"CASE WHEN (ord(substr({v}, 17, 1)) - 48) % 2 = 1 THEN '{MALE}' ELSE '{FEMALE}' END "
        "END"
    )


def sql_birth_date(column: str) -> str:
    """``birth_date`` as a DuckDB expression on the text column ``column``: a DATE or NULL,
    exactly as ``birth_date`` reads each value (year 0000 has no date)."""
    v = f"upper(replace({column}, ' ', ''))"
    return (
        f"CASE WHEN regexp_full_match({v}, '{_HOLDER_SQL}') AND substr({v}, 7, 4) <> '0000' "
        f"THEN CAST(try_strptime(substr({v}, 7, 8), '%Y%m%d') AS DATE) END"
    )
