"""Real county workbooks (../shared/DOMAIN.md "Real workbooks look like this") import
without losing a row: where the header is, merged cells, totals and signature lines,
header spellings, encodings, file formats, several sheets and the township.

Every workbook is built here, a few rows each; expected values are written by hand.
"""

from __future__ import annotations

import io

import openpyxl
import pytest

from tests.builders import (
    HOUSEHOLD_HEADER,
    ID_A,
    csv_bytes,
    household,
    inspect,
    loaded,
    problems_of,
    single_table,
    workbook_bytes,
    xls_bytes,
    xlsx_bytes,
)

TITLE = "凤庆县诗礼乡2017年贫困对象动态管理户信息表"
# Columns without 乡镇: A 户编号, B 行政村, C 家庭人口数, D 建档立卡状态.
SHORT_HEADER = ["户编号", "行政村", "家庭人口数", "建档立卡状态"]


# ------------------------------------------------------------------ where the header is
def test_header_below_merged_title_and_reporting_unit_rows_is_found():
    rows = [
        [TITLE, *[None] * 8],
        ["填报单位：诗礼乡人民政府", None, None, None, None, None, "填报日期：2017年7月13日"],
        list(HOUSEHOLD_HEADER),
        household(1),
        household(2),
    ]
    report = inspect("户信息.xlsx", xlsx_bytes(rows, merges=["A1:I1", "A2:F2", "G2:I2"]))
    table = single_table(report)
    assert report.sheets[0].header_rows == "3"
    assert [r["household_id"] for r in table.rows] == ["H001", "H002"]
    assert [r["source_row"] for r in table.rows] == [4, 5]
    assert report.problems == []


FOUR_SECURE = ("food_clothing_secure", "education_secure", "medical_secure", "housing_secure")
# One "否" per row, each in a different sub-column, so a shifted column shows.
SECURE_ROWS = [
    ["H001", "孔兴村", 4, "已脱贫", "否", "是", "是", "是", 2016],
    ["H002", "孔兴村", 3, "已脱贫", "是", "否", "是", "是", 2016],
    ["H003", "孔兴村", 5, "已脱贫", "是", "是", "否", "是", 2015],
    ["H004", "孔兴村", 2, "已脱贫", "是", "是", "是", "否", 2015],
]
SECURE_EXPECTED = [
    (False, True, True, True),
    (True, False, True, True),
    (True, True, False, True),
    (True, True, True, False),
]


def test_two_row_header_with_merged_group_puts_four_yes_no_fields_in_their_keys():
    rows = [
        [*SHORT_HEADER, "两不愁三保障", None, None, None, "脱贫年度"],
        [None, None, None, None, "不愁吃穿", "义务教育", "基本医疗", "住房安全", None],
        *SECURE_ROWS,
    ]
    merges = ["A1:A2", "B1:B2", "C1:C2", "D1:D2", "E1:H1", "I1:I2"]
    report = inspect("两行表头.xlsx", xlsx_bytes(rows, merges), township="诗礼乡")
    table = single_table(report)
    assert report.sheets[0].header_rows == "1-2"
    assert [tuple(r[k] for k in FOUR_SECURE) for r in table.rows] == SECURE_EXPECTED
    assert [r["exit_year"] for r in table.rows] == [2016, 2016, 2015, 2015]
    assert [r["household_size"] for r in table.rows] == [4, 3, 5, 2]
    assert report.problems == []


def test_two_row_header_without_merges_reads_sub_headers_under_the_group():
    rows = [
        [*SHORT_HEADER, "两不愁三保障", None, None, None, "脱贫年度"],
        [None, None, None, None, "不愁吃穿", "义务教育", "基本医疗", "住房安全", None],
        *SECURE_ROWS,
    ]
    report = inspect("两行表头无合并.xlsx", xlsx_bytes(rows), township="诗礼乡")
    table = single_table(report)
    assert report.sheets[0].header_rows == "1-2"
    assert [tuple(r[k] for k in FOUR_SECURE) for r in table.rows] == SECURE_EXPECTED
    assert [r["exit_year"] for r in table.rows] == [2016, 2016, 2015, 2015]
    assert [r["source_row"] for r in table.rows] == [3, 4, 5, 6]


