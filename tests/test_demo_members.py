"""The demo's members (家庭成员 sheets) and its national 人口明细 export, counted by hand.

Every file is read back with openpyxl alone (read-only), never with the importer, and
compared with the household sheets of the same files and with the seed's figures
(../shared/DOMAIN.md "The seed's figures"), written out below.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from pathlib import Path

import openpyxl
import pytest

from analytics.figures import queries
from analytics.fixtures.demo import load_demo
from analytics.fixtures.demo_data import (
    NATIONAL_EXPORT_NAME,
    write_demo_workbooks,
    write_national_export,
)
from analytics.importing import ingest
from analytics.store.database import Store

CHECK, DYN = "2017年精准核查", "2017年动态管理"
MEMBER_HEADERS = (
    "序号",
    "户编号",
    "人编号",
    "姓名",
    "证件号码",
    "与户主关系",
    "性别",
    "出生日期",
    "民族",
    "文化程度",
    "在校生状况",
    "健康状况",
    "劳动技能",
    "务工时间（月）",
    "是否参加大病保险",
    "是否参加城乡居民基本医疗保险",
    "是否参加城乡居民基本养老保险",
    "是否享受低保",
)
NATIONAL_HEADERS = (
    "序号",
    "县(市、区、旗)",
    "乡(镇)",
    "行政村",
    "自然村",
    "户编号",
    "人编号",
    "姓名",
    "证件号码",
    "人数",
    "与户主关系",
    "民族",
    "文化程度",
    "在校生状况",
    "健康状况",
    "劳动技能",
    "务工时间（月）",
    "是否参加大病保险",
    "脱贫属性",
    "贫困户属性",
    "致贫原因1",
    "人均纯收入",
    "首次识别时间",
    "户类型",
)
# Household sheet (户信息) columns, 0-based, as both rounds lay them out.
H_ID, H_NAME, H_HEAD_ID, H_SIZE, H_STATE, H_CAUSE, H_EDUCATION, H_ADJUSTMENT = (
    3,
    4,
    5,
    6,
    7,
    9,
    12,
    16,
)
STATES = {
    "未脱贫": "remaining_poor",
    "已脱贫": "exited",
    "非建档立卡": "nonregistered",
    "贫困户": "remaining_poor",
    "脱贫户": "exited",
    "一般农户": "nonregistered",
}
NO = {"否", "×"}
RELATIONS = {
    "户主",
    "配偶",
    "之子",
    "之女",
    "之儿媳",
    "之孙子",
    "之孙女",
    "之父",
    "之母",
    "兄弟姐妹",
}
MALE_RELATIONS, FEMALE_RELATIONS = {"之子", "之孙子", "之父"}, {"之女", "之儿媳", "之孙女", "之母"}
AGE_DATE = dt.date(2017, 6, 1)  # the first survey day: the demo's ages
# The oracle of the ID checks, written out here (GB 11643 MOD 11-2), not idcard.py's.
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
# The seed's registry (DOMAIN.md): remaining poor 8 households / 35 persons, of which 7 / 32
# propose exit in 2017年动态管理; 6160 exited persons, of which 11 households / 47 persons
# relapse in that round.
SEED_REMAINING = (8, 35)
SEED_EXIT_PROPOSED = (7, 32)
SEED_RELAPSE = (11, 47)
SEED_EXITED_PERSONS = 6160


def read_rows(path: Path, sheet: str, first_row: int) -> list[tuple]:
    book = openpyxl.load_workbook(path, read_only=True)
    rows = [r for r in book[sheet].iter_rows(min_row=first_row, values_only=True)]
    book.close()
    return rows


def households_of(path: Path) -> dict[str, tuple]:
    """户编号 -> the household row of the 户信息 sheet (data from row 5 to the 合计 row)."""
    out = {}
    for r in read_rows(path, "户信息", 5):
        if r[0] == "合计":
            break
        if r[H_ID] is not None:
            out[r[H_ID]] = r
    return out


def birth_of(cell: object) -> dt.date:
    if isinstance(cell, dt.datetime):
        return cell.date()
    year, month, day = str(cell).split(".")
    return dt.date(int(year), int(month), int(day))


def age(birth: dt.date) -> int:
    return AGE_DATE.year - birth.year - ((AGE_DATE.month, AGE_DATE.day) < (birth.month, birth.day))


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("demo_members")
    out = {round_name: path for path, round_name in write_demo_workbooks(folder)}
    out["national"] = write_national_export(folder)
    return out


@pytest.fixture(scope="module")
def households(files: dict[str, Path]) -> dict[str, dict[str, tuple]]:
    return {r: households_of(files[r]) for r in (CHECK, DYN)}


@pytest.fixture(scope="module")
def members(files: dict[str, Path]) -> dict[str, list[dict]]:
    """Round -> the 家庭成员 rows as dicts keyed by header."""
    out = {}
    for round_name in (CHECK, DYN):
        rows = read_rows(files[round_name], "家庭成员", 2)
        assert rows[0] == MEMBER_HEADERS
        out[round_name] = [dict(zip(MEMBER_HEADERS, r, strict=True)) for r in rows[1:]]
    return out


@pytest.fixture(scope="module")
def national(files: dict[str, Path]) -> list[dict]:
    rows = read_rows(files["national"], "贫困人口明细", 3)
    assert rows[0] == NATIONAL_HEADERS
    return [dict(zip(NATIONAL_HEADERS, r, strict=True)) for r in rows[1:]]


def by_household(rows: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = defaultdict(list)
    for m in rows:
        out[m["户编号"]].append(m)
    return out


def test_each_round_has_a_members_sheet_under_a_title(files):
    for round_name in (CHECK, DYN):
        book = openpyxl.load_workbook(files[round_name], read_only=True)
        assert book.sheetnames[:2] == ["户信息", "家庭成员"]
        title = next(book["家庭成员"].iter_rows(max_row=1, values_only=True))[0]
        assert title == f"凤庆县诗礼乡2017年贫困对象{round_name[5:]}家庭成员信息表"
        book.close()


@pytest.mark.parametrize("round_name", [CHECK, DYN])
def test_member_rows_per_household_equal_its_household_size(households, members, round_name):
    sizes = {h: int(r[H_SIZE]) for h, r in households[round_name].items()}
    rows = Counter(m["户编号"] for m in members[round_name])
    assert rows == sizes
    assert sum(rows.values()) == sum(sizes.values())
    assert [m["序号"] for m in members[round_name]] == list(range(1, len(members[round_name]) + 1))


@pytest.mark.parametrize("round_name", [CHECK, DYN])
def test_one_head_per_household_with_the_household_sheets_name_and_id(
    households, members, round_name
):
    for household_id, rows in by_household(members[round_name]).items():
        heads = [m for m in rows if m["与户主关系"] == "户主"]
        assert len(heads) == 1, household_id
        assert rows[0] is heads[0]
        record = households[round_name][household_id]
        assert (heads[0]["姓名"], heads[0]["证件号码"]) == (record[H_NAME], record[H_HEAD_ID])
        assert [m["人编号"] for m in rows] == [
            f"{household_id}{k:02d}" for k in range(1, len(rows) + 1)
        ]


@pytest.mark.parametrize("round_name", [CHECK, DYN])
def test_id_numbers_agree_with_birth_date_and_sex(members, round_name):
    longer = []
    for m in members[round_name]:
        number = m["证件号码"]
        assert isinstance(number, str) and number[:17].isdigit(), m
        if len(number) != 18:
            longer.append(number)
        core = number[:18]
        assert core.startswith("530921")
        check = sum(int(d) * w for d, w in zip(core[:17], ID_WEIGHTS, strict=True)) % 11
        assert core[17] == "10X98765432"[check], number
        assert dt.datetime.strptime(core[6:14], "%Y%m%d").date() == birth_of(m["出生日期"]), m
        assert m["性别"] == ("男" if int(core[16]) % 2 else "女"), m
    # The one disability certificate number: the ID, category 4 (肢体), grade 2.
    assert [(len(n), n[18:]) for n in longer] == [(20, "42")]


@pytest.mark.parametrize("round_name", [CHECK, DYN])
def test_relations_sexes_and_ages_are_plausible_but_for_the_planted_quirks(members, round_name):
    same_sex_couples, female_sons = [], []
    for household_id, rows in by_household(members[round_name]).items():
        head = rows[0]
        head_birth = birth_of(head["出生日期"])
        for m in rows:
            birth = birth_of(m["出生日期"])
            assert m["与户主关系"] in RELATIONS
            assert dt.date(1920, 1, 1) <= birth < AGE_DATE
            relation = m["与户主关系"]
            if relation == "配偶" and m["性别"] == head["性别"]:
                same_sex_couples.append(household_id)
            if relation in MALE_RELATIONS and m["性别"] != "男":
                female_sons.append((relation, age(birth) >= 18))
            if relation in FEMALE_RELATIONS:
                assert m["性别"] == "女", m
            if relation in ("之子", "之女"):
                assert birth.year - head_birth.year >= 18, m
            if relation in ("之孙子", "之孙女"):
                assert birth.year - head_birth.year >= 40, m
            if relation in ("之父", "之母"):
                assert head_birth.year - birth.year >= 18, m
    assert len(same_sex_couples) == 1
    assert female_sons == [("之子", True)]


@pytest.mark.parametrize("round_name", [CHECK, DYN])
def test_school_age_children_out_of_school_live_where_education_is_not_secured_but_one(
    households, members, round_name
):
    school_age = [m for m in members[round_name] if 6 <= age(birth_of(m["出生日期"])) <= 15]
    out = [m for m in school_age if m["在校生状况"] is None]
    unexplained = [m for m in out if households[round_name][m["户编号"]][H_EDUCATION] not in NO]
    assert len(unexplained) == 1
    assert 9 <= age(birth_of(unexplained[0]["出生日期"])) <= 14
    assert len(out) > 1  # children of households whose 义务教育 is 否
    assert len(school_age) - len(out) > 2000
    # Every school-age child of a household whose 义务教育 is 否 is out of school.
    insecure = {h for h, r in households[round_name].items() if r[H_EDUCATION] in NO}
    assert all(m["在校生状况"] is None for m in school_age if m["户编号"] in insecure)


@pytest.mark.parametrize("round_name", [CHECK, DYN])
def test_one_person_is_listed_in_two_households(members, round_name):
    where = defaultdict(list)
    for m in members[round_name]:
        where[m["证件号码"]].append(m)
    (twice,) = [rows for rows in where.values() if len(rows) > 1]
    assert len(twice) == 2
    assert twice[0]["户编号"] != twice[1]["户编号"]
    assert sorted(m["与户主关系"] for m in twice) == ["之女", "配偶"]
    assert twice[0]["姓名"] == twice[1]["姓名"]


@pytest.mark.parametrize("round_name", [CHECK, DYN])
def test_health_and_labour_follow_the_households_causes(households, members, round_name):
    rows = members[round_name]
    assert {m["健康状况"] for m in rows} == {"健康", "长期慢性病", "患有大病", "残疾"}
    assert {m["劳动技能"] for m in rows} == {
        "技能劳动力",
        "普通劳动力",
        "弱劳动力或半劳动力",
        "丧失劳动力",
        "无劳动力",
    }
    grouped = by_household(rows)
    for household_id, record in households[round_name].items():
        health = {m["健康状况"] for m in grouped[household_id]}
        if record[H_CAUSE] == "因病":
            assert health & {"长期慢性病", "患有大病"}, household_id
        if record[H_CAUSE] == "因残":
            assert "残疾" in health, household_id
    for m in rows:
        if age(birth_of(m["出生日期"])) < 16:
            assert m["劳动技能"] == "无劳动力"
            assert m["务工时间（月）"] == 0


def test_members_are_the_same_persons_in_both_rounds(members):
    def plain(m: dict) -> tuple:
        keys = ("户编号", "人编号", "姓名", "证件号码", "与户主关系", "性别", "民族", "在校生状况")
        return (*(m[k] for k in keys), birth_of(m["出生日期"]))

    assert [plain(m) for m in members[CHECK]] == [plain(m) for m in members[DYN]]
    spelled = (
        {m["是否参加大病保险"] for m in members[CHECK]},
        {m["是否参加大病保险"] for m in members[DYN]},
    )
    assert spelled == ({"是", "否"}, {"√", "×"})


def test_national_export_has_title_export_time_and_header_on_row_3(files):
    assert files["national"].name == NATIONAL_EXPORT_NAME == "贫困人口明细_20171231.xlsx"
    top = read_rows(files["national"], "贫困人口明细", 1)[:3]
    assert top[0][0] == "凤庆县诗礼乡贫困人口明细"
    assert top[1][0] == "导出时间：2017-12-31 10:26:48"
    assert top[2] == NATIONAL_HEADERS


def test_national_export_counts_per_exit_attribute_equal_the_demo_registry(households, national):
    # By hand from the 2017年动态管理 household sheet: state and that round's adjustment.
    expected: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in households[DYN].values():
        state = STATES[r[H_STATE]]
        if state == "nonregistered":
            continue
        if state == "remaining_poor":
            word = "预脱贫" if r[H_ADJUSTMENT] == "拟退出" else "未脱贫"
        else:
            word = "返贫" if r[H_ADJUSTMENT] == "返贫" else "已脱贫"
        expected[word][0] += 1
        expected[word][1] += int(r[H_SIZE])
    households_per = defaultdict(set)
    rows_per: Counter[str] = Counter()
    for m in national:
        households_per[m["脱贫属性"]].add(m["户编号"])
        rows_per[m["脱贫属性"]] += 1
    got = {word: (len(ids), rows_per[word]) for word, ids in households_per.items()}
    assert got == {word: tuple(v) for word, v in expected.items()}
    # The seed's figures, written out.
    remaining = (got["未脱贫"][0] + got["预脱贫"][0], got["未脱贫"][1] + got["预脱贫"][1])
    assert remaining == SEED_REMAINING
    assert got["预脱贫"] == SEED_EXIT_PROPOSED
    assert got["返贫"] == SEED_RELAPSE
    assert got["已脱贫"][1] + got["返贫"][1] == SEED_EXITED_PERSONS
    assert len(national) == 35 + 6160


def test_national_export_repeats_household_fields_on_every_member_row(
    households, members, national
):
    household_fields = (
        "县(市、区、旗)",
        "乡(镇)",
        "行政村",
        "自然村",
        "人数",
        "脱贫属性",
        "贫困户属性",
        "致贫原因1",
        "人均纯收入",
        "首次识别时间",
        "户类型",
    )
    rows = by_household(national)
    members_of = by_household(members[DYN])
    for household_id, persons in rows.items():
        assert len({tuple(m[k] for k in household_fields) for m in persons}) == 1, household_id
        first = persons[0]
        assert first["人数"] == len(persons) == int(households[DYN][household_id][H_SIZE])
        assert (first["县(市、区、旗)"], first["乡(镇)"]) == ("凤庆县", "诗礼乡")
        assert first["与户主关系"] == "户主"
        assert [m["证件号码"] for m in persons] == [m["证件号码"] for m in members_of[household_id]]
        assert first["户类型"] == (
            "脱贫户" if first["脱贫属性"] in ("已脱贫", "返贫") else "贫困户"
        )
        assert 201401 <= first["首次识别时间"] <= 201712
    registered = {h for h, r in households[DYN].items() if STATES[r[H_STATE]] != "nonregistered"}
    assert set(rows) == registered
    assert [m["序号"] for m in national] == list(range(1, len(national) + 1))


def test_national_export_imports_on_its_own_with_the_demo_registry_counts(tmp_path, files):
    """Needs the members roll-up (issue 14): persons = member rows, one household per 户编号."""
    store = Store(tmp_path / "national.duckdb")
    path = files["national"]
    report = ingest.import_file(store, path.name, path.read_bytes(), "2017年人口明细")
    assert report.status == "loaded", report.message_en
    frame = queries.metrics_frame(store, "2017年人口明细", "township")
    (township,) = frame.to_dict("records")
    got = {
        family: (township[f"{family}_households"], township[f"{family}_persons"])
        for family in ("remaining_poor", "exit_proposed", "relapse", "exited", "nonregistered")
    }
    assert got["remaining_poor"] == SEED_REMAINING
    assert got["exit_proposed"] == SEED_EXIT_PROPOSED
    assert got["relapse"] == SEED_RELAPSE
    assert got["exited"][1] == SEED_EXITED_PERSONS
    assert got["nonregistered"] == (0, 0)
    # Exited households counted by hand from the demo round's household sheet.
    exited = [r for r in households_of(files[DYN]).values() if STATES[r[H_STATE]] == "exited"]
    assert got["exited"][0] == len(exited)
    assert (township["households_total"], township["persons_total"]) == (
        8 + len(exited),
        35 + 6160,
    )
    store.close()


def test_the_demo_keeps_the_national_export_beside_its_workbooks_but_does_not_load_it(
    tmp_path,
):
    store = Store(tmp_path / "demo.duckdb")
    load_demo(store, tmp_path / "files")
    assert sorted(p.name for p in (tmp_path / "files").iterdir()) == sorted(
        ["诗礼乡_2017年精准核查.xlsx", "诗礼乡_2017年动态管理.xlsx", "贫困人口明细_20171231.xlsx"]
    )
    assert sorted(store.batches()["round"]) == sorted([CHECK, DYN])
    store.close()
