"""The import's fast paths give what the slow ones give: validation a column at a time
(``Validator.parse``) against every cell on its own, the shortcuts of analytics/importing/columns.py
against the per-cell parsers, the numpy scan of worksheet XML against the regex scan.
Nothing here is timed (bench/bench_import.py measures)."""

from __future__ import annotations

import io
import unicodedata
import zipfile

import pytest
import xlsxwriter
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from analytics.domain import config, schema
from analytics.importing import columns, guard, locate, results, sheets, skips, validate
from analytics.importing.values import clean_text, parse_number
from tests.builders import (
    HOUSEHOLD_HEADER,
    PERSON_LIST_HEADER,
    household,
    workbook_bytes,
    xlsx_bytes,
)
from tests.odd_rows import export_rows, household_rows


def _parse_both(data: bytes, name: str = "户信息.xlsx", township: str | None = None):
    grids = sheets.read_grids(name, data)
    fast, slow = validate.Validator(township), validate.Validator(township)
    out = []
    for grid in grids:
        located = locate.locate(grid)
        if isinstance(located, locate.LocatedTable):
            out.append((fast.parse(located), slow.parse(located, by_column=False)))
    return out


def _same(a: results.ParsedTable, b: results.ParsedTable) -> None:
    assert [dict(r) for r in a.rows] == b.rows
    assert a.rejected == b.rejected
    assert a.problems == b.problems
    assert (a.skipped, a.headers, a.township_source) == (b.skipped, b.headers, b.township_source)


def test_a_register_with_every_quirk_parses_the_same_by_column_and_cell_by_cell():
    pairs = _parse_both(xlsx_bytes(household_rows()))
    [(fast, slow)] = pairs
    _same(fast, slow)
    assert len(fast.rows) > 350 and fast.rejected and fast.skipped["total"]
    codes = {p.code for p in fast.problems}
    assert {"W_ID_CHECK", "E_DUPLICATE_ID", "E_POSITIVE_INT", "W_CONTRADICTION"} <= codes


def test_the_same_register_as_csv_text_parses_the_same_both_ways():
    rows = household_rows(text_cells=True)
    buf = io.StringIO()
    for r in rows:
        buf.write(",".join("" if v is None else str(v) for v in r) + "\r\n")
    [(fast, slow)] = _parse_both(buf.getvalue().encode(), "户信息.csv")
    _same(fast, slow)


@pytest.mark.parametrize("text_cells", [False, True])
def test_a_national_export_with_every_quirk_parses_the_same_both_ways(text_cells):
    """脱贫属性 and 户类型 (W_STATE_DISAGREE), implied and explicit adjustments
    (W_IMPLIED_ADJUSTMENT), months, disability certificate numbers, 无 / — as empty."""
    [(fast, slow)] = _parse_both(xlsx_bytes(export_rows(text_cells)), township="诗礼乡")
    _same(fast, slow)
    codes = {p.code for p in fast.problems}
    assert {"W_STATE_DISAGREE", "W_IMPLIED_ADJUSTMENT", "W_MONTH", "E_REQUIRED"} <= codes
    assert {r["adjustment"] for r in slow.rows} == {
        None,
        "exit_proposed",
        "relapse",
        "removed",
        "new",
    }
    assert not {r["registry_state"] for r in slow.rows} - {
        "remaining_poor",
        "exited",
        "nonregistered",
    }
    assert not {r["household_type"] for r in slow.rows} - {
        "remaining_poor",
        "exited",
        "nonregistered",
        None,
    }


def test_sheets_of_one_file_share_the_household_ids_both_ways():
    rows = household_rows()
    data = workbook_bytes({"一": (rows[:200], []), "二": ([rows[0], *rows[150:]], [])})
    pairs = _parse_both(data)
    assert len(pairs) == 2
    for fast, slow in pairs:
        _same(fast, slow)
    assert any(p.code == "E_DUPLICATE_ID" and p.sheet == "二" for p in pairs[1][0].problems)


def test_a_sheet_without_township_column_takes_the_upload_township_both_ways():
    rows = [[h for h in HOUSEHOLD_HEADER if h != "乡镇"]]
    rows += [[v for i, v in enumerate(household(n)) if i != 1] for n in range(1, 400)]
    for township in ("勐佑镇", None):
        [(fast, slow)] = _parse_both(xlsx_bytes(rows), township=township)
        _same(fast, slow)


