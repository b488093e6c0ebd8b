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
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from analytics.domain import config, schema
from analytics.domain.schema import table_columns
from analytics.domain.settings import Settings
from analytics.importing import columns
from analytics.importing.results import PROBLEM_COLUMNS
from analytics.store.restoring import remove_stale_temporaries

SCHEMA_VERSION = 6  # 2: sessions, login_failures, setup_token; 3: batch_columns, batch_units,
# header_spellings, search_misses; 4: batches.data_date, households.household_type and
# first_identified; 5: members, batches.data_date_source; 6: province and county of the
# placed tables (a table or column added later is added in place: Store.migrate)

DATA_TABLES = tuple(schema.TABLES)
# Tables of what a batch brought besides its rows, deleted with it.
BATCH_TABLES = ("quarantine", "row_problems", "batch_columns", "batch_units", "batches")


class StoreError(Exception):
    """The database cannot do what was asked (locked by another process, not a database).

    ``str(err)`` is a plain message for anyone (zh / en), without the file's path, the
    process holding it or DuckDB's own words; ``detail`` has those, for administrators
    (the command line prints it) and the server log, never for a visitor's screen.
    """

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail


def scalar(cur: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None) -> Any:
    """The first value of the first row ``sql`` returns (an aggregate such as ``count(*)``).

    Raises
    ------
    StoreError
        When the query returns no row at all.
    """
    row = cur.execute(sql, params or []).fetchone()
    if row is None:
        raise StoreError(f"no row from: {sql}")
    return row[0]


def default_path() -> Path:
    """The database file: ``$POVERTY_DB`` if set, else ``data/poverty.duckdb``."""
    return config.db_path()


# The units a table of a batch holds rows of (``where`` narrows it to one batch).
# The data version of each open database file, kept between writes (``Store.data_version``):
# path -> (generation, version); a write through any Store of the path bumps the generation.
_VERSION_LOCK = threading.Lock()
_VERSIONS: dict[str, tuple[int, int]] = {}
_GENERATIONS: dict[str, int] = {}


def _forget_version(key: str) -> None:
    with _VERSION_LOCK:
        _GENERATIONS[key] = _GENERATIONS.get(key, 0) + 1
        _VERSIONS.pop(key, None)


