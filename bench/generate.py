"""Synthetic household registers (户信息表) as county files: XLSX, CSV and Parquet; and the
national system's person-level export (人口明细, ``--layout persons``) as XLSX and CSV.

    python bench/generate.py --size county --format xlsx          # 100k households
    python bench/generate.py --size prefecture --format csv parquet
    python bench/generate.py --size province --format csv parquet --out bench/data
    python bench/generate.py --layout persons --size county --out /tmp/bench14
    python bench/generate.py --layout persons --households 2000 --out /tmp/small

``--layout persons`` (issue 14): 120,000 households for a county, about 450,000 person
rows, the 40 columns of ``PERSON_HEADER`` (DOMAIN.md's 26, then 14 more), a title row and
an 导出时间 row above the header, household fields repeated on every member's row, one
户主 a household, relations, sexes and birth dates that agree, valid IDs (a 20-character
残疾人证 number for some disabled members); 0.3 % of rows with an export quirk. The county
is about 76 MB as XLSX (835 MB unzipped; about 8 minutes to write on a loaded 2-core VM,
xlsxwriter being a Python call per row) and 131 MB as CSV (seconds). The CSV has its
header on row 1 (no title rows), as the bulk path takes it.

Sizes: county 100,000 households, prefecture 1,000,000, province 10,000,000. XLSX holds at
most 1,048,576 rows a sheet, so the province is written as CSV and Parquet only.

The columns are the template's (户编号, 户主姓名, 户主身份证号, 乡镇, 行政村, 村民小组,
家庭人口数, 建档立卡状态, 动态管理结果, 核查结论, 人均纯收入, 调查日期, ...), with a 序号 column
first as counties keep it (not in Parquet). Every column is drawn with numpy and joined
with pyarrow compute, a chunk of rows at a time: no Python loop per row, except the XLSX
writer (xlsxwriter, ``constant_memory``: one row at a time, never the whole sheet in memory).

The data are clean enough to load without an error row (warnings only): state spellings
vary (未脱贫 / 贫困户 / 脱贫户 / 一般农户 ...), and ``--dirty`` (default 0.3 %) of the rows carry
what county files carry: a wrong ID check character, a 15-digit legacy ID, an income of
"不详", a size written "4人" or in full-width digits, a date written 2019年7月8日. The same
seed gives the same file. Not a test: nothing here runs under pytest.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script: the repo
from analytics.domain import idcard, schema

SIZES = {"county": 100_000, "prefecture": 1_000_000, "province": 10_000_000}
XLSX_MAX_ROWS = 1_048_576  # Excel's rows per sheet, the header included
DEFAULT_DIR = Path(__file__).resolve().parent / "data"
CHUNK = 500_000

HEADER = (
    "乡镇",
    "行政村",
    "村民小组",
    "户编号",
    "户主姓名",
    "户主身份证号",
    "家庭人口数",
    "建档立卡状态",
    "贫困户属性",
    "主要致贫原因",
    "人均纯收入（元）",
    "不愁吃穿",
    "义务教育有保障",
    "基本医疗有保障",
    "住房安全有保障",
    "脱贫年度",
    "动态管理结果",
    "核查结论",
    "调查日期",
    "调查人",
    "是否认可",
)
# How each column is written: text, whole number, number or date.
KINDS = {"家庭人口数": "int", "人均纯收入（元）": "number", "脱贫年度": "int", "调查日期": "date"}

SURNAMES = "李王张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "国华建平文明志红英军林秀兰芳玉春海金永德学成家福荣光云祥贵兴正才富顺仁忠勇"
SYLLABLES = "诗礼勐佑凤山腰街鲁史小湾营盘新华三岔河大寺郭大洛党雪岩安石平村旧城中和兴隆"
STATES = ("未脱贫", "贫困户", "已脱贫", "脱贫户", "一般农户", "非建档立卡")
STATE_SHARES = (0.04, 0.03, 0.10, 0.08, 0.60, 0.15)
STATE_KIND = np.array([0, 0, 1, 1, 2, 2])  # 0 remaining poor, 1 exited, 2 non-registered
ATTRIBUTES = ("一般贫困户", "低保贫困户", "特困供养贫困户")
CAUSES = ("因病", "因残", "因学", "缺技术", "缺劳力", "缺资金", "交通条件落后", "自身发展动力不足")


def place_names(n_townships: int, villages: int, groups: int) -> tuple[list, list, list]:
    """Township, village and group of every group (flattened), names unique in the area."""
    syl = list(SYLLABLES)
    t_names = []
    for i in range(n_townships):
        a, b = syl[i % len(syl)], syl[(i // len(syl) + 3 * i + 1) % len(syl)]
        t_names.append(f"{a}{b}{'镇' if i % 3 == 0 else '乡'}{i // len(syl) or ''}")
    numerals = "一二三四五六七八九十"
    t_of, v_of, g_of = [], [], []
    for t_i, t in enumerate(t_names):
        for v in range(villages):
            village = f"{syl[(t_i + v) % len(syl)]}{syl[(7 * v + 3 * t_i + 5) % len(syl)]}村"
            for g in range(groups):
                t_of.append(t)
                v_of.append(village)
                g_of.append(f"{numerals[g % 10]}组")
    return t_of, v_of, g_of


def _take(values, idx: np.ndarray) -> pa.Array:
    return pa.DictionaryArray.from_arrays(
        pa.array(idx.astype(np.int32)), pa.array(list(values), pa.string())
    ).cast(pa.string())


def _id_numbers(region: np.ndarray, birth: np.ndarray, seq: np.ndarray) -> np.ndarray:
    """18-character IDs (GB 11643 check character) as a numpy byte-string array."""
    days = birth.astype("datetime64[D]").astype(str)  # "1980-01-01"
    digits17 = np.char.add(
        np.char.add(region.astype("S6"), np.char.replace(days.astype("S10"), b"-", b"")),
        np.char.zfill(seq.astype("S3"), 3),
    )
    grid = np.frombuffer(digits17.tobytes(), dtype=np.uint8).reshape(-1, 17) - ord("0")
    check = idcard.check_chars(grid)
    return np.char.add(digits17, check.view("S1"))


def households(n: int, start: int, total: int, seed: int) -> pa.Table:
    """Rows ``start .. start + n - 1`` of an area of ``total`` households, typed (whole
    numbers, numbers, dates, text); ``quirks`` gives the odd cells to put over them."""
    rng = np.random.default_rng([seed, start])
    groups_per_county = 12 * 10 * 8
    total = max(total, start + n, 1)
    counties = max(1, -(-total // 100_000))
    t_of, v_of, g_of = place_names(12 * counties, 10, 8)
    row = np.arange(start, start + n)
    # Households in row order fill the groups of each county in turn (sorted by place).
    where = (row * len(t_of)) // max(total, 1)
    county = where // groups_per_county
    region = (533900 + 21 + county % 60).astype(np.int64)  # 6-digit county code
    township = _take(t_of, where)
    village = _take(v_of, where)
    group = _take(g_of, where)
    household_id = pc.binary_join_element_wise(
        pa.array(region.astype(str)),
        pc.utf8_lpad(pc.cast(pa.array(row), pa.string()), 10, "0"),
        "",
    )
    surname = rng.integers(0, len(SURNAMES), n)
    g1 = rng.integers(0, len(GIVEN), n)
    g2 = np.where(rng.random(n) < 0.7, rng.integers(0, len(GIVEN), n), -1)
    name = pc.binary_join_element_wise(
        _take(SURNAMES, surname),
        _take(GIVEN, g1),
        _take([*GIVEN, ""], np.where(g2 < 0, len(GIVEN), g2)),
        "",
    )
    birth = np.datetime64("1935-01-01") + rng.integers(0, 66 * 365, n).astype("timedelta64[D]")
    ids = _id_numbers(region, birth, rng.integers(0, 1000, n))
    size = rng.choice(np.arange(1, 9), n, p=[0.08, 0.18, 0.22, 0.24, 0.15, 0.08, 0.03, 0.02])
    state = rng.choice(len(STATES), n, p=STATE_SHARES)
    kind = STATE_KIND[state]
    registered = kind < 2
    attribute = np.where(registered, rng.integers(0, len(ATTRIBUTES), n), -1)
    cause = np.where(registered, rng.integers(0, len(CAUSES), n), -1)
    income = np.round(rng.gamma(4.0, 1200.0, n) + np.where(kind == 0, 0, 2500), 2)
    secure = rng.random((4, n)) < np.where(kind == 0, 0.85, 0.98)
    exit_year = np.where(kind == 1, rng.integers(2014, 2019, n), -1)
    # Outcomes consistent with the state: new on non-registered, relapse on exited, ...
    r = rng.random(n)
    adjustment = np.full(n, -1)
    adjustment[(kind == 2) & (r < 0.02)] = 0  # 新增
    adjustment[(kind == 1) & (r < 0.03)] = 1  # 返贫
    adjustment[(kind == 0) & (r < 0.30)] = 2  # 拟退出
    adjustment[registered & (r > 0.99)] = 3  # 剔除
    r = rng.random(n)
    finding = np.full(n, -1)
    finding[registered & (r < 0.03)] = 0  # 错评
    finding[(kind == 2) & (r < 0.01)] = 1  # 漏评
    finding[(kind == 1) & (r > 0.99)] = 2  # 错退
    finding[(finding < 0) & (r > 0.5) & (r < 0.55)] = 3  # 正确
    survey = np.datetime64("2019-06-20") + rng.integers(0, 40, n).astype("timedelta64[D]")
    surveyor = rng.integers(0, 40, n)
    approval = np.where(rng.random(n) < 0.97, 0, np.where(rng.random(n) < 0.5, 1, 2))

    cols: dict[str, pa.Array] = {
        "乡镇": township,
        "行政村": village,
        "村民小组": group,
        "户编号": household_id,
        "户主姓名": name,
        "户主身份证号": pa.array(ids.astype(str)),
        "家庭人口数": pa.array(size.astype(np.int64)),
        "建档立卡状态": _take(STATES, state),
        "贫困户属性": _nulls(_take([*ATTRIBUTES, ""], _neg(attribute, len(ATTRIBUTES)))),
        "主要致贫原因": _nulls(_take([*CAUSES, ""], _neg(cause, len(CAUSES)))),
        "人均纯收入（元）": pa.array(income),
        **{
            h: _take(("否", "是"), secure[i].astype(np.int64))
            for i, h in enumerate(
                ("不愁吃穿", "义务教育有保障", "基本医疗有保障", "住房安全有保障")
            )
        },
        "脱贫年度": pa.array(exit_year, mask=exit_year < 0, type=pa.int64()),
        "动态管理结果": _nulls(_take(["新增", "返贫", "拟退出", "剔除", ""], _neg(adjustment, 4))),
        "核查结论": _nulls(_take(["错评", "漏评", "错退", "正确", ""], _neg(finding, 4))),
        "调查日期": pa.array(survey, pa.date32()),
        "调查人": _take([f"调查员{i:02d}" for i in range(40)], surveyor),
        "是否认可": _nulls(_take(["是", "否", ""], approval)),
    }
    return pa.table(cols)


def _neg(idx: np.ndarray, empty: int) -> np.ndarray:
    return np.where(idx < 0, empty, idx)


def _nulls(arr: pa.Array) -> pa.Array:
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)


def quirks(table: pa.Table, seed: int, start: int, share: float, typed: bool) -> dict:
    """County-file quirks for ``share`` of the rows (warnings, never an error).

    Returns ``{column: (mask, text)}``: where ``mask`` is set the cell holds ``text`` (a
    string) instead of its typed value. With ``typed`` (Parquet) only the ID column gets
    quirks, a typed export holding no "4人".
    """
    n = table.num_rows
    rng = np.random.default_rng([seed, start, 1])
    which = np.where(rng.random(n) < share, rng.integers(0, 6, n), -1)
    ids = table["户主身份证号"].combine_chunks()
    wrong = pc.binary_join_element_wise(
        pc.utf8_slice_codeunits(ids, 0, 17),
        pc.if_else(pc.equal(pc.utf8_slice_codeunits(ids, 17, 18), "1"), "2", "1"),
        "",
    )
    legacy = pc.binary_join_element_wise(
        pc.utf8_slice_codeunits(ids, 0, 6),
        pc.utf8_slice_codeunits(ids, 8, 14),
        pc.utf8_slice_codeunits(ids, 14, 17),
        "",
    )
    out = {
        "户主身份证号": (
            (which == 0) | (which == 1),
            pc.if_else(pa.array(which == 0), wrong, legacy),
        )
    }
    if typed:
        return out
    size = pc.cast(table["家庭人口数"].combine_chunks(), pa.string())
    full = size
    for d in range(10):
        full = pc.replace_substring(full, str(d), chr(0xFF10 + d))
    unit = pc.binary_join_element_wise(size, "人", "")
    out["家庭人口数"] = ((which == 3) | (which == 4), pc.if_else(pa.array(which == 3), unit, full))
    out["人均纯收入（元）"] = (which == 2, pa.array(np.full(n, "不详", dtype=object), pa.string()))
    survey = table["调查日期"].combine_chunks()
    cn = pc.binary_join_element_wise(
        pc.cast(pc.year(survey), pa.string()),
        "年",
        pc.cast(pc.month(survey), pa.string()),
        "月",
        pc.cast(pc.day(survey), pa.string()),
        "日",
        "",
    )
    out["调查日期"] = (which == 5, cn)
    return out


def as_text(table: pa.Table, odd: dict) -> pa.Table:
    """Every column as the text a CSV holds (dates 2019/7/8 as Excel writes them), with
    the quirky cells of ``odd`` (from ``quirks``) put in."""
    out = {}
    for name in table.column_names:
        col = table[name].combine_chunks()
        if pa.types.is_date(col.type):
            col = _slash_date(col)
        elif not pa.types.is_string(col.type):
            col = pc.cast(col, pa.string())
        if name in odd:
            mask, text = odd[name]
            col = pc.if_else(pa.array(mask), text, col)
        out[name] = col
    return pa.table(out)


def _slash_date(col: pa.Array) -> pa.Array:
    y = pc.cast(pc.year(col), pa.string())
    m = pc.cast(pc.month(col), pa.string())
    d = pc.cast(pc.day(col), pa.string())
    return pc.binary_join_element_wise(y, m, d, "/")


def _with_seq(table: pa.Table, start: int) -> pa.Table:
    seq = pa.array(np.arange(start + 1, start + table.num_rows + 1, dtype=np.int64))
    return table.add_column(0, "序号", pc.cast(seq, pa.string()))


def write_csv(path: Path, n: int, seed: int, dirty: float) -> None:
    """UTF-8 CSV, header on row 1, written chunk by chunk (no value holds a comma, quote or
    line break, so none is quoted, as Excel writes such a file)."""
    options = pacsv.WriteOptions(include_header=True, quoting_style="none")
    writer = None
    try:
        for start in range(0, n, CHUNK):
            rows = households(min(CHUNK, n - start), start, n, seed)
            part = _with_seq(as_text(rows, quirks(rows, seed, start, dirty, False)), start)
            if writer is None:
                writer = pacsv.CSVWriter(str(path), part.schema, write_options=options)
            writer.write_table(part)
    finally:
        if writer is not None:
            writer.close()


def write_parquet(path: Path, n: int, seed: int, dirty: float) -> None:
    """Parquet with typed columns (whole numbers, numbers, dates, text), no 序号."""
    writer = None
    try:
        for start in range(0, n, CHUNK):
            part = households(min(CHUNK, n - start), start, n, seed)
            mask, text = quirks(part, seed, start, dirty, True)["户主身份证号"]
            ids = pc.if_else(pa.array(mask), text, part["户主身份证号"].combine_chunks())
            part = part.set_column(part.schema.get_field_index("户主身份证号"), "户主身份证号", ids)
            if writer is None:
                writer = pq.ParquetWriter(str(path), part.schema, compression="zstd")
            writer.write_table(part)
    finally:
        if writer is not None:
            writer.close()


def write_xlsx(path: Path, n: int, seed: int, dirty: float) -> None:
    """One sheet 户信息: title-free, header on row 1, typed cells (numbers, dates, text)."""
    import xlsxwriter

    if n + 1 > XLSX_MAX_ROWS:
        raise SystemExit(f"XLSX holds at most {XLSX_MAX_ROWS - 1:,} data rows a sheet")
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet("户信息")
    date_fmt = book.add_format({"num_format": "yyyy-mm-dd"})
    header = ("序号", *HEADER)
    for c, h in enumerate(header):
        sheet.write_string(0, c, h)
    r = 1
    epoch = dt.date(1970, 1, 1)
    for start in range(0, n, CHUNK):
        part = households(min(CHUNK, n - start), start, n, seed)
        odd = quirks(part, seed, start, dirty, False)
        columns = []
        for name in HEADER:
            values = part[name].to_pylist()
            if KINDS.get(name) == "date":
                values = [None if v is None else (v - epoch).days for v in values]
            if name in odd:
                mask, text = odd[name]
                for i in np.flatnonzero(mask):
                    values[i] = text[int(i)].as_py()
            columns.append(values)
        kinds = [KINDS.get(name, "text") for name in HEADER]
        for i, cells in enumerate(zip(*columns, strict=True)):
            sheet.write_number(r, 0, start + i + 1)
            for c, (v, kind) in enumerate(zip(cells, kinds, strict=True), start=1):
                if v is None:
                    continue
                if isinstance(v, str):
                    sheet.write_string(r, c, v)
                elif kind == "date":
                    sheet.write_number(r, c, v + 25569, date_fmt)  # days since 1899-12-30
                else:
                    sheet.write_number(r, c, v)
            r += 1
    book.close()


# ------------------------------------------------------------ person-level layout
# The national system's 贫困人口明细 export (/work/shared/DOMAIN.md, "What offices really
# export"): one row per person, the household's fields repeated on every member's row, a
# title row and an 导出时间 row above the header (row 3). 40 columns: the 26 DOMAIN.md lists,
# then 14 more the exports carry.
PERSON_SIZES = {"county": 120_000, "prefecture": 1_000_000}  # households
PERSON_TITLE_ROWS = 2  # the title and the 导出时间 line: the header is on row 3
PERSON_EXPORTED = "2020-03-02 09:41:17"  # 导出时间 of the synthetic export
PERSON_HEADER = (
    *schema.PERSON_LIST_COLUMNS,
    "性别",
    "是否参加城乡居民基本医疗保险",
    "是否参加城乡居民基本养老保险",
    "是否享受低保",
    "是否特困供养",
    "致贫原因2",
    "脱贫年度",
    "耕地面积（亩）",
    "住房面积（平方米）",
    "是否通生活用电",
    "与村主干路距离（公里）",
    "主要燃料类型",
    "是否加入农民专业合作社",
    "联系电话",
)
PERSON_KINDS = {  # how a column is written in the XLSX; the rest is text
    "序号": "int",
    "人数": "int",
    "务工时间（月）": "int",
    "人均纯收入": "number",
    "首次识别时间": "int",  # YYYYMM as a whole number, as the system exports it
    "脱贫年度": "int",
    "耕地面积（亩）": "number",
    "住房面积（平方米）": "number",
    "与村主干路距离（公里）": "number",
}
COUNTY_NAME = "云岭县"  # synthetic
# Household sizes 1-8 (mean 3.75 persons: 120,000 households make about 450,000 rows).
PERSON_SIZE_P = (0.07, 0.17, 0.22, 0.24, 0.16, 0.08, 0.04, 0.02)
RELATIONS = (
    "户主",
    "配偶",
    "之子",
    "之女",
    "之孙子",
    "之孙女",
    "之儿媳",
    "之女婿",
    "之父",
    "之母",
    "兄弟姐妹",
)
# Sex a relation implies: 1 male, 0 female, -1 either (户主 and 兄弟姐妹 are drawn).
RELATION_SEX = np.array([-1, -1, 1, 0, 1, 0, 0, 1, 1, 0, -1])
# Birth year against the head's, by relation: (low, high) years added.
RELATION_YEARS = np.array(
    [
        (0, 0),
        (-4, 5),
        (20, 36),
        (20, 36),
        (44, 62),
        (44, 62),
        (18, 34),
        (18, 34),
        (-36, -21),
        (-34, -19),
        (-8, 9),
    ]
)
OTHER_P = (0.30, 0.27, 0.10, 0.10, 0.07, 0.02, 0.05, 0.07, 0.02)  # 之子 .. 兄弟姐妹, 3rd on
ETHNICITIES = ("汉族", "彝族", "傣族", "佤族", "布朗族", "回族")
ETHNICITY_P = (0.72, 0.14, 0.05, 0.04, 0.03, 0.02)
EDUCATION = ("文盲或半文盲", "小学", "初中", "高中", "大专及以上")
HEALTH = ("健康", "长期慢性病", "患有大病", "残疾")
HEALTH_P = (0.80, 0.12, 0.03, 0.05)
LABOUR = ("技能劳动力", "普通劳动力", "弱劳动力或半劳动力", "丧失劳动力", "无劳动力")
EXIT_STATES = ("未脱贫", "已脱贫", "预脱贫", "返贫")
EXIT_STATE_P = (0.10, 0.80, 0.08, 0.02)
FUELS = ("柴草", "煤炭", "电", "燃气")


def persons(n: int, start: int, total: int, seed: int) -> pa.Table:
    """Person rows of households ``start .. start + n - 1`` of a county export of ``total``
    households, in the 人口明细 layout (``PERSON_HEADER``), typed (whole numbers, numbers,
    text; 首次识别时间 a YYYYMM whole number).

    Every household has one 户主 (its first row), members whose sex and birth date agree
    with their relation (之子 male, 之女 female, a child 20-36 years younger than the head
    ...) and valid 18-character ID numbers (GB 11643 check character; the 17th digit's
    parity is the sex). Household fields (place, 户编号, 人数, 脱贫属性 ...) are repeated on
    every member's row. Names are drawn from a list of common characters: synthetic.
    """
    rng = np.random.default_rng([seed, start, 2])
    t_of, v_of, g_of = place_names(12, 10, 8)
    hh = np.arange(start, start + n)
    where = (hh * len(t_of)) // max(total, 1)
    region = 533921
    size = rng.choice(np.arange(1, 9), n, p=PERSON_SIZE_P)
    # One row per person: the household of each row and the row's place in it.
    of = np.repeat(np.arange(n), size)
    m = len(of)
    first = np.concatenate(([0], np.cumsum(size)[:-1]))
    pos = np.arange(m) - first[of]
    relation = np.where(
        pos == 0,
        0,
        np.where(
            pos == 1,
            rng.choice([1, 2, 3], m, p=[0.86, 0.07, 0.07]),
            rng.choice(np.arange(2, 11), m, p=OTHER_P),
        ),
    )
    head_male = rng.random(n) < 0.82
    sex = RELATION_SEX[relation]
    sex = np.where(relation == 0, head_male[of], sex)
    sex = np.where(relation == 1, ~head_male[of], sex)
    sex = np.where(sex < 0, rng.integers(0, 2, m), sex).astype(bool)  # True: male
    head_year = rng.integers(1940, 1992, n)
    low, high = RELATION_YEARS[relation, 0], RELATION_YEARS[relation, 1]
    year = np.minimum(head_year[of] + low + (rng.random(m) * (high - low + 1)).astype(int), 2019)
    birth = (year - 1970).astype("datetime64[Y]").astype("datetime64[D]") + rng.integers(
        0, 365, m
    ).astype("timedelta64[D]")
    age = 2020 - year
    seq = rng.integers(0, 500, m) * 2 + sex  # the 17th digit: odd for a man
    ids = _id_numbers(np.full(m, region, dtype=np.int64), birth, seq).astype(str)
    household_id = np.char.add(str(region), np.char.zfill((hh + 1).astype(str), 10))
    person_id = np.char.add(household_id[of], np.char.zfill((pos + 1).astype(str), 2))

    surname = rng.integers(0, len(SURNAMES), n)
    own = np.where(np.isin(relation, (1, 6, 7, 9)), rng.integers(0, len(SURNAMES), m), surname[of])
    g2 = np.where(rng.random(m) < 0.7, rng.integers(0, len(GIVEN), m), len(GIVEN))
    name = pc.binary_join_element_wise(
        _take(SURNAMES, own),
        _take(GIVEN, rng.integers(0, len(GIVEN), m)),
        _take([*GIVEN, ""], g2),
        "",
    )
    education = np.clip(np.where(age < 7, 0, rng.integers(0, 5, m)), 0, 4)
    education = np.where(
        (age >= 7) & (age <= 12), 1, np.where((age > 12) & (age <= 15), 2, education)
    )
    school = np.full(m, 6)  # blank
    school[(age >= 6) & (age <= 11)] = 0  # 小学
    school[(age >= 12) & (age <= 14)] = 1  # 初中
    school[(age >= 15) & (age <= 17) & (rng.random(m) < 0.6)] = 2  # 高中
    school[(age == 15) & (school == 6)] = 3  # 中职
    school[(age >= 18) & (age <= 21) & (rng.random(m) < 0.25)] = 4  # 大专及以上
    health = rng.choice(4, m, p=HEALTH_P)
    r = rng.random(m)
    labour = np.where(
        age < 16,
        4,
        np.where(
            age > 60,
            np.where(r < 0.2, 1, np.where(r < 0.7, 2, 3)),
            np.where(r < 0.1, 0, np.where(r < 0.8, 1, np.where(r < 0.95, 2, 3))),
        ),
    )
    labour = np.where((health == 3) & (labour < 2), 2, labour)
    months = np.where(labour <= 1, rng.integers(0, 13, m), 0)

    # Household fields, drawn per household and repeated on each member's row.
    state = rng.choice(4, n, p=EXIT_STATE_P)
    exited = (state == 1) | (state == 3)
    attribute = rng.choice(3, n, p=[0.70, 0.22, 0.08])
    cause1 = rng.integers(0, len(CAUSES), n)
    cause2 = np.where(rng.random(n) < 0.4, rng.integers(0, len(CAUSES), n), len(CAUSES))
    income = np.round(rng.gamma(4.0, 1200.0, n) + np.where(exited, 2500, 0), 2)
    identified = rng.choice(
        [201410, 201510, 201610, 201710, 201810], n, p=[0.7, 0.1, 0.08, 0.07, 0.05]
    )
    exit_year = np.where(exited, rng.integers(2016, 2020, n), -1)
    phone = np.char.add(
        "1", (rng.integers(3, 10, n) * 10**9 + rng.integers(0, 10**9, n)).astype(str)
    )
    minimum_living = attribute == 1
    cols: dict[str, pa.Array] = {
        "序号": pa.array(np.zeros(m, dtype=np.int64)),  # numbered when written
        "县(市、区、旗)": pa.array(np.full(m, COUNTY_NAME, dtype=object), pa.string()),
        "乡(镇)": _take(t_of, where[of]),
        "行政村": _take(v_of, where[of]),
        "自然村": _take(g_of, where[of]),
        "户编号": pa.array(household_id[of]),
        "人编号": pa.array(person_id),
        "姓名": name,
        "证件号码": pa.array(ids),
        "人数": pa.array(size[of].astype(np.int64)),
        "与户主关系": _take(RELATIONS, relation),
        "民族": _take(ETHNICITIES, rng.choice(len(ETHNICITIES), n, p=ETHNICITY_P)[of]),
        "文化程度": _nulls(_take(("", *EDUCATION[1:]), education)),
        "在校生状况": _nulls(_take(("小学", "初中", "高中", "中职", "大专及以上", "", ""), school)),
        "健康状况": _take(HEALTH, health),
        "劳动技能": _take(LABOUR, labour),
        "务工时间（月）": pa.array(months.astype(np.int64)),
        "是否参加大病保险": _take(("否", "是"), (rng.random(m) < 0.96).astype(np.int64)),
        "脱贫属性": _take(EXIT_STATES, state[of]),
        "贫困户属性": _take(ATTRIBUTES, attribute[of]),
        "致贫原因1": _take(CAUSES, cause1[of]),
        "危房户": _take(("否", "是"), (rng.random(n) < 0.03).astype(np.int64)[of]),
        "是否解决安全饮用水": _take(("否", "是"), (rng.random(n) < 0.97).astype(np.int64)[of]),
        "人均纯收入": pa.array(income[of]),
        "首次识别时间": pa.array(identified[of].astype(np.int64)),
        "户类型": _nulls(_take(("", "脱贫户"), exited.astype(np.int64)[of])),
        "性别": _take(("女", "男"), sex.astype(np.int64)),
        "是否参加城乡居民基本医疗保险": _take(
            ("否", "是"), (rng.random(m) < 0.98).astype(np.int64)
        ),
        "是否参加城乡居民基本养老保险": _take(
            ("否", "是"), ((age >= 16) & (rng.random(m) < 0.9)).astype(np.int64)
        ),
        "是否享受低保": _take(("否", "是"), minimum_living.astype(np.int64)[of]),
        "是否特困供养": _take(("否", "是"), (attribute == 2).astype(np.int64)[of]),
        "致贫原因2": _nulls(_take([*CAUSES, ""], cause2[of])),
        "脱贫年度": pa.array(exit_year[of], mask=exit_year[of] < 0, type=pa.int64()),
        "耕地面积（亩）": pa.array(np.round(rng.gamma(2.0, 1.5, n), 1)[of]),
        "住房面积（平方米）": pa.array(np.round(rng.gamma(6.0, 15.0, n), 1)[of]),
        "是否通生活用电": _take(("否", "是"), (rng.random(n) < 0.995).astype(np.int64)[of]),
        "与村主干路距离（公里）": pa.array(np.round(rng.gamma(1.5, 1.0, n), 1)[of]),
        "主要燃料类型": _take(FUELS, rng.choice(4, n, p=[0.6, 0.1, 0.25, 0.05])[of]),
        "是否加入农民专业合作社": _take(("否", "是"), (rng.random(n) < 0.4).astype(np.int64)[of]),
        "联系电话": pa.array(phone[of]),
    }
    assert tuple(cols) == PERSON_HEADER
    return pa.table(cols)


def person_quirks(table: pa.Table, seed: int, start: int, share: float) -> dict:
    """Export quirks for ``share`` of the rows, as ``quirks`` gives them (``{column: (mask,
    text)}``): a wrong ID check character, a 20-character 残疾人证 number (the ID, category
    and grade) for a disabled member, 首次识别时间 as "2014-10" or "201410.0", 人数 as "4人",
    在校生状况 as 无."""
    n = table.num_rows
    rng = np.random.default_rng([seed, start, 3])
    which = np.where(rng.random(n) < share, rng.integers(0, 5, n), -1)
    ids = table["证件号码"].combine_chunks()
    wrong = pc.binary_join_element_wise(
        pc.utf8_slice_codeunits(ids, 0, 17),
        pc.if_else(pc.equal(pc.utf8_slice_codeunits(ids, 17, 18), "1"), "2", "1"),
        "",
    )
    disabled = np.asarray(pc.equal(table["健康状况"], "残疾").to_numpy(zero_copy_only=False))
    card = pc.binary_join_element_wise(
        ids,
        pa.array(rng.integers(1, 8, n).astype(str)),
        pa.array(rng.integers(1, 5, n).astype(str)),
        "",
    )
    month = pc.cast(table["首次识别时间"].combine_chunks(), pa.string())
    dashed = pc.binary_join_element_wise(
        pc.utf8_slice_codeunits(month, 0, 4), pc.utf8_slice_codeunits(month, 4, 6), "-"
    )
    dotted = pc.binary_join_element_wise(month, ".0", "")
    size = pc.cast(table["人数"].combine_chunks(), pa.string())
    card_rows = (which == 1) | ((which < 0) & disabled & (rng.random(n) < 0.3))
    return {
        "证件号码": (
            (which == 0) | card_rows,
            pc.if_else(pa.array(which == 0), wrong, card),
        ),
        "首次识别时间": (
            (which == 2) | (which == 3),
            pc.if_else(pa.array(which == 2), dashed, dotted),
        ),
        "人数": (which == 4, pc.binary_join_element_wise(size, "人", "")),
        "在校生状况": (
            (which < 0)
            & pc.is_null(table["在校生状况"]).to_numpy(zero_copy_only=False)
            & (rng.random(n) < 0.01),
            pa.array(np.full(n, "无", dtype=object), pa.string()),
        ),
    }


def _person_chunks(n: int, seed: int, dirty: float, chunk: int = 50_000):
    """(first row number, rows, quirks) per ``chunk`` households."""
    row = 0
    for start in range(0, n, chunk):
        part = persons(min(chunk, n - start), start, n, seed)
        seq = pa.array(np.arange(row + 1, row + part.num_rows + 1, dtype=np.int64))
        part = part.set_column(0, "序号", seq)
        yield row, part, person_quirks(part, seed, start, dirty)
        row += part.num_rows


def write_persons_csv(path: Path, n: int, seed: int, dirty: float) -> None:
    """UTF-8 CSV of the person-level export, header on row 1 (the title rows left out, as
    the bulk path takes a CSV), written chunk by chunk; no value holds a comma or quote."""
    options = pacsv.WriteOptions(include_header=True, quoting_style="none")
    writer = None
    try:
        for _row, part, odd in _person_chunks(n, seed, dirty):
            text = as_text(part, odd)
            if writer is None:
                writer = pacsv.CSVWriter(str(path), text.schema, write_options=options)
            writer.write_table(text)
    finally:
        if writer is not None:
            writer.close()


def write_persons_xlsx(path: Path, n: int, seed: int, dirty: float) -> None:
    """One sheet 人口明细: the title (merged over the columns), the 导出时间 line, the header
    on row 3, then one typed row per person (xlsxwriter ``constant_memory``: a row at a
    time, inline strings, never the sheet in memory)."""
    import xlsxwriter

    options = {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    book = xlsxwriter.Workbook(str(path), options)
    sheet = book.add_worksheet("人口明细")
    last = len(PERSON_HEADER) - 1
    sheet.merge_range(
        0, 0, 0, last, f"{COUNTY_NAME}贫困人口明细表", book.add_format({"bold": True})
    )
    sheet.write_string(1, 0, f"导出时间：{PERSON_EXPORTED}")
    sheet.write_row(PERSON_TITLE_ROWS, 0, PERSON_HEADER)
    r = PERSON_TITLE_ROWS + 1
    for _row, part, odd in _person_chunks(n, seed, dirty):
        if r + part.num_rows > XLSX_MAX_ROWS:
            raise SystemExit(f"XLSX holds at most {XLSX_MAX_ROWS:,} rows a sheet")
        columns = []
        for name in PERSON_HEADER:
            values = part[name].to_pylist()
            if name in odd:
                mask, text = odd[name]
                for i in np.flatnonzero(mask):
                    values[i] = text[int(i)].as_py()
            columns.append(values)
        write_row = sheet.write_row
        for cells in zip(*columns, strict=True):
            write_row(r, 0, cells)  # str -> text cell, int/float -> number, None -> nothing
            r += 1
    book.close()


PERSON_WRITERS = {"xlsx": write_persons_xlsx, "csv": write_persons_csv}

WRITERS = {"xlsx": write_xlsx, "csv": write_csv, "parquet": write_parquet}


LAYOUTS = ("households", "persons")


def path_for(out: Path, size: str, fmt: str, seed: int = 0, layout: str = "households") -> Path:
    """Where ``generate`` puts (and finds) a file: ``<layout>_<size>_<seed>.<fmt>``."""
    return out / f"{layout}_{size}_{seed}.{fmt}"


def generate(
    size: str,
    fmt: str,
    out: Path = DEFAULT_DIR,
    *,
    seed: int = 0,
    dirty: float = 0.003,
    force: bool = False,
    layout: str = "households",
    households: int | None = None,
) -> Path:
    """Writes (or reuses) one file; returns its path.

    ``layout`` "households" is a household register (``SIZES``), "persons" the national
    person-level export (``PERSON_SIZES``); ``households`` overrides the size's count (the
    file is then named after the count, e.g. ``persons_2000_0.xlsx``).
    """
    sizes, writers = (SIZES, WRITERS) if layout == "households" else (PERSON_SIZES, PERSON_WRITERS)
    n = households if households is not None else sizes[size]
    path = path_for(out, size if households is None else str(n), fmt, seed, layout)
    if path.exists() and not force:
        return path
    out.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".part")
    writers[fmt](tmp, n, seed, dirty)
    tmp.replace(path)
    return path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--layout", choices=LAYOUTS, default="households")
    p.add_argument("--size", choices=sorted({*SIZES, *PERSON_SIZES}), default="county")
    p.add_argument("--households", type=int, help="this many households instead of --size's")
    p.add_argument("--format", nargs="+", choices=list(WRITERS), default=None)
    p.add_argument("--out", type=Path, default=DEFAULT_DIR)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--dirty", type=float, default=0.003, help="share of rows with a quirk")
    p.add_argument("--force", action="store_true", help="rewrite a file that exists")
    args = p.parse_args(argv)
    persons_ = args.layout == "persons"
    sizes = PERSON_SIZES if persons_ else SIZES
    if args.households is None and args.size not in sizes:
        p.error(f"--size {args.size} is not a size of the {args.layout} layout")
    n = args.households if args.households is not None else sizes[args.size]
    formats = args.format or (list(PERSON_WRITERS) if persons_ else list(WRITERS))
    for fmt in formats:
        if persons_ and fmt not in PERSON_WRITERS:
            print(f"skip {fmt}: the persons layout is written as xlsx and csv", file=sys.stderr)
            continue
        if fmt == "xlsx" and not persons_ and n + 1 > XLSX_MAX_ROWS:
            print(f"skip xlsx: {n:,} rows are over Excel's {XLSX_MAX_ROWS:,}", file=sys.stderr)
            continue
        t0 = time.perf_counter()
        path = generate(
            args.size,
            fmt,
            args.out,
            seed=args.seed,
            dirty=args.dirty,
            force=args.force,
            layout=args.layout,
            households=args.households,
        )
        mb = path.stat().st_size / 2**20
        print(f"{path} ({mb:,.1f} MB, {time.perf_counter() - t0:.1f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
