"""The GB 11643 ID number rules, written once in analytics/domain/idcard.py in three forms:
Python (the reference), numpy and DuckDB SQL. The two fast forms accept exactly the
numbers the reference finds nothing wrong with (SQL: within the birth years 1800-2199)."""

from __future__ import annotations

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
