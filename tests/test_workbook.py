"""A workbook read as a whole (analytics/importing/workbook.py): a sheet that names no
township takes the one the rest of the workbook names (another sheet's title or 乡(镇)
column, the file name), and every row of it is rejected saying which sources disagree when
they do; the data date comes from a title's 导出时间 / 数据日期 or the file name's YYYYMMDD,
and a browser's " (22)" is neither.

Every workbook is built here, a few rows each; expected values are written by hand.
"""

from __future__ import annotations

import datetime as dt

import pytest

from analytics.importing import ingest, workbook
from analytics.store.database import Store
from tests.builders import (
    HOUSEHOLD_HEADER,
    MEETING_HEADER,
    RELOCATION_HEADER,
    VILLAGE_HEADER,
    household,
    households_with,
    inspect,
    meeting_row,
    person_list,
    person_row,
    relocation_row,
    village_row,
    workbook_bytes,
    xlsx_bytes,
)

TITLE = "凤庆县诗礼乡2017年贫困对象动态管理户信息表"
# The household sheet of a township workbook without a 乡镇 column: its title names 诗礼乡.
HOUSEHOLDS = [
    [TITLE, *[None] * 7],
    [h for h in HOUSEHOLD_HEADER if h != "乡镇"],
    *([v for i, v in enumerate(household(n)) if i != 1] for n in (1, 2)),
]


def _without_township(header: tuple[str, ...], rows: list[list[object]]) -> list[list[object]]:
    """A sheet of ``header`` and ``rows`` without their 乡镇 column (the first)."""
    assert header[0] == "乡镇"
    return [list(header[1:]), *(r[1:] for r in rows)]


RELOCATION = _without_township(
    RELOCATION_HEADER,
    [relocation_row("H001", "孔兴村", "小湾安置点", "集中安置", 4, 90, township=None)],
)
VILLAGES = _without_township(VILLAGE_HEADER, [village_row("孔兴村", 1730, 420, township=None)])


def _sheet_townships(report: ingest.FileReport) -> dict[str, list[object]]:
    return {p.sheet: [r.get("township") for r in p.rows] for p in report.parsed}


def test_a_township_named_in_the_households_title_applies_to_the_sheets_that_name_none():
    data = workbook_bytes(
        {"户信息": (HOUSEHOLDS, []), "易地扶贫搬迁": (RELOCATION, []), "村基本情况": (VILLAGES, [])}
    )
    report = inspect("2017年动态管理.xlsx", data)
    assert _sheet_townships(report) == {
        "户信息": ["诗礼乡", "诗礼乡"],
        "易地扶贫搬迁": ["诗礼乡"],
        "村基本情况": ["诗礼乡"],
    }
    assert report.rejected == 0 and report.problems == []
    sources = {s.sheet: s.township_source for s in report.sheets}
    assert sources == {
        "户信息": "title",
        "易地扶贫搬迁": "sheet_title",
        "村基本情况": "sheet_title",
    }


def test_a_sheet_whose_township_column_is_empty_takes_the_workbooks_township():
    """The template's 易地扶贫搬迁 sheet has a 乡镇 column the clerk left empty."""
    relocation = [
        list(RELOCATION_HEADER),
        relocation_row("H001", "孔兴村", "小湾安置点", "集中安置", 4, 90, township=None),
        relocation_row("H002", "孔兴村", "小湾安置点", "集中安置", 3, 70, township=None),
    ]
    data = workbook_bytes({"户信息": (HOUSEHOLDS, []), "易地扶贫搬迁": (relocation, [])})
    report = inspect("2017年动态管理.xlsx", data)
    assert _sheet_townships(report)["易地扶贫搬迁"] == ["诗礼乡", "诗礼乡"]
    assert [s.township_source for s in report.sheets] == ["title", "sheet_title"]
    assert report.problems == []


def test_a_township_column_of_another_sheet_applies_to_the_sheets_that_name_none():
    meetings = [list(MEETING_HEADER), meeting_row("孔兴村", "孔兴组", 12, township="诗礼乡")]
    data = workbook_bytes({"会议": (meetings, []), "村基本情况": (VILLAGES, [])})
    report = inspect("2017年动态管理.xlsx", data)
    assert _sheet_townships(report) == {"会议": ["诗礼乡"], "村基本情况": ["诗礼乡"]}
    assert [s.township_source for s in report.sheets] == ["column", "sheet_column"]


