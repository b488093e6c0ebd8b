"""Metric meaning has one home: each rate's numerator and denominator (``metrics.RATE_PARTS``),
the limit of each rate (``limits.rate_limit``), "lacks any item of 两不愁三保障"
(``breakdowns.lacks_any``); the anomaly rules, the misclassification page and the metrics
read them from there, and the rules describe their limits with the settings in force."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from analytics.domain.labels import LABELS
from analytics.domain.settings import Settings
from analytics.figures import breakdowns, limits, metrics, queries, rules
from analytics.figures.filters import Filters
from analytics.importing import ingest
from analytics.store.database import Store
from tests.builders import registry_row, registry_workbook, survey_row, survey_workbook
from tests.test_pages import _app, _table

ROUND = "2018年动态管理"
# The tiny township of tests/test_pages.py, counted by hand:
# 甲村: H1 (3 persons, 已脱贫), H2 (2, 非建档立卡), H3 (4, 未脱贫) -> 9 persons, 3 households;
#       poor for the comprehensive rate: H3 (remaining poor) -> 4 persons, 1 household.
# 乙村: H4 (5, 非建档立卡), H5 (1, 已脱贫, 错退) -> 6 persons, 2 households;
#       poor: H5 (wrongful exit) -> 1 person, 1 household.
# No village table: the denominators are the villages' own persons / households.
HOUSEHOLDS = [
    survey_row("H1", "甲村", "一组", 3, "已脱贫", "返贫"),
    survey_row("H2", "甲村", "一组", 2, "非建档立卡", "新增"),
    survey_row("H3", "甲村", "二组", 4, "未脱贫", "拟退出"),
    survey_row("H4", "乙村", "一组", 5, "非建档立卡", "新增"),
    survey_row("H5", "乙村", "一组", 1, "已脱贫", None, "错退"),
]


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("meaning") / "m.duckdb"
    store = Store(path)
    report = ingest.import_file(store, "m.xlsx", survey_workbook(HOUSEHOLDS), ROUND)
    assert report.status == "loaded", report.message_en
    store.close()
    return path


@pytest.fixture
def store(db):
    s = Store(db)
    yield s
    s.close()


# ------------------------------------------------------------------ rate parts
def test_comprehensive_rate_numerator_is_remaining_poor_exclusion_and_wrongful_exit(store):
    frame = queries.metrics_frame(store, ROUND, "village").set_index("village")
    persons = metrics.numerator(frame, "comprehensive_poverty_rate")
    households = metrics.numerator(frame, "comprehensive_poverty_rate_households")
    assert persons.to_dict() == {"甲村": 4, "乙村": 1}
    assert households.to_dict() == {"甲村": 1, "乙村": 1}
    assert metrics.denominator(frame, "comprehensive_poverty_rate").to_dict() == {
        "甲村": 9,
        "乙村": 6,
    }
    assert frame["comprehensive_poverty_rate"].to_dict() == pytest.approx(
        {"甲村": 4 / 9, "乙村": 1 / 6}
    )
    assert frame["comprehensive_poverty_rate_households"].to_dict() == pytest.approx(
        {"甲村": 1 / 3, "乙村": 1 / 2}
    )


def test_every_rate_has_one_numerator_and_denominator():
    assert set(metrics.RATE_PARTS) == set(metrics.RATE_KEYS)
    part = metrics.RATE_PARTS["wrongful_exit_rate_households"]
    assert (part.terms, part.denominator, part.basis) == (
        ("wrongful_exit_households",),
        "exited_households",
        "households",
    )


def test_rule_message_counts_the_comprehensive_numerator_by_hand(store):
    hits = rules.village_hits(queries.backend(store), Filters(ROUND), Settings(), [ROUND])
    hits = hits[hits["rule"] == "V_COMPREHENSIVE_RATE"].set_index("village")
    assert hits["message"].to_dict() == {
        "甲村": "综合贫困发生率 44.44%（4/9 人）高于上限 3.00%",
        "乙村": "综合贫困发生率 16.67%（1/6 人）高于上限 3.00%",
    }


# ------------------------------------------------------------------ limits
def test_a_rate_is_beyond_a_ceiling_only_above_it_and_a_floor_only_below_it():
    cfg = Settings()
    rates = pd.Series([0.02, 0.0201, math.nan, None], dtype="object")
    assert limits.beyond_limit(rates, cfg, "wrongful_exit_rate").tolist() == [
        False,
        True,
        False,
        False,
    ]
    # a household-basis rate has the limit of its person-basis rate
    assert limits.rate_limit(cfg, "inclusion_error_rate_households") == (0.02, False)
    approval = pd.Series([0.9, 0.8999, math.nan])
    assert limits.rate_limit(cfg, "approval_rate") == (0.9, True)
    assert limits.beyond_limit(approval, cfg, "approval_rate").tolist() == [False, True, False]
    no_ceiling = Settings(rate_ceilings={})
    assert limits.beyond_limit(rates, no_ceiling, "wrongful_exit_rate").tolist() == [False] * 4


def test_accuracy_page_names_and_counts_the_comprehensive_numerator(db, monkeypatch):
    at = _app(monkeypatch, db, "accuracy", round=ROUND, basis="按人")
    table = _table(at, "acc_comprehensive_poverty_rate").set_index("行政村")
    num = next(c for c in table.columns if c.startswith("分子"))
    den = next(c for c in table.columns if c.startswith("分母"))
    assert num == "分子（贫困人口（未脱贫 + 漏评 + 错退））"
    assert table[num].map(int).to_dict() == {"甲村": 4, "乙村": 1}
    assert table[den].map(int).to_dict() == {"甲村": 9, "乙村": 6}
    # 乙村's wrongful-exit rate 1/1 is over 2%; both villages are over the 3% ceiling of the
    # comprehensive rate (units in the metrics' order)
    assert [e.value for e in at.error] == ["超过阈值的单位：乙村", "超过阈值的单位：乙村、甲村"]
    at = _app(monkeypatch, db, "accuracy", round=ROUND, basis="按户")
    table = _table(at, "acc_comprehensive_poverty_rate").set_index("行政村")
    num = next(c for c in table.columns if c.startswith("分子"))
    den = next(c for c in table.columns if c.startswith("分母"))
    assert num == "分子（贫困户（未脱贫 + 漏评 + 错退））"
    assert table[num].map(int).to_dict() == {"甲村": 1, "乙村": 1}
    assert table[den].map(int).to_dict() == {"甲村": 3, "乙村": 2}


# ------------------------------------------------------------------ 两不愁三保障
def test_lacking_any_item_is_the_same_for_the_shortfall_count_and_the_wrongful_exit_rule(
    tmp_path,
):
    # W1 exited, lacks safe housing; W2 exited, lacks nothing; W3 remaining poor, lacks food
    # and clothing and education (one household); W4 non-registered, lacks medical care.
    # Registered households lacking an item: W1, W3 -> 2. Wrongful-exit suspects: W1.
    store = Store(tmp_path / "s.duckdb")
    rows = [
        registry_row("W1", "甲村", "一组", 3, "已脱贫", lacking={"住房安全有保障"}),
        registry_row("W2", "甲村", "一组", 2, "已脱贫"),
        registry_row("W3", "甲村", "一组", 4, "未脱贫", lacking={"不愁吃穿", "义务教育有保障"}),
        registry_row("W4", "甲村", "一组", 1, "非建档立卡", lacking={"基本医疗有保障"}),
    ]
    report = ingest.import_file(store, "s.xlsx", registry_workbook(rows), ROUND)
    assert report.status == "loaded", report.message_en
    con = queries.backend(store)
    short = breakdowns.shortfalls(con, Filters(ROUND)).iloc[0]
    assert (short["registered"], short["any_shortfall"], short["housing_secure"]) == (3, 2, 1)
    hits = rules.household_hits(con, Filters(ROUND), Settings(), 2018)
    assert set(hits.loc[hits["rule"] == "H_WRONGFUL_EXIT", "household_id"]) == {"W1"}
    store.close()


# ------------------------------------------------------------------ rule descriptions
def _limits(settings: Settings | None = None, lang: str = "zh") -> dict[str, str]:
    table = rules.rule_table(settings=settings, lang=lang)
    return dict(zip(table["code"], table["limit"], strict=True))


def test_every_rule_limit_is_worded_in_the_label_table_in_both_languages():
    for rule in rules.RULES:
        assert rule.limit in LABELS, rule.code
        zh, en = (rules.limit_text(rule, Settings(), lang) for lang in ("zh", "en"))
        assert zh and en and "{" not in zh + en, rule.code


def test_rule_descriptions_read_their_limits_from_the_settings_in_force():
    default = _limits()
    assert "25 平方米/人" in default["H_RELOCATION_AREA"]
    assert "2.00%" in default["V_INCLUSION_RATE"]
    assert "90.00%" in default["V_APPROVAL"]
    assert not any("默认" in text for text in default.values())
    changed = Settings(
        area_standard=20.0,
        approval_floor=0.95,
        income_max=80_000.0,
        completeness_min=0.8,
        rate_ceilings={**Settings().rate_ceilings, "inclusion_error_rate": 0.05},
        poverty_lines={2017: 3000.0},
    )
    limits = _limits(changed)
    assert "20 平方米/人" in limits["H_RELOCATION_AREA"]
    assert "25" not in limits["H_RELOCATION_AREA"]
    assert "5.00%" in limits["V_INCLUSION_RATE"]
    assert "2.00%" in limits["V_EXCLUSION_RATE"]
    assert "95.00%" in limits["V_APPROVAL"]
    assert "80,000" in limits["H_INCOME_IMPOSSIBLE"]
    assert "80.00%" in limits["V_COMPLETENESS"]
    assert "2017: 3,000" in limits["H_WRONGFUL_EXIT"] and "2,952" not in limits["H_WRONGFUL_EXIT"]
    english = _limits(changed, "en")
    assert english["H_RELOCATION_AREA"] == (
        "house area > settings.area_standard (20 m² per person) x persons moved"
    )


def test_accuracy_page_says_approval_below_its_floor_not_over_it(tmp_path, monkeypatch):
    # 甲村: 2 households asked, 1 approves -> 50%, below the 90% floor; 乙村: 1 of 1 -> 100%
    # (B2's 漏评 makes the round a checked one: the page needs findings)
    rows = [
        survey_row("A1", "甲村", "一组", 3, "已脱贫", approval="是"),
        survey_row("A2", "甲村", "一组", 2, "未脱贫", approval="否"),
        survey_row("B1", "乙村", "一组", 4, "已脱贫", approval="是"),
        survey_row("B2", "乙村", "一组", 1, "非建档立卡", None, "漏评"),
    ]
    path = tmp_path / "a.duckdb"
    store = Store(path)
    report = ingest.import_file(store, "a.xlsx", survey_workbook(rows), ROUND)
    assert report.status == "loaded", report.message_en
    store.close()
    at = _app(monkeypatch, path, "accuracy", round=ROUND, basis="按人")
    table = _table(at, "acc_approval_rate").set_index("行政村")
    assert table["状态"].to_dict() == {"甲村": "低于下限", "乙村": "正常"}
