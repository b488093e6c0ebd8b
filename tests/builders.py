"""Tiny county workbooks and CSV files, built in memory for the import tests.

Rows are lists of cell values (``None`` = an empty cell); merges are Excel ranges such as
``"C4:C6"``. Nothing here calls the code under test except ``inspect``, a short-hand for
``ingest.inspect_file``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence

import openpyxl
import xlwt
from openpyxl.utils import range_boundaries

from analytics.importing import ingest, results

Rows = Sequence[Sequence[object]]

# Valid 18-digit IDs (GB 11643 check characters worked out by hand: see test_validation.py).
ID_A = "533921198001010010"
ID_B = "533921197512030027"
ID_C = "53392119850611005X"

# The smallest household sheet: columns A..I. A 序号 column first, as counties do.
HOUSEHOLD_HEADER = (
    "序号",  # A
    "乡镇",  # B
    "行政村",  # C
    "村民小组",  # D
    "户编号",  # E
    "户主姓名",  # F
    "户主身份证号",  # G
    "家庭人口数",  # H
    "建档立卡状态",  # I
)
_FIELDS = ("seq", "township", "village", "group", "hid", "name", "id_number", "size", "state")


def household(n: int, **overrides: object) -> list[object]:
    """One row under ``HOUSEHOLD_HEADER``: household ``H00n`` of 孔兴村, 4 persons, 未脱贫.

    Keyword names are those of ``_FIELDS`` (``village=None`` leaves that cell empty).
    """
    row = {
        "seq": n,
        "township": "诗礼乡",
        "village": "孔兴村",
        "group": "孔兴组",
        "hid": f"H{n:03d}",
        "name": "张三",
        "id_number": ID_A,
        "size": 4,
        "state": "未脱贫",
    }
    unknown = set(overrides) - set(row)
    if unknown:
        raise KeyError(f"unknown household fields: {sorted(unknown)}")
    row.update(overrides)
    return [row[k] for k in _FIELDS]


def households_with(header: str, values: Iterable[object], fmt: str = "xlsx") -> bytes:
    """A household sheet with one extra column ``header``, one household per value."""
    rows: list[list[object]] = [[*HOUSEHOLD_HEADER, header]]
    for n, v in enumerate(values, start=1):
        rows.append([*household(n), v])
    if fmt == "xlsx":
        return xlsx_bytes(rows)
    return csv_bytes(rows)


def xlsx_bytes(rows: Rows, merges: Iterable[str] = (), sheet: str = "户信息") -> bytes:
    """A one-sheet .xlsx (also fine saved as .xlsm) written by openpyxl."""
    return workbook_bytes({sheet: (rows, merges)})


def workbook_bytes(sheets: dict[str, tuple[Rows, Iterable[str]]]) -> bytes:
    """A workbook with several sheets: ``{name: (rows, merges)}`` in order."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, (rows, merges) in sheets.items():
        ws = wb.create_sheet(name)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                if value is not None:
                    ws.cell(row=r, column=c, value=value)
        for rng in merges:
            ws.merge_cells(rng)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def xls_bytes(rows: Rows, merges: Iterable[str] = (), sheet: str = "户信息") -> bytes:
    """A one-sheet Excel 97 .xls written by xlwt; merged ranges keep their top-left value."""
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet(sheet)
    merged_cells: set[tuple[int, int]] = set()
    for rng in merges:
        c1, r1, c2, r2 = range_boundaries(rng)
        value = rows[r1 - 1][c1 - 1]
        ws.write_merge(r1 - 1, r2 - 1, c1 - 1, c2 - 1, value)
        merged_cells |= {(r, c) for r in range(r1 - 1, r2) for c in range(c1 - 1, c2)}
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None and (r, c) not in merged_cells:
                ws.write(r, c, value)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def csv_bytes(rows: Rows, encoding: str = "utf-8", delimiter: str = ",") -> bytes:
    """CSV as Excel writes it: ``encoding`` "utf-8-sig" gives a BOM; CRLF line ends."""
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return buf.getvalue().encode(encoding)


