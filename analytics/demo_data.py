"""The demo township's two workbooks, generated deterministically.

诗礼乡 (凤庆县) as the 2017 field report describes it (../shared/DOMAIN.md, "The seed's
figures"): one registry of about 5,800 households surveyed in two rounds, written in the
untidy layout of real county workbooks ("Real workbooks look like this"): a merged title,
a 填报单位 line, a two-row header, village cells merged down, a blank row inside the
table, a 合计 row and signature lines under it, mixed cell types.

Every figure of the seed is reproduced exactly; everything else (names, ID numbers,
incomes, dates) is synthetic and drawn from ``random.Random(2017)`` alone. The output is
byte-identical from run to run: the zip entries and the document properties carry a
fixed time stamp.
"""

from __future__ import annotations

import datetime as dt
import pathlib
import random
import re
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from analytics import export

DEMO_TOWNSHIP = "诗礼乡"
DEMO_ROUNDS = ("2017年精准核查", "2017年动态管理")  # round order: the check round ran first

_COUNTY = "凤庆县"
_REGION_CODE = "530921"
_TOWNSHIP_CODE = "103"
_SEED = 2017
_STAMP = dt.datetime(2017, 7, 14)
_POVERTY_LINE = 2952  # yuan per person per year, 2017
_AREA_STANDARD = 25  # m² per relocated person

# (village, is poor village, number of groups); 185 groups in all.
_VILLAGES: tuple[tuple[str, bool, int], ...] = (
    ("诗礼村", False, 16),
    ("古墨村", True, 12),
    ("清华村", False, 13),
    ("孔兴村", False, 15),
    ("三合村", False, 14),
    ("牌坊村", False, 11),
    ("乐平村", False, 13),
    ("河平村", False, 12),
    ("永新村", False, 14),
    ("红岩村", True, 12),
    ("大寨村", False, 13),
    ("新华村", True, 15),
    ("松林村", False, 12),
    ("凤鸣村", False, 13),
)
_NUMBERED_GROUP_VILLAGES = frozenset({"永新村", "新华村"})  # groups named 第一组, 第二组 ...
_GROUP_STEMS = (
    "大村",
    "小村",
    "上村",
    "下村",
    "中村",
    "新村",
    "老村",
    "大寨",
    "小寨",
    "河边",
    "山脚",
    "箐口",
    "坝子",
    "松树",
    "梁子",
    "田心",
    "平掌",
    "岩头",
    "大坪",
    "小坪",
    "水井",
    "核桃",
    "茶房",
    "麦地",
    "草坪",
    "营盘",
    "石洞",
    "竹林",
    "龙潭",
    "大箐",
)

_SURNAMES = (
    "李",
    "杨",
    "张",
    "王",
    "罗",
    "赵",
    "刘",
    "陈",
    "段",
    "鲁",
    "周",
    "黄",
    "何",
    "字",
    "查",
    "苏",
    "施",
    "徐",
    "马",
    "毕",
    "郭",
    "董",
    "胡",
    "吴",
    "尹",
    "俸",
)
_SURNAME_WEIGHTS = (14, 12, 9, 8, 6, 5, 5, 5, 4, 4, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1)
_MALE_CHARS = "国建明华文富贵学正开兴德发成有志春云祥光忠林应永家得海才元金"
_FEMALE_CHARS = "秀兰芳英美玉琼凤红梅菊花丽翠珍春艳仙会桂"

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"

# Household size distribution of the rural registry (1-8 persons, mean about 4.2).
_SIZE_WEIGHTS = (4, 10, 18, 26, 21, 12, 6, 3)

