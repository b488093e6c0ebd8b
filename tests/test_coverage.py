"""A figure whose column the files did not have is missing, never 0.

Each test builds a round from small workbooks and compares every figure with a count made
by hand. "Missing" is null in the frame (and "—" on screen); a total over files with and
without a column is marked partial.
"""

from __future__ import annotations

import pandas as pd
import pytest

from analytics.figures import coverage, metrics, queries
from analytics.importing import ingest
from analytics.store.database import Store
from tests.builders import (
    MEETING_HEADER,
    RELOCATION_HEADER,
    SURVEY_HEADER,
    meeting_row,
    relocation_row,
    survey_row,
    workbook_bytes,
)

ROUND = "2018年核查"
# SURVEY_HEADER without 核查结论 (index 8).
NO_FINDING_HEADER = tuple(h for h in SURVEY_HEADER if h != "核查结论")


def without_finding(row: list[object]) -> list[object]:
    return row[:8] + row[9:]


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "c.duckdb")
    yield s
    s.close()


def load(store: Store, name: str, sheets: dict, **kw) -> ingest.FileReport:
    data = workbook_bytes({k: (rows, ()) for k, rows in sheets.items()})
    report = ingest.import_file(store, name, data, ROUND, **kw)
    assert report.status == "loaded", report.message
    return report


# 甲村: A1 registered 4 persons found 错评; A2 non-registered 3 persons. 乙村: B1 (5), B2 (2).
A_ROWS = [
    survey_row("A1", "甲村", "一组", 4, "已脱贫", None, "错评"),
    survey_row("A2", "甲村", "一组", 3, "非建档立卡"),
]
B_ROWS = [
    survey_row("B1", "乙村", "一组", 5, "未脱贫", "拟退出"),
    survey_row("B2", "乙村", "一组", 2, "已脱贫"),
]


def by_village(store: Store, key: str) -> dict[str, object]:
    frame = queries.metrics_frame(store, ROUND, "village")
    return {
        v: (None if pd.isna(x) else x) for v, x in zip(frame["village"], frame[key], strict=True)
    }


def total(store: Store, key: str) -> object:
    value = queries.metrics_frame(store, ROUND, "county")[key].iloc[0]
    return None if pd.isna(value) else value


def test_a_round_whose_files_lack_the_finding_column_has_no_finding_figures(store):
    rows = [without_finding(r) for r in A_ROWS + B_ROWS]
    load(store, "无核查结论.xlsx", {"户信息": [NO_FINDING_HEADER, *rows]})
    county = queries.metrics_frame(store, ROUND, "county").iloc[0]
    assert county["coverage_verification"] == coverage.MISSING
    for key in (
        "inclusion_error_households",
        "inclusion_error_persons",
        "exclusion_error_households",
        "wrongful_exit_persons",
        "inclusion_error_rate",
        # not B1's 5 remaining-poor persons of 14 stated as the rate: 漏评 and 错退 unknown
        "comprehensive_poverty_rate",
        "comprehensive_poverty_rate_households",
    ):
        assert pd.isna(county[key]), key
    assert coverage.metric_status(county, "comprehensive_poverty_rate") == coverage.MISSING
    assert coverage.missing_inputs(county, "comprehensive_poverty_rate") == ["verification"]
    # what the files did hold is counted: 4 households, 14 persons, 1 exit proposed (5)
    assert (county["households_total"], county["persons_total"]) == (4, 14)
    assert (county["exit_proposed_households"], county["exit_proposed_persons"]) == (1, 5)


def test_a_finding_column_left_blank_measured_nothing(store):
    blank = [survey_row("A2", "甲村", "一组", 3, "非建档立卡")]
    load(store, "空核查结论.xlsx", {"户信息": [SURVEY_HEADER, *blank]})
    assert total(store, "inclusion_error_households") is None


def test_files_with_and_without_a_column_give_a_partial_total(store):
    load(store, "甲村.xlsx", {"户信息": [SURVEY_HEADER, *A_ROWS]})
    rows = [without_finding(r) for r in B_ROWS]
    load(store, "乙村.xlsx", {"户信息": [NO_FINDING_HEADER, *rows]})
    assert by_village(store, "inclusion_error_households") == {"甲村": 1, "乙村": None}
    status = dict(
        zip(
            *queries.metrics_frame(store, ROUND, "village")[
                ["village", "coverage_verification"]
            ].T.values,
            strict=True,
        )
    )
    assert status == {"甲村": coverage.FULL, "乙村": coverage.MISSING}
    county = queries.metrics_frame(store, ROUND, "county").iloc[0]
    assert county["inclusion_error_households"] == 1  # 甲村's A1: the one file that checked
    assert county["coverage_verification"] == coverage.PARTIAL
    assert coverage.metric_status(county, "inclusion_error_rate") == coverage.PARTIAL
    assert coverage.metric_status(county, "households_total") == coverage.FULL


