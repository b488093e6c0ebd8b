"""The anomaly rule table (analytics/figures/rules.py): each rule on a tiny township built by hand.

Every dataset holds units that hit the rule and units that just miss it (income exactly at
the line, area exactly 25 m² x persons, exactly 90% surveyed, a modified z-score just under
3.5). Expected hits are worked out by hand here, never by the code. Round year 2017: the
poverty line is 2,952 yuan per person per year.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pandas as pd
import pytest

from analytics.domain.settings import Settings
from analytics.figures import queries, rules
from analytics.figures.filters import Filters
from analytics.fixtures.demo import load_demo
from analytics.importing import ingest
from analytics.store.database import Store
from tests.builders import (
    make_id,
    meeting_row,
    person_list,
    person_row,
    registry_row,
    registry_workbook,
    relocation_row,
    village_row,
    xlsx_bytes,
)

ROUND = "2017年核查"
YEAR = 2017


# ------------------------------------------------------------------------ helpers
def load(store: Store, data: bytes, round_name: str = ROUND, name: str = "r.xlsx") -> None:
    report = ingest.import_file(store, name, data, round_name)
    assert report.status == "loaded", report.message_en


def build(tmp_path, round_name: str = ROUND, **tables) -> Store:
    """A store holding one workbook (``registry_workbook`` keyword tables) as one round."""
    store = Store(tmp_path / "rules.duckdb")
    load(store, registry_workbook(**tables), round_name)
    return store


def run(
    store: Store,
    *,
    year: int | None = YEAR,
    settings: Settings | None = None,
    filters: Filters | None = None,
    table: tuple[rules.Rule, ...] = rules.RULES,
) -> pd.DataFrame:
    return rules.anomalies(
        queries.backend(store),
        filters or Filters(store.latest_round()),
        settings or store.settings(),
        year,
        store.round_names(),
        rules=table,
    )


def unit(rec: dict) -> object:
    """A hit's unit: the household id, else (village, group) for a group, else the village."""
    if rec["household_id"] is not None:
        return rec["household_id"]
    if rec["group"] is not None:
        return (rec["village"], rec["group"])
    return rec["village"]


def hit_units(frame: pd.DataFrame, code: str) -> set:
    return {unit(r) for r in frame.to_dict("records") if r["rule"] == code}


def message_of(frame: pd.DataFrame, code: str, key: object) -> tuple[str, str]:
    [rec] = [r for r in frame.to_dict("records") if r["rule"] == code and unit(r) == key]
    return rec["message"], rec["message_en"]


def row(hid: str, state: str = "未脱贫", village: str = "甲村", group: str = "一组", **kw):
    return registry_row(hid, village, group, kw.pop("size", 4), state, **kw)


# ------------------------------------------------------------------------ the table
def test_rule_table_has_unique_codes_and_every_field_filled():
    codes = [r.code for r in rules.RULES]
    assert len(codes) == len(set(codes))
    for r in rules.RULES:
        assert r.severity in rules.SEVERITIES, r.code
        assert r.level in (rules.HOUSEHOLD, rules.VILLAGE), r.code
        assert r.name and r.name_en and r.source and r.limit, r.code
    table = rules.rule_table()
    assert list(table.columns) == [
        "code",
        "name",
        "name_en",
        "severity",
        "level",
        "source",
        "limit",
    ]
    assert list(table["code"]) == codes


# ------------------------------------------------------------------ household rules
def test_registered_household_with_an_exclusion_flag_is_flagged_naming_the_flag(tmp_path):
    store = build(
        tmp_path,
        households=[
            row("X01", "已脱贫", flags={"有机动车", "有城镇商品房"}),
            row("X02", "未脱贫"),  # no flag
            row("X03", "非建档立卡", flags={"有机动车"}),  # not registered: no exclusion
            row("X04", "未脱贫", flags={"空挂户"}),
        ],
    )
    hits = run(store)
    assert hit_units(hits, "H_EXCLUSION") == {"X01", "X04"}
    zh, en = message_of(hits, "H_EXCLUSION", "X01")
    assert zh == "建档立卡户（已脱贫）符合排除条件：有机动车、有城镇商品房"
    assert "vehicle" in en and "town house" in en


