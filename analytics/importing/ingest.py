"""One uploaded file, end to end: read -> locate -> validate -> (store).

``inspect_file`` does everything but write, so the page can show what was recognised and
the row report before the user decides; ``import_file`` then lands the file as one batch
in one transaction, or refuses it and leaves the database as it was.
"""

from __future__ import annotations

import functools
import gc
import hashlib
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from analytics.domain import schema
from analytics.importing import columns, read, validate

if TYPE_CHECKING:  # the worker process imports this module: no DuckDB, no pandas there
    import pandas as pd

    from analytics.store.database import Store

# Exit codes of the command line, by outcome (the worst file decides).
LOADED, REFUSED, UNREADABLE = 0, 1, 2

# Test hook (tests/test_faults.py): seconds to sleep inside the write transaction of an
# import, after every row is written and before the commit, after printing
# ``IN_WRITE_TRANSACTION`` to standard error, so that a test can kill the process there.
PAUSE_ENV = "POVERTY_TEST_PAUSE_IN_WRITE"

PROBLEM_COLUMNS = [
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


@dataclass
class SheetSummary:
    """What one sheet held: its table, header rows (Excel numbers) and row counts."""

    sheet: str
    table: str | None
    header_rows: str = ""
    township_source: str = ""
    loaded: int = 0
    rejected: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    columns: dict[str, str] = field(default_factory=dict)  # header -> field key
    unused_columns: list[str] = field(default_factory=list)
    # unused header -> the field it most likely means (an administrator may confirm it)
    proposals: dict[str, str] = field(default_factory=dict)
    note: str = ""
    note_en: str = ""


@dataclass
class FileReport:
    """The outcome of inspecting or importing one file.

    ``status`` is one of: "inspected" (not written yet), "loaded", "partial" (valid rows
    loaded, rejected rows quarantined), "refused" (nothing written), "unreadable".
    ``code`` is the command line's exit code for it (0, 1 or 2).
    """

    file: str
    sha256: str
    status: str = "inspected"
    message: str = ""
    message_en: str = ""
    sheets: list[SheetSummary] = field(default_factory=list)
    problems: list[validate.Problem] = field(default_factory=list)
    parsed: list[validate.ParsedTable] = field(default_factory=list, repr=False)
    batch_id: int | None = None
    replaced: list[int] = field(default_factory=list)
    # A bulk import (analytics/importing/bulk.py) keeps its rows in DuckDB, not in ``parsed``, and a
    # ``summary`` drops them: their counts ("loaded", "rejected", "skipped") are here.
    totals: dict[str, int] | None = None

    @property
    def code(self) -> int:
        """Exit code: 0 loaded or partial, 1 refused, 2 unreadable."""
        return {"unreadable": UNREADABLE, "refused": REFUSED}.get(self.status, LOADED)

    @property
    def loaded(self) -> int:
        """Rows that are (or would be) loaded."""
        if self.totals is not None:
            return self.totals["loaded"]
        return sum(len(p.rows) for p in self.parsed)

    @property
    def rejected(self) -> int:
        """Rows rejected by an error."""
        if self.totals is not None:
            return self.totals["rejected"]
        return sum(len(p.rejected) for p in self.parsed)

    @property
    def skipped(self) -> int:
        """Blank, totals, numbering and signature rows skipped."""
        if self.totals is not None:
            return self.totals["skipped"]
        return sum(sum(p.skipped.values()) for p in self.parsed)

    def summary(self) -> FileReport:
        """This report without its parsed rows: what a page shows of an inspection (status,
        messages, sheets, the row report, the counts), a small fraction of the rows' size."""
        return replace(
            self,
            parsed=[],
            totals={"loaded": self.loaded, "rejected": self.rejected, "skipped": self.skipped},
        )

    @property
    def warnings(self) -> int:
        """Problems of severity warning (the rows are kept)."""
        return sum(p.severity == validate.WARNING for p in self.problems)

    def columns(self) -> dict[str, dict[str, str]]:
        """Table key -> {field key: header as written}: the columns the file's tables had."""
        out: dict[str, dict[str, str]] = {}
        for s in self.sheets:
            if s.table:
                found = out.setdefault(s.table, {})
                for header, key in s.columns.items():
                    found.setdefault(key, header)
        return out

    def problem_frame(self) -> pd.DataFrame:
        """The row report as a table (one row per problem), in sheet and row order."""
        import pandas as pd

        if not self.problems:
            return pd.DataFrame(columns=PROBLEM_COLUMNS)
        frame = pd.DataFrame(
            {name: [getattr(p, name) for p in self.problems] for name in PROBLEM_COLUMNS}
        )
        frame["row"] = frame["row"].astype("Int64")
        return frame


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
) -> FileReport:
    """Reads and validates a file without writing anything.

    The checks of ``read.check_file`` run here first; the parse and the validation
    (``parse_file``) run in a worker process with memory and CPU limits
    (analytics/importing/worker.py), so that a parser that crashes, aborts or runs away on a hostile
    file stops that process, not this one: the file is then "unreadable".

    Parameters
    ----------
    file_name : the uploaded name (its suffix picks the reader).
    data : the file's bytes.
    township : used for sheets without a township column (else the title's township).
    spellings : the office's confirmed header spellings (``Store.spellings``).

    Returns
    -------
    FileReport with status "inspected", or "unreadable" / "refused" when no table could
    be read from it. Never raises for bad input.
    """
    from analytics.importing import worker  # worker imports this module

    report = FileReport(file=file_name, sha256=hashlib.sha256(data).hexdigest())
    limits = read.Limits.from_env()
    try:
        read.check_file(file_name, data, limits)
        return worker.inspect(report, data, township, limits, spellings)
    except read.ReadError as e:
        return unreadable(report, e)


