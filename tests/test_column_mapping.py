"""A column the importer does not recognise never becomes zeros.

A relocation sheet whose persons column is headed 搬迁人口数 (a common spelling) used to
load its rows with no persons: the overview said 3 households / 0 persons and the report
"搬迁安置3户0人". Now a sheet that lacks a required column loads nothing (its rows are
rejected with the reason, quarantined under "load valid rows only"); the importer proposes
the field the unknown header most likely means; an administrator confirms it (page or
``--map``), and from then on every import path of that office reads it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from analytics.access import accounts
from analytics.domain import schema
from analytics.figures import queries
from analytics.importing import ingest, spellings
from analytics.store.database import Store
from tests.builders import SURVEY_HEADER, csv_bytes, survey_row, workbook_bytes

ROOT = Path(__file__).resolve().parent.parent
ROUND = "2018年动态管理"
# 3 relocated households of 2 persons each (6 persons), headed 搬迁人口数.
RELOCATION_ODD = (
    "乡镇",
    "户编号",
    "户主",
    "迁出村",
    "安置点",
    "安置方式",
    "搬迁人口数",
    "住房面积",
)
RELOCATED = [
    ["青山乡", "Q1", "户主Q1", "青山村", "青山安置点", "集中安置", 2, 40],
    ["青山乡", "Q2", "户主Q2", "青山村", "青山安置点", "集中安置", 2, 60],
    ["青山乡", "Q3", "户主Q3", "青山村", None, "分散安置", 2, 50],
]


def workbook() -> bytes:
    households = [
        survey_row(h, "青山村", "一组", 2, "未脱贫", township="青山乡") for h in ("Q1", "Q2", "Q3")
    ]
    return workbook_bytes(
        {
            "户信息": ([SURVEY_HEADER, *households], ()),
            "易地扶贫搬迁": ([RELOCATION_ODD, *RELOCATED], ()),
        }
    )


@pytest.fixture
def store(tmp_path) -> Store:
    s = Store(tmp_path / "s.duckdb")
    yield s
    s.close()


def relocation_rows(store: Store) -> list[tuple]:
    return (
        store.cursor()
        .execute("SELECT household_id, persons, house_area FROM relocation ORDER BY 1")
        .fetchall()
    )


def test_the_importer_proposes_the_field_an_unknown_header_most_likely_means():
    report = ingest.inspect_file("青山乡.xlsx", workbook())
    sheet = next(s for s in report.sheets if s.table == "relocation")
    assert sheet.proposals == {"搬迁人口数": "persons"}
    missing = [p for p in report.problems if p.code == "E_NO_COLUMN"]
    assert len(missing) == 1
    assert "搬迁人口数" in missing[0].message and "搬迁人口" in missing[0].message
    assert missing[0].column == "搬迁人口数"


def test_a_sheet_without_a_required_column_loads_nothing_and_the_file_is_refused(store):
    report = ingest.import_file(store, "青山乡.xlsx", workbook(), ROUND)
    assert report.status == "refused"
    assert report.rejected == 3  # the three relocation rows
    assert store.counts()["households"] == 0
    assert relocation_rows(store) == []


def test_with_valid_rows_only_the_sheets_rows_go_to_quarantine_with_the_reason(store):
    report = ingest.import_file(store, "青山乡.xlsx", workbook(), ROUND, allow_partial=True)
    assert report.status == "partial"
    assert store.counts()["households"] == 3
    assert relocation_rows(store) == []
    q = store.quarantine()
    assert sorted(q["source_row"]) == [2, 3, 4]
    assert set(q["table_name"]) == {"relocation"}
    assert all("搬迁人口" in r for r in q["reasons"])


def test_a_confirmed_spelling_loads_the_sheet_and_is_audited(store):
    spellings.confirm(store, "搬迁人口数", "persons", by="admin1")
    report = ingest.import_file(store, "青山乡.xlsx", workbook(), ROUND)
    assert report.status == "loaded", report.message
    # hand count: 3 households, 2 + 2 + 2 = 6 persons
    assert relocation_rows(store) == [("Q1", 2, 40.0), ("Q2", 2, 60.0), ("Q3", 2, 50.0)]
    log = accounts.audit_log(store)
    assert list(log["action"]) == ["confirm_spelling"]
    assert log["actor"].iloc[0] == "admin1"
    assert "搬迁人口数" in log["detail"].iloc[0]


def test_a_removed_spelling_is_no_longer_read(store):
    spellings.confirm(store, "搬迁人口数（人）", "搬迁人口", by="admin1")
    assert store.spellings() == {"搬迁人口数": "persons"}
    assert spellings.remove(store, "搬迁人口数", by="admin1")
    assert store.spellings() == {}
    assert ingest.import_file(store, "青山乡.xlsx", workbook(), ROUND).status == "refused"
    assert list(accounts.audit_log(store)["action"]) == ["remove_spelling", "confirm_spelling"]


def test_a_spelling_that_already_means_another_field_is_refused(store):
    with pytest.raises(spellings.SpellingError):
        spellings.confirm(store, "住房面积", "persons", by="a")  # 住房面积 is house_area
    with pytest.raises(spellings.SpellingError):
        spellings.confirm(store, "搬迁人口数", "no_such_field", by="a")
    assert store.spellings() == {}


def test_an_office_spelling_applies_only_to_tables_with_that_field():
    extra = {"搬迁人口数": "persons"}
    assert schema.header_lookup(schema.RELOCATION, extra)["搬迁人口数"] == "persons"
    assert "搬迁人口数" not in schema.header_lookup(schema.HOUSEHOLDS, extra)


def test_the_bulk_path_refuses_a_missing_column_and_reads_a_confirmed_spelling(store, tmp_path):
    path = tmp_path / "relocation.csv"
    path.write_bytes(csv_bytes([RELOCATION_ODD, *RELOCATED]))
    report = ingest.import_path(store, path, ROUND)
    assert report.status == "refused"
    assert [p.code for p in report.problems] == ["E_NO_COLUMN"]
    spellings.confirm(store, "搬迁人口数", "persons", by="a")
    assert ingest.import_path(store, path, ROUND).status == "loaded"
    assert [r[1] for r in relocation_rows(store)] == [2, 2, 2]


def test_the_bulk_path_refuses_a_missing_column_from_parquet(store, tmp_path):
    import pandas as pd

    from analytics.importing import bulk

    path = tmp_path / "relocation.parquet"
    frame = pd.DataFrame(RELOCATED, columns=list(RELOCATION_ODD))
    frame.to_parquet(path)
    report = bulk.import_path(store, path, ROUND)
    assert report.status == "refused"
    assert "搬迁人口" in report.message
    assert relocation_rows(store) == []


def test_each_batch_records_the_columns_its_tables_had(store):
    spellings.confirm(store, "搬迁人口数", "persons", by="a")
    report = ingest.import_file(store, "青山乡.xlsx", workbook(), ROUND)
    rows = (
        store.cursor()
        .execute(
            "SELECT table_name, field, header FROM batch_columns WHERE batch_id = ? "
            "ORDER BY table_name, field",
            [report.batch_id],
        )
        .fetchall()
    )
    assert ("relocation", "persons", "搬迁人口数") in rows
    households = {f for t, f, _ in rows if t == "households"}
    # SURVEY_HEADER: no income, no 两不愁三保障 columns
    assert {"verification", "adjustment", "approval", "household_size"} <= households
    assert "income_per_capita" not in households


def test_the_command_line_map_confirms_and_imports(store, tmp_path):
    path = tmp_path / "青山乡.xlsx"
    path.write_bytes(workbook())
    db = store.path
    store.close()
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "analytics",
            "ingest",
            str(path),
            "--round",
            ROUND,
            "--db",
            str(db),
            "--map",
            "搬迁人口数=persons",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    again = Store(db)
    try:
        assert [r[1] for r in relocation_rows(again)] == [2, 2, 2]
        assert again.spellings() == {"搬迁人口数": "persons"}
        assert accounts.audit_log(again)["actor"].iloc[0].startswith("cli:")
    finally:
        again.close()


def test_the_command_line_names_the_proposal(tmp_path):
    path = tmp_path / "青山乡.xlsx"
    path.write_bytes(workbook())
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "analytics",
            "ingest",
            str(path),
            "--round",
            ROUND,
            "--db",
            str(tmp_path / "x.duckdb"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 1
    assert "--map 搬迁人口数=persons" in run.stderr


# ---------------------------------------------- what a leader sees of such a file
def test_quarantined_relocation_rows_leave_relocation_missing_not_zero(store):
    from analytics.output import report

    ingest.import_file(store, "青山乡.xlsx", workbook(), ROUND, allow_partial=True)
    county = queries.metrics_frame(store, ROUND, "county").iloc[0]
    assert pd.isna(county["relocated_households"]) and pd.isna(county["relocated_persons"])
    assert pd.isna(county["relocation_over_standard_households"])
    built = report.build_report(store, ROUND)
    assert built.section("四、").blocks == [
        "本批次未导入易地扶贫搬迁数据（无此表或各行均未通过校验）。"
    ]
    assert "3户0人" not in built.text()


def test_the_export_of_a_missing_figure_is_an_empty_cell_with_the_reason(store):
    from analytics.output import export

    ingest.import_file(store, "青山乡.xlsx", workbook(), ROUND, allow_partial=True)
    frame = export.metrics_table(queries.metrics_frame(store, ROUND, "village"))
    row = frame.iloc[0]
    assert pd.isna(row["搬迁户"]) and pd.isna(row["搬迁人数"])
    assert row["调查户数"] == 3
    # its 3 rows were quarantined: the reason says rows may have failed, not "no table"
    assert "本批次未导入易地扶贫搬迁数据（无此表或各行均未通过校验）" in row["说明"]
    text = export.to_csv_bytes(frame).decode("utf-8-sig")
    assert ",3," in text and "1,774" not in text  # numbers as numbers, no separators


def test_after_the_mapping_the_report_states_three_households_and_six_persons(store):
    from analytics.output import report

    spellings.confirm(store, "搬迁人口数", "persons", by="admin1")
    assert ingest.import_file(store, "青山乡.xlsx", workbook(), ROUND).status == "loaded"
    county = queries.metrics_frame(store, ROUND, "county").iloc[0]
    assert (county["relocated_households"], county["relocated_persons"]) == (3, 6)
    # 40 <= 50, 60 > 50, 50 <= 50 m² (25 x 2 persons): one household over, 2 persons
    assert county["relocation_over_standard_households"] == 1
    assert "搬迁安置3户6人" in report.build_report(store, ROUND).text()
