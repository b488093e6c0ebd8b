"""Hostile and broken files: limits, zip bombs, XML entities, and fuzzing of the importer.

Every file is refused with a message (file name, limit, what was found; Chinese and English)
or read; nothing raises, nothing hangs, nothing is half-loaded. Hostile workbooks are built
by hand in the tests (``raw_xlsx``); limits are lowered through their environment variables.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import struct
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
import python_calamine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from analytics.domain import config
from analytics.importing import guard, ingest, results, worker
from analytics.store.database import Store
from tests.builders import (
    HOUSEHOLD_HEADER,
    SURVEY_HEADER,
    csv_bytes,
    household,
    survey_row,
    survey_workbook,
    xls_bytes,
    xlsx_bytes,
)

ROOT = Path(__file__).resolve().parent.parent
ROUND = "2018年动态管理"
STATUSES = {"loaded", "partial", "refused", "unreadable"}

# ------------------------------------------------------------------ raw workbooks
NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/></Types>'
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Target="xl/workbook.xml" Type="http://schemas.openxmlformats.org/'
    'officeDocument/2006/relationships/officeDocument"/></Relationships>'
)
_WORKBOOK = (
    f'<?xml version="1.0" encoding="UTF-8"?><workbook {NS} '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="户信息" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Target="worksheets/sheet1.xml" Type="http://schemas.'
    'openxmlformats.org/officeDocument/2006/relationships/worksheet"/>'
    '<Relationship Id="rId2" Target="sharedStrings.xml" Type="http://schemas.'
    'openxmlformats.org/officeDocument/2006/relationships/sharedStrings"/></Relationships>'
)
SHARED = f'<?xml version="1.0"?><sst {NS} count="1" uniqueCount="1"><si><t>户编号</t></si></sst>'
A1 = '<row r="1"><c r="A1" t="s"><v>0</v></c></row>'
# Nine levels of ten: &lol9; would expand to 10^9 "lol"s (3 GB) in a parser that expands it.
LOL = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{(f"&lol{i - 1};" if i > 1 else "&lol;") * 10}">' for i in range(1, 10)
    )
    + "]>"
)


def sheet_xml(rows: str, tail: str = "") -> str:
    return f'<?xml version="1.0"?><worksheet {NS}><sheetData>{rows}</sheetData>{tail}</worksheet>'


def raw_xlsx(
    sheet: str = sheet_xml(A1), shared: str | None = SHARED, extra: dict[str, bytes] | None = None
) -> bytes:
    """A minimal .xlsx written by hand (entries exactly as given), deflated."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", _CONTENT_TYPES)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", _WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        z.writestr("xl/worksheets/sheet1.xml", sheet)
        if shared is not None:
            z.writestr("xl/sharedStrings.xml", shared)
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return buf.getvalue()


def inspect(name: str, data: bytes) -> ingest.FileReport:
    report = ingest.inspect_file(name, data)
    assert report.status in {"inspected", "refused", "unreadable"}
    if report.status != "inspected":
        assert report.message and report.message_en, report
    return report


def assert_unreadable(report: ingest.FileReport, *needles: str) -> None:
    assert report.status == "unreadable", (report.status, report.message_en)
    assert report.code == ingest.UNREADABLE
    assert report.file in report.message and report.file in report.message_en
    assert report.parsed == [] and report.batch_id is None
    for needle in needles:
        assert needle in report.message or needle in report.message_en, report.message_en


@pytest.fixture
def no_calamine(monkeypatch):
    """Fails the test if the workbook reaches calamine (refused before parsing): calamine in
    this process, or a workbook handed to the parse worker (analytics/importing/worker.py)."""

    def boom(*_args, **_kwargs):
        raise AssertionError("calamine was asked to parse a file that should be refused")

    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_filelike", boom)
    handed = worker.inspect

    def guarded(report, data, township, limits, *more):
        if guard.is_workbook(data):
            boom()
        return handed(report, data, township, limits, *more)

    monkeypatch.setattr(worker, "inspect", guarded)


