"""The hostile-file guard: the checks before any parser sees a file's bytes.

The first line of defence (the parse worker, analytics/importing/worker.py, is the second):
cheap, bounded, in Python. A file is refused, before it is parsed, when its suffix is not
one the importer reads; when it is over the size limit; when an Excel name holds an HTML
page. A workbook must be a zip (.xlsx/.xlsm) or an OLE compound file (.xls): a zip whose
directory exceeds the unzipped-size or compression-ratio limit, or an entry that inflates
past its declared size (every entry is inflated with ``zipfile``, bounded); a sheet whose
cells would span more rows or cells than the limits allow (calamine allocates rows x
columns at once, so one far-away cell in a tiny file would otherwise exhaust memory and
abort the process); shared-string or dimension records that declare absurd counts.

The limits are ``config.Limits``; ``Budget`` counts rows and cells against them, here and
while the sheets are read (analytics/importing/sheets.py).
"""

from __future__ import annotations

import copy
import io
import os
import re
import struct
import zipfile
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import PurePath

import numpy as np

from analytics.domain import config
from analytics.domain.config import Limits
from analytics.domain.labels import Both, texts
from analytics.importing.results import (
    MB,
    LimitError,
    ReadError,
    damaged,
    password_protected,
    size_text,
)

EXCEL_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xls"})
CSV_SUFFIXES = frozenset({".csv", ".txt"})
CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an OLE compound file (.xls)
RATIO_MIN_ENTRY_BYTES = MB  # the ratio limit applies to zip entries larger than this
MAX_ZIP_ENTRIES = 10_000
MAX_TAG_BYTES = MB  # a cell, row or shared-string tag longer than this is refused