def test_a_round_without_a_relocation_sheet_has_no_relocation_figures(store):
    load(store, "户.xlsx", {"户信息": [SURVEY_HEADER, *A_ROWS]})
    assert total(store, "relocated_households") is None
    assert total(store, "relocation_sites") is None
    assert total(store, "households_total") == 2


def test_a_village_without_relocations_in_a_file_that_has_the_sheet_counts_zero(store):
    relocated = [relocation_row("A1", "甲村", "安置点一", "集中安置", 4, 90)]
    load(
        store,
        "户与搬迁.xlsx",
        {
            "户信息": [SURVEY_HEADER, *A_ROWS, *B_ROWS],
            "易地扶贫搬迁": [RELOCATION_HEADER, *relocated],
        },
    )
    assert by_village(store, "relocated_households") == {"甲村": 1, "乙村": 0}
    assert by_village(store, "relocated_persons") == {"甲村": 4, "乙村": 0}
    assert total(store, "relocation_over_standard_households") == 0  # 90 <= 25 x 4


def test_meetings_of_a_township_make_a_village_without_any_a_real_zero(store):
    load(store, "户.xlsx", {"户信息": [SURVEY_HEADER, *A_ROWS, *B_ROWS]})
    load(store, "会议.xlsx", {"贫情分析会议": [MEETING_HEADER, meeting_row("甲村", None, 12)]})
    assert by_village(store, "meetings") == {"甲村": 1, "乙村": 0}
    assert by_village(store, "meeting_attendance") == {"甲村": 12, "乙村": 0}


def test_a_round_without_meetings_has_no_meeting_figures(store):
    load(store, "户.xlsx", {"户信息": [SURVEY_HEADER, *A_ROWS]})
    assert by_village(store, "meetings") == {"甲村": None}
    assert total(store, "meeting_attendance") is None


def test_a_township_without_any_file_of_a_table_is_missing_and_the_county_partial(store):
    other = [survey_row("C1", "丙村", "一组", 3, "未脱贫", township="青山乡")]
    load(store, "测试乡.xlsx", {"户信息": [SURVEY_HEADER, *A_ROWS]})
    load(store, "测试乡会议.xlsx", {"贫情分析会议": [MEETING_HEADER, meeting_row("甲村", None, 9)]})
    load(store, "青山乡.xlsx", {"户信息": [SURVEY_HEADER, *other]})
    frame = queries.metrics_frame(store, ROUND, "township")
    meetings = dict(zip(frame["township"], frame["meetings"], strict=True))
    assert meetings["测试乡"] == 1 and pd.isna(meetings["青山乡"])
    county = queries.metrics_frame(store, ROUND, "county").iloc[0]
    assert county["meetings"] == 1
    assert county["coverage_meetings"] == coverage.PARTIAL


def test_every_metric_names_its_inputs():
    assert set(metrics.METRIC_INPUTS) == set(metrics.METRIC_KEYS)
    known = {i.key for i in coverage.INPUTS}
    assert all(set(v) <= known for v in metrics.METRIC_INPUTS.values())


def test_a_database_made_before_batch_columns_gets_them_from_its_data(tmp_path):
    path = tmp_path / "old.duckdb"
    s = Store(path)
    rows = [without_finding(r) for r in A_ROWS]
    data = workbook_bytes({"户信息": ([NO_FINDING_HEADER, *rows], ())})
    assert ingest.import_file(s, "a.xlsx", data, ROUND).status == "loaded"
    with s.write() as cur:  # as a version-1 database: no such tables
        cur.execute("DROP TABLE batch_columns")
        cur.execute("DROP TABLE batch_units")
    s.close()
    again = Store(path)
    try:
        county = queries.metrics_frame(again, ROUND, "county").iloc[0]
        assert county["households_total"] == 2
        assert county["coverage_verification"] == coverage.MISSING
        assert county["coverage_adjustment"] == coverage.MISSING  # blank in both rows
        assert county["coverage_approval"] == coverage.MISSING
    finally:
        again.close()