# ------------------------------------------------------------------ limits
def test_limits_default_and_come_from_the_environment():
    assert config.Limits.from_env({}) == config.Limits(
        file_bytes=256 * 1024 * 1024,
        rows=1_100_000,
        cells=30_000_000,
        unzipped_bytes=2000 * 1024 * 1024,
        zip_ratio=100,
    )
    env = {
        "POVERTY_MAX_FILE_MB": "2",
        "POVERTY_MAX_ROWS": "1000",
        "POVERTY_MAX_CELLS": "5_000",
        "POVERTY_MAX_UNZIPPED_MB": "0.5",
        "POVERTY_MAX_ZIP_RATIO": "20",
    }
    assert config.Limits.from_env(env) == config.Limits(2 * 1024 * 1024, 1000, 5000, 524288, 20)
    # Not a positive number: ignored, the default stays.
    bad = {"POVERTY_MAX_ROWS": "many", "POVERTY_MAX_CELLS": "-3", "POVERTY_MAX_FILE_MB": "0"}
    assert config.Limits.from_env(bad) == config.Limits()


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(monkeypatch, no_calamine):
    monkeypatch.setenv("POVERTY_MAX_FILE_MB", "0.01")  # 10,485 bytes
    report = inspect("大文件.xlsx", b"PK" + b"\0" * 20_000)
    assert_unreadable(report, "大文件.xlsx", "20,002 bytes", "10,485 bytes", "POVERTY_MAX_FILE_MB")
    assert "超过上限" in report.message


