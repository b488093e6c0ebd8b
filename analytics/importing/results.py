"""What an import gives back, and the steps both import paths end with.

The types every module of the importer shares: a row report line (``Problem``), a validated
table (``ParsedTable``), a sheet's and a file's outcome (``SheetSummary``, ``FileReport``)
and the command line's exit codes; the errors of a file that cannot be read (``ReadError``,
``LimitError``); and the steps of the normal path (analytics/importing/ingest.py) and the
bulk path (analytics/importing/bulk.py) alike: whether a report may be written
(``may_write``), settling conflicts with earlier batches inside the transaction, and the
"loaded" / "refused" / "unreadable" outcomes. Messages come from the label table
(analytics/domain/labels.py, ``msg_*``), in both languages at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from analytics.domain import schema
from analytics.domain.labels import Both, texts

if TYPE_CHECKING:  # the worker process imports this module: no DuckDB, no pandas there
    import pandas as pd

    from analytics.store.database import Store

ERROR, WARNING = "error", "warning"  # a problem's severity: an error rejects its row

# Exit codes of the command line, by outcome (the worst file decides).
LOADED, REFUSED, UNREADABLE = 0, 1, 2

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


# ------------------------------------------------------------------- errors
class MessageError(Exception):
    """An error with a message for the user in both languages (``message``,
    ``message_en``); ``str(err)`` gives both, for a log or a place that knows no language.
    """

    def __init__(self, message: str, message_en: str) -> None:
        super().__init__(message, message_en)
        self.message = message
        self.message_en = message_en

    @classmethod
    def of(cls, key: str, **fields: object) -> Any:  # Any: the subclass called on
        """The error with message ``key`` of the label table, formatted with ``fields``."""
        return cls(*texts(key, **fields))

    def __str__(self) -> str:
        return f"{self.message} / {self.message_en}"


class ReadError(MessageError):
    """A file that cannot be read at all (wrong format, corrupt, undecodable); the
    messages name the file."""


class LimitError(ReadError):
    """A file refused by a limit of ``config.Limits`` (too large, too many rows or cells, a
    zip bomb). The messages name the file, the limit and what was found."""


MB = 1024 * 1024


def size_text(n: int) -> str:
    """A size for a message: "1.5 MB" from 1 MB up, else "20,002 bytes"."""
    if n >= MB:
        return f"{n / MB:,.1f} MB"
    return f"{n:,} bytes"


def error_detail(e: BaseException) -> Both:
    """An exception as the detail of a message: its kind and (the start of) its text."""
    return texts("msg_error_detail", kind=type(e).__name__, text=str(e)[:200])


def damaged(file_name: str, detail: BaseException | Both) -> ReadError:
    """A workbook that cannot be read: damaged, or not a workbook (``detail`` says why)."""
    if isinstance(detail, BaseException):
        detail = error_detail(detail)
    return ReadError.of("msg_damaged", file=file_name, detail=detail)


def password_protected(file_name: str) -> ReadError:
    """A workbook with a password."""
    return ReadError.of("msg_password", file=file_name)


def out_of_range(file_name: str, e: BaseException) -> ReadError:
    """A value the store's column types cannot hold (a whole number past 2**63, a date
    after the year 9999): the file is refused as unreadable, nothing imported."""
    return ReadError.of("msg_out_of_range", file=file_name, detail=str(e)[:200])


# ------------------------------------------------------------------- results
@dataclass(frozen=True)
class Problem:
    """One line of the row report.

    ``row`` is the Excel row number the user sees (None for a sheet-level problem);
    ``column`` is "C 户主身份证号" (letter and header); ``value`` is already masked.
    """

    file: str
    sheet: str
    row: int | None
    column: str
    value: str
    code: str
    severity: str
    message: str
    message_en: str

    def at(self, excel_row: int) -> Problem:
        """This problem on Excel row ``excel_row`` (a problem found once for a value, given
        to each row holding it)."""
        return Problem(
            self.file,
            self.sheet,
            excel_row,
            self.column,
            self.value,
            self.code,
            self.severity,
            self.message,
            self.message_en,
        )


@dataclass
class ParsedTable:
    """The outcome of validating one located table.

    ``rows`` are the loadable rows as mappings of field key -> typed value, each with
    ``source_sheet`` and ``source_row``. ``rejected`` rows keep their raw cells (header ->
    text) and reasons. ``skipped`` counts blank / total / numbering / footer rows.
    """

    file: str
    sheet: str
    table: str
    rows: list[Any]  # dicts, or columns.RowView: read-only mappings of field -> value
    rejected: list[dict[str, Any]]
    problems: list[Problem]
    skipped: dict[str, int]
    headers: dict[str, str]
    township_source: str
    # the township a row without its own takes (None when nothing names one)
    township: str | None = None

    @property
    def errors(self) -> int:
        """Number of rejected rows."""
        return len(self.rejected)


@dataclass
class SheetSummary:
    """What one sheet held: its table, header rows (Excel numbers) and row counts."""

    sheet: str
    table: str | None
    header_rows: str = ""
    township_source: str = ""
    # the township the sheet's rows without their own take, from ``township_source``
    township: str | None = None
    loaded: int = 0
    rejected: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    columns: dict[str, str] = field(default_factory=dict)  # header -> field key
    # member rows loaded from the sheet (a person-level sheet: ``loaded`` counts the
    # households whose 户主 row is on it; a bare member sheet: ``loaded`` counts them too)
    members: int = 0
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
    problems: list[Problem] = field(default_factory=list)
    parsed: list[ParsedTable] = field(default_factory=list, repr=False)
    batch_id: int | None = None
    replaced: list[int] = field(default_factory=list)
    # A bulk import (analytics/importing/bulk.py) keeps its rows in DuckDB, not in
    # ``parsed``, and a ``summary`` drops them: their counts ("loaded", "rejected",
    # "skipped") are here.
    totals: dict[str, int] | None = None
    # The date the data is as of, and where it was read ("title", "file_name"; "" when
    # nothing gives one): analytics/importing/workbook.py ``data_date``.
    data_date: dt.date | None = None
    data_date_source: str = ""

    def give_date(self, day: dt.date | None) -> None:
        """Takes ``day`` as the data date, given at upload (``--data-date`` on the command
        line), over what the file says; None leaves the file's own."""
        if day is not None:
            self.data_date, self.data_date_source = day, "upload"

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
        return sum(p.severity == WARNING for p in self.problems)

    def columns(self) -> dict[str, dict[str, str]]:
        """Table key -> {field key: header as written}: the columns the file's tables had.

        A column whose values may name another field too (``schema.Table.implied``: a
        脱贫属性 of 预脱贫 is an adjustment as well) counts as that field's column where the
        file has none of its own."""
        out: dict[str, dict[str, str]] = {}
        # the parsed tables where the report has them (a person-level sheet gives a
        # households and a members table, each with its own columns), else the sheets
        tables = [(p.table, p.headers) for p in self.parsed] or [
            (s.table, s.columns) for s in self.sheets if s.table
        ]
        for table, headers in tables:
            found = out.setdefault(table, {})
            for header, key in headers.items():
                if key in schema.TABLES[table].by_key:
                    found.setdefault(key, header)
        for table, found in out.items():
            for key, also in schema.TABLES[table].implied.items():
                for other in also:
                    if key in found:
                        found.setdefault(other, found[key])
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


