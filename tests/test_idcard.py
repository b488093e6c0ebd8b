"""The GB 11643 ID number rules, written once in analytics/domain/idcard.py in three forms:
Python (the reference), numpy and DuckDB SQL. The two fast forms accept exactly the
numbers the reference finds nothing wrong with (SQL: within the birth years 1800-2199)."""

from __future__ import annotations

import datetime as dt
import random

import duckdb
import numpy as np
import pytest

from analytics.domain import idcard
from tests.builders import make_id

# The oracle, by hand: GB 11643-1999's own example, 11010519491231002X. The first 17
# digits times the weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2: 7 + 9 + 0 + 5 + 0 + 20 + 2
# + 9 + 24 + 27 + 7 + 18 + 30 + 5 + 0 + 0 + 4 = 167; 167 % 11 = 2; remainder 2 -> "X".
STANDARD_EXAMPLE = "11010519491231002X"


def test_the_check_character_of_the_standards_example_is_x():
    assert idcard.check_char(STANDARD_EXAMPLE[:17]) == "X"
    assert idcard.problems(STANDARD_EXAMPLE) == []


@pytest.mark.parametrize(
    ("value", "codes"),
    [
        ("110105194912310021", ["W_ID_CHECK"]),
        ("110105194902300025", ["W_ID_CHECK", "W_ID_BIRTH"]),  # 30 February
        ("110105491231002", ["W_ID_LEGACY15"]),
        ("1101051949", ["W_ID_LENGTH"]),
        ("5.30921E+17", ["W_ID_AS_NUMBER"]),
    ],
)
def test_what_is_wrong_with_a_number(value, codes):
    assert [c for c, _ in idcard.problems(value)] == codes


def test_a_number_cell_is_reported_as_such_whatever_its_digits():
    assert idcard.problems(STANDARD_EXAMPLE, stored_as_number=True) == [("W_ID_AS_NUMBER", {})]


def _numbers() -> list[str]:
    rng = random.Random(11643)
    out = [STANDARD_EXAMPLE, make_id(1), make_id(7, birth="20000229"), make_id(8, "19000229")]
    for _ in range(400):
        n = make_id(
            rng.randrange(1000),
            birth=f"{rng.randrange(1790, 2210)}0{rng.randrange(1, 10)}{rng.randrange(1, 32):02d}",
        )
        if rng.random() < 0.3:  # a wrong check character
            n = n[:17] + rng.choice("0123456789X")
        if rng.random() < 0.05:
            n = n[:5] + "a" + n[6:]
        out.append(n)
    return out


def test_the_numpy_form_accepts_exactly_the_numbers_the_reference_accepts():
    numbers = _numbers()
    chars = np.frombuffer("".join(numbers).encode("ascii"), dtype=np.uint8).reshape(-1, 18)
    assert idcard.valid_rows(chars).tolist() == [idcard.problems(n) == [] for n in numbers]


def test_the_sql_form_accepts_the_numbers_the_reference_accepts_born_1800_to_2199():
    numbers = _numbers()
    con = duckdb.connect()
    got = [
        bool(r[0])
        for r in con.execute(
            f"SELECT coalesce({idcard.sql_valid('v')}, FALSE) FROM unnest(?) t(v)", [numbers]
        ).fetchall()
    ]
    expected = [idcard.problems(n) == [] and "1800" <= n[6:10] <= "2199" for n in numbers]
    assert got == expected
    assert any(expected) and not all(expected)


# ------------------------------------------------------- what a number says of its holder
# By hand: GB 11643's example 11010519491231002X has sequence 002, its last digit 2 even:
# a woman born 31 December 1949 in 110105 (Beijing, Chaoyang district).
def test_the_standards_example_is_a_woman_born_31_december_1949_in_beijing():
    assert idcard.sex(STANDARD_EXAMPLE) == "female"
    assert idcard.birth_date(STANDARD_EXAMPLE) == dt.date(1949, 12, 31)
    assert idcard.region(STANDARD_EXAMPLE, "province") == "110000"
    assert idcard.region(STANDARD_EXAMPLE, "prefecture") == "110100"
    assert idcard.region(STANDARD_EXAMPLE) == "110105"


@pytest.mark.parametrize(("seq", "sex"), [(1, "male"), (2, "female"), (9, "male"), (10, "female")])
def test_the_17th_digit_odd_is_a_man_even_a_woman(seq, sex):
    assert idcard.sex(make_id(seq)) == sex


def test_a_disability_certificate_number_is_read_by_its_first_18_characters():
    number = make_id(3, birth="19620704") + "31"  # category 3, grade 1
    assert idcard.sex(number) == "male"
    assert idcard.birth_date(number) == dt.date(1962, 7, 4)
    assert idcard.sex(number + "0A") == "male"
    assert idcard.person_key(number.lower() + "0a") == number[:18]
    assert idcard.region(number, "county") == "533921"