def test_the_cli_reads_no_more_than_the_size_limit_of_an_endless_file(tmp_path):
    """/dev/zero never ends: the command line reads limit + 1 bytes and refuses it (exit 2)."""
    env = {"POVERTY_MAX_FILE_MB": "1", "PATH": "/usr/bin:/bin"}
    db = str(tmp_path / "z.duckdb")
    done = subprocess.run(
        [sys.executable, "-m", "analytics", "ingest", "/dev/zero", "--round", ROUND, "--db", db],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 2, done.stderr
    assert "over the limit of 1.0 MB" in done.stderr and "Traceback" not in done.stderr


def test_a_csv_over_the_row_limit_is_refused_while_it_is_read(monkeypatch):
    monkeypatch.setenv("POVERTY_MAX_ROWS", "50")
    rows = [HOUSEHOLD_HEADER, *(household(n) for n in range(1, 60))]
    report = inspect("多行.csv", csv_bytes(rows))
    assert_unreadable(report, "51 rows", "limit of 50 rows per sheet", "POVERTY_MAX_ROWS")
    ok = inspect("少行.csv", csv_bytes(rows[:40]))
    assert ok.status == "inspected" and ok.loaded == 39


def test_a_workbook_over_the_row_limit_is_refused_before_parsing(monkeypatch, no_calamine):
    monkeypatch.setenv("POVERTY_MAX_ROWS", "50")
    data = xlsx_bytes([HOUSEHOLD_HEADER, *(household(n) for n in range(1, 60))])
    assert_unreadable(inspect("多行.xlsx", data), "60 rows", "50 rows per sheet")


def test_a_file_over_the_cell_limit_is_refused(monkeypatch):
    monkeypatch.setenv("POVERTY_MAX_CELLS", "200")
    rows = [HOUSEHOLD_HEADER, *(household(n) for n in range(1, 30))]  # 30 x 9 = 270 cells
    assert_unreadable(inspect("宽.xlsx", xlsx_bytes(rows)), "270 cells", "limit of 200")
    # A CSV stops at the line that passes the limit (23 lines x 9 = 207 cells).
    report = inspect("宽.csv", csv_bytes(rows))
    assert_unreadable(report, "207 cells", "limit of 200 cells per file", "POVERTY_MAX_CELLS")
    # A ragged CSV: one very long line makes every row that wide.
    ragged = csv_bytes([HOUSEHOLD_HEADER, ["x"] * 150, *(household(n) for n in range(1, 3))])
    assert_unreadable(inspect("参差.csv", ragged), "POVERTY_MAX_CELLS")


def test_one_far_away_cell_in_a_tiny_workbook_is_refused_not_allocated(no_calamine):
    """calamine allocates first..last cell as one rectangle: 1,048,576 x 16,384 cells from a
    file of 1 KB would abort the process. The scan refuses it, whatever the XML spelling."""
    far = '<row r="1048576"><c r="XFD1048576" t="s"><v>0</v></c></row>'
    quoted = '<row r="1048576"><c s="1" x=">" r="XFD1048576" t="s"><v>0</v></c></row>'
    prefixed = sheet_xml(A1 + far).replace("<c ", "<x:c ").replace("</c>", "</x:c>")
    # No r attributes: the 16,384th cell of row 1,048,576 is column XFD all the same.
    no_refs = sheet_xml(A1 + '<row r="1048576">' + '<c t="s"><v>0</v></c>' * 16_384 + "</row>")
    for sheet in (sheet_xml(A1 + far), sheet_xml(A1 + quoted), prefixed, no_refs):
        data = raw_xlsx(sheet)
        assert len(data) < 4000
        assert_unreadable(inspect("远.xlsx", data), "1,048,576 rows", "POVERTY_MAX")


def test_a_far_away_cell_among_megabytes_of_plain_rows_is_refused(no_calamine):
    """A sheet large enough to be scanned in threads (guard._scan_threaded) is refused
    all the same, whether its far-away cell is plain or spelt in a way only the regex
    scan reads, and whether it comes first, in the middle or last."""
    plain = [
        f'<row r="{r}">'
        + "".join(f'<c r="{c}{r}" t="s"><v>0</v></c>' for c in "ABCDEFGHIJ")
        + "</row>"
        for r in range(2, 20_000)
    ]
    for far in (
        '<c r="XFD1048576" t="s"><v>0</v></c>',
        '<c s="1" x=">" r="XFD1048576" t="s"><v>0</v></c>',
    ):
        row = f'<row r="1048576">{far}</row>'
        for at in (0, len(plain) // 2, len(plain)):
            data = raw_xlsx(sheet_xml(A1 + "".join(plain[:at]) + row + "".join(plain[at:])))
            book = zipfile.ZipFile(io.BytesIO(data))
            assert book.getinfo("xl/worksheets/sheet1.xml").file_size > guard._THREADED_SCAN_BYTES
            assert_unreadable(inspect("远.xlsx", data), "1,048,576 rows", "POVERTY_MAX")


def test_empty_styled_cells_far_away_are_not_counted():
    """calamine keeps no value for <c r=".." s=".."/>, so neither does the scan."""
    sheet = sheet_xml(A1 + '<row r="1048576"><c r="XFD1048576" s="1"/></row>')
    report = inspect("空格式.xlsx", raw_xlsx(sheet))
    assert report.status == "refused"  # read: no recognisable table, not a limit
    assert report.sheets[0].note_en.startswith("no recognisable header")


def test_a_merged_range_over_the_whole_sheet_is_refused():
    tail = '<mergeCells count="1"><mergeCell ref="A1:XFD1048576"/></mergeCells>'
    report = inspect("合并.xlsx", raw_xlsx(sheet_xml(A1, tail)))
    assert_unreadable(report, "1,048,576 rows", "16,384 columns")


def test_a_shared_string_count_that_lies_is_refused(no_calamine):
    """calamine reserves uniqueCount strings up front: 4e9 would be 96 GB."""
    lying = SHARED.replace('uniqueCount="1"', 'uniqueCount="4000000000"')
    assert_unreadable(inspect("共享.xlsx", raw_xlsx(shared=lying)), "4000000000")


def _xls_with_number_at(row: int, col: int) -> bytes:
    """A .xls whose one NUMBER record (row 1, column 200) is moved to (row, col)."""
    data = bytearray(xls_bytes([["户编号"], [None] * 200 + [3.141592653589793]], sheet="户信息"))
    at = data.find(struct.pack("<HHHH", 0x0203, 14, 1, 200))
    assert at > 0
    struct.pack_into("<HH", data, at + 4, row, col)
    return bytes(data)


def test_an_xls_cell_far_away_is_refused_before_parsing(no_calamine):
    report = inspect("远.xls", _xls_with_number_at(0xFFFF, 0xFFFF))
    assert_unreadable(report, "65,536 rows x 65,536 columns", "POVERTY_MAX_CELLS")


def test_an_xls_whose_dimensions_or_string_count_lie_is_refused(no_calamine):
    good = bytearray(_xls_with_number_at(1, 200))
    dims = good.find(struct.pack("<HH", 0x0200, 14))
    assert dims > 0
    lying = bytearray(good)
    struct.pack_into("<IIHH", lying, dims + 4, 0, 0xFFFFFFF0, 0, 0xFFFF)
    assert_unreadable(inspect("维度.xls", bytes(lying)), "POVERTY_MAX")
    sst = good.find(struct.pack("<H", 0x00FC))
    if sst > 0:  # xlwt writes an SST when the sheet holds text
        lying = bytearray(good)
        struct.pack_into("<i", lying, sst + 8, 2_000_000_000)
        assert_unreadable(inspect("字符串.xls", bytes(lying)), "2000000000")


def test_a_valid_xls_still_reads_after_the_checks():
    report = inspect("正常.xls", xls_bytes([HOUSEHOLD_HEADER, household(1), household(2)]))
    assert report.status == "inspected" and report.loaded == 2


# ------------------------------------------------------------------ zip bombs
def test_a_zip_whose_entries_expand_beyond_the_total_limit_is_refused(monkeypatch, no_calamine):
    monkeypatch.setenv("POVERTY_MAX_UNZIPPED_MB", "2")
    monkeypatch.setenv("POVERTY_MAX_ZIP_RATIO", "100000")  # only the total is over
    data = raw_xlsx(extra={"xl/media/pad.bin": b"\0" * (3 * 1024 * 1024)})
    assert_unreadable(inspect("炸弹.xlsx", data), "zip bomb", "over the limit of 2.0 MB")


def test_a_zip_entry_with_a_huge_compression_ratio_is_refused(no_calamine):
    data = raw_xlsx(extra={"xl/media/pad.bin": b"\0" * (4 * 1024 * 1024)})  # ~1000:1
    report = inspect("压缩比.xlsx", data)
    assert_unreadable(report, "xl/media/pad.bin", "over the limit of 100:1", "ZIP_RATIO")


def _lie_about_size(data: bytes, entry: str, size: int) -> bytes:
    """Rewrites an entry's declared uncompressed size (central and local headers)."""
    out = bytearray(data)
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(entry)
    struct.pack_into("<I", out, info.header_offset + 22, size)
    cd = out.find(b"PK\x01\x02")
    while cd >= 0:
        name_len = struct.unpack_from("<H", out, cd + 28)[0]
        if out[cd + 46 : cd + 46 + name_len] == entry.encode():
            struct.pack_into("<I", out, cd + 24, size)
            return bytes(out)
        cd = out.find(b"PK\x01\x02", cd + 4)
    raise AssertionError(entry)


def test_a_zip_whose_headers_lie_about_the_size_is_refused(no_calamine):
    """The directory says 1,000 bytes; the entry inflates to 3 MB: the bounded decompressor
    stops at the first chunk past the declared size."""
    rows = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>' for r in range(1, 60_000))
    data = raw_xlsx(sheet_xml(rows))
    lying = _lie_about_size(data, "xl/worksheets/sheet1.xml", 1000)
    assert zipfile.ZipFile(io.BytesIO(lying)).getinfo("xl/worksheets/sheet1.xml").file_size == 1000
    assert_unreadable(inspect("说谎.xlsx", lying), "declared 1,000 bytes")


def test_ods_and_xlsb_inside_a_zip_are_refused_with_a_hint(no_calamine):
    ods = raw_xlsx(extra={"content.xml": b"<office:document-content/>"})
    assert_unreadable(inspect("表格.xlsx", ods), ".ods", "save it as .xlsx")
    xlsb = raw_xlsx(extra={"xl/workbook.bin": b"\0\0"})
    assert_unreadable(inspect("表格.xlsx", xlsb), ".xlsb")
    assert_unreadable(inspect("表格.ods", ods), "unsupported file type")


def test_bytes_that_are_neither_zip_nor_ole_never_reach_calamine(no_calamine):
    # An HTML table saved with an Excel name (some systems export these) is named as such.
    assert_unreadable(
        inspect("假.xls", b"<html><table><tr><td>x</td></tr></table></html>"), "web page (HTML)"
    )
    # Other text under an Excel name is tried as text (a CSV renamed .xls); holding no
    # table either, it is a file that cannot be read.
    for data in (b"", b"hello"):
        assert_unreadable(inspect("假.xls", data), "not a workbook")


def test_a_workbook_saved_with_a_csv_name_is_read_as_a_workbook():
    data = xlsx_bytes(
        [
            ["户编号", "行政村", "家庭人口数", "建档立卡状态", "乡镇"],
            ["A1", "甲村", 3, "未脱贫", "乙乡"],
        ]
    )
    report = inspect("其实是工作簿.csv", data)
    assert report.status == "inspected" and report.loaded == 1


def test_an_unmatched_quote_in_a_csv_is_an_error_not_lost_rows():
    text = (
        "户编号,户主姓名,乡镇,行政村,家庭人口数,建档立卡状态\n"
        'Q1,"沈一,诗礼乡,孔兴村,3,未脱贫\n'
        "Q2,沈二,诗礼乡,孔兴村,3,未脱贫\n"
    )
    report = inspect("引号.csv", text.encode())
    assert_unreadable(report, "unmatched quote")


# ------------------------------------------------------------------ XML entities
def test_openpyxl_uses_defusedxml():
    """openpyxl (the template and the test builders) parses XML through defusedxml."""
    assert openpyxl.DEFUSEDXML is True


@pytest.mark.parametrize(
    "where",
    ["shared strings", "sheet"],
)
def test_a_billion_laughs_workbook_is_refused_without_expanding(where):
    """calamine's XML reader (quick-xml) does not process DTDs: a reference to any entity it
    does not know (&lol9;) is an error, so nothing expands. The shared-strings case fails
    while the workbook opens (calamine then reports 'Cannot detect file format'), the sheet
    case when the sheet is read ('unrecognized entity')."""
    if where == "shared strings":
        shared = SHARED.replace("<sst", LOL + "<sst").replace("户编号", "&lol9;")
        data = raw_xlsx(shared=shared)
    else:
        bomb = '<row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row>'
        data = raw_xlsx(sheet_xml(bomb).replace("<worksheet", LOL + "<worksheet"))
    start = time.perf_counter()
    report = inspect("笑.xlsx", data)
    assert time.perf_counter() - start < 2
    assert_unreadable(report, "damaged or not an Excel workbook")
    assert "lol" not in report.message_en.replace("&lol9;", "")


def test_calamine_expands_no_dtd_entity_at_all():
    """Not even a harmless internal one, nor an external (XXE) one: both are errors."""
    internal, external = '<!ENTITY a "AAA">', '<!ENTITY x SYSTEM "file:///etc/passwd">'
    for decl, ref in ((internal, "&a;"), (external, "&x;")):
        cell = f'<row r="1"><c r="A1" t="inlineStr"><is><t>{ref}</t></is></c></row>'
        data = raw_xlsx(sheet_xml(cell).replace("<worksheet", f"<!DOCTYPE w [{decl}]><worksheet"))
        report = inspect("实体.xlsx", data)
        assert_unreadable(report, "unrecognized entity")
        assert "root:" not in report.message_en


# ------------------------------------------------------------------ fuzzing
# Modest and derandomized for CI; FUZZ_EXAMPLES=2000 FUZZ_RANDOM=1 for a deeper local run.
FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "60")),
    deadline=dt.timedelta(seconds=5),
    derandomize=not os.environ.get("FUZZ_RANDOM"),
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TABLES = ("households", "meetings", "relocation", "villages")


