"""Person rules (analytics/importing/person_rules.py): across the member rows of one
household and across the households of a round, each a warning on a member's row, with
its national check code. Every case is built by hand here, one on each side of a limit."""

from __future__ import annotations

import datetime as dt

import pytest

from analytics.domain.labels import LABELS
from analytics.importing import person_rules, row_rules
from analytics.importing.person_rules import duplicate_persons, household_findings
from tests.builders import make_id

DATA_DATE = dt.date(2026, 6, 15)
SHEET = "家庭成员"


def member(row: int, relation: str | None = None, sex: str | None = None, **more: object):
    """A member dict as the roll-up passes it: household H1 unless told, on sheet 家庭成员."""
    values: dict[str, object] = {
        "household_id": "H1",
        "relation": relation,
        "sex": sex,
        "source_sheet": SHEET,
        "source_row": row,
    }
    values.update(more)
    return values


def codes(found) -> list[tuple[str, int, str]]:
    return [(f.code, f.row, f.key) for f in found]


# ------------------------------------------------------------------ heads
def test_a_household_with_one_head_has_no_head_finding():
    family = [member(4, "head", "male"), member(5, "spouse", "female"), member(6, "son", "male")]
    assert household_findings(family, DATA_DATE) == []


def test_a_household_without_a_head_is_reported_on_its_first_row():
    family = [member(4, "spouse", "female"), member(5, "son", "male")]
    found = household_findings(family, DATA_DATE)
    assert codes(found) == [("W_NO_HEAD", 4, "relation")]
    assert (found[0].sheet, found[0].national, found[0].household_id) == (SHEET, "3_02_012", "H1")
    zh, en = found[0].message()
    assert "H1" in zh and "3_02_012" in zh and "3_02_012" in en


def test_a_monitored_household_without_a_head_carries_the_monitoring_code():
    found = household_findings([member(4, "son", "male")], DATA_DATE, monitoring=True)
    assert [f.national for f in found] == ["3_11_001"]


def test_two_heads_are_reported_on_the_second_naming_the_first():
    family = [member(4, "head", "male"), member(5, "head", "male"), member(6, "head", "female")]
    found = household_findings(family, DATA_DATE)
    assert codes(found) == [("W_TWO_HEADS", 5, "relation"), ("W_TWO_HEADS", 6, "relation")]
    assert {f.national for f in found} == {"3_02_011"}
    assert "家庭成员 第 4 行" in found[0].message().zh


def test_a_sheet_without_a_relation_column_says_nothing_of_heads():
    family = [
        {"household_id": "H1", "sex": "male", "source_sheet": SHEET, "source_row": 4},
        {"household_id": "H1", "sex": "male", "source_sheet": SHEET, "source_row": 5},
    ]
    assert household_findings(family, DATA_DATE) == []


def test_a_household_without_members_has_no_findings():
    assert household_findings([], DATA_DATE) == []


# ------------------------------------------------------------------ sexes
@pytest.mark.parametrize(
    ("head_sex", "spouse_sex", "fires"),
    [
        ("male", "female", False),
        ("female", "male", False),
        ("male", "male", True),
        ("female", "female", True),
        (None, "female", False),  # the head's sex unknown: not judged
        ("male", None, False),
    ],
)
def test_the_head_and_the_spouse_are_of_different_sexes(head_sex, spouse_sex, fires):
    family = [member(4, "head", head_sex), member(5, "spouse", spouse_sex)]
    found = household_findings(family, DATA_DATE)
    assert codes(found) == ([("W_HEAD_SPOUSE_SEX", 5, "sex")] if fires else [])
    if fires:
        assert found[0].national == "2_02_001"
        assert household_findings(family, DATA_DATE, monitoring=True)[0].national == "2_11_003"


# The members contract: son, grandson, son_in_law, father, grandfather are men; daughter,
# granddaughter, daughter_in_law, mother, grandmother women; the others imply nothing.
@pytest.mark.parametrize(
    ("relation", "sex", "fires"),
    [
        ("son", "male", False),
        ("son", "female", True),
        ("grandson", "female", True),
        ("son_in_law", "female", True),
        ("father", "female", True),
        ("grandfather", "female", True),
        ("grandfather", "male", False),
        ("daughter", "female", False),
        ("daughter", "male", True),
        ("granddaughter", "male", True),
        ("daughter_in_law", "male", True),
        ("mother", "male", True),
        ("grandmother", "male", True),
        ("grandmother", "female", False),
        ("grandchild", "male", False),
        ("grandchild", "female", False),
        ("parent", "female", False),
        ("sibling", "male", False),
        ("other", "female", False),
        ("son", None, False),  # no sex: not judged
    ],
)
def test_a_relation_that_implies_a_sex_is_checked_against_the_sex(relation, sex, fires):
    family = [member(4, "head", "male"), member(5, "spouse", "female"), member(6, relation, sex)]
    found = household_findings(family, DATA_DATE)
    assert codes(found) == ([("W_RELATION_SEX", 6, "sex")] if fires else [])
    assert all(f.national == "2_01_004" for f in found)


