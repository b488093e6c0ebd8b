"""Locating the table in a cell grid: which table kind a sheet holds, where its header
is, which column holds which field.

``Grid`` (analytics/importing/sheets.py) -> ``LocatedTable``, or a ``SheetNote`` saying why
the sheet holds none. Headers are looked up with the one spelling lookup of every import
path (``schema.header_lookup``), with the office's confirmed spellings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from openpyxl.utils import get_column_letter

from analytics.domain import schema
from analytics.domain.labels import Both, texts
from analytics.importing.sheets import Grid
from analytics.importing.values import clean_text, parse_date, parse_yesno

HEADER_SCAN_ROWS = 40  # a header further down than this is not looked for
_NUMBER_TEXT = re.compile(r"[+-]?(\d[\d,]*(\.\d*)?|\.\d+)")  # a number written as text
# Coded values (registry states, adjustments, findings): a field's values, never a header.
_CODE_WORDS = frozenset(
    schema.value_lookup(
        {
            **schema.REGISTRY_STATES,
            **schema.STATES_WITH_ADJUSTMENT,
            **schema.ADJUSTMENTS,
            **schema.FINDINGS,
            **schema.RELATIONS,
            **schema.SEXES,
        }
    )
)


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
    # the shape of the sheet (which field a header means on it)
    shape: schema.Shape = schema.TEMPLATE
    # field -> the field whose column it is read from on this sheet (``schema.Table.stand_ins``)
    stood_in: dict[str, str] = field(default_factory=dict)
    # the township the rest of the workbook names, for a sheet that names none
    # (analytics/importing/workbook.py ``settle``)
    inferred: InferredTownship | None = None
    # On a person-level household sheet (one row per member, household fields beside:
    # ``schema.MEMBER_SHEET``): column index -> member field key (``schema.MEMBERS``), the
    # shared 户编号 left out (it is in ``columns``). Empty on every other sheet.
    members: dict[int, str] = field(default_factory=dict)
    # The province and county (``schema.ABOVE_TOWNSHIP`` key -> name) the sheet's title
    # names (``place_from_title``), and those the rest of the workbook names for a sheet
    # whose title names none (analytics/importing/workbook.py ``settle``).
    title_places: dict[str, str] = field(default_factory=dict)
    inferred_places: dict[str, str] = field(default_factory=dict)

    def places(self) -> dict[str, str]:
        """The province and county a row of this sheet whose cell is blank (or that has no
        such column) takes: the sheet's title's, else the rest of the workbook's."""
        return {**self.inferred_places, **self.title_places}

    @property
    def person_level(self) -> bool:
        """Whether the sheet holds one row per person: a member table, or a household
        table with member columns beside (rolled up by analytics/importing/rollup.py)."""
        return bool(self.members) or self.table.key == schema.MEMBERS.key

    def member_column_of(self, key: str) -> int | None:
        """The column index holding member field ``key``, or None."""
        if self.table.key == schema.MEMBERS.key:
            return self.column_of(key)
        for c, k in self.members.items():
            if k == key:
                return c
        return None

    def raw_row(self, cells: list[object]) -> dict[str, str]:
        """A data row's cells as a rejected row keeps them for the quarantine: header (or
        the column letter where it has none) -> clean text, empty cells left out."""
        return {
            (self.headers.get(c) or get_column_letter(c + 1)): clean_text(v)
            for c, v in enumerate(cells)
            if v is not None
        }

    def lookup(self) -> dict[str, str]:
        """The header lookup of this table (``schema.header_lookup``: its kind, the office's
        spellings, the sheet's shape, a field read from a stand-in's column): the one every
        import path uses on its rows."""
        lookup = schema.header_lookup(self.table, self.spellings, self.shape)
        if self.stood_in:
            instead = {stand_in: key for key, stand_in in self.stood_in.items()}
            lookup = {s: instead.get(k, k) for s, k in lookup.items()}
        return lookup

    def township_for(self, upload: str | None) -> tuple[str | None, str]:
        """The township a row without one takes, and where it comes from (the key of its
        label ``source_<source>``): given at ``upload``, else the sheet's own title, else
        what the rest of the workbook names (``inferred``, for a sheet whose 乡(镇) column
        is empty or missing); "column" when the sheet's township column names some (its
        empty cells still take the upload's or the title's township), "unclear" when the
        workbook's sources disagree, "none" when nothing names one.
        """
        own = upload or self.title_township
        if self.column_of("township") is not None and (own or self.inferred is None):
            return own, "column"
        if upload:
            return upload, "upload"
        if self.title_township:
            return self.title_township, "title"
        if self.inferred is not None:
            if self.inferred.township is None:
                return None, "unclear"
            return self.inferred.township, self.inferred.source
        return None, "none"

    def unclear_sources(self) -> Both | None:
        """When the rest of the workbook names townships that disagree, its sources (for
        the message of a row without a township), else None."""
        if self.inferred is None or self.inferred.township is not None:
            return None
        return self.inferred.sources

    def column_of(self, key: str) -> int | None:
        """The column index holding field ``key``, or None when the sheet lacks it."""
        for c, k in self.columns.items():
            if k == key:
                return c
        return None