def check_import(store: Store, name: str, data: bytes, allow_partial: bool) -> None:
    """inspect + import: a clean outcome, and the database changed by exactly what loaded."""
    inspect(name, data)
    before = store.counts()
    report = ingest.import_file(store, name, data, ROUND, allow_partial=allow_partial)
    assert report.status in STATUSES, report.status
    assert report.message and report.message_en
    after = store.counts()
    if report.status in ("refused", "unreadable"):
        assert after == before
        return
    expected = dict(before)
    for p in report.parsed:
        expected[p.table] += len(p.rows)
    expected["batches"] += 1
    expected["quarantine"] += report.rejected if report.status == "partial" else 0
    expected["row_problems"] += len(report.problems)
    assert after == expected


@pytest.fixture(scope="module")
def fuzz_store(tmp_path_factory):
    s = Store(tmp_path_factory.mktemp("fuzz") / "fuzz.duckdb")
    yield s
    s.close()


SPECIAL = [
    "",
    " ",
    "\x00",
    "\x00户编号",
    "\t\r\n",
    "=SUM(A1:A9)",
    "=cmd|' /C calc'!A0",
    "+1",
    "-1",
    "@x",
    "１２３",
    "Ｈ００１",
    "😀👨‍👩‍👧",
    "𠀀𪚥",
    "\u202e反转",
    "\ufeff",
    "合计",
    "小计",
    "是",
    "√",
    "2017年7月8日",
    "2017.7.8",
    "43000",
    "1e308",
    "NaN",
    "533921198001010010",
    "53392119800101001X",
    "长" * 40_000,
    "x" * 200_000,
]
cell_text = st.one_of(st.sampled_from(SPECIAL), st.text(max_size=30))
header_text = st.one_of(st.sampled_from(SURVEY_HEADER + HOUSEHOLD_HEADER), cell_text)


