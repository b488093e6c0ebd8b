"""Reading a file's sheets into cell grids: python-calamine for workbooks, the csv module
for text.

File bytes (through the guard, analytics/importing/guard.py) -> ``Grid`` (one per sheet,
merged cells filled, Excel row numbers kept). Rows and cells are counted against the limits
as they are read (``guard.Budget``).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import cast

import python_calamine

from analytics.domain import config
from analytics.domain.config import Limits
from analytics.domain.labels import texts
from analytics.importing.decode import decode_text
from analytics.importing.guard import Budget, check_file, is_workbook
from analytics.importing.results import ReadError, damaged, password_protected

SNIFF_CHARS = 8192  # the start of a text the CSV dialect is sniffed from


@dataclass
class Grid:
    """The cells of one sheet. ``rows[i][j]`` is Excel row ``i + 1``, column ``j + 1``.

    Cells are ``None`` when truly empty; a merged range gives its top-left value to every
    cell it spans. Types are kept as the file holds them: a number cell is a float or int,
    a text cell a str, a date cell a date or datetime (CSV cells are all str). A hidden
    sheet is not read (``hidden`` True, no rows): the clerk cannot see it in Excel.
    """

    file: str
    sheet: str
    rows: list[list[object]]
    width: int
    hidden: bool = False
    # Excel row number of each row when they are not 1, 2, 3, ... (a selection of a large
    # file's rows, analytics/importing/bulk.py); None: row i is Excel row i + 1.
    row_numbers: list[int] | None = None
    # Rows that hold no value of their own, only values a merged range filled in (a blank
    # row inside a village cell merged down): blank, whatever merges span them.
    merged_only: frozenset[int] = frozenset()

    def row_number(self, i: int) -> int:
        """The Excel row number of ``rows[i]``."""
        return self.row_numbers[i] if self.row_numbers is not None else i + 1


def read_grids(file_name: str, data: bytes, limits: Limits | None = None) -> list[Grid]:
    """Reads every sheet of an Excel file, or the one table of a CSV file:
    ``guard.check_file``, then ``parse_grids``, in this process.

    For trusted bytes only (tests, tools): an uploaded or command-line file is parsed in a
    worker process with memory and CPU limits (``ingest.inspect_file``,
    analytics/importing/worker.py).

    Parameters
    ----------
    file_name : the name as uploaded; its suffix picks the reader.
    data : the file's bytes.
    limits : what the file may hold (default: ``config.limits()``).

    Raises
    ------
    ReadError
        Unsupported suffix, a corrupt or password-protected workbook, or a CSV that is
        neither valid UTF-8/UTF-16 nor GB18030.
    LimitError
        (a ReadError) A file over a limit, a zip bomb, or a sheet spanning too many cells;
        raised before the file is parsed (or, for CSV, as soon as a limit is passed).
    """
    limits = limits or config.limits()
    check_file(file_name, data, limits)
    return parse_grids(file_name, data, limits)


def parse_grids(file_name: str, data: bytes, limits: Limits) -> list[Grid]:
    """Parses bytes that passed ``guard.check_file`` (not checked again): a workbook with
    python-calamine, anything else as CSV text. Rows and cells are counted against
    ``limits`` as the sheets are read.

    Raises
    ------
    ReadError, LimitError
        As ``read_grids``, for what only the parse finds.
    """
    budget = Budget(limits)
    if is_workbook(data):
        return _read_excel(file_name, data, budget)
    return [read_csv(file_name, data, budget)]


def _read_excel(file_name: str, data: bytes, budget: Budget) -> list[Grid]:
    try:
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        grids = []
        hidden = {
            m.name
            for m in book.sheets_metadata
            if m.visible != python_calamine.SheetVisibleEnum.Visible
        }
        for name in book.sheet_names:
            if name in hidden:
                grids.append(Grid(file=file_name, sheet=name, rows=[], width=0, hidden=True))
                continue
            sheet = book.get_sheet_by_name(name)
            # calamine has built the sheet; refuse it before it becomes Python objects.
            Budget(budget.limits).take(file_name, name, sheet.height, sheet.width)
            # Handed over to make_grid, which edits these lists in place (None for an
            # empty text): from here on they are lists of any cell.
            rows = cast("list[list[object]]", sheet.to_python(skip_empty_area=False))
            merged = sheet.merged_cell_ranges or []
            grids.append(make_grid(file_name, name, rows, merged, budget))
        return grids
    except python_calamine.PasswordError as e:
        raise password_protected(file_name) from e
    except (python_calamine.CalamineError, ValueError, OSError, IndexError, OverflowError) as e:
        raise damaged(file_name, e) from e
    except BaseException as e:
        # A Rust panic inside calamine arrives as pyo3's PanicException (a BaseException).
        if type(e).__name__ == "PanicException":
            raise damaged(file_name, e) from e
        raise


def make_grid(
    file_name: str,
    sheet: str,
    raw: list[list[object]],
    merged: list[tuple[tuple[int, int], tuple[int, int]]],
    budget: Budget,
) -> Grid:
    """A ``Grid`` of the rows a reader gave (``raw``, edited in place): empty texts become
    None, rows are padded to one width, and each merged range ((first row, first column),
    (last row, last column), 0-based) gives its top-left value to every cell it spans.

    Raises
    ------
    LimitError
        When the sheet (merges included) spans more rows or cells than ``budget`` allows.
    ReadError
        When merged ranges overlap.
    """
    height = len(raw)
    width = max((len(r) for r in raw), default=0)
    merged_cells = 0
    for (r0, c0), (r1, c1) in merged:
        height = max(height, r1 + 1)
        width = max(width, c1 + 1)
        merged_cells += max(0, r1 - r0 + 1) * max(0, c1 - c0 + 1)
    # Checked before a single cell is padded or filled: a merged range "A1:XFD1048576" in
    # a tiny file would otherwise ask for 17 billion cells.
    budget.take(file_name, sheet, height, width)
    if merged_cells > height * width:  # overlapping merges: each would be filled again
        raise damaged(file_name, texts("msg_overlapping_merges", sheet=sheet))
    rows: list[list[object]] = raw  # the reader's own lists: emptied cells become None
    for row in rows:
        empty = row.count("")  # C-speed scans: the count, then each empty text's place
        if empty:
            at = -1
            for _ in range(empty):
                at = row.index("", at + 1)
                row[at] = None
    while len(rows) < height:
        rows.append([])
    for row in rows:
        if len(row) < width:
            row.extend([None] * (width - len(row)))
    # A row spanned by a merge whose cells are all empty before the merges are filled holds
    # no value of its own (a merged range's value sits in its top-left cell only).
    spanned = {r for (r0, _), (r1, _) in merged for r in range(max(r0, 0), r1 + 1)}
    merged_only = frozenset(r for r in spanned if r < height and not any(map(_has, rows[r])))
    for (r0, c0), (r1, c1) in merged:
        value = rows[r0][c0] if 0 <= r0 < len(rows) and 0 <= c0 < width else None
        for r in range(max(r0, 0), r1 + 1):
            for c in range(max(c0, 0), c1 + 1):
                rows[r][c] = value
    return Grid(file=file_name, sheet=sheet, rows=rows, width=width, merged_only=merged_only)


def _has(value: object) -> bool:
    return value is not None


def sniff_dialect(sample: str) -> type[csv.Dialect] | csv.Dialect:
    """The CSV dialect of a text's start: comma, tab or semicolon as ``csv.Sniffer`` finds
    it; a ragged start (a one-cell title line) takes the commoner of tab and comma."""
    try:
        return csv.Sniffer().sniff(sample, ",\t;")
    except csv.Error:
        return csv.excel_tab if sample.count("\t") > sample.count(",") else csv.excel


def read_csv(file_name: str, data: bytes, budget: Budget) -> Grid:
    """The one table of a CSV file (``decode.decode_text``, ``sniff_dialect``) as a
    ``Grid`` of text cells on sheet "CSV"; rows and cells are counted as they are read.

    Raises
    ------
    ReadError
        Undecodable text, or malformed CSV (an unmatched quote).
    LimitError
        As soon as the rows or cells read pass the limits.
    """
    text = decode_text(file_name, data)
    dialect = sniff_dialect(text[:SNIFF_CHARS])
    limits = budget.limits
    raw: list[list[str]] = []
    fields = 0
    # strict: an unmatched quote is an error, not the rest of the file swallowed into one
    # cell (which would lose every later row without a word).
    reader = csv.reader(io.StringIO(text, newline=""), dialect, strict=True)
    try:
        for row in reader:
            raw.append(row)
            fields += len(row)
            if len(raw) > limits.rows or fields > limits.cells:
                # Refused while reading: the rest of the file is never split into cells.
                budget.take(file_name, "CSV", len(raw), max(1, fields // len(raw)))
                budget.take(file_name, "CSV", 1, fields)
    except csv.Error as e:
        raise ReadError.of("msg_bad_csv", file=file_name, line=reader.line_num, error=e) from e
    # make_grid edits the rows in place (None for an empty text): handed over as any cells.
    return make_grid(file_name, "CSV", cast("list[list[object]]", raw), [], budget)
