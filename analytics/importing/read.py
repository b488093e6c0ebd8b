"""Read uploaded files into cell grids and find the tables in them.

File bytes -> ``Grid`` (one per sheet, merged cells filled, Excel row numbers kept) ->
``LocatedTable`` (which table, where its header is, which column holds which field).
Excel files (.xlsx .xlsm .xls) are read with python-calamine; CSV is decoded strictly
(UTF-8, UTF-8 with BOM, UTF-16 with BOM, GB18030) and split with the csv module.

Hostile or broken files are refused before they are parsed (``Limits``): a file over the
size limit; a zip (.xlsx/.xlsm) whose entries would expand beyond the unzipped-size or
compression-ratio limit, or whose headers lie about their sizes (every entry is inflated
with a bounded decompressor); a sheet whose cells would span more rows or cells than the
limits allow (calamine allocates rows x columns at once, so one far-away cell in a tiny
file would otherwise exhaust memory and abort the process); shared-string or dimension
records that declare absurd counts. CSV rows and cells are counted while they are read.
"""

from __future__ import annotations

import csv
import io
import os
import re
import struct
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePath

import numpy as np
import python_calamine

from analytics.domain import schema

EXCEL_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xls"})
CSV_SUFFIXES = frozenset({".csv", ".txt"})
HEADER_SCAN_ROWS = 40  # a header further down than this is not looked for

MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """What a file may hold before it is refused as too large or hostile.

    Attributes
    ----------
    file_bytes : size of one uploaded file (``POVERTY_MAX_FILE_MB``, default 50 MB).
    rows : rows of one sheet, or lines of one CSV (``POVERTY_MAX_ROWS``, 1,100,000).
    cells : cells of one file, all sheets, rows x columns as read (``POVERTY_MAX_CELLS``,
        30,000,000).
    unzipped_bytes : total uncompressed size of an .xlsx/.xlsm (``POVERTY_MAX_UNZIPPED_MB``,
        500 MB).
    zip_ratio : uncompressed / compressed size of one zip entry over 1 MB
        (``POVERTY_MAX_ZIP_RATIO``, 100).
    worker_bytes : address space of the worker process that parses and validates one file
        (``POVERTY_WORKER_MEMORY_MB``, 4096 MB; ``RLIMIT_AS``, analytics/importing/worker.py). The
        worker starts at about 0.4 GB of it (Python, numpy, pyarrow, calamine mapped in); a
        100,000-household workbook (9 MB) peaks near 1 GB.
    worker_seconds : CPU time of that worker (``POVERTY_WORKER_SECONDS``, 300 s;
        ``RLIMIT_CPU``); it is also stopped after ``WALL_FACTOR`` times as long on the clock
        (a stalled or starved parse). A 100,000-household workbook takes about 4 s.
    """

    file_bytes: int = 50 * MB
    rows: int = 1_100_000
    cells: int = 30_000_000
    unzipped_bytes: int = 500 * MB
    zip_ratio: int = 100
    worker_bytes: int = 4096 * MB
    worker_seconds: int = 300

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Limits:
        """The defaults, overridden by the environment variables of ``LIMIT_ENV``.

        A variable that is not a positive number is ignored (the default stays).
        """
        env = os.environ if environ is None else environ
        values: dict[str, int] = {}
        for name, (var, unit) in LIMIT_ENV.items():
            raw = (env.get(var) or "").strip().replace(",", "").replace("_", "")
            try:
                number = float(raw) if raw else 0.0
            except ValueError:
                number = 0.0
            if number > 0 and number * unit < 2**62:
                values[name] = max(1, int(number * unit))
        return cls(**values)


# Limits field -> (environment variable, unit in bytes or items).
LIMIT_ENV: dict[str, tuple[str, int]] = {
    "file_bytes": ("POVERTY_MAX_FILE_MB", MB),
    "rows": ("POVERTY_MAX_ROWS", 1),
    "cells": ("POVERTY_MAX_CELLS", 1),
    "unzipped_bytes": ("POVERTY_MAX_UNZIPPED_MB", MB),
    "zip_ratio": ("POVERTY_MAX_ZIP_RATIO", 1),
    "worker_bytes": ("POVERTY_WORKER_MEMORY_MB", MB),
    "worker_seconds": ("POVERTY_WORKER_SECONDS", 1),
}
WALL_FACTOR = 3  # the worker is stopped after this many times its CPU limit on the clock
RATIO_MIN_ENTRY_BYTES = MB  # the ratio limit applies to zip entries larger than this
MAX_ZIP_ENTRIES = 10_000
MAX_TAG_BYTES = MB  # a cell, row or shared-string tag longer than this is refused


class ReadError(Exception):
    """A file that cannot be read at all (wrong format, corrupt, undecodable).

    ``str(err)`` is a message for the user that names the file.
    """


class LimitError(ReadError):
    """A file refused by a limit of ``Limits`` (too large, too many rows or cells, a zip
    bomb). The message names the file, the limit and what was found."""


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


@dataclass
class LocatedTable:
    """A recognised table inside a grid.

    ``columns`` maps a column index (0-based) to a field key; ``headers`` gives the header
    text the user sees for that column. Data rows start at ``data_start`` (0-based index
    into ``grid.rows``).
    """

    grid: Grid
    table: schema.Table
    header_rows: tuple[int, ...]
    columns: dict[int, str]
    headers: dict[int, str]
    data_start: int
    title_township: str | None = None
    unused_headers: list[str] = field(default_factory=list)
    duplicate_headers: list[str] = field(default_factory=list)
    # unused header -> the field it most likely means (``schema.propose``)
    proposals: dict[str, str] = field(default_factory=dict)
    # the office's confirmed header spellings the table was located with
    spellings: schema.Spellings = field(default_factory=lambda: schema.NO_SPELLINGS)

    def column_of(self, key: str) -> int | None:
        """The column index holding field ``key``, or None when the sheet lacks it."""
        for c, k in self.columns.items():
            if k == key:
                return c
        return None


@dataclass
class SheetNote:
    """A sheet that holds no recognisable table, and why."""

    file: str
    sheet: str
    reason: str
    reason_en: str


