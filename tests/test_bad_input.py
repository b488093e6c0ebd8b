"""Fixes for what a bad-input session found: each case as a specification."""

from __future__ import annotations

import datetime as dt
import io
import subprocess
import sys
from pathlib import Path

import openpyxl

from analytics.importing import ingest
from analytics.store.database import Store
from tests.builders import (
    HOUSEHOLD_HEADER,
    csv_bytes,
    household,
    inspect,
    single_table,
    survey_row,
    survey_workbook,
    xlsx_bytes,
)

ROOT = Path(__file__).resolve().parent.parent


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "analytics", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_date_cell_holding_1900_is_a_warning_and_left_empty():
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["乡镇", "行政村", "户编号", "家庭人口数", "建档立卡状态", "调查日期"])
    ws.append(["诗礼乡", "甲村", "H1", 3, "未脱贫", dt.date(1900, 1, 1)])
    ws.append(["诗礼乡", "甲村", "H2", 3, "未脱贫", dt.date(2018, 7, 1)])
    buf = io.BytesIO()
    book.save(buf)
    table = single_table(inspect("日期.xlsx", buf.getvalue()))
    assert [r["survey_date"] for r in table.rows] == [None, dt.date(2018, 7, 1)]
    assert [p.code for p in table.problems] == ["W_DATE_RANGE"]


def test_rounds_without_dates_are_placed_by_the_year_in_their_name(tmp_path):
    s = Store(tmp_path / "r.duckdb")
    dated = survey_workbook([survey_row("A", "甲村", "一组", 2, date=dt.date(2017, 7, 8))])
    undated = survey_workbook([survey_row("B", "甲村", "一组", 2, date=None)])
    later = survey_workbook([survey_row("C", "甲村", "一组", 2, date=dt.date(2018, 7, 1))])
    for name, data, round_name in (
        ("a.xlsx", dated, "2017年动态管理"),
        ("b.xlsx", undated, "2016年动态管理"),
        ("c.xlsx", later, "2018年动态管理"),
    ):
        assert ingest.import_file(s, name, data, round_name).status == "loaded"
    assert s.round_names() == ["2016年动态管理", "2017年动态管理", "2018年动态管理"]
    s.close()


def test_allow_partial_with_every_row_rejected_loads_nothing(tmp_path):
    s = Store(tmp_path / "p.duckdb")
    data = xlsx_bytes([list(HOUSEHOLD_HEADER), household(1, size=0), household(2, size=-1)])
    report = ingest.import_file(s, "全错.xlsx", data, "R", allow_partial=True)
    assert report.status == "refused" and report.code == 1
    assert "all 2 rows have errors" in report.message_en
    assert s.counts()["batches"] == 0 and s.round_names() == []
    s.close()


def test_codes_ignore_letter_case_and_exponents_are_not_numbers():
    rows = [
        [*HOUSEHOLD_HEADER, "动态管理结果"],
        [*household(1, state="已脱贫"), "Relapse"],
        [*household(2, size="1e1"), None],
    ]
    report = inspect("大小写.xlsx", xlsx_bytes(rows))
    table = single_table(report)
    assert [r["adjustment"] for r in table.rows] == ["relapse"]
    assert [(p.row, p.code) for p in report.problems if p.severity == "error"] == [
        (3, "E_POSITIVE_INT")
    ]


def test_an_id_number_that_a_spreadsheet_turned_into_5e17_text_is_flagged():
    rows = [list(HOUSEHOLD_HEADER), household(1, id_number="5.30921E+17")]
    report = inspect("科学计数.csv", csv_bytes(rows))
    assert [p.code for p in report.problems] == ["W_ID_AS_NUMBER"]


def test_control_characters_are_dropped_from_text():
    rows = [list(HOUSEHOLD_HEADER), household(1, name="张\x00三\x07")]
    assert single_table(inspect("控制符.csv", csv_bytes(rows))).rows[0]["head_name"] == "张三"


def test_the_duplicate_id_message_is_english_in_english():
    rows = [list(HOUSEHOLD_HEADER), household(1), household(1)]
    report = inspect("重复.xlsx", xlsx_bytes(rows))
    (p,) = report.problems
    assert p.message_en.endswith("first seen at sheet 户信息 row 2")
    assert "第 2 行" in p.message


def test_cli_output_path_problems_and_missing_databases_are_one_line_messages(tmp_path):
    db = str(tmp_path / "c.duckdb")
    data = tmp_path / "h.xlsx"
    data.write_bytes(survey_workbook([survey_row("A", "甲村", "一组", 2)]))
    assert _cli("ingest", "--db", db, "--round", "R", str(data)).returncode == 0
    for out in (str(tmp_path / "nodir" / "x.csv"), str(tmp_path)):
        p = _cli("export", "households", "--db", db, "--out", out)
        assert p.returncode == 1 and "Traceback" not in p.stderr and "--out" in p.stderr
    p = _cli("report", "--db", db, "--format", "md", "--out", str(tmp_path))
    assert p.returncode == 1 and "Traceback" not in p.stderr
    p = _cli("metrics", "--db", str(tmp_path / "typo.duckdb"))
    assert p.returncode == 1 and "no database at" in p.stderr
    assert not (tmp_path / "typo.duckdb").exists()
    p = _cli("metrics", "--db", str(data))  # a workbook is not a database
    assert p.returncode == 1 and "not a database file" in p.stderr


def test_the_blank_templates_example_rows_never_become_data():
    from analytics.output.template import template_bytes

    report = inspect("模板.xlsx", template_bytes())
    assert report.loaded == 0 and report.rejected == 0
    assert {s.table for s in report.sheets} == {
        "households",
        "meetings",
        "relocation",
        "villages",
        "members",
    }
    assert all(p.skipped["example"] == 1 for p in report.parsed)


def test_another_townships_village_table_does_not_leak_into_a_round(tmp_path):
    """诗礼乡's village table (round A) must not serve round B, which holds only 大寺乡."""
    from analytics.figures import queries
    from analytics.figures.filters import Filters
    from analytics.output import report
    from tests.builders import village_row

    s = Store(tmp_path / "leak.duckdb")
    a = survey_workbook(
        [survey_row("A1", "甲村", "一组", 2, township="诗礼乡")],
        villages=[
            village_row("甲村", 100, 40, township="诗礼乡"),
            village_row("乙村", 100, 40, township="诗礼乡"),
        ],
    )
    b = survey_workbook([survey_row("B1", "大寺村", "一组", 3, township="大寺乡")])
    assert ingest.import_file(s, "a.xlsx", a, "2017年核查").status == "loaded"
    assert ingest.import_file(s, "b.xlsx", b, "2018年动态管理").status == "loaded"
    hits = queries.anomalies(s, Filters("2018年动态管理"))
    assert set(hits["township"]) <= {"大寺乡"}
    assert not (hits["rule"] == "V_COMPLETENESS").any()
    text = report.to_markdown(report.build_report(s, "2018年动态管理"))
    assert "诗礼乡" not in text and "乙村" not in text
    s.close()
