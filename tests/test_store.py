"""The DuckDB store: one batch per file, landed whole or not at all, rounds in order.

Workbooks are built in the tests (tests/builders.py); expected counts are written by hand.
"""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from analytics.figures import queries
from analytics.importing import ingest
from analytics.store.database import DATA_TABLES, SCHEMA_VERSION, Store
from tests.builders import meeting_row, survey_row, survey_workbook

ROUND = "2017年动态管理"
OTHER_ROUND = "2017年精准核查"

# 甲村: 3 households, 4 + 3 + 5 = 12 persons; one meeting of 9.
JIA = survey_workbook(
    [
        survey_row("J01", "甲村", "一组", 4, "未脱贫"),
        survey_row("J02", "甲村", "一组", 3, "已脱贫", None, "错评"),
        survey_row("J03", "甲村", "二组", 5, "非建档立卡", "新增"),
    ],
    meetings=[meeting_row("甲村", "一组", 9)],
)
# 乙村: 2 households, 2 + 6 = 8 persons.
YI = survey_workbook(
    [
        survey_row("Y01", "乙村", "一组", 2, "已脱贫"),
        survey_row("Y02", "乙村", "一组", 6, "未脱贫"),
    ]
)
# Rows 2 and 4 are valid; row 3 has 0 persons (E_POSITIVE_INT): an error row.
WITH_ERROR = survey_workbook(
    [
        survey_row("E01", "丙村", "一组", 3, "未脱贫"),
        survey_row("E02", "丙村", "一组", 0, "已脱贫"),
        survey_row("E03", "丙村", "二组", 2, "非建档立卡"),
    ]
)
# Another file holding J02 (already in 甲村's batch) and a new household.
HOLDS_J02 = survey_workbook(
    [
        survey_row("J02", "甲村", "一组", 7, "已脱贫"),
        survey_row("J04", "甲村", "二组", 1, "未脱贫"),
    ]
)


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "store.duckdb")
    yield s
    s.close()


def load(store: Store, data: bytes, round_name: str = ROUND, name: str = "f.xlsx", **kw):
    return ingest.import_file(store, name, data, round_name, **kw)


def snapshot(store: Store) -> dict[str, list[tuple]]:
    """Every row of every table (data, batches, quarantine, row report, meta), sorted."""
    cur = store.cursor()
    tables = (*DATA_TABLES, "batches", "quarantine", "row_problems", "meta")
    return {t: cur.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in tables}


def household_ids(store: Store, round_name: str = ROUND) -> list[str]:
    rows = store.cursor().execute(
        "SELECT household_id FROM households WHERE round = ? ORDER BY 1", [round_name]
    )
    return [r[0] for r in rows.fetchall()]


def batch_of(store: Store, file_name: str) -> int:
    batches = store.batches()
    return int(batches.loc[batches["file_name"] == file_name, "batch_id"].item())


# ------------------------------------------------------------------ schema
def test_a_new_file_gets_the_schema_and_reopening_keeps_the_data(tmp_path):
    path = tmp_path / "sub" / "new.duckdb"
    s = Store(path)
    tables = {
        r[0]
        for r in s.cursor().execute("SELECT table_name FROM information_schema.tables").fetchall()
    }
    assert tables >= {"meta", "batches", "quarantine", "row_problems", *DATA_TABLES}
    assert s.counts() == {
        "households": 0,
        "meetings": 0,
        "relocation": 0,
        "villages": 0,
        "members": 0,
        "batches": 0,
        "quarantine": 0,
        "row_problems": 0,
    }
    assert s.data_version() == 0
    assert load(s, JIA, name="jia.xlsx").status == "loaded"
    version = s.data_version()
    s.close()

    again = Store(path)
    assert again.counts()["households"] == 3
    assert again.counts()["meetings"] == 1
    assert again.counts()["batches"] == 1
    assert again.data_version() == version
    assert household_ids(again) == ["J01", "J02", "J03"]
    schema_version = (
        again.cursor().execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    )
    assert schema_version == (str(SCHEMA_VERSION),)
    again.close()


