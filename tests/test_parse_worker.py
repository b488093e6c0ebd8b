"""The parse worker (analytics/importing/worker.py): a file that makes the parser abort, crash
or run
out of memory or time stops the worker process, never this one. The file is "unreadable"
with a message that names it and says why, nothing is written, and the next file reads.

The hostile files (tests/hostile.py) pass every check of ``guard.check_file``: without the
worker each of them aborts the process that parses it ("memory allocation of
549755813888 bytes failed", SIGABRT), which was the whole dashboard.
"""

from __future__ import annotations

import datetime as dt

import pytest
from streamlit.testing.v1 import AppTest

from analytics.access import accounts
from analytics.domain import config
from analytics.importing import guard, ingest
from analytics.store.database import Store
from tests import hostile
from tests.builders import HOUSEHOLD_HEADER, csv_bytes, household, xlsx_bytes
from tests.signin import sign_in

ROUND = "2018年动态管理"
GOOD = xlsx_bytes([HOUSEHOLD_HEADER, household(1), household(2)])


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "worker.duckdb")
    ingest.import_file(s, "已有.xlsx", GOOD, ROUND)  # something the hostile files must not touch
    yield s
    s.close()


def assert_unreadable(report: ingest.FileReport, *needles: str) -> None:
    assert report.status == "unreadable", (report.status, report.message_en)
    assert report.code == ingest.UNREADABLE and report.batch_id is None and not report.parsed
    assert report.message.startswith(report.file) and report.message_en.startswith(report.file)
    for needle in needles:
        assert needle in report.message_en, report.message_en


@pytest.mark.parametrize("name", sorted(hostile.ABORTING))
def test_a_file_that_aborts_the_parser_is_unreadable_and_nothing_changes(name, store):
    data = hostile.ABORTING[name]()
    assert len(data) < 20_000
    guard.check_file(name, data, config.Limits())  # the checks let it through: the worker stops it
    before = store.counts()
    report = ingest.import_file(store, name, data, ROUND)
    # calamine asked for 512 GB (xlsx) or 128 GB (xls) at once
    assert_unreadable(report, "the parser asked for", "of memory at once", "WORKER_MEMORY_MB")
    assert "超过上限" in report.message
    assert store.counts() == before
    # this process carries on: the next file reads and loads
    after = ingest.import_file(store, "新.csv", csv_bytes([HOUSEHOLD_HEADER, household(7)]), "R2")
    assert after.status == "loaded" and after.loaded == 1


def test_a_file_over_the_workers_memory_limit_is_unreadable(store, monkeypatch):
    data = hostile.memory_hungry()
    monkeypatch.setenv("POVERTY_WORKER_MEMORY_MB", "1024")
    before = store.counts()
    report = ingest.import_file(store, "大表.xlsx", data, ROUND)
    assert_unreadable(report, "over the limit of 1024 MB", "POVERTY_WORKER_MEMORY_MB")
    assert store.counts() == before


def test_a_parse_over_the_workers_time_limit_is_unreadable(store, monkeypatch):
    """400,000 rows take about 6 s of CPU here; the worker may use 1 s (3 s on the clock)."""
    data = csv_bytes([HOUSEHOLD_HEADER, *(household(n) for n in range(1, 400_001))])
    monkeypatch.setenv("POVERTY_WORKER_SECONDS", "1")
    before = store.counts()
    report = ingest.import_file(store, "慢.csv", data, ROUND)
    assert_unreadable(report, "POVERTY_WORKER_SECONDS")
    assert "than the limit of 1 s of CPU time" in report.message_en or (
        "longer than 3 s" in report.message_en
    )
    assert store.counts() == before


