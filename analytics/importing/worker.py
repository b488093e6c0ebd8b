"""Parse untrusted files in a separate process with memory and CPU limits.

The checks of ``guard.check_file`` run in the caller's process first (the first line); then
``inspect`` hands the bytes to a new worker process, which parses and validates them
(``parse.parse_file``: python-calamine or the CSV reader, ``locate.locate``,
``validate.Validator``) under ``RLIMIT_AS`` (``Limits.worker_bytes``) and ``RLIMIT_CPU``
(``Limits.worker_seconds``), and is killed after ``config.WALL_FACTOR`` times its CPU limit
on the clock. A parser that aborts the process ("memory allocation of 549755813888 bytes
failed"), crashes, raises ``MemoryError`` or runs away stops the worker, never the caller
(the dashboard's server and every session on it): the file is "unreadable" and says why.

Why a process per file, from a fork server: the server runs threads (Streamlit serves each
session on its own, DuckDB has its own pool), and a plain ``fork`` of a threaded process
copies whatever locks those threads hold at that instant into a child that may then wait on
them forever; it would also copy the server's whole address space under the child's
``RLIMIT_AS``. ``multiprocessing``'s fork server is started once by fork+exec (a fresh
interpreter, one thread) and imports this module and its parsers before any request
(``warm``); each file is then a ``fork`` of that small, single-threaded process (about
30 ms: measured in bench/RESULTS.md, "Import"), which exits when its file is done, so
limits are per file and nothing leaks from one file to the next.

What the worker hands back is data, not code: a JSON header (status, messages, sheets) and,
per table found, three Arrow IPC streams (the loaded rows typed as the store's columns, the
rejected rows, the row report). The caller never unpickles anything the worker sends, checks
every stream's schema and validates the arrays, and caps every message at the worker's
memory limit. The worker runs as the same operating-system user: it is a crash and resource
boundary, not a privilege boundary (docs/SECURITY.md, "Hostile files").
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import multiprocessing
import os
import re
import resource
import signal
import threading
import time
from multiprocessing.connection import Connection

import pyarrow as pa
from openpyxl.utils import get_column_letter

from analytics.domain import config, schema
from analytics.domain.config import Limits
from analytics.importing import columns, validate
from analytics.importing.locate import LocatedTable
from analytics.importing.parse import parse_file
from analytics.importing.results import (
    ERROR,
    WARNING,
    FileReport,
    LimitError,
    MessageError,
    ParsedTable,
    Problem,
    ReadError,
    SheetSummary,
    damaged,
    out_of_range,
    size_text,
)
from analytics.importing.sheets import Grid
from analytics.importing.skips import cell_may_skip
from analytics.importing.values import clean_text

log = logging.getLogger(__name__)

MAX_WORKERS = 2  # files parsed at once; more wait their turn (2 cores, 2 x worker_bytes)
_slots = threading.BoundedSemaphore(MAX_WORKERS)
_context_lock = threading.Lock()
_context: multiprocessing.context.ForkServerContext | None = None
_STDERR_KEEP = 4096  # bytes of the worker's standard error kept from its start and its end
_OOM = re.compile(rb"memory allocation of (\d+) bytes failed")

_REJECTED = pa.schema(
    [
        ("source_sheet", pa.string()),
        ("source_row", pa.int64()),
        ("raw", pa.string()),  # JSON object: header -> cell text
        ("reasons", pa.string()),
    ]
)
_PROBLEMS = pa.schema(
    [
        ("file", pa.string()),
        ("sheet", pa.string()),
        ("row", pa.int64()),
        ("column", pa.string()),
        ("value", pa.string()),
        ("code", pa.string()),
        ("severity", pa.string()),
        ("message", pa.string()),
        ("message_en", pa.string()),
    ]
)
_SHEET_FIELDS: dict[str, type | tuple[type, ...]] = {
    "sheet": str,
    "table": (str, type(None)),
    "header_rows": str,
    "township_source": str,
    "township": (str, type(None)),
    "loaded": int,
    "rejected": int,
    "members": int,
    "skipped": dict,
    "columns": dict,
    "unused_columns": list,
    "proposals": dict,
    "note": str,
    "note_en": str,
}
_STATUSES = ("inspected", "refused", "unreadable")


class WorkerFailed(LimitError):
    """The worker stopped without an answer: it crashed, hit its memory or time limit, or
    answered something that is not the agreed format. The message names the file and why."""


# ---------------------------------------------------------------- the caller's side
def warm() -> None:
    """Starts the fork server in the background (``start``), so that the first file does not
    wait for it."""

    def run() -> None:
        try:
            start()
        except Exception:  # the first file will start it, or say why
            log.exception("could not start the parse workers' fork server")

    threading.Thread(target=run, name="parse-worker-warmup", daemon=True).start()


def start() -> float:
    """Starts the fork server if it is not running, and returns once a worker forked from it
    has answered: a fresh interpreter importing this module and the parsers, about 1 s once
    per process (bench/RESULTS.md, "Import"). Returns the seconds it took.

    Raises
    ------
    ReadError
        ``WorkerFailed`` when no worker can be started.
    """
    started = time.perf_counter()
    _call("(start)", {"kind": "ping", "file": "(start)"}, [], config.limits())
    return time.perf_counter() - started


def _ctx() -> multiprocessing.context.ForkServerContext:
    global _context
    with _context_lock:
        if _context is None:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(["analytics.importing.worker_boot"])
            _context = ctx
        return _context


def inspect(
    report: FileReport,
    data: bytes,
    township: str | None,
    limits: Limits,
    spellings: schema.Spellings = schema.NO_SPELLINGS,
    data_date: dt.date | None = None,
) -> FileReport:
    """``parse.parse_file`` of ``data`` into ``report``, run in a worker process.

    Parameters
    ----------
    report : the file's report (name and sha256 set); filled in and returned.
    data : the file's bytes, already through ``guard.check_file``.
    township : as ``ingest.inspect_file``.
    limits : the limits; ``worker_bytes`` and ``worker_seconds`` bound the worker.
    spellings : the office's confirmed header spellings (``Store.spellings``).
    data_date : the data date given at upload (as ``parse.parse_file``), or None.

    Raises
    ------
    ReadError
        The file cannot be read (as ``sheets.parse_grids`` says), or ``WorkerFailed``: the
        worker crashed, ran out of memory or time, or answered out of format.
    """
    job = {
        "kind": "inspect",
        "file": report.file,
        "township": township,
        "spellings": dict(spellings),
        "data_date": data_date.isoformat() if data_date else None,
    }
    head, messages = _call(report.file, job, [data], limits)
    try:
        status, message, message_en = head["status"], head["message"], head["message_en"]
        if (
            status not in _STATUSES
            or not isinstance(message, str)
            or not isinstance(message_en, str)
        ):
            raise ValueError("status or message")
        sheets = [_sheet(s) for s in head["sheets"]]
        parsed = [
            _parsed(meta, *messages[3 * k : 3 * k + 3]) for k, meta in enumerate(head["parsed"])
        ]
        day, day_source = head["data_date"], head["data_date_source"]
        data_date = dt.date.fromisoformat(day) if day is not None else None
        if not isinstance(day_source, str):
            raise ValueError("data date source")
    except (KeyError, TypeError, ValueError, IndexError, pa.ArrowException) as e:
        raise _out_of_format(report.file, f"{type(e).__name__}: {e}") from e
    report.status, report.message, report.message_en = status, message, message_en
    report.data_date, report.data_date_source = data_date, day_source
    report.sheets = sheets
    report.parsed = parsed
    report.problems = [q for p in parsed for q in p.problems]
    return report


def _call(
    file_name: str, job: dict, payloads: list[bytes], limits: Limits
) -> tuple[dict, list[bytes]]:
    """Runs ``job`` (its ``kind`` one of ``_JOBS``) with ``payloads`` in a new worker, at most
    ``MAX_WORKERS`` at once; returns the worker's JSON header and the messages after it.

    Raises
    ------
    ReadError
        What the job raised in the worker (its message), or ``WorkerFailed``.
    """
    with _slots:
        messages = _run(file_name, {**job, "payloads": len(payloads)}, payloads, limits)
    try:
        head = json.loads(messages[0])
    except ValueError as e:
        raise _out_of_format(file_name, f"header: {e}") from e
    if not isinstance(head, dict):
        raise _out_of_format(file_name, "header is not an object")
    if (
        head.get("ok") is False
        and isinstance(head.get("message"), str)
        and isinstance(head.get("message_en"), str)
    ):
        raise ReadError(head["message"], head["message_en"])
    if head.get("ok") is not True:
        raise _out_of_format(file_name, "header says neither ok nor why not")
    if isinstance(head.get("peak_rss_kb"), int):
        peak = max(last_run.get("worker_peak_mb", 0.0), head["peak_rss_kb"] / 1024)
        last_run["worker_peak_mb"] = peak
    return head, messages[1:]


# The largest peak resident memory of a worker that answered, in this process (MB; for
# bench/bench_import.py).
last_run: dict[str, float] = {}


def _run(file_name: str, job: dict, payloads: list[bytes], limits: Limits) -> list[bytes]:
    """Runs one job in a new worker; returns its messages (the first one a JSON header that
    says how many follow)."""
    ctx = _ctx()
    mine, theirs = ctx.Pipe()
    err_read, err_write = os.pipe()
    err_end = Connection(err_write, readable=False)  # owns err_write: passed to the worker
    proc = ctx.Process(
        target=_serve,
        args=(theirs, err_end, limits),
        name=f"parse-worker {file_name[:40]}",
        daemon=True,
    )
    try:
        proc.start()
    except BaseException:
        os.close(err_read)
        raise
    finally:
        theirs.close()
        err_end.close()
    stderr: list[bytearray] = [bytearray(), bytearray()]  # its start, its end
    drain = threading.Thread(target=_drain, args=(err_read, stderr), daemon=True)
    drain.start()
    timed_out = threading.Event()

    def stop() -> None:
        timed_out.set()
        proc.kill()

    timer = threading.Timer(limits.worker_seconds * config.WALL_FACTOR, stop)
    timer.daemon = True
    timer.start()
    messages: list[bytes] = []
    try:
        mine.send(job)  # pickled: this side's own data, read by the worker
        for payload in payloads:
            mine.send_bytes(payload)
        header = mine.recv_bytes(limits.worker_bytes)  # never unpickled: JSON, then Arrow
        messages.append(header)
        for _ in range(_count_following(header)):
            messages.append(mine.recv_bytes(limits.worker_bytes))
    except (EOFError, OSError):
        messages = []  # the worker died (or sent more than it may): see below
    finally:
        mine.close()
        proc.join(5)
        if proc.exitcode is None:
            proc.kill()
            proc.join()
        timer.cancel()
        drain.join(5)
        exitcode = proc.exitcode
        proc.close()
    if messages and not timed_out.is_set():
        return messages
    raise _failure(file_name, exitcode, bytes(stderr[0] + stderr[1]), limits, timed_out.is_set())


def _count_following(header: bytes) -> int:
    try:
        following = json.loads(header).get("following", 0)
    except (ValueError, AttributeError, TypeError):
        return 0
    return following if isinstance(following, int) and 0 <= following < 1_000_000 else 0


def _drain(fd: int, kept: list[bytearray]) -> None:
    """Reads the worker's standard error until it closes, keeping its first and last
    ``_STDERR_KEEP`` bytes (a Rust abort says why first, then prints a backtrace)."""
    head, tail = kept
    with open(fd, "rb", buffering=0) as f:
        while chunk := f.read(65536):
            if len(head) < _STDERR_KEEP:
                take = _STDERR_KEEP - len(head)
                head += chunk[:take]
                chunk = chunk[take:]
            tail += chunk
            del tail[:-_STDERR_KEEP]


def _failure(
    file_name: str, exitcode: int | None, stderr: bytes, limits: Limits, timed_out: bool
) -> WorkerFailed:
    """The message for a worker that gave no answer, by how it ended."""
    mb = limits.worker_bytes // config.MB
    seconds = limits.worker_seconds
    if stderr.strip():
        log.warning("parse worker for %s ended (%s): %s", file_name, exitcode, stderr[:1000])
    oom = _OOM.search(stderr)
    if timed_out:
        wall = seconds * config.WALL_FACTOR
        return WorkerFailed.of(
            "msg_worker_wall",
            file=file_name,
            wall=wall,
            factor=config.WALL_FACTOR,
            var=config.WORKER_SECONDS_ENV,
        )
    if exitcode in (-signal.SIGXCPU, -signal.SIGKILL) and not oom:
        return WorkerFailed.of(
            "msg_worker_cpu", file=file_name, seconds=seconds, var=config.WORKER_SECONDS_ENV
        )
    if oom:
        asked = _size(int(oom.group(1)))
        return WorkerFailed.of(
            "msg_worker_oom", file=file_name, asked=asked, mb=mb, var=config.WORKER_MEMORY_ENV
        )
    return WorkerFailed.of("msg_worker_crash", file=file_name, how=_signal_name(exitcode))


def _size(n: int) -> str:
    return f"{n / 2**30:,.1f} GB" if n >= 2**30 else size_text(n)


def _signal_name(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            return signal.Signals(-exitcode).name
        except ValueError:
            return f"signal {-exitcode}"
    return f"exit code {exitcode}"


def _memory_error(file_name: str, limits: Limits) -> WorkerFailed:
    mb = limits.worker_bytes // config.MB
    return WorkerFailed.of("msg_worker_memory", file=file_name, mb=mb, var=config.WORKER_MEMORY_ENV)


def _out_of_format(file_name: str, why: str) -> WorkerFailed:
    log.warning("parse worker for %s answered out of format: %s", file_name, why)
    return WorkerFailed.of("msg_worker_format", file=file_name, why=why[:200])


# -------------------------------------------------------------- the worker's side
def _serve(conn: Connection, err: Connection, limits: Limits) -> None:
    """The worker: limits on, one job read and run (``_JOBS``), the answer sent."""
    os.dup2(err.fileno(), 2)  # the parsers' own messages ("memory allocation of ...")
    err.close()
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_AS, (limits.worker_bytes, limits.worker_bytes))
    cpu = max(1, limits.worker_seconds)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    import gc

    gc.disable()  # as ingest.gc_paused: millions of objects, no cycles, one job then exit
    job = conn.recv()
    payloads = [conn.recv_bytes() for _ in range(job["payloads"])]
    file_name = job["file"]
    try:
        head, messages = _JOBS[job["kind"]](job, payloads, limits)
        del payloads
        head = {
            "ok": True,
            "following": len(messages),
            "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            **head,
        }
        messages = [json.dumps(head, ensure_ascii=False).encode(), *messages]
    except (MemoryError, pa.ArrowMemoryError):
        messages = [_error_header(_memory_error(file_name, limits))]
    except ReadError as e:
        messages = [_error_header(e)]
    except Exception as e:  # a parser's own error on a damaged file
        messages = [_error_header(damaged(file_name, e))]
    for m in messages:
        conn.send_bytes(m)
    conn.close()


def _job_inspect(job: dict, payloads: list[bytes], limits: Limits):
    """``parse.parse_file``; per parsed table its rows, rejected rows and row report."""
    report = FileReport(file=job["file"], sha256="")
    given = job.get("data_date")
    day = dt.date.fromisoformat(given) if given else None
    parse_file(report, payloads[0], job["township"], limits, job["spellings"], day)
    payloads.clear()
    head = {
        "status": report.status,
        "message": report.message,
        "message_en": report.message_en,
        "sheets": [{k: getattr(s, k) for k in _SHEET_FIELDS} for s in report.sheets],
        "parsed": [_parsed_meta(p) for p in report.parsed],
        "data_date": report.data_date.isoformat() if report.data_date else None,
        "data_date_source": report.data_date_source,
    }
    messages = []
    for p in report.parsed:
        messages += _encode_parsed(report.file, p)
    return head, messages


def _error_header(error: MessageError) -> bytes:
    head = {"ok": False, "message": error.message, "message_en": error.message_en}
    return json.dumps(head, ensure_ascii=False).encode()


def _parsed_meta(p: ParsedTable) -> dict:
    return {
        "file": p.file,
        "sheet": p.sheet,
        "table": p.table,
        "skipped": p.skipped,
        "headers": p.headers,
        "township_source": p.township_source,
        "township": p.township,
    }


def _encode_parsed(file_name: str, p: ParsedTable) -> list[bytes]:
    """A parsed table as three Arrow IPC streams: rows, rejected rows, row report."""
    try:
        rows = columns.to_arrow(p.rows, _row_fields(p.table, _keys(p.rows)))
    except pa.ArrowMemoryError:
        raise
    except (OverflowError, pa.ArrowException) as e:
        raise out_of_range(file_name, e) from e
    rejected = pa.table(
        {
            "source_sheet": [r["source_sheet"] for r in p.rejected],
            "source_row": [r["source_row"] for r in p.rejected],
            "raw": [json.dumps(r["raw"], ensure_ascii=False) for r in p.rejected],
            "reasons": [r["reasons"] for r in p.rejected],
        },
        schema=_REJECTED,
    )
    return [_ipc(rows), _ipc(rejected), _ipc(_problem_table(p.problems))]


def _problem_table(problems: list[Problem], at: list[int] | None = None) -> pa.Table:
    """Problems as an Arrow table (``_PROBLEMS``; with ``at``, a first column "at")."""
    table = pa.table(
        {name: [getattr(q, name) for q in problems] for name in _PROBLEMS.names},
        schema=_PROBLEMS,
    )
    if at is not None:
        table = table.add_column(0, "at", pa.array(at, pa.int64()))
    return table


def _problems_from(table: pa.Table) -> list[Problem]:
    found = [
        Problem(*values)
        for values in zip(*(table.column(n).to_pylist() for n in _PROBLEMS.names), strict=True)
    ]
    if any(q.severity not in (ERROR, WARNING) for q in found):
        raise ValueError("severity")
    return found


def _keys(rows: list) -> list[str]:
    """Every field the rows hold, in the order first met (rows of one table hold the same)."""
    keys: dict[str, None] = {}
    seen_frames: set[int] = set()
    for r in rows:
        frame = getattr(r, "_frame", None)
        if frame is not None:
            if id(frame) in seen_frames:
                continue
            seen_frames.add(id(frame))
        keys.update(dict.fromkeys(r))
    return list(keys)


def _row_fields(table_key: str, keys: list[str]) -> list[tuple[str, pa.DataType]]:
    """(key, Arrow type) of each of ``keys``: the type of its column in the store."""
    types = dict(schema.table_columns(table_key))
    return [(k, columns.ARROW_TYPES[types[k]]) for k in keys]


def _ipc(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


# ------------------------------------------------------- the caller reads the answer
def _sheet(raw: dict) -> SheetSummary:
    if not isinstance(raw, dict) or set(raw) != set(_SHEET_FIELDS):
        raise ValueError("sheet fields")
    for key, kind in _SHEET_FIELDS.items():
        if not isinstance(raw[key], kind):
            raise ValueError(f"sheet field {key}")
    _str_map(raw["columns"])
    _str_map(raw["proposals"])
    if not all(isinstance(v, int) for v in raw["skipped"].values()):
        raise ValueError("skipped counts")
    if not all(isinstance(v, str) for v in raw["unused_columns"]):
        raise ValueError("unused columns")
    return SheetSummary(**raw)


def _str_map(raw: object) -> dict[str, str]:
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise ValueError("not a map of texts")
    return raw


def _table(message: bytes, expected: pa.Schema | None = None) -> pa.Table:
    table = pa.ipc.open_stream(pa.py_buffer(message)).read_all()
    if expected is not None and not table.schema.equals(expected):
        raise ValueError(f"schema {table.schema.names}")
    table.validate(full=True)
    return table


def _parsed(meta: dict, rows_msg: bytes, rejected_msg: bytes, problems_msg: bytes):
    table_key = meta["table"]
    if table_key not in schema.TABLES:
        raise ValueError(f"table {table_key!r}")
    rows = _table(rows_msg)
    expected = pa.schema(_row_fields(table_key, rows.schema.names))
    if not rows.schema.equals(expected):
        raise ValueError(f"row schema {rows.schema.names}")
    rows.validate(full=True)
    rejected = _table(rejected_msg, _REJECTED)
    problems = _table(problems_msg, _PROBLEMS)
    raws = [json.loads(r) for r in rejected.column("raw").to_pylist()]
    for r in raws:
        _str_map(r)
    skipped = meta["skipped"]
    if not isinstance(skipped, dict) or not all(isinstance(v, int) for v in skipped.values()):
        raise ValueError("skipped counts")
    found = _problems_from(problems)
    return ParsedTable(
        file=str(meta["file"]),
        sheet=str(meta["sheet"]),
        table=table_key,
        rows=columns.arrow_rows(rows),
        rejected=[
            {"source_sheet": sheet, "source_row": row, "raw": raw, "reasons": reasons}
            for sheet, row, raw, reasons in zip(
                rejected.column("source_sheet").to_pylist(),
                rejected.column("source_row").to_pylist(),
                raws,
                rejected.column("reasons").to_pylist(),
                strict=True,
            )
        ],
        problems=found,
        skipped=skipped,
        headers=_str_map(meta["headers"]),
        township_source=str(meta["township_source"]),
        township=meta["township"] if isinstance(meta["township"], str) else None,
    )


# ----------------------------------------------------------- the bulk path's Python
# analytics/importing/bulk.py reads and checks a large file in DuckDB; what it leaves to
# Python (each distinct value no SQL shortcut covers, and every row that is not plainly data)
# runs here, in a worker, under the same limits: rows travel as Arrow both ways.
def bulk_cells(
    file_name: str,
    job: dict,
    values: list[pa.Array],
    limits: Limits,
) -> tuple[list[pa.Table | None], list[dict], bool]:
    """``validate.Validator`` on every distinct value of every column of a bulk file.

    Parameters
    ----------
    job : ``located`` (the file's ``LocatedTable``, header only), ``township``,
        ``sheet`` and ``types`` (the DuckDB type of each staged column).
    values : per column, its distinct non-empty values (as DuckDB staged them).

    Returns
    -------
    (per column the table DuckDB joins to find each value's result (v, skip, and for a
    mapped column out, err, warn, has_id for the household id), or None when every value
    stands for itself; per column value -> the problems it raises, with row 0; whether an
    empty cell raises nothing in any mapped column)

    Raises
    ------
    ReadError
        ``WorkerFailed`` when the worker runs out of memory or time.
    """
    payloads = [_ipc(pa.table({"v": v})) for v in values]
    head, messages = _call(file_name, {**job, "kind": "cells", "file": file_name}, payloads, limits)
    try:
        same = head["same"]
        if len(same) != len(values) or len(messages) != 2 * len(values):
            raise ValueError("column count")
        maps: list[pa.Table | None] = []
        templates: list[dict] = []
        for k, v in enumerate(values):
            table = _table(messages[2 * k], _cells_schema(job, k, v.type))
            maps.append(None if same[k] is True else table)
            found: dict = {}
            problems = _table(messages[2 * k + 1])
            if problems.schema.names != ["at", *_PROBLEMS.names]:
                raise ValueError("problem columns")
            ats = problems.column("at").to_pylist()
            for at, q in zip(ats, _problems_from(problems), strict=True):
                found.setdefault(v[at].as_py(), []).append(q)
            templates.append({value: tuple(qs) for value, qs in found.items()})
        null_ok = head["null_ok"]
        if not isinstance(null_ok, bool):
            raise ValueError("null_ok")
    except (KeyError, TypeError, ValueError, IndexError, pa.ArrowException) as e:
        raise _out_of_format(file_name, f"{type(e).__name__}: {e}") from e
    return maps, templates, null_ok


def bulk_ids(file_name: str, job: dict, rows: pa.Table, limits: Limits) -> pa.Table:
    """``Validator.data_ids`` of a bulk file's odd rows: (row, hid) of each data row.

    ``rows``: the Excel/CSV row number ("row") and the staged cells (c0, c1, ...) of each
    row, in order; ``job`` as ``bulk_cells``.
    """
    _, messages = _call(file_name, {**job, "kind": "ids", "file": file_name}, [_ipc(rows)], limits)
    try:
        return _table(messages[0], _IDS)
    except (IndexError, ValueError, pa.ArrowException) as e:
        raise _out_of_format(file_name, f"{type(e).__name__}: {e}") from e


def bulk_parse(
    file_name: str, job: dict, rows: pa.Table, seen: pa.Table, limits: Limits
) -> ParsedTable:
    """``Validator.parse`` of a bulk file's odd rows (as ``bulk_ids``), knowing where each
    id of ``seen`` (hid, first: its first row, a plain one) was first seen."""
    payloads = [_ipc(rows), _ipc(seen)]
    head, messages = _call(file_name, {**job, "kind": "parse", "file": file_name}, payloads, limits)
    try:
        return _parsed(head["parsed"], *messages)
    except (KeyError, TypeError, ValueError, pa.ArrowException) as e:
        raise _out_of_format(file_name, f"{type(e).__name__}: {e}") from e


_IDS = pa.schema([("row", pa.int64()), ("hid", pa.string())])


def _cells_schema(job: dict, k: int, value_type: pa.DataType) -> pa.Schema:
    located: LocatedTable = job["located"]
    fields = [("v", value_type), ("skip", pa.bool_())]
    key = located.columns.get(k)
    if key is not None:
        out = columns.ARROW_TYPES[schema.SQL_TYPES[located.table.by_key[key].kind]]
        fields += [("out", out), ("err", pa.bool_()), ("warn", pa.bool_())]
        if key == "household_id":
            fields.append(("has_id", pa.bool_()))
    return pa.schema(fields)


def _job_cells(job: dict, payloads: list[bytes], limits: Limits):
    located: LocatedTable = job["located"]
    table, sheet, name = located.table, job["sheet"], job["file"]
    validator = validate.Validator(job["township"])
    lookup = located.lookup()
    id_col = located.column_of("household_id")
    same_of: list[bool] = []
    messages: list[bytes] = []
    null_ok = True
    for k, payload in enumerate(payloads):
        v = pa.ipc.open_stream(pa.py_buffer(payload)).read_all().column("v").combine_chunks()
        values = v.to_pylist()
        key = located.columns.get(k)
        colname = f"{get_column_letter(k + 1)} {located.headers.get(k, '')}"
        out, skip, err, warn, has_id = [], [], [], [], []
        found_at: list[int] = []
        found: list[Problem] = []
        for j, value in enumerate(values):
            skip.append(cell_may_skip(value, key, lookup))
            if key is None:
                continue
            o, problems = validator.cell_result(name, sheet, table, key, value, colname)
            out.append(o)
            err.append(any(p.severity == ERROR for p in problems))
            warn.append(bool(problems))
            found_at += [j] * len(problems)
            found += problems
            if k == id_col:
                text = clean_text(value).replace(" ", "")
                has_id.append(bool(text) and not schema.FOOTER_PATTERN.match(text))
        cols = {"v": v, "skip": pa.array(skip, pa.bool_())}
        if key is not None:
            null_ok &= validator.cell_result(name, sheet, table, key, None, colname) == (None, ())
            out_type = schema.SQL_TYPES[table.by_key[key].kind]
            cols |= {
                "out": pa.array(out, columns.ARROW_TYPES[out_type]),
                "err": pa.array(err, pa.bool_()),
                "warn": pa.array(warn, pa.bool_()),
            }
            if k == id_col:
                cols["has_id"] = pa.array(has_id, pa.bool_())
        # A column whose values all stand for themselves, unflagged, needs no lookup.
        same_of.append(
            not any(skip)
            and (
                key is None
                or (
                    job["types"][k] == "VARCHAR"
                    and out_type == "VARCHAR"
                    and out == values
                    and not any(warn)
                    and (k != id_col or all(has_id))
                )
            )
        )
        messages += [_ipc(pa.table(cols)), _ipc(_problem_table(found, found_at))]
    return {"same": same_of, "null_ok": null_ok}, messages


def _odd_located(job: dict, rows_msg: bytes) -> LocatedTable:
    """The file's located table over its odd rows: the header, then each row with its own
    Excel/CSV row number."""
    located: LocatedTable = job["located"]
    rows = pa.ipc.open_stream(pa.py_buffer(rows_msg)).read_all()
    width = rows.num_columns - 1
    header = list(located.grid.rows[0])
    cells = [header + [None] * (width - len(header))]
    if width:
        cells += [list(r) for r in zip(*(c.to_pylist() for c in rows.columns[1:]), strict=True)]
    grid = Grid(
        file=located.grid.file,
        sheet=job["sheet"],
        rows=cells,
        width=width,
        row_numbers=[1, *rows.column("row").to_pylist()],
    )
    return dataclasses.replace(located, grid=grid, data_start=1)


def _job_ids(job: dict, payloads: list[bytes], limits: Limits):
    located = _odd_located(job, payloads[0])
    data = validate.Validator(job["township"]).data_ids(located)
    ids = pa.table({"row": [r for r, _ in data], "hid": [h or None for _, h in data]}, schema=_IDS)
    return {}, [_ipc(ids)]


def _job_parse(job: dict, payloads: list[bytes], limits: Limits):
    located = _odd_located(job, payloads[0])
    seen = pa.ipc.open_stream(pa.py_buffer(payloads[1])).read_all()
    validator = validate.Validator(job["township"])
    sheet, table_key = job["sheet"], located.table.key
    hids, firsts = seen.column("hid").to_pylist(), seen.column("first").to_pylist()
    for hid, first in zip(hids, firsts, strict=True):
        # as row_rules and by_column.ByColumn.take keep them
        validator.seen[(table_key, hid)] = (sheet, first)
    parsed = validator.parse(located)
    return {"parsed": _parsed_meta(parsed)}, _encode_parsed(job["file"], parsed)


def _job_ping(job: dict, payloads: list[bytes], limits: Limits):
    return {}, []


_JOBS = {
    "ping": _job_ping,
    "inspect": _job_inspect,
    "cells": _job_cells,
    "ids": _job_ids,
    "parse": _job_parse,
}
