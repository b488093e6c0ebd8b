"""Row validation: every cell typed or reported, every problem names its row and column,
ID numbers checked and masked, coded values mapped, rejects and warnings as specified.

Rules: ../shared/DOMAIN.md ("Tables and fields", "Real workbooks look like this").
Expected values are written by hand.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from tests.builders import (
    HOUSEHOLD_HEADER,
    ID_A,
    ID_B,
    ID_C,
    codes,
    household,
    households_with,
    inspect,
    loaded,
    problems_of,
    single_table,
    xlsx_bytes,
)

JULY_8 = dt.date(2017, 7, 8)


def _households(*rows: list[object], township: str | None = None):
    return inspect("户信息.xlsx", xlsx_bytes([list(HOUSEHOLD_HEADER), *rows]), township)


# ------------------------------------------------------------------------ ID numbers
# Check characters by hand (weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2; remainder 0-10 ->
# "10X98765432"). 53392119800101001: 35+27+30+45+16+4+2+9+48+0+0+9+0+5+0+0+2 = 232,
# 232 % 11 = 1 -> "0", so ID_A = 533921198001010010 and ...0011 has a wrong check character.
# Likewise ID_B: 269 % 11 = 5 -> "7"; ID_C: 310 % 11 = 2 -> "X".
WRONG_CHECK = "533921198001010011"


def test_valid_text_ids_load_without_any_warning():
    report = _households(
        household(1, id_number=ID_A),
        household(2, id_number=ID_B),
        household(3, id_number=ID_C),
        household(4, id_number="11010519491231002X"),  # the GB 11643 example
    )
    assert loaded(report, "head_id_number") == [ID_A, ID_B, ID_C, "11010519491231002X"]
    assert report.problems == []


def test_wrong_check_character_warns_with_the_expected_one_and_keeps_the_row():
    report = _households(household(1, id_number=WRONG_CHECK))
    assert loaded(report, "head_id_number") == [WRONG_CHECK]
    [p] = report.problems
    assert (p.code, p.severity, p.row, p.column) == ("W_ID_CHECK", "warning", 2, "G 户主身份证号")
    assert "“0”" in p.message
    assert "'0'" in p.message_en
    assert p.value == "533921***********1"


def test_lower_case_x_and_inner_spaces_are_normalised():
    report = _households(
        household(1, id_number="53392119850611005x"),
        household(2, id_number="533921 19850611 005X"),
        household(3, id_number=" 5339 2119 7512 0300 27 "),
    )
    assert loaded(report, "head_id_number") == [ID_C, ID_C, ID_B]
    assert report.problems == []


def test_id_stored_as_a_number_cell_warns_that_digits_are_lost():
    # Excel keeps 15 significant digits: 533921198001010010 is held as ...010000.
    report = _households(household(1, id_number=533921198001010000))
    table = single_table(report)
    assert len(table.rows) == 1
    assert codes(report) == ["W_ID_AS_NUMBER"]
    [p] = report.problems
    assert (p.row, p.column, p.value) == (2, "G 户主身份证号", "533921***********0")


def test_fifteen_digit_id_warns_legacy():
    report = _households(household(1, id_number="533921800101001"))
    assert codes(report) == ["W_ID_LEGACY15"]
    assert report.problems[0].value == "533921********1"
    assert loaded(report, "head_id_number") == ["533921800101001"]


def test_id_of_another_length_warns_with_its_length():
    report = _households(household(1, id_number="53392119800101001"))
    [p] = report.problems
    assert p.code == "W_ID_LENGTH"
    assert "17" in p.message
    assert p.value == "533921**********1"
    assert len(single_table(report).rows) == 1


def test_id_with_an_impossible_birth_date_warns():
    # Born in month 13: 53392119801345001 sums to 317, 317 % 11 = 9 -> check "3".
    report = _households(household(1, id_number="533921198013450013"))
    assert codes(report) == ["W_ID_BIRTH"]


def test_full_id_numbers_never_appear_in_the_report():
    full = [WRONG_CHECK, "533921800101001", "53392119800101001", "533921198001010000"]
    report = _households(
        household(1, id_number=WRONG_CHECK),
        household(2, id_number="533921800101001"),
        household(3, id_number="53392119800101001"),
        household(4, id_number=533921198001010000),
        household(5, id_number="5339 2119 8001 0100 1x", hid="H001"),  # also a duplicate id
    )
    assert sorted(codes(report)) == [
        "E_DUPLICATE_ID",
        "W_ID_AS_NUMBER",
        "W_ID_CHECK",
        "W_ID_CHECK",
        "W_ID_LEGACY15",
        "W_ID_LENGTH",
    ]
    for p in report.problems:
        text = " ".join(str(v) for v in dataclasses.astuple(p)).replace(" ", "").upper()
        for number in [*full, "53392119800101001X"]:
            assert number not in text, p
    assert [p.value for p in problems_of(report, "W_ID_CHECK")] == [
        "533921***********1",
        "533921***********X",  # the region code, not "5339 2": masked once normalised
    ]


# ----------------------------------------------------------------- numbers as text
def test_household_size_stored_as_text_full_width_or_with_a_unit_is_read():
    report = _households(
        household(1, size="4"),
        household(2, size="４"),
        household(3, size="4人"),
        household(4, size=" 5 "),
        household(5, size=3.0),
    )
    assert loaded(report, "household_size") == [4, 4, 4, 5, 3]
    assert report.problems == []


@pytest.mark.parametrize("size", [0, -1, 2.5, "abc", "0", "-1"])
def test_household_size_that_is_not_a_positive_whole_number_rejects_the_row(size):
    report = _households(household(1), household(2, size=size))
    table = single_table(report)
    assert [r["household_id"] for r in table.rows] == ["H001"]
    assert [r["source_row"] for r in table.rejected] == [3]
    [p] = report.problems
    assert (p.code, p.severity, p.row, p.column) == ("E_POSITIVE_INT", "error", 3, "H 家庭人口数")


def test_unknown_income_warns_and_keeps_the_row_with_empty_income():
    data = households_with("人均纯收入（元）", ["不详", "3,200", "２９５２元", None])
    report = inspect("收入.xlsx", data)
    assert loaded(report, "income_per_capita") == [None, 3200.0, 2952.0, None]
    [p] = report.problems
    assert (p.code, p.severity, p.row, p.value) == ("W_NUMBER", "warning", 2, "不详")
    assert p.column == "J 人均纯收入（元）"


# ------------------------------------------------------------------------ yes / no
YES_NO = [
    ("是", True),
    ("否", False),
    ("√", True),
    ("×", False),
    ("有", True),
    ("无", False),
    ("Y", True),
    ("N", False),
    ("y", True),
    ("n", False),
    ("1", True),
    ("0", False),
    (1, True),
    (0, False),
    (True, True),
    (False, False),
    (None, None),
]


def test_yes_no_spellings_and_real_booleans_are_read():
    report = inspect("是否.xlsx", households_with("不愁吃穿", [v for v, _ in YES_NO]))
    assert loaded(report, "food_clothing_secure") == [want for _, want in YES_NO]
    assert report.problems == []


def test_yes_no_spellings_in_csv_are_read():
    values = ["是", "否", "√", "×", "有", "无", "Y", "N", "1", "0"]
    report = inspect("是否.csv", households_with("住房安全有保障", values, fmt="csv"))
    want = [True, False, True, False, True, False, True, False, True, False]
    assert loaded(report, "housing_secure") == want


def test_unrecognised_yes_no_warns_and_keeps_the_row():
    report = inspect("是否.xlsx", households_with("基本医疗有保障", ["不清楚"]))
    assert loaded(report, "medical_secure") == [None]
    assert codes(report) == ["W_YESNO"]


# --------------------------------------------------------------------------- dates
def test_date_cells_serial_numbers_and_text_dates_all_read_as_the_same_day():
    values = [
        JULY_8,
        dt.datetime(2017, 7, 8),
        42924,  # Excel serial of 2017-07-08 (1900 system: 1899-12-30 + 42924 days)
        "42924",
        "2017.7.8",
        "2017年7月8日",
        "2017-07-08",
        "2017/7/8",
        "20170708",
    ]
    report = inspect("日期.xlsx", households_with("调查日期", values))
    assert loaded(report, "survey_date") == [JULY_8] * len(values)
    assert report.problems == []


def test_excel_serial_42923_is_the_day_before():
    # 2017-07-07: guards against an off-by-one epoch (1899-12-31 or 1900-01-01).
    report = inspect("日期.xlsx", households_with("调查日期", [42923]))
    assert loaded(report, "survey_date") == [dt.date(2017, 7, 7)]


def test_text_dates_in_csv_are_read():
    values = ["2017.7.8", "2017年7月8日", "2017-07-08", "2017/7/8", "2017-07-08 00:00:00"]
    report = inspect("日期.csv", households_with("入户日期", values, fmt="csv"))
    assert loaded(report, "survey_date") == [JULY_8] * 5


@pytest.mark.parametrize("bad", ["2017年13月1日", "七月八日", "2017.2.30", "下周"])
def test_bad_date_warns_and_keeps_the_row_with_empty_date(bad):
    report = inspect("日期.xlsx", households_with("调查日期", [bad]))
    assert loaded(report, "survey_date") == [None]
    [p] = report.problems
    assert (p.code, p.severity, p.row, p.column) == ("W_DATE", "warning", 2, "J 调查日期")


# --------------------------------------------------------------------- coded values
def test_registry_state_synonyms_map_to_their_keys():
    spellings = ["未脱贫", "贫困户", "已脱贫", "脱贫户", "非建档立卡", "一般农户", "非贫困户"]
    report = _households(*[household(n, state=s) for n, s in enumerate(spellings, 1)])
    assert loaded(report, "registry_state") == [
        "remaining_poor",
        "remaining_poor",
        "exited",
        "exited",
        "nonregistered",
        "nonregistered",
        "nonregistered",
    ]


def test_adjustment_synonyms_map_to_their_keys():
    values = ["新增", "新识别", "返贫", "脱贫返贫", "拟退出", "拟脱贫", "剔除", "无", None]
    report = inspect("调整.xlsx", households_with("动态管理结果", values))
    assert loaded(report, "adjustment") == [
        "new",
        "new",
        "relapse",
        "relapse",
        "exit_proposed",
        "exit_proposed",
        "removed",
        None,
        None,
    ]
    assert not problems_of(report, "E_CODE")


def test_finding_synonyms_map_to_their_keys():
    values = ["错评", "漏评", "错退", "错退户", "正确", None]
    report = inspect("核查.xlsx", households_with("核查结论", values))
    want = ["inclusion_error", "exclusion_error", "wrongful_exit", "wrongful_exit", None, None]
    assert loaded(report, "verification") == want
    assert not problems_of(report, "E_CODE")


@pytest.mark.parametrize(
    ("header", "value", "column"),
    [("建档立卡状态", "待定", "I"), ("动态管理结果", "调出", "J"), ("核查结论", "待核", "J")],
)
def test_unknown_code_rejects_the_row_with_E_CODE(header, value, column):
    rows = [list(HOUSEHOLD_HEADER), household(1)]
    if header == "建档立卡状态":
        rows.append(household(2, state=value))
    else:
        rows[0].append(header)
        rows[1].append(None)
        rows.append([*household(2), value])
    report = inspect("代码.xlsx", xlsx_bytes(rows))
    table = single_table(report)
    assert [r["source_row"] for r in table.rejected] == [3]
    [p] = report.problems
    assert (p.code, p.row, p.value) == ("E_CODE", 3, value)
    assert p.column.startswith(column + " ")


def test_empty_registry_state_rejects_the_row_with_E_REQUIRED():
    report = _households(household(1, state=None))
    [p] = report.problems
    assert (p.code, p.row, p.column) == ("E_REQUIRED", 2, "I 建档立卡状态")


# ------------------------------------------------ duplicates and contradictions
def test_duplicate_household_id_rejects_the_later_row_naming_the_first():
    report = _households(household(1), household(2), household(3, hid="H001"))
    table = single_table(report)
    assert [r["source_row"] for r in table.rows] == [2, 3]
    assert [r["source_row"] for r in table.rejected] == [4]
    [p] = report.problems
    assert (p.code, p.severity, p.row, p.column) == ("E_DUPLICATE_ID", "error", 4, "E 户编号")
    assert "第 2 行" in p.message
    assert "H001" in p.message


@pytest.mark.parametrize(
    ("state", "header", "outcome"),
    [
        ("未脱贫", "动态管理结果", "新增"),  # new on a registered household
        ("已脱贫", "动态管理结果", "新增"),
        ("未脱贫", "动态管理结果", "返贫"),  # relapse on a never-exited household
        ("非建档立卡", "动态管理结果", "返贫"),
        ("已脱贫", "动态管理结果", "拟退出"),  # exit proposed on a non-remaining-poor one
        ("非建档立卡", "动态管理结果", "拟退出"),
        ("未脱贫", "核查结论", "错退"),  # wrongful exit on a non-exited household
        ("非建档立卡", "核查结论", "错退"),
        ("非建档立卡", "核查结论", "错评"),
        ("已脱贫", "核查结论", "漏评"),
    ],
)
def test_contradicting_outcome_warns_and_keeps_the_row(state, header, outcome):
    rows = [[*HOUSEHOLD_HEADER, header], [*household(1, state=state), outcome]]
    report = inspect("矛盾.xlsx", xlsx_bytes(rows))
    assert len(single_table(report).rows) == 1
    [p] = report.problems
    assert (p.code, p.severity, p.row, p.column) == ("W_CONTRADICTION", "warning", 2, f"J {header}")
    assert outcome in p.message


@pytest.mark.parametrize(
    ("state", "header", "outcome"),
    [
        ("非建档立卡", "动态管理结果", "新增"),
        ("已脱贫", "动态管理结果", "返贫"),
        ("未脱贫", "动态管理结果", "拟退出"),
        ("已脱贫", "核查结论", "错退"),
        ("未脱贫", "核查结论", "错评"),
        ("非建档立卡", "核查结论", "漏评"),
    ],
)
def test_consistent_outcome_gives_no_warning(state, header, outcome):
    rows = [[*HOUSEHOLD_HEADER, header], [*household(1, state=state), outcome]]
    report = inspect("一致.xlsx", xlsx_bytes(rows))
    assert len(single_table(report).rows) == 1
    assert report.problems == []


# ------------------------------------------------------------------------- meetings
MEETING_HEADER = ["行政村", "村民小组", "会议日期", "会议阶段", "参会人数(人次)", "主持人"]


def _meetings(*rows: list[object]):
    return inspect("会议.xlsx", xlsx_bytes([MEETING_HEADER, *rows], sheet="会议"), "诗礼乡")


def test_meetings_table_is_recognised_and_attendance_header_drops_its_unit():
    report = _meetings(["孔兴村", "孔兴组", JULY_8, "实地调查", 12, "王五"])
    table = single_table(report)
    assert table.table == "meetings"
    [row] = table.rows
    assert (row["village"], row["group"], row["meeting_date"]) == ("孔兴村", "孔兴组", JULY_8)
    assert (row["attendance"], row["phase"], row["township"]) == (12, "实地调查", "诗礼乡")
    assert report.problems == []


def test_meeting_without_village_is_township_level_and_loads():
    report = _meetings([None, None, "2017.6.28", "贫情分析", 35, "赵六"])
    [row] = single_table(report).rows
    assert (row["village"], row["group"], row["attendance"]) == (None, None, 35)
    assert row["meeting_date"] == dt.date(2017, 6, 28)
    assert report.problems == []


def test_meeting_with_group_but_no_village_is_rejected():
    report = _meetings([None, "孔兴组", "2017-06-28", "贫情分析", 10, None])
    table = single_table(report)
    assert table.rows == []
    [p] = report.problems
    assert (p.code, p.row, p.column, p.value) == (
        "E_GROUP_WITHOUT_VILLAGE",
        2,
        "B 村民小组",
        "孔兴组",
    )


@pytest.mark.parametrize("attendance", [-1, 2.5, "-1", "很多"])
def test_meeting_attendance_that_is_not_a_whole_number_from_zero_is_rejected(attendance):
    report = _meetings(["孔兴村", None, "2017-06-28", "贫情分析", attendance, None])
    assert single_table(report).rows == []
    [p] = report.problems
    assert (p.code, p.row, p.column) == ("E_NONNEG_INT", 2, "E 参会人数(人次)")


def test_meeting_attendance_of_zero_loads():
    report = _meetings(["孔兴村", None, "2017-06-28", "贫情分析", 0, None])
    assert loaded(report, "attendance") == [0]


# ------------------------------------------------------------------------ relocation
RELOCATION_HEADER = [
    "户编号",
    "户主",
    "迁出村",
    "安置点",
    "安置方式",
    "搬迁人口",
    "住房面积（平方米）",
]


def _relocation(*rows: list[object]):
    return inspect("搬迁.xlsx", xlsx_bytes([RELOCATION_HEADER, *rows], sheet="搬迁"), "诗礼乡")


def test_relocation_table_is_recognised_and_loads():
    report = _relocation(["H001", "张三", "孔兴村", "诗礼集镇安置点", "集中安置", "4", "100"])
    table = single_table(report)
    assert table.table == "relocation"
    [row] = table.rows
    assert (row["household_id"], row["village"], row["site"]) == (
        "H001",
        "孔兴村",
        "诗礼集镇安置点",
    )
    assert (row["mode"], row["persons"], row["house_area"]) == ("集中安置", 4, 100.0)
    assert report.problems == []


@pytest.mark.parametrize(
    ("index", "column"), [(0, "A 户编号"), (5, "F 搬迁人口"), (6, "G 住房面积（平方米）")]
)
def test_relocation_row_without_id_persons_or_area_is_rejected(index, column):
    bad = ["H002", "李四", "孔兴村", "诗礼集镇安置点", "集中安置", 3, 75]
    bad[index] = None
    report = _relocation(["H001", "张三", "孔兴村", "诗礼集镇安置点", "集中安置", 4, 100], bad)
    table = single_table(report)
    assert [r["household_id"] for r in table.rows] == ["H001"]
    assert [r["source_row"] for r in table.rejected] == [3]
    [p] = report.problems
    assert (p.code, p.row, p.column) == ("E_REQUIRED", 3, column)


@pytest.mark.parametrize(
    ("area", "code"), [(0, "E_POSITIVE_NUMBER"), ("不详", "E_POSITIVE_NUMBER")]
)
def test_relocation_house_area_must_be_positive(area, code):
    report = _relocation(["H001", "张三", "孔兴村", "安置点", "分散安置", 4, area])
    assert single_table(report).rows == []
    assert codes(report) == [code]


# -------------------------------------------------------------------------- villages
def test_villages_table_is_recognised():
    rows = [
        ["行政村", "是否贫困村", "总户数", "总人口", "乡村人口"],
        ["孔兴村", "是", 420, 1703, 1650],
        ["诗礼村", "否", "380", "1,520", "1500人"],
    ]
    report = inspect("村情况.xlsx", xlsx_bytes(rows, sheet="村基本情况"), "诗礼乡")
    table = single_table(report)
    assert table.table == "villages"
    assert [(r["village"], r["is_poor_village"]) for r in table.rows] == [
        ("孔兴村", True),
        ("诗礼村", False),
    ]
    assert [r["rural_population"] for r in table.rows] == [1650, 1500]
    assert [r["population"] for r in table.rows] == [1703, 1520]
    assert report.problems == []


# ------------------------------------------------------------------- every row placed
def test_every_data_row_is_loaded_or_rejected_never_dropped():
    report = _households(
        household(1),
        household(2, size=0),  # E_POSITIVE_INT
        household(3, village=None),  # E_REQUIRED
        household(4, state="待定"),  # E_CODE
        household(5, hid="H001"),  # E_DUPLICATE_ID
        household(6, id_number=WRONG_CHECK),  # warning only
    )
    table = single_table(report)
    assert [r["source_row"] for r in table.rows] == [2, 7]
    assert [r["source_row"] for r in table.rejected] == [3, 4, 5, 6]
    assert all(r["reasons"] for r in table.rejected)
    assert all(p.file == "户信息.xlsx" and p.sheet == "户信息" for p in report.problems)


def test_a_contradiction_is_written_in_english_words_in_the_english_message():
    """The English row report says the outcome and the state in English (the label table's),
    not in Chinese inside an English sentence."""
    rows = [[*HOUSEHOLD_HEADER, "动态管理结果"], [*household(1, state="已脱贫"), "新增"]]
    [p] = inspect("矛盾.xlsx", xlsx_bytes(rows)).problems
    assert p.message_en.startswith("'new' contradicts registry state 'exited'")
    assert "“新增”与建档立卡状态“已脱贫”矛盾" in p.message
