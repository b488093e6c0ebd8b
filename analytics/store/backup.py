"""Backup and restore of the whole database as Parquet files.

``backup`` writes every table of the database (data, batches, quarantine, row report,
settings, meta and whatever tables later versions add) with DuckDB's ``EXPORT DATABASE
... (FORMAT parquet)``: ``schema.sql`` (tables, sequences at their current value),
``load.sql`` and one Parquet file per table, plus ``manifest.json`` (row count of every
table, schema version, when). ``restore`` rebuilds a database file from such a folder: into
a temporary file beside the target, checked against the manifest, migrated to the current
schema, then moved into place in one rename, so a failed restore leaves the target as it
was. It refuses a target that holds data unless ``force`` is given.

Both hold every table, password hashes included: a backup folder and every file in it are
the owner's only (0700 / 0600), as is a restore's temporary file (and the restored file
when there was none before; a replaced file keeps its mode). A restore killed half-way
leaves its temporary file behind: ``remove_stale_temporaries`` deletes such files when the
next restore starts and whenever a ``Store`` opens the database beside them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb

from analytics.store.database import SCHEMA_VERSION, Store, StoreError, scalar
from analytics.store.restoring import RESTORING, remove_stale_temporaries

MANIFEST = "manifest.json"
FORMAT = "poverty-dashboard-backup"
OWNER_ONLY_FILE, OWNER_ONLY_DIR = 0o600, 0o700


class BackupError(Exception):
    """A backup or restore that cannot be done; ``str(err)`` is a message for the user."""


@dataclass
class Manifest:
    """What a backup folder holds: row count per table, the schema version, when."""

    tables: dict[str, int]
    schema_version: int
    created_at: str
    source: str

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": FORMAT,
                "schema_version": self.schema_version,
                "created_at": self.created_at,
                "source": self.source,
                "tables": self.tables,
            },
            ensure_ascii=False,
            indent=2,
        )

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        """The manifest of a backup folder.

        Raises
        ------
        BackupError
            When the folder holds no readable manifest or no DuckDB export.
        """
        try:
            data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
            if data.get("format") != FORMAT:
                raise ValueError("not a backup of this dashboard")
            manifest = cls(
                tables={str(k): int(v) for k, v in data["tables"].items()},
                schema_version=int(data["schema_version"]),
                created_at=str(data.get("created_at", "")),
                source=str(data.get("source", "")),
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
            raise BackupError(
                f"{folder} 不是有效的备份目录（{e}）。 / {folder} is not a backup folder ({e})."
            ) from e
        for name in ("schema.sql", "load.sql"):
            if not (folder / name).is_file():
                raise BackupError(
                    f"{folder} 缺少 {name}，备份不完整。 / {folder} lacks {name}: incomplete."
                )
        return manifest


def table_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Row count of every base table of the main schema, by name."""
    names = [
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'main' AND table_type = 'BASE TABLE' ORDER BY 1"
        ).fetchall()
    ]
    return {n: scalar(con, f'SELECT count(*) FROM "{n}"') for n in names}


def backup(store: Store, out_dir: str | Path) -> Manifest:
    """Exports every table of ``store`` to Parquet in ``out_dir`` (created; must be empty).

    The export runs inside one transaction, so it is one consistent snapshot even while
    other threads of the process read or import.

    Raises
    ------
    BackupError
        When ``out_dir`` exists and is not empty, or the export fails.
    """
    out = Path(out_dir)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise BackupError(
            f"备份目录 {out} 已存在且不是空目录，请换一个目录。"
            f" / The backup folder {out} exists and is not empty; choose another."
        )
    with _owner_only():
        out.mkdir(parents=True, exist_ok=True)
        out.chmod(OWNER_ONLY_DIR)
        with store.write() as cur:
            counts = table_counts(cur)
            path = str(out.resolve()).replace("'", "''")
            try:
                cur.execute(f"EXPORT DATABASE '{path}' (FORMAT parquet)")
            except duckdb.Error as e:
                raise BackupError(f"备份失败：{e} / Backup failed: {e}") from e
        manifest = Manifest(
            tables=counts,
            schema_version=SCHEMA_VERSION,
            created_at=dt.datetime.now().isoformat(timespec="seconds"),
            source=str(store.path),
        )
        (out / MANIFEST).write_text(manifest.to_json(), encoding="utf-8")
    for p in out.rglob("*"):
        p.chmod(OWNER_ONLY_DIR if p.is_dir() else OWNER_ONLY_FILE)
    return manifest