@dataclass(frozen=True)
class InferredTownship:
    """The township the rest of a workbook names, for a sheet that names none.

    Attributes
    ----------
    township : the one township every source names, or None when they disagree.
    source : where it comes from when there is one source kind ("sheet_title",
        "sheet_column", "file_name"; "workbook" for several that agree).
    sources : every source with what it names, as a message says it (both languages).
    """

    township: str | None
    source: str
    sources: Both


@dataclass
class SheetNote:
    """A sheet that holds no recognisable table, and why."""

    file: str
    sheet: str
    reason: str
    reason_en: str


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


def _is_value(v: object) -> bool:
    """Whether a cell reads as a value of some field rather than as a header: a number,
    date or yes/no cell, or text that is a plain number ("4", "5,200.5"; not "2016年", a
    header of a year's column), a date, a yes/no word, a coded value (未脱贫, 拟退出,
    错评 ...) or a word for "nothing here" (无, /)."""
    if not isinstance(v, str):
        return True
    text = clean_text(v).replace(" ", "")
    return (
        text in _CODE_WORDS
        or text in schema.BLANK_WORDS
        or parse_yesno(text) is not None
        or _NUMBER_TEXT.fullmatch(text) is not None
        or parse_date(text) is not None
    )


def looks_like_header(
    cells: list[object], lookup: dict[str, str], above: list[object] | None = None
) -> bool:
    """Whether a row looks like a header row as a whole: more than half of its non-empty
    cells read as headers.

    A cell reads as a header when it is a known header spelling (``lookup``) or group
    header (``schema.GROUP_HEADERS``); else, when it is no value (``_is_value``: a number,
    date, yes/no word, coded value), on a first header row (``above`` None) any text, and on
    a row under the header ``above`` a sub-header: text under an empty or group cell of the
    row above, under a cell spanning several columns (a merged group), or repeating the
    cell above (a header cell merged down). Any other cell reads as data: one cell that
    happens to be a header spelling (户主 under 与户主关系) never makes a data row a header.
    """
    header = value = 0
    for c, v in enumerate(cells):
        if v is None or (isinstance(v, str) and not v.strip()):
            continue
        if isinstance(v, str) and (
            schema.header_key(v) in lookup or schema.header_key(v) in schema.GROUP_HEADERS
        ):
            header += 1
        elif _is_value(v):
            value += 1
        elif above is None or _under_group(above, c, schema.header_key(v)):
            header += 1
        else:
            value += 1
    return header > value


def _under_group(above: list[object], c: int, key: str) -> bool:
    """Whether column ``c`` of the row under ``above`` holds a sub-header ``key``: the cell
    above is empty, a group header, spans its neighbours (the same text beside it) or is
    ``key`` itself (merged down)."""

    def text(k: int) -> str:
        v = above[k] if 0 <= k < len(above) else None
        return schema.header_key(v) if isinstance(v, str) else ""

    top = text(c)
    return not top or top in schema.GROUP_HEADERS or top == key or top in (text(c - 1), text(c + 1))