def test_column_numbering_row_under_the_header_is_skipped():
    rows = [list(HOUSEHOLD_HEADER), [1, 2, 3, 4, 5, 6, 7, 8, 9], household(1), household(2)]
    table = single_table(inspect("编号行.xlsx", xlsx_bytes(rows)))
    assert table.skipped["numbering"] == 1
    assert [r["household_id"] for r in table.rows] == ["H001", "H002"]
    assert table.rejected == []


# ------------------------------------------------------------------------ merged cells
def test_merged_village_cells_fill_every_row():
    rows = [
        list(HOUSEHOLD_HEADER),
        household(1, village="孔兴村"),
        household(2, village=None),
        household(3, village=None),
        household(4, village="诗礼村"),
        household(5, village=None),
    ]
    report = inspect("合并村.xlsx", xlsx_bytes(rows, merges=["C2:C4", "C5:C6"]))
    assert loaded(report, "village") == ["孔兴村", "孔兴村", "孔兴村", "诗礼村", "诗礼村"]
    assert report.problems == []


@pytest.mark.parametrize("fmt", ["xlsx", "xls"])
def test_a_blank_row_inside_a_merged_village_cell_is_blank(fmt):
    # 孔兴村 merged over Excel rows 2-5; row 4 holds nothing of its own.
    rows = [
        list(HOUSEHOLD_HEADER),
        household(1, village="孔兴村"),
        household(2, village=None),
        [None] * len(HOUSEHOLD_HEADER),
        household(3, village=None),
    ]
    build = xlsx_bytes if fmt == "xlsx" else xls_bytes
    report = inspect(f"合并村空行.{fmt}", build(rows, merges=["C2:C5"]))
    table = single_table(report)
    assert [r["household_id"] for r in table.rows] == ["H001", "H002", "H003"]
    assert table.rejected == []
    assert table.skipped["blank"] == 1
    assert report.problems == []


def test_a_blank_row_inside_merged_cells_is_blank_on_the_per_row_path_too():
    from analytics.importing import locate, sheets, validate

    rows = [
        list(HOUSEHOLD_HEADER),
        household(1, village="孔兴村"),
        [None] * len(HOUSEHOLD_HEADER),
        household(2, village=None),
    ]
    [grid] = sheets.read_grids("x.xlsx", xlsx_bytes(rows, merges=["C2:C4", "B2:B4"]))
    located = locate.locate(grid)
    parsed = validate.Validator().parse(located, by_column=False)
    assert [r["household_id"] for r in parsed.rows] == ["H001", "H002"]
    assert parsed.rejected == [] and parsed.skipped["blank"] == 1


def test_empty_village_cell_that_is_not_merged_rejects_the_row_naming_row_and_column():
    rows = [
        list(HOUSEHOLD_HEADER),
        household(1, village="孔兴村"),
        household(2, village=None),
        household(3, village="孔兴村"),
    ]
    report = inspect("空村.xlsx", xlsx_bytes(rows))
    table = single_table(report)
    assert [r["household_id"] for r in table.rows] == ["H001", "H003"]
    assert [r["source_row"] for r in table.rejected] == [3]
    [p] = problems_of(report, "E_REQUIRED")
    assert (p.row, p.column, p.severity) == (3, "C 行政村", "error")
    assert "行政村" in p.message


