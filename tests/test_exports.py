"""Exports: CSV (UTF-8 with BOM) and XLSX read back equal to the table, long ID numbers
intact, formula-looking text neutralised, numbers still numbers; masking by default."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from analytics.figures import queries
from analytics.figures.filters import Filters
from analytics.importing import ingest
from analytics.output import export
from analytics.store.database import Store
from tests.builders import csv_bytes, survey_row, survey_workbook

ROOT = Path(__file__).resolve().parent.parent
LONG_ID = "530921198001010018"


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "户主身份证号": [LONG_ID, "53092119850611005X"],
            "户主姓名": ["=cmd|'/c calc'!A1", "+SUM(A1)"],
            "备注": ["-2+3", "@who"],
            "家庭人口数": [4, 3],
            "人均纯收入": [2951.5, None],
        }
    )


def test_csv_has_a_bom_and_reads_back_with_ids_intact_and_formulas_neutralised():
    data = export.to_csv_bytes(_frame())
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["户主身份证号", "户主姓名", "备注", "家庭人口数", "人均纯收入"]
    assert rows[1][0] == LONG_ID
    assert rows[1][1] == "'=cmd|'/c calc'!A1"
    assert rows[2][1] == "'+SUM(A1)"
    assert rows[1][2] == "'-2+3"
    assert rows[2][2] == "'@who"
    assert rows[1][3] == "4"  # numbers stay numbers


def test_tab_and_newline_starts_are_neutralised_too():
    assert export.neutralise("\t=1") == "'\t=1"
    assert export.neutralise("\r=1") == "'\r=1"
    assert export.neutralise("\n=1") == "'\n=1"
    assert export.neutralise("safe") == "safe"
    assert export.neutralise(-5) == -5


def test_xlsx_reads_back_equal_with_text_ids_frozen_header_and_filters():
    book = openpyxl.load_workbook(io.BytesIO(export.to_xlsx_bytes(_frame(), "户")))
    ws = book.active
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:E3"
    assert [c.value for c in ws[1]] == [
        "户主身份证号",
        "户主姓名",
        "备注",
        "家庭人口数",
        "人均纯收入",
    ]
    id_cell = ws["A2"]
    assert id_cell.value == LONG_ID and id_cell.data_type == "s" and id_cell.number_format == "@"
    assert ws["B2"].value == "'=cmd|'/c calc'!A1" and ws["B2"].data_type == "s"
    assert ws["D2"].value == 4 and ws["D2"].data_type == "n"
    assert ws["E2"].value == 2951.5
    assert ws["E3"].value is None


@pytest.fixture
def store(tmp_path) -> Store:
    s = Store(tmp_path / "x.duckdb")
    rows = [
        survey_row("H1", "甲村", "一组", 4, "已脱贫"),
        survey_row("H2", "甲村", "二组", 2, "未脱贫"),
    ]
    book = openpyxl.load_workbook(io.BytesIO(survey_workbook(rows)))
    ws = book["户信息"]
    ws.cell(1, 12, "户主身份证号")
    ws.cell(2, 12, LONG_ID)
    ws.cell(3, 12, "53092119850611005X")
    name = ws.cell(2, 5, "=cmd|'/c calc'!A1")  # a head name that looks like a formula,
    name.data_type = "s"  # stored as text (openpyxl would otherwise write a formula)
    buf = io.BytesIO()
    book.save(buf)
    assert ingest.import_file(s, "x.xlsx", buf.getvalue(), "R1").status == "loaded"
    return s


def test_household_rows_are_masked_by_default_and_whole_when_unmasked(store):
    masked = queries.table_rows(store, "households", Filters("R1"))
    assert masked["head_id_number"].tolist() == ["530921***********8", "530921***********X"]
    assert masked["head_name"].tolist()[1] == "户***"  # 户主H2: first character kept
    whole = queries.table_rows(store, "households", Filters("R1"), unmask=True)
    assert whole["head_id_number"].tolist() == [LONG_ID, "53092119850611005X"]


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "analytics", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_export_writes_masked_csv_and_unmasked_xlsx_with_chinese_headers(store, tmp_path):
    store.close()
    db = str(store.path)
    out = tmp_path / "h.csv"
    p = _cli("export", "households", "--db", db, "--round", "R1", "--out", str(out))
    assert p.returncode == 0, p.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_bytes().decode("utf-8-sig"))))
    assert [r["户编号"] for r in rows] == ["H1", "H2"]
    assert rows[0]["户主身份证号"] == "530921***********8"
    assert rows[0]["户主姓名"].startswith("'=")  # masked, and neutralised all the same
    xlsx = tmp_path / "h.xlsx"
    p = _cli(
        "export",
        "households",
        "--db",
        db,
        "--round",
        "R1",
        "--group",
        "一组",
        "--format",
        "xlsx",
        "--out",
        str(xlsx),
        "--unmask",
    )
    assert p.returncode == 0, p.stderr
    ws = openpyxl.load_workbook(xlsx).active
    header = [c.value for c in ws[1]]
    values = dict(zip(header, [c.value for c in ws[2]], strict=True))
    assert ws.max_row == 2  # only 一组
    assert values["户主身份证号"] == LONG_ID
    assert values["户主姓名"] == "'=cmd|'/c calc'!A1"


# ---------------------------------------------------- one writer for every file out
HYPERLINK = '=HYPERLINK("http://x","y")'


def _cells_of_csv(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def _cells_of_xlsx(data: bytes) -> list[tuple[str, object]]:
    book = openpyxl.load_workbook(io.BytesIO(data))
    return [(c.data_type, c.value) for ws in book for row in ws.iter_rows() for c in row]


def _no_formula(cells: list[str]) -> None:
    live = [c for c in cells if c.startswith(export.FORMULA_START)]
    assert not live, live


@pytest.fixture
def hyperlink_db(tmp_path) -> str:
    """A round whose one registered household (no income: an anomaly) lives in a village
    named like a formula."""
    s = Store(tmp_path / "h.duckdb")
    rows = [
        ["户编号", "乡镇", "行政村", "家庭人口数", "建档立卡状态"],
        ["H1", "诗礼乡", HYPERLINK, 3, "未脱贫"],
    ]
    report = ingest.import_file(s, "h.csv", csv_bytes(rows), "R1")
    assert report.status == "loaded", report.message_en
    s.close()
    return str(tmp_path / "h.duckdb")


@pytest.mark.parametrize(
    "command",
    [
        ["metrics", "--round", "R1", "--by", "village", "--format", "csv"],
        ["anomalies", "--round", "R1", "--format", "csv"],
    ],
)
def test_csv_on_standard_output_neutralises_a_village_named_like_a_formula(hyperlink_db, command):
    p = _cli(*command, "--db", hyperlink_db)
    assert p.returncode == 0, p.stderr
    cells = _cells_of_csv(p.stdout)
    assert "'" + HYPERLINK in cells  # the village is there, as text
    _no_formula(cells)


@pytest.mark.parametrize("table", ["households", "anomalies", "metrics"])
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_every_export_neutralises_a_village_named_like_a_formula(
    hyperlink_db, table, fmt, tmp_path
):
    out = tmp_path / f"out.{fmt}"
    p = _cli(
        "export", table, "--db", hyperlink_db, "--round", "R1", "--format", fmt, "--out", str(out)
    )
    assert p.returncode == 0, p.stderr
    if fmt == "csv":
        cells = _cells_of_csv(out.read_bytes().decode("utf-8-sig"))
    else:
        typed = _cells_of_xlsx(out.read_bytes())
        assert all(kind != "f" for kind, _ in typed)
        cells = [v for _, v in typed if isinstance(v, str)]
    assert "'" + HYPERLINK in cells
    _no_formula(cells)


def test_the_row_report_and_page_downloads_neutralise_a_file_named_like_a_formula():
    """The row report's download (ui/upload.py) and every table's downloads (ui/blocks.py)
    are written by export.to_xlsx_bytes / to_csv_bytes."""
    name = f"{HYPERLINK}.csv"
    report = ingest.inspect_file(
        name, "户编号,乡镇,行政村,家庭人口数,建档立卡状态\nH1,诗礼乡,甲村,0,未脱贫\n".encode()
    )
    frame = report.problem_frame()
    assert frame["file"].tolist() == [name]
    typed = _cells_of_xlsx(export.to_xlsx_bytes(frame, "行报告"))
    assert all(kind != "f" for kind, _ in typed)
    _no_formula([v for _, v in typed if isinstance(v, str)])
    _no_formula(_cells_of_csv(export.to_csv_bytes(frame).decode("utf-8-sig")))


def test_the_template_and_the_demo_workbooks_hold_no_formula(tmp_path):
    from analytics.fixtures.demo_data import write_demo_workbooks
    from analytics.output.template import template_bytes

    workbooks = [template_bytes(), *(p.read_bytes() for p, _ in write_demo_workbooks(tmp_path))]
    for data in workbooks:
        typed = _cells_of_xlsx(data)
        assert all(kind != "f" for kind, _ in typed)
        _no_formula([v for _, v in typed if isinstance(v, str)])