# ------------------------------------------------------------------ reading back
def inspect(name: str, data: bytes, township: str | None = None) -> ingest.FileReport:
    """``ingest.inspect_file``; fails the test if the importer raises."""
    return ingest.inspect_file(name, data, township=township)


def single_table(report: ingest.FileReport) -> results.ParsedTable:
    """The one parsed table of a report (fails when there is not exactly one); of a
    person-level sheet, its households table (its members table beside is left out)."""
    assert report.status == "inspected", (report.status, report.message)
    tables = report.parsed
    if len(tables) == 2 and [p.table for p in tables] == ["households", "members"]:
        tables = tables[:1]
    assert len(tables) == 1, [s.sheet for s in report.sheets]
    return tables[0]


def members_of(report: ingest.FileReport) -> list[dict]:
    """The member rows of every members table of a report, in order."""
    return [m for p in report.parsed if p.table == "members" for m in p.rows]


def loaded(report: ingest.FileReport, key: str) -> list[object]:
    """Field ``key`` of every loaded row of the report's one table, in row order."""
    return [r.get(key) for r in single_table(report).rows]


def codes(report: ingest.FileReport) -> list[str]:
    """The rule codes of every problem of the report, in order."""
    return [p.code for p in report.problems]


def problems_of(report: ingest.FileReport, code: str) -> list[results.Problem]:
    """The problems with rule ``code``."""
    return [p for p in report.problems if p.code == code]


# --------------------------------------------- survey workbooks (store, metrics, CLI)
# One row per household with the outcome columns the metrics count. Township 测试乡.
SURVEY_TOWNSHIP = "测试乡"
SURVEY_DAY = dt.date(2017, 7, 6)
SURVEY_HEADER = (
    "乡镇",
    "行政村",
    "村民小组",
    "户编号",
    "户主姓名",
    "家庭人口数",
    "建档立卡状态",
    "动态管理结果",
    "核查结论",
    "调查日期",
    "是否认可",
)
MEETING_HEADER = ("乡镇", "行政村", "村民小组", "会议日期", "会议阶段", "参会人数")
RELOCATION_HEADER = (
    "乡镇",
    "户编号",
    "户主",
    "迁出村",
    "安置点",
    "安置方式",
    "搬迁人口",
    "住房面积",
)
VILLAGE_HEADER = ("乡镇", "行政村", "是否贫困村", "总户数", "总人口", "乡村人口")


def survey_row(
    household_id: str,
    village: str | None,
    group: str | None,
    size: object,
    state: str = "未脱贫",
    adjustment: str | None = None,
    finding: str | None = None,
    *,
    date: object = SURVEY_DAY,
    approval: str | None = None,
    township: str | None = SURVEY_TOWNSHIP,
) -> list[object]:
    """One row under ``SURVEY_HEADER`` (approval "是"/"否", or None for no answer)."""
    name = f"户主{household_id}"
    cells = [township, village, group, household_id, name, size, state, adjustment, finding]
    return [*cells, date, approval]


def meeting_row(
    village: str | None,
    group: str | None,
    attendance: object,
    *,
    date: object = SURVEY_DAY,
    phase: str = "贫情分析",
    township: str | None = SURVEY_TOWNSHIP,
) -> list[object]:
    """One row under ``MEETING_HEADER`` (no village: township-level; no group: village)."""
    return [township, village, group, date, phase, attendance]


def relocation_row(
    household_id: str,
    village: str | None,
    site: str | None,
    mode: str,
    persons: object,
    area: object,
    *,
    township: str | None = SURVEY_TOWNSHIP,
) -> list[object]:
    """One row under ``RELOCATION_HEADER``: persons moved (搬迁人口) and house area (m²)."""
    return [township, household_id, f"户主{household_id}", village, site, mode, persons, area]