# ------------------------------------------- rows that are not data, and none lost
def test_totals_blank_note_and_signature_rows_are_skipped_and_counted_per_kind():
    rows = [
        [TITLE, *[None] * 8],
        list(HOUSEHOLD_HEADER),
        household(1),
        household(2),
        [None, None, "孔兴村小计", None, 2, None, None, 8, None],  # count in the id column
        [None] * 9,
        household(3, village="诗礼村"),
        household(4, village="诗礼村", size="abc"),  # a data row with an error: rejected
        ["合计", None, None, None, "4户", None, None, 16, None],
        ["注：1.本表由村委会填写；2.人口数以户口簿为准。", *[None] * 8],
        ["审核人：李四", None, None, None, "填表人：王五", None, None, "2017年7月13日", None],
    ]
    merges = ["A1:I1", "A9:D9", "A10:I10"]
    report = inspect("合计.xlsx", xlsx_bytes(rows, merges))
    table = single_table(report)
    assert table.skipped == {
        "blank": 1,
        "total": 2,
        "numbering": 0,
        "footer": 2,
        "header": 0,
        "example": 0,
    }
    assert [r["household_id"] for r in table.rows] == ["H001", "H002", "H003"]
    assert [r["source_row"] for r in table.rejected] == [8]
    assert len(table.rows) + len(table.rejected) == 4  # the four households written
    assert [(p.row, p.code) for p in report.problems] == [(8, "E_POSITIVE_INT")]


def test_totals_row_with_counts_in_the_id_column_is_not_a_household():
    rows = [
        list(HOUSEHOLD_HEADER),
        household(1),
        household(2),
        ["合  计", None, None, None, 2, None, None, 8, None],
    ]
    table = single_table(inspect("合计户数.xlsx", xlsx_bytes(rows)))
    assert table.skipped["total"] == 1
    assert [r["household_id"] for r in table.rows] == ["H001", "H002"]
    assert table.rejected == []


def test_blank_rows_inside_the_table_do_not_end_it():
    rows = [
        list(HOUSEHOLD_HEADER),
        household(1),
        [None] * 9,
        [None] * 9,
        household(2),
        household(3),
    ]
    table = single_table(inspect("空行.xlsx", xlsx_bytes(rows)))
    assert table.skipped["blank"] == 2
    assert [r["source_row"] for r in table.rows] == [2, 5, 6]


def test_county_workbook_with_every_layout_quirk_at_once_loses_no_row():
    header_top = ["序号", "行政村", "村民小组", "户编号", "户主姓名", "家庭人口数", "户类型"]
    header_top += ["两不愁三保障", None, None, None]
    header_sub = [None] * 7 + ["不愁吃穿", "义务教育", "基本医疗", "住房安全"]
    rows = [
        [TITLE, *[None] * 10],  # 1
        ["填报单位：诗礼乡人民政府", *[None] * 6, "填报日期：2017年7月13日", None, None, None],
        header_top,  # 3
        header_sub,  # 4
        list(range(1, 12)),  # 5: column numbers
        [1, "孔兴村", "孔兴组", "H001", "张三", 4, "脱贫户", "√", "√", "√", "√"],  # 6
        [2, None, "孔兴组", "H002", "李四", "3人", "贫困户", "√", "×", "√", "√"],  # 7
        [3, None, "下村组", "H003", "王五", 5, "一般农户", "√", "√", "√", "√"],  # 8
        [None, "孔兴村小计", None, 3, None, 12, None, None, None, None, None],  # 9
        [4, "诗礼村", "上村组", "H004", "赵六", 2, "已脱贫", "是", "是", "否", "是"],  # 10
        [None] * 11,  # 11
        [5, "诗礼村", "上村组", "H004", "钱七", 1, "已脱贫", "是", "是", "是", "是"],  # 12
        ["合计", None, None, 5, None, 15, None, None, None, None, None],  # 13
        ["注：户类型按2017年6月底建档立卡系统填写。", *[None] * 10],  # 14
        ["审核人：", None, None, "填表人：", None, None, "联系电话：", None, None, None, None],
    ]
    merges = ["A1:K1", "A3:A4", "B3:B4", "C3:C4", "D3:D4", "E3:E4", "F3:F4", "G3:G4"]
    merges += ["H3:K3", "B6:B8", "A13:C13", "A14:K14"]
    report = inspect("诗礼乡户信息.xlsx", xlsx_bytes(rows, merges))
    table = single_table(report)
    assert report.sheets[0].header_rows == "3-4"
    assert table.skipped == {
        "blank": 1,
        "total": 2,
        "numbering": 1,
        "footer": 2,
        "header": 0,
        "example": 0,
    }
    assert [r["household_id"] for r in table.rows] == ["H001", "H002", "H003", "H004"]
    assert [r["village"] for r in table.rows] == ["孔兴村", "孔兴村", "孔兴村", "诗礼村"]
    assert [r["township"] for r in table.rows] == ["诗礼乡"] * 4
    assert [r["household_size"] for r in table.rows] == [4, 3, 5, 2]
    assert [r["registry_state"] for r in table.rows] == [
        "exited",
        "remaining_poor",
        "nonregistered",
        "exited",
    ]
    assert [r["education_secure"] for r in table.rows] == [True, False, True, True]
    assert [r["medical_secure"] for r in table.rows] == [True, True, True, False]
    assert [r["source_row"] for r in table.rejected] == [12]
    assert [(p.row, p.code) for p in report.problems] == [(12, "E_DUPLICATE_ID")]
    assert len(table.rows) + len(table.rejected) == 5  # five households written