def test_the_worker_answers_what_the_parser_in_this_process_finds():
    """Rows, rejected rows, skipped rows and the row report come back from the worker as
    they are made here (``ingest.parse_file`` in this process)."""
    rows = [
        ["凤庆县诗礼乡2017年户信息表"],
        HOUSEHOLD_HEADER,
        household(1),
        [*household(2)[:7], 0, "未脱贫"],  # a household size of 0: rejected
        [*household(3)[:4], "H001", *household(3)[5:]],  # a repeated id
        ["合计", None, None, None, None, None, None, 8, None],
    ]
    for name, data in (("a.xlsx", xlsx_bytes(rows)), ("a.csv", csv_bytes(rows))):
        there = ingest.inspect_file(name, data, "诗礼乡")
        here = ingest.parse_file(
            ingest.FileReport(file=name, sha256=there.sha256), data, "诗礼乡", config.Limits()
        )
        assert there.status == here.status == "inspected"
        assert there.sheets == here.sheets
        assert there.problems == here.problems
        assert [p.rejected for p in there.parsed] == [p.rejected for p in here.parsed]
        assert [[dict(r) for r in p.rows] for p in there.parsed] == [
            [dict(r) for r in p.rows] for p in here.parsed
        ]
        assert [(p.skipped, p.headers, p.township_source) for p in there.parsed] == [
            (p.skipped, p.headers, p.township_source) for p in here.parsed
        ]
        assert there.loaded == 1 and there.rejected == 2


def test_the_worker_answers_the_data_date_the_parser_finds():
    rows = [["凤庆县诗礼乡户信息"], ["导出时间：2019-12-31"], HOUSEHOLD_HEADER, household(1)]
    cases = [
        ("a_20200105.xlsx", xlsx_bytes(rows), (dt.date(2019, 12, 31), "title")),
        ("b_20200105.csv", csv_bytes(rows[2:]), (dt.date(2020, 1, 5), "file_name")),
    ]
    for name, data, expected in cases:
        there = ingest.inspect_file(name, data, "诗礼乡")
        here = ingest.parse_file(
            ingest.FileReport(file=name, sha256=there.sha256), data, "诗礼乡", config.Limits()
        )
        assert (there.data_date, there.data_date_source) == expected
        assert (here.data_date, here.data_date_source) == expected


def test_the_dashboard_survives_each_hostile_file_chosen_in_the_uploader(tmp_path, monkeypatch):
    """An administrator chooses each file on the data page; another session is served
    after each one, and the database holds what it held."""
    monkeypatch.setenv("POVERTY_DB", str(tmp_path / "app.duckdb"))
    monkeypatch.setenv("POVERTY_WORKER_MEMORY_MB", "1024")
    monkeypatch.setenv("STREAMLIT_CLIENT_SHOW_ERROR_DETAILS", "full")
    other = AppTest.from_file("../app.py", default_timeout=180)
    other.run()
    assert not other.exception
    first = [m.value for m in other.metric]
    admin = AppTest.from_file("../app.py", default_timeout=180)
    admin.switch_page("views/data.py")
    sign_in(admin, tmp_path / "app.duckdb", accounts.User("boss", "admin"))
    admin.run()
    assert not admin.exception
    files = {name: make() for name, make in hostile.ABORTING.items()}
    files["大表.xlsx"] = hostile.memory_hungry()
    for name, data in files.items():
        admin.get("file_uploader")[0].set_value((name, data, "application/octet-stream")).run()
        assert not admin.exception
        errors = [e.value for e in admin.error]
        assert any(name in e and "无法读取" in e for e in errors), errors
        other.run()
        assert not other.exception
        assert [m.value for m in other.metric] == first


def test_the_upload_page_keeps_a_summary_of_each_inspection_not_its_rows():
    """ui/upload.py caches what the page shows while the user decides; the rows stay out
    (a 35 MB file's rows took about 85 MB per cached entry)."""
    import pickle

    from ui import upload

    rows = [HOUSEHOLD_HEADER, *(household(n) for n in range(1, 20_001))]
    rows[5] = [*household(5)[:7], 0, "未脱贫"]  # one rejected row
    data = csv_bytes(rows)
    kept = upload._inspect("大.csv", data, "", (), None)
    full = ingest.inspect_file("大.csv", data)
    assert kept.parsed == []
    assert (kept.status, kept.loaded, kept.rejected, kept.skipped) == (
        full.status,
        19_999,
        1,
        0,
    )
    assert kept.sheets == full.sheets and kept.problems == full.problems
    assert len(pickle.dumps(kept)) < len(data) / 50 < len(pickle.dumps(full))
    assert upload._inspect._info.max_entries <= 8
