"""Bulk import of a large, clean, one-table file in DuckDB: a UTF-8 CSV with its header on
row 1, or a Parquet file.

DuckDB reads the file (``read_csv`` / ``read_parquet``) into a staging table, in the store's
one write transaction, and the validation rules run there; the results are those of the
normal path (``ingest.import_file``) on the same file, row for row: the same loaded rows,
statuses, rejected rows with their reasons and Excel/CSV row numbers, the same row report.
The same code decides: every distinct value of a column is parsed once by
``validate.Validator`` (in Python), except the clean values of large text, ID-number and
number columns, whose values DuckDB knows without it (clean text is its own value; an ID
number of 17 digits and a check character that is right and a birth date that exists is its
own value; a plain decimal is its number). A row is loaded in SQL when it is plainly data:
not the first data row, an id that is not a footer word, no cell that may be a total word,
the example mark or its own header, no error in any cell, every required value there, a
township, no contradiction between state and outcome, and an id that no earlier row holds.
Every other row (blank, totals, footers, errors, duplicates, ...) is handed with its cells
to ``Validator.parse``, with the ids of the rows before it.

When (``wanted``): always for ``.parquet``; for ``.csv`` / ``.txt`` of at least
``POVERTY_BULK_MIN_MB`` (default 32 MB). A CSV is taken only when it is comma-separated,
UTF-8 (with or without BOM), has its header on row 1 and one record a line (no blank line,
no line break inside a cell): else ``NotBulk`` says why and the normal path reads it (within
its own size limit). A bulk file may be up to ``POVERTY_MAX_BULK_MB`` (default 8192 MB);
DuckDB works within ``POVERTY_BULK_MEMORY_MB`` (default 2048 MB; it spills to disk beyond).

A Parquet file holds typed columns: each cell is read as a cell of that type in a workbook
(whole numbers and numbers, dates, text); its rows are numbered as if under a header row.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import os
import re
import threading
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from openpyxl.utils import get_column_letter

from analytics.domain import config, idcard, schema
from analytics.domain.config import Limits
from analytics.domain.labels import Both
from analytics.importing import columns, row_rules, validate, workbook, worker
from analytics.importing.guard import CSV_SUFFIXES, Budget
from analytics.importing.locate import LocatedTable, locate
from analytics.importing.results import (
    FileReport,
    LimitError,
    MessageError,
    ParsedTable,
    Problem,
    ReadError,
    SheetSummary,
    loaded,
    may_write,
    out_of_range,
    refuse,
    settle_conflicts,
    size_text,
)
from analytics.importing.sheets import SNIFF_CHARS, Grid, read_csv, sniff_dialect
from analytics.importing.skips import SKIP_TRIGGERS
from analytics.store import database as store

MB = config.MB
HEAD_BYTES = 1024 * 1024  # the start of a CSV read in Python: dialect, header, table kind
# A column with more distinct values than this share of its first rows (those read in
# Python) takes the SQL shortcuts (tests set -1: every column that has one takes it).
LARGE_SHARE = 0.05
HEAD_ROWS = 5000  # rows of a Parquet file read in Python
CSV_SHEET, PARQUET_SHEET = "CSV", "Parquet"

# Clean text: printable ASCII but the space, and CJK unified ideographs (NFKC leaves both
# alone; tests/test_fast_paths.py checks it), without the characters of SKIP_TRIGGERS.
_SAFE = r"[!-~\x{4E00}-\x{9FFF}]+"
_DECIMAL = r"[0-9]{1,15}(\.[0-9]{1,15})?"
_SQL_TYPES = schema.SQL_TYPES


class NotBulk(MessageError):
    """The file is not for the bulk path; the messages say why."""


class _Refused(Exception):
    def __init__(self, report: FileReport) -> None:
        super().__init__(report.message_en)
        self.report = report


def wanted(path: str | os.PathLike[str]) -> bool:
    """Whether a file is for the bulk path by its kind and size (it may still turn out not
    to be: ``NotBulk``)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return True
    if suffix not in CSV_SUFFIXES:
        return False
    try:
        return path.stat().st_size >= config.bulk_min_bytes()
    except OSError:
        return False