@contextlib.contextmanager
def _owner_only() -> Iterator[None]:
    """Files and folders created in the block (by DuckDB too) are the owner's only. The
    mask is the process's: backup and restore run from the command line, not the server."""
    old = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(old)


def is_empty(path: str | Path) -> bool:
    """True when the database file is missing, zero bytes, or every table but ``meta`` is
    empty (a freshly created database).

    Raises
    ------
    StoreError
        When another process holds the file.
    """
    p = Path(path)
    if not p.exists() or p.stat().st_size == 0:
        return True
    con = _connect(p)
    try:
        return all(n == "meta" or c == 0 for n, c in table_counts(con).items())
    finally:
        con.close()


def restore(src_dir: str | Path, db_path: str | Path, *, force: bool = False) -> Manifest:
    """Rebuilds the database file ``db_path`` from the backup folder ``src_dir``.

    The target must be missing or empty (``is_empty``) unless ``force``. The import goes
    into a temporary file beside the target; its row counts are checked against the
    manifest, the schema is migrated (``Store``), and only then does one rename replace the
    target. Batch ids continue after the restored ones (the sequence is restored too).

    Raises
    ------
    BackupError
        Not a backup folder, a target that holds data (without ``force``), or an import
        whose row counts differ from the manifest.
    StoreError
        When another process holds the target file.
    """
    src = Path(src_dir)
    manifest = Manifest.read(src)
    target = Path(db_path)
    if not force and not is_empty(target):
        raise BackupError(
            f"数据库 {target} 中已有数据，恢复会覆盖它；确认覆盖请加 --force。"
            f" / The database {target} holds data; restoring would overwrite it. "
            "Add --force to overwrite."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(target)
    tmp = target.with_name(f".{target.name}{RESTORING}{os.getpid()}")
    _remove(tmp)
    mode = target.stat().st_mode & 0o777 if target.exists() else OWNER_ONLY_FILE
    try:
        with _owner_only():
            _restore_into(src, tmp, target, manifest)
        tmp.chmod(mode)
        os.replace(tmp, target)
    finally:
        _remove(tmp)
    return manifest


def _restore_into(src: Path, tmp: Path, target: Path, manifest: Manifest) -> None:
    """The import into ``tmp``, checked and migrated; ``target``'s log checkpointed."""
    con = duckdb.connect(str(tmp))
    try:
        folder = str(src.resolve()).replace("'", "''")
        con.execute(f"IMPORT DATABASE '{folder}'")
        counts = table_counts(con)
    except duckdb.Error as e:
        raise BackupError(f"恢复失败：{e} / Restore failed: {e}") from e
    finally:
        con.close()
    missing = {t: n for t, n in manifest.tables.items() if counts.get(t) != n}
    if missing:
        found = {t: counts.get(t) for t in missing}
        raise BackupError(
            f"恢复后的行数与备份清单不符：{found}，应为 {missing}。"
            f" / Restored row counts {found} differ from the manifest's {missing}."
        )
    Store(tmp).close()  # migrate: tables added since the backup are created empty
    if target.exists():
        # Replays and checkpoints the old file's write-ahead log, so that no stale
        # .wal is left to be applied to the restored file; fails when it is in use.
        _connect(target).close()


def _connect(path: Path) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(str(path))
    except duckdb.IOException as e:
        raise StoreError(
            f"数据库文件 {path} 正被另一个程序使用（例如正在运行的仪表板），请先关闭它。"
            f" / The database file {path} is in use by another process: {e}"
        ) from e


def _remove(path: Path) -> None:
    for p in (path, path.with_name(path.name + ".wal")):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()