def _candidate(
    grid: Grid, table: schema.Table, r: int, lookup: dict[str, str]
) -> tuple[dict[int, str], tuple[int, ...], dict[str, str]] | None:
    """The header that starts at row r: one row, or two when row r+1 holds sub-headers and
    looks like a header row as a whole (``looks_like_header``); its columns (a field read
    from a stand-in's column, ``schema.Table.stand_ins``, included) and the stand-ins used.
    """
    top = _match_row(grid.rows[r], lookup)
    if not top or not looks_like_header(grid.rows[r], lookup):
        return None
    columns = dict(top)
    header_rows: tuple[int, ...] = (r,)
    if r + 1 < len(grid.rows):
        below = grid.rows[r + 1]
        sub = _match_row(below, lookup)
        if any(c not in top for c in sub) and looks_like_header(below, lookup, grid.rows[r]):
            columns.update(sub)
            header_rows = (r, r + 1)
    stood_in: dict[str, str] = {}
    keys = set(columns.values())
    for key, stand_in in table.stand_ins.items():
        if key not in keys and stand_in in keys:
            stood_in[key] = stand_in
            columns = {c: key if k == stand_in else k for c, k in columns.items()}
    return columns, header_rows, stood_in


def locate(
    grid: Grid,
    spellings: schema.Spellings = schema.NO_SPELLINGS,
    shape: schema.Shape = schema.TEMPLATE,
) -> LocatedTable | SheetNote:
    """Finds the table in a grid: the header row(s) and the field of each column.

    Each table kind of ``schema.TABLES`` is tried on every row among the first
    ``HEADER_SCAN_ROWS``; the kind and row whose header matches most fields (and holds one of
    the kind's signatures, and none of its forbidden fields) wins; ties go to the earliest
    row, then the higher priority. Headers are looked up with ``schema.header_lookup``, the
    office's confirmed ``spellings`` and the sheet's ``shape`` (which field a header means
    on it). Each header left unused gets the field it most
    likely means, if any (``LocatedTable.proposals``). Returns a ``SheetNote`` when nothing
    fits.
    """
    if not any(any(v is not None for v in r) for r in grid.rows):
        return SheetNote(grid.file, grid.sheet, *texts("msg_empty_sheet"))
    best = None
    for table in schema.TABLES.values():
        lookup = schema.header_lookup(table, spellings, shape)
        for r in range(min(HEADER_SCAN_ROWS, len(grid.rows))):
            cand = _candidate(grid, table, r, lookup)
            if cand is None:
                continue
            columns, header_rows, stood_in = cand
            keys = set(columns.values())
            if keys & table.forbidden or not any(s <= keys for s in table.signatures):
                continue
            score = (len(keys), -r, table.priority)
            if best is None or score > best[0]:
                best = (score, table, columns, header_rows, stood_in)
    if best is None:
        return SheetNote(grid.file, grid.sheet, *texts("msg_no_header", rows=HEADER_SCAN_ROWS))
    _, table, columns, header_rows, stood_in = best
    members: dict[int, str] = {}
    person = _person_level(grid, header_rows, spellings)
    if person is not None and shape == schema.TEMPLATE:
        table, columns, header_rows, stood_in, members = person
        shape = schema.MEMBER_SHEET if members else shape
    located = _finish(grid, table, columns, header_rows, spellings, shape, members)
    located.stood_in = stood_in
    return located


def _person_level(
    grid: Grid, header_rows: tuple[int, ...], spellings: schema.Spellings
) -> tuple[schema.Table, dict[int, str], tuple[int, ...], dict[str, str], dict[int, str]] | None:
    """Whether the header at ``header_rows`` is a person-level sheet's: 与户主关系 or 人编号
    beside 户编号 (``schema.MEMBER_MARKS``; DOMAIN.md "What offices really export").

    Returns None for any other sheet; else (table, columns, header rows, stand-ins, member
    columns): the household table read with ``schema.MEMBER_SHEET`` (姓名 / 证件号码 are the
    member's) and its member columns beside, when the header holds a household signature
    that way; else the member table alone (a bare 家庭成员 sheet) and no member columns.
    """
    lookup = schema.header_lookup(schema.MEMBERS, spellings)
    found: dict[int, str] = {}
    for r in header_rows:
        for c, k in _match_row(grid.rows[r], lookup).items():
            found.setdefault(c, k)
    keys = set(found.values())
    if "household_id" not in keys or not keys & schema.MEMBER_MARKS:
        return None
    households = schema.HOUSEHOLDS
    cand = _candidate(
        grid,
        households,
        header_rows[0],
        schema.header_lookup(households, spellings, schema.MEMBER_SHEET),
    )
    if cand is not None:
        columns, rows, stood_in = cand
        held = set(columns.values())
        if any(s <= held for s in households.signatures) and not held & households.forbidden:
            members = {c: k for c, k in found.items() if k != "household_id" and c not in columns}
            return households, columns, rows, stood_in, members
    return schema.MEMBERS, found, header_rows, {}, {}


