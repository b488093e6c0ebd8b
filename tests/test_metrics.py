"""The metrics contract (../shared/DOMAIN.md, "Metrics contract") on a township built by hand.

Township 测试乡: three villages (甲村, 乙村, 丙村), two groups each, 15 households. Every
expected figure below is counted by hand from the tables in this file, never by the code.

户编号 村  组   人 状态        动态调整  核查结论   认可
A01    甲  一组  4  未脱贫      拟退出    -          是
A02    甲  一组  3  已脱贫      -         错评       否
A03    甲  一组  5  非建档立卡  新增      漏评       是
A04    甲  二组  2  已脱贫      返贫      错退       -
A05    甲  二组  6  非建档立卡  -         错评 (x)   是    错评 outside registered: not counted
A06    甲  二组  1  未脱贫      剔除      错评       是
B01    乙  一组  3  已脱贫      -         -          是
B02    乙  一组  4  非建档立卡  -         漏评       否
B03    乙  一组  2  未脱贫      -         错退 (x)   -     错退 outside exited: not counted
B04    乙  二组  5  已脱贫      -         错评       是
B05    乙  二组  3  未脱贫      -         漏评 (x)   是    漏评 outside non-registered
B06    乙  二组  2  非建档立卡  -         -          -
C01    丙  一组  4  已脱贫      -         错退       是
C02    丙  二组  3  非建档立卡  新增      -          -
C03    丙  二组  2  未脱贫      -         -          -
"""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from analytics.figures import coverage, metrics, queries
from analytics.importing import ingest
from analytics.store.database import Store
from tests.builders import meeting_row, relocation_row, survey_row, survey_workbook, village_row

ROUND = "2017年核查"
T = "测试乡"

HOUSEHOLDS = [
    survey_row("A01", "甲村", "一组", 4, "未脱贫", "拟退出", None, approval="是"),
    survey_row("A02", "甲村", "一组", 3, "已脱贫", None, "错评", approval="否"),
    survey_row("A03", "甲村", "一组", 5, "非建档立卡", "新增", "漏评", approval="是"),
    survey_row("A04", "甲村", "二组", 2, "已脱贫", "返贫", "错退"),
    survey_row("A05", "甲村", "二组", 6, "非建档立卡", None, "错评", approval="是"),
    survey_row("A06", "甲村", "二组", 1, "未脱贫", "剔除", "错评", approval="是"),
    survey_row("B01", "乙村", "一组", 3, "已脱贫", approval="是"),
    survey_row("B02", "乙村", "一组", 4, "非建档立卡", None, "漏评", approval="否"),
    survey_row("B03", "乙村", "一组", 2, "未脱贫", None, "错退"),
    survey_row("B04", "乙村", "二组", 5, "已脱贫", None, "错评", approval="是"),
    survey_row("B05", "乙村", "二组", 3, "未脱贫", None, "漏评", approval="是"),
    survey_row("B06", "乙村", "二组", 2, "非建档立卡"),
    survey_row("C01", "丙村", "一组", 4, "已脱贫", None, "错退", approval="是"),
    survey_row("C02", "丙村", "二组", 3, "非建档立卡", "新增"),
    survey_row("C03", "丙村", "二组", 2, "未脱贫"),
]
# One township-level meeting (no village), one village-level (no group), three group ones.
MEETINGS = [
    meeting_row(None, None, 20),
    meeting_row("甲村", None, 15),
    meeting_row("甲村", "一组", 8),
    meeting_row("甲村", "一组", 7),
    meeting_row("乙村", "二组", 10),
]
# 搬迁人口 of B03 is 3 although its household has 2 persons. Over 25 m²/person: A01 (120 >
# 100) and B03 (80 > 75); A04 (50 = 2 x 25) and C03 (40 < 50) are not. 安置点一 serves two
# villages; C03's own-built site is 分散安置 and is no concentrated site.
RELOCATION = [
    relocation_row("A01", "甲村", "安置点一", "集中安置", 4, 120),
    relocation_row("A04", "甲村", "安置点二", "集中安置", 2, 50),
    relocation_row("B03", "乙村", "安置点一", "集中安置", 3, 80),
    relocation_row("C03", "丙村", "丙村自建点", "分散安置", 2, 40),
]
# 丙村 is missing from the village table: it uses its own persons_total (9).
VILLAGES = [village_row("甲村", 100, 30), village_row("乙村", 80, 20)]

