"""Faults: a process killed inside its import, a database held by another process, readers
running while one thread imports.

The kill test uses the documented test hook of ``analytics.ingest``: with
``POVERTY_TEST_PAUSE_IN_WRITE=SECONDS`` an import prints ``IN_WRITE_TRANSACTION`` to standard
error after writing every row and sleeps before its commit; the test kills it there.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest

from analytics.domain import config
from analytics.figures import metrics, queries
from analytics.importing import ingest
from analytics.store.backup import table_counts
from analytics.store.database import Store
from tests.builders import SURVEY_HEADER, csv_bytes, meeting_row, survey_row, survey_workbook

ROOT = Path(__file__).resolve().parent.parent
ROUND = "2018年动态管理"
STATES = ("未脱贫", "已脱贫", "非建档立卡")


def rows(prefix: str, n: int) -> list[list[object]]:
    """``n`` households of 甲村/乙村, states, adjustments and findings in turn."""
    out = []
    for i in range(n):
        state = STATES[i % 3]
        finding = {0: "错评", 2: "漏评"}.get(i % 3) if i % 7 == 0 else None
        village = ("甲村", "乙村")[i % 2]
        out.append(
            survey_row(
                f"{prefix}{i:06d}",
                village,
                f"{i % 5 + 1}组",
                1 + i % 6,
                state,
                "新增" if i % 11 == 0 and state == "非建档立卡" else None,
                finding,
            )
        )
    return out


def snapshot(store_or_path) -> dict[str, list[tuple]]:
    """Every row of every table of the database, sorted."""
    store = store_or_path if isinstance(store_or_path, Store) else Store(store_or_path)
    try:
        cur = store.cursor()
        return {
            t: cur.execute(f'SELECT * FROM "{t}" ORDER BY ALL').fetchall()
            for t in table_counts(cur)
        }
    finally:
        if store is not store_or_path:
            store.close()


def cli(*args: str | Path, env: dict[str, str] | None = None, **kw) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "analytics", *map(str, args)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
        **kw,
    )


# ------------------------------------------------------------------ kill -9
def test_a_process_killed_inside_its_import_leaves_the_database_as_it_was(tmp_path):
    db = tmp_path / "kill.duckdb"
    store = Store(db)
    first = ingest.import_file(
        store,
        "small.xlsx",
        survey_workbook(rows("S", 30), meetings=[meeting_row("甲村", None, 9)]),
        ROUND,
    )
    assert first.status == "loaded"
    store.close()
    before = snapshot(db)
    big = tmp_path / "big.csv"
    big.write_bytes(csv_bytes([SURVEY_HEADER, *rows("B", 40_000)], encoding="utf-8-sig"))

    proc = cli("ingest", big, "--round", ROUND, "--db", db, env={config.TEST_PAUSE_ENV: "120"})
    marker = ""
    deadline = time.monotonic() + 240
    while "IN_WRITE_TRANSACTION" not in marker and time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        marker = line
    try:
        assert "IN_WRITE_TRANSACTION" in marker, marker
        assert "rows=40000" in marker  # every row is written, the commit has not happened
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL

    assert snapshot(db) == before
    # The file is sound: the same import, not killed, lands whole.
    again = Store(db)
    try:
        report = ingest.import_file(again, "big.csv", big.read_bytes(), ROUND)
        assert report.status == "loaded"
        assert again.counts()["households"] == 30 + 40_000
        assert report.batch_id > first.batch_id
    finally:
        again.close()


# ------------------------------------------------------------------ locked file
@contextlib.contextmanager
def held(db: Path) -> Iterator[subprocess.Popen]:
    """Another process holding ``db`` open (as a running dashboard does) while inside."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\nfrom analytics.store.database import Store\n"
            "s = Store(sys.argv[1])\nprint('ready', flush=True)\ntime.sleep(120)\n",
            str(db),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        yield holder
    finally:
        holder.kill()
        holder.wait(timeout=30)
        holder.stdout.close()


def test_a_page_tells_visitors_the_database_is_busy_and_only_the_log_says_where(
    tmp_path, monkeypatch, caplog
):
    db = tmp_path / "held.duckdb"
    Store(db).close()
    monkeypatch.setenv("POVERTY_DB", str(db))
    with held(db) as holder:
        at = AppTest.from_file("../app.py", default_timeout=120).run()
    assert not at.exception, [e.message for e in at.exception]
    shown = " ".join(e.value for e in at.error)
    assert "正被另一个程序使用" in shown
    for secret in (str(db), str(tmp_path), f"PID {holder.pid}", str(holder.pid), "python"):
        assert secret not in shown
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert str(db) in logged and str(holder.pid) in logged


def test_a_database_held_by_another_process_gives_a_message_not_a_traceback(tmp_path):
    db = tmp_path / "held.duckdb"
    Store(db).close()
    with held(db):
        done = subprocess.run(
            [sys.executable, "-m", "analytics", "metrics", "--db", str(db)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "正被另一个程序使用" in done.stderr and "in use by another process" in done.stderr
    assert str(db) in done.stderr
    assert done.stdout == ""


# ------------------------------------------------------------------ readers and a writer
def test_readers_see_the_old_or_the_new_figures_never_a_mix(tmp_path):
    store = Store(tmp_path / "busy.duckdb")
    try:
        assert ingest.import_file(
            store, "a.xlsx", survey_workbook(rows("A", 300)), ROUND
        ).status == ("loaded")
        old = queries.metrics_frame(store, ROUND, "county")
        big = csv_bytes([SURVEY_HEADER, *rows("N", 20_000)], encoding="utf-8-sig")
        counts = list(metrics.COUNT_KEYS)
        seen: list[pd.DataFrame] = []
        during = 0
        errors: list[BaseException] = []
        importing = threading.Event()
        done = threading.Event()
        result: dict[str, ingest.FileReport] = {}

        def writer() -> None:
            try:
                importing.set()
                result["report"] = ingest.import_file(store, "big.csv", big, ROUND)
            except BaseException as e:  # reported by the test
                errors.append(e)
            finally:
                done.set()

        def reader() -> None:
            nonlocal during
            try:
                importing.wait()
                while not done.is_set():
                    seen.append(queries.metrics_frame(store, ROUND, "county")[counts])
                    during += 1
                seen.append(queries.metrics_frame(store, ROUND, "county")[counts])
            except BaseException as e:  # reported by the test
                errors.append(e)

        threads = [threading.Thread(target=writer)] + [
            threading.Thread(target=reader) for _ in range(4)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
        assert not errors, errors
        assert result["report"].status == "loaded"
        new = queries.metrics_frame(store, ROUND, "county")[counts]
        old = old[counts]
        assert int(new["households_total"].iloc[0]) == 20_300
        assert int(old["households_total"].iloc[0]) == 300
        assert during >= 4
        for frame in seen:
            total = int(frame["households_total"].iloc[0])
            assert total in (300, 20_300)
            expected = old if total == 300 else new
            pd.testing.assert_frame_equal(frame.reset_index(drop=True), expected)
            # The three count families agree with the total they were read with.
            row = frame.iloc[0]
            assert sum(row[f"{s}_households"] for s in ("registered", "nonregistered")) == total
            assert row["inclusion_error_households"] <= row["registered_households"]
            assert row["new_households"] <= total
    finally:
        store.close()
