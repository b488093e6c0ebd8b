"""The aggregates the pages show (``analytics.figures.summaries``) against counts made by
hand on frames small enough to count on paper."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd
import pytest

from analytics.domain.settings import Settings
from analytics.figures import headline, summaries
from analytics.figures.breakdowns import SECURE_FIELDS
from analytics.figures.limits import beyond_limit, is_beyond

D1, D2, D3 = pd.Timestamp("2017-06-01"), pd.Timestamp("2017-06-02"), pd.Timestamp("2017-06-05")


def _progress() -> pd.DataFrame:
    # 甲乡: 甲村 3 on D1, 2 on D2, 1 undated; 乙村 4 on D2. 乙乡: 丙村 5 on D1.
    return pd.DataFrame(
        {
            "township": ["甲乡", "甲乡", "甲乡", "甲乡", "乙乡"],
            "village": ["甲村", "甲村", "甲村", "乙村", "丙村"],
            "survey_date": [D1, D2, pd.NaT, D2, D1],
            "households": [3, 2, 1, 4, 5],
        }
    )


def test_progress_per_day_runs_a_total_per_unit_and_leaves_undated_rows_out():
    per_day = summaries.progress_per_day(_progress(), "village")
    rows = {(r.village, r.survey_date): (r.households, r.cumulative) for r in per_day.itertuples()}
    assert rows == {
        ("丙村", D1): (5, 5),
        ("乙村", D2): (4, 4),
        ("甲村", D1): (3, 3),
        ("甲村", D2): (2, 5),
    }


def test_progress_per_day_of_townships_adds_their_villages():
    per_day = summaries.progress_per_day(_progress(), "township")
    rows = {(r.township, r.survey_date): (r.households, r.cumulative) for r in per_day.itertuples()}
    assert rows == {("甲乡", D1): (3, 3), ("甲乡", D2): (6, 9), ("乙乡", D1): (5, 5)}


def test_surveys_per_date_counts_the_whole_area_per_day():
    daily = summaries.surveys_per_date(_progress())
    assert dict(zip(daily["survey_date"], daily["households"], strict=True)) == {D1: 8, D2: 6}


def test_survey_completion_counts_undated_households_and_divides_by_the_village_table():
    targets = pd.DataFrame(
        {"township": ["甲乡", "甲乡"], "village": ["甲村", "丁村"], "households": [12, 7]}
    )
    done = summaries.survey_completion(_progress(), targets, "village").set_index("village")
    assert done.loc["甲村", ["households", "undated", "target"]].tolist() == [6, 1, 12]
    assert done.loc["甲村", "completion"] == pytest.approx(0.5)
    assert done.loc["乙村", ["households", "undated"]].tolist() == [4, 0]
    assert math.isnan(done.loc["乙村", "target"]) and math.isnan(done.loc["乙村", "completion"])
    assert "丁村" not in done.index  # nothing surveyed there: no row, as before


def test_survey_completion_without_a_village_table_has_no_target():
    done = summaries.survey_completion(_progress(), pd.DataFrame(), "township")
    assert done.set_index("township")["households"].to_dict() == {"甲乡": 10, "乙乡": 5}
    assert done["target"].isna().all() and done["completion"].isna().all()


def _meetings() -> pd.DataFrame:
    # 3 township-level (no village) in 甲乡, village and group meetings in 甲村, one in 乙乡.
    return pd.DataFrame(
        {
            "township": ["甲乡", "甲乡", "甲乡", "甲乡", "乙乡"],
            "village": [None, "甲村", "甲村", "甲村", "丙村"],
            "group": [None, None, "一组", "一组", "二组"],
            "phase": ["贫情分析", "贫情分析", None, "实地调查", "实地调查"],
            "meeting_date": [D1, D1, D2, D3, pd.NaT],
            "meetings": [3, 1, 2, 1, 1],
            "attendance": [30, 12, 20, 9, 8],
        }
    )


def test_meetings_per_village_keeps_township_level_meetings_as_their_own_unit():
    per_unit = summaries.meetings_per_unit(_meetings(), "village", "乡镇级")
    rows = {r.unit: (r.meetings, r.attendance, r.per_session) for r in per_unit.itertuples()}
    assert rows == {"乡镇级": (3, 30, 10.0), "甲村": (4, 41, 10.2), "丙村": (1, 8, 8.0)}


def test_meetings_per_township_adds_every_meeting_of_the_township():
    per_unit = summaries.meetings_per_unit(_meetings(), "township", "乡镇级")
    rows = {r.unit: (r.meetings, r.attendance) for r in per_unit.itertuples()}
    assert rows == {"甲乡": (7, 71), "乙乡": (1, 8)}


def test_meetings_per_day_names_a_missing_phase_and_leaves_undated_meetings_out():
    per_day = summaries.meetings_per_day(_meetings(), "未记录")
    rows = {(r.meeting_date, r.phase): (r.meetings, r.attendance) for r in per_day.itertuples()}
    assert rows == {
        (D1, "贫情分析"): (4, 42),
        (D2, "未记录"): (2, 20),
        (D3, "实地调查"): (1, 9),
    }


def test_meetings_per_phase_counts_undated_meetings_too():
    per_phase = summaries.meetings_per_phase(_meetings(), "未记录")
    rows = {r.phase: (r.meetings, r.attendance, r.per_session) for r in per_phase.itertuples()}
    assert rows == {"贫情分析": (4, 42, 10.5), "实地调查": (2, 17, 8.5), "未记录": (2, 20, 10.0)}


def test_meetings_per_group_leaves_village_and_township_meetings_out():
    groups = summaries.meetings_per_group(_meetings())
    rows = {(r.village, r.group): (r.meetings, r.attendance) for r in groups.itertuples()}
    assert rows == {("甲村", "一组"): (3, 29), ("丙村", "二组"): (1, 8)}


def test_campaign_phases_span_their_dated_meetings_in_date_order():
    phases = summaries.campaign_phases(_meetings())
    assert [(r.phase, r.first, r.last) for r in phases.itertuples()] == [
        ("贫情分析", D1, D1),
        ("实地调查", D3, D3),
    ]


def test_villages_without_meetings_are_those_with_0_not_those_unmeasured():
    villages = pd.DataFrame(
        {"village": ["甲村", "乙村", "丙村", None], "meetings": [0, 2, None, 0]}
    )
    assert summaries.villages_without_meetings(villages) == ["甲村"]


def _relocated() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "village": ["甲村", "甲村", "甲村", "乙村"],
            "household_id": ["H1", "H2", "H3", "H4"],
            "site": ["新区", "新区", "—", "新区"],
            "mode": ["集中安置", "分散安置", "分散安置", "集中安置"],
            "persons": [4, 3, 2, 5],
        }
    )


def test_relocation_per_site_and_mode_counts_households_and_sums_persons():
    by_site = summaries.household_counts(_relocated(), ["site", "mode"])
    rows = {(r.site, r.mode): (r.households, r.persons) for r in by_site.itertuples()}
    assert rows == {
        ("新区", "集中安置"): (2, 9),
        ("新区", "分散安置"): (1, 3),
        ("—", "分散安置"): (1, 2),
    }


def test_relocation_per_unit_spreads_modes_into_columns_with_0_where_none():
    by_unit = summaries.household_counts(_relocated(), ["village", "mode"])
    persons = summaries.spread(by_unit, "village", "mode", "persons").set_index("village")
    assert persons.to_dict("index") == {
        "乙村": {"分散安置": 0, "集中安置": 5},
        "甲村": {"分散安置": 5, "集中安置": 4},
    }
    households = summaries.spread(by_unit, "village", "mode", "households").set_index("village")
    assert households.loc["甲村"].tolist() == [2, 1] and households.loc["乙村"].tolist() == [0, 1]


def test_units_with_any_keeps_units_with_a_count_and_drops_all_zero_or_empty_ones():
    frame = pd.DataFrame({"unit": ["a", "b", "c"], "new": [0, 0, None], "removed": [1, 0, None]})
    assert summaries.units_with_any(frame, ["new", "removed"])["unit"].tolist() == ["a"]


def _shortfalls() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "township": ["甲乡", "甲乡", "乙乡"],
            "village": ["甲村", "乙村", "丙村"],
            "registered": [5, 3, 4],
            **{k: [1, 0, 2] for k in SECURE_FIELDS},
            **{
                f"{k}_answered": [5, 3, 4] if k != "housing_secure" else [0, 0, 0]
                for k in SECURE_FIELDS
            },
        }
    )


def test_an_item_nobody_answered_is_not_charted():
    assert summaries.answered_items(_shortfalls()) == [
        "food_clothing_secure",
        "education_secure",
        "medical_secure",
    ]


def test_shortfalls_per_township_add_their_villages():
    short = summaries.shortfalls_per_unit(_shortfalls(), "township", ["education_secure"])
    assert short.set_index("township").to_dict("index") == {
        "甲乡": {"registered": 8, "education_secure": 1},
        "乙乡": {"registered": 4, "education_secure": 2},
    }


def test_incomes_are_recorded_when_one_household_has_one():
    none = pd.DataFrame({"village": ["甲村", "乙村"], "with_income": [0, 0]})
    one = pd.DataFrame({"village": ["甲村", "乙村"], "with_income": [0, 1]})
    assert not summaries.incomes_recorded(none)
    assert summaries.incomes_recorded(one)


def _hits() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "level": ["household", "household", "household", "village"],
            "township": ["甲乡", "甲乡", "甲乡", "甲乡"],
            "village": ["甲村", "甲村", "乙村", "乙村"],
            "group": ["一组", "一组", "二组", None],
            "household_id": ["H1", "H1", "H2", None],
            "name": ["收入异常", "人口异常", "收入异常", "完整率低"],
            "message": ["收入过高", "人口为0", "收入过高", "完整率50%"],
            "severity": ["low", "high", "medium", "medium"],
        }
    )


def test_anomaly_counts_are_hits_per_rule_and_village():
    counts = summaries.anomaly_counts(_hits(), "name", "village")
    assert counts.to_dict("index") == {
        "人口异常": {"乙村": 0, "甲村": 1},
        "完整率低": {"乙村": 1, "甲村": 0},
        "收入异常": {"乙村": 1, "甲村": 1},
    }


def test_flagged_households_count_each_household_once():
    assert summaries.flagged_households(_hits()) == 2


def test_anomaly_households_list_every_rule_and_the_most_severe():
    why = summaries.anomaly_households(_hits(), ["H1"], "name", "message")
    assert why.to_dict("records") == [
        {
            "township": "甲乡",
            "village": "甲村",
            "group": "一组",
            "household_id": "H1",
            "rules": "收入异常；人口异常",
            "why": "收入过高；人口为0",
            "severity": "high",
        }
    ]


def test_the_drill_down_opens_on_the_first_family_with_a_household():
    families = ("inclusion_error", "exclusion_error", "new")
    totals = pd.Series({"inclusion_error_households": 0, "exclusion_error_households": None})
    more = pd.concat([totals, pd.Series({"new_households": 2})])
    assert summaries.first_counted(more, families) == "new"
    assert summaries.first_counted(totals, families) == "inclusion_error"
    assert summaries.first_counted({}, families) == "inclusion_error"


@pytest.mark.parametrize(
    ("value", "limit", "floor", "expected"),
    [
        (0.03, 0.02, False, True),  # above a ceiling
        (0.02, 0.02, False, False),  # at the ceiling: within
        (0.89, 0.9, True, True),  # below a floor
        (0.9, 0.9, True, False),  # at the floor: within
        (None, 0.02, False, None),  # no rate
        (float("nan"), 0.02, False, None),
        (0.5, None, False, None),  # no limit
    ],
)
def test_a_rate_is_beyond_its_threshold_only_past_it(value, limit, floor, expected):
    assert is_beyond(value, limit, floor) is expected


def test_beyond_limit_marks_the_units_past_the_ceiling_and_not_the_missing_ones():
    values = pd.Series([0.01, 0.05, float("nan"), 0.02])
    limits = Settings(rate_ceilings={"inclusion_error_rate": 0.02})
    assert beyond_limit(values, limits, "inclusion_error_rate").tolist() == [
        False,
        True,
        False,
        False,
    ]


def test_the_heading_names_at_most_three_units():
    assert headline.named_units(["甲村", "乙村", "丙村"]) == ("甲村", "乙村", "丙村")
    assert headline.named_units(["甲村", "乙村", "丙村", "丁村"]) is None


AGGREGATING = re.compile(
    r"\.(groupby|pivot_table|pivot|unstack|cumsum|nunique|agg|value_counts|sum|mean|count)\("
    r"|[<>]=?\s*(ceiling|limit|floor|line|standard)\b"
)


def test_no_view_aggregates_or_decides_a_threshold():
    views = Path(__file__).resolve().parent.parent / "views"
    found = [
        f"{path.name}:{n}: {line.strip()}"
        for path in sorted(views.glob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if AGGREGATING.search(line)
    ]
    assert found == []


def test_no_view_builds_a_plotly_figure():
    """Figures are made by ui/charts.py's builders, in one step from dicts (validated once;
    bench/RESULTS.md, "Browser"): a page calls a builder, it never assembles a figure."""
    views = Path(__file__).resolve().parent.parent / "views"
    found = [
        f"{path.name}:{n}: {line.strip()}"
        for path in sorted(views.glob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"\bplotly\b|\bgo\.|\bpx\.|\.add_(bar|scatter|trace)|update_layout", line)
    ]
    assert found == []