def test_exited_household_below_the_line_or_lacking_an_assurance_may_be_a_wrongful_exit(
    tmp_path,
):
    store = build(
        tmp_path,
        households=[
            row("W01", "已脱贫", income=2951),  # 1 yuan under the line
            row("W02", "已脱贫", income=2952),  # exactly at the line: not below
            row("W03", "已脱贫", income=5000, lacking={"住房安全有保障"}),
            row("W04", "未脱贫", income=2000, lacking={"住房安全有保障"}),  # not exited
            row("W05", "已脱贫", income=None),  # no income: not "below"
        ],
    )
    hits = run(store)
    assert hit_units(hits, "H_WRONGFUL_EXIT") == {"W01", "W03"}
    assert message_of(hits, "H_WRONGFUL_EXIT", "W01")[0] == (
        "已脱贫户人均纯收入 2,951 元低于 2017 年贫困线 2,952 元，可能错退"
    )
    assert "住房安全有保障为“否”" in message_of(hits, "H_WRONGFUL_EXIT", "W03")[0]
    # Without the round's year there is no line: only the assurances are checked.
    assert hit_units(run(store, year=None), "H_WRONGFUL_EXIT") == {"W03"}


def test_non_registered_household_below_the_line_without_a_finding_is_a_possible_exclusion(
    tmp_path,
):
    store = build(
        tmp_path,
        households=[
            row("S01", "非建档立卡", income=2951),  # 1 yuan under the 2017 line
            row("S02", "非建档立卡", income=2952),  # at the line: not below
            row("S03", "非建档立卡", income=1000, finding="漏评"),  # already found
            row("S04", "未脱贫", income=1000),  # registered
            row("S05", "非建档立卡", income=None),  # no income: not "below"
        ],
    )
    hits = run(store)
    assert hit_units(hits, "H_SUSPECTED_EXCLUSION") == {"S01"}
    assert message_of(hits, "H_SUSPECTED_EXCLUSION", "S01")[0] == (
        "非建档立卡户人均纯收入 2,951 元低于 2017 年贫困线 2,952 元，未认定为漏评，疑似漏评"
    )
    # a year without a line set is not evaluated: no other year's line is borrowed
    assert hit_units(run(store, year=2021), "H_SUSPECTED_EXCLUSION") == set()
    lines = dict(Settings().poverty_lines)
    lines[2021] = 5000
    with_line = run(store, year=2021, settings=Settings(poverty_lines=lines))
    assert hit_units(with_line, "H_SUSPECTED_EXCLUSION") == {"S01", "S02"}


def test_remaining_poor_household_above_twice_the_line_is_flagged(tmp_path):
    store = build(
        tmp_path,
        households=[
            row("P01", "未脱贫", income=5905),  # 2 x 2952 = 5904
            row("P02", "未脱贫", income=5904),  # exactly twice: not above
            row("P03", "已脱贫", income=9000),  # exited: another rule's business
        ],
    )
    hits = run(store)
    assert hit_units(hits, "H_POOR_FAR_ABOVE") == {"P01"}
    rec = hits[hits["rule"] == "H_POOR_FAR_ABOVE"].iloc[0]
    assert (rec["value"], rec["limit"]) == (5905.0, 5904.0)
    assert hit_units(run(store, year=None), "H_POOR_FAR_ABOVE") == set()
    looser = Settings(poor_far_above_factor=1.5)  # 4,428 yuan
    assert hit_units(run(store, settings=looser), "H_POOR_FAR_ABOVE") == {"P01", "P02"}


