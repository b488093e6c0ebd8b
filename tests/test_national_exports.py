"""What the national poverty-alleviation system exports, read as it writes it
(../shared/DOMAIN.md "What offices really export"): a header that a data row under it
cannot be mistaken for, 脱贫属性 and 户类型 as the registry state, YYYYMM months, disability
certificate numbers in 证件号码, 无 / / / — as empty cells.

Every workbook is built here, a few rows each; expected values are written by hand.
"""

from __future__ import annotations

import datetime as dt

import pytest

from analytics.domain import idcard
from analytics.figures import queries
from analytics.importing import ingest
from analytics.importing.values import parse_month
from analytics.store.database import Store
from tests.builders import (
    PERSON_LIST_HEADER,
    codes,
    csv_bytes,
    inspect,
    loaded,
    make_id,
    members_of,
    person_list,
    person_row,
    problems_of,
    single_table,
    xlsx_bytes,
)


# --------------------------------------------------- a header that cannot eat data
def test_a_person_list_whose_first_row_is_the_head_of_household_keeps_that_row():
    """与户主关系 says 户主 on the first data row: a header spelling in one cell does not make
    the row a second header row (the row was lost, every header got a "/凤庆县" suffix)."""
    rows = person_list([person_row(1), person_row(2, relation="本人")])
    report = inspect("贫困人口明细.xlsx", xlsx_bytes(rows))
    table = single_table(report)
    assert report.sheets[0].header_rows == "3"
    assert [r["household_id"] for r in table.rows] == ["5309211030010001", "5309211030010002"]
    assert [r["source_row"] for r in table.rows] == [4, 5]
    assert [m["name"] for m in members_of(report)] == ["张1", "张2"]
    assert table.headers == {
        "县(市、区、旗)": "county",
        "乡(镇)": "township",
        "行政村": "village",
        "自然村": "group",
        "户编号": "household_id",
        "人数": "household_size",
        "脱贫属性": "registry_state",
        "贫困户属性": "poverty_attribute",
        "人均纯收入": "income_per_capita",
        "首次识别时间": "first_identified",
        "户类型": "household_type",
        "姓名": "head_name",  # the 户主 row's
        "证件号码": "head_id_number",
    }
    assert [r["head_name"] for r in table.rows] == ["张1", "张2"]
    assert report.sheets[0].columns["与户主关系"] == "relation"
    assert report.problems == []


def test_a_first_data_row_of_yes_no_answers_in_a_csv_stays_data():
    """Every cell of a CSV is text; 是 / 否 are answers, and the remark 空挂户 (the header of
    an exclusion flag) is one cell of eight."""
    header = ["户编号", "行政村", "家庭人口数", "建档立卡状态", "不愁吃穿", "义务教育", "基本医疗"]
    header += ["住房安全", "备注"]
    rows = [
        header,
        ["H001", "孔兴村", "4", "已脱贫", "是", "是", "否", "是", "空挂户"],
        ["H002", "孔兴村", "3", "已脱贫", "是", "否", "是", "是", None],
    ]
    report = inspect("户信息.csv", csv_bytes(rows), township="诗礼乡")
    table = single_table(report)
    assert report.sheets[0].header_rows == "1"
    assert [r["household_id"] for r in table.rows] == ["H001", "H002"]
    assert [r["medical_secure"] for r in table.rows] == [False, True]
    assert [r.get("excl_empty_registration") for r in table.rows] == [None, None]
    assert report.sheets[0].unused_columns == ["备注"]


def test_a_first_data_row_of_numbers_stays_data():
    """A number cell is a value, never a header: the id, the size, the income and the year
    outweigh the one cell (户主) that is also a header spelling."""
    header = ["户编号", "与户主关系", "行政村", "家庭人口数", "建档立卡状态", "人均纯收入"]
    header.append("脱贫年度")
    rows = [header, [5309210001, "户主", "孔兴村", 4, "已脱贫", 5200.5, 2016]]
    rows.append([5309210002, "户主", "孔兴村", 2, "已脱贫", 4100, 2015])
    report = inspect("户信息.xlsx", xlsx_bytes(rows), township="诗礼乡")
    table = single_table(report)
    assert report.sheets[0].header_rows == "1"
    assert [r["household_id"] for r in table.rows] == ["5309210001", "5309210002"]
    assert [r["income_per_capita"] for r in table.rows] == [5200.5, 4100.0]
    assert list(table.headers) == header[:1] + header[2:]