# ------------------------------------------------------------------- header spellings
def _with_header(canonical: str, spelling: str) -> list[str]:
    header = list(HOUSEHOLD_HEADER)
    header[header.index(canonical)] = spelling
    return header


@pytest.mark.parametrize(
    ("canonical", "spelling", "key", "expected"),
    [
        ("户主身份证号", "户主身份证号", "head_id_number", ID_A),
        ("户主身份证号", "证件号码", "head_id_number", ID_A),
        ("户主身份证号", "公民身份号码", "head_id_number", ID_A),
        ("家庭人口数", "家庭人口数", "household_size", 4),
        ("家庭人口数", "人口数", "household_size", 4),
        ("家庭人口数", "人数", "household_size", 4),
        ("家庭人口数", "家庭\n人口数（人）", "household_size", 4),
        ("行政村", "行政村", "village", "孔兴村"),
        ("行政村", "村", "village", "孔兴村"),
        ("行政村", "村委会", "village", "孔兴村"),
        ("村民小组", "村民小组", "group", "孔兴组"),
        ("村民小组", "自然村", "group", "孔兴组"),
        ("村民小组", "组", "group", "孔兴组"),
    ],
)
def test_county_header_spellings_map_to_one_field(canonical, spelling, key, expected):
    rows = [_with_header(canonical, spelling), household(1)]
    report = inspect("表头.xlsx", xlsx_bytes(rows))
    assert loaded(report, key) == [expected]
    assert report.sheets[0].unused_columns == ["序号"]


def test_units_in_brackets_are_not_part_of_the_header():
    rows = [
        [*HOUSEHOLD_HEADER, "人均纯收入（元）", "住房安全有保障(是/否)"],
        [*household(1), "3,520.5", "是"],
    ]
    report = inspect("单位.xlsx", xlsx_bytes(rows))
    assert loaded(report, "income_per_capita") == [3520.5]
    assert loaded(report, "housing_secure") == [True]
    assert report.sheets[0].unused_columns == ["序号"]


# ---------------------------------------------------------------------- CSV encodings
NAME_OUTSIDE_GBK = "李𠀀"  # U+20000: GB18030 has it (4 bytes), GBK does not


@pytest.mark.parametrize(
    ("encoding", "name"),
    [
        ("utf-8", "张三"),
        ("utf-8-sig", "张三"),
        ("utf-8", NAME_OUTSIDE_GBK),
        ("gb18030", NAME_OUTSIDE_GBK),
        ("gbk", "张三"),
    ],
)
def test_csv_in_utf8_bom_gb18030_and_gbk_reads_the_same(encoding, name):
    rows = [list(HOUSEHOLD_HEADER), household(1, name=name), household(2, village="诗礼村")]
    data = csv_bytes(rows, encoding=encoding)
    report = inspect("户信息.csv", data)
    table = single_table(report)
    assert [r["head_name"] for r in table.rows] == [name, "张三"]
    assert [r["village"] for r in table.rows] == ["孔兴村", "诗礼村"]
    assert [r["household_size"] for r in table.rows] == [4, 4]
    assert table.rows[0]["head_id_number"] == ID_A
    assert report.problems == []