def test_outcome_contradicting_the_registry_state_is_flagged(tmp_path):
    store = build(
        tmp_path,
        households=[
            row("C01", "未脱贫", finding="错退"),
            row("C02", "已脱贫", finding="错退"),
            row("C03", "非建档立卡", adjustment="返贫"),
            row("C04", "已脱贫", adjustment="返贫"),
            row("C05", "非建档立卡", finding="错评"),
            row("C06", "未脱贫", adjustment="拟退出", finding="错评"),
        ],
    )
    hits = run(store)
    assert hit_units(hits, "H_CONTRADICTION") == {"C01", "C03", "C05"}
    zh, en = message_of(hits, "H_CONTRADICTION", "C01")
    assert zh == "“错退”与建档立卡状态“未脱贫”矛盾：错退只适用于已脱贫户，不计入错退"
    assert en.startswith("'wrongful exit' contradicts registry state 'remaining poor'")


def test_one_head_id_in_several_households_of_the_round_lists_every_one(tmp_path):
    shared, own = make_id(1), make_id(2)
    store = build(
        tmp_path,
        households=[
            row("D01", id_number=shared),
            row("D02", village="乙村", id_number=shared),
            row("D03", id_number=own),
            row("D04", group="二组", id_number=shared),
        ],
    )
    # The same ID in another round is no duplicate of this one.
    load(
        store,
        registry_workbook([row("D09", id_number=own, date=dt.date(2016, 7, 1))]),
        "2016年核查",
        "old.xlsx",
    )
    hits = run(store, filters=Filters(ROUND))
    assert hit_units(hits, "H_DUPLICATE_ID") == {"D01", "D02", "D04"}
    zh, _ = message_of(hits, "H_DUPLICATE_ID", "D01")
    assert zh == "户主身份证号 533921***********0 在本批次 3 户中重复出现（涉及 2 个行政村）"
    # Looking at 甲村 only still finds its households' twin in 乙村.
    only = run(store, filters=Filters(ROUND, villages=("甲村",)))
    assert hit_units(only, "H_DUPLICATE_ID") == {"D01", "D04"}


def test_invalid_or_zeroed_id_comes_from_the_import_warnings_of_that_row(tmp_path):
    valid = make_id(1)
    wrong_check = valid[:-1] + "1"
    store = build(
        tmp_path,
        households=[
            row("I01", id_number=wrong_check),
            row("I02", id_number=533921198001010000),  # a number cell: digits zeroed
            row("I03", id_number=valid[:17]),  # 17 characters
            row("I04", id_number="533921800101001"),  # legacy 15 digits
            row("I05", id_number=make_id(3)),
        ],
    )
    # Another batch of the round: its row 2 is valid although batch 1's row 2 is not.
    load(store, registry_workbook([row("J01", id_number=make_id(4))]), ROUND, "second.xlsx")
    hits = run(store)
    assert hit_units(hits, "H_INVALID_ID") == {"I01", "I02", "I03", "I04"}
    zh, en = message_of(hits, "H_INVALID_ID", "I02")
    assert zh == "户主身份证号 533921***********0 以数字形式保存，末尾数字已变为 0，无法恢复"
    assert "zeroed" in en
    assert "校验位错误" in message_of(hits, "H_INVALID_ID", "I01")[0]


def test_relocated_household_over_25_m2_per_person_is_flagged(tmp_path):
    store = build(
        tmp_path,
        households=[row("R01"), row("R02", group="二组")],
        relocation=[
            relocation_row("R01", "甲村", "安置点一", "集中安置", 4, 101),
            relocation_row("R02", "甲村", "安置点一", "集中安置", 4, 100),  # exactly 25 x 4
        ],
    )
    hits = run(store)
    assert hit_units(hits, "H_RELOCATION_AREA") == {"R01"}
    rec = hits[hits["rule"] == "H_RELOCATION_AREA"].iloc[0]
    assert (rec["group"], rec["value"], rec["limit"]) == ("一组", 101.0, 100.0)
    assert (
        rec["message"] == "易地扶贫搬迁住房面积 101 平方米，超过 25 平方米/人 × 4 人 = 100 平方米"
    )
    stricter = Settings(area_standard=20.0)
    assert hit_units(run(store, settings=stricter), "H_RELOCATION_AREA") == {"R01", "R02"}