def test_a_database_made_before_the_national_exports_gains_their_columns_in_place(tmp_path):
    """A database of schema version 3 (no batches.data_date, no households.household_type
    or first_identified) opens with those columns added, its rows and figures kept."""
    path = tmp_path / "v3.duckdb"
    old = Store(path)
    assert load(old, JIA, name="jia.xlsx").status == "loaded"
    with old.write() as cur:  # as version 3 made it
        cur.execute("ALTER TABLE batches DROP COLUMN data_date")
        cur.execute("ALTER TABLE households DROP COLUMN household_type")
        cur.execute("ALTER TABLE households DROP COLUMN first_identified")
    old.close()
    again = Store(path)
    try:
        cur = again.cursor()
        columns = {
            (t, c)
            for t, c in cur.execute(
                "SELECT table_name, column_name FROM duckdb_columns() "
                "WHERE table_name IN ('batches', 'households')"
            ).fetchall()
        }
        assert {
            ("batches", "data_date"),
            ("households", "household_type"),
            ("households", "first_identified"),
        } <= columns
        county = queries.metrics_frame(again, ROUND, "county").iloc[0]
        assert (county["households_total"], county["persons_total"]) == (3, 12)
        assert cur.execute("SELECT data_date FROM batches").fetchall() == [(None,)]
        report = load(again, YI, name="乙村_20170713.xlsx")
        assert report.status == "loaded"
        dated = cur.execute("SELECT data_date FROM batches WHERE file_name = '乙村_20170713.xlsx'")
        assert dated.fetchall() == [(dt.date(2017, 7, 13),)]
    finally:
        again.close()


def test_a_loaded_file_is_one_batch_with_its_counts(store):
    report = load(store, JIA, name="jia.xlsx")
    assert (report.status, report.code, report.loaded, report.rejected) == ("loaded", 0, 4, 0)
    batches = store.batches()
    assert len(batches) == 1
    b = batches.iloc[0]
    assert (b["batch_id"], b["round"], b["file_name"]) == (report.batch_id, ROUND, "jia.xlsx")
    assert (b["rows_loaded"], b["rows_rejected"], b["townships"]) == (4, 0, "测试乡")
    sizes = store.cursor().execute(
        "SELECT household_id, household_size, registry_state, source_row FROM households "
        "ORDER BY household_id"
    )
    assert sizes.fetchall() == [
        ("J01", 4, "remaining_poor", 2),
        ("J02", 3, "exited", 3),
        ("J03", 5, "nonregistered", 4),
    ]


# ----------------------------------------------------------- refused imports
def test_a_file_with_an_error_row_is_refused_and_changes_nothing(store):
    load(store, JIA, name="jia.xlsx")
    before, counts, version = snapshot(store), store.counts(), store.data_version()

    report = load(store, WITH_ERROR, name="bad.xlsx")

    assert (report.status, report.code, report.batch_id) == ("refused", 1, None)
    assert [(p.row, p.code) for p in report.problems if p.severity == "error"] == [
        (3, "E_POSITIVE_INT")
    ]
    assert store.counts() == counts
    assert snapshot(store) == before
    assert store.data_version() == version


def test_a_file_with_an_error_row_is_refused_on_an_empty_database_too(store):
    before = snapshot(store)
    assert load(store, WITH_ERROR).status == "refused"
    assert snapshot(store) == before
    assert store.round_names() == []


def test_allow_partial_loads_valid_rows_and_quarantines_rejected_ones(store):
    report = load(store, WITH_ERROR, name="bad.xlsx", allow_partial=True)

    assert (report.status, report.code, report.loaded, report.rejected) == ("partial", 0, 2, 1)
    assert household_ids(store) == ["E01", "E03"]
    q = store.quarantine(report.batch_id)
    assert len(q) == 1
    row = q.iloc[0]
    assert (row["table_name"], row["source_sheet"], row["source_row"]) == (
        "households",
        "户信息",
        3,
    )
    assert "家庭人口数" in row["reasons"]
    raw = json.loads(row["raw"])
    assert raw["户编号"] == "E02"
    assert raw["家庭人口数"] == "0"
    assert raw["建档立卡状态"] == "已脱贫"
    assert raw["行政村"] == "丙村"
    b = store.batches().iloc[0]
    assert (b["rows_loaded"], b["rows_rejected"]) == (2, 1)
    problems = store.problems(report.batch_id)
    assert problems[["row", "code"]].values.tolist() == [[3, "E_POSITIVE_INT"]]


def test_the_same_file_again_in_the_same_round_is_refused_as_a_duplicate(store):
    first = load(store, JIA, name="jia.xlsx")
    before, version = snapshot(store), store.data_version()

    again = load(store, JIA, name="jia-copy.xlsx")

    assert (again.status, again.code) == ("refused", 1)
    assert f"batch {first.batch_id}" in again.message_en
    assert "same file" in again.message_en
    assert snapshot(store) == before
    assert store.data_version() == version


