"""The bulk path (analytics/importing/bulk.py: CSV and Parquet read and validated in DuckDB) gives
what the normal path gives on the same file: every stored table, the row report, the
statuses. The files are small; the shortcuts for large columns are switched on for every
column (``LARGE_SHARE``) so that both halves of the bulk path run. Nothing here is timed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from analytics.domain import config
from analytics.importing import bulk, ingest, results
from analytics.store.database import DATA_TABLES, Store
from tests.builders import (
    HOUSEHOLD_HEADER,
    PERSON_LIST_HEADER,
    SURVEY_HEADER,
    csv_bytes,
    household,
    person_row,
    survey_row,
)
from tests.odd_rows import export_rows, household_rows

ROOT = Path(__file__).resolve().parent.parent
ROUND = "2019年动态管理"


@pytest.fixture(autouse=True, params=["shortcuts", "python"])
def shortcuts(request, monkeypatch):
    """Both ways: the SQL shortcuts on every column, or on none (all values in Python)."""
    monkeypatch.setattr(bulk, "LARGE_SHARE", -1.0 if request.param == "shortcuts" else 1e9)


def snapshot(store: Store, sheet: str | None = None) -> dict[str, list[tuple]]:
    cur = store.cursor()
    out = {
        t: cur.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()
        for t in (*DATA_TABLES, "quarantine", "row_problems")
    }
    out["batches"] = cur.execute(
        "SELECT * EXCLUDE (imported_at, sha256) FROM batches ORDER BY ALL"
    ).fetchall()
    if sheet:  # a Parquet file's rows are on sheet "Parquet" (and the messages say so)
        out = {
            t: [
                tuple(v.replace(sheet, "CSV") if isinstance(v, str) else v for v in r) for r in rows
            ]
            for t, rows in out.items()
        }
    return out


def report_of(report: ingest.FileReport) -> tuple:
    return (
        report.status,
        report.loaded,
        report.rejected,
        report.skipped,
        report.warnings,
        report.message_en,
        report.replaced,
        [(p.row, p.column, p.value, p.code, p.severity, p.message) for p in report.problems],
        [
            (s.table, s.loaded, s.rejected, s.skipped, s.columns, s.unused_columns)
            for s in report.sheets
        ],
    )


def both(tmp_path, data: bytes, name: str = "户信息.csv", before: list[bytes] = (), **kw):
    """Imports ``data`` through the normal path and the bulk path, each into a new store
    (after the files of ``before``); returns the two (report, store snapshot)."""
    path = tmp_path / name
    path.write_bytes(data)
    out = []
    for way in ("normal", "bulk"):
        store = Store(tmp_path / f"{way}.duckdb")
        try:
            for n, earlier in enumerate(before):
                ingest.import_file(store, f"earlier{n}.csv", earlier, ROUND)
            if way == "normal":
                report = ingest.import_file(store, name, data, ROUND, **kw)
            else:
                report = bulk.import_path(store, path, ROUND, **kw)
            out.append((report_of(report), snapshot(store)))
        finally:
            store.close()
    return out


def assert_same(tmp_path, data: bytes, **kw) -> tuple:
    (normal, stored), (fast, stored_fast) = both(tmp_path, data, **kw)
    for table in stored:
        assert stored_fast[table] == stored[table], table
    assert fast == normal
    return normal


def test_a_register_with_every_quirk_loads_the_same_in_part(tmp_path):
    data = csv_bytes(household_rows(text_cells=True))
    report = assert_same(tmp_path, data, allow_partial=True)
    status, loaded, rejected, skipped, warnings = report[:5]
    assert (status, loaded > 350, rejected >= 5, skipped >= 5, warnings >= 5) == (
        "partial",
        True,
        True,
        True,
        True,
    )


def test_a_national_export_with_every_quirk_loads_the_same_in_part(tmp_path):
    """脱贫属性 and 户类型, implied and explicit adjustments, months, disability certificate
    numbers, 无 / — as empty: the SQL forms of the row rules send the same rows to Python."""
    data = csv_bytes(export_rows(text_cells=True))
    report = assert_same(tmp_path, data, allow_partial=True)
    assert report[:3] == ("partial", 413, 1)
    found = {p[3] for p in report[7]}
    assert {"W_STATE_DISAGREE", "W_IMPLIED_ADJUSTMENT", "W_MONTH", "E_REQUIRED"} <= found


def test_a_register_with_errors_is_refused_the_same_and_nothing_is_written(tmp_path):
    data = csv_bytes(household_rows(text_cells=True), encoding="utf-8-sig")
    report = assert_same(tmp_path, data)
    assert report[0] == "refused"


def test_a_clean_file_without_township_column_takes_the_upload_township(tmp_path):
    header = [h for h in HOUSEHOLD_HEADER if h != "乡镇"]
    rows = [header] + [[v for i, v in enumerate(household(n)) if i != 1] for n in range(1, 300)]
    report = assert_same(tmp_path, csv_bytes(rows), township="勐佑镇")
    assert report[:3] == ("loaded", 299, 0)
    assert assert_same(tmp_path, csv_bytes(rows))[0] == "refused"  # no township anywhere


def test_a_file_holding_households_of_another_batch_is_refused_or_replaces_it(tmp_path):
    rows = [list(SURVEY_HEADER), *(survey_row(f"J{n:03d}", "甲村", "一组", 3) for n in range(300))]
    earlier = csv_bytes([list(SURVEY_HEADER), survey_row("J005", "甲村", "一组", 2)])
    refused = assert_same(tmp_path, csv_bytes(rows), before=[earlier])
    assert refused[0] == "refused" and "J005" in refused[5]
    replaced = assert_same(tmp_path, csv_bytes(rows), before=[earlier], replace=True)
    assert replaced[0] == "loaded" and replaced[6] == [1]


def test_the_same_file_twice_in_a_round_is_refused_the_same(tmp_path):
    rows = [list(SURVEY_HEADER)] + [survey_row(f"J{n:03d}", "甲村", "一组", 3) for n in range(50)]
    data = csv_bytes(rows)
    report = assert_same(tmp_path, data, before=[data])
    assert report[0] == "refused" and "same file" in report[5]


def test_a_parquet_file_of_text_loads_as_the_same_csv(tmp_path):
    rows = household_rows(text_cells=True)
    header, body = rows[0], rows[1:]
    table = pa.table({h: pa.array([r[i] for r in body], pa.string()) for i, h in enumerate(header)})
    pq.write_table(table, tmp_path / "户信息.parquet")
    (normal, stored), _ = both(tmp_path, csv_bytes(rows), allow_partial=True)
    store = Store(tmp_path / "parquet.duckdb")
    report = bulk.import_path(store, tmp_path / "户信息.parquet", ROUND, allow_partial=True)
    fast = snapshot(store, sheet="Parquet")
    for name in stored:
        assert fast[name] == [
            tuple("户信息.parquet" if v == "户信息.csv" else v for v in r) for r in stored[name]
        ], name
    problems = [(p.row, p.column, p.code) for p in report.problems]
    assert problems == [(p[0], p[1], p[3]) for p in normal[7]]


def test_a_typed_parquet_file_reads_its_cells_as_typed_cells(tmp_path):
    table = pa.table(
        {
            "户编号": ["A1", "A2", "A3"],
            "行政村": ["甲村", "甲村", "乙村"],
            "家庭人口数": pa.array([4, 2, 0], pa.int64()),
            "建档立卡状态": ["未脱贫", "一般农户", "已脱贫"],
            "人均纯收入": pa.array([3200.5, None, 4100.0]),
            "调查日期": pa.array([18000, 5000, None], pa.date32()),  # 2019, 1983
            "户主身份证号": pa.array([533921198001010010, None, None], pa.int64()),
        }
    )
    pq.write_table(table, tmp_path / "typed.parquet")
    store = Store(tmp_path / "t.duckdb")
    report = bulk.import_path(
        store, tmp_path / "typed.parquet", ROUND, township="诗礼乡", allow_partial=True
    )
    assert (report.status, report.loaded, report.rejected) == ("partial", 2, 1)
    assert {p.code for p in report.problems} >= {"E_POSITIVE_INT", "W_ID_AS_NUMBER", "W_DATE_RANGE"}
    rows = (
        store.cursor()
        .execute(
            "SELECT household_id, household_size, income_per_capita, survey_date, source_row "
            "FROM households ORDER BY 1"
        )
        .fetchall()
    )
    assert [r[0] for r in rows] == ["A1", "A2"] and rows[0][1:3] == (4, 3200.5)
    assert [r[4] for r in rows] == [2, 3]


def _late_quote() -> bytes:
    rows = [HOUSEHOLD_HEADER, *(household(n) for n in range(1, 300))]
    return csv_bytes([*rows, household(300, name='张"三"')])  # "" inside a value, past the sniff


@pytest.mark.parametrize(
    ("name", "data", "why"),
    [
        ("gbk.csv", csv_bytes([HOUSEHOLD_HEADER, household(1)], encoding="gb18030"), "UTF-8"),
        ("title.csv", csv_bytes([["诗礼乡户信息表"], HOUSEHOLD_HEADER, household(1)]), "row 1"),
        ("tab.txt", csv_bytes([HOUSEHOLD_HEADER, household(1)], delimiter="\t"), "comma"),
        (
            "blank.csv",
            csv_bytes([HOUSEHOLD_HEADER, household(1)])
            + b"\r\n"
            + b",".join(v.encode() for v in map(str, household(2)))
            + b"\r\n",
            "blank lines",
        ),
        ("quote.csv", _late_quote(), "doubled quotes"),
        (
            "人口.csv",
            csv_bytes([PERSON_LIST_HEADER, person_row(1), person_row(1, relation="之子")]),
            "one row per person",
        ),
    ],
)
def test_a_csv_the_bulk_path_cannot_take_says_why_and_goes_the_normal_way(
    tmp_path, name, data, why
):
    path = tmp_path / name
    path.write_bytes(data)
    store = Store(tmp_path / "x.duckdb")
    with pytest.raises(bulk.NotBulk, match=why):
        bulk.import_path(store, path, ROUND)
    assert store.counts()["batches"] == 0
    report = ingest.import_path(store, path, ROUND)
    assert (
        report.status == ingest.import_file(Store(tmp_path / "y.duckdb"), name, data, ROUND).status
    )


def test_the_command_line_ingests_a_parquet_file(tmp_path):
    rows = [list(SURVEY_HEADER)] + [survey_row(f"J{n:03d}", "甲村", "一组", 3) for n in range(20)]
    table = pa.table(
        {h: [None if r[i] is None else str(r[i]) for r in rows[1:]] for i, h in enumerate(rows[0])}
    )
    pq.write_table(table, tmp_path / "户信息.parquet")
    db = tmp_path / "cli.duckdb"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "analytics",
            "ingest",
            str(tmp_path / "户信息.parquet"),
            "--round",
            ROUND,
            "--db",
            str(db),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "loaded as batch 1: 20 rows" in done.stderr
    store = Store(db)
    assert store.counts()["households"] == 20


# ------------------------------------------------- found by trying to break the bulk path
def _parquet(tmp_path, columns: dict, name: str = "p.parquet") -> Path:
    base = {
        "户编号": ["A1", "A2"],
        "行政村": ["甲村", "乙村"],
        "家庭人口数": pa.array([4, 2], pa.int64()),
        "建档立卡状态": ["未脱贫", "已脱贫"],
    }
    path = tmp_path / name
    pq.write_table(pa.table(base | columns), path)
    return path


def _households(store: Store, columns: str) -> list[tuple]:
    sql = f"SELECT household_id, {columns} FROM households ORDER BY 1"
    return store.cursor().execute(sql).fetchall()


def test_a_zoned_parquet_timestamp_keeps_its_local_date(tmp_path):
    # 2019-07-03 00:00 in Beijing is 2019-07-02 16:00 UTC: the sheet's date is the 3rd.
    when = pa.array([1562083200_000_000] * 2, pa.timestamp("us", tz="Asia/Shanghai"))
    store = Store(tmp_path / "tz.duckdb")
    path = _parquet(tmp_path, {"调查日期": when})
    report = bulk.import_path(store, path, ROUND, township="诗礼乡")
    assert report.status == "loaded", report.message_en
    import datetime as dt

    assert _households(store, "survey_date") == [("A1", dt.date(2019, 7, 3))] * 1 + [
        ("A2", dt.date(2019, 7, 3))
    ]


def test_a_nan_or_infinite_parquet_income_is_not_a_number(tmp_path):
    store = Store(tmp_path / "nan.duckdb")
    path = _parquet(tmp_path, {"人均纯收入": pa.array([float("nan"), float("inf")])})
    report = bulk.import_path(store, path, ROUND, township="诗礼乡")
    assert report.status == "loaded"
    assert _households(store, "income_per_capita") == [("A1", None), ("A2", None)]
    assert [p.row for p in report.problems if p.code == "W_NUMBER"] == [2, 3]


def test_a_category_column_and_unread_odd_columns_do_not_refuse_a_parquet_file(tmp_path):
    store = Store(tmp_path / "cat.duckdb")
    state = pa.array(["未脱贫", "已脱贫"]).dictionary_encode()
    odd = pa.array([[1, 2], [3]], pa.list_(pa.int64()))
    path = _parquet(tmp_path, {"建档立卡状态": state, "备注列表": odd})
    report = bulk.import_path(store, path, ROUND, township="诗礼乡")
    assert report.status == "loaded", report.message_en
    assert _households(store, "registry_state") == [("A1", "remaining_poor"), ("A2", "exited")]


def test_a_parquet_date_after_9999_is_refused_with_a_reason_not_a_crash(tmp_path):
    store = Store(tmp_path / "far.duckdb")
    far = pa.array([18000, 3_000_000], pa.date32())  # the second is in the year 10183
    path = _parquet(tmp_path, {"调查日期": far})
    with pytest.raises(results.ReadError) as e:
        bulk.import_path(store, path, ROUND, township="诗礼乡")
    assert "p.parquet" in str(e.value)
    assert store.cursor().execute("SELECT count(*) FROM batches").fetchone() == (0,)


def test_a_quoted_line_break_where_the_sniffed_head_ends_is_read_whole(tmp_path, monkeypatch):
    # The head the bulk path sniffs ended inside a quoted value holding a line break, and
    # the file was refused as damaged; a quoted line break is for the normal path.
    rows = [HOUSEHOLD_HEADER, *(household(n) for n in range(1, 40))]
    data = csv_bytes([*rows, household(40, name="张\n三"), household(41)])
    cut = data.index("张\n三".encode()) + 5  # the last line break of the head is quoted
    monkeypatch.setattr(bulk, "HEAD_BYTES", cut)
    monkeypatch.setenv(config.BULK_MIN_ENV, "0.001")  # 1 kB: this file is for the bulk path
    path = tmp_path / "户信息.csv"
    path.write_bytes(data)
    assert bulk.wanted(path)
    store = Store(tmp_path / "nl.duckdb")
    report = ingest.import_path(store, path, ROUND)
    assert (report.status, report.loaded) == ("loaded", 41), report.message_en


def test_a_relocation_area_with_a_unit_goes_the_bulk_way_like_the_normal_one(tmp_path):
    header = ("户编号", "户主姓名", "行政村", "安置点", "安置方式", "搬迁人口", "住房面积")
    rows = [
        header,
        *((f"R{n}", f"户主{n}", "甲村", "安置点一", "集中安置", 3, 75) for n in range(9)),
    ]
    rows.append(("R9", "户主9", "甲村", "安置点一", "集中安置", 3, "120㎡"))
    normal = assert_same(tmp_path, csv_bytes(rows), township="诗礼乡")
    assert normal[1] == 10


def test_memory_settings_of_zero_mean_what_they_say(monkeypatch):
    monkeypatch.setenv(config.BULK_MIN_ENV, "0")
    assert config.bulk_min_bytes() == 0
    monkeypatch.setenv(config.BULK_MEMORY_ENV, "0")
    assert config.bulk_memory_bytes() == 2048 * config.MB


def test_a_file_whose_every_row_has_an_error_is_refused_the_same_even_in_part(tmp_path):
    # The normal path refuses it ("all 3 rows have errors"); the bulk path used to write a
    # batch holding no row (both now ask results.may_write).
    rows = [HOUSEHOLD_HEADER] + [household(n, size="四口") for n in range(1, 4)]
    report = assert_same(tmp_path, csv_bytes(rows), allow_partial=True)
    assert report[:3] == ("refused", 0, 3)
    assert report[5] == "all 3 rows have errors; nothing was loaded."