def test_gb18030_file_is_not_read_as_gbk():
    with pytest.raises(UnicodeEncodeError):
        NAME_OUTSIDE_GBK.encode("gbk")
    data = csv_bytes([list(HOUSEHOLD_HEADER), household(1, name=NAME_OUTSIDE_GBK)], "gb18030")
    assert "\U00020000".encode("gb18030") in data
    assert loaded(inspect("gb18030.csv", data), "head_name") == [NAME_OUTSIDE_GBK]


# A small household register as a Taiwanese or Hong Kong system (Big5, traditional
# characters) and a Japanese one (Shift-JIS) would write it: GB18030 decodes both bytes
# without an error, into other characters.
BIG5_REGISTER = (
    "序號,鄉鎮,行政村,村民小組,戶編號,戶主姓名,戶主身份證號,家庭人口數,建檔立卡狀態\r\n"
    "1,詩禮鄉,孔興村,孔興組,H001,張三,533921198001010010,4,未脫貧\r\n"
    "2,詩禮鄉,詩禮村,一組,H002,李四,533921198001010029,3,已脫貧\r\n"
)
SHIFT_JIS_REGISTER = (
    "番号,郷鎮,行政村,村民小組,戸番号,世帯主氏名,世帯主身分証番号,家族人数,登録状態\r\n"
    "1,詩礼郷,孔興村,孔興組,H001,張三,533921198001010010,4,未脱貧\r\n"
    "2,詩礼郷,詩礼村,一組,H002,李四,533921198001010029,3,既脱貧\r\n"
)


@pytest.mark.parametrize(
    ("text", "encoding", "named"),
    [(BIG5_REGISTER, "big5", "Big5"), (SHIFT_JIS_REGISTER, "shift_jis", "Shift-JIS")],
)
def test_big5_and_shift_jis_csv_are_refused_naming_the_encoding(text, encoding, named):
    data = text.encode(encoding)
    assert data.decode("gb18030")  # decodes without an error: mojibake, not an error
    report = inspect("户信息.csv", data)
    assert report.status == "unreadable" and report.parsed == []
    assert report.message.startswith("户信息.csv") and report.message_en.startswith("户信息.csv")
    assert named in report.message and named in report.message_en
    assert "CSV UTF-8" in report.message_en


def test_a_gbk_register_with_rare_name_characters_is_not_taken_for_mojibake():
    names = ["张喆", "李堃", "王玥", "赵昇"]  # GBK characters outside GB 2312
    rows = [list(HOUSEHOLD_HEADER), *(household(n, name=v) for n, v in enumerate(names, 1))]
    report = inspect("户信息.csv", csv_bytes(rows, encoding="gbk"))
    assert loaded(report, "head_name") == names


def test_undecodable_csv_is_unreadable_with_a_message_naming_the_file():
    data = "户编号,行政村\r\n".encode() + b"H001,\xff\xfe\x80\x80\r\n"
    report = inspect("坏编码.csv", data)
    assert report.status == "unreadable"
    assert "坏编码.csv" in report.message
    assert "坏编码.csv" in report.message_en
    assert report.parsed == []


def test_tab_separated_file_is_split_on_tabs():
    rows = [list(HOUSEHOLD_HEADER), household(1), household(2, village="诗礼村")]
    report = inspect("户信息.txt", csv_bytes(rows, delimiter="\t"))
    assert loaded(report, "village") == ["孔兴村", "诗礼村"]
    assert loaded(report, "household_size") == [4, 4]


def test_excel_unicode_text_export_utf16_tab_separated_is_read():
    rows = [list(HOUSEHOLD_HEADER), household(1, name="李𠀀"), household(2)]
    report = inspect("户信息.txt", csv_bytes(rows, encoding="utf-16", delimiter="\t"))
    assert loaded(report, "head_name") == ["李𠀀", "张三"]


