"""Which village a relocated household counts for, the same in every figure: the metrics,
the relocation breakdown, the anomaly rule H_RELOCATION_AREA and the relocation page.

A household relocated out of a village counts for that village (迁出村); when 迁出村 is
blank, for its registry village (found by 户编号 in the same round); when neither is known,
for no village, shown as an unknown village and never dropped."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from analytics.domain.settings import Settings
from analytics.figures import breakdowns, metrics, queries, records, rules
from analytics.figures.filters import Filters
from analytics.importing import ingest
from analytics.store.database import Store
from tests.builders import relocation_row, survey_row, survey_workbook
from tests.test_pages import _app, _inspector, _table

T = "测试乡"
ROUND = "2018年搬迁"
UNKNOWN_ROUND = "2018年搬迁补录"
# Registry: H1 甲村一组 (3 persons), H2 乙村一组 (2), H3 乙村二组 (4).
# Relocation: H1 迁出村 甲村, 3 moved, 100 m² (> 25 x 3 = 75: over);
#             H2 迁出村 blank, 2 moved, 60 m² (> 25 x 2 = 50: over). Both at 安置点一.
# By hand: 甲村 1 household 3 persons (H1), 乙村 1 household 2 persons (H2: its registry
# village), filtered or not; the township 2 households 5 persons, 1 site.
# Second round: H4 in the registry (甲村); relocation H9, 迁出村 blank and no registry row:
# 1 household, 4 persons, 120 m² (> 100: over), village unknown.
HOUSEHOLDS = [
    survey_row("H1", "甲村", "一组", 3),
    survey_row("H2", "乙村", "一组", 2),
    survey_row("H3", "乙村", "二组", 4),
]
RELOCATION = [
    relocation_row("H1", "甲村", "安置点一", "集中安置", 3, 100),
    relocation_row("H2", None, "安置点一", "集中安置", 2, 60),
]


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("relocation") / "r.duckdb"
    store = Store(path)
    for name, data, round_name in (
        ("r.xlsx", survey_workbook(HOUSEHOLDS, relocation=RELOCATION), ROUND),
        (
            "u.xlsx",
            survey_workbook(
                [survey_row("H4", "甲村", "一组", 5)],
                relocation=[relocation_row("H9", None, "安置点二", "集中安置", 4, 120)],
            ),
            UNKNOWN_ROUND,
        ),
    ):
        report = ingest.import_file(store, name, data, round_name)
        assert report.status == "loaded", report.message_en
    store.close()
    return path


@pytest.fixture
def store(db):
    s = Store(db)
    yield s
    s.close()


def relocated(frame, key: str) -> dict:
    """(relocated households, persons, over-standard households, persons) per unit."""
    return {
        rec[key]: (
            rec["relocated_households"],
            rec["relocated_persons"],
            rec["relocation_over_standard_households"],
            rec["relocation_over_standard_persons"],
        )
        for rec in frame.to_dict("records")
        if rec["relocated_households"]
    }


# ------------------------------------------------------------------ the metrics
def test_blank_out_village_counts_for_the_registry_village_unfiltered(store):
    frame = queries.metrics_frame(store, ROUND, "village")
    assert relocated(frame, "village") == {"甲村": (1, 3, 1, 3), "乙村": (1, 2, 1, 2)}
    township = queries.metrics_frame(store, ROUND, "township")
    assert relocated(township, "township") == {T: (2, 5, 2, 5)}


def test_blank_out_village_counts_for_the_registry_village_filtered_to_it(store):
    frame = queries.metrics_frame(store, ROUND, "village", villages=["乙村"])
    assert relocated(frame, "village") == {"乙村": (1, 2, 1, 2)}
    county = queries.metrics_frame(store, ROUND, "county", villages=["乙村"])
    assert relocated(county, "county") == {"": (1, 2, 1, 2)}
    frame = queries.metrics_frame(store, ROUND, "village", villages=["甲村"])
    assert relocated(frame, "village") == {"甲村": (1, 3, 1, 3)}


def test_blank_out_village_takes_the_registry_group(store):
    frame = queries.metrics_frame(store, ROUND, "group")
    frame = frame.assign(unit=list(zip(frame["village"], frame["group"], strict=True)))
    assert relocated(frame, "unit") == {
        ("甲村", "一组"): (1, 3, 1, 3),
        ("乙村", "一组"): (1, 2, 1, 2),
    }
    frame = queries.metrics_frame(store, ROUND, "township", groups=["一组"])
    assert relocated(frame, "township") == {T: (2, 5, 2, 5)}


def test_unknown_village_is_its_own_unit_and_in_the_township_total(store):
    frame = queries.metrics_frame(store, UNKNOWN_ROUND, "village")
    unknown = frame[frame["village"].isna()]
    assert relocated(unknown.assign(village="?"), "village") == {"?": (1, 4, 1, 4)}
    township = queries.metrics_frame(store, UNKNOWN_ROUND, "township")
    assert relocated(township, "township") == {T: (1, 4, 1, 4)}
    # It is in no chosen village.
    filtered = queries.metrics_frame(store, UNKNOWN_ROUND, "village", villages=["甲村"])
    assert relocated(filtered, "village") == {}


# ------------------------------------------------------------------ the breakdown
def test_relocation_breakdown_places_the_blank_out_village_by_the_registry(store):
    con = queries.backend(store)
    rows = breakdowns.relocation_households(con, Filters(ROUND), 25.0)
    assert dict(zip(rows["household_id"], rows["village"], strict=True)) == {
        "H1": "甲村",
        "H2": "乙村",
    }
    rows = breakdowns.relocation_households(con, Filters(ROUND, villages=("乙村",)), 25.0)
    assert rows[["household_id", "village", "persons"]].values.tolist() == [["H2", "乙村", 2]]
    rows = breakdowns.relocation_households(con, Filters(UNKNOWN_ROUND), 25.0)
    assert rows[["household_id", "township", "village_known"]].values.tolist() == [["H9", T, False]]
    assert rows["village"].isna().all()


def test_exported_relocation_rows_follow_the_same_village_as_stored(store):
    con = queries.backend(store)
    rows = records.table_rows(con, "relocation", Filters(ROUND, villages=("乙村",)))
    assert rows["household_id"].tolist() == ["H2"]
    assert rows["village"].isna().all()  # as the file had it: 迁出村 blank
    rows = records.table_rows(con, "relocation", Filters(ROUND, groups=("一组",)))
    assert rows["household_id"].tolist() == ["H1", "H2"]
    assert len(records.table_rows(con, "relocation", Filters(UNKNOWN_ROUND))) == 1


# ------------------------------------------------------------------ the anomaly rule
def test_relocation_area_rule_places_the_blank_out_village_by_the_registry(store):
    con = queries.backend(store)

    def hits(filters: Filters) -> dict:
        h = rules.household_hits(con, filters, Settings(), 2018)
        h = h[h["rule"] == "H_RELOCATION_AREA"]
        return {r["household_id"]: (r["village"], r["group"]) for r in h.to_dict("records")}

    both = {"H1": ("甲村", "一组"), "H2": ("乙村", "一组")}
    assert hits(Filters(ROUND)) == both
    assert hits(Filters(ROUND, villages=("乙村",))) == {"H2": ("乙村", "一组")}
    assert hits(Filters(ROUND, groups=("一组",))) == both
    assert hits(Filters(ROUND, villages=("甲村",))) == {"H1": ("甲村", "一组")}
    unknown = hits(Filters(UNKNOWN_ROUND))
    assert list(unknown) == ["H9"] and pd.isna(unknown["H9"][0])


def test_metrics_breakdown_and_rule_agree_per_village(store):
    """The same households per village in all three, filtered and not."""
    con = queries.backend(store)
    for villages in ((), ("甲村",), ("乙村",)):
        f = Filters(ROUND, villages=villages)
        m = metrics.compute(con, f, "village", round_order=(ROUND,))
        from_metrics = {
            v: n for v, n in zip(m["village"], m["relocated_households"], strict=True) if n
        }
        b = breakdowns.relocation_households(con, f, 25.0)
        h = rules.household_hits(con, f, Settings(), 2018)
        h = h[h["rule"] == "H_RELOCATION_AREA"]
        assert from_metrics == b["village"].value_counts().to_dict()
        assert from_metrics == h["village"].value_counts().to_dict()


# ------------------------------------------------------------------ the page
def test_relocation_page_shows_the_blank_out_village_under_its_registry_village(db, monkeypatch):
    at = _app(monkeypatch, db, "relocation", round=ROUND, basis="按户")
    modes = _table(at, "rel_modes").set_index("行政村")
    assert modes["集中安置"].to_dict() == {"甲村": 1, "乙村": 1}
    summary = _table(at, "rel_area")  # a leader's over-standard figures per village
    assert summary.groupby("行政村")["户数"].sum().to_dict() == {"甲村": 1, "乙村": 1}

    at = _app(monkeypatch, db, "relocation", round=ROUND, basis="按户", village="乙村")
    sites = _table(at, "rel_sites")
    assert (sites["户数"].sum(), sites["人数"].sum()) == (1, 2)
    assert _table(at, "rel_modes").set_index("行政村")["集中安置"].to_dict() == {"乙村": 1}

    at = _inspector(monkeypatch, db, "relocation", round=ROUND)
    area = _table(at, "rel_area")
    assert dict(zip(area["户编号"], area["行政村"], strict=True)) == {"H1": "甲村", "H2": "乙村"}


def test_relocation_page_shows_a_household_of_unknown_village(db, monkeypatch):
    at = _app(monkeypatch, db, "relocation", round=UNKNOWN_ROUND, basis="按户")
    modes = _table(at, "rel_modes").set_index("行政村")
    assert modes["集中安置"].to_dict() == {"迁出村未知": 1}
    at = _inspector(monkeypatch, db, "relocation", round=UNKNOWN_ROUND)
    area = _table(at, "rel_area")
    assert area[["户编号", "行政村"]].values.tolist() == [["H9", "迁出村未知"]]


def test_the_sidebar_units_count_a_relocated_household_of_unknown_village(store):
    """The units the filters offer (``queries.units``) are the metrics' units, by hand: the
    registry's villages, and the relocated household found in no village as a township
    unit without a village (never dropped, never a made-up name)."""
    assert set(queries.units(store, ROUND, "village")) == {(T, "甲村"), (T, "乙村")}
    assert set(queries.units(store, UNKNOWN_ROUND, "village")) == {(T, "甲村"), (T, None)}
    assert set(queries.units(store, ROUND, "township")) == {(T,)}
    assert {u for u in queries.units(store, ROUND, "group") if u[2]} == {
        (T, "甲村", "一组"),
        (T, "乙村", "一组"),
        (T, "乙村", "二组"),
    }