def test_a_household_held_by_another_batch_of_the_round_is_refused_naming_that_batch(store):
    first = load(store, JIA, name="jia.xlsx")
    before = snapshot(store)

    report = load(store, HOLDS_J02, name="j02.xlsx")

    assert report.status == "refused"
    assert f"batch {first.batch_id}" in report.message_en
    assert "jia.xlsx" in report.message_en
    assert "J02" in report.message_en
    assert f"批次号 {first.batch_id}" in report.message
    assert snapshot(store) == before


def test_replace_swaps_the_batches(store):
    old = load(store, JIA, name="jia.xlsx")
    load(store, YI, name="yi.xlsx")
    version = store.data_version()

    new = load(store, HOLDS_J02, name="j02.xlsx", replace=True)

    assert (new.status, new.replaced) == ("loaded", [old.batch_id])
    assert old.batch_id not in set(store.batches()["batch_id"])
    assert sorted(store.batches()["file_name"]) == ["j02.xlsx", "yi.xlsx"]
    # 甲村's three households and its meeting are gone; J02 (7 persons) and J04 came in.
    assert household_ids(store) == ["J02", "J04", "Y01", "Y02"]
    assert store.counts()["households"] == 4
    assert store.counts()["meetings"] == 0
    j02 = store.cursor().execute("SELECT household_size FROM households WHERE household_id='J02'")
    assert j02.fetchall() == [(7,)]
    assert store.data_version() > version