def test_tab_separated_file_with_a_title_line_is_split_on_tabs():
    rows = [[TITLE], list(HOUSEHOLD_HEADER), household(1), household(2, village="诗礼村")]
    report = inspect("户信息.txt", csv_bytes(rows, delimiter="\t"))
    assert report.sheets[0].header_rows == "2"
    assert loaded(report, "village") == ["孔兴村", "诗礼村"]


def test_csv_with_a_title_line_finds_the_header_below_it():
    rows = [[TITLE], list(HOUSEHOLD_HEADER), household(1)]
    report = inspect("户信息.csv", csv_bytes(rows, encoding="gbk"))
    assert report.sheets[0].header_rows == "2"
    assert loaded(report, "household_id") == ["H001"]


# ------------------------------------------------------------------------ file formats
def test_xls_with_a_merged_village_cell_reads_like_xlsx():
    rows = [
        list(HOUSEHOLD_HEADER),
        household(1, village="孔兴村"),
        household(2, village=None),
        household(3, village="诗礼村", size="5"),
    ]
    report = inspect("户信息.xls", xls_bytes(rows, merges=["C2:C3"]))
    table = single_table(report)
    assert [r["village"] for r in table.rows] == ["孔兴村", "孔兴村", "诗礼村"]
    assert [r["household_size"] for r in table.rows] == [4, 4, 5]
    assert [r["source_row"] for r in table.rows] == [2, 3, 4]
    assert report.problems == []


def test_xlsm_workbook_is_read():
    rows = [list(HOUSEHOLD_HEADER), household(1), household(2)]
    report = inspect("户信息.xlsm", xlsx_bytes(rows))
    assert loaded(report, "household_id") == ["H001", "H002"]


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("坏文件.xlsx", bytes(range(256)) * 8),
        ("坏文件.xlsx", b"PK\x03\x04" + b"\x00" * 200),
        ("坏文件.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 200),
        ("报告.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"),
        ("无后缀", b"abc"),
    ],
)
def test_corrupt_or_unsupported_file_is_unreadable_without_an_exception(name, data):
    report = inspect(name, data)
    assert report.status == "unreadable"
    assert report.code == 2
    assert name in report.message
    assert report.parsed == []


# ----------------------------------------------------------------- sheets and tables
def test_each_sheet_is_recognised_by_its_headers_and_an_unknown_one_is_reported():
    households = [list(HOUSEHOLD_HEADER), household(1), household(2)]
    meetings = [
        ["行政村", "村民小组", "会议日期", "会议阶段", "参会人数"],
        ["孔兴村", "孔兴组", "2017-06-28", "贫情分析", 12],
    ]
    notes = [["填表说明"], ["1. 按户填写"], ["2. 人口以户口簿为准"]]
    data = workbook_bytes(
        {"Sheet1": (meetings, []), "Sheet2": (households, []), "说明": (notes, [])}
    )
    report = inspect("多表.xlsx", data, township="诗礼乡")
    assert [(s.sheet, s.table) for s in report.sheets] == [
        ("Sheet1", "meetings"),
        ("Sheet2", "households"),
        ("说明", None),
    ]
    assert report.sheets[2].note and report.sheets[2].note_en
    assert [(p.sheet, p.table, len(p.rows)) for p in report.parsed] == [
        ("Sheet1", "meetings", 1),
        ("Sheet2", "households", 2),
    ]


def test_a_csv_file_holds_one_table():
    rows = [list(HOUSEHOLD_HEADER), household(1), household(2)]
    report = inspect("户信息.csv", csv_bytes(rows))
    assert [(s.sheet, s.table, s.loaded) for s in report.sheets] == [("CSV", "households", 2)]


def test_file_without_any_known_table_is_refused_with_the_sheet_reason():
    report = inspect("杂项.xlsx", xlsx_bytes([["姓名", "电话"], ["张三", "123"]]))
    assert report.status == "refused"
    assert report.parsed == []
    assert report.sheets[0].table is None and report.sheets[0].note