def unreadable(report: FileReport, error: read.ReadError) -> FileReport:
    """Marks ``report`` unreadable with the error's message, split into its Chinese and
    English parts ("<zh> / <file>: <en>")."""
    report.status = "unreadable"
    text = str(error)
    cut = text.find(f" / {report.file}:")
    report.message, report.message_en = (text[:cut], text[cut + 3 :]) if cut >= 0 else (text, text)
    return report


def parse_file(
    report: FileReport,
    data: bytes,
    township: str | None,
    limits: read.Limits,
    spellings: schema.Spellings = schema.NO_SPELLINGS,
) -> FileReport:
    """The part of ``inspect_file`` that parses: the sheets (``read.parse_grids``, after
    ``read.check_file`` passed), their tables (found with the office's ``spellings``),
    every row validated, into ``report``.

    Runs in the worker process (analytics/importing/worker.py), never in the server's.

    Raises
    ------
    read.ReadError
        When the file cannot be read.
    """
    file_name = report.file
    grids = read.parse_grids(file_name, data, limits)
    validator = validate.Validator(township)
    for grid in grids:
        if grid.hidden:
            report.sheets.append(
                SheetSummary(
                    sheet=grid.sheet,
                    table=None,
                    note="隐藏的工作表，未导入（如需导入，请在 Excel 中取消隐藏后重新上传）",
                    note_en="hidden sheet, not imported (unhide it in Excel and upload again)",
                )
            )
            continue
        located = read.locate(grid, spellings)
        if isinstance(located, read.SheetNote):
            report.sheets.append(
                SheetSummary(
                    sheet=grid.sheet, table=None, note=located.reason, note_en=located.reason_en
                )
            )
            continue
        parsed = validator.parse(located)
        report.parsed.append(parsed)
        report.problems.extend(parsed.problems)
        report.sheets.append(
            SheetSummary(
                sheet=grid.sheet,
                table=located.table.key,
                header_rows="-".join(str(r + 1) for r in located.header_rows),
                township_source=parsed.township_source,
                loaded=len(parsed.rows),
                rejected=len(parsed.rejected),
                skipped=parsed.skipped,
                columns=parsed.headers,
                unused_columns=located.unused_headers,
                proposals=located.proposals,
            )
        )
    if not report.parsed and read.is_excel_name(file_name) and not read.is_workbook(data):
        # An Excel name on bytes that are no workbook and hold no table as text either.
        report.status = "unreadable"
        report.message = f"{file_name}：无法读取，文件已损坏或不是 Excel 工作簿。"
        report.message_en = f"{file_name}: cannot be read; the file is damaged or not a workbook."
    elif not report.parsed:
        report.status = "refused"
        report.message = "文件中没有可识别的表（户信息、贫情分析会议、易地扶贫搬迁、村基本情况）"
        report.message_en = (
            "no recognisable table in the file (households, meetings, relocation, villages)"
        )
    return report


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
    report = inspect_file(file_name, data, township, store.spellings())
    if report.status != "inspected":
        return report
    if not round_name:
        return _refuse(report, "未填写批次名称", "no round given")
    if report.rejected and not allow_partial:
        return _refuse(
            report,
            f"{report.rejected} 行有错误，未导入任何数据。可修改后重新上传，或选择“仅导入有效行”。",
            f"{report.rejected} rows have errors; nothing was loaded. Fix them, or choose to "
            "load the valid rows only.",
        )
    if report.loaded == 0 and not report.rejected:
        return _refuse(report, "文件中没有数据行", "the file holds no data rows")
    if report.loaded == 0:
        # nothing valid: an empty batch would only make a round that holds no data
        return _refuse(
            report,
            f"全部 {report.rejected} 行都有错误，未导入任何数据。",
            f"all {report.rejected} rows have errors; nothing was loaded.",
        )
    tables: dict[str, list[dict]] = {}
    rejected: dict[str, list[dict]] = {}
    for p in report.parsed:
        tables.setdefault(p.table, []).extend(p.rows)
        rejected.setdefault(p.table, []).extend(p.rejected)
    ids = {
        t: set(columns.to_columns(tables.get(t, []), ["household_id"])["household_id"])
        for t in ("households", "relocation")
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
        )
        _pause_for_tests(report)
    return loaded(report)


