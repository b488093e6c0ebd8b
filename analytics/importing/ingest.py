"""One uploaded file, end to end: read -> locate -> validate -> (store).

``inspect_file`` does everything but write, so the page can show what was recognised and
the row report before the user decides; ``import_file`` then lands the file as one batch
in one transaction, or refuses it and leaves the database as it was.
"""

from __future__ import annotations

import datetime as dt
import functools
import gc
import hashlib
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from analytics.domain import config, schema
from analytics.domain.labels import Both
from analytics.importing import bulk, columns, guard, worker
from analytics.importing.parse import parse_file
from analytics.importing.results import (
    LOADED,
    REFUSED,
    UNREADABLE,
    FileReport,
    LimitError,
    ReadError,
    SheetSummary,
    loaded,
    may_write,
    settle_conflicts,
    unreadable,
)

if TYPE_CHECKING:
    from analytics.store.database import Store

# The result types live in results.py; the command line and the pages name them from here.
__all__ = [
    "LOADED",
    "REFUSED",
    "UNREADABLE",
    "FileReport",
    "SheetSummary",
    "gc_paused",
    "import_file",
    "import_path",
    "inspect_file",
    "parse_file",
]


_gc_lock = threading.Lock()
_gc_users = 0  # imports running with the collector paused
_gc_was_enabled = True


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pauses Python's cyclic garbage collector for the block (reading, validating and
    storing a file), and enables it again after.

    An import allocates millions of objects (cells, row lists, columns) and makes no
    reference cycles; with the collector on, every full collection it triggers walks all
    of them again (about 0.7 s of a 100,000-household import, for nothing). Reference
    counting still frees everything as usual. Nested and concurrent blocks are counted: the
    collector is enabled again when the last one ends, and only if it was enabled before
    the first began.
    """
    global _gc_users, _gc_was_enabled
    with _gc_lock:
        if _gc_users == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_users += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_users -= 1
            if _gc_users == 0 and _gc_was_enabled:
                gc.enable()


def _without_gc(func):
    @functools.wraps(func)
    def run(*args, **kwargs):
        with gc_paused():
            return func(*args, **kwargs)

    return run


@_without_gc
def inspect_file(
    file_name: str,
    data: bytes,
    township: str | None = None,
    spellings: schema.Spellings = schema.NO_SPELLINGS,
    data_date: dt.date | None = None,
) -> FileReport:
    """Reads and validates a file without writing anything.

    The checks of ``guard.check_file`` run here first; the parse and the validation
    (``parse_file``) run in a worker process with memory and CPU limits
    (analytics/importing/worker.py), so that a parser that crashes, aborts or runs away on a hostile
    file stops that process, not this one: the file is then "unreadable".

    Parameters
    ----------
    file_name : the uploaded name (its suffix picks the reader).
    data : the file's bytes.
    township : used for sheets without a township column (else the title's township).
    spellings : the office's confirmed header spellings (``Store.spellings``).
    data_date : the data date given at upload, over what the file says (source "upload");
        the person rules age the members at it.

    Returns
    -------
    FileReport with status "inspected", or "unreadable" / "refused" when no table could
    be read from it. Never raises for bad input.
    """
    report = FileReport(file=file_name, sha256=hashlib.sha256(data).hexdigest())
    limits = config.limits()
    try:
        guard.check_file(file_name, data, limits)
        return worker.inspect(report, data, township, limits, spellings, data_date)
    except ReadError as e:
        return unreadable(report, e)


@_without_gc
def import_file(
    store: Store,
    file_name: str,
    data: bytes,
    round_name: str,
    *,
    township: str | None = None,
    allow_partial: bool = False,
    replace: bool = False,
    is_demo: bool = False,
    data_date: dt.date | None = None,
) -> FileReport:
    """Imports one file as one batch of ``round_name``, in one transaction.

    A file with any rejected row is refused unless ``allow_partial`` (then its valid rows
    load and the rejected ones go to the quarantine table). A file already in the round
    (same content, or holding household ids another batch of the round holds) is refused
    unless ``replace``, which deletes those batches in the same transaction.

    Returns
    -------
    FileReport with status "loaded", "partial", "refused" or "unreadable"; the database
    is unchanged unless the status is "loaded" or "partial". Raises ``StoreError`` only when
    the database itself fails (e.g. locked by another process).
    """
    round_name = (round_name or "").strip()
    report = inspect_file(file_name, data, township, store.spellings(), data_date)
    if report.status != "inspected":
        return report
    if not may_write(report, round_name, allow_partial):
        return report
    tables: dict[str, list[dict]] = {}
    rejected: dict[str, list[dict]] = {}
    for p in report.parsed:
        tables.setdefault(p.table, []).extend(p.rows)
        rejected.setdefault(p.table, []).extend(p.rejected)
    ids = {
        t: set(columns.to_columns(tables.get(t, []), ["household_id"])["household_id"])
        # members too: a second member file for the same households of a round would count
        # their persons twice
        for t in ("households", "relocation", "members")
    }
    with store.write() as cur:
        if not settle_conflicts(store, cur, report, round_name, ids, replace):
            return report
        report.batch_id = store.insert_batch(
            cur,
            round_name=round_name,
            file_name=file_name,
            sha256=report.sha256,
            tables=tables,
            rejected=rejected,
            problems=report.problem_frame(),
            skipped=report.skipped,
            is_demo=is_demo,
            headers=report.columns(),
            data_date=report.data_date,
            data_date_source=report.data_date_source,
        )
        report.data_date, report.data_date_source = store.data_date_of(cur, report.batch_id)
        _pause_for_tests(report)
    return loaded(report)


def import_path(
    store: Store,
    path: str | os.PathLike[str],
    round_name: str,
    *,
    township: str | None = None,
    allow_partial: bool = False,
    replace: bool = False,
    is_demo: bool = False,
    data_date: dt.date | None = None,
) -> FileReport:
    """Imports a file on disk (the command line): like ``import_file``, same rules, same
    result. A Parquet file, or a CSV of at least ``POVERTY_BULK_MIN_MB`` that suits it, goes
    through the bulk path (analytics/importing/bulk.py: read and validated in DuckDB); any other
    file, or a CSV the bulk path cannot take, is read (at most the size limit) and imported
    by ``import_file``.

    Raises
    ------
    OSError
        When the file cannot be read.
    ReadError
        When it is refused unread: over the size limit (``LimitError``), or a Parquet
        file that cannot be read.
    """
    name = os.path.basename(os.fspath(path))
    why: bulk.NotBulk | None = None
    if bulk.wanted(path):
        try:
            return bulk.import_path(
                store,
                path,
                round_name,
                township=township,
                allow_partial=allow_partial,
                replace=replace,
                is_demo=is_demo,
                data_date=data_date,
            )
        except bulk.NotBulk as e:
            why = e
    try:
        data = guard.read_path(path)  # at most the size limit is read
    except LimitError as e:
        if why is None:
            raise
        raise LimitError.of(
            "msg_no_bulk",
            message=Both(e.message, e.message_en),
            why=Both(why.message, why.message_en),
        ) from e
    return import_file(
        store,
        name,
        data,
        round_name,
        township=township,
        allow_partial=allow_partial,
        replace=replace,
        is_demo=is_demo,
        data_date=data_date,
    )


def _pause_for_tests(report: FileReport) -> None:
    seconds = config.pause_in_write_seconds()
    if not seconds:
        return
    print(
        f"IN_WRITE_TRANSACTION batch={report.batch_id} rows={report.loaded}",
        file=sys.stderr,
        flush=True,
    )
    time.sleep(seconds)