def test_the_file_name_names_the_township_of_sheets_that_name_none():
    data = workbook_bytes({"易地扶贫搬迁": (RELOCATION, []), "村基本情况": (VILLAGES, [])})
    report = inspect("诗礼乡2017年动态管理 (3).xlsx", data)
    assert _sheet_townships(report) == {"易地扶贫搬迁": ["诗礼乡"], "村基本情况": ["诗礼乡"]}
    assert {s.township_source for s in report.sheets} == {"file_name"}


def test_sources_that_disagree_reject_the_rows_of_sheets_that_name_none_naming_them():
    data = workbook_bytes({"户信息": (HOUSEHOLDS, []), "易地扶贫搬迁": (RELOCATION, [])})
    report = inspect("勐佑镇2017年动态管理.xlsx", data)
    # the households sheet's own title still names its township
    assert _sheet_townships(report) == {"户信息": ["诗礼乡", "诗礼乡"], "易地扶贫搬迁": []}
    [found] = report.problems
    assert (found.sheet, found.row, found.code, found.severity) == (
        "易地扶贫搬迁",
        2,
        "E_TOWNSHIP_UNCLEAR",
        "error",
    )
    assert "工作表“户信息”的标题：诗礼乡" in found.message and "文件名：勐佑镇" in found.message
    assert "title of sheet '户信息': 诗礼乡" in found.message_en
    assert "file name: 勐佑镇" in found.message_en
    assert [s.township_source for s in report.sheets] == ["title", "unclear"]


def test_a_township_given_at_upload_comes_before_the_rest_of_the_workbook():
    data = workbook_bytes({"户信息": (HOUSEHOLDS, []), "易地扶贫搬迁": (RELOCATION, [])})
    report = inspect("勐佑镇2017年动态管理.xlsx", data, township="诗礼乡")
    assert _sheet_townships(report) == {"户信息": ["诗礼乡", "诗礼乡"], "易地扶贫搬迁": ["诗礼乡"]}
    assert report.problems == []


def test_a_county_file_with_several_townships_names_none_for_a_sheet_without_one():
    meetings = [
        list(MEETING_HEADER),
        meeting_row("孔兴村", None, 12, township="诗礼乡"),
        meeting_row("勐佑村", None, 9, township="勐佑镇"),
    ]
    data = workbook_bytes({"会议": (meetings, []), "村基本情况": (VILLAGES, [])})
    report = inspect("凤庆县2017年.xlsx", data)
    [found] = report.problems
    assert found.code == "E_TOWNSHIP_UNCLEAR"
    assert "工作表“会议”的乡镇列：诗礼乡、勐佑镇" in found.message


# ------------------------------------------------------------------ file names, dates
@pytest.mark.parametrize(
    ("name", "stem", "township", "day"),
    [
        ("（自定义）监测对象信息 (22).xlsx", "（自定义）监测对象信息", None, None),
        (
            "（务工月监测）已外出务工信息_20231218.xlsx",
            "（务工月监测）已外出务工信息_20231218",
            None,
            dt.date(2023, 12, 18),
        ),
        (
            "诗礼乡户信息_20231218 (2).xlsx",
            "诗礼乡户信息_20231218",
            "诗礼乡",
            dt.date(2023, 12, 18),
        ),
        ("户信息（3）.csv", "户信息", None, None),
        ("533921198001010010.xlsx", "533921198001010010", None, None),
        ("户信息_20231399.xlsx", "户信息_20231399", None, None),
    ],
)
def test_a_file_name_gives_a_township_and_a_date_and_a_browser_count_is_noise(
    name, stem, township, day
):
    assert workbook.name_stem(name) == stem
    assert workbook.name_township(name) == township
    assert workbook.name_date(name) == day


def test_the_data_date_comes_from_the_title_before_the_file_name():
    data = xlsx_bytes(person_list([person_row(1)]))  # 导出时间：2019-12-31
    report = inspect("贫困人口明细_20200105.xlsx", data)
    assert (report.data_date, report.data_date_source) == (dt.date(2019, 12, 31), "title")
    plain = xlsx_bytes([list(HOUSEHOLD_HEADER), household(1)])
    report = inspect("户信息_20200105 (22).xlsx", plain)
    assert (report.data_date, report.data_date_source) == (dt.date(2020, 1, 5), "file_name")
    report = inspect("（自定义）监测对象信息 (22).xlsx", plain)
    assert (report.data_date, report.data_date_source) == (None, "")