def settle_conflicts(
    store: Store,
    cur,
    report: FileReport,
    round_name: str,
    ids: dict[str, set[str] | str],
    replace: bool,
) -> bool:
    """Inside the import's transaction: the batches of ``round_name`` holding the same file
    or any of its household ids (``Store.conflicts``) are removed when ``replace``, and
    listed in ``report.replaced``; else the report is refused naming them. Returns whether
    the import may go on."""
    conflicts = store.conflicts(cur, round_name, report.sha256, ids)
    if conflicts and not replace:
        _refuse(
            report,
            "；".join(c.reason for c in conflicts)
            + "。如需替换，请勾选“替换本批次中已有的同一批数据”（命令行：--replace）。",
            "; ".join(c.reason_en for c in conflicts)
            + ". To swap it, tick 'Replace the batch that already holds these rows'"
            " (command line: --replace).",
        )
        return False
    for c in conflicts:
        store.remove_batch(cur, c.batch_id)
    report.replaced = [c.batch_id for c in conflicts]
    return True


def loaded(report: FileReport) -> FileReport:
    """Marks ``report`` (with its batch_id set) loaded or partial, with its message."""
    report.status = "partial" if report.rejected else "loaded"
    report.message = f"已导入批次 {report.batch_id}：{report.loaded} 行" + (
        f"，{report.rejected} 行有错误已隔离" if report.rejected else ""
    )
    report.message_en = f"loaded as batch {report.batch_id}: {report.loaded} rows" + (
        f", {report.rejected} rejected rows quarantined" if report.rejected else ""
    )
    if report.replaced:
        report.message += f"（替换了批次 {', '.join(map(str, report.replaced))}）"
        report.message_en += f" (replaced batch {', '.join(map(str, report.replaced))})"
    return report


def import_path(
    store: Store,
    path: str | os.PathLike[str],
    round_name: str,
    *,
    township: str | None = None,
    allow_partial: bool = False,
    replace: bool = False,
    is_demo: bool = False,
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
    read.ReadError
        When it is refused unread: over the size limit (``read.LimitError``), or a Parquet
        file that cannot be read.
    """
    from analytics.importing import bulk  # bulk imports this module

    name = os.path.basename(os.fspath(path))
    why = ""
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
            )
        except bulk.NotBulk as e:
            why = str(e)
    try:
        data = read.read_path(path)  # at most the size limit is read
    except read.LimitError as e:
        if not why:
            raise
        zh, _, en = str(e).partition(" / ")
        why_zh, _, why_en = why.partition(" / ")
        raise read.LimitError(
            f"{zh}（不能批量导入：{why_zh}） / {en} (no bulk import: {why_en or why_zh})"
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
    )


def _pause_for_tests(report: FileReport) -> None:
    raw = os.environ.get(PAUSE_ENV)
    if not raw:
        return
    print(
        f"IN_WRITE_TRANSACTION batch={report.batch_id} rows={report.loaded}",
        file=sys.stderr,
        flush=True,
    )
    time.sleep(float(raw))


def _refuse(report: FileReport, zh: str, en: str) -> FileReport:
    report.status = "refused"
    report.message, report.message_en = zh, en
    return report