def test_ids_that_differ_only_in_spaces_are_repeated_ids_both_ways():
    rows = household_rows()
    header = rows[0]
    hid = header.index("户编号")
    ids = [r[hid] for r in rows[2:]]
    # every id differs as written; two are the id of the row before once cleaned
    plain = [r for i, r in enumerate(rows[2:]) if r[hid] and ids.index(r[hid]) == i]
    for at, spelling in ((300, "{} "), (4, "\u3000{}")):
        again = list(plain[at - 1])
        again[hid] = spelling.format(again[hid])
        plain.insert(at, again)
    [(fast, slow)] = _parse_both(xlsx_bytes([header, *plain]))
    _same(fast, slow)
    assert sum(p.code == "E_DUPLICATE_ID" for p in fast.problems) == 2


# ------------------------------------------------------------- the shortcuts
TEXTS = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=0, max_size=12
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(TEXTS, min_size=1, max_size=40))
def test_a_plain_text_is_its_own_clean_text_and_holds_no_white_space(values):
    for v, plain in zip(values, columns.plain_texts(values), strict=True):
        if plain:
            assert clean_text(v) == v
            assert v and not any(ch.isspace() for ch in v)


def test_the_characters_the_bulk_path_calls_safe_are_their_own_nfkc_and_printable():
    chars = [chr(c) for c in range(0x21, 0x7F)] + [chr(c) for c in range(0x4E00, 0xA000)]
    for ch in chars:
        assert unicodedata.normalize("NFKC", ch) == ch and ch.isprintable(), hex(ord(ch))


ID_CHARS = st.text(alphabet="0123456789Xx ", min_size=14, max_size=20)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ID_CHARS, min_size=1, max_size=30))
@example(["530921198001010018"])  # a valid ID: the shortcut takes it (random ones rarely are)
def test_an_id_number_taken_by_the_shortcut_has_no_problem_cell_by_cell(values):
    v = validate.Validator()
    table = schema.TABLES["households"]
    for value, out in zip(values, columns.id_numbers(values), strict=True):
        if out is not columns.SLOW:
            assert v.cell_result("f", "s", table, "head_id_number", value, "G") == (value, ())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.one_of(
            st.floats(allow_nan=False, allow_infinity=False),
            st.integers(-(10**12), 10**12),
            st.from_regex(r"[0-9]{1,15}(\.[0-9]{1,15})?", fullmatch=True),
            TEXTS,
        ),
        min_size=1,
        max_size=30,
    ),
    st.booleans(),
)
def test_a_number_taken_by_the_shortcut_is_what_parse_number_gives(values, positive):
    for value, out in zip(values, columns.numbers(values, positive), strict=True):
        if out is not columns.SLOW:
            assert out == parse_number(value)
            assert not positive or out > 0


def test_cells_that_may_skip_a_row_hold_a_trigger_character_or_a_spelling():
    lookup = schema.header_lookup(schema.HOUSEHOLDS)
    for text in ("合计", "小计:", "乡合计", "(示例)", "户编号", "家庭人口数(人)", "*户编号"):
        assert skips.cell_may_skip(text, "household_id", lookup) or skips.cell_may_skip(
            text, "household_size", lookup
        )
        assert any(ch in text for ch in skips.SKIP_TRIGGERS) or text in lookup


# ------------------------------------------------------- the worksheet XML scan
def _scan(data: bytes, fast: bool):
    book = zipfile.ZipFile(io.BytesIO(data))
    out = {}
    for info in book.infolist():
        scan = guard._XmlScan("x.xlsx", info, guard.Budget(config.Limits()))
        if not fast:
            scan._fast = lambda buf: 0
        for chunk in guard._inflate("x.xlsx", book, info):
            scan.feed(chunk)
        out[info.filename] = (scan.min_row, scan.max_row, scan.min_col, scan.max_col)
    return out


def _xlsxwriter_book(rows: list[list[object]]) -> bytes:
    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"constant_memory": True, "in_memory": True})
    sheet = book.add_worksheet("户信息")
    fmt = book.add_format({"bold": True})
    for r, row in enumerate(rows):
        for c, v in enumerate(row):
            if v is not None:
                sheet.write(r, c, v)
    sheet.write_blank(len(rows) + 5000, 300, None, fmt)  # a styled empty cell far away
    book.close()
    return buf.getvalue()


@pytest.mark.parametrize("writer", ["openpyxl", "xlsxwriter"])
def test_the_numpy_scan_finds_what_the_regex_scan_finds(writer):
    rows = household_rows()
    data = xlsx_bytes(rows) if writer == "openpyxl" else _xlsxwriter_book(rows)
    assert _scan(data, fast=True) == _scan(data, fast=False)