# (households, persons) per family, counted by hand from the table above.
FAMILIES = (
    "registered",
    "remaining_poor",
    "exited",
    "nonregistered",
    "new",
    "relapse",
    "exit_proposed",
    "removed",
    "inclusion_error",
    "exclusion_error",
    "wrongful_exit",
)
TOWNSHIP_COUNTS = {
    "total": (15, 49),
    "registered": (10, 29),
    "remaining_poor": (5, 12),
    "exited": (5, 17),
    "nonregistered": (5, 20),
    "new": (2, 8),
    "relapse": (1, 2),
    "exit_proposed": (1, 4),
    "removed": (1, 1),
    "inclusion_error": (3, 9),
    "exclusion_error": (2, 9),
    "wrongful_exit": (2, 6),
}
VILLAGE_COUNTS = {
    "甲村": {
        "total": (6, 21),
        "registered": (4, 10),
        "remaining_poor": (2, 5),
        "exited": (2, 5),
        "nonregistered": (2, 11),
        "new": (1, 5),
        "relapse": (1, 2),
        "exit_proposed": (1, 4),
        "removed": (1, 1),
        "inclusion_error": (2, 4),
        "exclusion_error": (1, 5),
        "wrongful_exit": (1, 2),
    },
    "乙村": {
        "total": (6, 19),
        "registered": (4, 13),
        "remaining_poor": (2, 5),
        "exited": (2, 8),
        "nonregistered": (2, 6),
        "new": (0, 0),
        "relapse": (0, 0),
        "exit_proposed": (0, 0),
        "removed": (0, 0),
        "inclusion_error": (1, 5),
        "exclusion_error": (1, 4),
        "wrongful_exit": (0, 0),
    },
    "丙村": {
        "total": (3, 9),
        "registered": (2, 6),
        "remaining_poor": (1, 2),
        "exited": (1, 4),
        "nonregistered": (1, 3),
        "new": (1, 3),
        "relapse": (0, 0),
        "exit_proposed": (0, 0),
        "removed": (0, 0),
        "inclusion_error": (0, 0),
        "exclusion_error": (0, 0),
        "wrongful_exit": (1, 4),
    },
}
GROUP_COUNTS = {
    ("甲村", "一组"): {
        "total": (3, 12),
        "registered": (2, 7),
        "remaining_poor": (1, 4),
        "exited": (1, 3),
        "nonregistered": (1, 5),
        "new": (1, 5),
        "relapse": (0, 0),
        "exit_proposed": (1, 4),
        "removed": (0, 0),
        "inclusion_error": (1, 3),
        "exclusion_error": (1, 5),
        "wrongful_exit": (0, 0),
    },
    ("甲村", "二组"): {
        "total": (3, 9),
        "registered": (2, 3),
        "remaining_poor": (1, 1),
        "exited": (1, 2),
        "nonregistered": (1, 6),
        "new": (0, 0),
        "relapse": (1, 2),
        "exit_proposed": (0, 0),
        "removed": (1, 1),
        "inclusion_error": (1, 1),
        "exclusion_error": (0, 0),
        "wrongful_exit": (1, 2),
    },
    ("乙村", "一组"): {
        "total": (3, 9),
        "registered": (2, 5),
        "remaining_poor": (1, 2),
        "exited": (1, 3),
        "nonregistered": (1, 4),
        "new": (0, 0),
        "relapse": (0, 0),
        "exit_proposed": (0, 0),
        "removed": (0, 0),
        "inclusion_error": (0, 0),
        "exclusion_error": (1, 4),
        "wrongful_exit": (0, 0),
    },
    ("乙村", "二组"): {
        "total": (3, 10),
        "registered": (2, 8),
        "remaining_poor": (1, 3),
        "exited": (1, 5),
        "nonregistered": (1, 2),
        "new": (0, 0),
        "relapse": (0, 0),
        "exit_proposed": (0, 0),
        "removed": (0, 0),
        "inclusion_error": (1, 5),
        "exclusion_error": (0, 0),
        "wrongful_exit": (0, 0),
    },
    ("丙村", "一组"): {
        "total": (1, 4),
        "registered": (1, 4),
        "remaining_poor": (0, 0),
        "exited": (1, 4),
        "nonregistered": (0, 0),
        "new": (0, 0),
        "relapse": (0, 0),
        "exit_proposed": (0, 0),
        "removed": (0, 0),
        "inclusion_error": (0, 0),
        "exclusion_error": (0, 0),
        "wrongful_exit": (1, 4),
    },
    ("丙村", "二组"): {
        "total": (2, 5),
        "registered": (1, 2),
        "remaining_poor": (1, 2),
        "exited": (0, 0),
        "nonregistered": (1, 3),
        "new": (1, 3),
        "relapse": (0, 0),
        "exit_proposed": (0, 0),
        "removed": (0, 0),
        "inclusion_error": (0, 0),
        "exclusion_error": (0, 0),
        "wrongful_exit": (0, 0),
    },
}


