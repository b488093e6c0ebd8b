"""Read uploaded files into cell grids and find the tables in them.

File bytes -> ``Grid`` (one per sheet, merged cells filled, Excel row numbers kept) ->
``LocatedTable`` (which table, where its header is, which column holds which field).
Excel files (.xlsx .xlsm .xls .xlsb .ods) are read with python-calamine; CSV is decoded
strictly (UTF-8, UTF-8 with BOM, UTF-16 with BOM, GB18030) and split with the csv module.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import PurePath

import python_calamine

from analytics import schema

EXCEL_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"})
CSV_SUFFIXES = frozenset({".csv", ".txt"})
HEADER_SCAN_ROWS = 40  # a header further down than this is not looked for


class ReadError(Exception):
    """A file that cannot be read at all (wrong format, corrupt, undecodable).

    ``str(err)`` is a message for the user that names the file.
    """


@dataclass
class Grid:
    """The cells of one sheet. ``rows[i][j]`` is Excel row ``i + 1``, column ``j + 1``.

    Cells are ``None`` when truly empty; a merged range gives its top-left value to every
    cell it spans. Types are kept as the file holds them: a number cell is a float or int,
    a text cell a str, a date cell a date or datetime (CSV cells are all str).
    """

    file: str
    sheet: str
    rows: list[list[object]]
    width: int


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


def read_grids(file_name: str, data: bytes) -> list[Grid]:
    """Reads every sheet of an Excel file, or the one table of a CSV file.

    Parameters
    ----------
    file_name : the name as uploaded; its suffix picks the reader.
    data : the file's bytes.

    Raises
    ------
    ReadError
        Unsupported suffix, a corrupt or password-protected workbook, or a CSV that is
        neither valid UTF-8/UTF-16 nor GB18030.
    """
    suffix = PurePath(file_name).suffix.lower()
    if suffix in EXCEL_SUFFIXES:
        return _read_excel(file_name, data)
    if suffix in CSV_SUFFIXES:
        return [_read_csv(file_name, data)]
    raise ReadError(
        f"{file_name}：不支持的文件类型“{suffix or '无后缀'}”，"
        "请上传 .xlsx、.xlsm、.xls 或 .csv 文件。"
        f" / {file_name}: unsupported file type '{suffix}'; upload .xlsx, .xlsm, .xls or .csv."
    )


def _read_excel(file_name: str, data: bytes) -> list[Grid]:
    try:
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        grids = []
        for name in book.sheet_names:
            sheet = book.get_sheet_by_name(name)
            rows = sheet.to_python(skip_empty_area=False)
            merged = sheet.merged_cell_ranges or []
            grids.append(_make_grid(file_name, name, rows, merged))
        return grids
    except python_calamine.PasswordError as e:
        raise ReadError(
            f"{file_name}：工作簿有密码保护，请取消密码后再上传。"
            f" / {file_name}: the workbook is password-protected."
        ) from e
    except (python_calamine.CalamineError, ValueError, OSError) as e:
        raise ReadError(
            f"{file_name}：无法读取，文件已损坏或不是 Excel 工作簿（{type(e).__name__}：{e}）。"
            f" / {file_name}: cannot be read; the file is damaged or not an Excel workbook."
        ) from e


def _make_grid(file_name: str, sheet: str, raw: list[list[object]], merged: list) -> Grid:
    rows: list[list[object]] = [[None if v == "" else v for v in r] for r in raw]
    width = max((len(r) for r in rows), default=0)
    for _start, (r1, c1) in merged:
        width = max(width, c1 + 1)
        while len(rows) <= r1:
            rows.append([])
    for r in rows:
        r.extend([None] * (width - len(r)))
    for (r0, c0), (r1, c1) in merged:
        value = rows[r0][c0] if r0 < len(rows) else None
        for r in range(r0, r1 + 1):
            for c in range(c0, c1 + 1):
                rows[r][c] = value
    return Grid(file=file_name, sheet=sheet, rows=rows, width=width)


def decode_text(file_name: str, data: bytes) -> str:
    """Decodes CSV bytes strictly: UTF-8 (BOM or not), UTF-16 with BOM, else GB18030.

    Raises
    ------
    ReadError
        When no encoding decodes every byte: nothing is dropped or replaced silently.
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
            return data.decode(enc, errors="strict")
        except UnicodeDecodeError as e:
            last = e
    pos = last.start if last else 0
    raise ReadError(
        f"{file_name}：无法识别文字编码（第 {pos} 字节起既不是 UTF-8 也不是 GB18030），"
        "请用 Excel 另存为“CSV UTF-8”或直接上传 Excel 文件。"
        f" / {file_name}: undecodable text at byte {pos}: neither UTF-8 nor GB18030."
    )


def _read_csv(file_name: str, data: bytes) -> Grid:
    text = decode_text(file_name, data)
    sample = text[:8192]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, ",\t;")
    except csv.Error:
        # Sniffing fails on ragged files (a one-cell title line): take the commoner separator.
        dialect = csv.excel_tab if sample.count("\t") > sample.count(",") else csv.excel
    try:
        raw = list(csv.reader(io.StringIO(text, newline=""), dialect))
    except csv.Error as e:
        raise ReadError(f"{file_name}：CSV 格式错误：{e} / {file_name}: malformed CSV: {e}") from e
    return _make_grid(file_name, "CSV", raw, [])


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


def locate(grid: Grid) -> LocatedTable | SheetNote:
    """Finds the table in a grid: the header row(s) and the field of each column.

    Each table kind of ``schema.TABLES`` is tried on every row among the first
    ``HEADER_SCAN_ROWS``; the kind and row whose header matches most fields (and holds one of
    the kind's signatures, and none of its forbidden fields) wins; ties go to the earliest
    row, then the higher priority. Returns a ``SheetNote`` when nothing fits.
    """
    if not any(any(v is not None for v in r) for r in grid.rows):
        return SheetNote(grid.file, grid.sheet, "空工作表", "empty sheet")
    best = None
    for table in schema.TABLES.values():
        lookup = schema.header_lookup(table)
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
    return _finish(grid, table, columns, header_rows)


def _finish(grid: Grid, table: schema.Table, columns: dict[int, str], header_rows) -> LocatedTable:
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
    )


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