# ----------------------------------------------------------------------------- township
def test_township_column_wins_over_the_upload_argument():
    rows = [list(HOUSEHOLD_HEADER), household(1, township="诗礼乡")]
    report = inspect("乡镇列.xlsx", xlsx_bytes(rows), township="勐佑镇")
    assert loaded(report, "township") == ["诗礼乡"]
    assert report.sheets[0].township_source == "column"


def test_township_comes_from_the_upload_argument_without_a_column():
    rows = [[TITLE, None, None, None], SHORT_HEADER, ["H001", "孔兴村", 4, "未脱贫"]]
    report = inspect("无乡镇列.xlsx", xlsx_bytes(rows), township="勐佑镇")
    assert loaded(report, "township") == ["勐佑镇"]
    assert report.sheets[0].township_source == "upload"


def test_township_comes_from_the_title_row_without_column_or_argument():
    rows = [[TITLE, None, None, None], SHORT_HEADER, ["H001", "孔兴村", 4, "未脱贫"]]
    report = inspect("标题乡镇.xlsx", xlsx_bytes(rows, merges=["A1:D1"]))
    assert loaded(report, "township") == ["诗礼乡"]
    assert report.sheets[0].township_source == "title"


def test_township_comes_from_the_reporting_unit_line():
    rows = [
        ["2017年贫困对象动态管理户信息表", None, None, None],
        ["填报单位：诗礼乡人民政府", None, None, None],
        SHORT_HEADER,
        ["H001", "孔兴村", 4, "未脱贫"],
    ]
    report = inspect("填报单位.xlsx", xlsx_bytes(rows))
    assert loaded(report, "township") == ["诗礼乡"]


@pytest.mark.parametrize(
    "title",
    [
        "凤庆县2017年各村乡村人口统计表",
        "凤庆县2017年乡村两级贫情分析户信息表",
        "凤庆县各乡镇贫困对象动态管理汇总表",
    ],
)
def test_title_mentioning_乡村_or_各乡镇_names_no_township(title):
    rows = [[title, None, None, None], SHORT_HEADER, ["H001", "孔兴村", 4, "未脱贫"]]
    report = inspect("标题无乡镇.xlsx", xlsx_bytes(rows))
    assert single_table(report).rows == []
    assert [p.code for p in report.problems] == ["E_NO_TOWNSHIP"]


@pytest.mark.parametrize(
    "title",
    [
        "凤庆县诗礼乡乡村两级贫情分析户信息表",
        "诗礼乡村基本情况表",
        "凤庆县诗礼乡各村乡村人口统计表",
    ],
)
def test_title_naming_the_township_before_乡村_words_still_gives_it(title):
    rows = [[title, None, None, None], SHORT_HEADER, ["H001", "孔兴村", 4, "未脱贫"]]
    assert loaded(inspect("乡村.xlsx", xlsx_bytes(rows)), "township") == ["诗礼乡"]


def test_no_township_anywhere_rejects_every_row_with_E_NO_TOWNSHIP():
    rows = [SHORT_HEADER, ["H001", "孔兴村", 4, "未脱贫"], ["H002", "孔兴村", 3, "已脱贫"]]
    report = inspect("无乡镇.xlsx", xlsx_bytes(rows))
    table = single_table(report)
    assert table.rows == []
    assert [r["source_row"] for r in table.rejected] == [2, 3]
    assert [(p.row, p.code) for p in report.problems] == [
        (2, "E_NO_TOWNSHIP"),
        (3, "E_NO_TOWNSHIP"),
    ]
    assert report.sheets[0].township_source == "none"


def test_a_header_repeated_inside_the_table_is_skipped_not_rejected():
    rows = [
        ["诗礼乡户信息表"],
        list(HOUSEHOLD_HEADER),
        household(1),
        list(HOUSEHOLD_HEADER),  # a second village's table pasted underneath
        household(2, village="诗礼村"),
    ]
    table = single_table(inspect("两表.xlsx", xlsx_bytes(rows)))
    assert [r["household_id"] for r in table.rows] == ["H001", "H002"]
    assert table.rejected == [] and table.skipped["header"] == 1