def _load(store: Store, data: bytes, round_name: str, name: str = "survey.xlsx") -> None:
    report = ingest.import_file(store, name, data, round_name)
    assert report.status == "loaded", report.message_en


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    s = Store(tmp_path_factory.mktemp("metrics") / "m.duckdb")
    _load(
        s,
        survey_workbook(HOUSEHOLDS, meetings=MEETINGS, relocation=RELOCATION, villages=VILLAGES),
        ROUND,
    )
    yield s
    s.close()


def rows_by_unit(frame: pd.DataFrame, level: str) -> dict:
    """Frame rows as dicts keyed by the unit: "测试乡", "甲村" or ("甲村", "一组")."""
    keys = metrics.LEVELS[level]
    out = {}
    for rec in frame.to_dict("records"):
        unit = tuple(rec[k] for k in keys[1:]) if level == "group" else rec[keys[-1]]
        assert unit not in out, f"unit {unit} appears twice"
        out[unit] = rec
    return out


def figures(store, level, **filters) -> dict:
    return rows_by_unit(queries.metrics_frame(store, ROUND, level, **filters), level)


def assert_counts(rec: dict, expected: dict) -> None:
    """``expected`` maps a family to (households, persons); "total" is the whole unit."""
    got = {"total": (rec["households_total"], rec["persons_total"])}
    for fam in FAMILIES:
        got[fam] = (rec[f"{fam}_households"], rec[f"{fam}_persons"])
    assert got == expected