_ATTRIBUTES = (("一般贫困户", 70), ("低保贫困户", 25), ("特困供养贫困户", 5))
_CAUSES = (
    ("因病", 24),
    ("因残", 9),
    ("因学", 10),
    ("缺技术", 18),
    ("缺劳力", 10),
    ("缺资金", 15),
    ("交通条件落后", 8),
    ("自身发展动力不足", 6),
)
_EXIT_YEARS = ((2014, 25), (2015, 35), (2016, 40))
_SECURE_ITEMS = 4  # 不愁吃穿, 义务教育, 基本医疗, 住房安全
_HOUSING = 3  # index of 住房安全 among the four
_FLAGS = 4  # 有财政供养人员, 有机动车, 有城镇商品房, 有工商注册

# Keys of the registry states and outcomes used below.
_RP, _EX, _NR = "remaining_poor", "exited", "nonregistered"
_NEW, _RELAPSE, _EXIT = "new", "relapse", "exit_proposed"
_INCL, _EXCL, _WRONG = "inclusion_error", "exclusion_error", "wrongful_exit"

_CHECK, _DYN = DEMO_ROUNDS
_T = TypeVar("_T")


@dataclass(frozen=True)
class _Cohort:
    """Households of one registry state that share their outcomes in both rounds."""

    state: str
    households: int
    persons: int
    check: tuple[str | None, str | None] = (None, None)  # (adjustment, finding)
    dyn: tuple[str | None, str | None] = (None, None)
    income: tuple[int, int] = (4000, 15000)


# The seed's figures as one registry: 8 remaining-poor households (35 persons), 1500 exited
# (6160 persons), 4294 nonregistered. Cohorts are disjoint; the last two are everybody else.
_COHORTS: tuple[_Cohort, ...] = (
    _Cohort(_RP, 7, 32, dyn=(_EXIT, None), income=(1800, 2900)),
    _Cohort(_RP, 1, 3, check=(None, _INCL), income=(2300, 2900)),
    _Cohort(_EX, 73, 321, check=(None, _INCL), income=(6500, 26000)),
    _Cohort(_EX, 1, 4, check=(None, _WRONG), income=(3000, 3400)),
    _Cohort(_EX, 1, 2, check=(_RELAPSE, None), income=(2000, 2900)),
    _Cohort(_EX, 11, 47, dyn=(_RELAPSE, None), income=(2000, 2900)),
    _Cohort(_NR, 178, 548, check=(None, _EXCL), income=(1500, 2900)),
    _Cohort(_NR, 86, 297, dyn=(_NEW, None), income=(1600, 2900)),
    _Cohort(_EX, 1414, 5786, income=(3000, 12000)),
    _Cohort(_NR, 4030, 16985, income=(4000, 15000)),
)
_RELOCATION_OVER = (3, 14)  # households, persons over the area standard
_RELOCATION_WITHIN = (10, 40)
_RELOCATION_SITE = "诗礼乡小湾安置点"
_MEETINGS = 114
_MEETING_ATTENDANCE = 1329
_TOWNSHIP_MEETINGS = (
    dt.date(2017, 6, 28),
    dt.date(2017, 7, 5),
    dt.date(2017, 7, 6),
    dt.date(2017, 7, 13),
)
_EXTRA_VILLAGE_MEETINGS = 6  # a second village meeting opening phase 2 in six villages
_PHASE_TWO = dt.date(2017, 7, 6)

_SURVEY_DAYS = {
    _CHECK: (dt.date(2017, 6, 1), dt.date(2017, 6, 20)),
    _DYN: (dt.date(2017, 7, 6), dt.date(2017, 7, 13)),
}


@dataclass
class _Visit:
    """What one round recorded about a household."""

    adjustment: str | None
    finding: str | None
    date: dt.date
    surveyor: str
    approved: bool


@dataclass
class _Household:
    state: str
    size: int
    outcomes: dict[str, tuple[str | None, str | None]]
    income: int
    village: int = 0
    group: int = 0
    household_id: str = ""
    head_name: str = ""
    head_id: str = ""
    attribute: str | None = None
    cause: str | None = None
    exit_year: int | None = None
    secure: list[bool] = field(default_factory=lambda: [True] * _SECURE_ITEMS)
    flags: list[bool] = field(default_factory=lambda: [False] * _FLAGS)
    visits: dict[str, _Visit] = field(default_factory=dict)