def _sql_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _re2(pattern: re.Pattern) -> str:
    """A Python pattern of schema.py in DuckDB's (RE2) syntax: \\uXXXX -> \\x{XXXX}."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", r"\\x{\1}", pattern.pattern)


# ------------------------------------------------------------------ the file
@dataclass
class _Plan:
    path: Path
    name: str
    kind: str  # "csv" or "parquet"
    located: LocatedTable
    width: int
    sources: list[str]  # staging expression of each column (c0, c1, ...)
    types: list[str]  # DuckDB type of each staged column
    # The sniffed CSV dialect reads "" inside a quoted value as a quote (DuckDB always does).
    doublequote: bool = True


def _plan(path: Path, name: str, spellings: schema.Spellings) -> _Plan:
    size = path.stat().st_size
    limit = config.bulk_max_bytes()
    if size > limit:
        raise LimitError.of(
            "msg_bulk_too_large",
            file=name,
            size=size_text(size),
            limit=size_text(limit),
            var=config.BULK_MAX_ENV,
        )
    if path.suffix.lower() == ".parquet":
        plan = _plan_parquet(path, name, spellings)
    else:
        plan = _plan_csv(path, name, spellings)
    if plan.located.person_level:
        # Its rows are rolled up into households and members (analytics/importing/rollup.py),
        # which the bulk path does not do yet: the normal path reads it.
        raise NotBulk.of("msg_bulk_person_level")
    workbook.settle(name, [plan.located])  # its township from the file name, as parse does
    return plan


def _plan_csv(path: Path, name: str, spellings: schema.Spellings) -> _Plan:
    with open(path, "rb") as f:
        head = f.read(HEAD_BYTES + 1)
    if len(head) > HEAD_BYTES:
        head = head[: _last_line_end(head[:HEAD_BYTES]) + 1]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise NotBulk.of("msg_bulk_utf16")
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise NotBulk.of("msg_bulk_not_utf8") from e
    dialect = sniff_dialect(text[:SNIFF_CHARS])  # as sheets.read_csv decides it
    if (
        dialect.delimiter != ","
        or dialect.quotechar != '"'
        or dialect.skipinitialspace
        or dialect.escapechar is not None
    ):
        raise NotBulk.of("msg_bulk_not_comma")
    limits = Limits(rows=10**9, cells=10**12, file_bytes=10**15)
    grid = read_csv(name, head, Budget(limits))
    located = locate(grid, spellings)
    width = len(next(csv.reader(io.StringIO(text, newline=""), dialect), []))
    if not isinstance(located, LocatedTable) or located.header_rows != (0,):
        raise NotBulk.of("msg_bulk_header_row")
    if grid.width > width:
        raise NotBulk.of("msg_bulk_long_rows")
    plan = _Plan(
        path, name, "csv", located, width, [f"c{k}" for k in range(width)], ["VARCHAR"] * width
    )
    plan.doublequote = bool(dialect.doublequote)
    return plan


def _last_line_end(data: bytes) -> int:
    """The position of the last line break of ``data`` outside a quoted value (an even
    number of double quotes before it; a doubled quote counts twice), or -1."""
    a = np.frombuffer(data, dtype=np.uint8)
    ends = np.flatnonzero(a == 10)
    if not len(ends):
        return -1
    quotes_before = np.cumsum(a == 34)[ends]
    outside = ends[quotes_before % 2 == 0]
    return int(outside[-1]) if len(outside) else -1


_PARQUET_TYPES = (
    (pa.types.is_string, "VARCHAR"),
    (pa.types.is_large_string, "VARCHAR"),
    (pa.types.is_boolean, "BOOLEAN"),
    (pa.types.is_integer, "BIGINT"),
    (pa.types.is_floating, "DOUBLE"),
    (pa.types.is_decimal, "DOUBLE"),
    (pa.types.is_date, "DATE"),
    (pa.types.is_timestamp, "TIMESTAMP"),
    (pa.types.is_null, "VARCHAR"),
)


def _plan_parquet(path: Path, name: str, spellings: schema.Spellings) -> _Plan:
    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as e:
        raise ReadError.of("msg_parquet_unreadable", file=name, error=e) from e
    fields = list(pf.schema_arrow)
    # A pandas category column is a dictionary of strings: read as its strings.
    value_types = [f.type.value_type if pa.types.is_dictionary(f.type) else f.type for f in fields]
    types = [next((t for test, t in _PARQUET_TYPES if test(v)), None) for v in value_types]
    try:
        first = pf.read_row_group(0).slice(0, HEAD_ROWS) if pf.num_row_groups else None
        # The header, then the first rows (unreadable types as empty cells: they only
        # matter if their column is one of ours, which is refused below).
        rows: list[list[object]] = [[f.name for f in fields]]
        if first is not None:
            kept = [
                first.column(k) if types[k] else pa.nulls(first.num_rows)
                for k in range(len(fields))
            ]
            rows += [list(r) for r in zip(*(c.to_pylist() for c in kept), strict=True)]
    except (pa.ArrowException, OSError, OverflowError, ValueError) as e:
        raise ReadError.of("msg_parquet_unreadable", file=name, error=e) from e
    for r in rows:
        r[:] = [None if v == "" else v for v in r]
    grid = Grid(file=name, sheet=PARQUET_SHEET, rows=rows, width=len(fields))
    located = locate(grid, spellings)
    if not isinstance(located, LocatedTable) or located.header_rows != (0,):
        raise ReadError.of("msg_parquet_no_header", file=name)
    sources = []
    sql_types: list[str] = []  # types, with VARCHAR for a column we do not read
    for k, (f, v, t) in enumerate(zip(fields, value_types, types, strict=True)):
        quoted = '"' + f.name.replace('"', '""') + '"'
        sql_types.append(t or "VARCHAR")
        if t is None:
            if k in located.columns:
                raise ReadError.of("msg_parquet_type", file=name, column=f.name, type=f.type)
            sources.append("NULL::VARCHAR")  # a column we do not read: left empty
        elif pa.types.is_null(v):
            sources.append("NULL::VARCHAR")
        elif pa.types.is_timestamp(v) and v.tz:
            # A zoned time is the date and time where it was written, as a sheet shows it.
            sources.append(f"timezone({_sql_str(v.tz)}, {quoted})")
        else:
            sources.append(f"CAST({quoted} AS {t})")
    return _Plan(path, name, "parquet", located, len(fields), sources, sql_types)


class _Digest(threading.Thread):
    """sha256 and line count of a file, read in a thread while DuckDB reads it; and whether
    a quote is doubled inside a value (``""`` but as a whole empty value)."""

    DOUBLED = re.compile(rb'(?<![,\n])""|""(?![,\r\n])')

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path, self.sha256, self.lines = path, "", 0
        self.error: OSError | None = None
        self.doubled = False

    def run(self) -> None:
        try:
            h, lines, last, tail = hashlib.sha256(), 0, b"\n", b"\n"
            with open(self.path, "rb") as f:
                while chunk := f.read(8 * MB):
                    h.update(chunk)
                    lines += chunk.count(b"\n")
                    if not self.doubled and (b'""' in chunk or tail[-1:] + chunk[:1] == b'""'):
                        self.doubled = bool(self.DOUBLED.search(tail + chunk))
                    last, tail = chunk[-1:], chunk[-2:]
            self.sha256, self.lines = h.hexdigest(), lines + (last != b"\n")
        except OSError as e:
            self.error = e


# ---------------------------------------------------------------- the import
def import_path(
    st: store.Store,
    path: str | os.PathLike[str],
    round_name: str,
    *,
    file_name: str | None = None,
    township: str | None = None,
    allow_partial: bool = False,
    replace: bool = False,
    is_demo: bool = False,
    data_date: dt.date | None = None,
) -> FileReport:
    """Imports one file as one batch of ``round_name``, in one transaction, in DuckDB.

    Same parameters, rules and result as ``ingest.import_file``.

    Raises
    ------
    NotBulk
        When the file is not for this path (the caller then uses the normal one).
    ReadError
        When the file cannot be read at all (a damaged Parquet file, over the bulk limit).
    """
    path = Path(path)
    name = file_name or path.name
    plan = _plan(path, name, st.spellings())
    digest = _Digest(path)
    digest.start()
    round_name = (round_name or "").strip()
    report = FileReport(file=name, sha256="")
    report.data_date, report.data_date_source = workbook.data_date(name, [plan.located])
    report.give_date(data_date)
    memory = st.cursor().execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
    st.cursor().execute(f"SET memory_limit = '{config.bulk_memory_bytes() // MB}MB'")
    try:
        with st.write() as cur:
            _Run(st, cur, plan, digest, report, township).go(
                round_name, allow_partial, replace, is_demo
            )
            for (t,) in cur.execute(
                "SELECT table_name FROM duckdb_tables() WHERE temporary "
                "AND table_name LIKE '\\_bulk\\_%' ESCAPE '\\'"
            ).fetchall():
                cur.execute(f"DROP TABLE {t}")
    except _Refused as refused:
        return refused.report
    except duckdb.OutOfMemoryException as e:
        mb = config.bulk_memory_bytes() // MB
        raise ReadError.of("msg_bulk_memory", file=name, mb=mb, var=config.BULK_MEMORY_ENV) from e
    except (OverflowError, pa.ArrowException) as e:  # a date after 9999, a huge number
        raise out_of_range(name, e) from e
    finally:
        digest.join()
        st.cursor().execute(f"SET memory_limit = {_sql_str(memory)}")
    return report


def _refuse(report: FileReport, key: str, **fields: object) -> _Refused:
    return _Refused(refuse(report, key, **fields))


class _Run:
    """One bulk import inside its transaction (``cur``)."""

    def __init__(self, st, cur, plan: _Plan, digest: _Digest, report: FileReport, township):
        self.st, self.cur, self.plan, self.digest, self.report = st, cur, plan, digest, report
        self.validator = validate.Validator(township)
        located = plan.located
        self.table = located.table
        self.sheet = CSV_SHEET if plan.kind == "csv" else PARQUET_SHEET
        self.colname = {
            c: f"{get_column_letter(c + 1)} {located.headers[c]}" for c in located.columns
        }
        self.lookup = located.lookup()
        self.limits = config.limits()
        # What the worker's jobs need to know of the file (worker.bulk_cells, ...): the
        # header only, not the rows read in Python.
        header_only = replace(located.grid, rows=located.grid.rows[:1], row_numbers=None)
        self.job = {
            "located": replace(located, grid=header_only),
            "township": self.validator.township,
            "sheet": self.sheet,
            "types": list(plan.types),
        }

    def q(self, sql: str, params: list | None = None) -> list[tuple]:
        return self.cur.execute(sql, params or []).fetchall()

    # ------------------------------------------------------------- staging
    def stage(self) -> int:
        """_bulk_raw: the file's cells (c0, c1, ...) and, for each large column (judged on
        the rows read in Python), whether its shortcut applies (f0, ...), worked out once."""
        plan, located = self.plan, self.plan.located
        head = located.grid.rows[1:]
        columns = list(zip(*head, strict=True)) if head else [()] * plan.width
        self.fast: dict[int, str | None] = {}
        for k in range(plan.width):
            large = len(set(columns[k])) > LARGE_SHARE * len(head) if k < len(columns) else False
            self.fast[k] = self._fast(k, located.columns.get(k)) if large else None
        flags = "".join(f", ({f}) AS f{k}" for k, f in self.fast.items() if f)
        if plan.kind == "csv":
            cols = ", ".join(f"'c{k}': 'VARCHAR'" for k in range(plan.width))
            source = (
                f"read_csv({_sql_str(str(plan.path))}, header = false, skip = 1, delim = ',', "
                f"quote = '\"', escape = '\"', columns = {{{cols}}}, auto_detect = false, "
                "null_padding = true, strict_mode = true)"
            )
            select = "*"
        else:
            source = f"read_parquet({_sql_str(str(plan.path))})"
            select = ", ".join(f"{s} AS c{k}" for k, s in enumerate(plan.sources))
        try:
            self.cur.execute(
                f"CREATE TEMP TABLE _bulk_raw AS SELECT *{flags} "
                f"FROM (SELECT {select} FROM {source})"
            )
        except Exception as e:  # duckdb's errors: bad bytes, a ragged or quoted-newline row
            if isinstance(e, duckdb.OutOfMemoryException):
                raise  # not the file's fault: import_path says what to change
            if plan.kind == "csv":
                raise NotBulk.of("msg_bulk_duckdb_csv", error=str(e)[:300]) from e
            raise ReadError.of("msg_parquet_unreadable", file=plan.name, error=str(e)[:300]) from e
        n, low, high = self.q("SELECT count(*), min(rowid), max(rowid) FROM _bulk_raw")[0]
        # Row ids of a table not yet committed start high, but in order and without gaps.
        if n and high - low + 1 != n:
            raise ReadError.of("msg_bulk_row_ids", file=plan.name)
        self.base = low or 0
        if plan.kind == "csv":
            self.digest.join()
            if self.digest.error is not None:
                raise self.digest.error
            if self.digest.lines != n + 1:
                raise NotBulk.of("msg_bulk_blank_lines")
            if self.digest.doubled and not plan.doublequote:
                raise NotBulk.of("msg_bulk_doubled_quotes")
        return n

    # ------------------------------------------------------- column values
    def columns(self) -> None:
        """Per column: the SQL shortcut (large columns), and the values parsed in Python
        (in a worker process: ``worker.bulk_cells``)."""
        plan = self.plan
        # The distinct values the shortcuts leave, of every column: one grouping-sets query.
        kept = ", ".join(
            f"CASE WHEN NOT f{k} THEN c{k} END AS g{k}" if self.fast[k] else f"c{k} AS g{k}"
            for k in range(plan.width)
        )
        sets = ", ".join(f"(g{k})" for k in range(plan.width))
        grouped = self.cur.sql(
            f"SELECT GROUPING_ID({', '.join(f'g{k}' for k in range(plan.width))}) AS _set, * "
            f"FROM (SELECT {kept} FROM _bulk_raw) GROUP BY GROUPING SETS ({sets})"
        ).to_arrow_table()
        everything = (1 << plan.width) - 1
        values = []
        for k in range(plan.width):
            mine = pc.equal(grouped.column("_set"), everything & ~(1 << (plan.width - 1 - k)))
            column = grouped.column(f"g{k}").filter(mine).drop_null().combine_chunks()
            values.append(column.cast(self._arrow_type(k)))
        del grouped
        maps, templates, self.null_ok = worker.bulk_cells(plan.name, self.job, values, self.limits)
        self.templates: dict[int, dict] = {
            k: templates[k] for k in range(plan.width) if plan.located.columns.get(k) is not None
        }
        self.maps: dict[int, str] = {}
        for k, table in enumerate(maps):
            if table is not None:
                self._register(f"_bulk_m{k}", table)
                self.maps[k] = f"_bulk_m{k}"

    def _arrow_type(self, k: int) -> pa.DataType:
        typ = self.plan.types[k]
        return columns.ARROW_TYPES[typ] if typ != "TIMESTAMP" else pa.timestamp("us")

    def _fast(self, k: int, key: str | None) -> str | None:
        """SQL: the clean values of column ``k`` whose results need no Python, or None."""
        c, typ = f"c{k}", self.plan.types[k]
        trig = "[" + re.escape(SKIP_TRIGGERS) + "]"
        spellings = ""
        if key is not None:
            words = [s for s, f in self.lookup.items() if f == key]
            spellings = f" AND {c} NOT IN ({', '.join(map(_sql_str, words))})" if words else ""
        safe = (
            f"length({c}) <> {columns.EXCEL_CELL_CHARS} "
            f"AND regexp_full_match({c}, {_sql_str(_SAFE)}) "
            f"AND NOT regexp_matches({c}, {_sql_str(trig)}){spellings}"
        )
        if key is None:
            return safe if typ == "VARCHAR" else "TRUE"  # a number or date is never a total
        kind = self.table.by_key[key].kind
        if typ == "VARCHAR" and kind == schema.TEXT:
            # 无, /, -: no value (values.is_blank), left to the Python validator
            safe += f" AND {c} NOT IN ({', '.join(map(_sql_str, sorted(schema.BLANK_WORDS)))})"
            if key == "household_id":
                return (
                    f"{safe} AND NOT regexp_matches({c}, {_sql_str(_re2(schema.FOOTER_PATTERN))})"
                )
            return safe
        if typ == "VARCHAR" and kind == schema.ID_NUMBER:
            return f"{idcard.sql_valid(c)}{spellings}"
        if kind == schema.NUMBER and typ in ("VARCHAR", "BIGINT", "DOUBLE"):
            test = {
                "VARCHAR": f"regexp_full_match({c}, '{_DECIMAL}')",
                "BIGINT": "TRUE",
                "DOUBLE": f"isfinite({c})",  # NaN and inf go to the Python validator
            }[typ]
            if key in row_rules.POSITIVE_NUMBER:
                # TRY_CAST: the test is not always evaluated after the pattern ("120㎡")
                test += f" AND coalesce(TRY_CAST({c} AS DOUBLE) > 0, FALSE)"
            return test
        return None

    # ------------------------------------------------------- classification
    def classify(self) -> None:
        """_bulk_rows: every row's values, the raw cells of its warnings, whether plain.

        "Plain" is what by_column.ByColumn calls plain: no skip reason can apply
        (skips.py), no error in a cell, no row rule may fire (the SQL form of each rule of
        row_rules.ROW_RULES).
        """
        plan, located, table = self.plan, self.plan.located, self.table
        width = plan.width
        level1 = [f"r.rowid - {self.base} + 2 AS row"]
        level2 = ["row"]
        cell_bad, self.warn_cols = [], []
        for k in range(width):
            fast = self.fast[k]
            key = located.columns.get(k)
            level1.append(f"r.c{k} AS c{k}")
            level1.append(f"r.f{k}" if fast else f"FALSE AS f{k}")
            if k not in self.maps:  # every value stands for itself
                if key is not None:
                    level2.append(f'c{k} AS "{key}"')
                    if not self.null_ok:
                        cell_bad.append(f"c{k} IS NULL")
                continue
            level1.append(f"m{k}.skip AS s{k}")
            cell_bad.append(f"(c{k} IS NOT NULL AND NOT f{k} AND coalesce(s{k}, TRUE))")
            if key is None:
                continue
            level1 += [f"m{k}.out AS o{k}", f"m{k}.err AS e{k}", f"m{k}.warn AS w{k}"]
            if fast:
                cast = _SQL_TYPES[table.by_key[key].kind]
                level2.append(
                    f"CASE WHEN c{k} IS NULL THEN NULL WHEN f{k} THEN CAST(c{k} AS {cast}) "
                    f'ELSE o{k} END AS "{key}"'
                )
            else:
                level2.append(f'o{k} AS "{key}"')
            cell_bad.append(f"(c{k} IS NOT NULL AND NOT f{k} AND coalesce(e{k}, TRUE))")
            if not self.null_ok:
                cell_bad.append(f"c{k} IS NULL")
            if self.templates.get(k):
                self.warn_cols.append(k)
                level2.append(
                    f"CASE WHEN c{k} IS NOT NULL AND NOT f{k} AND coalesce(w{k}, FALSE) "
                    f"THEN c{k} END AS v{k}"
                )
        by_key = {key: k for k, key in located.columns.items()}
        id_k = by_key.get("household_id")
        rules = ["_cells", "row = 2"]  # the first data row may be a numbering row
        if id_k is None:
            rules.append("TRUE")  # as by_column.ByColumn: no id column, no plain row
        else:
            if id_k in self.maps:
                level1.append(f"m{id_k}.has_id AS h{id_k}")
                has_id = f"(f{id_k} OR coalesce(h{id_k}, FALSE))"
            else:
                has_id = "TRUE"
            level2.append(f"c{id_k} IS NOT NULL AND {has_id} AS _has_id")
            rules.append("NOT _has_id")
        level2.append(f"({' OR '.join(cell_bad) or 'FALSE'}) AS _cells")
        # every row rule's SQL form (row_rules.ROW_RULES)
        township = located.township_for(self.validator.township)[0]
        places = located.places() if table.key in schema.PLACED_TABLES else {}
        sheet = row_rules.Sheet(table, frozenset(by_key), township, places=places)
        rules += row_rules.sql_conditions(sheet)
        joins = " ".join(
            f"LEFT JOIN {self.maps[k]} m{k} ON r.c{k} = m{k}.v"
            for k in range(width)
            if k in self.maps
        )
        self.cur.execute(
            f"""CREATE TEMP TABLE _bulk_rows AS
            SELECT * EXCLUDE (_cells{", _has_id" if "NOT _has_id" in rules else ""}),
                   NOT coalesce({" OR ".join(rules)}, FALSE) AS plain, FALSE AS dup
            FROM (SELECT {", ".join(level2)}
                  FROM (SELECT {", ".join(level1)} FROM _bulk_raw r {joins}))"""
        )

    def fetch_rows(self, where: str) -> pa.Table:
        """Row number ("row") and raw cells (c0, c1, ...) of the rows of _bulk_rows matching
        ``where``, in row order, as Arrow: refused when they are more than a sheet may hold
        (``Limits.rows``), as every one of them goes through the Python validator."""
        (n,) = self.q(f"SELECT count(*) FROM _bulk_rows WHERE {where}")[0]
        if n > self.limits.rows:
            name, limit = self.plan.name, self.limits.rows
            raise LimitError.of(
                "msg_bulk_odd_rows", file=name, n=n, limit=limit, var=config.MAX_ROWS_ENV
            )
        cells = ", ".join(f"r.c{k}" for k in range(self.plan.width))
        return self.cur.sql(
            f"""SELECT r.rowid - {self.base} + 2 AS row, {cells} FROM _bulk_raw r
            WHERE r.rowid - {self.base} + 2 IN (SELECT row FROM _bulk_rows WHERE {where})
            ORDER BY 1"""
        ).to_arrow_table()

    # ----------------------------------------------------------------- run
    def go(self, round_name: str, allow_partial: bool, replace_: bool, is_demo: bool) -> None:
        table, report, cur = self.table, self.report, self.cur
        missing = validate.missing_columns(self.plan.located)
        if missing:
            # Every row would be rejected (validate.Validator.parse): refused unread.
            report.problems = missing
            reasons = Both(
                "；".join(p.message for p in missing), "; ".join(p.message_en for p in missing)
            )
            raise _refuse(report, "msg_missing_columns", reasons=reasons)
        self.stage()
        self.columns()
        self.classify()
        # The rows that are not plain, in order: which of them are data, with which ids.
        odd = self.fetch_rows("NOT plain")
        data = worker.bulk_ids(self.plan.name, self.job, odd, self.limits)
        del odd
        if table.key in ("households", "relocation"):
            # The first data row of every id; a plain row repeating an earlier id is not plain.
            self._register("_bulk_pyids", data)
            cur.execute(
                """CREATE TEMP TABLE _bulk_first AS SELECT hid, min(row) AS first FROM (
                    SELECT row, "household_id" AS hid FROM _bulk_rows WHERE plain
                    UNION ALL SELECT row, hid FROM _bulk_pyids)
                WHERE hid IS NOT NULL GROUP BY hid HAVING count(*) > 1"""
            )
            cur.execute(
                """UPDATE _bulk_rows SET plain = FALSE, dup = TRUE FROM _bulk_first f
                WHERE plain AND "household_id" = f.hid AND row > f.first"""
            )
            # The ids the Python validator meets, first seen on a plain row: it must know
            # where (as row_rules.UNIQUE_ID and by_column.ByColumn.take keep it).
            seen = self.cur.sql(
                """SELECT f.hid, f.first FROM _bulk_first f JOIN _bulk_rows r ON r.row = f.first
                WHERE r.plain AND f.hid IN (
                    SELECT hid FROM _bulk_pyids UNION SELECT "household_id" FROM _bulk_rows
                    WHERE dup)
                ORDER BY f.first"""
            ).to_arrow_table()
        else:
            seen = pa.table({"hid": pa.array([], pa.string()), "first": pa.array([], pa.int64())})
        del data
        # The plain rows' warnings, from the raw cells that carry one.
        warnings: list[Problem] = []
        for k in self.warn_cols:
            found = self.templates[k]
            for row, v in self.q(
                f"SELECT row, v{k} FROM _bulk_rows WHERE plain AND v{k} IS NOT NULL ORDER BY row"
            ):
                warnings.extend(p.at(row) for p in found[v])
        # Every other row through Validator.parse, with the ids of the plain rows before it.
        seen = seen.cast(pa.schema([("hid", pa.string()), ("first", pa.int64())]))
        odd = self.fetch_rows("NOT plain")
        parsed = worker.bulk_parse(self.plan.name, self.job, odd, seen, self.limits)
        del odd
        n_plain = self.q("SELECT count(*) FROM _bulk_rows WHERE plain")[0][0]
        self._report(parsed, warnings, n_plain)
        if not may_write(report, round_name, allow_partial):
            raise _Refused(report)
        self.digest.join()
        if self.digest.error is not None:
            raise self.digest.error
        report.sha256 = self.digest.sha256
        self._write(parsed, n_plain, round_name, replace_, is_demo)

    def _register(self, name: str, columns: dict | pa.Table) -> None:
        """A temp table ``name`` from Arrow columns."""
        table = columns if isinstance(columns, pa.Table) else pa.table(columns)
        self.cur.register(f"{name}_arrow", table)
        try:
            self.cur.execute(f"CREATE TEMP TABLE {name} AS SELECT * FROM {name}_arrow")
        finally:
            self.cur.unregister(f"{name}_arrow")

    # -------------------------------------------------------------- report
    def _report(self, parsed: ParsedTable, warnings: list, n_plain: int) -> None:
        report, located = self.report, self.plan.located
        problems = sorted(
            [*parsed.problems, *warnings], key=lambda p: -1 if p.row is None else p.row
        )
        report.problems = problems
        report.totals = {
            "loaded": n_plain + len(parsed.rows),
            "rejected": len(parsed.rejected),
            "skipped": sum(parsed.skipped.values()),
        }
        self.parsed = parsed
        report.sheets = [
            SheetSummary(
                sheet=self.sheet,
                table=self.table.key,
                header_rows="1",
                township_source=parsed.township_source,
                township=parsed.township,
                loaded=report.loaded,
                rejected=report.rejected,
                skipped=parsed.skipped,
                columns=parsed.headers,
                unused_columns=located.unused_headers,
                proposals=located.proposals,
            )
        ]

    # --------------------------------------------------------------- write
    def _write(self, parsed, n_plain: int, round_name: str, replace_: bool, is_demo: bool) -> None:
        st, cur, report, table = self.st, self.cur, self.report, self.table
        key = table.key
        ids: dict[str, set[str] | str] = {}
        if key in ("households", "relocation"):
            py = pa.table(
                {"household_id": pa.array([r["household_id"] for r in parsed.rows], pa.string())}
            )
            cur.register("_bulk_pyrows_arrow", py)
            cur.execute("""CREATE TEMP TABLE _bulk_pyrows AS SELECT * FROM _bulk_pyrows_arrow""")
            cur.unregister("_bulk_pyrows_arrow")
            # Loaded ids are distinct (a repeated id is rejected). A round holding no row of
            # the table cannot conflict: no need to join 10 million ids to find that out.
            if self.q(
                f"SELECT count(*) FROM (SELECT 1 FROM {key} WHERE round = ? LIMIT 1)", [round_name]
            )[0][0]:
                ids[key] = (
                    '(SELECT "household_id" AS household_id FROM _bulk_rows WHERE plain '
                    "UNION ALL SELECT household_id FROM _bulk_pyrows)"
                )
        if not settle_conflicts(st, cur, report, round_name, ids, replace_):
            raise _Refused(report)
        by_key = set(self.plan.located.columns.values())
        places = self.plan.located.places() if key in schema.PLACED_TABLES else {}
        fill = (
            None
            if "township" in by_key
            else self.plan.located.township_for(self.validator.township)[0]
        )
        plain_towns = (
            {t for (t,) in self.q('SELECT DISTINCT "township" FROM _bulk_rows WHERE plain')}
            if "township" in by_key
            # without the sheet's township no row is plain (row_rules, E_NO_TOWNSHIP)
            else ({fill} if fill and n_plain else set())
        )
        values = []
        for c, _ in schema.table_columns(key)[2:]:
            if c == "source_sheet":
                values.append(_sql_str(self.sheet))
            elif c == "source_row":
                values.append("row")
            elif c in by_key:
                values.append(f'"{c}"')
            elif c == "township" and fill:
                values.append(_sql_str(fill))
            elif c in places:  # the sheet's county and province (row_rules.Sheet.places)
                values.append(_sql_str(places[c]))
            else:
                values.append("NULL")
        staged = store.Store.Staged(
            key, f"{', '.join(values)} FROM _bulk_rows WHERE plain", n_plain, frozenset(plain_towns)
        )
        report.batch_id = st.insert_batch(
            cur,
            round_name=round_name,
            file_name=report.file,
            sha256=report.sha256,
            tables={key: parsed.rows},
            rejected={key: parsed.rejected},
            problems=report.problem_frame(),
            skipped=report.skipped,
            is_demo=is_demo,
            staged=staged,
            headers=report.columns(),
            data_date=report.data_date,
            data_date_source=report.data_date_source,
        )
        report.data_date, report.data_date_source = st.data_date_of(cur, report.batch_id)
        loaded(report)
