"""What the national poverty-alleviation system exports, read as it writes it
(../shared/DOMAIN.md "What offices really export"): a header that a data row under it
cannot be mistaken for.

Every workbook is built here, a few rows each; expected values are written by hand.
"""

from __future__ import annotations

from tests.builders import (
    csv_bytes,
    inspect,
    person_list,
    person_row,
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
    assert [r["head_name"] for r in table.rows] == ["张1", "张2"]
    assert table.headers == {
        "乡(镇)": "township",
        "行政村": "village",
        "自然村": "group",
        "户编号": "household_id",
        "姓名": "head_name",
        "证件号码": "head_id_number",
        "人数": "household_size",
        "贫困户属性": "poverty_attribute",
        "人均纯收入": "income_per_capita",
        "户类型": "registry_state",
    }
    assert "与户主关系" in report.sheets[0].unused_columns
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