def _finish(
    grid: Grid,
    table: schema.Table,
    columns: dict[int, str],
    header_rows: tuple[int, ...],
    spellings: schema.Spellings,
    shape: schema.Shape,
    members: dict[int, str] | None = None,
) -> LocatedTable:
    members = members or {}
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
    kept_members: dict[int, str] = {}
    for c in sorted(members):
        text = _header_text(grid, header_rows, c)
        if members[c] in kept_members.values():
            duplicates.append(text)
            continue
        kept_members[c] = members[c]
        headers[c] = text
    unused = []
    for c in range(grid.width):
        if c in kept or c in columns or c in members:
            continue
        text = _header_text(grid, header_rows, c)
        if text and schema.header_key(text) not in schema.GROUP_HEADERS:
            unused.append(text)
    top = header_rows[0]
    title_places: dict[str, str] = {}
    for r in range(top):
        for v in grid.rows[r]:
            if isinstance(v, str):
                for key, name in place_from_title(v).items():
                    title_places.setdefault(key, name)
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
        shape=shape,
        members=kept_members,
        title_places=title_places,
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


# A year in a title ("2017年", "2018年度"): never part of a place's name.
_TITLE_YEAR = re.compile(r"[0-9０-９]{2,4}\s*年度?")


def township_from_title(text: str) -> str | None:
    """The township a title or 填报单位 line names: "凤庆县诗礼乡2017年…" -> "诗礼乡",
    "2017年诗礼乡…" -> "诗礼乡".

    Returns None when the text names none. The county part before 县/市/区/州 is dropped,
    and so is a year.
    """
    plain = _TITLE_YEAR.sub("", text).replace(" ", "")
    for m in schema.TITLE_TOWNSHIP_PATTERN.finditer(plain):
        name = m.group(1)
        for sep in ("省", "州", "市", "县", "区", "："):
            name = name.rsplit(sep, 1)[-1]
        if name not in schema.GENERIC_TOWNSHIP_WORDS and not name.endswith("乡镇"):
            return name
    return None


_CJK_TAIL = re.compile(r"[\u4e00-\u9fff]*$")
_CJK_HEAD = re.compile(r"^[\u4e00-\u9fff]*")


def place_from_title(text: str) -> dict[str, str]:
    """The province and county a title or 填报单位 line names, as field keys
    (``schema.ABOVE_TOWNSHIP``) -> names: "云南省临沧市凤庆县诗礼乡2017年…" ->
    ``{"province": "云南省", "county": "凤庆县"}``; ``{}`` when it names neither.

    The province is one of ``schema.PROVINCE_NAMES`` anywhere in the text. The county is
    the name ending in 县/旗/区/市 right before the township the text names
    (``township_from_title``; a prefecture such as 临沧市 or 大理白族自治州 before it is
    dropped), else a name ending in 县/旗 where the text starts (after its province and
    prefecture): "凤庆县2017年贫困户信息表". Generic words (全县, 本县, 城区) are not counties.
    """
    s = _TITLE_YEAR.sub(" ", text.replace(" ", ""))  # a year is a break, not a name
    out: dict[str, str] = {}
    for name in schema.PROVINCE_NAMES:
        at = s.find(name)
        if at >= 0:
            out["province"] = name
            s = s[:at] + " " + s[at + len(name) :]  # a break: no county spans the province
            break
    township = township_from_title(s)
    if township is not None:
        at = s.find(township)
        run = _CJK_TAIL.search(s[:at])
        county = _county_of(run.group(0) if run else "", schema.TITLE_COUNTY_PATTERN)
    else:
        run = _CJK_HEAD.search(s.strip())
        county = _county_of(run.group(0) if run else "", schema.TITLE_LEADING_COUNTY_PATTERN)
    if county:
        out["county"] = county
    return out


def _county_of(run: str, pattern: re.Pattern[str]) -> str | None:
    """The county a run of Chinese text names with ``pattern``, its prefecture dropped."""
    rest = schema.TITLE_PREFECTURE_PATTERN.sub("", run, count=1)
    for text in (rest, run):
        m = pattern.match(text)
        if m and len(m.group(1)) > 1 and not m.group(1).startswith(schema.GENERIC_COUNTY_PREFIXES):
            return m.group(1)
    return None