# ------------------------------------------------------------------- outcomes
def unreadable(report: FileReport, error: ReadError) -> FileReport:
    """Marks ``report`` unreadable with the error's messages."""
    report.status = "unreadable"
    report.message, report.message_en = error.message, error.message_en
    return report


def refuse(report: FileReport, key: str, **fields: object) -> FileReport:
    """Marks ``report`` refused (nothing written) with message ``key`` of the label table."""
    report.status = "refused"
    report.message, report.message_en = texts(key, **fields)
    return report


def may_write(report: FileReport, round_name: str, allow_partial: bool) -> bool:
    """Whether a validated file may be written as a batch of ``round_name``; if not,
    ``report`` is refused saying why: no round named; rejected rows without
    ``allow_partial``; no data row at all; or no valid row (every row rejected: an empty
    batch would only make a round that holds no data).
    """
    if not round_name:
        refuse(report, "msg_no_round")
    elif report.rejected and not allow_partial:
        refuse(report, "msg_rows_have_errors", n=report.rejected)
    elif report.loaded == 0 and not report.rejected:
        refuse(report, "msg_no_data_rows")
    elif report.loaded == 0:
        refuse(report, "msg_all_rows_errors", n=report.rejected)
    else:
        return True
    return False


def settle_conflicts(
    store: Store,
    cur: Any,
    report: FileReport,
    round_name: str,
    ids: Mapping[str, set[str] | str],
    replace: bool,
) -> bool:
    """Inside the import's transaction (``cur``): the batches of ``round_name`` holding the
    same file or any of its household ids (``Store.conflicts``; ``ids``: table -> the ids,
    or an SQL query of them) are removed when ``replace``, and listed in
    ``report.replaced``; else the report is refused naming them. Returns whether the import
    may go on."""
    conflicts = store.conflicts(cur, round_name, report.sha256, ids)
    if conflicts and not replace:
        reasons = Both(
            "；".join(c.reason for c in conflicts), "; ".join(c.reason_en for c in conflicts)
        )
        refuse(report, "msg_conflicts", reasons=reasons)
        return False
    for c in conflicts:
        store.remove_batch(cur, c.batch_id)
    report.replaced = [c.batch_id for c in conflicts]
    return True


def loaded(report: FileReport) -> FileReport:
    """Marks ``report`` (with its batch_id set) loaded or partial, with its message."""
    report.status = "partial" if report.rejected else "loaded"
    parts = [texts("msg_loaded", batch=report.batch_id, n=report.loaded)]
    if report.rejected:
        parts.append(texts("msg_loaded_quarantined", n=report.rejected))
    if report.replaced:
        parts.append(texts("msg_loaded_replaced", ids=", ".join(map(str, report.replaced))))
    report.message = "".join(p.zh for p in parts)
    report.message_en = "".join(p.en for p in parts)
    return report
