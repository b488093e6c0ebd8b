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

Source: GB 11643-1999 "公民身份号码"; ../shared/DOMAIN.md ("Tables and fields").
"""

from __future__ import annotations

import datetime as dt
import re

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
    year = safe[:, 6:10] @ np.array([1000, 100, 10, 1])
    month = safe[:, 10:12] @ np.array([10, 1])
    day = safe[:, 12:14] @ np.array([10, 1])
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    month_ok = (month >= 1) & (month <= 12)
    days = _MONTH_DAYS[np.where(month_ok, month, 0)] + ((month == 2) & leap)
    dated = month_ok & (year >= 1) & (day >= 1) & (day <= days)
    result: np.ndarray = shaped & (check_chars(safe) == last) & dated
    return result


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


def sex_and_birth(value: str) -> tuple[str | None, dt.date | None]:
    """The sex ("male" / "female", ``schema.SEXES``' codes) and birth date an ID number
    holds: the 17th character odd for a man, even for a woman; digits 7-14 the birth date
    (GB 11643-1999). A disability certificate number (``DISABILITY``) gives those of its
    first 18 characters. (None, None) for anything else (15 digits, a bad length); a birth
    date that is no date is None.
    """
    if len(value) > LENGTH and DISABILITY.fullmatch(value):
        value = value[:LENGTH]
    if not _SHAPE18.fullmatch(value):
        return None, None
    sex = "male" if int(value[16]) % 2 else "female"
    try:
        birth: dt.date | None = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        birth = None
    return sex, birth