@dataclass
class _Meeting:
    village: int | None
    group: int | None
    date: dt.date
    attendance: int
    host: str


@dataclass
class _Relocation:
    household: _Household
    area: float
    remedy: str | None


@dataclass
class _Demo:
    groups: list[list[str]]
    households: list[_Household]
    meetings: list[_Meeting]
    relocations: list[_Relocation]


# ---------------------------------------------------------------------------------------
# Drawing the registry


def _id_check_character(first17: str) -> str:
    """Return the ISO 7064 MOD 11-2 check character of an 18-character resident ID.

    Parameters
    ----------
    first17 : str
        The first 17 digits of the ID number.

    Returns
    -------
    str
        One of ``"0123456789X"``.
    """
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def _weighted(rng: random.Random, pairs: Sequence[tuple[_T, int]]) -> _T:
    return rng.choices([v for v, _ in pairs], weights=[w for _, w in pairs])[0]


def _adjust_to_sum(
    rng: random.Random, values: list[int], total: int, lo: Sequence[int], hi: Sequence[int]
) -> list[int]:
    """Nudge random entries one step at a time, within their bounds, until they sum to total."""
    if not sum(lo) <= total <= sum(hi):
        raise ValueError(f"{total} is out of reach of {len(values)} bounded values")
    while (gap := total - sum(values)) != 0:
        i = rng.randrange(len(values))
        if gap > 0 and values[i] < hi[i]:
            values[i] += 1
        elif gap < 0 and values[i] > lo[i]:
            values[i] -= 1
    return values


def _sizes(rng: random.Random, households: int, persons: int) -> list[int]:
    sizes = rng.choices(range(1, 9), weights=_SIZE_WEIGHTS, k=households)
    return _adjust_to_sum(rng, sizes, persons, [1] * households, [8] * households)


def _person_name(rng: random.Random, male: bool) -> str:
    chars = _MALE_CHARS if male else _FEMALE_CHARS
    surname = rng.choices(_SURNAMES, weights=_SURNAME_WEIGHTS)[0]
    return surname + "".join(rng.sample(chars, 1 if rng.random() < 0.3 else 2))


def _id_number(rng: random.Random, male: bool, taken: set[str]) -> str:
    first, last = dt.date(1940, 1, 1).toordinal(), dt.date(1995, 12, 31).toordinal()
    while True:
        birth = dt.date.fromordinal(rng.randint(first, last))
        sequence = rng.randrange(1 if male else 2, 1000, 2)
        first17 = f"{_REGION_CODE}{birth:%Y%m%d}{sequence:03d}"
        number = first17 + _id_check_character(first17)
        if number not in taken:
            taken.add(number)
            return number


