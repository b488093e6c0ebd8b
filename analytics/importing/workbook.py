"""What a workbook says as a whole, beyond each of its sheets: the township of a sheet that
names none, and the date its data is as of.

A township office's workbook names its township once or twice: in the households sheet's
title, in a 乡(镇) column, in the file name; its other sheets (易地扶贫搬迁, 村基本情况) often
name none. ``settle`` gives each such sheet the township the rest of the workbook names
when every source agrees, and the sources when they disagree (its rows are then rejected
saying which: row_rules E_TOWNSHIP_UNCLEAR). ``data_date`` reads the date the data is as
of: a title's 数据日期 / 导出时间, else the file name's YYYYMMDD (``…_20231218.xlsx``). The
" (22)" a browser appends to the name of a file downloaded again is noise, never a township
nor a date.

Sources: ../shared/DOMAIN.md ("What offices really export", "After 2020": every batch has a
data date; the national file names).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterable, Sequence

from analytics.domain import schema
from analytics.domain.labels import Both, texts
from analytics.importing.locate import (
    InferredTownship,
    LocatedTable,
    place_from_title,
    township_from_title,
)
from analytics.importing.results import ParsedTable
from analytics.importing.values import DATE_FLOOR, SPACES, clean_text, parse_date

# " (22)" or "（3）" at the end of a name: a browser's count of downloads of one file.
_DOWNLOAD_COUNT = re.compile(r"\s*[(（]\d+[)）]\s*$")
# A date written as YYYYMMDD inside a file name (not part of a longer number).
_NAME_DATE = re.compile(r"(?<!\d)(\d{8})(?!\d)")
_SHOWN_NAMES = 5  # townships of one column named in a message, at most


def name_stem(file_name: str) -> str:
    """A file's name without its folder, suffix and a browser's download count:
    ``"（自定义）监测对象信息 (22).xlsx"`` -> ``"（自定义）监测对象信息"``."""
    stem = os.path.splitext(os.path.basename(file_name))[0]
    return _DOWNLOAD_COUNT.sub("", stem)


def name_township(file_name: str) -> str | None:
    """The township a file's name names ("诗礼乡户信息.xlsx" -> "诗礼乡"), or None
    (``locate.township_from_title`` on ``name_stem``)."""
    return township_from_title(name_stem(file_name))


def name_date(file_name: str) -> dt.date | None:
    """The data date a file's name holds as YYYYMMDD (``…_20231218.xlsx``), or None: the
    first eight-digit run that is a date from 1990 to a year from today."""
    for m in _NAME_DATE.finditer(name_stem(file_name)):
        day = parse_date(m.group(1))
        if day is not None and _plausible(day):
            return day
    return None


def _plausible(day: dt.date) -> bool:
    return DATE_FLOOR <= day <= dt.date.today() + dt.timedelta(days=366)


def title_date(text: str) -> dt.date | None:
    """The data date a title line gives after one of ``schema.DATA_DATE_WORDS``
    ("导出时间：2019-12-31", "数据日期：2019年12月31日"), or None."""
    m = schema.DATA_DATE_PATTERN.search(clean_text(text))
    if m is None:
        return None
    day = parse_date(m.group(1))
    return day if day is not None and _plausible(day) else None


def data_date(file_name: str, tables: Iterable[LocatedTable]) -> tuple[dt.date | None, str]:
    """The date a file's data is as of, and where it was read: the first sheet title that
    gives one ("title", ``title_date``), else the file name ("file_name", ``name_date``);
    (None, "") when neither does."""
    for t in tables:
        for row in t.grid.rows[: t.header_rows[0]]:
            for v in row:
                day = title_date(v) if isinstance(v, str) else None
                if day is not None:
                    return day, "title"
    day = name_date(file_name)
    return (day, "file_name") if day is not None else (None, "")


def latest_row_date(tables: Iterable[ParsedTable]) -> dt.date | None:
    """The latest survey (调查日期) or meeting (会议日期) day of the tables' loadable rows,
    or None: the data date of a file that names none (title, file name). The store applies
    the same rule to a batch written without one (``Store.insert_batch``, the bulk path)."""
    days = [
        r.get(key)
        for t in tables
        for key in ("survey_date", "meeting_date")
        if key in t.headers.values()
        for r in t.rows
    ]
    found = [d for d in days if isinstance(d, dt.date)]
    return max(found) if found else None


def _column_townships(t: LocatedTable, c: int) -> list[str]:
    """The townships a sheet's 乡(镇) column names, in order of first appearance (cells that
    name none, such as 合计, left out)."""
    found: dict[str, None] = {}
    for v in dict.fromkeys(row[c] for row in t.grid.rows[t.data_start :]):
        if v is None:
            continue
        name = township_from_title(SPACES.sub("", clean_text(v)))
        if name:
            found[name] = None
    return list(found)


def settle(file_name: str, tables: Sequence[LocatedTable]) -> None:
    """Gives each sheet of a workbook that names no township (none in its title, its 乡(镇)
    column missing or empty) what the rest of the workbook names
    (``LocatedTable.inferred``): another sheet's title, another sheet's 乡(镇) column, the
    file name (``name_township``).

    When they all name one township, that one, with where it comes from ("sheet_title",
    "sheet_column", "file_name", or "workbook" for several kinds); when they name several,
    no township and every source with what it names (``InferredTownship``); when none names
    any, nothing. A township given at upload still comes first
    (``LocatedTable.township_for``).
    """
    _settle_places(file_name, tables)
    sources: list[tuple[list[str], str, Both]] = []
    names_none: list[LocatedTable] = []
    for t in tables:
        sheet = t.grid.sheet
        if t.title_township:
            said = texts("msg_src_sheet_title", sheet=sheet, township=t.title_township)
            sources.append(([t.title_township], "sheet_title", said))
        c = t.column_of("township")
        names = _column_townships(t, c) if c is not None else []
        if not t.title_township and not names:
            names_none.append(t)
        if names:
            shown = "、".join(names[:_SHOWN_NAMES]) + ("…" if len(names) > _SHOWN_NAMES else "")
            said = texts("msg_src_sheet_column", sheet=sheet, township=shown)
            sources.append((names, "sheet_column", said))
    named = name_township(file_name)
    if named:
        sources.append(([named], "file_name", texts("msg_src_file_name", township=named)))
    townships = {name for names, _, _ in sources for name in names}
    if not townships:
        return
    said = Both("；".join(s.zh for _, _, s in sources), "; ".join(s.en for _, _, s in sources))
    kinds = {kind for _, kind, _ in sources}
    source = kinds.pop() if len(kinds) == 1 else "workbook"
    inferred = (
        InferredTownship(townships.pop(), source, said)
        if len(townships) == 1
        else InferredTownship(None, "unclear", said)
    )
    for t in names_none:
        t.inferred = inferred


def _column_places(t: LocatedTable, key: str) -> set[str]:
    """The provinces or counties (``key``) a sheet's column of that field names: its
    distinct cells that read as such a name (``schema.PROVINCE_NAMES`` or a name ending in
    省; ``schema.TITLE_COUNTY_PATTERN``), so that a 合计 cell names none."""
    c = t.column_of(key)
    if c is None:
        return set()
    found = set()
    for v in {row[c] for row in t.grid.rows[t.data_start :]}:
        name = SPACES.sub("", clean_text(v)) if v is not None else ""
        if key == "province":
            ok = name in schema.PROVINCE_NAMES or name.endswith("省")
        else:
            ok = schema.TITLE_COUNTY_PATTERN.match(name) is not None
        if ok and not schema.TOTAL_PATTERN.match(name):
            found.add(name)
    return found


def _settle_places(file_name: str, tables: Sequence[LocatedTable]) -> None:
    """Gives each sheet whose title names no province or county
    (``LocatedTable.title_places``) the one the rest of the workbook names: another
    sheet's title, another sheet's 县 / 省 column, the file name (``place_from_title`` on
    ``name_stem``), when they all name one (``LocatedTable.inferred_places``); a sheet
    whose own column names some keeps its blank cells blank. When they name several, a
    sheet that names none keeps none: its rows' county is blank (one
    unnamed county), as before counties were read.
    """
    named = place_from_title(name_stem(file_name))
    for key in schema.ABOVE_TOWNSHIP:
        names = {t.title_places[key] for t in tables if key in t.title_places}
        for t in tables:
            names |= _column_places(t, key)
        if key in named:
            names.add(named[key])
        if len(names) != 1:
            continue
        (name,) = names
        for t in tables:
            if key not in t.title_places and not _column_places(t, key):
                t.inferred_places[key] = name