def read_grids(file_name: str, data: bytes, limits: Limits | None = None) -> list[Grid]:
    """Reads every sheet of an Excel file, or the one table of a CSV file: ``check_file``,
    then ``parse_grids``, in this process.

    For trusted bytes only (tests, tools): an uploaded or command-line file is parsed in a
    worker process with memory and CPU limits (``ingest.inspect_file``,
    analytics/importing/worker.py).

    Parameters
    ----------
    file_name : the name as uploaded; its suffix picks the reader.
    data : the file's bytes.
    limits : what the file may hold (default: ``Limits.from_env()``).

    Raises
    ------
    ReadError
        Unsupported suffix, a corrupt or password-protected workbook, or a CSV that is
        neither valid UTF-8/UTF-16 nor GB18030.
    LimitError
        (a ReadError) A file over a limit, a zip bomb, or a sheet spanning too many cells;
        raised before the file is parsed (or, for CSV, as soon as a limit is passed).
    """
    limits = limits or Limits.from_env()
    check_file(file_name, data, limits)
    return parse_grids(file_name, data, limits)


def check_file(file_name: str, data: bytes, limits: Limits) -> None:
    """The checks before any parser sees the bytes (the first line; cheap, bounded, in
    Python): the suffix, the size limit, what the content is (a zip or OLE workbook, an HTML
    page under an Excel name, else text), and for a workbook its container and the shape of
    its sheets (``_preflight``: zip bombs, far-away cells, lying counts).

    Raises
    ------
    ReadError, LimitError
        As ``read_grids``, for everything that can be refused before parsing.
    """
    suffix = PurePath(file_name).suffix.lower()
    if suffix not in EXCEL_SUFFIXES and suffix not in CSV_SUFFIXES:
        raise ReadError(
            f"{file_name}：不支持的文件类型“{suffix or '无后缀'}”，"
            "请上传 .xlsx、.xlsm、.xls 或 .csv 文件（.xlsb、.ods 请另存为 .xlsx）。"
            f" / {file_name}: unsupported file type '{suffix}'; upload .xlsx, .xlsm, .xls or"
            " .csv (save .xlsb and .ods as .xlsx)."
        )
    check_size(file_name, len(data), limits)
    # The content decides, not the name: clerks rename files (a workbook saved as .csv,
    # a CSV renamed .xlsx). Zip (.xlsx/.xlsm) and OLE (.xls) containers are workbooks.
    if is_workbook(data):
        _preflight(file_name, data, limits)
    elif suffix in EXCEL_SUFFIXES and _looks_like_html(data):
        raise ReadError(
            f"{file_name}：这是网页（HTML）格式的表格，只是用了 Excel 的文件名。"
            "请在 Excel 中打开后“另存为” .xlsx 再上传。"
            f" / {file_name}: this is a web page (HTML) table with an Excel name; open it in "
            "Excel and save it as .xlsx."
        )


def parse_grids(file_name: str, data: bytes, limits: Limits) -> list[Grid]:
    """Parses bytes that passed ``check_file`` (not checked again): a workbook with
    python-calamine, anything else as CSV text. Rows and cells are counted against
    ``limits`` as the sheets are read.

    Raises
    ------
    ReadError, LimitError
        As ``read_grids``, for what only the parse finds.
    """
    budget = _Budget(limits)
    if is_workbook(data):
        return _read_excel(file_name, data, budget)
    return [_read_csv(file_name, data, budget)]


def is_workbook(data: bytes) -> bool:
    """Whether the bytes are a workbook container: zip (.xlsx, .xlsm) or OLE (.xls)."""
    return data.startswith((b"PK\x03\x04", CFB_MAGIC))


def is_excel_name(file_name: str) -> bool:
    """Whether the file name has an Excel suffix (.xlsx, .xlsm, .xls)."""
    return PurePath(file_name).suffix.lower() in EXCEL_SUFFIXES


def _looks_like_html(data: bytes) -> bool:
    head = data[:1024].lower()
    return b"<html" in head or b"<table" in head or b"<!doctype" in head


def check_size(file_name: str, size: int, limits: Limits | None = None) -> None:
    """Refuses a file of ``size`` bytes when it is over ``limits.file_bytes``.

    Raises
    ------
    LimitError
    """
    limits = limits or Limits.from_env()
    if size > limits.file_bytes:
        raise LimitError(
            f"{file_name}：文件大小 {_mb(size)} 超过上限 {_mb(limits.file_bytes)}"
            "（环境变量 POVERTY_MAX_FILE_MB），请拆分后分别上传。"
            f" / {file_name}: the file is {_mb(size)}, over the limit of "
            f"{_mb(limits.file_bytes)} (POVERTY_MAX_FILE_MB); split it and upload the parts."
        )


def read_path(path: str | os.PathLike[str], limits: Limits | None = None) -> bytes:
    """A file's bytes, reading no more than the size limit allows (a device or a pipe
    that never ends is cut off and refused, not read into memory).

    Raises
    ------
    LimitError
        When the file is over ``limits.file_bytes``.
    OSError
        When it cannot be read.
    """
    limits = limits or Limits.from_env()
    name = PurePath(os.fspath(path)).name
    with open(path, "rb") as f:
        try:
            size = os.fstat(f.fileno()).st_size
        except OSError:
            size = 0
        check_size(name, size, limits)
        data = f.read(limits.file_bytes + 1)
    check_size(name, len(data), limits)
    return data


def _mb(n: int) -> str:
    if n >= MB:
        return f"{n / MB:,.1f} MB"
    return f"{n:,} bytes"


