"""The DuckDB store: schema and migrations, batches, one transaction per import.

One ``Store`` per process owns the connection; writes go through ``Store.write`` (a lock,
one writer at a time) and land whole or not at all. Readers take their own cursor
(``Store.cursor``), so browser sessions on other threads never share one. Rows are
bulk-loaded from Arrow tables, never one INSERT per row.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from analytics import columns, schema
from analytics.schema import table_columns
from analytics.settings import Settings

DB_ENV = "POVERTY_DB"
DEFAULT_DB = Path(__file__).resolve().parent.parent / "data" / "poverty.duckdb"
SCHEMA_VERSION = 1

DATA_TABLES = tuple(schema.TABLES)


class StoreError(Exception):
    """The database cannot do what was asked (locked by another process, refused write).

    ``str(err)`` is a message for the user.
    """


def default_path() -> Path:
    """The database file: ``$POVERTY_DB`` if set, else ``data/poverty.duckdb``."""
    return Path(os.environ.get(DB_ENV) or DEFAULT_DB)


def _ddl() -> list[str]:
    stmts = [
        "CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)",
        "CREATE TABLE IF NOT EXISTS settings (key VARCHAR PRIMARY KEY, value VARCHAR)",
        """CREATE TABLE IF NOT EXISTS users (
            username VARCHAR PRIMARY KEY, password_hash VARCHAR, role VARCHAR NOT NULL,
            created_at TIMESTAMP NOT NULL, disabled BOOLEAN DEFAULT FALSE)""",
        """CREATE TABLE IF NOT EXISTS audit (
            logged_at TIMESTAMP NOT NULL, actor VARCHAR NOT NULL, action VARCHAR NOT NULL,
            detail VARCHAR)""",
        "CREATE SEQUENCE IF NOT EXISTS batch_seq START 1",
        """CREATE TABLE IF NOT EXISTS batches (
            batch_id BIGINT PRIMARY KEY, round VARCHAR NOT NULL, file_name VARCHAR NOT NULL,
            sha256 VARCHAR NOT NULL, imported_at TIMESTAMP NOT NULL, imported_by VARCHAR,
            townships VARCHAR, tables VARCHAR, rows_loaded BIGINT, rows_rejected BIGINT,
            rows_skipped BIGINT, warnings BIGINT, is_demo BOOLEAN DEFAULT FALSE)""",
        """CREATE TABLE IF NOT EXISTS quarantine (
            batch_id BIGINT, round VARCHAR, table_name VARCHAR, source_sheet VARCHAR,
            source_row BIGINT, reasons VARCHAR, raw VARCHAR)""",
        """CREATE TABLE IF NOT EXISTS row_problems (
            batch_id BIGINT, file VARCHAR, sheet VARCHAR, row BIGINT, "column" VARCHAR,
            value VARCHAR, code VARCHAR, severity VARCHAR, message VARCHAR,
            message_en VARCHAR)""",
    ]
    for t in DATA_TABLES:
        cols = ", ".join(f'"{c}" {ty}' for c, ty in table_columns(t))
        stmts.append(f"CREATE TABLE IF NOT EXISTS {t} ({cols})")
    return stmts


@dataclass
class Conflict:
    """A batch already in the round that a new file collides with."""

    batch_id: int
    file_name: str
    reason: str
    reason_en: str


class Store:
    """The database file and its single writer.

    Parameters
    ----------
    path : the DuckDB file (created with its schema when missing).

    Raises
    ------
    StoreError
        When another process holds the file (DuckDB allows one writing process).
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path else default_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        from analytics.backup import remove_stale_temporaries  # backup imports this module

        remove_stale_temporaries(self.path)  # what a killed restore left beside the file
        try:
            self.con = duckdb.connect(str(self.path))
        except duckdb.IOException as e:
            if "lock" in str(e).lower():
                raise StoreError(
                    f"数据库文件 {self.path} 正被另一个程序使用（例如正在运行的仪表板），"
                    "请稍后再试。"
                    f" / The database file {self.path} is in use by another process "
                    f"(a running dashboard?): {e}"
                ) from e
            raise StoreError(
                f"无法打开数据库文件 {self.path}：它不是本系统的数据库文件。"
                f" / Cannot open {self.path}: not a database file of this dashboard: {e}"
            ) from e
        except (duckdb.Error, OSError) as e:
            raise StoreError(
                f"无法打开数据库文件 {self.path}：{e} / Cannot open {self.path}: {e}"
            ) from e
        self._lock = threading.RLock()
        self._rounds: tuple[int, pd.DataFrame] | None = None  # (data version, rounds())
        self.migrate()

    def close(self) -> None:
        """Closes the connection (the file stays)."""
        self.con.close()

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor for the calling thread: readers never share one across threads."""
        return self.con.cursor()

    def migrate(self) -> None:
        """Creates missing tables and records the schema version (idempotent)."""
        with self.write() as cur:
            for stmt in _ddl():
                cur.execute(stmt)
            cur.execute(
                "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)]
            )
            cur.execute("INSERT OR IGNORE INTO meta VALUES ('data_version', '0')")

    @contextmanager
    def write(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One write transaction under the writer lock: commits whole or rolls back whole."""
        with self._lock:
            cur = self.con.cursor()
            cur.execute("BEGIN TRANSACTION")
            try:
                yield cur
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            finally:
                cur.close()

    # ----------------------------------------------------------------- reads
    def data_version(self) -> int:
        """A counter bumped by every import and deletion: the key for cached results."""
        row = self.cursor().execute("SELECT value FROM meta WHERE key='data_version'").fetchone()
        return int(row[0]) if row else 0

    def settings(self) -> Settings:
        """The thresholds, poverty lines and housing standard in force (defaults if unset)."""
        row = self.cursor().execute("SELECT value FROM settings WHERE key = 'limits'").fetchone()
        try:
            return Settings.from_json(row[0] if row else None)
        except (ValueError, TypeError):
            return Settings()

    def save_settings(self, value: Settings) -> None:
        """Stores the settings; bumps the data version so that cached figures refresh."""
        with self.write() as cur:
            cur.execute("INSERT OR REPLACE INTO settings VALUES ('limits', ?)", [value.to_json()])
            self._bump(cur)

    def rounds(self) -> pd.DataFrame:
        """Rounds in order: earliest survey or meeting date, then first import time.

        Columns: round, first_date (date or NaT), first_import, batches, is_demo. The last row
        is the latest round. A round without any date is placed by the year its name carries
        ("2016年动态管理" as 2016-01-01); one with neither sorts after the dated ones.

        Kept per data version (every import and deletion bumps it): a page asks for the
        rounds several times a rerun, and the dates scan every row (17 ms at 1M households).
        """
        version = self.data_version()
        kept = self._rounds
        if kept is not None and kept[0] == version:
            return kept[1].copy()
        frame = self._read_rounds()
        self._rounds = (version, frame)
        return frame.copy()

    def _read_rounds(self) -> pd.DataFrame:
        return (
            self.cursor()
            .execute(
                r"""
            WITH dates AS (
                SELECT round, survey_date AS d FROM households
                UNION ALL SELECT round, meeting_date FROM meetings),
            r AS (
                SELECT b.round,
                       (SELECT min(d) FROM dates WHERE dates.round = b.round) AS first_date,
                       min(b.imported_at) AS first_import, count(*) AS batches,
                       bool_and(b.is_demo) AS is_demo
                FROM batches b GROUP BY b.round)
            SELECT * FROM r
            ORDER BY coalesce(first_date, try_cast(
                         regexp_extract(round, '((19|20)\d{2})', 1) || '-01-01' AS DATE))
                     NULLS LAST,
                     first_import, round"""
            )
            .df()
        )

    def round_names(self) -> list[str]:
        """Round names in round order (the last one is the latest)."""
        return self.rounds()["round"].tolist()

    def latest_round(self) -> str | None:
        """The latest round, or None when the database is empty."""
        names = self.round_names()
        return names[-1] if names else None

    def batches(self) -> pd.DataFrame:
        """Every batch, newest first, with its counts."""
        return (
            self.cursor()
            .execute("SELECT * FROM batches ORDER BY imported_at DESC, batch_id DESC")
            .df()
        )

    def problems(self, batch_id: int) -> pd.DataFrame:
        """The stored row report of a batch (warnings of loaded rows, errors of rejected ones)."""
        return (
            self.cursor()
            .execute(
                "SELECT * FROM row_problems WHERE batch_id = ? ORDER BY sheet, row", [batch_id]
            )
            .df()
        )

    def quarantine(self, batch_id: int | None = None) -> pd.DataFrame:
        """Rejected rows kept with their reasons (all batches when ``batch_id`` is None)."""
        sql = "SELECT * FROM quarantine"
        args: list = []
        if batch_id is not None:
            sql += " WHERE batch_id = ?"
            args = [batch_id]
        return self.cursor().execute(sql + " ORDER BY batch_id, source_row", args).df()

    def counts(self) -> dict[str, int]:
        """Row count of every data table and of the quarantine (for checks and tests)."""
        cur = self.cursor()
        return {
            t: cur.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in (*DATA_TABLES, "batches", "quarantine", "row_problems")
        }

    def conflicts(
        self,
        cur: duckdb.DuckDBPyConnection,
        round_name: str,
        sha256: str,
        ids: dict[str, set[str] | str],
    ) -> list[Conflict]:
        """Batches of ``round_name`` that hold the same file, or any of the household ids.

        ``ids`` maps "households" / "relocation" to the household ids the new file holds,
        or to the name of a table of ``cur`` holding them (distinct, column household_id).
        """
        out: dict[int, Conflict] = {}
        for bid, name in cur.execute(
            "SELECT batch_id, file_name FROM batches WHERE round = ? AND sha256 = ?",
            [round_name, sha256],
        ).fetchall():
            out[bid] = Conflict(
                bid,
                name,
                f"同一文件已在本批次中导入（批次号 {bid}：{name}）",
                f"the same file is already imported in this round (batch {bid}: {name})",
            )
        for table, values in ids.items():
            if not values:
                continue
            relation = values if isinstance(values, str) else "_incoming_ids"
            if not isinstance(values, str):
                # in no order: the query's counts and minimum do not depend on it
                incoming = pa.table({"household_id": pa.array(list(values), pa.string())})
                cur.register("_incoming_ids", incoming)
            try:
                hits = cur.execute(
                    f"""SELECT t.batch_id, any_value(b.file_name), count(*), min(t.household_id)
                    FROM {table} t JOIN {relation} i USING (household_id)
                    JOIN batches b USING (batch_id)
                    WHERE t.round = ? GROUP BY t.batch_id""",
                    [round_name],
                ).fetchall()
            finally:
                if not isinstance(values, str):
                    cur.unregister("_incoming_ids")
            for bid, name, n, example in hits:
                if bid in out:
                    continue
                label = schema.TABLES[table].label
                out[bid] = Conflict(
                    bid,
                    name,
                    f"{n} 户（如户编号 {example}）的{label}已在本批次的批次号 {bid}（{name}）中",
                    f"{n} households (e.g. {example}) of table {table} are already in this "
                    f"round in batch {bid} ({name})",
                )
        return list(out.values())

    # ---------------------------------------------------------------- writes
    @dataclass(frozen=True)
    class Staged:
        """Rows of one table already in DuckDB (the bulk path, analytics/bulk.py).

        ``select`` is the SELECT list and FROM clause giving every column of
        ``table_columns(table)`` after batch_id and round, in order; ``rows`` how many rows
        it gives and ``townships`` their townships.
        """

        table: str
        select: str
        rows: int
        townships: frozenset[str]

    def insert_batch(
        self,
        cur: duckdb.DuckDBPyConnection,
        *,
        round_name: str,
        file_name: str,
        sha256: str,
        tables: dict[str, list[dict]],
        rejected: dict[str, list[dict]],
        problems: pd.DataFrame,
        skipped: int,
        is_demo: bool = False,
        staged: Store.Staged | None = None,
    ) -> int:
        """Writes one batch inside the caller's transaction (``with store.write() as cur``).

        Parameters
        ----------
        tables : table key -> loadable rows (dicts of field key -> typed value).
        rejected : table key -> rejected rows (source_sheet, source_row, raw, reasons).
        problems : the row report (columns of ``validate.Problem``).
        staged : more loadable rows, already in DuckDB (loaded after ``tables``' own).

        Returns
        -------
        int : the new batch id.
        """
        batch_id = cur.execute("SELECT nextval('batch_seq')").fetchone()[0]
        townships = sorted(
            {
                t
                for rows in tables.values()
                for t in set(columns.to_columns(rows, ["township"])["township"])
            }
            | (staged.townships if staged else set())
        )
        loaded = sum(len(r) for r in tables.values()) + (staged.rows if staged else 0)
        filled = [k for k, v in tables.items() if v]
        if staged and staged.rows and staged.table not in filled:
            filled.append(staged.table)
        n_rejected = sum(len(r) for r in rejected.values())
        warnings = int((problems["severity"] == "warning").sum()) if len(problems) else 0
        cur.execute(
            "INSERT INTO batches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                batch_id,
                round_name,
                file_name,
                sha256,
                dt.datetime.now(),
                os_user(),
                "、".join(townships),
                ",".join(filled),
                loaded,
                n_rejected,
                skipped,
                warnings,
                is_demo,
            ],
        )
        if staged and staged.rows:
            names = ", ".join(f'"{c}"' for c, _ in table_columns(staged.table))
            cur.execute(
                f"INSERT INTO {staged.table} ({names}) SELECT ?, ?, {staged.select}",
                [batch_id, round_name],
            )
        for table, rows in tables.items():
            if rows:
                self._bulk_insert(cur, table, batch_id, round_name, rows)
        quarantined = [
            {
                "batch_id": batch_id,
                "round": round_name,
                "table_name": table,
                "source_sheet": r["source_sheet"],
                "source_row": r["source_row"],
                "reasons": r["reasons"],
                "raw": json.dumps(r["raw"], ensure_ascii=False),
            }
            for table, rows in rejected.items()
            for r in rows
        ]
        if quarantined:
            cur.register("_q", pa.Table.from_pylist(quarantined))
            cur.execute("INSERT INTO quarantine SELECT * FROM _q")
            cur.unregister("_q")
        if len(problems):
            frame = problems.assign(batch_id=batch_id)[
                [
                    "batch_id",
                    "file",
                    "sheet",
                    "row",
                    "column",
                    "value",
                    "code",
                    "severity",
                    "message",
                    "message_en",
                ]
            ]
            cur.register("_p", pa.Table.from_pandas(frame, preserve_index=False))
            cur.execute("INSERT INTO row_problems SELECT * FROM _p")
            cur.unregister("_p")
        self._bump(cur)
        return batch_id

    def _bulk_insert(self, cur, table: str, batch_id: int, round_name: str, rows: list[dict]):
        cols = table_columns(table)
        fields = [(c, columns.ARROW_TYPES[t]) for c, t in cols if c not in ("batch_id", "round")]
        incoming = columns.to_arrow(rows, fields)  # a missing key: null
        cur.register("_rows", incoming)
        try:
            names = ", ".join(f'"{c}"' for c, _ in cols)
            values = ", ".join(f'"{c}"' for c, _ in fields)
            cur.execute(
                f"INSERT INTO {table} ({names}) SELECT ?, ?, {values} FROM _rows",
                [batch_id, round_name],
            )
        finally:
            cur.unregister("_rows")

    def remove_batch(self, cur: duckdb.DuckDBPyConnection, batch_id: int) -> None:
        """Deletes a batch and exactly its rows, inside the caller's transaction."""
        for t in (*DATA_TABLES, "quarantine", "row_problems", "batches"):
            cur.execute(f"DELETE FROM {t} WHERE batch_id = ?", [batch_id])
        self._bump(cur)

    def delete_batch(self, batch_id: int) -> bool:
        """Deletes one batch in its own transaction; False when no such batch exists."""
        with self.write() as cur:
            found = cur.execute("SELECT count(*) FROM batches WHERE batch_id = ?", [batch_id])
            if not found.fetchone()[0]:
                return False
            self.remove_batch(cur, batch_id)
            return True

    def delete_demo(self) -> int:
        """Deletes every batch marked as demo data; returns how many."""
        with self.write() as cur:
            ids = [
                r[0] for r in cur.execute("SELECT batch_id FROM batches WHERE is_demo").fetchall()
            ]
            for bid in ids:
                self.remove_batch(cur, bid)
            return len(ids)

    @staticmethod
    def _bump(cur: duckdb.DuckDBPyConnection) -> None:
        cur.execute(
            "UPDATE meta SET value = CAST(CAST(value AS BIGINT) + 1 AS VARCHAR) "
            "WHERE key = 'data_version'"
        )


def os_user() -> str:
    """The operating-system user running this process ("unknown" when it has none)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