def test_income_at_or_below_zero_or_above_100000_is_impossible_for_any_household(tmp_path):
    store = build(
        tmp_path,
        households=[
            row("N01", "非建档立卡", income=0),
            row("N02", "非建档立卡", income=1),
            row("N03", "已脱贫", income=100001),
            row("N04", "已脱贫", income=100000),  # exactly the bound
            row("N05", "未脱贫", income=-5),
        ],
    )
    hits = run(store)
    assert hit_units(hits, "H_INCOME_IMPOSSIBLE") == {"N01", "N03", "N05"}
    assert message_of(hits, "H_INCOME_IMPOSSIBLE", "N03")[0] == (
        "人均纯收入 100,001 元超过 100,000 元/人/年，疑似录入错误"
    )


def test_registered_household_without_income_is_flagged(tmp_path):
    store = build(
        tmp_path,
        households=[
            row("M01", "未脱贫", income=None),
            row("M02", "已脱贫", income=None),
            row("M03", "非建档立卡", income=None),  # not registered: income optional
            row("M04", "未脱贫", income=3000),
        ],
    )
    assert hit_units(run(store), "H_INCOME_MISSING") == {"M01", "M02"}


# -------------------------------------------------------------------- village rules
def two_households(village: str, state: str, finding: str | None, k: int) -> list[list]:
    """Households of ``village`` holding 100 persons, ``k`` of them in the finding."""
    return [
        row(f"{village}1", state, village=village, size=k, finding=finding),
        row(f"{village}2", state, village=village, size=100 - k),
    ]


def poor_share(village: str, k: int) -> list[list]:
    """``k`` remaining-poor persons among 100 (no village table: rural = own persons)."""
    return [
        row(f"{village}1", "未脱贫", village=village, size=k),
        row(f"{village}2", "非建档立卡", village=village, size=100 - k),
    ]


def approvals(village: str, k: int, n: int = 100) -> list[list]:
    """``n`` one-person households of ``village``, ``k`` of them approving."""
    return [
        row(
            f"{village}{i:03d}",
            "非建档立卡",
            village=village,
            size=1,
            approval="是" if i < k else "否",
        )
        for i in range(n)
    ]


RATE_DATA = {
    "inclusion_error_rate": lambda v, k: two_households(v, "已脱贫", "错评", k),
    "exclusion_error_rate": lambda v, k: two_households(v, "非建档立卡", "漏评", k),
    "wrongful_exit_rate": lambda v, k: two_households(v, "已脱贫", "错退", k),
    "comprehensive_poverty_rate": poor_share,
    "approval_rate": approvals,
}


@pytest.mark.parametrize(
    ("code", "key", "hit", "miss"),
    [
        ("V_INCLUSION_RATE", "inclusion_error_rate", 3, 2),  # ceiling 2%
        ("V_EXCLUSION_RATE", "exclusion_error_rate", 3, 2),
        ("V_WRONGFUL_EXIT_RATE", "wrongful_exit_rate", 3, 2),
        ("V_COMPREHENSIVE_RATE", "comprehensive_poverty_rate", 4, 3),  # ceiling 3%
    ],
)
def test_village_rate_above_its_ceiling_is_flagged(tmp_path, code, key, hit, miss):
    store = build(
        tmp_path, households=[*RATE_DATA[key]("甲村", hit), *RATE_DATA[key]("乙村", miss)]
    )
    hits = run(store)
    assert hit_units(hits, code) == {"甲村"}
    rec = hits[hits["rule"] == code].iloc[0]
    assert rec["value"] == pytest.approx(hit / 100)
    assert rec["limit"] == Settings().rate_ceilings[key]
    assert rec["household_id"] is None and rec["group"] is None


def test_village_approval_below_90_percent_is_flagged_only_where_someone_answered(tmp_path):
    nobody = [row("丙1", "非建档立卡", village="丙村")]
    store = build(
        tmp_path, households=[*approvals("甲村", 8, 10), *approvals("乙村", 9, 10), *nobody]
    )
    hits = run(store)
    assert hit_units(hits, "V_APPROVAL") == {"甲村"}
    assert message_of(hits, "V_APPROVAL", "甲村")[0] == "群众认可度 80.00%（8/10 户）低于 90.00%"