def test_the_relation_sex_message_names_the_relation_and_both_sexes():
    family = [member(4, "head", "female"), member(5, "son", "female")]
    (found,) = household_findings(family, DATA_DATE)
    assert found.value == "女"
    zh, en = found.message()
    assert "之子" in zh and "男性" in zh and "2_01_004" in zh
    assert "son" in en and "male" in en and "2_01_004" in en


# ------------------------------------------------------------------ ages
def aged(born: dt.date | None, **more: object) -> list[dict[str, object]]:
    return [
        member(4, "head", "male", birth_date=dt.date(1970, 1, 1)),
        member(5, birth_date=born, **more),
    ]


@pytest.mark.parametrize(
    ("born", "fires"),
    [
        (dt.date(2026, 6, 16), True),  # the day after the data date
        (dt.date(2026, 6, 15), False),  # on it: a newborn
    ],
)
def test_a_member_born_after_the_data_date_is_reported(born, fires):
    found = household_findings(aged(born), DATA_DATE)
    assert codes(found) == ([("W_BORN_AFTER", 5, "birth_date")] if fires else [])
    if fires:
        assert found[0].value == "2026-06-16" and found[0].national is None
        assert "2026-06-15" in found[0].message().zh


@pytest.mark.parametrize(
    ("born", "age", "fires"),
    [
        (dt.date(1906, 6, 15), 120, False),
        (dt.date(1905, 6, 16), 120, False),  # 121 the day after the data date
        (dt.date(1905, 6, 15), 121, True),
    ],
)
def test_a_member_older_than_120_at_the_data_date_is_reported(born, age, fires):
    found = household_findings(aged(born), DATA_DATE)
    assert codes(found) == ([("W_TOO_OLD", 5, "birth_date")] if fires else [])
    if fires:
        assert found[0].fields["age"] == age and found[0].fields["limit"] == 120


def test_the_age_ceiling_can_be_given():
    found = household_findings(aged(dt.date(1925, 6, 15)), DATA_DATE, age_max=100)
    assert codes(found) == [("W_TOO_OLD", 5, "birth_date")]  # 101 > 100


@pytest.mark.parametrize(
    ("born", "age", "fires"),
    [
        (dt.date(2020, 6, 16), 5, False),
        (dt.date(2020, 6, 15), 6, True),
        (dt.date(2010, 6, 16), 15, True),
        (dt.date(2010, 6, 15), 16, False),
    ],
)
def test_a_school_age_child_without_school_status_is_an_education_shortfall(born, age, fires):
    found = household_findings(aged(born, school_status=None), DATA_DATE)
    assert codes(found) == ([("W_SCHOOL_AGE", 5, "school_status")] if fires else [])
    if fires:
        assert found[0].national == "1_02_005" and found[0].fields["age"] == age
        zh, en = found[0].message()
        assert f"{age} 岁" in zh and "6-15" in zh and "1_02_005" in en


def test_a_school_age_child_in_school_is_not_reported():
    assert household_findings(aged(dt.date(2014, 1, 1), school_status="小学"), DATA_DATE) == []
    empty = household_findings(aged(dt.date(2014, 1, 1), school_status=""), DATA_DATE)
    assert codes(empty) == [("W_SCHOOL_AGE", 5, "school_status")]


def test_a_sheet_without_a_school_status_column_says_nothing_of_schooling():
    assert household_findings(aged(dt.date(2014, 1, 1)), DATA_DATE) == []


def test_without_a_data_date_no_age_rule_is_evaluated():
    family = aged(dt.date(2030, 1, 1), school_status=None)
    assert household_findings(family, None) == []
    assert codes(household_findings(family, DATA_DATE)) == [("W_BORN_AFTER", 5, "birth_date")]


def test_a_member_without_a_birth_date_is_not_aged():
    assert household_findings(aged(None, school_status=None), DATA_DATE) == []


