"""Backup to Parquet and restore, through the command line as a user runs them.

A mid-sized database (two rounds, every table, a partial load, a deleted batch, settings) is
backed up and restored into a new file; every table's full contents must come back, and
the batch-id sequence must continue where it was.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from analytics.domain.settings import Settings
from analytics.importing import ingest
from analytics.store import backup
from analytics.store.database import Store
from tests.builders import (
    meeting_row,
    relocation_row,
    survey_row,
    survey_workbook,
    village_row,
)
from tests.test_faults import rows, snapshot

ROOT = Path(__file__).resolve().parent.parent
JUNE, JULY = "2018年6月核查", "2018年7月动态"


def run(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "analytics", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def source(tmp_path) -> Path:
    """A database with data in every table: returns its path (closed)."""
    db = tmp_path / "source.duckdb"
    store = Store(db)
    june = survey_workbook(
        rows("J", 2_000),
        meetings=[meeting_row("甲村", "1组", 12), meeting_row("乙村", None, 30)],
        relocation=[relocation_row("J000001", "甲村", "安置点一", "集中安置", 4, 120.5)],
        villages=[village_row("甲村", 5_000, 1_200), village_row("乙村", 4_000, 900)],
    )
    assert ingest.import_file(store, "june.xlsx", june, JUNE).status == "loaded"
    bad = survey_workbook([survey_row("E1", "甲村", "1组", 3), survey_row("E2", "甲村", "1组", 0)])
    assert ingest.import_file(store, "bad.xlsx", bad, JULY, allow_partial=True).status == "partial"
    assert ingest.import_file(store, "july.xlsx", survey_workbook(rows("K", 500)), JULY).status == (
        "loaded"
    )
    # The last batch is deleted: the sequence, not max(batch_id), says what comes next.
    gone = ingest.import_file(store, "gone.xlsx", survey_workbook(rows("G", 5)), JULY)
    assert store.delete_batch(gone.batch_id)
    store.save_settings(Settings(approval_floor=0.85))
    counts = store.counts()
    assert all(counts[t] for t in ("households", "meetings", "relocation", "villages"))
    assert counts["quarantine"] and counts["row_problems"]
    store.close()
    return db


def test_backup_and_restore_round_trip_every_table_and_the_sequence(source, tmp_path):
    out = tmp_path / "backup"
    done = run("backup", "--db", source, "--out", out)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    before = snapshot(source)
    assert manifest["tables"] == {t: len(r) for t, r in before.items()}
    assert {f"{t}.parquet" for t in before} <= {p.name for p in out.iterdir()}

    target = tmp_path / "sub" / "restored.duckdb"
    done = run("restore", out, "--db", target)
    assert done.returncode == 0, done.stderr
    assert f"rows restored into {target}" in done.stderr
    assert snapshot(target) == before

    # The sequence continues: the next batch gets the id the source would give it, past the
    # deleted batch's, colliding with none.
    july2 = survey_workbook(rows("Z", 10))
    ids = {}
    for name, db in (("source", source), ("restored", target)):
        store = Store(db)
        try:
            report = ingest.import_file(store, "z.xlsx", july2, JULY)
            assert report.status == "loaded"
            ids[name] = report.batch_id
            assert store.batches()["batch_id"].is_unique
        finally:
            store.close()
    assert ids["restored"] == ids["source"]
    assert ids["restored"] > max(r[0] for r in before["batches"]) + 1  # past the deleted one


def test_restore_refuses_a_database_that_holds_data_unless_forced(source, tmp_path):
    out = tmp_path / "backup"
    assert run("backup", "--db", source, "--out", out).returncode == 0
    other = tmp_path / "other.duckdb"
    store = Store(other)
    ingest.import_file(store, "o.xlsx", survey_workbook(rows("O", 3)), JUNE)
    store.close()
    kept = snapshot(other)

    done = run("restore", out, "--db", other)
    assert done.returncode == 1
    assert "--force" in done.stderr and "Traceback" not in done.stderr
    assert snapshot(other) == kept

    done = run("restore", out, "--db", other, "--force")
    assert done.returncode == 0, done.stderr
    assert snapshot(other) == snapshot(source)
    assert not list(tmp_path.glob(".*restoring*"))


def test_an_empty_new_database_counts_as_empty(tmp_path, source):
    fresh = tmp_path / "fresh.duckdb"
    Store(fresh).close()
    assert backup.is_empty(fresh) and backup.is_empty(tmp_path / "missing.duckdb")
    assert not backup.is_empty(source)


def test_a_damaged_backup_is_refused_and_the_target_stays(source, tmp_path):
    out = tmp_path / "backup"
    assert run("backup", "--db", source, "--out", out).returncode == 0
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    manifest["tables"]["households"] += 1
    (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    target = tmp_path / "t.duckdb"
    with pytest.raises(backup.BackupError, match="differ from the manifest"):
        backup.restore(out, target)
    assert not target.exists()
    assert not list(tmp_path.glob(".*restoring*"))

    done = run("restore", tmp_path / "nowhere", "--db", target)
    assert done.returncode == 1 and "not a backup folder" in done.stderr


def test_backup_refuses_a_folder_that_is_not_empty(source, tmp_path):
    out = tmp_path / "full"
    out.mkdir()
    (out / "x.txt").write_text("x")
    done = run("backup", "--db", source, "--out", out)
    assert done.returncode == 1
    assert "not empty" in done.stderr and "Traceback" not in done.stderr


def _modes(folder: Path) -> set[tuple[str, int]]:
    return {("dir" if p.is_dir() else "file", p.stat().st_mode & 0o777) for p in folder.rglob("*")}


def test_a_backup_is_the_owners_only(source, tmp_path):
    """It holds every table, password hashes included."""
    out = tmp_path / "backup"
    assert run("backup", "--db", source, "--out", out).returncode == 0
    assert out.stat().st_mode & 0o777 == 0o700
    assert _modes(out) == {("file", 0o600)}


def test_a_restore_writes_its_temporary_and_a_new_target_owner_only(source, tmp_path, monkeypatch):
    out = tmp_path / "backup"
    assert run("backup", "--db", source, "--out", out).returncode == 0
    seen = {}
    migrate = backup.Store

    def looking(path):  # the temporary file, full, before the rename
        seen[Path(path).name] = {p.name: p.stat().st_mode & 0o777 for p in tmp_path.glob(".*")}
        return migrate(path)

    monkeypatch.setattr(backup, "Store", looking)
    target = tmp_path / "new.duckdb"
    backup.restore(out, target)
    [(name, files)] = seen.items()
    assert name.startswith(".new.duckdb.restoring-") and files[name] == 0o600
    assert all(mode == 0o600 for mode in files.values()), files
    assert target.stat().st_mode & 0o777 == 0o600
    # a target that existed keeps its mode
    existing = tmp_path / "old.duckdb"
    Store(existing).close()
    existing.chmod(0o640)
    backup.restore(out, existing, force=True)
    assert existing.stat().st_mode & 0o777 == 0o640


def test_what_a_killed_restore_left_is_removed_when_a_restore_or_the_store_starts(source, tmp_path):
    out = tmp_path / "backup"
    assert run("backup", "--db", source, "--out", out).returncode == 0
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead = int(gone.stdout)  # a process that has ended
    target = tmp_path / "db.duckdb"

    def leave_behind() -> list[Path]:
        left = [
            tmp_path / f".db.duckdb.restoring-{dead}",
            tmp_path / f".db.duckdb.restoring-{dead}.wal",
        ]
        for p in left:
            p.write_bytes(b"a copy of a database, password hashes included")
        return left

    alive = tmp_path / f".db.duckdb.restoring-{os.getppid()}"  # a restore still running
    alive.write_bytes(b"in progress")
    left = leave_behind()
    assert run("restore", out, "--db", target).returncode == 0
    assert not any(p.exists() for p in left) and alive.exists()
    left = leave_behind()
    Store(target).close()  # the dashboard or any command opening the database
    assert not any(p.exists() for p in left) and alive.exists()