def test_a_second_header_row_with_unknown_sub_headers_is_still_a_header():
    """Under a merged group 家庭收入: a known sub-header (人均纯收入) beside an unknown one
    (工资性收入); the other header cells merged down both rows."""
    rows = [
        ["户编号", "行政村", "家庭人口数", "建档立卡状态", "家庭收入", None],
        [None, None, None, None, "人均纯收入", "工资性收入"],
        ["H001", "孔兴村", 4, "已脱贫", 5200, 3000],
    ]
    merges = ["A1:A2", "B1:B2", "C1:C2", "D1:D2", "E1:F1"]
    report = inspect("两行表头.xlsx", xlsx_bytes(rows, merges), township="诗礼乡")
    table = single_table(report)
    assert report.sheets[0].header_rows == "1-2"
    assert [r["income_per_capita"] for r in table.rows] == [5200]
    assert report.sheets[0].unused_columns == ["家庭收入/工资性收入"]


# -------------------------------------------------------- 脱贫属性 and 户类型
def _states(*rows: list[object]) -> ingest.FileReport:
    return inspect("贫困人口明细.xlsx", xlsx_bytes(person_list(rows)))


def test_脱贫属性_is_the_registry_state_and_names_an_adjustment_where_it_says_one():
    values = ["未脱贫", "已脱贫", "预脱贫", "拟脱贫", "返贫"]
    report = _states(*(person_row(n, state=v, household_type=None) for n, v in enumerate(values)))
    states = ["remaining_poor", "exited", "remaining_poor", "remaining_poor", "exited"]
    assert loaded(report, "registry_state") == states
    assert loaded(report, "adjustment") == [None, None, "exit_proposed", "exit_proposed", "relapse"]
    assert report.problems == []


def test_贫困户状态_is_a_registry_state_column_too():
    header = [*PERSON_LIST_HEADER[:18], "贫困户状态", *PERSON_LIST_HEADER[19:]]
    rows = [person_row(1, state="已脱贫", household_type=None), person_row(2, state="预脱贫")]
    report = inspect("明细.xlsx", xlsx_bytes(person_list(rows, header)))
    assert loaded(report, "registry_state") == ["exited", "remaining_poor"]
    assert loaded(report, "adjustment") == [None, "exit_proposed"]


def test_户类型_alone_is_the_registry_state():
    header = [h for h in PERSON_LIST_HEADER if h != "脱贫属性"]
    rows = [
        [v for i, v in enumerate(person_row(n, household_type=t)) if i != 18]
        for n, t in enumerate(["脱贫户", "一般农户", "普通农户"])
    ]
    report = inspect("户信息.xlsx", xlsx_bytes(person_list(rows, header)))
    assert loaded(report, "registry_state") == ["exited", "nonregistered", "nonregistered"]
    assert single_table(report).headers["户类型"] == "registry_state"
    assert report.problems == []


def test_脱贫属性_decides_over_户类型_and_a_blank_cell_is_no_disagreement():
    report = _states(
        person_row(1, state="已脱贫", household_type="脱贫户"),  # agree
        person_row(2, state=None, household_type="一般农户"),  # 脱贫属性 blank: 户类型's
        person_row(3, state="未脱贫", household_type=None),  # 户类型 blank
        person_row(4, state="未脱贫", household_type="脱贫户"),  # disagree: 脱贫属性 wins
    )
    assert loaded(report, "registry_state") == [
        "exited",
        "nonregistered",
        "remaining_poor",
        "remaining_poor",
    ]
    assert loaded(report, "household_type") == ["exited", "nonregistered", None, "exited"]
    [found] = report.problems
    assert (found.row, found.column, found.code, found.severity) == (
        7,
        "Z 户类型",
        "W_STATE_DISAGREE",
        "warning",
    )
    assert "S 脱贫属性" in found.message and "未脱贫" in found.message
    assert "S 脱贫属性" in found.message_en


def test_an_explicit_adjustment_wins_over_the_one_脱贫属性_implies_with_a_warning():
    header = [*PERSON_LIST_HEADER, "动态管理结果"]
    rows = [
        [*person_row(1, state="预脱贫"), "拟退出"],  # agree
        [*person_row(2, state="预脱贫"), None],  # implied only
        [*person_row(3, state="返贫", household_type="脱贫户"), "剔除"],  # conflict
    ]
    report = inspect("明细.xlsx", xlsx_bytes(person_list(rows, header)))
    assert loaded(report, "adjustment") == ["exit_proposed", "exit_proposed", "removed"]
    assert loaded(report, "registry_state") == ["remaining_poor", "remaining_poor", "exited"]
    [found] = report.problems
    assert (found.row, found.column, found.value, found.code) == (
        6,
        "AA 动态管理结果",
        "剔除",
        "W_IMPLIED_ADJUSTMENT",
    )
    assert "S 脱贫属性" in found.message and "返贫" in found.message