def test_totals_rows_written_with_counts_or_brackets_are_skipped():
    rows = [
        list(HOUSEHOLD_HEADER),
        household(1),
        ["合计：1户", None, None, None, None, None, None, 4, None],
        ["小计（孔兴组）", None, None, None, None, None, None, 4, None],
        ["总计 1户", None, None, None, None, None, None, 4, None],
    ]
    table = single_table(inspect("合计.xlsx", xlsx_bytes(rows)))
    assert len(table.rows) == 1 and table.rejected == [] and table.skipped["total"] == 3


def test_spaces_inside_place_names_do_not_make_a_new_village():
    rows = [
        list(HOUSEHOLD_HEADER),
        household(1, village="孔兴村"),
        household(2, village="孔兴 村"),
        household(3, village="孔兴\u3000村"),
        household(4, village="孔兴\n村", group=" 孔兴 组 "),
    ]
    table = single_table(inspect("空格.xlsx", xlsx_bytes(rows)))
    assert {r["village"] for r in table.rows} == {"孔兴村"}
    assert {r["group"] for r in table.rows} == {"孔兴组"}


def test_a_hidden_sheet_is_reported_and_not_imported():
    book = openpyxl.Workbook()
    book.active.title = "户信息"
    for row in (list(HOUSEHOLD_HEADER), household(1)):
        book.active.append(row)
    old = book.create_sheet("旧数据")
    for row in (list(HOUSEHOLD_HEADER), household(2), household(3)):
        old.append(row)
    old.sheet_state = "hidden"
    buf = io.BytesIO()
    book.save(buf)
    report = inspect("隐藏.xlsx", buf.getvalue())
    assert report.loaded == 1
    note = next(s for s in report.sheets if s.sheet == "旧数据")
    assert note.table is None and "hidden sheet" in note.note_en


# ------------------------------------------------------------ invisible and cut-off text
@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_invisible_formatting_characters_are_stripped_with_a_warning(fmt):
    """A right-to-left override shows 张\u202e三丰 as 张丰三 on screen; zero-width characters
    make two spellings of one village. Both are removed, and the row report says so."""
    rows = [
        list(HOUSEHOLD_HEADER),
        household(1, name="张\u202e三丰"),
        household(2, name="李\u200b四", village="孔兴\u200d村"),
        household(3),
    ]
    data = xlsx_bytes(rows) if fmt == "xlsx" else csv_bytes(rows)
    report = inspect(f"户信息.{fmt}", data)
    assert loaded(report, "head_name") == ["张三丰", "李四", "张三"]
    assert loaded(report, "village") == ["孔兴村", "孔兴村", "孔兴村"]
    found = [(p.row, p.column, p.code, p.severity) for p in report.problems]
    assert found == [
        (2, "F 户主姓名", "W_INVISIBLE", "warning"),
        (3, "C 行政村", "W_INVISIBLE", "warning"),
        (3, "F 户主姓名", "W_INVISIBLE", "warning"),
    ]
    assert "U+202E" in report.problems[0].message and "U+200B" in report.problems[2].message_en


def test_a_cell_of_exactly_32767_characters_is_a_warning_that_it_was_cut():
    """Excel keeps at most 32,767 characters in a cell: a cell exactly that long was
    probably cut off where it was pasted; one character shorter is not suspect."""
    rows = [
        list(HOUSEHOLD_HEADER),
        household(1, name="王" * 32_767),
        household(2, name="王" * 32_766),
    ]
    report = inspect("长.xlsx", xlsx_bytes(rows))
    assert [len(n) for n in loaded(report, "head_name")] == [32_767, 32_766]
    found = [(p.row, p.column, p.code) for p in report.problems]
    assert found == [(2, "F 户主姓名", "W_CELL_TRUNCATED")]
    assert "32,767" in report.problems[0].message_en