class _Budget:
    """Rows and cells a file may still use while its sheets are read."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.cells = 0

    def take(self, file_name: str, sheet: str, rows: int, cols: int) -> None:
        """Counts a sheet of ``rows`` x ``cols``; refuses it when over a limit."""
        if rows > self.limits.rows:
            raise LimitError(
                f"{file_name}：工作表“{sheet}”有 {rows:,} 行，超过每表 {self.limits.rows:,} 行"
                "的上限（环境变量 POVERTY_MAX_ROWS），请拆分后分别上传。"
                f" / {file_name}: sheet '{sheet}' has {rows:,} rows, over the limit of "
                f"{self.limits.rows:,} rows per sheet (POVERTY_MAX_ROWS)."
            )
        self.cells += rows * cols
        if self.cells > self.limits.cells:
            raise LimitError(
                f"{file_name}：单元格数（行×列）达到 {self.cells:,}（工作表“{sheet}”"
                f"{rows:,} 行 × {cols:,} 列），超过每个文件 {self.limits.cells:,} 个的上限"
                "（环境变量 POVERTY_MAX_CELLS）。"
                f" / {file_name}: {self.cells:,} cells (rows x columns; sheet '{sheet}' spans "
                f"{rows:,} rows x {cols:,} columns), over the limit of {self.limits.cells:,} "
                "cells per file (POVERTY_MAX_CELLS)."
            )


def _read_excel(file_name: str, data: bytes, budget: _Budget) -> list[Grid]:
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
            _Budget(budget.limits).take(file_name, name, sheet.height, sheet.width)
            rows = sheet.to_python(skip_empty_area=False)
            merged = sheet.merged_cell_ranges or []
            grids.append(_make_grid(file_name, name, rows, merged, budget))
        return grids
    except python_calamine.PasswordError as e:
        raise _password(file_name) from e
    except (python_calamine.CalamineError, ValueError, OSError, IndexError, OverflowError) as e:
        raise _damaged(file_name, e) from e
    except BaseException as e:
        # A Rust panic inside calamine arrives as pyo3's PanicException (a BaseException).
        if type(e).__name__ == "PanicException":
            raise _damaged(file_name, e) from e
        raise


def out_of_range(file_name: str, e: BaseException) -> ReadError:
    """A value the store's column types cannot hold (a whole number past 2**63, a date
    after the year 9999): the file is refused as unreadable, nothing imported."""
    return ReadError(
        f"{file_name}：有值超出可处理的范围（如 9999 年以后的日期、超过 19 位的整数），"
        "未导入任何数据。"
        f" / {file_name}: a value is out of range (a date after the year 9999? a whole number"
        f" of more than 19 digits?); nothing was imported ({str(e)[:200]})."
    )


def _password(file_name: str) -> ReadError:
    return ReadError(
        f"{file_name}：工作簿有密码保护，请取消密码后再上传。"
        f" / {file_name}: the workbook is password-protected."
    )


def _damaged(file_name: str, e: BaseException | str) -> ReadError:
    detail = e if isinstance(e, str) else f"{type(e).__name__}：{str(e)[:200]}"
    detail_en = e if isinstance(e, str) else f"{type(e).__name__}: {str(e)[:200]}"
    return ReadError(
        f"{file_name}：无法读取，文件已损坏或不是 Excel 工作簿（{detail}）。"
        f" / {file_name}: cannot be read; the file is damaged or not an Excel workbook"
        f" ({detail_en})."
    )


def _make_grid(
    file_name: str, sheet: str, raw: list[list[object]], merged: list, budget: _Budget
) -> Grid:
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
        raise _damaged(file_name, f"工作表“{sheet}”的合并单元格相互重叠 / overlapping merges")
    rows: list[list[object]] = raw  # the reader's own lists: emptied cells become None
    for r in rows:
        empty = r.count("")  # C-speed scans: the count, then each empty text's place
        if empty:
            at = -1
            for _ in range(empty):
                at = r.index("", at + 1)
                r[at] = None
    while len(rows) < height:
        rows.append([])
    for r in rows:
        if len(r) < width:
            r.extend([None] * (width - len(r)))
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


def decode_text(file_name: str, data: bytes) -> str:
    """Decodes CSV bytes strictly: UTF-8 (BOM or not), UTF-16 with BOM, else GB18030.

    GB18030 decodes nearly any bytes, Big5 and Shift-JIS among them, into other characters:
    text decoded that way is refused when too much of it is outside what a Chinese
    register holds (``_MOJIBAKE``), with the encoding it more likely is.

    Raises
    ------
    ReadError
        When no encoding decodes every byte, or GB18030 gives mojibake: nothing is dropped
        or replaced silently.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        encodings = ["utf-8-sig"]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings = ["utf-16"]
    else:
        encodings = ["utf-8", "gb18030"]
    last: UnicodeDecodeError | None = None
    for enc in encodings:
        try:
            text = data.decode(enc, errors="strict")
        except UnicodeDecodeError as e:
            last = e
            continue
        if enc == "gb18030":
            _refuse_mojibake(file_name, data, text)
        return text
    pos = last.start if last else 0
    raise ReadError(
        f"{file_name}：无法识别文字编码（第 {pos} 字节起既不是 UTF-8 也不是 GB18030），"
        "请用 Excel 另存为“CSV UTF-8”或直接上传 Excel 文件。"
        f" / {file_name}: undecodable text at byte {pos}: neither UTF-8 nor GB18030."
    )


# What a GB18030/GBK register holds besides ASCII: CJK punctuation and symbols, full-width
# forms, Latin-1 signs (× ° ·), general punctuation, letterlike and number forms (℃ № Ⅱ),
# arrows and mathematical signs (√ ≤), enclosed numbers (①), geometric shapes (○ ■), CJK
# compatibility units (㎡), and the Han characters of GB 2312 (the 6,763 in common use).
# Anything else (kana, Greek, Cyrillic, box drawing, private use, Hangul, rare Han) in a
# large share of the text is mojibake: Big5 or Shift-JIS bytes read as GB18030.
_EXPECTED_SIGNS = re.compile(
    "[\u00a0-\u00ff\u2010-\u205e\u2100-\u22ff\u2460-\u24ff\u25a0-\u25ff"
    "\u3000-\u303f\u3300-\u33ff\uff00-\uffef]"
)
_HAN = re.compile("[\u4e00-\u9fff]")
_MOJIBAKE_SHARE = 0.2  # of the non-ASCII characters
_MOJIBAKE_MIN = 3  # characters
_MOJIBAKE_SAMPLE = 200_000  # characters looked at, from the start
# Encodings a Chinese office's CSV may be in that GB18030 decodes without an error.
_OTHER_ENCODINGS = ["gb18030", "big5", "shift_jis", "euc_kr", "euc_jp"]
_ENCODING_NAMES = {
    "big5": ("Big5（繁体中文）", "Big5 (traditional Chinese)"),
    "cp950": ("Big5（繁体中文）", "Big5 (traditional Chinese)"),
    "big5hkscs": ("Big5（繁体中文）", "Big5 (traditional Chinese)"),
    "shift_jis": ("Shift-JIS（日文）", "Shift-JIS (Japanese)"),
    "cp932": ("Shift-JIS（日文）", "Shift-JIS (Japanese)"),
    "euc_jp": ("EUC-JP（日文）", "EUC-JP (Japanese)"),
    "euc_kr": ("EUC-KR（韩文）", "EUC-KR (Korean)"),
}