def village_row(
    village: str,
    rural_population: object,
    households: object = None,
    *,
    township: str | None = SURVEY_TOWNSHIP,
) -> list[object]:
    """One row under ``VILLAGE_HEADER`` (a non-poor village)."""
    return [township, village, "否", households, None, rural_population]


def survey_workbook(
    households: Rows = (),
    *,
    meetings: Rows = (),
    relocation: Rows = (),
    villages: Rows = (),
) -> bytes:
    """An .xlsx with one sheet per non-empty table, each a header row then its rows."""
    parts = (
        ("户信息", SURVEY_HEADER, households),
        ("贫情分析会议", MEETING_HEADER, meetings),
        ("易地扶贫搬迁", RELOCATION_HEADER, relocation),
        ("村基本情况", VILLAGE_HEADER, villages),
    )
    return workbook_bytes({name: ([header, *rows], ()) for name, header, rows in parts if rows})


# ------------------------------------- registry workbooks (income, 两不愁三保障, flags, IDs)
# The survey columns plus what the anomaly rules read. Township 测试乡, like the survey ones.
SECURE_HEADERS = ("不愁吃穿", "义务教育有保障", "基本医疗有保障", "住房安全有保障")
EXCLUSION_HEADERS = (
    "有财政供养人员",
    "有村干部",
    "有机动车",
    "有城镇商品房",
    "有工商注册",
    "规模经营",
    "拆户分户",
    "空挂户",
)
REGISTRY_HEADER = (
    "乡镇",
    "行政村",
    "村民小组",
    "户编号",
    "户主姓名",
    "户主身份证号",
    "家庭人口数",
    "建档立卡状态",
    "人均纯收入（元）",
    *SECURE_HEADERS,
    "动态管理结果",
    "核查结论",
    "调查日期",
    "是否认可",
    *EXCLUSION_HEADERS,
)
# Written out here on purpose, not taken from analytics/domain/idcard.py: the IDs these
# builders make are the oracle of the validation tests ("a valid number raises nothing"),
# so they must not come from the code under test.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def make_id(seq: int, birth: str = "19800101", region: str = "533921") -> str:
    """A valid 18-digit resident ID (GB 11643 MOD 11-2 check character) with sequence ``seq``."""
    first17 = f"{region}{birth}{seq:03d}"
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return first17 + "10X98765432"[total % 11]


def registry_row(
    household_id: str,
    village: str | None,
    group: str | None,
    size: object,
    state: str = "未脱贫",
    *,
    income: object = 5000,
    id_number: object = None,
    name: str | None = None,
    lacking: Iterable[str] = (),
    flags: Iterable[str] = (),
    adjustment: str | None = None,
    finding: str | None = None,
    date: object = SURVEY_DAY,
    approval: str | None = None,
    township: str | None = SURVEY_TOWNSHIP,
) -> list[object]:
    """One row under ``REGISTRY_HEADER``.

    ``income`` None leaves 人均纯收入 empty; ``id_number`` None leaves the ID empty (a number
    cell when given an int); ``lacking`` names items of ``SECURE_HEADERS`` answered 否 (the
    others 是); ``flags`` names columns of ``EXCLUSION_HEADERS`` answered 是 (the others 否).
    """
    lacking, flags = set(lacking), set(flags)
    unknown = (lacking - set(SECURE_HEADERS)) | (flags - set(EXCLUSION_HEADERS))
    if unknown:
        raise KeyError(f"unknown columns: {sorted(unknown)}")
    return [
        township,
        village,
        group,
        household_id,
        name if name is not None else f"户主{household_id}",
        id_number,
        size,
        state,
        income,
        *("否" if h in lacking else "是" for h in SECURE_HEADERS),
        adjustment,
        finding,
        date,
        approval,
        *("是" if h in flags else "否" for h in EXCLUSION_HEADERS),
    ]


