"""The demo workbooks carry the seed's figures (../shared/DOMAIN.md) in a county layout.

Everything is counted by hand from the written files, read back with openpyxl alone.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet

from analytics.fixtures.demo_data import DEMO_ROUNDS, DEMO_TOWNSHIP, write_demo_workbooks

CHECK, DYN = "2017年精准核查", "2017年动态管理"
POVERTY_LINE = 2952
SECURE = ("food", "education", "medical", "housing")
FLAGS = ("public_servant", "vehicle", "town_house", "business")
FIELDS = (
    "seq",
    "village",
    "group",
    "household_id",
    "head_name",
    "head_id",
    "size",
    "state",
    "attribute",
    "cause",
    "income",
    *SECURE,
    "exit_year",
    "adjustment",
    "finding",
    "survey_date",
    "surveyor",
    "approval",
    *FLAGS,
)
FLAG_HEADERS = ("有财政供养人员", "有机动车", "有城镇商品房", "有工商注册")
HEADERS = {
    CHECK: (
        "序号",
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
        *FLAG_HEADERS,
    ),
    DYN: (
        "序号",
        "村",
        "自然村",
        "户码",
        "户主",
        "证件号码",
        "人口数",
        "户类型",
        "贫困户属性",
        "致贫原因",
        "家庭人均纯收入(元)",
        "不愁吃穿",
        "义务教育",
        "基本医疗",
        "住房安全",
        "脱贫年份",
        "动态调整",
        "核查结果",
        "入户日期",
        "核查人",
        "群众认可",
        *FLAG_HEADERS,
    ),
}
STATES = {
    CHECK: {"未脱贫": "remaining_poor", "已脱贫": "exited", "非建档立卡": "nonregistered"},
    DYN: {"贫困户": "remaining_poor", "脱贫户": "exited", "一般农户": "nonregistered"},
}
YES_NO = {CHECK: {"是": True, "否": False}, DYN: {"√": True, "×": False}}
TITLES = {
    CHECK: "凤庆县诗礼乡2017年贫困对象精准核查户信息表",
    DYN: "凤庆县诗礼乡2017年贫困对象动态管理户信息表",
}
SURVEY_DAYS = {
    CHECK: (dt.date(2017, 6, 1), dt.date(2017, 6, 20)),
    DYN: (dt.date(2017, 7, 6), dt.date(2017, 7, 13)),
}
# The seed's figures: (households, persons) per adjustment and per finding, per round.
ADJUSTMENTS = {
    CHECK: {"返贫": (1, 2)},
    DYN: {"拟退出": (7, 32), "返贫": (11, 47), "新增": (86, 297)},
}
FINDINGS = {CHECK: {"错评": (74, 324), "漏评": (178, 548), "错退": (1, 4)}, DYN: {}}
ALLOWED_STATES = {
    "错评": {"remaining_poor", "exited"},
    "漏评": {"nonregistered"},
    "错退": {"exited"},
    "新增": {"nonregistered"},
    "返贫": {"exited"},
    "拟退出": {"remaining_poor"},
}
KNOWN_VILLAGES = ("诗礼村", "古墨村", "清华村", "孔兴村", "三合村", "牌坊村", "乐平村", "河平村")
# The oracle of the ID test below, written out on purpose rather than taken from
# analytics/domain/idcard.py (which the demo data uses): GB 11643 MOD 11-2.
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


@dataclass
class HouseholdSheet:
    """One 户信息 sheet parsed by hand."""

    rows: list[dict] = field(default_factory=list)
    row_numbers: list[int] = field(default_factory=list)
    blank_rows: list[int] = field(default_factory=list)
    total_row: int = 0
    text_cells: dict[str, list[bool]] = field(default_factory=dict)


def parse_households(ws: Worksheet, round_name: str) -> HouseholdSheet:
    headers = [ws.cell(4, c).value or ws.cell(3, c).value for c in range(1, ws.max_column + 1)]
    assert tuple(headers) == HEADERS[round_name]
    village_of_row = {}
    for rng in ws.merged_cells.ranges:
        if rng.min_col == rng.max_col == 2 and rng.min_row >= 5:
            for r in range(rng.min_row, rng.max_row + 1):
                village_of_row[r] = ws.cell(rng.min_row, 2).value
    sheet = HouseholdSheet(text_cells={"head_id": [], "household_id": []})
    states, yes_no = STATES[round_name], YES_NO[round_name]
    for r, cells in enumerate(ws.iter_rows(min_row=5, max_col=len(FIELDS)), start=5):
        values = [c.value for c in cells]
        if values[0] == "合计":
            sheet.total_row = r
            break
        if all(v is None for v in values):
            sheet.blank_rows.append(r)
            continue
        row = dict(zip(FIELDS, values, strict=True))
        row["village"] = village_of_row.get(r, row["village"])
        row["size"] = int(row["size"])
        row["state"] = states[row["state"]]
        for key in (*SECURE, "approval", *FLAGS):
            row[key] = yes_no[row[key]]
        sheet.rows.append(row)
        sheet.row_numbers.append(r)
        sheet.text_cells["head_id"].append(cells[5].data_type == "s")
        sheet.text_cells["household_id"].append(cells[3].data_type == "s")
    return sheet


def table_rows(ws: Worksheet, first_row: int) -> tuple[list[tuple], tuple | None]:
    """Rows under a one-row header up to the 合计 row (returned apart)."""
    rows = []
    for values in ws.iter_rows(min_row=first_row, values_only=True):
        if values[0] == "合计":
            return rows, values
        if any(v is not None for v in values):
            rows.append(values)
    return rows, None


def tally(rows: list[dict], key: str, word: str) -> tuple[int, int]:
    hit = [r for r in rows if r[key] == word]
    return len(hit), sum(r["size"] for r in hit)


def parse_date(value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    m = re.fullmatch(r"(\d{4})[.年](\d{1,2})[.月](\d{1,2})日?", str(value))
    assert m, value
    return dt.date(*map(int, m.groups()))


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Path, str]]:
    return write_demo_workbooks(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="module")
def books(written: list[tuple[Path, str]]) -> dict[str, openpyxl.Workbook]:
    return {round_name: openpyxl.load_workbook(path) for path, round_name in written}


@pytest.fixture(scope="module")
def sheets(books: dict[str, openpyxl.Workbook]) -> dict[str, HouseholdSheet]:
    return {r: parse_households(wb["户信息"], r) for r, wb in books.items()}


def test_two_workbooks_in_round_order_with_their_sheets(written, books):
    assert DEMO_TOWNSHIP == "诗礼乡"
    assert DEMO_ROUNDS == (CHECK, DYN)
    assert [(p.name, r) for p, r in written] == [
        ("诗礼乡_2017年精准核查.xlsx", CHECK),
        ("诗礼乡_2017年动态管理.xlsx", DYN),
    ]
    assert books[CHECK].sheetnames == ["户信息", "家庭成员", "易地扶贫搬迁", "村基本情况"]
    assert books[DYN].sheetnames == ["户信息", "家庭成员", "贫情分析会议"]


@pytest.mark.parametrize("round_name", [CHECK, DYN])
def test_household_sheet_has_title_fill_line_and_two_row_header(books, round_name):
    ws = books[round_name]["户信息"]
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert ws["A1"].value == TITLES[round_name]
    assert "A1:Y1" in merged
    assert ws["A2"].value == "填报单位：诗礼乡人民政府"
    fill_date = "6月20日" if round_name == CHECK else "7月13日"
    row2 = [v for v in next(ws.iter_rows(min_row=2, max_row=2, values_only=True)) if v]
    assert row2[1:] == [f"填报日期：2017年{fill_date}"]
    assert ws["L3"].value == "两不愁三保障"
    assert "L3:O3" in merged
    for col in "ABCDEFGHIJKPQRSTUVWXY":
        assert f"{col}3:{col}4" in merged, col
    assert not any(h in HEADERS[round_name] for h in ("乡镇", "乡", "乡（镇）"))


@pytest.mark.parametrize("round_name", [CHECK, DYN])
def test_registry_states_match_the_seed(sheets, round_name):
    rows = sheets[round_name].rows
    by_state = Counter(r["state"] for r in rows)
    persons = Counter()
    for r in rows:
        persons[r["state"]] += r["size"]
    assert (by_state["remaining_poor"], persons["remaining_poor"]) == (8, 35)
    assert persons["exited"] == 6160
    assert persons["remaining_poor"] + persons["exited"] == 6195
    assert 1400 <= by_state["exited"] <= 1600
    assert 5700 <= len(rows) <= 5900
    assert 23500 <= sum(r["size"] for r in rows) <= 24500
    assert all(1 <= r["size"] <= 8 for r in rows)


@pytest.mark.parametrize("round_name", [CHECK, DYN])
def test_adjustments_and_findings_match_the_seed_exactly(sheets, round_name):
    rows = sheets[round_name].rows
    for key, want in (("adjustment", ADJUSTMENTS), ("finding", FINDINGS)):
        words = Counter(r[key] for r in rows if r[key] is not None)
        assert set(words) == set(want[round_name])
        for word, figure in want[round_name].items():
            assert tally(rows, key, word) == figure, word
    for r in rows:
        for key in ("adjustment", "finding"):
            if r[key] is not None:
                assert r["state"] in ALLOWED_STATES[r[key]], (r["household_id"], r[key])


def test_check_round_rates_round_to_the_report(sheets):
    rows = sheets[CHECK].rows
    registered = sum(r["size"] for r in rows if r["state"] != "nonregistered")
    exited = sum(r["size"] for r in rows if r["state"] == "exited")
    inclusion = sum(r["size"] for r in rows if r["finding"] == "错评")
    wrongful = sum(r["size"] for r in rows if r["finding"] == "错退")
    assert round(inclusion / registered, 4) == 0.0523
    assert round(wrongful / exited, 4) == 0.0006
    incl = [r for r in rows if r["finding"] == "错评"]
    assert Counter(r["state"] for r in incl) == {"exited": 73, "remaining_poor": 1}


def test_findings_and_adjustments_fall_on_the_intended_households(sheets):
    check = {r["household_id"]: r for r in sheets[CHECK].rows}
    dyn = {r["household_id"]: r for r in sheets[DYN].rows}
    proposed = {h for h, r in dyn.items() if r["adjustment"] == "拟退出"}
    poor = {h for h, r in dyn.items() if r["state"] == "remaining_poor"}
    (left,) = poor - proposed
    assert check[left]["finding"] == "错评"
    assert check[left]["size"] == 3
    wrongful = [r for r in check.values() if r["finding"] == "错退"]
    relapse = [r for r in check.values() if r["adjustment"] == "返贫"]
    assert wrongful[0]["finding"] != "错评" and relapse[0]["finding"] is None


def test_registry_is_the_same_in_both_rounds(sheets):
    keys = ("state", "size", "village", "group", "head_name", "head_id", "income", "exit_year")
    check = {r["household_id"]: tuple(r[k] for k in keys) for r in sheets[CHECK].rows}
    dyn = {r["household_id"]: tuple(r[k] for k in keys) for r in sheets[DYN].rows}

    def plain(t: tuple) -> tuple:
        return tuple(int(v) if k == "income" else v for k, v in zip(keys, t, strict=True))

    assert {h: plain(t) for h, t in check.items()} == {h: plain(t) for h, t in dyn.items()}


@pytest.mark.parametrize("round_name", [CHECK, DYN])
def test_total_row_blank_row_and_signature_lines(books, sheets, round_name):
    ws = books[round_name]["户信息"]
    sheet = sheets[round_name]
    t = sheet.total_row
    assert t == sheet.row_numbers[-1] + 1
    assert ws.cell(t, 4).value == len(sheet.rows)
    assert ws.cell(t, 7).value == sum(r["size"] for r in sheet.rows)
    assert all(c.value is None for c in ws[t + 1])
    assert ws.cell(t + 2, 1).value == "审核人：张某某        填表人：李某某"
    assert ws.cell(t + 3, 1).value == "注：本表由各村工作队填报。"
    assert len(sheet.blank_rows) == 1
    blank = sheet.blank_rows[0]
    before = sheet.rows[sheet.row_numbers.index(blank - 1)]
    after = sheet.rows[sheet.row_numbers.index(blank + 1)]
    assert before["village"] != after["village"]
    assert [r["seq"] for r in sheet.rows] == list(range(1, len(sheet.rows) + 1))


@pytest.mark.parametrize("round_name", [CHECK, DYN])
def test_village_cells_are_merged_down_each_village(books, sheets, round_name):
    ws = books[round_name]["户信息"]
    sheet = sheets[round_name]
    rows_of: dict[str, list[int]] = {}
    for n, r in zip(sheet.row_numbers, sheet.rows, strict=True):
        rows_of.setdefault(r["village"], []).append(n)
    merges = sorted(
        (m.min_row, m.max_row)
        for m in ws.merged_cells.ranges
        if m.min_col == m.max_col == 2 and m.min_row >= 5
    )
    assert len(rows_of) == 14
    assert merges == sorted((min(ns), max(ns)) for ns in rows_of.values())
    for village, ns in rows_of.items():
        assert ns == list(range(ns[0], ns[-1] + 1))
        assert ws.cell(ns[0], 2).value == village
        assert all(ws.cell(n, 2).value is None for n in ns[1:])
    # Sorted by village then group: every (village, group) is one contiguous block.
    blocks = [(r["village"], r["group"]) for r in sheet.rows]
    runs = [b for i, b in enumerate(blocks) if i == 0 or blocks[i - 1] != b]
    assert len(runs) == len(set(runs))


def test_villages_and_groups(books, sheets):
    rows = sheets[CHECK].rows
    pairs = {(r["village"], r["group"]) for r in rows}
    villages = {v for v, _ in pairs}
    assert len(villages) == 14
    assert set(KNOWN_VILLAGES) <= villages
    assert len(pairs) == 185
    assert ("三合村", "三合组") in pairs
    assert all(g and str(g).endswith("组") for _, g in pairs)

    ws = books[CHECK]["村基本情况"]
    assert ws["A1"].value and "A1:E1" in {str(r) for r in ws.merged_cells.ranges}
    assert [c.value for c in ws[2]] == ["行政村", "是否贫困村", "总户数", "总人口", "乡村人口"]
    table, total = table_rows(ws, 3)
    assert len(table) == 14
    assert {t[0] for t in table} == villages
    assert Counter(t[1] for t in table) == {"是": 3, "否": 11}
    for name, _poor, households, population, rural in table:
        members = [r for r in rows if r["village"] == name]
        assert households == len(members)
        assert population == rural == sum(r["size"] for r in members)
    assert total[2:5] == (len(rows), sum(r["size"] for r in rows), sum(r["size"] for r in rows))


def test_meetings_match_the_seed(books, sheets):
    ws = books[DYN]["贫情分析会议"]
    assert [str(r) for r in ws.merged_cells.ranges] == ["A1:F1"]
    assert [c.value for c in ws[2]] == [
        "行政村",
        "村民小组",
        "会议日期",
        "会议阶段",
        "参会人数",
        "主持人",
    ]
    meetings, total = table_rows(ws, 3)
    assert len(meetings) == 114
    assert sum(m[4] for m in meetings) == 1329
    assert total[4] == 1329
    township = [m for m in meetings if m[0] is None and m[1] is None]
    village = [m for m in meetings if m[0] is not None and m[1] is None]
    group = [m for m in meetings if m[1] is not None]
    assert len(township) == 4
    assert village and len(township) + len(village) + len(group) == 114
    pairs = {(r["village"], r["group"]) for r in sheets[DYN].rows}
    assert all((m[0], m[1]) in pairs for m in group)
    assert {m[0] for m in village} <= {v for v, _ in pairs}
    for m in meetings:
        assert isinstance(m[2], dt.datetime)
        day = m[2].date()
        assert dt.date(2017, 6, 28) <= day <= dt.date(2017, 7, 13)
        assert m[3] == ("贫情分析" if day <= dt.date(2017, 7, 5) else "实地调查")
        assert isinstance(m[4], int) and m[4] > 0
        assert m[5]


def test_relocation_matches_the_seed(books, sheets):
    ws = books[CHECK]["易地扶贫搬迁"]
    assert ws["A1"].value == "诗礼乡易地扶贫搬迁安置情况表"
    assert "A1:H1" in {str(r) for r in ws.merged_cells.ranges}
    header = ("户编号", "户主", "迁出村", "安置点", "安置方式", "搬迁人口", "住房面积（平方米）")
    assert [c.value for c in ws[2]] == [*header, "整改措施"]
    rows, _ = table_rows(ws, 3)
    assert len(rows) == 13
    assert sum(r[5] for r in rows) == 54
    assert {r[3] for r in rows} == {"诗礼乡小湾安置点"}
    assert {r[4] for r in rows} == {"集中安置"}
    over = [r for r in rows if r[6] > 25 * r[5]]
    assert (len(over), sum(r[5] for r in over)) == (3, 14)
    for r in rows:
        assert (r[7] in {"亲属共建", "共有产权"}) if r in over else r[7] is None
    registry = {r["household_id"]: r for r in sheets[CHECK].rows}
    assert len({r[0] for r in rows}) == 13
    for r in rows:
        household = registry[r[0]]
        assert (household["head_name"], household["village"]) == (r[1], r[2])
        assert household["state"] in {"remaining_poor", "exited"}


@pytest.mark.parametrize("round_name", [CHECK, DYN])
def test_id_numbers_are_valid_unique_text(sheets, round_name):
    sheet = sheets[round_name]
    ids = [r["head_id"] for r in sheet.rows]
    assert all(sheet.text_cells["head_id"]) and all(sheet.text_cells["household_id"])
    assert len(set(ids)) == len(ids)
    for number in ids:
        assert isinstance(number, str) and len(number) == 18
        assert number.startswith("530921") and number[:17].isdigit()
        birth = dt.datetime.strptime(number[6:14], "%Y%m%d").date()
        assert dt.date(1940, 1, 1) <= birth <= dt.date(1995, 12, 31)
        check = sum(int(d) * w for d, w in zip(number[:17], ID_WEIGHTS, strict=True)) % 11
        assert number[17] == "10X98765432"[check]
    household_ids = [r["household_id"] for r in sheet.rows]
    assert len(set(household_ids)) == len(household_ids)
    assert all(isinstance(h, str) and len(h) == 16 and h.isdigit() for h in household_ids)


def test_check_round_cell_types(sheets):
    rows = sheets[CHECK].rows
    for r in rows:
        assert isinstance(r["survey_date"], dt.datetime)
        assert SURVEY_DAYS[CHECK][0] <= r["survey_date"].date() <= SURVEY_DAYS[CHECK][1]
        assert isinstance(r["income"], int)
        assert r["approval"] in (True, False)


def test_raw_cell_spellings(books, sheets):
    ws = books[CHECK]["户信息"]
    sheet = sheets[CHECK]
    text_sizes = [
        r["seq"]
        for n, r in zip(sheet.row_numbers, sheet.rows, strict=True)
        if isinstance(ws.cell(n, 7).value, str)
    ]
    assert text_sizes == [s for s in range(1, len(sheet.rows) + 1) if s % 10 == 0]

    ws = books[DYN]["户信息"]
    rows = sheets[DYN].rows
    dates = [r["survey_date"] for r in rows]
    assert all(isinstance(d, str) for d in dates)
    long_form = [d for d in dates if "年" in d]
    assert 0 < len(long_form) < len(dates) / 5
    assert all(SURVEY_DAYS[DYN][0] <= parse_date(d) <= SURVEY_DAYS[DYN][1] for d in dates)
    text_income = [r for r in rows if isinstance(r["income"], str)]
    assert 0 < len(text_income) < len(rows) / 2
    assert all(s.isdigit() for s in (r["income"] for r in text_income))
    raw_yes_no = {ws.cell(n, c).value for n in sheets[DYN].row_numbers[:500] for c in range(12, 16)}
    assert raw_yes_no == {"√", "×"} or raw_yes_no == {"√"}


def test_incomes_follow_the_states(sheets):
    rows = sheets[CHECK].rows
    income = {id(r): int(r["income"]) for r in rows}
    poor = [r for r in rows if r["state"] == "remaining_poor"]
    assert all(income[id(r)] < POVERTY_LINE for r in poor)
    assert all(income[id(r)] < POVERTY_LINE for r in rows if r["finding"] == "漏评")
    nonreg = [r for r in rows if r["state"] == "nonregistered" and r["finding"] is None]
    assert sum(4000 <= income[id(r)] <= 15000 for r in nonreg) >= 0.8 * len(nonreg)
    exited = [r for r in rows if r["state"] == "exited"]
    below = [r for r in exited if income[id(r)] < POVERTY_LINE]
    assert 0 < len(below) <= 30


def test_other_columns_are_consistent(sheets):
    rows = sheets[CHECK].rows
    attributes = {"一般贫困户", "低保贫困户", "特困供养贫困户"}
    causes = {
        "因病",
        "因残",
        "因学",
        "缺技术",
        "缺劳力",
        "缺资金",
        "交通条件落后",
        "自身发展动力不足",
    }
    for r in rows:
        registered = r["state"] != "nonregistered"
        assert (r["attribute"] in attributes) if registered else r["attribute"] is None
        assert (r["cause"] in causes) if registered else r["cause"] is None
        if r["state"] == "exited":
            assert r["exit_year"] in (2014, 2015, 2016)
        else:
            assert r["exit_year"] is None
        assert r["surveyor"]
    insecure = [r for r in rows if not all(r[k] for k in SECURE)]
    (wrongful,) = [r for r in rows if r["finding"] == "错退"]
    assert [k for k in SECURE if not wrongful[k]] == ["housing"]
    assert all(r is wrongful or r["finding"] == "漏评" for r in insecure)
    assert sum(r["finding"] == "漏评" for r in insecure) > 0


def test_exclusion_flags_mark_about_half_of_the_wrongly_included(sheets):
    rows = sheets[CHECK].rows
    flagged = Counter(sum(r[k] for k in FLAGS) for r in rows if r["finding"] == "错评")
    assert set(flagged) <= {0, 1}
    assert 0.3 * 74 <= flagged[1] <= 0.7 * 74
    others = [r for r in rows if r["state"] != "nonregistered" and r["finding"] != "错评"]
    assert not any(r[k] for r in others for k in FLAGS)
    assert sum(any(r[k] for k in FLAGS) for r in rows) < 0.03 * len(rows)


@pytest.mark.parametrize("round_name", [CHECK, DYN])
def test_approval_is_about_98_percent(sheets, round_name):
    rows = sheets[round_name].rows
    share = sum(r["approval"] for r in rows) / len(rows)
    assert 0.96 <= share < 0.995


def test_two_runs_write_identical_files(tmp_path, written, books):
    again = write_demo_workbooks(tmp_path, fresh=True)
    assert [r for _, r in again] == [r for _, r in written]
    for (first, round_name), (second, _) in zip(written, again, strict=True):
        a = books[round_name]
        b = openpyxl.load_workbook(second, read_only=True)
        assert a.sheetnames == b.sheetnames
        for name in a.sheetnames:
            assert list(a[name].values) == list(b[name].values), name
        b.close()
        assert first.read_bytes() == second.read_bytes()