ODD_CELLS = [
    '<c r="XFD1048576"><v>1</v></c>',  # far away, not empty
    '<c r="XFD1048576" s="1"/>',  # far away, empty
    '<c r="XFD1048576" s="1"></c>',
    "<c r='XFD1048576'><v>1</v></c>",  # single quotes: left to the regex
    '<c r="XFD1048576" x="/>"><v>1</v></c>',  # a ">" inside an attribute
    '<x:c r="XFD1048576"><v>1</v></x:c>',  # a namespace prefix
    "<c><v>1</v></c>",  # no reference
    '<c r="XFD1048576" >  </c>',
    '<c r="A1048576"><v>1</v></c >',
]


def _odd_sheet(cell: str, rows: int = 3000, spaced: bool = True) -> bytes:
    """An .xlsx whose sheet holds plain rows, ``cell`` in a row of its own, and more
    plain rows (with two spaces in their row tags when ``spaced``)."""
    plain = "".join(
        f'<row r="{r}">'
        + "".join(f'<c r="{c}{r}" t="s"><v>0</v></c>' for c in "ABCDEFGH")
        + "</row>"
        for r in range(1, rows)
    )
    xml = (
        '<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/'
        f'spreadsheetml/2006/main"><sheetData>{plain}<row r="{rows}">{cell}</row>'
        f"{plain.replace('<row r=', '<row  r=') if spaced else plain}</sheetData></worksheet>"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", xml)
    return buf.getvalue()


@pytest.mark.parametrize("cell", ODD_CELLS)
def test_an_odd_cell_among_plain_ones_is_scanned_as_the_regex_scans_it(cell):
    data = _odd_sheet(cell)
    assert _scan(data, fast=True) == _scan(data, fast=False)


def _check_outcome(data: bytes) -> str:
    try:
        guard._check_zip("x.xlsx", data, config.Limits())
    except results.ReadError as e:
        return str(e)
    return "accepted"


@pytest.mark.parametrize("cell", [*ODD_CELLS, '<c r="B3000" t="s"><v>0</v></c>'])
def test_the_threaded_scan_finds_what_the_plain_scan_finds(cell, monkeypatch):
    # small chunks: many stretches of rows in the worker threads at once
    monkeypatch.setattr(guard, "_INFLATE_OUT", 8 * 1024)
    all_plain = cell.startswith('<c r="B3000"')
    data = _odd_sheet(cell, rows=6000, spaced=not all_plain)
    book = zipfile.ZipFile(io.BytesIO(data))
    [info] = book.infolist()
    plain = guard._XmlScan("x.xlsx", info, guard.Budget(config.Limits()))
    for chunk in guard._inflate("x.xlsx", book, info):
        plain.feed(chunk)
    threaded = guard._scan_threaded("x.xlsx", book, info, guard.Budget(config.Limits()))
    if all_plain:  # no stretch given up
        assert threaded is not None
    if threaded is not None:
        state = ("min_row", "max_row", "min_col", "max_col", "row", "col", "carry")
        assert [getattr(threaded, k) for k in state] == [getattr(plain, k) for k in state]
    # the whole check refuses (or accepts) the file alike, threaded or not
    monkeypatch.setattr(guard, "_THREADED_SCAN_BYTES", 0)
    threaded_outcome = _check_outcome(data)
    monkeypatch.setattr(guard, "_THREADED_SCAN_BYTES", 2**62)
    assert threaded_outcome == _check_outcome(data)


def test_a_member_sheet_parses_the_same_both_ways():
    """Relation and sex codes, unknown ones (a warning), sex and birth date from the ID
    where the row has none, a row without 户编号 (rejected)."""
    from tests.builders import make_id

    header = ["户编号", "人编号", "姓名", "身份证号", "与户主关系", "性别", "出生日期"]
    rows: list[list[object]] = [header]
    relations = ["户主", "配偶", "之子", "21", 30, "之外甥", "孙女", "99"]
    for n in range(1, 301):
        sex = None if n % 3 == 0 else ("男", "女", 1, 2, "未知")[n % 5]
        born = None if n % 4 == 0 else "1990-05-06"
        hid = None if n % 97 == 0 else f"H{n // 4}"
        rows.append([hid, f"P{n}", f"王{n}", make_id(n % 1000), relations[n % 8], sex, born])
    [(fast, slow)] = _parse_both(xlsx_bytes(rows, sheet="家庭成员"), "家庭成员.xlsx")
    _same(fast, slow)
    assert fast.table == "members" and len(fast.rejected) == 3
    assert {"W_CODE", "E_REQUIRED"} <= {p.code for p in fast.problems}
    assert {r["sex"] for r in slow.rows} == {"male", "female"}  # 未知 and blanks: from the ID


def _person_list_with_quirks() -> bytes:
    """A national person list of 400 households (1-4 members each, enough distinct cells
    for the column shortcuts) with the quirks of issue 14's person-level exports."""
    from tests.builders import make_id, person_list, person_row

    rows: list[list[object]] = [list(range(1, 27))]  # a column-numbering row under the header
    n = 0
    at: dict[tuple[int, int], int] = {}  # (household, member) -> its index in rows
    for h in range(1, 401):
        size = 1 + h % 4
        for m in range(size):
            n += 1
            idn = make_id(n % 1000, birth=f"19{40 + m * 15 + h % 9:02d}0{1 + h % 9}1{h % 10}")
            relation = ("户主", "配偶", "之子", "之女")[m]
            over: dict[str, object] = {
                "seq": n,
                "pid": f"530921103001{h:04d}{m:02d}",
                "name": f"张{n}",
                "id_number": idn,
                "size": size,
                "relation": relation,
                "income": 3000 + h,
            }
            if m:  # household fields on the member rows too, some left blank
                over["village"] = None if h % 5 == 0 else "孔兴村"
            at[h, m] = len(rows)
            rows.append(person_row(h, **over))
    hid = 5  # 户编号's column
    rows[10][8] = rows[10][8][:-1] + ("0" if rows[10][8][-1] != "0" else "1")  # check char
    rows[20][10] = "之外甥"  # an unknown relation: W_CODE
    rows[at[15, 1]][3] = "新华村"  # a member disagreeing with its head's village
    rows[40][9] = "无"  # 人数 as 无
    rows[50][hid] = None  # a member row without 户编号
    rows[at[11, 0]][10] = "之子"  # no 户主
    rows[at[7, 1]][10] = "户主"  # two heads
    for m in range(4):  # a household without its village: rejected with its members
        rows[at[19, m]][3] = None
    rows[80][18] = "已脱贫"  # 脱贫属性 against 户类型
    rows[90][7] = "王\u200b五"  # an invisible character
    rows[100][8] = "530921800101001"  # a 15-digit ID
    rows[110][9] = 7  # a declared 人数 that differs from the member rows
    rows[120][13] = "在校"
    rows[130][12] = None
    rows[140][8] = 530921198001010011  # an ID as a number
    rows[150][14] = "/"
    rows.insert(200, list(PERSON_LIST_HEADER))  # the header again
    rows.insert(300, [None] * 26)  # a blank row
    rows.insert(350, ["合计", *[None] * 4, "合计", *[None] * 20])
    rows.append(["填表人：李四", *[None] * 25])
    rows.append(["审核人：王五", *[None] * 25])
    return xlsx_bytes(person_list(rows), sheet="人口明细")


def test_a_person_list_with_every_quirk_rolls_up_the_same_by_column_and_cell_by_cell():
    """A person-level sheet: skipped rows, cell problems, member row rules, the roll-up's
    warnings and rejections, the person rules: the same row for row both ways."""
    from analytics.importing import parse

    data = _person_list_with_quirks()
    limits = config.limits()
    fast, slow = (
        parse.parse_file(results.FileReport("人口明细.xlsx", ""), data, None, limits, by_column=b)
        for b in (True, False)
    )
    tables = [("人口明细", "households"), ("人口明细", "members")]
    assert [(p.sheet, p.table) for p in fast.parsed] == tables
    for a, b in zip(fast.parsed, slow.parsed, strict=True):
        _same(a, b)
    assert fast.problems == slow.problems and fast.sheets == slow.sheets
    assert fast.data_date == slow.data_date
    households = fast.parsed[0]
    # the 4 rows of the household without a village and the row without 户编号 (the 人数 "无"
    # household loads: its persons are its member rows)
    assert len(households.rejected) == 5
    assert households.skipped["total"] and households.skipped["header"]
    assert households.skipped["footer"] == 2 and households.skipped["numbering"] == 1
    codes = {p.code for p in fast.problems}
    assert {
        "W_ID_CHECK",
        "W_CODE",
        "W_MEMBER_DISAGREE",
        "W_SIZE_MEMBERS",
        "E_REQUIRED",
        "W_NO_HEAD",
        "W_TWO_HEADS",
        "W_INVISIBLE",
        "W_ID_LEGACY15",
        "W_ID_AS_NUMBER",
    } <= codes