def test_a_failed_replace_keeps_the_old_batch(store, monkeypatch):
    load(store, JIA, name="jia.xlsx")
    before, version = snapshot(store), store.data_version()

    def broken(self, cur, table, batch_id, round_name, rows):
        raise RuntimeError("disk full")

    monkeypatch.setattr(Store, "_bulk_insert", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        load(store, HOLDS_J02, name="j02.xlsx", replace=True)

    assert snapshot(store) == before
    assert store.data_version() == version


def test_the_same_file_in_another_round_loads(store):
    load(store, JIA, name="jia.xlsx")
    report = load(store, JIA, OTHER_ROUND, name="jia.xlsx")
    assert report.status == "loaded"
    assert household_ids(store, ROUND) == ["J01", "J02", "J03"]
    assert household_ids(store, OTHER_ROUND) == ["J01", "J02", "J03"]
    assert store.counts()["households"] == 6
    assert store.counts()["batches"] == 2


def test_a_failure_inside_the_transaction_leaves_nothing_half_written(store, monkeypatch):
    load(store, YI, name="yi.xlsx")
    before, version = snapshot(store), store.data_version()
    calls: list[str] = []
    original = Store._bulk_insert

    def fail_on_second_table(self, cur, table, batch_id, round_name, rows):
        calls.append(table)
        if len(calls) == 2:
            raise RuntimeError("simulated failure")
        return original(self, cur, table, batch_id, round_name, rows)

    monkeypatch.setattr(Store, "_bulk_insert", fail_on_second_table)
    with pytest.raises(RuntimeError, match="simulated failure"):
        load(store, JIA, name="jia.xlsx")  # households, then meetings

    assert calls == ["households", "meetings"]
    assert snapshot(store) == before
    assert store.data_version() == version
    # The store is still usable: the same file lands once the failure is gone.
    monkeypatch.setattr(Store, "_bulk_insert", original)
    assert load(store, JIA, name="jia.xlsx").status == "loaded"
    assert store.counts()["households"] == 5


def test_a_reader_never_sees_half_an_import(store, monkeypatch):
    load(store, YI, name="yi.xlsx")
    seen: list[dict] = []
    original = Store._bulk_insert

    def look_between_tables(self, cur, table, batch_id, round_name, rows):
        seen.append(store.counts())  # another cursor, as a browser session would use
        return original(self, cur, table, batch_id, round_name, rows)

    monkeypatch.setattr(Store, "_bulk_insert", look_between_tables)
    load(store, JIA, name="jia.xlsx")

    # Before households and before meetings: still only 乙村's batch, committed.
    assert [(c["households"], c["meetings"], c["batches"]) for c in seen] == [(2, 0, 1), (2, 0, 1)]
    assert (store.counts()["households"], store.counts()["meetings"]) == (5, 1)


# ----------------------------------------------------------------- deletion
def test_deleting_a_batch_removes_exactly_its_rows_and_restores_the_figures(store):
    load(store, JIA, name="jia.xlsx")
    before = snapshot(store)
    figures = queries.metrics_frame(store, ROUND, "township")
    assert (figures["households_total"].item(), figures["persons_total"].item()) == (3, 12)

    load(store, WITH_ERROR, name="bad.xlsx", allow_partial=True)
    bad = batch_of(store, "bad.xlsx")
    grown = queries.metrics_frame(store, ROUND, "township")
    assert (grown["households_total"].item(), grown["persons_total"].item()) == (5, 17)
    assert store.counts()["quarantine"] == 1

    assert store.delete_batch(bad) is True

    after = snapshot(store)
    assert {t: rows for t, rows in after.items() if t != "meta"} == {
        t: rows for t, rows in before.items() if t != "meta"
    }
    pd.testing.assert_frame_equal(queries.metrics_frame(store, ROUND, "township"), figures)


def test_deleting_an_unknown_batch_changes_nothing(store):
    load(store, JIA)
    before = snapshot(store)
    assert store.delete_batch(999) is False
    assert snapshot(store) == before


def test_data_version_increases_on_import_and_delete_only(store):
    v0 = store.data_version()
    load(store, JIA, name="jia.xlsx")
    v1 = store.data_version()
    assert v1 > v0
    load(store, WITH_ERROR, name="bad.xlsx")  # refused
    load(store, JIA, name="jia.xlsx")  # duplicate, refused
    assert store.data_version() == v1
    load(store, YI, name="yi.xlsx")
    v2 = store.data_version()
    assert v2 > v1
    store.delete_batch(batch_of(store, "yi.xlsx"))
    assert store.data_version() > v2


def test_a_write_through_another_store_of_the_file_is_seen_at_once(store):
    """The version is kept between writes (``Store.data_version``): a write through a
    second Store of the same file in this process must not leave the first one on the old
    version (its cached figures would never refresh)."""
    before = store.data_version()
    other = Store(store.path)
    try:
        load(other, JIA, name="jia.xlsx")
        assert store.data_version() == other.data_version() > before
        other.delete_batch(batch_of(other, "jia.xlsx"))
        assert store.data_version() == other.data_version() > before + 1
    finally:
        other.close()


# ------------------------------------------------------------------- rounds
def dated(household_id: str, day: dt.date) -> bytes:
    return survey_workbook([survey_row(household_id, "甲村", "一组", 3, date=day)])


def test_rounds_are_ordered_by_survey_date_then_import_time(store):
    load(store, dated("A", dt.date(2017, 7, 10)), "七月核查", "a.xlsx")
    load(store, dated("B", dt.date(2017, 6, 1)), "六月核查", "b.xlsx")  # later, earlier dates
    load(store, dated("C", dt.date(2017, 7, 10)), "七月复核", "c.xlsx")  # same date as 七月核查
    assert store.round_names() == ["六月核查", "七月核查", "七月复核"]
    assert store.latest_round() == "七月复核"
    rounds = store.rounds().set_index("round")
    assert rounds.loc["六月核查", "first_date"] == pd.Timestamp("2017-06-01")


def test_round_order_uses_the_latest_of_survey_and_meeting_dates(store):
    # Files without a data date of their own are as of their latest survey or meeting day
    # (issue 14): 甲 met in May but surveyed on July 1, so it sorts after 乙 (June 1); 丙
    # surveyed in May and met on June 20, so it sorts between them.
    jia = survey_workbook(
        [survey_row("A", "甲村", "一组", 3, date=dt.date(2017, 7, 1))],
        meetings=[meeting_row("甲村", None, 12, date=dt.date(2017, 5, 20))],
    )
    bing = survey_workbook(
        [survey_row("C", "甲村", "一组", 3, date=dt.date(2017, 5, 2))],
        meetings=[meeting_row("甲村", None, 12, date=dt.date(2017, 6, 20))],
    )
    load(store, dated("B", dt.date(2017, 6, 1)), "乙", "yi.xlsx")
    load(store, jia, "甲", "jia.xlsx")
    load(store, bing, "丙", "bing.xlsx")
    assert store.round_names() == ["乙", "丙", "甲"]


def test_a_round_without_any_date_sorts_after_dated_rounds(store):
    load(store, dated("U", None), "无日期", "u.xlsx")
    load(store, dated("D", dt.date(2017, 8, 1)), "八月", "d.xlsx")
    assert store.round_names() == ["八月", "无日期"]


def test_an_empty_database_has_no_round(store):
    assert store.round_names() == []
    assert store.latest_round() is None