def test_a_state_and_adjustment_column_imply_an_adjustment_column_for_the_figures(tmp_path):
    """Figures of a household-level file with 脱贫属性 / 户类型 in place of 建档立卡状态,
    counted by hand: 5 households, 14 persons."""
    header = [h for h in PERSON_LIST_HEADER if h not in ("与户主关系", "人编号")]

    def household_row(n: int, size: int, state: str | None, kind: str | None) -> list[object]:
        row = person_row(n, size=size, state=state, household_type=kind)
        return [v for i, v in enumerate(row) if i not in (6, 10)]

    rows = [
        household_row(1, 4, "未脱贫", "贫困户"),  # remaining_poor
        household_row(2, 3, "预脱贫", None),  # remaining_poor, exit_proposed
        household_row(3, 2, "已脱贫", "脱贫户"),  # exited
        household_row(4, 1, "返贫", "脱贫户"),  # exited, relapse
        household_row(5, 4, None, "一般农户"),  # nonregistered
    ]
    store = Store(tmp_path / "s.duckdb")
    try:
        data = xlsx_bytes(person_list(rows, header))
        report = ingest.import_file(store, "诗礼乡户信息.xlsx", data, "2019年动态管理")
        assert (report.status, report.problems) == ("loaded", [])
        got = queries.metrics_frame(store, "2019年动态管理", "township").iloc[0]
        expected = {
            "households_total": 5,
            "persons_total": 14,
            "registered_households": 4,
            "registered_persons": 10,
            "remaining_poor_households": 2,
            "remaining_poor_persons": 7,
            "exited_households": 2,
            "exited_persons": 3,
            "nonregistered_households": 1,
            "nonregistered_persons": 4,
            "exit_proposed_households": 1,
            "exit_proposed_persons": 3,
            "relapse_households": 1,
            "relapse_persons": 1,
            "new_households": 0,
            "removed_households": 0,
        }
        assert {k: got[k] for k in expected} == expected
    finally:
        store.close()


# -------------------------------------------------------------- YYYYMM months
@pytest.mark.parametrize(
    "cell",
    [201403, 201403.0, "201403", "201403.0", "2014-03", "2014年3月", "2014年03月", "2014.03"],
)
def test_a_yyyymm_month_is_read_however_the_export_wrote_it(cell):
    assert parse_month(cell) == dt.date(2014, 3, 1)
    report = _states(person_row(1, first_identified=cell))
    assert loaded(report, "first_identified") == [dt.date(2014, 3, 1)]
    assert report.problems == []


@pytest.mark.parametrize("cell", [201413, "2014", "二〇一四年", 201403.5])
def test_a_month_that_is_none_is_a_warning_and_empty(cell):
    report = _states(person_row(1, first_identified=cell))
    assert loaded(report, "first_identified") == [None]
    assert codes(report) == ["W_MONTH"]
    assert problems_of(report, "W_MONTH")[0].column == "Y 首次识别时间"


# ---------------------------------------------- disability certificate numbers
def test_a_disability_certificate_number_in_证件号码_is_valid_and_kept_whole():
    """18 characters of ID number, category 4 and grade 2 (and two more on some cards)."""
    twenty, twenty_two = make_id(1) + "42", make_id(2) + "71B1"
    report = _states(person_row(1, id_number=twenty), person_row(2, id_number=twenty_two))
    assert [m["id_number"] for m in members_of(report)] == [twenty, twenty_two]
    assert report.problems == []
    assert idcard.disability(twenty) == (4, 2) and idcard.disability(twenty_two) == (7, 1)
    assert idcard.disability(make_id(1)) is None


def test_a_disability_certificate_number_is_checked_on_its_id_number():
    wrong_check = make_id(1)[:17] + ("0" if make_id(1)[17] != "0" else "1")
    report = _states(
        person_row(1, id_number=wrong_check + "42"),  # the ID's check character is wrong
        person_row(2, id_number=make_id(2) + "82"),  # category 8: no such category
    )
    assert codes(report) == ["W_ID_CHECK", "W_ID_LENGTH"]


# --------------------------------------------------------------- empty words
@pytest.mark.parametrize("word", ["无", "/", "／", "—", "——", "-"])
def test_无_slash_and_dash_are_empty_cells_in_every_field(word):
    report = _states(
        person_row(
            1,
            group=word,
            id_number=word,
            income=word,
            first_identified=word,
            household_type=word,
            attribute=word,
        )
    )
    [row] = single_table(report).rows
    assert [row.get(k) for k in ("group", "income_per_capita")] == [None] * 2
    assert [m["id_number"] for m in members_of(report)] == [None]
    assert [row.get(k) for k in ("first_identified", "household_type")] == [None, None]
    assert row.get("poverty_attribute") is None
    assert report.problems == []


def test_无_in_a_yes_no_field_is_no():
    rows = [["户编号", "行政村", "家庭人口数", "建档立卡状态", "有机动车"]]
    rows += [["H001", "孔兴村", 4, "已脱贫", "无"], ["H002", "孔兴村", 3, "已脱贫", "/"]]
    report = inspect("户信息.xlsx", xlsx_bytes(rows), township="诗礼乡")
    assert loaded(report, "excl_vehicle") == [False, None]
    assert report.problems == []