SEVEN_VILLAGES = ("一村", "二村", "三村", "四村", "五村", "六村", "七村")


@pytest.mark.parametrize(
    ("code", "key"),
    [
        ("V_OUTLIER_INCLUSION", "inclusion_error_rate"),
        ("V_OUTLIER_EXCLUSION", "exclusion_error_rate"),
        ("V_OUTLIER_WRONGFUL_EXIT", "wrongful_exit_rate"),
        ("V_OUTLIER_COMPREHENSIVE", "comprehensive_poverty_rate"),
        ("V_OUTLIER_APPROVAL", "approval_rate"),
    ],
)
def test_village_far_from_the_others_has_a_modified_z_score_above_3_5(tmp_path, code, key):
    # Rates 10 20 30 30 40 81 82 (%): median 30, MAD 10. z = 0.6745 x (x - 30) / 10:
    # 82% -> 3.507 (hit), 81% -> 3.440 (just under).
    rates = (10, 20, 30, 30, 40, 81, 82)
    rows = [r for v, k in zip(SEVEN_VILLAGES, rates, strict=True) for r in RATE_DATA[key](v, k)]
    hits = run(build(tmp_path, households=rows))
    assert hit_units(hits, code) == {"七村"}
    rec = hits[hits["rule"] == code].iloc[0]
    assert rec["value"] == pytest.approx(0.6745 * 52 / 10)
    assert rec["limit"] == 3.5


def _outlier_hits(tmp_path, name: str, rates: tuple[int, ...]) -> set:
    store = Store(tmp_path / f"{name}.duckdb")
    rows = [
        r
        for v, k in zip(SEVEN_VILLAGES, rates, strict=False)
        for r in RATE_DATA["inclusion_error_rate"](v, k)
    ]
    load(store, registry_workbook(rows))
    found = hit_units(run(store), "V_OUTLIER_INCLUSION")
    store.close()
    return found


def test_outliers_are_looked_for_over_five_villages_or_more(tmp_path):
    # Median 30, MAD 10: 90% has z = 4.05.
    assert _outlier_hits(tmp_path, "five", (10, 20, 30, 40, 90)) == {"五村"}
    assert _outlier_hits(tmp_path, "four", (20, 30, 40, 90)) == set()


def test_outliers_are_skipped_when_the_villages_do_not_spread(tmp_path):
    # Five villages at 10%: MAD = 0, no score.
    assert _outlier_hits(tmp_path, "flat", (10, 10, 10, 10, 10, 90)) == set()


def test_group_without_a_group_level_meeting_is_flagged(tmp_path):
    store = build(
        tmp_path,
        households=[
            row("G01", group="一组"),
            row("G02", group="二组"),
            row("G03", village="乙村", group="一组"),
        ],
        meetings=[
            meeting_row(None, None, 30),  # township-level
            meeting_row("甲村", None, 20),  # village-level: no group's meeting
            meeting_row("甲村", "一组", 10),
        ],
    )
    hits = run(store)
    assert hit_units(hits, "V_GROUP_NO_MEETING") == {("甲村", "二组"), ("乙村", "一组")}
    assert message_of(hits, "V_GROUP_NO_MEETING", ("乙村", "一组"))[0] == (
        "村民小组已调查 1 户，但本批次没有召开组级贫情分析会议"
    )


def test_round_without_any_meeting_flags_no_group(tmp_path):
    store = build(tmp_path, households=[row("G01"), row("G02", group="二组")])
    assert hit_units(run(store), "V_GROUP_NO_MEETING") == set()


def surveyed(village: str, n: int, date: dt.date = dt.date(2017, 7, 6)) -> list[list]:
    return [row(f"{village}{i}", "非建档立卡", village=village, date=date) for i in range(n)]