def test_an_imported_batch_keeps_its_data_date(tmp_path):
    store = Store(tmp_path / "s.duckdb")
    try:
        plain = xlsx_bytes([list(HOUSEHOLD_HEADER), household(1)])
        report = ingest.import_file(store, "户信息_20200105.xlsx", plain, "2019年动态管理")
        assert report.status == "loaded"
        undated = xlsx_bytes([list(HOUSEHOLD_HEADER), household(2)])
        assert ingest.import_file(store, "户信息.xlsx", undated, "2019年动态管理").status == (
            "loaded"
        )
        got = store.cursor().execute("SELECT file_name, data_date FROM batches ORDER BY 1")
        assert got.fetchall() == [
            ("户信息.xlsx", None),
            ("户信息_20200105.xlsx", dt.date(2020, 1, 5)),
        ]
    finally:
        store.close()


# ------------------------------------------------- data date: fallbacks, upload, order
def _batches(store: Store) -> list[tuple[object, ...]]:
    return (
        store.cursor()
        .execute("SELECT file_name, data_date, data_date_source FROM batches ORDER BY batch_id")
        .fetchall()
    )


def test_a_file_that_gives_no_date_is_as_of_its_latest_survey_date(tmp_path):
    store = Store(tmp_path / "s.duckdb")
    try:
        # surveyed 2018-03-01, 2018-03-15 and 2018-02-20: as of the 15th
        surveyed = ["2018-03-01", "2018-03-15", "2018-02-20"]
        data = households_with("调查日期", surveyed)
        report = ingest.import_file(store, "户信息.xlsx", data, "2018年动态管理")
        assert report.status == "loaded"
        assert (report.data_date, report.data_date_source) == (dt.date(2018, 3, 15), "survey_date")
        assert _batches(store) == [("户信息.xlsx", dt.date(2018, 3, 15), "survey_date")]
    finally:
        store.close()


def test_a_date_given_at_upload_comes_before_the_title_and_the_file_name(tmp_path):
    store = Store(tmp_path / "s.duckdb")
    try:
        data = xlsx_bytes(person_list([person_row(1)]))  # 导出时间：2019-12-31
        given = dt.date(2019, 11, 30)
        report = ingest.import_file(
            store, "人口明细_20200105.xlsx", data, "2019年", data_date=given
        )
        assert report.status == "loaded"
        assert (report.data_date, report.data_date_source) == (given, "upload")
        assert _batches(store) == [("人口明细_20200105.xlsx", given, "upload")]
    finally:
        store.close()


def test_rounds_are_ordered_by_the_date_their_data_is_as_of(tmp_path):
    """Round 甲 was surveyed first (2018-01) but its data is as of 2019-06-30; round 乙 was
    surveyed later (2018-03) and is as of 2018-12-31: 甲 is the latest round."""
    store = Store(tmp_path / "s.duckdb")
    try:
        first = households_with("调查日期", ["2018-01-05"])
        later = households_with("调查日期", ["2018-03-05"])
        a = ingest.import_file(store, "户信息_20190630.xlsx", first, "甲")
        b = ingest.import_file(store, "户信息_20181231.xlsx", later, "乙")
        assert (a.status, b.status) == ("loaded", "loaded")
        assert store.round_names() == ["乙", "甲"]
        assert store.latest_round() == "甲"
    finally:
        store.close()


def test_a_database_made_before_data_dates_fell_back_gets_its_batches_dated(tmp_path):
    path = tmp_path / "s.duckdb"
    store = Store(path)
    try:
        data = households_with("调查日期", ["2018-03-01", "2018-03-15"])
        assert ingest.import_file(store, "户信息.xlsx", data, "2018年").status == "loaded"
        with store.write() as cur:  # as a schema-4 database left it: no fallback date
            cur.execute("UPDATE batches SET data_date = NULL, data_date_source = NULL")
            cur.execute("UPDATE meta SET value = '4' WHERE key = 'schema_version'")
    finally:
        store.close()
    store = Store(path)
    try:
        assert _batches(store) == [("户信息.xlsx", dt.date(2018, 3, 15), "survey_date")]
    finally:
        store.close()


def test_a_sheet_says_which_township_it_takes_and_from_where():
    data = workbook_bytes({"户信息": (HOUSEHOLDS, []), "易地扶贫搬迁": (RELOCATION, [])})
    report = inspect("2017年动态管理.xlsx", data)
    got = [(s.sheet, s.township, s.township_source) for s in report.sheets]
    assert got == [("户信息", "诗礼乡", "title"), ("易地扶贫搬迁", "诗礼乡", "sheet_title")]


def test_the_inspection_already_says_a_file_is_as_of_its_latest_survey_date():
    """What the upload page shows before importing is what the batch will keep."""
    report = inspect("户信息.xlsx", households_with("调查日期", ["2018-03-01", "2018-03-15"]))
    assert (report.data_date, report.data_date_source) == (dt.date(2018, 3, 15), "survey_date")