def check_file(file_name: str, data: bytes, limits: Limits) -> None:
    """The checks before any parser sees the bytes: the suffix, the size limit, what the
    content is (a zip or OLE workbook, an HTML page under an Excel name, else text), and
    for a workbook its container and the shape of its sheets (``_preflight``: zip bombs,
    far-away cells, lying counts).

    Parameters
    ----------
    file_name : the name as uploaded; its suffix must be one the importer reads.
    data : the file's bytes.
    limits : what the file may hold (``config.limits()``).

    Raises
    ------
    ReadError
        An unsupported suffix, an HTML page with an Excel name, a damaged or
        password-protected workbook, an .ods or .xlsb.
    LimitError
        (a ReadError) A file over a limit, a zip bomb, or a sheet spanning too many cells.
    """
    suffix = PurePath(file_name).suffix.lower()
    if suffix not in EXCEL_SUFFIXES and suffix not in CSV_SUFFIXES:
        none = texts("msg_no_suffix")
        shown = Both(suffix or none.zh, suffix or none.en)
        raise ReadError.of("msg_unsupported_type", file=file_name, suffix=shown)
    check_size(file_name, len(data), limits)
    # The content decides, not the name: clerks rename files (a workbook saved as .csv,
    # a CSV renamed .xlsx). Zip (.xlsx/.xlsm) and OLE (.xls) containers are workbooks.
    if is_workbook(data):
        _preflight(file_name, data, limits)
    elif suffix in EXCEL_SUFFIXES and _looks_like_html(data):
        raise ReadError.of("msg_html_page", file=file_name)


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
    """Refuses a file of ``size`` bytes when it is over ``limits.file_bytes`` (default:
    ``config.limits()``).

    Raises
    ------
    LimitError
    """
    limits = limits or config.limits()
    if size > limits.file_bytes:
        raise LimitError.of(
            "msg_file_too_large",
            file=file_name,
            size=size_text(size),
            limit=size_text(limits.file_bytes),
            var=config.MAX_FILE_ENV,
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
    limits = limits or config.limits()
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


class Budget:
    """Rows and cells a file may still use while its sheets are checked or read.

    Parameters
    ----------
    limits : ``rows`` per sheet, ``cells`` per file (all sheets, rows x columns).
    """

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.cells = 0

    def take(self, file_name: str, sheet: str, rows: int, cols: int) -> None:
        """Counts a sheet of ``rows`` x ``cols``.

        Raises
        ------
        LimitError
            When the sheet has more rows, or the file more cells, than the limits allow.
        """
        if rows > self.limits.rows:
            raise LimitError.of(
                "msg_too_many_rows",
                file=file_name,
                sheet=sheet,
                rows=rows,
                limit=self.limits.rows,
                var=config.MAX_ROWS_ENV,
            )
        self.cells += rows * cols
        if self.cells > self.limits.cells:
            raise LimitError.of(
                "msg_too_many_cells",
                file=file_name,
                cells=self.cells,
                sheet=sheet,
                rows=rows,
                cols=cols,
                limit=self.limits.cells,
                var=config.MAX_CELLS_ENV,
            )


# ------------------------------------------------------------- hostile files
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
        raise damaged(file_name, texts("msg_not_workbook"))


def _check_zip(file_name: str, data: bytes, limits: Limits) -> None:
    """Zip bomb and shape checks of an .xlsx/.xlsm, from its directory and then by inflating
    every entry with a bounded decompressor (declared sizes are not trusted)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as e:
        raise damaged(file_name, e) from e
    if len(infos) > MAX_ZIP_ENTRIES:
        raise _bomb(file_name, texts("msg_zip_entries", n=len(infos)))
    names = {i.filename.lower().lstrip("/") for i in infos}
    if names & {"content.xml", "xl/workbook.bin"}:
        raise ReadError.of("msg_ods_xlsb", file=file_name)
    declared = sum(i.file_size for i in infos)
    if declared > limits.unzipped_bytes:
        detail = texts(
            "msg_zip_unzipped",
            size=size_text(declared),
            limit=size_text(limits.unzipped_bytes),
            var=config.MAX_UNZIPPED_ENV,
        )
        raise _bomb(file_name, detail)
    for info in infos:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > RATIO_MIN_ENTRY_BYTES and ratio > limits.zip_ratio:
            detail = texts(
                "msg_zip_ratio",
                entry=info.filename,
                ratio=ratio,
                limit=limits.zip_ratio,
                var=config.MAX_ZIP_RATIO_ENV,
            )
            raise _bomb(file_name, detail)
    budget = Budget(limits)
    for info in infos:
        scan = None
        if info.file_size >= _THREADED_SCAN_BYTES:
            scan = _scan_threaded(file_name, archive, info, budget)
        if scan is None:  # small, unusual or refused: the plain scan decides
            scan = _XmlScan(file_name, info, budget)
            for chunk in _inflate(file_name, archive, info):
                scan.feed(chunk)
        scan.close()


_THREADED_SCAN_BYTES = 4 * MB  # a zip entry at least this large is scanned in threads
_SCAN_AHEAD = 3  # stretches being scanned in threads at a time


def _scan_threaded(
    file_name: str, archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: Budget
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
            for chunk in _inflate(file_name, archive, info):
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


def _bomb(file_name: str, detail: Both) -> LimitError:
    error: LimitError = LimitError.of("msg_zip_bomb", file=file_name, detail=detail)
    return error


_INFLATE_OUT = 1024 * 1024  # bytes of an entry inflated at a time


def _inflate(file_name: str, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """The entry's bytes in chunks of at most ``_INFLATE_OUT``, never more than its declared
    size: a lying header is refused as soon as the output passes what it declared.

    ``zipfile`` reads the local header and inflates (a bounded decompressor: each read
    asks zlib for at most the bytes wanted), but it stops silently at the declared size,
    where the parser (calamine) would go on: so the entry is opened as declaring one byte
    more, and that byte, if it comes, refuses the file. The CRC is not checked here (as
    calamine checks it); a damaged stream is refused as damaged.

    Raises
    ------
    ReadError
        A password-protected entry, a compression other than stored or deflate, a local
        header that does not match the directory, an entry cut off, a damaged stream.
    LimitError
        An entry that inflates past its declared size.
    """
    if info.flag_bits & 0x1:
        raise password_protected(file_name)
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise damaged(file_name, texts("msg_compression", method=info.compress_type))
    one_more = copy.copy(info)
    one_more.file_size = info.file_size + 1
    # The CRC of the real size would refuse it. None is zipfile's private "no CRC to check"
    # (ZipExtFile skips the check then); the stubs type CRC as int, hence the ignore.
    one_more.CRC = None  # type: ignore[assignment]
    try:
        entry = archive.open(one_more)
    except Exception as e:  # zipfile raises many kinds on a damaged local header
        raise damaged(file_name, texts("msg_bad_local_header", entry=info.filename)) from e
    produced = 0
    with entry:
        while True:
            try:
                chunk = entry.read(_INFLATE_OUT)
            except EOFError as e:
                raise damaged(file_name, texts("msg_entry_cut_off", entry=info.filename)) from e
            except Exception as e:  # zlib.error, zipfile.BadZipFile, ...: a damaged stream
                raise damaged(file_name, e) from e
            if not chunk:
                return
            produced += len(chunk)
            if produced > info.file_size:
                raise _bomb(
                    file_name, texts("msg_zip_overrun", entry=info.filename, size=info.file_size)
                )
            yield chunk


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
            raise password_protected(file_name)
        books = [e for e in entries if len(e) == 1 and e[0].lower() in ("workbook", "book")]
        if not books:
            raise damaged(file_name, texts("msg_no_workbook_stream"))
        streams = [ole.openstream(e).read() for e in books]
    except ReadError:
        raise
    except Exception as e:  # olefile raises many kinds on a damaged container
        raise damaged(file_name, e) from e
    budget = Budget(limits)
    for stream in streams:
        _scan_biff(file_name, stream, budget)


_BIFF_CELLS = frozenset({0x0201, 0x0203, 0x0204, 0x0205, 0x027E, 0x00FD, 0x0006, 0x00D6})
_BIFF_MULTI = frozenset({0x00BD, 0x00BE})  # MULRK, MULBLANK: row, first col, ..., last col


def _biff_records(stream: bytes, pos: int) -> Iterator[tuple[int, bytes]]:
    while pos + 4 <= len(stream):
        typ, size = struct.unpack_from("<HH", stream, pos)
        yield typ, stream[pos + 4 : pos + 4 + size]
        pos += 4 + size


def _scan_biff(file_name: str, stream: bytes, budget: Budget) -> None:
    sheets: list[int] = []
    for typ, body in _biff_records(stream, 0):
        if typ == 0x0085 and len(body) >= 4:  # BoundSheet8: where the sheet's records start
            sheets.append(struct.unpack_from("<I", body)[0])
        elif typ == 0x00FC and len(body) >= 8:  # SST: strings reserved up front
            (count,) = struct.unpack_from("<i", body, 4)
            if count < 0 or count > len(stream) // 3 + 1:
                raise damaged(file_name, texts("msg_shared_strings", count=count))
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
                        raise damaged(file_name, texts("msg_bad_dimensions"))
                    Budget(budget.limits).take(file_name, label, rl - rf, cl - cf)
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

    def __init__(self, file_name: str, info: zipfile.ZipInfo, budget: Budget) -> None:
        self.file_name, self.info, self.budget = file_name, info, budget
        self.carry = b""
        self.row = -1
        self.col = -1
        # The box of the non-empty cells (0-based); None before the first one.
        self.min_row: int | None = None
        self.min_col: int | None = None
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
                raise damaged(self.file_name, texts("msg_overlong_tag", entry=self.info.filename))
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

    def _merge(self, found: _Found) -> None:
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
                count = m.group(1).decode()
                raise damaged(self.file_name, texts("msg_shared_strings", count=count))
            return
        m = self.REF.search(attrs)
        letters, digits = (m.group(1), m.group(2)) if m else (b"", b"")
        if len(letters) > 7 or len(digits) > 12:
            raise damaged(self.file_name, texts("msg_cell_reference"))
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


# What _plain_rows finds in a stretch of whole rows: (the box of its non-empty cells (first
# row, last row, first column, last column) or None, the row of its last <row> tag or None,
# the column of its last cell after that tag or None).
_Found = tuple[tuple[int, int, int, int] | None, int | None, int | None]


def _plain_rows(buf: bytes, cut: int) -> _Found | None:
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