def is_null(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def assert_rates(rec: dict, expected: dict) -> None:
    """``expected`` maps a rate key to a fraction, or None for an empty (null) rate."""
    for key, want in expected.items():
        if want is None:
            assert is_null(rec[key]), f"{key} should be null, got {rec[key]}"
        else:
            assert not is_null(rec[key]), f"{key} is null, expected {want}"
            assert rec[key] == pytest.approx(want), key


# ------------------------------------------------------------------ counts
def test_township_counts_every_family_on_both_bases(store):
    units = figures(store, "township")
    assert list(units) == [T]
    assert_counts(units[T], TOWNSHIP_COUNTS)
    assert units[T]["round"] == ROUND


def test_village_counts_every_family_on_both_bases(store):
    units = figures(store, "village")
    assert set(units) == set(VILLAGE_COUNTS)
    for village, expected in VILLAGE_COUNTS.items():
        assert_counts(units[village], expected)


def test_group_counts_every_family_on_both_bases(store):
    units = figures(store, "group")
    assert set(units) == set(GROUP_COUNTS)
    for group, expected in GROUP_COUNTS.items():
        assert_counts(units[group], expected)


def test_registered_is_remaining_poor_plus_exited_at_every_level(store):
    for level in metrics.LEVELS:
        for unit, rec in figures(store, level).items():
            for basis in ("households", "persons"):
                assert rec[f"registered_{basis}"] == (
                    rec[f"remaining_poor_{basis}"] + rec[f"exited_{basis}"]
                ), (unit, basis)


def test_finding_outside_its_state_is_not_counted(store):
    groups = figures(store, "group")
    # A05 (非建档立卡, 6 persons) carries 错评: only A06 (未脱贫, 1 person) counts.
    assert groups[("甲村", "二组")]["inclusion_error_households"] == 1
    assert groups[("甲村", "二组")]["inclusion_error_persons"] == 1
    # B05 (未脱贫) carries 漏评: not an exclusion error.
    assert groups[("乙村", "二组")]["exclusion_error_households"] == 0
    assert groups[("乙村", "二组")]["exclusion_error_persons"] == 0
    # B03 (未脱贫) carries 错退: not a wrongful exit.
    assert groups[("乙村", "一组")]["wrongful_exit_households"] == 0
    assert groups[("乙村", "一组")]["wrongful_exit_persons"] == 0


# ------------------------------------------------------------------- rates
def test_error_rates_divide_by_their_own_state_on_both_bases(store):
    township = figures(store, "township")[T]
    assert_rates(
        township,
        {
            "inclusion_error_rate": 9 / 29,  # 错评 persons / registered persons
            "exclusion_error_rate": 9 / 20,  # 漏评 persons / non-registered persons
            "wrongful_exit_rate": 6 / 17,  # 错退 persons / exited persons
            "inclusion_error_rate_households": 3 / 10,
            "exclusion_error_rate_households": 2 / 5,
            "wrongful_exit_rate_households": 2 / 5,
        },
    )
    villages = figures(store, "village")
    assert_rates(
        villages["甲村"],
        {
            "inclusion_error_rate": 4 / 10,
            "exclusion_error_rate": 5 / 11,
            "wrongful_exit_rate": 2 / 5,
            "inclusion_error_rate_households": 2 / 4,
            "exclusion_error_rate_households": 1 / 2,
            "wrongful_exit_rate_households": 1 / 2,
        },
    )
    assert_rates(villages["乙村"], {"inclusion_error_rate": 5 / 13, "exclusion_error_rate": 4 / 6})
    groups = figures(store, "group")
    assert_rates(groups[("乙村", "二组")], {"inclusion_error_rate": 5 / 8})
    assert_rates(groups[("甲村", "一组")], {"inclusion_error_rate": 3 / 7})


def test_zero_denominator_gives_a_null_rate_never_zero(store):
    groups = figures(store, "group")
    # 丙村一组 has no non-registered household; 丙村二组 no exited one and no answer.
    assert_rates(
        groups[("丙村", "一组")],
        {"exclusion_error_rate": None, "exclusion_error_rate_households": None},
    )
    assert_rates(
        groups[("丙村", "二组")],
        {
            "wrongful_exit_rate": None,
            "wrongful_exit_rate_households": None,
            "approval_rate": None,
        },
    )


def test_zero_numerator_over_a_real_denominator_is_zero_not_null(store):
    # 乙村 has 8 exited persons and no wrongful exit.
    assert_rates(
        figures(store, "village")["乙村"],
        {"wrongful_exit_rate": 0.0, "wrongful_exit_rate_households": 0.0},
    )


def test_approval_rate_is_approvals_over_households_that_answered(store):
    # Answers: A01 是, A02 否, A03 是, A05 是, A06 是, B01 是, B02 否, B04 是, B05 是, C01 是.
    township = figures(store, "township")[T]
    assert (township["approval_answered"], township["approval_yes"]) == (10, 8)
    assert_rates(township, {"approval_rate": 8 / 10})
    villages = figures(store, "village")
    assert_rates(villages["甲村"], {"approval_rate": 4 / 5})
    assert_rates(villages["乙村"], {"approval_rate": 3 / 4})
    assert_rates(villages["丙村"], {"approval_rate": 1.0})
    assert_rates(figures(store, "group")[("乙村", "一组")], {"approval_rate": 1 / 2})


# ----------------------------------------------------------------- meetings
def test_township_level_meeting_counts_for_the_township_only(store):
    township = figures(store, "township")[T]
    assert (township["meetings"], township["meeting_attendance"]) == (5, 60)
    villages = figures(store, "village")
    got = {v: (r["meetings"], r["meeting_attendance"]) for v, r in villages.items()}
    assert got == {"甲村": (3, 30), "乙村": (1, 10), "丙村": (0, 0)}


def test_village_level_meeting_counts_for_its_village_but_no_group(store):
    groups = figures(store, "group")
    got = {g: (r["meetings"], r["meeting_attendance"]) for g, r in groups.items()}
    assert got == {
        ("甲村", "一组"): (2, 15),
        ("甲村", "二组"): (0, 0),
        ("乙村", "一组"): (0, 0),
        ("乙村", "二组"): (1, 10),
        ("丙村", "一组"): (0, 0),
        ("丙村", "二组"): (0, 0),
    }


# --------------------------------------------------------------- relocation
def relocation_figures(rec: dict) -> tuple:
    return (
        rec["relocated_households"],
        rec["relocated_persons"],
        rec["relocation_over_standard_households"],
        rec["relocation_over_standard_persons"],
        rec["relocation_sites"],
    )


def test_relocation_persons_come_from_the_relocation_table_not_household_size(store):
    # B03's household has 2 persons; its relocation row moved 3.
    villages = figures(store, "village")
    assert villages["乙村"]["relocated_persons"] == 3
    assert figures(store, "township")[T]["relocated_persons"] == 4 + 2 + 3 + 2


def test_relocation_over_standard_means_area_above_25_m2_per_person(store):
    assert relocation_figures(figures(store, "township")[T]) == (4, 11, 2, 7, 2)
    villages = figures(store, "village")
    assert {v: relocation_figures(r) for v, r in villages.items()} == {
        "甲村": (2, 6, 1, 4, 2),
        "乙村": (1, 3, 1, 3, 1),
        "丙村": (1, 2, 0, 0, 0),
    }
    groups = figures(store, "group")
    assert {g: relocation_figures(r) for g, r in groups.items()} == {
        ("甲村", "一组"): (1, 4, 1, 4, 1),
        ("甲村", "二组"): (1, 2, 0, 0, 1),
        ("乙村", "一组"): (1, 3, 1, 3, 1),
        ("乙村", "二组"): (0, 0, 0, 0, 0),
        ("丙村", "一组"): (0, 0, 0, 0, 0),
        ("丙村", "二组"): (1, 2, 0, 0, 0),
    }


def test_relocation_over_standard_follows_a_custom_standard(store):
    # At 20 m²/person: A01 120 > 80, A04 50 > 40, B03 80 > 60; C03 40 = 2 x 20 is not over.
    frame = queries.metrics_frame(store, ROUND, "township", area_standard=20)
    rec = rows_by_unit(frame, "township")[T]
    assert relocation_figures(rec) == (4, 11, 3, 9, 2)


def test_relocation_sites_count_distinct_concentrated_sites_only(store):
    # 安置点一 (甲村 and 乙村) and 安置点二; the 分散安置 row adds no site.
    assert figures(store, "township")[T]["relocation_sites"] == 2
    assert figures(store, "village")["丙村"]["relocation_sites"] == 0


# ---------------------------------------------------- comprehensive poverty rate
def test_comprehensive_rate_uses_the_village_tables_rural_population(store):
    villages = figures(store, "village")
    # (remaining poor + exclusion error + wrongful exit persons) / 乡村人口
    assert villages["甲村"]["rural_population"] == 100
    assert_rates(villages["甲村"], {"comprehensive_poverty_rate": (5 + 5 + 2) / 100})
    assert_rates(villages["乙村"], {"comprehensive_poverty_rate": (5 + 4 + 0) / 80})
    assert_rates(villages["甲村"], {"comprehensive_poverty_rate_households": (2 + 1 + 1) / 30})


def test_comprehensive_rate_of_a_village_missing_from_the_table_uses_its_own_persons(store):
    village = figures(store, "village")["丙村"]
    assert village["rural_population"] == 9
    assert_rates(village, {"comprehensive_poverty_rate": (2 + 0 + 4) / 9})


def test_comprehensive_rate_of_the_township_sums_its_villages(store):
    township = figures(store, "township")[T]
    assert township["rural_population"] == 100 + 80 + 9
    assert_rates(township, {"comprehensive_poverty_rate": (12 + 9 + 6) / 189})


def test_comprehensive_rate_of_a_group_always_uses_its_own_persons(store):
    groups = figures(store, "group")
    assert groups[("甲村", "一组")]["rural_population"] == 12
    assert_rates(groups[("甲村", "一组")], {"comprehensive_poverty_rate": (4 + 5 + 0) / 12})
    assert_rates(groups[("甲村", "二组")], {"comprehensive_poverty_rate": (1 + 0 + 2) / 9})
    assert_rates(groups[("丙村", "一组")], {"comprehensive_poverty_rate": 4 / 4})


def one_household_round(day: dt.date, village_rural: int | None) -> bytes:
    """甲村 with one remaining-poor household of 4 persons and a checked non-registered one
    of 2 found 漏评 (the comprehensive rate needs findings): 6 poor persons; a village table
    if given."""
    villages = [village_row("甲村", village_rural, 30)] if village_rural else []
    rows = [
        survey_row("X01", "甲村", "一组", 4, date=day),
        survey_row("X02", "甲村", "一组", 2, "非建档立卡", None, "漏评", date=day),
    ]
    return survey_workbook(rows, villages=villages)


def test_round_without_a_village_table_uses_the_latest_other_rounds(tmp_path):
    store = Store(tmp_path / "rounds.duckdb")
    # Imported out of order; by date the order is 6月, 7月 (no village table), 8月.
    _load(store, one_household_round(dt.date(2017, 8, 1), 50), "8月", "aug.xlsx")
    _load(store, one_household_round(dt.date(2017, 6, 1), 100), "6月", "jun.xlsx")
    _load(store, one_household_round(dt.date(2017, 7, 1), None), "7月", "jul.xlsx")
    assert store.round_names() == ["6月", "7月", "8月"]

    def rate(round_name):
        rec = rows_by_unit(queries.metrics_frame(store, round_name, "village"), "village")["甲村"]
        return rec["rural_population"], rec["comprehensive_poverty_rate"]

    assert rate("7月") == (50, pytest.approx(6 / 50))
    assert rate("6月") == (100, pytest.approx(6 / 100))  # its own table, not the latest
    aug = store.batches().query("round == '8月'")["batch_id"].item()
    assert store.delete_batch(aug)
    assert rate("7月") == (100, pytest.approx(6 / 100))
    store.close()


# ----------------------------------------------------------------- filters
def test_village_filter_counts_only_those_villages(store):
    township = figures(store, "township", villages=["乙村", "丙村"])[T]
    assert_counts(
        township,
        {
            "total": (9, 28),
            "registered": (6, 19),
            "remaining_poor": (3, 7),
            "exited": (3, 12),
            "nonregistered": (3, 9),
            "new": (1, 3),
            "relapse": (0, 0),
            "exit_proposed": (0, 0),
            "removed": (0, 0),
            "inclusion_error": (1, 5),
            "exclusion_error": (1, 4),
            "wrongful_exit": (1, 4),
        },
    )
    # The township-level meeting has no village: a village filter leaves it out.
    assert (township["meetings"], township["meeting_attendance"]) == (1, 10)
    assert relocation_figures(township) == (2, 5, 1, 3, 1)
    assert (township["approval_answered"], township["approval_yes"]) == (5, 4)
    assert township["rural_population"] == 80 + 9
    assert_rates(
        township,
        {"inclusion_error_rate": 5 / 19, "comprehensive_poverty_rate": (7 + 4 + 4) / 89},
    )
    assert set(figures(store, "village", villages=["乙村", "丙村"])) == {"乙村", "丙村"}


def test_group_filter_counts_only_those_groups(store):
    township = figures(store, "township", groups=["一组"])[T]
    assert_counts(
        township,
        {
            "total": (7, 25),
            "registered": (5, 16),
            "remaining_poor": (2, 6),
            "exited": (3, 10),
            "nonregistered": (2, 9),
            "new": (1, 5),
            "relapse": (0, 0),
            "exit_proposed": (1, 4),
            "removed": (0, 0),
            "inclusion_error": (1, 3),
            "exclusion_error": (2, 9),
            "wrongful_exit": (1, 4),
        },
    )
    # Township- and village-level meetings have no group: a group filter leaves them out.
    assert (township["meetings"], township["meeting_attendance"]) == (2, 15)
    # A01 and B03 both moved to 安置点一.
    assert relocation_figures(township) == (2, 7, 2, 7, 1)
    assert (township["approval_answered"], township["approval_yes"]) == (6, 4)
    assert_rates(township, {"inclusion_error_rate": 3 / 16, "wrongful_exit_rate": 4 / 10})


def test_group_filter_compares_the_groups_poor_with_the_groups_own_persons(store):
    # The village table's 乡村人口 covers whole villages; for some groups only, the rural
    # population is those groups' persons, as for a group unit.
    township = figures(store, "township", groups=["一组"])[T]
    assert township["rural_population"] == 25
    assert_rates(township, {"comprehensive_poverty_rate": (6 + 9 + 4) / 25})
    village = figures(store, "village", groups=["一组"])["甲村"]
    assert_rates(village, {"comprehensive_poverty_rate": (4 + 5 + 0) / 12})


def test_village_and_group_filters_together_leave_one_group(store):
    groups = figures(store, "group", villages=["甲村"], groups=["二组"])
    assert list(groups) == [("甲村", "二组")]
    assert_counts(groups[("甲村", "二组")], GROUP_COUNTS[("甲村", "二组")])


# ------------------------------------------------------------- round choice
def test_metrics_of_an_unknown_round_raise_key_error(store):
    with pytest.raises(KeyError):
        queries.metrics_frame(store, "2099年不存在", "township")


def test_no_round_in_the_database_gives_an_empty_frame_with_every_metric(tmp_path):
    empty = Store(tmp_path / "empty.duckdb")
    frame = queries.metrics_frame(empty, None, "village")
    assert len(frame) == 0
    assert list(frame.columns) == [
        "township",
        "village",
        "round",
        *metrics.METRIC_KEYS,
        *coverage.COLUMNS,
    ]
    empty.close()


def test_unknown_level_raises_value_error_even_on_an_empty_database(tmp_path):
    empty = Store(tmp_path / "empty.duckdb")
    with pytest.raises(ValueError):
        queries.metrics_frame(empty, None, "province")
    empty.close()


def test_metrics_count_only_the_rounds_own_rows(tmp_path):
    s = Store(tmp_path / "two.duckdb")
    _load(s, survey_workbook(HOUSEHOLDS), ROUND, "all.xlsx")
    _load(s, survey_workbook(HOUSEHOLDS[:2]), "2018年核查", "two.xlsx")
    # 2018年核查 has no date later than ROUND's (same survey day): import order decides.
    assert s.latest_round() == "2018年核查"
    latest = rows_by_unit(queries.metrics_frame(s, None, "township"), "township")[T]
    assert (latest["round"], latest["households_total"], latest["persons_total"]) == (
        "2018年核查",
        2,
        7,
    )
    first = rows_by_unit(queries.metrics_frame(s, ROUND, "township"), "township")[T]
    assert (first["households_total"], first["persons_total"]) == (15, 49)
    s.close()


# ------------------------------------------------- compiled once per shape (DuckDB)
def test_one_compiled_shape_gives_each_villages_own_hand_counted_figures(store):
    # Three questions of one shape (one village filtered): the SQL compiled for the first
    # is run with the next village's name; each must get its own figures, never the
    # first's.
    for village, expected in VILLAGE_COUNTS.items():
        units = figures(store, "village", villages=[village])
        assert list(units) == [village]
        assert_counts(units[village], expected)
    for (village, group), expected in GROUP_COUNTS.items():
        units = figures(store, "group", villages=[village], groups=[group])
        assert list(units) == [(village, group)]
        assert_counts(units[(village, group)], expected)


def test_names_with_quotes_and_sql_are_bound_as_values(tmp_path):
    s = Store(tmp_path / "quotes.duckdb")
    odd = "O'Neil村');DROP_TABLE_households;--"  # place names lose their spaces
    rows = [survey_row("Q01", odd, "一组", 4), survey_row("Q02", "甲村", "一组", 2)]
    _load(s, survey_workbook(rows), ROUND)
    units = rows_by_unit(queries.metrics_frame(s, ROUND, "village", villages=[odd]), "village")
    assert list(units) == [odd]
    assert (units[odd]["households_total"], units[odd]["persons_total"]) == (1, 4)
    # The table is still there, with both households.
    township = rows_by_unit(queries.metrics_frame(s, ROUND, "township"), "township")[T]
    assert (township["households_total"], township["persons_total"]) == (2, 6)
    s.close()


def test_prepared_and_freshly_compiled_metrics_are_equal_on_a_generated_county(tmp_path):
    from analytics.fixtures import synthetic

    s = Store(tmp_path / "county.duckdb")
    shape = synthetic.Shape(households=3_000, townships=3, villages=4, groups=3)
    synthetic.write(s, shape, ("2018年", "2019年", "2020年"), village_table_rounds=["2018年"])
    order = s.round_names()
    con = queries.backend(s)
    towns, villages, groups = (sorted(set(names)) for names in synthetic.places(shape))
    questions = [
        metrics.Filters(order[-1]),
        metrics.Filters(order[0]),
        metrics.Filters(order[1], (towns[0],)),
        metrics.Filters(order[1], (towns[2],)),  # the same shape, another township
        metrics.Filters(order[-1], (towns[0], towns[1]), (villages[1], villages[5])),
        metrics.Filters(order[-1], (), (villages[2],), (groups[0], groups[1])),
        metrics.Filters("no such round"),
    ]
    for filters in questions:
        for level in metrics.LEVELS:
            for standard in (25.0, 18.5):
                kw = {"round_order": order, "area_standard": standard}
                fresh = metrics.compute(con, filters, level, prepared=False, **kw)
                prepared = metrics.compute(con, filters, level, **kw)
                pd.testing.assert_frame_equal(prepared, fresh)
                again = metrics.compute(con, filters, level, **kw)  # from the cache
                pd.testing.assert_frame_equal(again, fresh)
    s.close()