def _chinese_numeral(n: int) -> str:
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    return ("" if n < 20 else digits[n // 10]) + "十" + (digits[n % 10] if n % 10 else "")


def _group_names(rng: random.Random) -> list[list[str]]:
    groups = []
    for village, _poor, count in _VILLAGES:
        if village in _NUMBERED_GROUP_VILLAGES:
            names = [f"第{_chinese_numeral(i)}组" for i in range(1, count + 1)]
        else:
            names = [stem + "组" for stem in rng.sample(_GROUP_STEMS, count)]
            if village == "三合村":
                names[rng.randrange(count)] = "三合组"
        groups.append(names)
    return groups


def _place(rng: random.Random, households: list[_Household], groups: list[list[str]]) -> None:
    """Spread households over the groups: every group gets some, poor villages more of the
    registered ones."""
    slots = [(v, g) for v, names in enumerate(groups) for g in range(len(names))]
    base = [rng.uniform(0.6, 1.4) for _ in slots]
    poor = [_VILLAGES[v][1] for v, _ in slots]
    registered_weights = [w * (1.8 if p else 1.0) for w, p in zip(base, poor, strict=True)]
    rng.shuffle(households)
    # The first households, all from the large nonregistered cohort, seed one per group.
    seeds = [h for h in households if h.outcomes == {_CHECK: (None, None), _DYN: (None, None)}]
    seeds = [h for h in seeds if h.state == _NR][: len(slots)]
    seeded = {id(h) for h in seeds}
    for h, slot in zip(seeds, slots, strict=True):
        h.village, h.group = slot
    for h in households:
        if id(h) in seeded:
            continue
        weights = base if h.state == _NR else registered_weights
        h.village, h.group = rng.choices(slots, weights=weights)[0]


def _registry(rng: random.Random, groups: list[list[str]]) -> list[_Household]:
    households: list[_Household] = []
    for cohort in _COHORTS:
        for size in _sizes(rng, cohort.households, cohort.persons):
            lo, hi = cohort.income
            households.append(
                _Household(
                    state=cohort.state,
                    size=size,
                    outcomes={_CHECK: cohort.check, _DYN: cohort.dyn},
                    income=rng.randint(lo, hi),
                )
            )
    _place(rng, households, groups)
    households.sort(key=lambda h: (h.village, h.group))

    ids: set[str] = set()
    per_village = [0] * len(_VILLAGES)
    for h in households:
        per_village[h.village] += 1
        h.household_id = (
            f"{_REGION_CODE}{_TOWNSHIP_CODE}{h.village + 1:03d}{per_village[h.village]:04d}"
        )
        male = rng.random() < 0.85
        h.head_name = _person_name(rng, male)
        h.head_id = _id_number(rng, male, ids)
        finding = h.outcomes[_CHECK][1]
        if h.state != _NR:
            h.attribute = _weighted(rng, _ATTRIBUTES)
            h.cause = _weighted(rng, _CAUSES)
        if h.state == _EX:
            h.exit_year = _weighted(rng, _EXIT_YEARS)
            if finding is None and h.outcomes == {_CHECK: (None, None), _DYN: (None, None)}:
                # A handful of exited households sit just under the line without a finding.
                if rng.random() < 0.004:
                    h.income = rng.randint(2600, _POVERTY_LINE - 1)
                elif rng.random() < 0.5:
                    h.income = rng.randint(3500, 9000)
        if h.state == _NR and finding is None and h.outcomes[_DYN] == (None, None):
            roll = rng.random()
            if roll < 0.05:
                h.income = rng.randint(_POVERTY_LINE + 100, 4000)
            elif roll < 0.08:
                h.income = rng.randint(15000, 30000)
            if rng.random() < 0.015:
                h.flags[rng.randrange(_FLAGS)] = True
        if finding == _WRONG:
            h.secure[_HOUSING] = False
        elif finding == _EXCL and rng.random() < 0.3:
            h.secure[rng.choice((1, 2, _HOUSING, _HOUSING))] = False
        elif finding == _INCL and rng.random() < 0.5:
            h.flags[rng.randrange(_FLAGS)] = True
    # The remaining-poor household found wrongly included owns a vehicle.
    for h in households:
        if h.state == _RP and h.outcomes[_CHECK][1] == _INCL:
            h.flags = [False, True, False, False]
    return households


def _surveyors(rng: random.Random) -> list[list[str]]:
    return [[_person_name(rng, rng.random() < 0.7) for _ in range(3)] for _ in _VILLAGES]


def _visit(rng: random.Random, households: list[_Household], round_name: str) -> None:
    team = _surveyors(rng)
    first, last = _SURVEY_DAYS[round_name]
    days = (last - first).days
    for h in households:
        adjustment, finding = h.outcomes[round_name]
        h.visits[round_name] = _Visit(
            adjustment=adjustment,
            finding=finding,
            date=first + dt.timedelta(days=rng.randint(0, days)),
            surveyor=rng.choice(team[h.village]),
            approved=rng.random() < 0.98,
        )


def _meetings(rng: random.Random, groups: list[list[str]]) -> list[_Meeting]:
    """114 analysis meetings: township-level, village-level and group-level."""
    # (village, group, date, fewest, most attending)
    drafts: list[tuple[int | None, int | None, dt.date, int, int]] = []
    for day in _TOWNSHIP_MEETINGS:
        drafts.append((None, None, day, 30, 48))
    for v in range(len(_VILLAGES)):
        drafts.append((v, None, dt.date(2017, 6, 28 + rng.randint(0, 1)), 12, 25))
    for v in rng.sample(range(len(_VILLAGES)), _EXTRA_VILLAGE_MEETINGS):
        drafts.append((v, None, _PHASE_TWO, 12, 25))
    slots = [(v, g) for v, names in enumerate(groups) for g in range(len(names))]
    for v, g in rng.sample(slots, _MEETINGS - len(drafts)):
        if rng.random() < 0.75:
            day = dt.date(2017, 6, 29) + dt.timedelta(days=rng.randint(0, 6))
        else:
            day = _PHASE_TWO + dt.timedelta(days=rng.randint(0, 6))
        drafts.append((v, g, day, 6, 15))
    attendance = [rng.randint(lo, hi) for *_, lo, hi in drafts]
    lo = [d[3] for d in drafts]
    hi = [d[4] for d in drafts]
    _adjust_to_sum(rng, attendance, _MEETING_ATTENDANCE, lo, hi)
    meetings = [
        _Meeting(v, g, day, n, _person_name(rng, rng.random() < 0.8))
        for (v, g, day, _, _), n in zip(drafts, attendance, strict=True)
    ]
    meetings.sort(
        key=lambda m: (
            m.date,
            -1 if m.village is None else m.village,
            -1 if m.group is None else m.group,
        )
    )
    return meetings


def _relocations(rng: random.Random, households: list[_Household]) -> list[_Relocation]:
    """13 relocated households of the plain exited cohort, 3 of them over the standard."""
    pool = [
        h
        for h in households
        if h.state == _EX
        and h.outcomes == {_CHECK: (None, None), _DYN: (None, None)}
        and 2 <= h.size <= 7
    ]
    rng.shuffle(pool)
    chosen: list[tuple[_Household, bool]] = []
    for over, (count, persons) in ((True, _RELOCATION_OVER), (False, _RELOCATION_WITHIN)):
        targets = _adjust_to_sum(
            rng, [rng.randint(2, 7) for _ in range(count)], persons, [2] * count, [7] * count
        )
        for size in targets:
            h = next(h for h in pool if h.size == size)
            pool.remove(h)
            chosen.append((h, over))
    rng.shuffle(chosen)
    relocations = []
    for h, over in chosen:
        limit = _AREA_STANDARD * h.size
        if over:
            area = limit + rng.choice((12, 15, 20, 25, 30)) + rng.randint(0, 9) / 2
            remedy = rng.choice(("亲属共建", "共有产权"))
        else:
            area = limit if rng.random() < 0.3 else limit - rng.randint(2, 5 * h.size) / 2
            remedy = None
        relocations.append(_Relocation(h, float(area), remedy))
    return relocations


def _build() -> _Demo:
    rng = random.Random(_SEED)
    groups = _group_names(rng)
    households = _registry(rng, groups)
    for round_name in DEMO_ROUNDS:
        _visit(rng, households, round_name)
    meetings = _meetings(rng, groups)
    relocations = _relocations(rng, households)
    return _Demo(groups, households, meetings, relocations)


# ---------------------------------------------------------------------------------------
# Writing the workbooks


@dataclass(frozen=True)
class _Layout:
    """How one round's household sheet is spelled."""

    kind: str  # 精准核查 / 动态管理: used in the title
    fill_date: str
    headers: tuple[str, ...]  # 25 headers; the four at _SECURE_COLUMNS sit under a group
    states: dict[str, str]
    yes_no: tuple[str, str]
    county_cells: bool  # dates and some numbers as text, as county offices type them
    blank_after_village: int


_SECURE_COLUMNS = range(12, 16)  # 1-based columns L..O under 两不愁三保障
_VILLAGE_COLUMN = 2
_HOUSEHOLD_ID_COLUMN = 4
_SIZE_COLUMN = 7
_ADJUSTMENT_WORDS = {_NEW: "新增", _RELAPSE: "返贫", _EXIT: "拟退出"}
_FINDING_WORDS = {_INCL: "错评", _EXCL: "漏评", _WRONG: "错退"}
_FLAG_HEADERS = ("有财政供养人员", "有机动车", "有城镇商品房", "有工商注册")

_LAYOUTS = {
    _CHECK: _Layout(
        kind="精准核查",
        fill_date="2017年6月20日",
        headers=(
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
            *_FLAG_HEADERS,
        ),
        states={_RP: "未脱贫", _EX: "已脱贫", _NR: "非建档立卡"},
        yes_no=("是", "否"),
        county_cells=False,
        blank_after_village=4,
    ),
    _DYN: _Layout(
        kind="动态管理",
        fill_date="2017年7月13日",
        headers=(
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
            *_FLAG_HEADERS,
        ),
        states={_RP: "贫困户", _EX: "脱贫户", _NR: "一般农户"},
        yes_no=("√", "×"),
        county_cells=True,
        blank_after_village=9,
    ),
}

_BOLD = Font(bold=True)
_TITLE_FONT = Font(bold=True, size=14)
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
_DATE_FORMAT = "yyyy-mm-dd"


def _title(ws: Worksheet, text: str, columns: int) -> None:
    export.put(ws, 1, 1, text).font = _TITLE_FONT
    ws.cell(1, 1).alignment = _CENTER
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=columns)


def _widths(ws: Worksheet, widths: Sequence[float]) -> None:
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width


def _household_row(h: _Household, seq: int, layout: _Layout, round_name: str) -> list[object]:
    """The 25 cell values of one household (the village cell is left to the caller)."""
    yes, no = layout.yes_no
    visit = h.visits[round_name]
    size: object = str(h.size) if not layout.county_cells and seq % 10 == 0 else h.size
    income: object = str(h.income) if layout.county_cells and seq % 9 == 0 else h.income
    date: object = visit.date
    if layout.county_cells:
        d = visit.date
        date = f"{d.year}年{d.month}月{d.day}日" if seq % 7 == 0 else f"{d.year}.{d.month}.{d.day}"
    return [
        seq,
        None,
        None,  # group, filled by the caller
        h.household_id,
        h.head_name,
        h.head_id,
        size,
        layout.states[h.state],
        h.attribute,
        h.cause,
        income,
        *(yes if s else no for s in h.secure),
        h.exit_year,
        _ADJUSTMENT_WORDS.get(visit.adjustment or ""),
        _FINDING_WORDS.get(visit.finding or ""),
        date,
        visit.surveyor,
        yes if visit.approved else no,
        *(yes if f else no for f in h.flags),
    ]


def _households_sheet(ws: Worksheet, demo: _Demo, round_name: str) -> None:
    layout = _LAYOUTS[round_name]
    columns = len(layout.headers)
    _title(ws, f"{_COUNTY}{DEMO_TOWNSHIP}2017年贫困对象{layout.kind}户信息表", columns)
    export.put(ws, 2, 1, f"填报单位：{DEMO_TOWNSHIP}人民政府")
    export.put(ws, 2, 8, f"填报日期：{layout.fill_date}")
    for col, header in enumerate(layout.headers, start=1):
        if col in _SECURE_COLUMNS:
            export.put(ws, 4, col, header)
        else:
            export.put(ws, 3, col, header)
            ws.merge_cells(start_row=3, start_column=col, end_row=4, end_column=col)
    export.put(ws, 3, _SECURE_COLUMNS[0], "两不愁三保障")
    ws.merge_cells(
        start_row=3, start_column=_SECURE_COLUMNS[0], end_row=3, end_column=_SECURE_COLUMNS[-1]
    )
    for row in (3, 4):
        for col in range(1, columns + 1):
            ws.cell(row, col).font = _BOLD
            ws.cell(row, col).alignment = _CENTER

    row, seq, persons = 5, 0, 0
    for v, (village, _poor, _groups) in enumerate(_VILLAGES):
        first = row
        for h in (h for h in demo.households if h.village == v):
            seq += 1
            persons += h.size
            values = _household_row(h, seq, layout, round_name)
            values[2] = demo.groups[v][h.group]
            for col, value in enumerate(values, start=1):
                if value is not None:
                    cell = export.put(ws, row, col, value)
                    if isinstance(value, dt.date):
                        cell.number_format = _DATE_FORMAT
            ws.cell(row, 6).number_format = "@"
            ws.cell(row, _HOUSEHOLD_ID_COLUMN).number_format = "@"
            row += 1
        export.put(ws, first, _VILLAGE_COLUMN, village).alignment = _CENTER
        ws.merge_cells(
            start_row=first,
            start_column=_VILLAGE_COLUMN,
            end_row=row - 1,
            end_column=_VILLAGE_COLUMN,
        )
        if v == layout.blank_after_village:
            row += 1  # a blank row between two villages, as county files have
    export.put(ws, row, 1, "合计").font = _BOLD
    export.put(ws, row, _HOUSEHOLD_ID_COLUMN, seq)
    export.put(ws, row, _SIZE_COLUMN, persons)
    export.put(ws, row + 2, 1, "审核人：张某某        填表人：李某某")
    export.put(ws, row + 3, 1, "注：本表由各村工作队填报。")
    ws.freeze_panes = "D5"
    _widths(ws, (6, 9, 10, 19, 9, 21, 7, 11, 13, 13, 11, 7, 7, 7, 7, 7, 9, 9, 11, 9, 7, 7, 7, 7, 7))


def _relocation_sheet(ws: Worksheet, demo: _Demo) -> None:
    headers = (
        "户编号",
        "户主",
        "迁出村",
        "安置点",
        "安置方式",
        "搬迁人口",
        "住房面积（平方米）",
        "整改措施",
    )
    _title(ws, f"{DEMO_TOWNSHIP}易地扶贫搬迁安置情况表", len(headers))
    for col, header in enumerate(headers, start=1):
        export.put(ws, 2, col, header).font = _BOLD
    for row, r in enumerate(demo.relocations, start=3):
        h = r.household
        values = (
            h.household_id,
            h.head_name,
            _VILLAGES[h.village][0],
            _RELOCATION_SITE,
            "集中安置",
            h.size,
            r.area,
            r.remedy,
        )
        for col, value in enumerate(values, start=1):
            if value is not None:
                export.put(ws, row, col, value)
        ws.cell(row, 1).number_format = "@"
        ws.cell(row, 7).number_format = "0.0"
    _widths(ws, (19, 9, 9, 18, 10, 9, 18, 10))


def _villages_sheet(ws: Worksheet, demo: _Demo) -> None:
    headers = ("行政村", "是否贫困村", "总户数", "总人口", "乡村人口")
    _title(ws, f"{DEMO_TOWNSHIP}村基本情况表", len(headers))
    for col, header in enumerate(headers, start=1):
        export.put(ws, 2, col, header).font = _BOLD
    totals = [0, 0]
    row = 3
    for v, (village, poor, _groups) in enumerate(_VILLAGES):
        members = [h for h in demo.households if h.village == v]
        count, persons = len(members), sum(h.size for h in members)
        for col, value in enumerate((village, "是" if poor else "否", count, persons, persons), 1):
            export.put(ws, row, col, value)
        totals[0] += count
        totals[1] += persons
        row += 1
    export.put(ws, row, 1, "合计").font = _BOLD
    for col, value in ((3, totals[0]), (4, totals[1]), (5, totals[1])):
        export.put(ws, row, col, value)
    _widths(ws, (10, 11, 9, 9, 9))


def _meetings_sheet(ws: Worksheet, demo: _Demo) -> None:
    headers = ("行政村", "村民小组", "会议日期", "会议阶段", "参会人数", "主持人")
    _title(ws, f"{DEMO_TOWNSHIP}2017年贫困对象动态管理贫情分析会议登记表", len(headers))
    for col, header in enumerate(headers, start=1):
        export.put(ws, 2, col, header).font = _BOLD
    row = 3
    for m in demo.meetings:
        village = None if m.village is None else _VILLAGES[m.village][0]
        group = None if m.village is None or m.group is None else demo.groups[m.village][m.group]
        phase = "贫情分析" if m.date < _PHASE_TWO else "实地调查"
        for col, value in enumerate((village, group, m.date, phase, m.attendance, m.host), 1):
            if value is not None:
                export.put(ws, row, col, value)
        ws.cell(row, 3).number_format = _DATE_FORMAT
        row += 1
    export.put(ws, row, 1, "合计").font = _BOLD
    export.put(ws, row, 5, sum(m.attendance for m in demo.meetings))
    _widths(ws, (10, 10, 12, 10, 9, 9))


def _fix_stamps(path: pathlib.Path) -> None:
    """Rewrite the zip with fixed entry times and the fixed document modification time.

    openpyxl stamps the save time into docProps/core.xml and every zip entry; the demo
    must be the same bytes on every run.
    """
    with zipfile.ZipFile(path) as archive:
        entries = [(info.filename, archive.read(info)) for info in archive.infolist()]
    stamp = _STAMP.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            if name == "docProps/core.xml":
                data = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>" + stamp + rb"\g<2>",
                    data,
                )
            info = zipfile.ZipInfo(name, date_time=_STAMP.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)