_UNITS_SQL = (
    "INSERT INTO batch_units SELECT DISTINCT batch_id, ?, township, village FROM {table} {where}"
)


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
        # Signed-in sessions (analytics/access/sessions.py): the SHA-256 of each browser's token,
        # never the token. Times in UTC.
        """CREATE TABLE IF NOT EXISTS sessions (
            token_hash VARCHAR PRIMARY KEY, username VARCHAR NOT NULL,
            created_at TIMESTAMP NOT NULL, last_seen TIMESTAMP NOT NULL, client VARCHAR)""",
        # Failed sign-ins per (account, client) for the growing delay
        # (analytics/access/accounts.py); the account as the SHA-256 of the name typed (it may
        # be a mistyped password).
        """CREATE TABLE IF NOT EXISTS login_failures (
            account_hash VARCHAR NOT NULL, client VARCHAR NOT NULL, failures INTEGER NOT NULL,
            last_failure TIMESTAMP NOT NULL, PRIMARY KEY (account_hash, client))""",
        # Household searches that found nothing, per account and client (the search wait).
        """CREATE TABLE IF NOT EXISTS search_misses (
            username VARCHAR NOT NULL, client VARCHAR NOT NULL, misses INTEGER NOT NULL,
            last_miss TIMESTAMP NOT NULL, PRIMARY KEY (username, client))""",
        # The one-time first-administrator token printed at start: its SHA-256 only.
        """CREATE TABLE IF NOT EXISTS setup_token (
            token_hash VARCHAR PRIMARY KEY, created_at TIMESTAMP NOT NULL)""",
        "CREATE SEQUENCE IF NOT EXISTS batch_seq START 1",
        """CREATE TABLE IF NOT EXISTS batches (
            batch_id BIGINT PRIMARY KEY, round VARCHAR NOT NULL, file_name VARCHAR NOT NULL,
            sha256 VARCHAR NOT NULL, imported_at TIMESTAMP NOT NULL, imported_by VARCHAR,
            townships VARCHAR, tables VARCHAR, rows_loaded BIGINT, rows_rejected BIGINT,
            rows_skipped BIGINT, warnings BIGINT, is_demo BOOLEAN DEFAULT FALSE,
            data_date DATE, data_date_source VARCHAR)""",
        """CREATE TABLE IF NOT EXISTS quarantine (
            batch_id BIGINT, round VARCHAR, table_name VARCHAR, source_sheet VARCHAR,
            source_row BIGINT, reasons VARCHAR, raw VARCHAR)""",
        """CREATE TABLE IF NOT EXISTS row_problems (
            batch_id BIGINT, file VARCHAR, sheet VARCHAR, row BIGINT, "column" VARCHAR,
            value VARCHAR, code VARCHAR, severity VARCHAR, message VARCHAR,
            message_en VARCHAR)""",
        # The columns each table of a batch had (header as written) and how many of its
        # loaded rows have a value there: a figure whose column none of a unit's batches
        # had (or left blank) is missing, not 0 (analytics/figures/coverage.py).
        """CREATE TABLE IF NOT EXISTS batch_columns (
            batch_id BIGINT NOT NULL, table_name VARCHAR NOT NULL, field VARCHAR NOT NULL,
            header VARCHAR, filled BIGINT NOT NULL)""",
        # The units (township, village) each table of a batch holds rows of.
        """CREATE TABLE IF NOT EXISTS batch_units (
            batch_id BIGINT NOT NULL, table_name VARCHAR NOT NULL, township VARCHAR,
            village VARCHAR)""",
        # The office's own header spellings, confirmed by an administrator.
        """CREATE TABLE IF NOT EXISTS header_spellings (
            spelling VARCHAR PRIMARY KEY, field VARCHAR NOT NULL, header VARCHAR NOT NULL,
            created_by VARCHAR, created_at TIMESTAMP NOT NULL)""",
    ]
    for t in DATA_TABLES:
        cols = ", ".join(f'"{c}" {ty}' for c, ty in table_columns(t))
        stmts.append(f"CREATE TABLE IF NOT EXISTS {t} ({cols})")
    return stmts


# Columns added to a table after databases with that table existed: table -> (column, type).
# A data table's fields (schema.table_columns) are added the same way (``_add_columns``).
_ADDED_COLUMNS: dict[str, list[tuple[str, str]]] = {
    "batches": [("data_date", "DATE"), ("data_date_source", "VARCHAR")]
}

# A batch whose file gives no data date (no title line, no date in its name, none given at
# upload) is as of the latest date its rows carry: the last survey (调查日期) or meeting
# (会议日期) day (issue 14, "every batch has a data date"). Its source: "survey_date".
_LATEST_ROW_DATE_SQL = """
    UPDATE batches SET data_date = d.latest, data_date_source = 'survey_date'
    FROM (SELECT batch_id, max(day) AS latest FROM (
            SELECT batch_id, survey_date AS day FROM households
            UNION ALL SELECT batch_id, meeting_date FROM meetings)
          WHERE day IS NOT NULL GROUP BY batch_id) d
    WHERE batches.batch_id = d.batch_id AND batches.data_date IS NULL {where}"""


def _add_columns(cur: duckdb.DuckDBPyConnection) -> None:
    """Adds to each table the columns its definition has and the database lacks: a
    database made before a field or ``_ADDED_COLUMNS`` entry existed keeps its rows, the
    new column empty (NULL) on them."""
    wanted = {**_ADDED_COLUMNS, **{t: table_columns(t) for t in DATA_TABLES}}
    for table, fields in wanted.items():
        have = {
            r[0]
            for r in cur.execute(
                "SELECT column_name FROM duckdb_columns() WHERE table_name = ? "
                "AND schema_name = 'main' AND database_name = current_database()",
                [table],
            ).fetchall()
        }
        for column, typ in fields:
            if column not in have:
                cur.execute(f'ALTER TABLE {table} ADD COLUMN "{column}" {typ}')