@st.composite
def grids(draw, max_rows: int = 8):
    """A header (known columns, shuffled, plus junk) and rows of random cells."""
    known = draw(st.lists(st.sampled_from(SURVEY_HEADER), min_size=0, max_size=11, unique=True))
    header = known + draw(st.lists(header_text, max_size=3))
    width = max(1, len(header))
    rows = draw(st.lists(st.lists(cell_text, min_size=0, max_size=width), max_size=max_rows))
    return [header, *rows]


def test_fuzz_random_bytes_under_excel_and_csv_names(fuzz_store):
    @FUZZ
    @given(
        st.binary(max_size=4096),
        st.sampled_from(["a.xlsx", "a.xlsm", "a.xls", "a.csv"]),
        st.sampled_from([b"", b"PK\x03\x04", guard.CFB_MAGIC, b"\xef\xbb\xbf", b"\xff\xfe"]),
        st.booleans(),
    )
    def run(data, name, prefix, allow_partial):
        check_import(fuzz_store, name, prefix + data, allow_partial)

    run()


VALID_ROWS = [
    survey_row(f"F{n:03d}", "甲村", "一组", 1 + n % 5, ("未脱贫", "已脱贫", "非建档立卡")[n % 3])
    for n in range(1, 13)
]
VALID = {
    "f.xlsx": survey_workbook(VALID_ROWS),
    "f.xls": xls_bytes([SURVEY_HEADER, *[[str(v) for v in r] for r in VALID_ROWS]]),
    "f.csv": csv_bytes([SURVEY_HEADER, *VALID_ROWS], encoding="utf-8-sig"),
}