def _workbooks(demo: _Demo) -> Iterator[tuple[str, Workbook]]:
    for round_name in DEMO_ROUNDS:
        wb = Workbook()
        wb.properties.creator = f"{DEMO_TOWNSHIP}人民政府"
        wb.properties.created = _STAMP
        wb.properties.modified = _STAMP
        ws = wb.active
        ws.title = "户信息"
        _households_sheet(ws, demo, round_name)
        if round_name == _CHECK:
            _relocation_sheet(wb.create_sheet("易地扶贫搬迁"), demo)
            _villages_sheet(wb.create_sheet("村基本情况"), demo)
        else:
            _meetings_sheet(wb.create_sheet("贫情分析会议"), demo)
        yield round_name, wb


def write_demo_workbooks(out_dir: pathlib.Path) -> list[tuple[pathlib.Path, str]]:
    """Write the demo township's two workbooks, one per round.

    Parameters
    ----------
    out_dir : pathlib.Path
        Folder to write into; created when missing. Existing files of the same name are
        replaced.

    Returns
    -------
    list of (pathlib.Path, str)
        ``(path, round_name)`` for each workbook, in ``DEMO_ROUNDS`` order:
        ``诗礼乡_2017年精准核查.xlsx`` then ``诗礼乡_2017年动态管理.xlsx``.
    """
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for round_name, wb in _workbooks(_build()):
        path = out_dir / f"{DEMO_TOWNSHIP}_{round_name}.xlsx"
        wb.save(path)
        _fix_stamps(path)
        written.append((path, round_name))
    return written