def test_village_surveyed_under_90_percent_of_its_households_is_incomplete(tmp_path):
    store = build(
        tmp_path,
        households=[*surveyed("甲村", 9), *surveyed("乙村", 8)],
        villages=[village_row(v, 40, 10) for v in ("甲村", "乙村", "丙村")],
    )
    hits = run(store)
    # 9/10 = 90% is complete; 8/10 is not; 丙村 has nobody surveyed.
    assert hit_units(hits, "V_COMPLETENESS") == {"乙村", "丙村"}
    assert message_of(hits, "V_COMPLETENESS", "乙村")[0] == (
        "已调查 8 户，占村基本情况总户数 10 户的 80.00%，低于 90.00%"
    )


def test_completeness_of_a_round_without_a_village_table_uses_the_latest_other_one(tmp_path):
    store = build(
        tmp_path,
        households=[*surveyed("甲村", 10, dt.date(2017, 6, 1))],
        villages=[village_row("甲村", 40, 10)],
    )
    load(store, registry_workbook(surveyed("甲村", 8)), "2017年动态管理", "later.xlsx")
    assert store.latest_round() == "2017年动态管理"
    assert hit_units(run(store), "V_COMPLETENESS") == {"甲村"}
    assert hit_units(run(store, filters=Filters(ROUND)), "V_COMPLETENESS") == set()


# ---------------------------------------------------------------- the frame, the table
def test_adding_a_rule_is_one_entry_of_the_table(tmp_path):
    def large(ctx: rules.Context):
        h = ctx.households()
        hit = h.filter(h.household_size > 5)
        return rules.select_hits(hit, hit.household_size, 5.0)

    extra = rules.Rule(
        "H_LARGE",
        "大户",
        "Large household",
        "low",
        rules.HOUSEHOLD,
        "test",
        "家庭人口数 > 5",
        large,
        lambda r, ctx: (f"家庭人口 {r['value']:.0f} 人", f"{r['value']:.0f} persons"),
    )
    store = build(tmp_path, households=[row("L01", size=5), row("L02", size=6)])
    hits = run(store, table=(*rules.RULES, extra))
    assert hit_units(hits, "H_LARGE") == {"L02"}
    assert message_of(hits, "H_LARGE", "L02") == ("家庭人口 6 人", "6 persons")
    assert "H_LARGE" not in {r.code for r in rules.RULES}


def test_hit_frame_has_exactly_the_hit_columns_empty_or_not(tmp_path):
    store = build(
        tmp_path,
        households=[row("F01", "已脱贫", income=100), row("F02")],
        villages=[village_row("甲村", 8, 10)],
    )
    con, s = queries.backend(store), store.settings()
    for frame in (
        rules.anomalies(con, Filters(ROUND), s, YEAR, [ROUND]),
        rules.household_hits(con, Filters(ROUND), s, YEAR),
        rules.village_hits(con, Filters(ROUND), s, [ROUND]),
        rules.anomalies(con, Filters("no such round"), s, YEAR, [ROUND]),
    ):
        assert tuple(frame.columns) == rules.HIT_COLUMNS
    both = rules.anomalies(con, Filters(ROUND), s, YEAR, [ROUND])
    assert set(both["level"]) == {"household", "village"}
    assert both["household_id"][both["level"] == "village"].isna().all()
    # High severity first.
    rank = both["severity"].map({"high": 0, "medium": 1, "low": 2})
    assert rank.is_monotonic_increasing


def test_messages_carry_no_full_id_number_and_no_name(tmp_path):
    names = ["张三丰", "李四", "王小五"]
    ids = [make_id(1), make_id(2)[:-1] + "1", "533921800101001"]
    store = build(
        tmp_path,
        households=[
            row("S01", "已脱贫", income=100, id_number=ids[0], name=names[0], flags={"有机动车"}),
            row("S02", "未脱贫", income=None, id_number=ids[0], name=names[1], finding="漏评"),
            row("S03", "已脱贫", id_number=ids[1], name=names[2], lacking={"基本医疗有保障"}),
            row("S04", id_number=ids[2], name="赵六"),
            row("S05", id_number=533921198001010000, name="钱七"),
        ],
        relocation=[relocation_row("S01", "甲村", "安置点一", "集中安置", 1, 60)],
    )
    hits = run(store)
    assert {"H_DUPLICATE_ID", "H_INVALID_ID", "H_WRONGFUL_EXIT", "H_EXCLUSION"} <= set(hits["rule"])
    secrets = [*names, "赵六", "钱七", *ids, "533921198001010000"]
    for text in [*hits["message"], *hits["message_en"]]:
        compact = text.replace(" ", "")
        for secret in secrets:
            assert secret not in compact, text