@pytest.mark.parametrize(
    "value",
    [
        "110105491231002",  # 15 digits: no sex or date read from it here
        "1101051949123100",
        make_id(1) + "8",  # category 8 does not exist: not a certificate number
        make_id(1) + "35",  # grade 5 does not exist
        "１１０１０５１９４９１２３１００２Ｘ",  # full-width digits are not ASCII ones
        "5.30921E+17",
        "",
    ],
)
def test_anything_but_an_id_or_certificate_number_has_no_sex_or_birth_date(value):
    assert (idcard.sex(value), idcard.birth_date(value), idcard.person_key(value)) == (
        None,
        None,
        None,
    )


def test_a_birth_date_that_is_no_calendar_day_is_none_but_the_sex_is_read():
    feb30 = make_id(5, birth="19800230")
    assert (idcard.birth_date(feb30), idcard.sex(feb30)) == (None, "male")
    assert idcard.birth_date(make_id(5, birth="19000229")) is None  # 1900 was no leap year
    assert idcard.birth_date(make_id(5, birth="20000229")) == dt.date(2000, 2, 29)
    assert idcard.birth_date(make_id(5, birth="00000101")) is None


def test_a_wrong_check_character_still_gives_sex_and_birth_date():
    wrong = STANDARD_EXAMPLE[:17] + "1"
    assert idcard.problems(wrong)[0][0] == "W_ID_CHECK"
    assert (idcard.sex(wrong), idcard.birth_date(wrong)) == ("female", dt.date(1949, 12, 31))


def test_a_legacy_15_digit_number_still_names_its_region():
    assert idcard.region("110105491231002", "province") == "110000"
    assert idcard.region("11010519", "province") is None


def test_region_refuses_an_unknown_level():
    with pytest.raises(KeyError):
        idcard.region(STANDARD_EXAMPLE, "township")


@pytest.mark.parametrize(
    ("born", "on", "age"),
    [
        (dt.date(2010, 6, 15), dt.date(2026, 6, 14), 15),  # the day before the 16th birthday
        (dt.date(2010, 6, 15), dt.date(2026, 6, 15), 16),  # on it
        (dt.date(2008, 2, 29), dt.date(2026, 2, 28), 17),  # no 29 February in 2026 ...
        (dt.date(2008, 2, 29), dt.date(2026, 3, 1), 18),  # ... a year older on 1 March
        (dt.date(2026, 6, 16), dt.date(2026, 6, 15), -1),  # born the day after
        (dt.date(2026, 6, 15), dt.date(2026, 6, 15), 0),
    ],
)
def test_age_is_whole_years_counted_on_the_birthday(born, on, age):
    assert idcard.age_at(born, on) == age


def _holder_values() -> list[str]:
    odd = [
        STANDARD_EXAMPLE.lower(),
        " " + STANDARD_EXAMPLE,
        make_id(4) + "21",
        make_id(4) + "2109",
        make_id(4) + "81",
        make_id(6, birth="00000101"),
        make_id(6, birth="00010101"),
        make_id(6, birth="20210229"),
        "110105491231002",
        "１１０１０５１９４９１２３１００２Ｘ",
        "abc",
        "",
    ]
    return odd + _numbers()


def test_the_sql_sex_and_birth_date_read_every_value_as_the_reference_does():
    values = _holder_values()
    con = duckdb.connect()
    rows = con.execute(
        f"SELECT {idcard.sql_sex('v')}, {idcard.sql_birth_date('v')} FROM unnest(?) t(v)",
        [values],
    ).fetchall()
    expected = [(idcard.sex(v), idcard.birth_date(v)) for v in values]
    assert rows == expected
    assert any(e[1] is None and e[0] for e in expected) and any(e[1] for e in expected)


def test_the_column_form_reads_every_value_as_the_reference_does():
    values: list[object] = [*_holder_values(), None, 5.3e17, 530921198001010011, "中" * 18]
    values += ["１" + make_id(3)[1:], make_id(3)[:17] + "x", make_id(3)[:17] + " "]
    sexes, births = idcard.holders(values)
    assert sexes == [idcard.sex(v) if isinstance(v, str) else None for v in values]
    assert births == [idcard.birth_date(v) if isinstance(v, str) else None for v in values]
    assert None in births[:20] and "male" in sexes and "female" in sexes


def test_the_column_form_of_an_empty_column_is_empty():
    assert idcard.holders([]) == ([], [])
    assert idcard.holders([None, 3]) == ([None, None], [None, None])
