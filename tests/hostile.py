"""Hostile files that pass every check of ``guard.check_file`` and then make python-calamine
abort the process that parses them (built here, byte by byte; nothing is stored on disk).

Each exploits a place where the checks read the file differently from calamine:

- ``duplicate_reference``: a cell written ``<c r="B2" r="XFD1048576">``; the check reads the
  first ``r``, calamine the last, and allocates 1,048,576 x 16,384 cells (512 GB).
- ``two_end_records``: two zip archives one after the other, the second's end-of-central-
  directory record marked "disk 1". Python's ``zipfile`` (the checks) reads the second, a
  harmless workbook; calamine's zip reader skips a multi-disk record and reads the first,
  whose one far-away cell asks for 512 GB.
- ``two_workbook_streams``: an .xls (OLE compound file) with two streams named
  ``Workbook``; olefile (the checks) opens the first it meets walking the directory's tree,
  a harmless one, calamine the first in directory order, whose one cell at row 65,536,
  column 65,536 asks for 128 GB.
- ``memory_hungry``: a legal workbook (cells A1 and XFD1800: 29.5 million cells, under
  ``POVERTY_MAX_CELLS``) that calamine reads as one 0.9 GB block: over a worker memory limit
  of 1 GB, under the default.
"""

from __future__ import annotations

import io
import struct

import olefile

from tests.builders import HOUSEHOLD_HEADER, household, xls_bytes
from tests.test_hostile_files import A1, _xls_with_number_at, raw_xlsx, sheet_xml

FAR = '<row r="1048576"><c r="XFD1048576" t="s"><v>0</v></c></row>'


def duplicate_reference() -> bytes:
    """An .xlsx whose second cell names two references, B2 first and XFD1048576 last."""
    return raw_xlsx(sheet_xml(A1 + '<row r="2"><c r="B2" r="XFD1048576" t="s"><v>0</v></c></row>'))


def two_end_records() -> bytes:
    """A far-away-cell .xlsx, then a harmless one whose end record says "disk 1"."""
    hostile = raw_xlsx(sheet_xml(A1 + FAR))
    harmless = bytearray(raw_xlsx())
    end = harmless.rfind(b"PK\x05\x06")
    struct.pack_into("<H", harmless, end + 4, 1)  # number of this disk
    return hostile + bytes(harmless)


def two_workbook_streams() -> bytes:
    """An .xls whose root holds a hostile ``Workbook`` stream, then a harmless one."""
    hostile = _workbook_stream(_xls_with_number_at(0xFFFF, 0xFFFF))
    harmless = _workbook_stream(xls_bytes([HOUSEHOLD_HEADER, household(1)]))
    return compound_file([("Workbook", hostile), ("Workbook", harmless)])


def memory_hungry() -> bytes:
    """An .xlsx with cells at A1 and XFD1800 (1,800 x 16,384 cells as calamine reads it)."""
    return raw_xlsx(sheet_xml(A1 + '<row r="1800"><c r="XFD1800" t="s"><v>0</v></c></row>'))


ABORTING = {
    "重复地址.xlsx": duplicate_reference,
    "两个目录.xlsx": two_end_records,
    "两个数据流.xls": two_workbook_streams,
}


def _workbook_stream(xls: bytes) -> bytes:
    return olefile.OleFileIO(io.BytesIO(xls)).openstream("Workbook").read()


_SECTOR = 512
_FREE, _END, _FAT = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD


def compound_file(streams: list[tuple[str, bytes]]) -> bytes:
    """A version-3 OLE compound file whose root storage holds ``streams`` (name, bytes) in
    directory order, names repeated as given, its tree in the reverse order; every stream is
    padded to 4,096 bytes or more, so all live in regular sectors (no mini stream)."""
    sectors: list[bytes] = []
    fat: list[int] = []
    starts = []
    for _, body in streams:
        body += b"\0" * max(4096 - len(body), -len(body) % _SECTOR)
        starts.append(len(sectors))
        n = len(body) // _SECTOR
        for k in range(n):
            sectors.append(body[k * _SECTOR : (k + 1) * _SECTOR])
            fat.append(len(sectors) if k < n - 1 else _END)

    def entry(name: str, kind: int, start: int, size: int, right: int = _FREE, child=_FREE):
        raw = name.encode("utf-16-le") + b"\0\0"
        return (
            raw.ljust(64, b"\0")
            + struct.pack("<HBB", len(raw), kind, 1)  # name length, type, black
            + struct.pack("<III", _FREE, right, child)
            + b"\0" * 36  # class id, state bits, times
            + struct.pack("<IQ", start, size)
        )

    # The tree lists the entries last first (the root's child is the last entry, each
    # entry's right sibling the one before it): olefile walks the tree, calamine the
    # directory in order, so each finds a different first "Workbook".
    directory = entry("Root Entry", 5, _END, 0, child=len(streams))
    for k, (name, body) in enumerate(streams):
        directory += entry(name, 2, starts[k], len(body), right=k if k else _FREE)
    directory += b"\0" * (-len(directory) % _SECTOR)
    dir_start = len(sectors)
    n = len(directory) // _SECTOR
    for k in range(n):
        sectors.append(directory[k * _SECTOR : (k + 1) * _SECTOR])
        fat.append(len(sectors) if k < n - 1 else _END)
    fat_start = len(sectors)
    n_fat = -(-(len(fat) + 8) // 128)
    fat += [_FAT] * n_fat
    fat += [_FREE] * (n_fat * 128 - len(fat))
    table = struct.pack(f"<{len(fat)}I", *fat)
    sectors += [table[k * _SECTOR : (k + 1) * _SECTOR] for k in range(n_fat)]
    difat = [fat_start + k for k in range(n_fat)] + [_FREE] * (109 - n_fat)
    header = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + b"\0" * 16
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + b"\0" * 6
        + struct.pack("<9I", 0, n_fat, dir_start, 0, 4096, _END, 0, _END, 0)
        + struct.pack("<109I", *difat)
    )
    return header + b"".join(sectors)