def test_new_limits_are_settings_kept_by_json_and_old_json_still_loads():
    custom = Settings(
        poor_far_above_factor=3.0,
        income_max=50000,
        outlier_z=3.0,
        outlier_min_units=7,
        completeness_min=0.8,
    )
    assert Settings.from_json(custom.to_json()) == custom
    old = json.dumps({"approval_floor": 0.95, "area_standard": 20})
    loaded = Settings.from_json(old)
    assert (loaded.approval_floor, loaded.area_standard) == (0.95, 20.0)
    defaults = Settings()
    for name in ("poor_far_above_factor", "income_max", "outlier_z", "completeness_min"):
        assert getattr(loaded, name) == getattr(defaults, name)
    assert (defaults.poor_far_above_factor, defaults.income_max) == (2.0, 100000.0)
    assert (defaults.outlier_z, defaults.outlier_min_units, defaults.completeness_min) == (
        3.5,
        5,
        0.9,
    )
    assert dataclasses.asdict(loaded)["outlier_min_units"] == 5


# -------------------------------------------------------------------------- the demo
@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    store = Store(tmp_path_factory.mktemp("demo") / "demo.duckdb")
    load_demo(store)
    yield store
    store.close()


def test_demo_wrongful_exit_household_is_among_possible_wrongful_exits(demo_store):
    check = "2017年精准核查"
    sql = "SELECT household_id FROM households WHERE round = ? AND verification = ?"
    found = demo_store.cursor().execute(sql, [check, "wrongful_exit"]).fetchall()
    assert len(found) == 1
    hits = run(demo_store, filters=Filters(check))
    assert found[0][0] in hit_units(hits, "H_WRONGFUL_EXIT")


def test_household_rules_compiled_once_per_shape_find_what_fresh_sql_finds(demo_store, monkeypatch):
    # Household rules run as SQL kept per shape with the names bound as parameters
    # (analytics.prepared); the same questions compiled afresh (as on any other backend)
    # must give the same hits, message for message, whichever question of a shape came
    # first.
    check = "2017年精准核查"
    villages = sorted(
        v
        for (v,) in demo_store.cursor()
        .execute("SELECT DISTINCT village FROM households WHERE round = ?", [check])
        .fetchall()
    )
    questions = [
        Filters(check),
        Filters(check, (), (villages[0],)),
        Filters(check, (), (villages[3],)),  # the same shape, another village
        Filters(check, (), (villages[1], villages[2]), ("1组",)),
        *(Filters(r) for r in demo_store.round_names()),
    ]
    strict = Settings(poor_far_above_factor=1.2, area_standard=20.0)
    kept = [run(demo_store, filters=f, settings=s) for f in questions for s in (None, strict)]
    assert sum(len(k) for k in kept) > 0
    monkeypatch.setattr(rules.prepared, "usable", lambda con: False)
    fresh = [run(demo_store, filters=f, settings=s) for f in questions for s in (None, strict)]
    for a, b in zip(kept, fresh, strict=True):
        pd.testing.assert_frame_equal(a, b)


# ------------------------------------------------- a person in two households of a round
def _person_file(township: str, households: list[tuple[int, list[tuple[str, str]]]]) -> bytes:
    """A person list of ``township``: for each (n, [(relation, id_number), ...]) the members
    of household ``53092110300100nn``, its 户主 first."""
    rows = []
    for n, people in households:
        hid = f"530921103001{n:04d}"
        for k, (relation, number) in enumerate(people, start=1):
            rows.append(
                person_row(
                    n,
                    township=township,
                    pid=f"{hid}{k:02d}",
                    relation=relation,
                    id_number=number,
                    size=len(people),
                )
            )
    return xlsx_bytes(person_list(rows))