# ------------------------------------------------------------ across households
A = make_id(17, birth="19800101")  # 17: odd, a man
B = make_id(18, birth="19820202")


def person(hid: str, row: int, number: object, county: str | None = None) -> dict[str, object]:
    return {
        "household_id": hid,
        "id_number": number,
        "county": county,
        "source_sheet": SHEET,
        "source_row": row,
    }


def test_one_person_in_two_households_is_reported_on_both_rows():
    rows = [person("H1", 4, A), person("H1", 5, B), person("H2", 9, A)]
    found = duplicate_persons(rows)
    assert codes(found) == [
        ("W_PERSON_TWO_HOUSEHOLDS", 4, "id_number"),
        ("W_PERSON_TWO_HOUSEHOLDS", 9, "id_number"),
    ]
    assert [f.household_id for f in found] == ["H1", "H2"]
    assert {f.national for f in found} == {"1_01_001"}
    first, second = (f.message() for f in found)
    assert "H2（家庭成员 第 9 行）" in first.zh and "H1（家庭成员 第 4 行）" in second.zh
    assert A not in first.zh and found[0].value == A[:6] + "*" * 11 + A[-1]  # masked


def test_the_same_person_written_differently_is_still_one_person():
    # a lower-case x, spaces, and a disability certificate number (category 2, grade 3)
    x = "11010519491231002X"
    rows = [
        person("H1", 4, x.lower()),
        person("H2", 5, "110105 19491231 002X"),
        person("H3", 6, x + "23"),
    ]
    found = duplicate_persons(rows)
    assert [f.row for f in found] == [4, 5, 6]
    assert "H2（家庭成员 第 5 行）、H3（家庭成员 第 6 行）" in found[0].message().zh
    assert "H1 (sheet 家庭成员 row 4), H2 (sheet 家庭成员 row 5)" in found[2].message().en


def test_one_person_twice_in_one_household_is_not_this_rule():
    assert duplicate_persons([person("H1", 4, A), person("H1", 5, A)]) == []


def test_numbers_that_are_no_id_are_not_compared():
    legacy, lost = "110105491231002", "5.30921E+17"
    rows = [person("H1", 4, legacy), person("H2", 5, legacy), person("H1", 6, lost)]
    rows += [person("H2", 7, lost), person("H3", 8, None), person("H4", 9, None)]
    assert duplicate_persons(rows) == []


def test_a_row_without_a_household_is_not_compared():
    assert (
        duplicate_persons([person("H1", 4, A), {**person("H1", 5, A), "household_id": None}]) == []
    )


def test_across_counties_the_finding_is_the_provinces_check():
    rows = [person("H1", 4, A, "凤庆县"), person("H2", 5, A, "云县"), person("H3", 6, A, "凤庆县")]
    found = duplicate_persons(rows)
    assert codes(found) == [
        ("W_PERSON_TWO_HOUSEHOLDS", 4, "id_number"),
        ("W_PERSON_TWO_COUNTIES", 4, "id_number"),
        ("W_PERSON_TWO_COUNTIES", 5, "id_number"),
        ("W_PERSON_TWO_HOUSEHOLDS", 6, "id_number"),
        ("W_PERSON_TWO_COUNTIES", 6, "id_number"),
    ]
    assert [f.national for f in found] == [
        "1_01_001",
        "1_01_002",
        "1_01_002",
        "1_01_001",
        "1_01_002",
    ]
    zh = found[1].message().zh
    assert "凤庆县" in zh and "H2（云县，家庭成员 第 5 行）" in zh


def test_a_row_without_a_county_is_taken_as_the_same_county():
    found = duplicate_persons([person("H1", 4, A, "凤庆县"), person("H2", 5, A, None)])
    assert [f.code for f in found] == ["W_PERSON_TWO_HOUSEHOLDS"] * 2


def test_a_monitoring_export_carries_the_monitoring_code():
    found = duplicate_persons([person("H1", 4, A), person("H2", 5, A)], monitoring=True)
    assert [f.national for f in found] == ["1_12_001", "1_12_001"]


# ------------------------------------------------------------------ the codes
def test_every_person_rule_is_a_warning_with_a_message_in_both_languages():
    for code in (*person_rules.NATIONAL, "W_BORN_AFTER", "W_TOO_OLD"):
        assert row_rules.SEVERITY[code] == row_rules.WARNING
        zh, en = LABELS[f"msg_{code}"]
        assert zh and en and zh != en