def _refuse_mojibake(file_name: str, data: bytes, text: str) -> None:
    """Refuses ``text`` (``data`` decoded as GB18030) when it is mostly characters a Chinese
    register does not hold and charset-normalizer finds another encoding likelier."""
    sample = text[:_MOJIBAKE_SAMPLE]
    rest = re.sub(r"[\x00-\x7f]+", "", _EXPECTED_SIGNS.sub("", sample))
    if not rest:
        return
    odd = [ch for ch in rest if not _HAN.match(ch) or not _in_gb2312(ch)]
    non_ascii = len(re.sub(r"[\x00-\x7f]+", "", sample))
    if len(odd) < _MOJIBAKE_MIN or len(odd) < _MOJIBAKE_SHARE * non_ascii:
        return
    from charset_normalizer import from_bytes

    best = from_bytes(data[: 4 * _MOJIBAKE_SAMPLE], cp_isolation=_OTHER_ENCODINGS).best()
    guess = best.encoding if best is not None else None
    if guess is None or guess.startswith("gb"):
        return  # more likely GB18030 after all (rare characters, traditional text in GBK)
    zh, en = _ENCODING_NAMES.get(guess, (guess, guess))
    shown = "".join(dict.fromkeys(odd))[:8]
    raise ReadError(
        f"{file_name}：文字编码看起来是 {zh}，不是 UTF-8 或 GB18030（GBK）；按 GB18030 读出的是乱码"
        f"（如“{shown}”），已拒绝。请用 Excel 或记事本另存为“CSV UTF-8”后再上传。"
        f" / {file_name}: the text looks like {en}, not UTF-8 or GB18030 (GBK); read as "
        f"GB18030 it is mojibake (e.g. '{shown}'), so it was refused. Save it as 'CSV UTF-8' "
        "and upload that."
    )


def _in_gb2312(ch: str) -> bool:
    try:
        ch.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def _read_csv(file_name: str, data: bytes, budget: _Budget) -> Grid:
    text = decode_text(file_name, data)
    sample = text[:8192]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, ",\t;")
    except csv.Error:
        # Sniffing fails on ragged files (a one-cell title line): take the commoner separator.
        dialect = csv.excel_tab if sample.count("\t") > sample.count(",") else csv.excel
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
        raise ReadError(
            f"{file_name}：CSV 格式错误（第 {reader.line_num} 行附近，多为引号不成对）：{e}"
            f" / {file_name}: malformed CSV near line {reader.line_num} (often an unmatched"
            f" quote): {e}"
        ) from e
    return _make_grid(file_name, "CSV", raw, [], budget)


# ------------------------------------------------------------- hostile files
CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _preflight(file_name: str, data: bytes, limits: Limits) -> None:
    """Refuses a workbook before calamine parses it when it would not fit the limits.

    Only two containers reach calamine: an OLE compound file (.xls) and a zip
    (.xlsx/.xlsm). Anything else is refused here, so calamine never guesses a format.
    """
    if data.startswith(CFB_MAGIC):
        _check_cfb(file_name, data, limits)
    elif data.startswith(b"PK") or b"PK\x05\x06" in data[-(66 * 1024) :]:
        _check_zip(file_name, data, limits)
    else:
        raise _damaged(file_name, "不是 Excel 工作簿 / not an Excel workbook")


def _check_zip(file_name: str, data: bytes, limits: Limits) -> None:
    """Zip bomb and shape checks of an .xlsx/.xlsm, from its directory and then by inflating
    every entry with a bounded decompressor (declared sizes are not trusted)."""
    try:
        infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as e:
        raise _damaged(file_name, e) from e
    if len(infos) > MAX_ZIP_ENTRIES:
        raise _bomb(file_name, f"{len(infos):,} 个条目 / {len(infos):,} entries")
    names = {i.filename.lower().lstrip("/") for i in infos}
    if names & {"content.xml", "xl/workbook.bin"}:
        raise ReadError(
            f"{file_name}：这是 OpenDocument（.ods）或 Excel 二进制（.xlsb）工作簿，"
            "请在 Excel 或 WPS 中另存为 .xlsx 后再上传。"
            f" / {file_name}: an OpenDocument (.ods) or binary (.xlsb) workbook; save it as "
            ".xlsx and upload that."
        )
    declared = sum(i.file_size for i in infos)
    if declared > limits.unzipped_bytes:
        raise _bomb(
            file_name,
            f"解压后共 {_mb(declared)}，超过上限 {_mb(limits.unzipped_bytes)}"
            "（环境变量 POVERTY_MAX_UNZIPPED_MB）",
            f"{_mb(declared)} uncompressed, over the limit of {_mb(limits.unzipped_bytes)} "
            "(POVERTY_MAX_UNZIPPED_MB)",
        )
    for info in infos:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > RATIO_MIN_ENTRY_BYTES and ratio > limits.zip_ratio:
            raise _bomb(
                file_name,
                f"条目 {info.filename} 压缩比 {ratio:,.0f}:1，超过上限 {limits.zip_ratio}:1"
                "（环境变量 POVERTY_MAX_ZIP_RATIO）",
                f"entry {info.filename} has a compression ratio of {ratio:,.0f}:1, over the "
                f"limit of {limits.zip_ratio}:1 (POVERTY_MAX_ZIP_RATIO)",
            )
    budget = _Budget(limits)
    for info in infos:
        scan = None
        if info.file_size >= _THREADED_SCAN_BYTES:
            scan = _scan_threaded(file_name, data, info, budget)
        if scan is None:  # small, unusual or refused: the plain scan decides
            scan = _XmlScan(file_name, info, budget)
            for chunk in _inflate(file_name, data, info):
                scan.feed(chunk)
        scan.close()


_THREADED_SCAN_BYTES = 4 * MB  # a zip entry at least this large is scanned in threads
_SCAN_AHEAD = 3  # stretches being scanned in threads at a time