def registry_workbook(
    households: Rows = (),
    *,
    meetings: Rows = (),
    relocation: Rows = (),
    villages: Rows = (),
) -> bytes:
    """Like ``survey_workbook``, with households under ``REGISTRY_HEADER``."""
    parts = (
        ("户信息", REGISTRY_HEADER, households),
        ("贫情分析会议", MEETING_HEADER, meetings),
        ("易地扶贫搬迁", RELOCATION_HEADER, relocation),
        ("村基本情况", VILLAGE_HEADER, villages),
    )
    return workbook_bytes({name: ([header, *rows], ()) for name, header, rows in parts if rows})


# ------------------------------- the national system's person list (人口明细, 2016-2020)
# ../shared/DOMAIN.md "What offices really export": two title rows, the header on row 3.
PERSON_LIST_TITLE = "凤庆县贫困人口明细"
PERSON_LIST_EXPORTED = "导出时间：2019-12-31"
PERSON_LIST_HEADER = (
    "序号",  # A
    "县(市、区、旗)",  # B
    "乡(镇)",  # C
    "行政村",  # D
    "自然村",  # E
    "户编号",  # F
    "人编号",  # G
    "姓名",  # H
    "证件号码",  # I
    "人数",  # J
    "与户主关系",  # K
    "民族",  # L
    "文化程度",  # M
    "在校生状况",  # N
    "健康状况",  # O
    "劳动技能",  # P
    "务工时间（月）",  # Q
    "是否参加大病保险",  # R
    "脱贫属性",  # S
    "贫困户属性",  # T
    "致贫原因1",  # U
    "危房户",  # V
    "是否解决安全饮用水",  # W
    "人均纯收入",  # X
    "首次识别时间",  # Y
    "户类型",  # Z
)
_PERSON_FIELDS = (
    "seq",
    "county",
    "township",
    "village",
    "group",
    "hid",
    "pid",
    "name",
    "id_number",
    "size",
    "relation",
    "ethnicity",
    "education",
    "school",
    "health",
    "labour",
    "work_months",
    "insured",
    "state",
    "attribute",
    "cause",
    "unsafe_house",
    "safe_water",
    "income",
    "first_identified",
    "household_type",
)


def person_row(n: int, **overrides: object) -> list[object]:
    """One row under ``PERSON_LIST_HEADER``: the 户主 of household ``53092110300100nn`` of
    孔兴村, alone in it (人数 1), 未脱贫 (户类型 贫困户), first identified 201403.

    Keyword names are those of ``_PERSON_FIELDS`` (``state=None`` leaves 脱贫属性 empty).
    """
    hid = f"530921103001{n:04d}"
    row: dict[str, object] = {
        "seq": n,
        "county": "凤庆县",
        "township": "诗礼乡",
        "village": "孔兴村",
        "group": "孔兴组",
        "hid": hid,
        "pid": f"{hid}01",
        "name": f"张{n}",
        "id_number": make_id(n % 1000),
        "size": 1,
        "relation": "户主",
        "ethnicity": "汉族",
        "education": "小学",
        "school": None,
        "health": "健康",
        "labour": "普通劳动力",
        "work_months": 0,
        "insured": "是",
        "state": "未脱贫",
        "attribute": "一般贫困户",
        "cause": "缺资金",
        "unsafe_house": "否",
        "safe_water": "是",
        "income": 3200,
        "first_identified": 201403,
        "household_type": "贫困户",
    }
    unknown = set(overrides) - set(row)
    if unknown:
        raise KeyError(f"unknown person fields: {sorted(unknown)}")
    row.update(overrides)
    return [row[k] for k in _PERSON_FIELDS]


def person_list(rows: Rows, header: Sequence[str] = PERSON_LIST_HEADER) -> list[list[object]]:
    """A person list as the national system exports it: the title, the 导出时间 line, the
    header on row 3, then ``rows``."""
    width = len(header)
    return [
        [PERSON_LIST_TITLE, *[None] * (width - 1)],
        [PERSON_LIST_EXPORTED, *[None] * (width - 1)],
        list(header),
        *[list(r) for r in rows],
    ]