def test_fuzz_truncated_and_damaged_real_workbooks(fuzz_store):
    @FUZZ
    @given(
        st.sampled_from(sorted(VALID)),
        st.floats(min_value=0, max_value=1),
        st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), max_size=4),
        st.booleans(),
    )
    def run(name, cut, flips, allow_partial):
        data = bytearray(VALID[name][: int(len(VALID[name]) * cut)])
        for where, value in flips:
            if data:
                data[min(int(where * len(data)), len(data) - 1)] = value
        check_import(fuzz_store, name, bytes(data), allow_partial)

    run()


def test_fuzz_random_csv_text(fuzz_store):
    @FUZZ
    @given(
        grids(),
        st.sampled_from([",", "\t", ";", "|", " "]),
        st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]),
        st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "gb18030"]),
        st.sampled_from(["\r\n", "\n", "\r"]),
        st.booleans(),
    )
    def run(rows, delimiter, quoting, encoding, newline, allow_partial):
        buf = io.StringIO(newline="")
        csv.writer(buf, delimiter=delimiter, quoting=quoting, lineterminator=newline).writerows(
            rows
        )
        check_import(fuzz_store, "随机.csv", buf.getvalue().encode(encoding), allow_partial)

    run()


def test_fuzz_random_header_and_cell_text_in_workbooks(fuzz_store):
    values = st.one_of(
        cell_text,
        st.integers(-(10**15), 10**15),
        st.floats(allow_nan=False, allow_infinity=False),
        st.dates(dt.date(1900, 3, 1), dt.date(2100, 1, 1)),
        st.booleans(),
    )

    @FUZZ
    @given(grids(), st.lists(values, max_size=20), st.booleans())
    def run(rows, extra, allow_partial):
        rows = [*rows, extra]
        clean = [
            [ILLEGAL_CHARACTERS_RE.sub("?", v)[:32767] if isinstance(v, str) else v for v in r]
            for r in rows
        ]
        check_import(fuzz_store, "随机.xlsx", xlsx_bytes(clean), allow_partial)

    run()