def _scan_threaded(
    file_name: str, data: bytes, info: zipfile.ZipInfo, budget: _Budget
) -> _XmlScan | None:
    """``_XmlScan.feed`` over every chunk of an entry, with the numpy scan of each chunk's
    whole rows (``_plain_rows``, which releases the GIL) running in two worker threads
    while this one inflates the next chunks (zlib releases it too).

    The chunks are cut and tagged exactly as ``feed`` cuts and tags them when every
    numpy scan succeeds; so the result is the same. Returns None, after scanning nothing
    more, as soon as one numpy scan gives up (an unusual stretch) or anything raises (a
    refusal, damage): the caller then scans the entry again with ``feed``, which gives the
    same result, or refuses it with the same error, as it always did.
    """
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    scan = _XmlScan(file_name, info, budget)
    pending: deque = deque()  # (future of _plain_rows or None, the regex's tags after it)

    def settle() -> bool:
        future, tags = pending.popleft()
        if future is not None:
            found = future.result()
            if found is None:
                return False
            scan._merge(found)
        for tag in tags:
            scan._tag(*tag)
        return True

    with ThreadPoolExecutor(max_workers=2) as pool:
        try:
            for chunk in _inflate(file_name, data, info):
                buf = scan.carry + chunk
                cut = buf.rfind(b"<row ")
                future = pool.submit(_plain_rows, buf, cut) if cut > 0 else None
                done = max(cut, 0)
                tags = []
                for m in _XmlScan.TAG.finditer(buf, done):
                    tags.append((m.group(1), m.group(2), bool(m.group(3))))
                    done = m.end()
                pending.append((future, tags))
                rest = buf.rfind(b"<", done)
                scan.carry = buf[rest:] if rest >= 0 else b""
                if len(scan.carry) > MAX_TAG_BYTES:
                    if _XmlScan.START.match(scan.carry):
                        return None  # refused: feed says why
                    scan.carry = b""
                while len(pending) >= _SCAN_AHEAD:
                    if not settle():
                        return None
            while pending:
                if not settle():
                    return None
        except Exception:
            return None
        finally:
            for future, _ in pending:
                if future is not None:
                    future.cancel()
    return scan


def _bomb(file_name: str, zh: str, en: str | None = None) -> LimitError:
    return LimitError(
        f"{file_name}：疑似压缩炸弹，已拒绝（{zh}）。"
        f" / {file_name}: refused as a likely zip bomb ({en or zh})."
    )


_INFLATE_IN = 64 * 1024
_INFLATE_OUT = 1024 * 1024