def test_a_member_in_households_of_two_files_of_the_round_is_an_anomaly_on_both(tmp_path):
    store = Store(tmp_path / "persons.duckdb")
    x, y = make_id(1), make_id(5)
    # 诗礼乡: household 1 (x heads it), household 2 (y is a son), household 6 (nobody shared).
    load(
        store,
        _person_file(
            "诗礼乡",
            [
                (1, [("户主", x)]),
                (2, [("户主", make_id(2)), ("之子", y)]),
                (6, [("户主", make_id(6))]),
            ],
        ),
        name="shili.xlsx",
    )
    # 鲁史镇, the same round: x is a son in households 7 and 3, y heads household 4.
    load(
        store,
        _person_file(
            "鲁史镇",
            [
                (7, [("户主", make_id(7)), ("之子", x)]),
                (3, [("户主", make_id(3)), ("之子", x)]),
                (4, [("户主", y)]),
            ],
        ),
        name="lushi.xlsx",
    )
    # Another round holding x in yet another household is no duplicate of this round.
    load(store, _person_file("诗礼乡", [(9, [("户主", x)])]), "2016年核查", "old.xlsx")
    hits = run(store, filters=Filters(ROUND))
    hid = "530921103001{:04d}".format
    found = hit_units(hits, "H_PERSON_TWO_HOUSEHOLDS")
    assert found == {hid(1), hid(2), hid(3), hid(4), hid(7)}
    zh, en = message_of(hits, "H_PERSON_TWO_HOUSEHOLDS", hid(1))
    assert zh == (
        f"家庭成员证件号码 533921***********0 同时在本批次另外 2 户中：{hid(3)}、{hid(7)}"
        "（全国疑点 1_01_001）"
    )
    assert en.endswith(f"this round: {hid(3)}、{hid(7)} (national check 1_01_001)")
    zh, _ = message_of(hits, "H_PERSON_TWO_HOUSEHOLDS", hid(3))
    assert f"另外 2 户中：{hid(1)}、{hid(7)}" in zh
    # Looking at 鲁史镇 only still finds its households' twins in 诗礼乡.
    only = run(store, filters=Filters(ROUND, townships=("鲁史镇",)))
    assert hit_units(only, "H_PERSON_TWO_HOUSEHOLDS") == {hid(3), hid(4), hid(7)}
    zh, _ = message_of(only, "H_PERSON_TWO_HOUSEHOLDS", hid(4))
    assert f"另外 1 户中：{hid(2)}" in zh


def test_a_member_in_households_of_two_counties_is_the_provinces_check(tmp_path):
    store = Store(tmp_path / "counties.duckdb")
    x = make_id(1)
    # Two townships named 诗礼乡, one in 凤庆县 and one in 云县: x is in a household of each.
    load(store, _person_file("诗礼乡", [(1, [("户主", x)])]), name="fengqing.xlsx")
    yun = [
        person_row(2, county="云县", id_number=make_id(2)),
        person_row(2, county="云县", pid="530921103001000202", relation="之子", id_number=x),
    ]
    load(store, xlsx_bytes(person_list(yun)), name="yunxian.xlsx")
    hits = run(store, filters=Filters(ROUND))
    hid = "530921103001{:04d}".format
    assert hit_units(hits, "H_PERSON_TWO_HOUSEHOLDS") == {hid(1), hid(2)}
    zh, en = message_of(hits, "H_PERSON_TWO_HOUSEHOLDS", hid(2))
    assert zh == (
        f"家庭成员证件号码 533921***********0 同时在本批次另外 1 户中：{hid(1)}"
        "，其中 1 户在其他县（全国疑点 1_01_002）"
    )
    assert en.endswith("1 of them in another county (national check 1_01_002)")
