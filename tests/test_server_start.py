"""Server start (``ui.server.lifespan``): the demo is built and the first page's questions
compiled before the health check answers, and the file is free again afterwards."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from analytics.figures import prepared
from analytics.store.database import Store
from ui import server

ROOT = Path(__file__).resolve().parent.parent


def test_an_empty_database_gets_the_demo_at_start_and_stays_free_for_the_command_line(
    tmp_path, monkeypatch
):
    db = tmp_path / "start.duckdb"
    monkeypatch.setenv("POVERTY_DB", str(db))
    prepared.clear()
    server.prepare_database()
    listed = subprocess.run(
        [sys.executable, "-m", "analytics", "rounds", "--db", str(db)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert listed.returncode == 0, listed.stderr  # the server does not hold the file
    assert "2017年精准核查" in listed.stdout and "2017年动态管理" in listed.stdout
    assert prepared._kept  # the first page's SQL is compiled already


def test_a_database_holding_data_is_left_as_it_is(tmp_path, monkeypatch):
    db = tmp_path / "kept.duckdb"
    store = Store(db)
    store.close()
    monkeypatch.setenv("POVERTY_DB", str(db))
    server.prepare_database()
    store = Store(db)
    try:
        before = store.batches()["batch_id"].tolist()
    finally:
        store.close()
    server.prepare_database()
    store = Store(db)
    try:
        assert store.batches()["batch_id"].tolist() == before  # no second demo
    finally:
        store.close()