def _inflate(file_name: str, data: bytes, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """The entry's bytes in chunks, never more than its declared size (a lying header is
    refused as soon as the output passes what it declared)."""
    if info.flag_bits & 0x1:
        raise _password(file_name)
    off = info.header_offset
    head = data[off : off + 30]
    if len(head) < 30 or head[:4] != b"PK\x03\x04":
        raise _damaged(file_name, f"条目 {info.filename} 的本地文件头缺失 / bad local header")
    name_len, extra_len = struct.unpack("<HH", head[26:30])
    start = off + 30 + name_len + extra_len
    body = memoryview(data)[start : start + info.compress_size]
    if len(body) < info.compress_size:
        raise _damaged(file_name, f"条目 {info.filename} 被截断 / entry {info.filename} cut off")
    produced = 0

    def count(out: bytes) -> bytes:
        nonlocal produced
        produced += len(out)
        if produced > info.file_size:
            raise _bomb(
                file_name,
                f"条目 {info.filename} 解压后超过其声明的大小 {info.file_size:,} 字节",
                f"entry {info.filename} inflates beyond its declared {info.file_size:,} bytes",
            )
        return out

    if info.compress_type == zipfile.ZIP_STORED:
        for i in range(0, len(body), _INFLATE_OUT):
            yield count(bytes(body[i : i + _INFLATE_OUT]))
        return
    if info.compress_type != zipfile.ZIP_DEFLATED:
        raise _damaged(
            file_name, f"不支持的压缩方式 {info.compress_type} / compression {info.compress_type}"
        )
    d = zlib.decompressobj(-15)
    pos = 0
    try:
        while not d.eof:
            if d.unconsumed_tail:
                out = d.decompress(d.unconsumed_tail, _INFLATE_OUT)
            elif pos < len(body):
                out = d.decompress(body[pos : pos + _INFLATE_IN], _INFLATE_OUT)
                pos += _INFLATE_IN
            else:
                out = d.decompress(b"", _INFLATE_OUT)
                if not out:
                    break
            if out:
                yield count(out)
    except zlib.error as e:
        raise _damaged(file_name, e) from e


def _check_cfb(file_name: str, data: bytes, limits: Limits) -> None:
    """Checks an OLE compound file (.xls) the way calamine will read it: the Workbook
    stream's records from the start, then each sheet's from its BoundSheet offset.

    Refuses an encrypted workbook, a stream without a workbook, a shared-string table that
    declares more strings than the stream can hold, a DIMENSIONS record or cells spanning
    more rows or cells than the limits allow.
    """
    import olefile  # only .xls needs it

    try:
        ole = olefile.OleFileIO(io.BytesIO(data))
        entries = ole.listdir(streams=True, storages=False)
        if any(e[-1].lower() == "encryptedpackage" for e in entries):
            raise _password(file_name)
        books = [e for e in entries if len(e) == 1 and e[0].lower() in ("workbook", "book")]
        if not books:
            raise _damaged(file_name, "没有 Workbook 数据流 / no Workbook stream")
        streams = [ole.openstream(e).read() for e in books]
    except ReadError:
        raise
    except Exception as e:  # olefile raises many kinds on a damaged container
        raise _damaged(file_name, e) from e
    budget = _Budget(limits)
    for stream in streams:
        _scan_biff(file_name, stream, budget)


_BIFF_CELLS = frozenset({0x0201, 0x0203, 0x0204, 0x0205, 0x027E, 0x00FD, 0x0006, 0x00D6})
_BIFF_MULTI = frozenset({0x00BD, 0x00BE})  # MULRK, MULBLANK: row, first col, ..., last col


def _biff_records(stream: bytes, pos: int) -> Iterator[tuple[int, bytes]]:
    while pos + 4 <= len(stream):
        typ, size = struct.unpack_from("<HH", stream, pos)
        yield typ, stream[pos + 4 : pos + 4 + size]
        pos += 4 + size


def _scan_biff(file_name: str, stream: bytes, budget: _Budget) -> None:
    sheets: list[int] = []
    for typ, body in _biff_records(stream, 0):
        if typ == 0x0085 and len(body) >= 4:  # BoundSheet8: where the sheet's records start
            sheets.append(struct.unpack_from("<I", body)[0])
        elif typ == 0x00FC and len(body) >= 8:  # SST: strings reserved up front
            (count,) = struct.unpack_from("<i", body, 4)
            if count < 0 or count > len(stream) // 3 + 1:
                raise _damaged(
                    file_name, f"共享字符串声明 {count} 条 / declares {count} shared strings"
                )
        elif typ == 0x000A:  # EOF of the globals
            break
    for n, start in enumerate(sheets, start=1):
        label = f"#{n}"
        rows_seen: list[int] = []
        cols_seen: list[int] = []
        for typ, body in _biff_records(stream, start):
            if typ == 0x000A:
                break
            if typ == 0x0200:  # DIMENSIONS: calamine reserves rows x columns at once
                if len(body) == 14:
                    rf, rl = struct.unpack_from("<II", body)
                    cf, cl = struct.unpack_from("<HH", body, 8)
                elif len(body) == 10:
                    rf, rl, cf, cl = struct.unpack_from("<HHHH", body)
                else:
                    continue
                if rl >= 1 and cl >= 1:
                    if rl <= rf or cl <= cf:
                        raise _damaged(file_name, "DIMENSIONS 记录无效 / bad DIMENSIONS record")
                    _Budget(budget.limits).take(file_name, label, rl - rf, cl - cf)
            elif typ in _BIFF_CELLS and len(body) >= 4:
                r, c = struct.unpack_from("<HH", body)
                rows_seen.append(r)
                cols_seen.append(c)
            elif typ in _BIFF_MULTI and len(body) >= 6:
                r, c0 = struct.unpack_from("<HH", body)
                (c1,) = struct.unpack_from("<H", body, len(body) - 2)
                rows_seen.append(r)
                cols_seen.extend((c0, c1))
        if rows_seen:
            rows = max(rows_seen) - min(rows_seen) + 1
            cols = max(cols_seen) - min(cols_seen) + 1
            budget.take(file_name, label, rows, cols)


class _XmlScan:
    """Streams one zip entry's XML and finds what calamine would allocate for it.

    For a worksheet: the rows x columns between its first and last non-empty cell (calamine
    allocates that whole rectangle at once), rows taken from ``<row r>``, cells from
    ``<c r>`` (or their position when ``r`` is missing). For shared strings: the
    ``uniqueCount`` it declares (calamine reserves that many strings up front). Tags inside
    comments are counted too (a conservative error). Any entry is scanned, whatever its name.
    """

    TAG = re.compile(
        rb"<(?:[A-Za-z_][\w.\-]*:)?(c|row|sst)(?=[\s/>])"
        rb"((?:[^>\"']++|\"[^\"]*+\"|'[^']*+')*+)>(\s*</(?:[A-Za-z_][\w.\-]*:)?c\s*>)?"
    )
    START = re.compile(rb"<(?:[A-Za-z_][\w.\-]*:)?(?:c|row|sst)(?:[\s/>]|$)")
    REF = re.compile(rb"(?:^|\s)r\s*=\s*[\"']\s*([A-Za-z]*)(\d*)\s*[\"']")
    UNIQUE = re.compile(rb"(?:^|\s)uniqueCount\s*=\s*[\"']\s*(\d+)\s*[\"']")

    def __init__(self, file_name: str, info: zipfile.ZipInfo, budget: _Budget) -> None:
        self.file_name, self.info, self.budget = file_name, info, budget
        self.carry = b""
        self.row = -1
        self.col = -1
        self.min_row = self.min_col = None
        self.max_row = self.max_col = -1

    def feed(self, chunk: bytes) -> None:
        buf = self.carry + chunk
        done = self._fast(buf)
        for m in self.TAG.finditer(buf, done):
            self._tag(m.group(1), m.group(2), bool(m.group(3)))
            done = m.end()
        rest = buf.rfind(b"<", done)
        self.carry = buf[rest:] if rest >= 0 else b""
        if len(self.carry) > MAX_TAG_BYTES:
            if self.START.match(self.carry):
                raise _damaged(
                    self.file_name, f"条目 {self.info.filename} 中有超长标签 / overlong tag"
                )
            self.carry = b""

    # A namespace prefix on a cell, row or shared-string tag: left to the regex.
    PREFIXED = re.compile(rb"<[A-Za-z_][\w.\-]*:(?:c|row|sst)[\s/>]|:c[\s/>]")

    def _fast(self, buf: bytes) -> int:
        """Scans the whole rows at the start of ``buf`` (up to its last ``<row ``) with
        numpy (``_plain_rows``), as ``_tag`` would tag by tag; returns where the regex scan
        should go on (0: all left to the regex)."""
        cut = buf.rfind(b"<row ")
        if cut <= 0:
            return 0
        found = _plain_rows(buf, cut)
        if found is None:
            return 0
        self._merge(found)
        return cut

    def _merge(self, found: tuple) -> None:
        """Takes in what ``_plain_rows`` found in a stretch of whole rows."""
        box, last_row, last_col = found
        if box is not None:
            lo_r, hi_r, lo_c, hi_c = box
            self.min_row = lo_r if self.min_row is None else min(self.min_row, lo_r)
            self.min_col = lo_c if self.min_col is None else min(self.min_col, lo_c)
            self.max_row = max(self.max_row, hi_r)
            self.max_col = max(self.max_col, hi_c)
        if last_row is not None:
            self.row = last_row
            self.col = -1
        if last_col is not None:
            self.col = last_col

    def close(self) -> None:
        if self.min_row is None or self.min_col is None:
            return
        rows = self.max_row - self.min_row + 1
        cols = self.max_col - self.min_col + 1
        self.budget.take(self.file_name, self.info.filename, rows, cols)

    def _tag(self, name: bytes, attrs: bytes, closed_at_once: bool) -> None:
        if name == b"sst":
            m = self.UNIQUE.search(attrs)
            # Every <si/> takes at least 5 bytes of XML: a larger count is a lie.
            if m and (len(m.group(1)) > 15 or int(m.group(1)) > self.info.file_size // 5 + 1):
                raise _damaged(
                    self.file_name,
                    f"共享字符串声明 {m.group(1).decode()} 条 / declares "
                    f"{m.group(1).decode()} shared strings",
                )
            return
        m = self.REF.search(attrs)
        letters, digits = (m.group(1), m.group(2)) if m else (b"", b"")
        if len(letters) > 7 or len(digits) > 12:
            raise _damaged(self.file_name, "单元格地址越界 / cell reference out of range")
        if name == b"row":
            self.row = int(digits) - 1 if digits else self.row + 1
            self.col = -1
            return
        row = int(digits) - 1 if digits else max(self.row, 0)
        if letters:
            col = 0
            for ch in letters.upper():
                col = col * 26 + ch - 64
            col -= 1
        else:
            col = self.col + 1
        self.col = col
        if attrs.rstrip().endswith(b"/") or closed_at_once:
            return  # an empty cell: calamine keeps no value for it
        self.min_row = row if self.min_row is None else min(self.min_row, row)
        self.min_col = col if self.min_col is None else min(self.min_col, col)
        self.max_row = max(self.max_row, row)
        self.max_col = max(self.max_col, col)


def _plain_rows(buf: bytes, cut: int) -> tuple | None:
    """What ``_XmlScan._tag`` would find in ``buf[:cut]``, a stretch of whole rows, found
    with numpy: (the rows x columns box of its non-empty cells (0-based; None when it has
    none), the row of its last ``<row>`` tag (None without one), the column of its last
    cell when that comes after the last ``<row>`` tag (else None)). A pure function (numpy
    releases the GIL: stretches can be scanned in threads).

    Returns None (all left to the regex) unless every tag there is a plain
    ``<row r="N" ...>`` or ``<c r="A1" ...>`` with double-quoted attributes: no other
    tag named c, row or sst, no namespace prefix, no single quote, no comment, CDATA or
    DOCTYPE, no white space before a tag's ">" or right after it, no cell tag longer
    than 40 bytes after its reference.
    """
    if buf.find(b"'", 0, cut) >= 0 or (
        buf.find(b":", 0, cut) >= 0 and _XmlScan.PREFIXED.search(buf, 0, cut)
    ):
        return None
    a = np.zeros(8 + cut + 64, dtype=np.uint8)  # 8 bytes before: see _refs
    a[8 : 8 + cut] = np.frombuffer(buf, dtype=np.uint8, count=cut)
    w = np.ndarray((len(a) - 7,), "<u8", a, 0, (1,))  # the 8 bytes at every offset
    lt = np.flatnonzero(a == 60)
    # Only tags starting "<c", "<r", "<s" or "<!" can be a cell, a row, "<sst" or odd:
    # the others ("</c>", "<v>", "<is>", "<t>" ...) are dropped before the 8-byte reads.
    b1 = a[lt + 1]
    lt = lt[(b1 == 99) | (b1 == 114) | (b1 == 115) | (b1 == 33)]
    word = w[lt]
    h = _rows_of(word)  # h[k]: the k-th byte of every tag (contiguous: fast numpy)
    is_cell = (h[1] == 99) & (h[2] == 32)
    is_row = (h[1] == 114) & (h[2] == 111) & (h[3] == 119)
    odd = (h[1] == 33) | ((h[1] == 99) & _odd_end(h[2])) | (is_row & _odd_end(h[4]))
    odd |= (h[1] == 115) & (h[2] == 115) & (h[3] == 116)  # "<sst"
    cells = lt[is_cell & ((word & 0xFFFFFFFFFFFF) == _CELL_TAG)]
    row_tags = is_row & (h[4] == 32)
    rows = lt[row_tags & (word == _ROW_TAG)]
    if odd.any() or len(cells) != is_cell.sum() or len(rows) != row_tags.sum():
        return None
    letters, cell_rows, quote = _refs(w, cells + 6, 3)
    no_letters, row_nums, _ = _refs(w, rows + 8, 0)
    if letters is None or no_letters is None:
        return None
    # A tag ends at the first ">" after its reference outside quotes (an even count of
    # quotes between); the byte before tells a self-closing tag, the next four "</c>".
    gts = np.flatnonzero(a == 62)
    at = np.searchsorted(gts, quote)
    if len(cells) and at[-1] >= len(gts):
        return None
    gt = gts[at]
    qs = np.flatnonzero(a == 34)
    inside = np.searchsorted(qs, gt) - np.searchsorted(qs, quote, side="right")
    t = _rows_of(w[gt - 1])
    before, after = t[0], t[2:6]
    if (inside % 2).any() or _space(before).any() or _space(after[0]).any():
        return None
    end_tag = (after[0] == 60) & (after[1] == 47) & (after[2] == 99)
    closed = end_tag & (after[3] == 62)
    if (end_tag & ~closed).any():
        return None
    full = ~((before == 47) | closed)
    box = None
    if full.any():
        r = cell_rows[full] - 1
        c = letters[full] - 1
        box = int(r.min()), int(r.max()), int(c.min()), int(c.max())
    last_row = int(rows[-1]) if len(rows) else -1
    last_col = None
    if len(cells) and int(cells[-1]) > last_row:
        last_col = int(letters[-1]) - 1
    return box, (int(row_nums[-1]) - 1 if len(rows) else None), last_col


_CELL_TAG = int.from_bytes(b'<c r="', "little")
_ROW_TAG = int.from_bytes(b'<row r="', "little")


def _rows_of(words: np.ndarray) -> np.ndarray:
    """8 x n bytes: row k holds byte k of every 8-byte word (contiguous rows)."""
    return np.ascontiguousarray(words.view(np.uint8).reshape(-1, 8).T)


def _odd_end(x: np.ndarray) -> np.ndarray:
    """A tab, a line break, "/" or ">" right after a tag name."""
    return (x == 9) | (x == 10) | (x == 13) | (x == 47) | (x == 62)


def _space(x: np.ndarray) -> np.ndarray:
    return (x == 9) | (x == 10) | (x == 13) | (x == 32)


def _refs(w: np.ndarray, starts: np.ndarray, max_letters: int):
    """Cell references at ``starts`` (``w``: the 8 bytes at every offset): 1 to
    ``max_letters`` capital letters (none for a row), 1 to 7 digits, then a double quote.
    Returns (column numbers from 1 (0 for rows), row numbers, positions of the closing
    quotes), or Nones when any reference is not so."""
    n = len(starts)
    m = np.concatenate([_rows_of(w[starts]), _rows_of(w[starts + 8])])  # 16 x n
    n_letters = np.zeros(n, np.int64)
    if max_letters:
        run = np.ones(n, bool)
        for k in range(max_letters + 1):
            run &= (m[k] >= 65) & (m[k] <= 90)
            n_letters += run
    run = np.ones(n, bool)
    end = n_letters.copy()
    for k in range(12):
        here = n_letters <= k
        run &= ~here | ((m[k] >= 48) & (m[k] <= 57))
        end += here & run
    n_digits = end - n_letters
    ok = (n_digits >= 1) & (n_digits <= 7) & (m[end, np.arange(n)] == 34)
    if max_letters:
        ok &= (n_letters >= 1) & (n_letters <= max_letters)
    if not ok.all():
        return None, None, None
    quote = starts + end
    # The 8 bytes before the quote end with the digits.
    d = _rows_of(w[quote - 8]).astype(np.int64) - 48
    num = np.zeros(n, np.int64)
    for k in range(8):
        num = np.where(8 - n_digits <= k, num * 10 + d[k], num)
    col = np.zeros(n, np.int64)
    if max_letters:
        x = m[:3].astype(np.int64) - 64
        col = np.where(n_letters == 1, x[0], x[0] * 26 + x[1])
        col = np.where(n_letters == 3, col * 26 + x[2], col)
    return col, num, quote


def _text(v: object) -> str:
    return "" if v is None else str(v).strip()


def _match_row(row: list[object], lookup: dict[str, str]) -> dict[int, str]:
    out: dict[int, str] = {}
    for c, v in enumerate(row):
        if isinstance(v, str):
            key = lookup.get(schema.header_key(v))
            if key is not None:
                out[c] = key
    return out


def _candidate(grid: Grid, table: schema.Table, r: int, lookup: dict[str, str]):
    """The header that starts at row r: one row, or two when row r+1 holds sub-headers."""
    top = _match_row(grid.rows[r], lookup)
    if not top:
        return None
    sub = _match_row(grid.rows[r + 1], lookup) if r + 1 < len(grid.rows) else {}
    two_rows = any(c not in top for c in sub)
    columns = dict(top)
    if two_rows:
        columns.update(sub)
    return columns, ((r, r + 1) if two_rows else (r,))


def locate(
    grid: Grid, spellings: schema.Spellings = schema.NO_SPELLINGS
) -> LocatedTable | SheetNote:
    """Finds the table in a grid: the header row(s) and the field of each column.

    Each table kind of ``schema.TABLES`` is tried on every row among the first
    ``HEADER_SCAN_ROWS``; the kind and row whose header matches most fields (and holds one of
    the kind's signatures, and none of its forbidden fields) wins; ties go to the earliest
    row, then the higher priority. Headers are looked up with ``schema.header_lookup`` and
    the office's confirmed ``spellings``. Each header left unused gets the field it most
    likely means, if any (``LocatedTable.proposals``). Returns a ``SheetNote`` when nothing
    fits.
    """
    if not any(any(v is not None for v in r) for r in grid.rows):
        return SheetNote(grid.file, grid.sheet, "空工作表", "empty sheet")
    best = None
    for table in schema.TABLES.values():
        lookup = schema.header_lookup(table, spellings)
        for r in range(min(HEADER_SCAN_ROWS, len(grid.rows))):
            cand = _candidate(grid, table, r, lookup)
            if cand is None:
                continue
            columns, header_rows = cand
            keys = set(columns.values())
            if keys & table.forbidden or not any(s <= keys for s in table.signatures):
                continue
            score = (len(keys), -r, table.priority)
            if best is None or score > best[0]:
                best = (score, table, columns, header_rows)
    if best is None:
        return SheetNote(
            grid.file,
            grid.sheet,
            "前 40 行中找不到可识别的表头（需要如“户编号+家庭人口数”“参会人数+会议日期”"
            "“户编号+住房面积”“行政村+乡村人口”等列）",
            "no recognisable header in the first 40 rows (needs columns such as "
            "户编号+家庭人口数, 参会人数+会议日期, 户编号+住房面积 or 行政村+乡村人口)",
        )
    _, table, columns, header_rows = best
    return _finish(grid, table, columns, header_rows, spellings)


def _finish(
    grid: Grid,
    table: schema.Table,
    columns: dict[int, str],
    header_rows: tuple[int, ...],
    spellings: schema.Spellings,
) -> LocatedTable:
    kept: dict[int, str] = {}
    duplicates: list[str] = []
    headers: dict[int, str] = {}
    for c in sorted(columns):
        text = _header_text(grid, header_rows, c)
        if columns[c] in kept.values():
            duplicates.append(text)
            continue
        kept[c] = columns[c]
        headers[c] = text
    unused = []
    for c in range(grid.width):
        if c in kept or c in columns:
            continue
        text = _header_text(grid, header_rows, c)
        if text and schema.header_key(text) not in schema.GROUP_HEADERS:
            unused.append(text)
    top = header_rows[0]
    title_township = None
    for r in range(top):
        for v in grid.rows[r]:
            if isinstance(v, str):
                township = township_from_title(v)
                if township:
                    title_township = township
                    break
        if title_township:
            break
    return LocatedTable(
        grid=grid,
        table=table,
        header_rows=header_rows,
        columns=kept,
        headers=headers,
        data_start=header_rows[-1] + 1,
        title_township=title_township,
        unused_headers=list(dict.fromkeys(unused)),
        duplicate_headers=duplicates,
        proposals=_proposals(table, dict.fromkeys(unused), set(kept.values())),
        spellings=spellings,
    )


def _proposals(table: schema.Table, headers: Iterable[str], taken: set[str]) -> dict[str, str]:
    """Unused header -> the field it most likely means; each field proposed once, to the
    header most like it (two headers may look like one missing field)."""
    best: dict[str, tuple[float, str]] = {}
    for header in headers:
        key = schema.propose(table, header, taken)
        if key is None:
            continue
        score = schema.similarity(table.by_key[key], header)
        if key not in best or score > best[key][0]:
            best[key] = (score, header)
    return {header: key for key, (_, header) in best.items()}


def _header_text(grid: Grid, header_rows: tuple[int, ...], c: int) -> str:
    parts = [_text(grid.rows[r][c]) for r in header_rows]
    parts = [p for i, p in enumerate(parts) if p and p not in parts[:i]]
    return "/".join(parts)


def township_from_title(text: str) -> str | None:
    """The township a title or 填报单位 line names: "凤庆县诗礼乡2017年…" -> "诗礼乡".

    Returns None when the text names none. The county part before 县/市/区/州 is dropped.
    """
    for m in schema.TITLE_TOWNSHIP_PATTERN.finditer(text.replace(" ", "")):
        name = m.group(1)
        for sep in ("省", "州", "市", "县", "区", "："):
            name = name.rsplit(sep, 1)[-1]
        if name not in schema.GENERIC_TOWNSHIP_WORDS and not name.endswith("乡镇"):
            return name
    return None
