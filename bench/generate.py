"""Synthetic household registers (户信息表) as county files: XLSX, CSV and Parquet.

    python bench/generate.py --size county --format xlsx          # 100k households
    python bench/generate.py --size prefecture --format csv parquet
    python bench/generate.py --size province --format csv parquet --out bench/data

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
from analytics.domain import idcard

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


WRITERS = {"xlsx": write_xlsx, "csv": write_csv, "parquet": write_parquet}


def path_for(out: Path, size: str, fmt: str, seed: int = 0) -> Path:
    """Where ``generate`` puts (and finds) a file: ``households_<size>_<seed>.<fmt>``."""
    return out / f"households_{size}_{seed}.{fmt}"


def generate(
    size: str,
    fmt: str,
    out: Path = DEFAULT_DIR,
    *,
    seed: int = 0,
    dirty: float = 0.003,
    force: bool = False,
) -> Path:
    """Writes (or reuses) one file; returns its path."""
    n = SIZES[size]
    path = path_for(out, size, fmt, seed)
    if path.exists() and not force:
        return path
    out.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".part")
    WRITERS[fmt](tmp, n, seed, dirty)
    tmp.replace(path)
    return path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--size", choices=list(SIZES), default="county")
    p.add_argument("--format", nargs="+", choices=list(WRITERS), default=["xlsx", "csv", "parquet"])
    p.add_argument("--out", type=Path, default=DEFAULT_DIR)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--dirty", type=float, default=0.003, help="share of rows with a quirk")
    p.add_argument("--force", action="store_true", help="rewrite a file that exists")
    args = p.parse_args(argv)
    for fmt in args.format:
        if fmt == "xlsx" and SIZES[args.size] + 1 > XLSX_MAX_ROWS:
            print(f"skip xlsx: {args.size} is over Excel's {XLSX_MAX_ROWS:,} rows", file=sys.stderr)
            continue
        t0 = time.perf_counter()
        path = generate(
            args.size, fmt, args.out, seed=args.seed, dirty=args.dirty, force=args.force
        )
        mb = path.stat().st_size / 2**20
        print(f"{path} ({mb:,.1f} MB, {time.perf_counter() - t0:.1f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