def _stored_version(cur: duckdb.DuckDBPyConnection) -> int:
    """The schema version a database was last migrated to (0 when it says none)."""
    found = cur.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return int(found[0]) if found and str(found[0]).isdigit() else 0


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
        remove_stale_temporaries(self.path)  # what a killed restore left beside the file
        try:
            self.con = duckdb.connect(str(self.path))
        except duckdb.IOException as e:
            if "lock" in str(e).lower():
                raise StoreError(
                    "数据库正被另一个程序使用（例如另一个正在运行的仪表板），请稍后再试。"
                    " / The database is in use by another process (a running dashboard?); "
                    "try again later.",
                    self._detail(e),
                ) from e
            raise StoreError(
                "无法打开数据库：文件不是本系统的数据库。"
                " / Cannot open the database: the file is not a database file of this dashboard.",
                self._detail(e),
            ) from e
        except (duckdb.Error, OSError) as e:
            raise StoreError("无法打开数据库。 / Cannot open the database.", self._detail(e)) from e
        self._lock = threading.RLock()
        self._key = str(self.path.resolve())
        _forget_version(self._key)  # written by another process while no Store held it
        self._rounds: tuple[int, pd.DataFrame] | None = None  # (data version, rounds())
        self.migrate()

    def _detail(self, error: BaseException) -> str:
        """What an administrator needs: the file, this process, and DuckDB's message (which
        names the process holding a lock: its interpreter and PID)."""
        here = f"this process: {sys.executable}, PID {os.getpid()}"
        return f"database {self.path} ({here}): {error}"

    def close(self) -> None:
        """Closes the connection (the file stays)."""
        self.con.close()
        _forget_version(self._key)  # another process may write the file from now on

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor for the calling thread: readers never share one across threads."""
        return self.con.cursor()

    def migrate(self) -> None:
        """Creates missing tables, adds the columns a table gained since the database was
        made (``_ADDED_COLUMNS``, the fields of a data table), and records the schema
        version (idempotent).

        A database made before ``batch_columns`` existed gets it filled from its data: a
        table's field counts as a column of a batch when any of the batch's rows has a
        value in it (a column that was there but left blank cannot be told apart).
        """
        with self.write() as cur:
            existing = {
                r[0] for r in cur.execute("SELECT table_name FROM duckdb_tables()").fetchall()
            }
            for stmt in _ddl():
                cur.execute(stmt)
            _add_columns(cur)
            if "batch_columns" not in existing and "batches" in existing:
                self._backfill(cur)
            if "meta" in existing and _stored_version(cur) < 5:
                # batches imported before the data date fell back to the rows' dates
                cur.execute(_LATEST_ROW_DATE_SQL.format(where=""))
            cur.execute(
                "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)]
            )
            cur.execute("INSERT OR IGNORE INTO meta VALUES ('data_version', '0')")

    @staticmethod
    def _backfill(cur: duckdb.DuckDBPyConnection, batch_id: int | None = None) -> None:
        """batch_columns and batch_units of every batch (or of ``batch_id``), from the rows
        it loaded: a field is a column of a batch when any of its rows has a value there."""
        where = "" if batch_id is None else "WHERE batch_id = ?"
        args = [] if batch_id is None else [batch_id]
        for table in DATA_TABLES:
            fields = [f for f, _ in table_columns(table)[2:-2]]
            header = {f.key: f.header for f in schema.TABLES[table].fields}
            counts = ", ".join(f'count("{f}") AS "{f}"' for f in fields)
            for found_id, *present in cur.execute(
                f"SELECT batch_id, {counts} FROM {table} {where} GROUP BY batch_id", args
            ).fetchall():
                for f, n in zip(fields, present, strict=True):
                    if n:
                        cur.execute(
                            "INSERT INTO batch_columns VALUES (?, ?, ?, ?, ?)",
                            [found_id, table, f, header[f], n],
                        )
            if table in schema.PLACED_TABLES:
                cur.execute(_UNITS_SQL.format(table=table, where=where), [table, *args])

    def describe_batch(self, cur: duckdb.DuckDBPyConnection, batch_id: int) -> None:
        """Records the columns and units of a batch written without an import (generated
        data, analytics/fixtures/synthetic.py) from its rows, inside the caller's transaction."""
        self._backfill(cur, batch_id)

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
                _forget_version(self._key)

    @contextmanager
    def write_if_free(self) -> Iterator[duckdb.DuckDBPyConnection | None]:
        """``write``, or None at once when another write is under way (an import can hold
        the writer for minutes): for bookkeeping a reader may skip, such as noting when a
        session was last used, so that no page waits for it."""
        if not self._lock.acquire(blocking=False):
            yield None
            return
        try:
            with self.write() as cur:
                yield cur
        finally:
            self._lock.release()

    # ----------------------------------------------------------------- reads
    def data_version(self) -> int:
        """A counter bumped by every import and deletion: the key for cached results.

        Read from the file once between writes: DuckDB lets one process write a file, and
        while this process holds it every write goes through ``write`` (of this or another
        Store of the same file), which forgets the kept value. A page asks for the version
        on every cached read, dozens of times a rerun. A read that raced a write does not
        keep what it read (the write's generation moved on).
        """
        with _VERSION_LOCK:
            generation = _GENERATIONS.get(self._key, 0)
            kept = _VERSIONS.get(self._key)
        if kept is not None and kept[0] == generation:
            return kept[1]
        row = self.cursor().execute("SELECT value FROM meta WHERE key='data_version'").fetchone()
        version = int(row[0]) if row else 0
        with _VERSION_LOCK:
            if _GENERATIONS.get(self._key, 0) == generation:
                _VERSIONS[self._key] = (generation, version)
        return version

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
            self.bump(cur)

    def rounds(self) -> pd.DataFrame:
        """Rounds in order of the date their data is as of (issue 14: the latest data date
        of their batches, ``insert_batch``), then first import time.

        Columns: round, data_date, first_date (earliest survey or meeting date; date or
        NaT), first_import, batches, is_demo. The last row is the latest round. A round
        whose batches have no data date (made before it was kept) is placed by its first
        date; one with neither by the year its name carries ("2016年动态管理" as
        2016-01-01); one with none of them sorts after the dated ones.

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
                SELECT b.round, max(b.data_date) AS data_date,
                       (SELECT min(d) FROM dates WHERE dates.round = b.round) AS first_date,
                       min(b.imported_at) AS first_import, count(*) AS batches,
                       bool_and(b.is_demo) AS is_demo
                FROM batches b GROUP BY b.round)
            SELECT * FROM r
            ORDER BY coalesce(data_date, first_date, try_cast(
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

    def round_files(self, round_name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        """What the batches of ``round_name`` held: (columns, units).

        columns: batch_id, table_name, field, filled (loaded rows with a value there);
        units: batch_id, table_name, township, village (see ``analytics.coverage``).
        """
        cur = self.cursor()
        columns = cur.execute(
            "SELECT c.batch_id, c.table_name, c.field, c.filled FROM batch_columns c "
            "JOIN batches b USING (batch_id) WHERE b.round = ?",
            [round_name],
        ).df()
        units = cur.execute(
            "SELECT u.batch_id, u.table_name, u.township, u.village FROM batch_units u "
            "JOIN batches b USING (batch_id) WHERE b.round = ?",
            [round_name],
        ).df()
        return columns, units

    def spellings(self) -> dict[str, str]:
        """The office's confirmed header spellings: normalised spelling -> field key (see
        ``schema.header_lookup``)."""
        rows = self.cursor().execute("SELECT spelling, field FROM header_spellings").fetchall()
        return dict(rows)

    def spelling_table(self) -> pd.DataFrame:
        """The office's confirmed header spellings, for display: spelling, header as first
        written, field, created_by, created_at."""
        return (
            self.cursor()
            .execute(
                "SELECT spelling, header, field, created_by, created_at FROM header_spellings "
                "ORDER BY created_at"
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
            t: scalar(cur, f"SELECT count(*) FROM {t}")
            for t in (*DATA_TABLES, "batches", "quarantine", "row_problems")
        }

    def conflicts(
        self,
        cur: duckdb.DuckDBPyConnection,
        round_name: str,
        sha256: str,
        ids: Mapping[str, set[str] | str],
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
        """Rows of one table already in DuckDB (the bulk path, analytics/importing/bulk.py).

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
        headers: dict[str, dict[str, str]] | None = None,
        data_date: dt.date | None = None,
        data_date_source: str = "",
    ) -> int:
        """Writes one batch inside the caller's transaction (``with store.write() as cur``).

        Parameters
        ----------
        tables : table key -> loadable rows (dicts of field key -> typed value).
        headers : table key -> {field key: header as written}: the columns each of the
            file's tables had (whether or not any row loaded), kept in ``batch_columns``.
        rejected : table key -> rejected rows (source_sheet, source_row, raw, reasons).
        problems : the row report (columns of ``validate.Problem``).
        staged : more loadable rows, already in DuckDB (loaded after ``tables``' own).
        data_date : the date the file's data is as of (``FileReport.data_date``), or None:
            then the latest survey or meeting date of its rows (``data_date_of`` tells).
        data_date_source : where ``data_date`` was read ("title", "file_name", "upload").

        Returns
        -------
        int : the new batch id.
        """
        batch_id = scalar(cur, "SELECT nextval('batch_seq')")
        townships = sorted(
            {
                t
                for table, rows in tables.items()
                if table in schema.PLACED_TABLES
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
            "INSERT INTO batches (batch_id, round, file_name, sha256, imported_at, imported_by, "
            "townships, tables, rows_loaded, rows_rejected, rows_skipped, warnings, is_demo, "
            "data_date, data_date_source) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                data_date,
                data_date_source if data_date is not None else None,
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
        for table, found in (headers or {}).items():
            if not found:
                continue
            keys = list(found)
            counts = ", ".join(f'count("{k}")' for k in keys)
            counted = cur.execute(
                f"SELECT {counts} FROM {table} WHERE batch_id = ?", [batch_id]
            ).fetchone() or [0] * len(keys)  # an aggregate always returns its one row
            cur.executemany(
                "INSERT INTO batch_columns VALUES (?, ?, ?, ?, ?)",
                [[batch_id, table, k, found[k], n] for k, n in zip(keys, counted, strict=True)],
            )
        for table in schema.PLACED_TABLES:  # members take their household's place
            cur.execute(
                _UNITS_SQL.format(table=table, where="WHERE batch_id = ?"), [table, batch_id]
            )
        if data_date is None:
            cur.execute(_LATEST_ROW_DATE_SQL.format(where="AND batches.batch_id = ?"), [batch_id])
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
            frame = problems.assign(batch_id=batch_id)[["batch_id", *PROBLEM_COLUMNS]]
            cur.register("_p", pa.Table.from_pandas(frame, preserve_index=False))
            cur.execute("INSERT INTO row_problems SELECT * FROM _p")
            cur.unregister("_p")
        self.bump(cur)
        return batch_id

    @staticmethod
    def data_date_of(cur: duckdb.DuckDBPyConnection, batch_id: int) -> tuple[dt.date | None, str]:
        """The date batch ``batch_id``'s data is as of and where it was read ("title",
        "file_name", "upload", "survey_date"); (None, "") when nothing gave one."""
        found = cur.execute(
            "SELECT data_date, data_date_source FROM batches WHERE batch_id = ?", [batch_id]
        ).fetchone()
        if found is None or found[0] is None:
            return None, ""
        return found[0], found[1] or ""

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
        for t in (*DATA_TABLES, *BATCH_TABLES):
            cur.execute(f"DELETE FROM {t} WHERE batch_id = ?", [batch_id])
        self.bump(cur)

    def delete_batch(self, batch_id: int) -> bool:
        """Deletes one batch in its own transaction; False when no such batch exists."""
        with self.write() as cur:
            if not scalar(cur, "SELECT count(*) FROM batches WHERE batch_id = ?", [batch_id]):
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
    def bump(cur: duckdb.DuckDBPyConnection) -> None:
        """Bumps the data version inside the caller's transaction: cached figures refresh."""
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