def test_fuzz_random_sheet_xml_never_crashes_the_reader(fuzz_store):
    """Cell references, row numbers and counts drawn at random, written straight into XML.

    Columns and rows are either near A1 or far beyond the limits: a tiny file whose cells
    legally span millions of cells is read (slowly) by design, which is not what this tests.
    """
    ref = st.tuples(
        st.one_of(st.integers(0, 60), st.integers(16_000, 20_000)),
        st.one_of(st.integers(0, 50), st.integers(1_200_000, 5_000_000)),
    )

    def col(n: int) -> str:
        out = ""
        n += 1
        while n:
            n, rem = divmod(n - 1, 26)
            out = chr(65 + rem) + out
        return out

    @FUZZ
    @given(st.lists(ref, max_size=6), st.integers(-5, 10**12), st.booleans())
    def run(refs, unique, allow_partial):
        cells = "".join(
            f'<row r="{r}"><c r="{col(c)}{r}" t="s"><v>0</v></c></row>' for c, r in refs
        )
        shared = SHARED.replace('uniqueCount="1"', f'uniqueCount="{unique}"')
        data = raw_xlsx(sheet_xml(A1 + cells), shared)
        check_import(fuzz_store, "随机.xlsx", data, allow_partial)

    run()


def test_zlib_bomb_entry_inflates_in_bounded_chunks():
    """The decompressor never holds more than one output chunk of an entry at a time."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("x.bin", b"\0" * (8 * 1024 * 1024))
    book = zipfile.ZipFile(io.BytesIO(out.getvalue()))
    [info] = book.infolist()
    assert info.compress_size < 10_000  # a bomb: 8 MB of zeros in a few kB
    sizes = [len(c) for c in guard._inflate("x.xlsx", book, info)]
    assert sum(sizes) == 8 * 1024 * 1024
    assert max(sizes) <= 1024 * 1024


def test_an_entry_that_inflates_past_its_declared_size_is_refused_however_it_is_read():
    """zipfile stops at the declared size without a word; the guard reads one byte more and
    refuses the file (calamine would read on: the parser mismatch of docs/SECURITY.md)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("x.bin", b"a" * 5000)
    book = zipfile.ZipFile(io.BytesIO(out.getvalue()))
    [info] = book.infolist()
    info.file_size = 4000  # the directory lies
    with pytest.raises(results.LimitError, match="declared 4,000 bytes"):
        list(guard._inflate("x.xlsx", book, info))
    info.file_size = 5000
    assert sum(len(c) for c in guard._inflate("x.xlsx", book, info)) == 5000
