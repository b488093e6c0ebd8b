"""贫困户情况's persons breakdown: persons by age band, health, labour and education, counted
from member rows per the filters, a blank value counted as blank, a round without members
missing (not 0).

The store is built here: round R1 is a national person list exported 2019-12-31 (its
导出时间) with two registered households of members and a non-registered one (一般农户),
and a household sheet with a fourth household (registered) and no members; round R2 is a
household sheet only. Ages at 2019-12-31, by hand:

孔兴村 (household 1): born 1980-01-01 -> 39, 1982-06-15 -> 37, 2010-07-01 -> 9.
三合村 (household 2): 1959-12-31 -> 60, 1960-01-01 -> 59, 2003-12-31 -> 16,
2004-12-31 -> 15, 2016-03-01 -> 3, and one member without an ID number (age unknown).
孔兴村 (household 4, 一般农户): 1990-01-01 -> 29, 2017-05-01 -> 2.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analytics.figures import people, queries
from analytics.figures.filters import Filters
from analytics.importing import ingest
from analytics.store.database import Store
from tests.builders import (
    HOUSEHOLD_HEADER,
    household,
    make_id,
    person_list,
    person_row,
    workbook_bytes,
    xlsx_bytes,
)

H1 = "5309211030010001"
H2 = "5309211030010002"


def _member(n: int, k: int, born: str | None, health, labour, education, **more) -> list:
    hid = f"530921103001{n:04d}"
    return person_row(
        n,
        pid=f"{hid}{k:02d}",
        id_number=make_id(10 * n + k, birth=born) if born else None,
        relation="户主" if k == 1 else "其他",
        health=health,
        labour=labour,
        education=education,
        **more,
    )


def _rows() -> list[list]:
    kx = {"size": 3}
    sh = {"size": 6, "village": "三合村", "group": "三合组"}
    plain = {"size": 2, "state": None, "household_type": "一般农户"}
    return [
        _member(1, 1, "19800101", "健康", "普通劳动力", "小学", **kx),
        _member(1, 2, "19820615", "长期慢性病", None, "初中", **kx),
        _member(1, 3, "20100701", "健康", "无劳动力", None, **kx),
        _member(2, 1, "19591231", "残疾", "丧失劳动力", "文盲或半文盲", **sh),
        _member(2, 2, "19600101", "健康", "普通劳动力", "小学", **sh),
        _member(2, 3, "20031231", "健康", "技能劳动力", "高中", **sh),
        _member(2, 4, "20041231", "健康", "无劳动力", "初中", **sh),
        _member(2, 5, "20160301", None, "无劳动力", None, **sh),
        _member(2, 6, None, "患有大病", "弱劳动力或半劳动力", None, **sh),
        _member(4, 1, "19900101", "健康", "普通劳动力", "大专及以上", **plain),
        _member(4, 2, "20170501", "健康", "无劳动力", None, **plain),
    ]


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    path: Path = tmp_path_factory.mktemp("people") / "people.duckdb"
    s = Store(path)
    try:
        book = workbook_bytes(
            {
                "人口明细": (person_list(_rows()), ()),
                "户信息": ([list(HOUSEHOLD_HEADER), household(3, size=4)], ()),
            }
        )
        report = ingest.import_file(s, "人口明细.xlsx", book, "R1")
        assert report.status == "loaded", report.problems
        plain = xlsx_bytes([list(HOUSEHOLD_HEADER), household(4), household(5)])
        report = ingest.import_file(s, "户信息.xlsx", plain, "R2")
        assert report.status == "loaded", report.problems
    finally:
        s.close()
    return path


@pytest.fixture
def store(db) -> Iterator[Store]:
    s = Store(db)
    yield s
    s.close()


def _counts(store: Store, f: Filters, dimension: str, registered=True) -> dict[tuple, int]:
    frame, _ = queries.persons_by(store, f, dimension, "village", registered=registered)
    return {(r.village, r.value): r.persons for r in frame.itertuples()}


def test_persons_by_age_band_at_the_rounds_data_date(store):
    frame, as_of = queries.persons_by(store, Filters("R1"), "age_band", "village", registered=True)
    assert str(as_of) == "2019-12-31"
    assert _counts(store, Filters("R1"), "age_band") == {
        ("孔兴村", "6-15"): 1,
        ("孔兴村", "16-59"): 2,
        ("三合村", "0-5"): 1,
        ("三合村", "6-15"): 1,  # 15 on the data date
        ("三合村", "16-59"): 2,  # 16 and 59
        ("三合村", "60+"): 1,  # 60 on the data date
        ("三合村", None): 1,  # no ID number: age unknown, counted as blank
    }
    # bands young to old, blank last
    assert list(dict.fromkeys(frame["value"])) == ["0-5", "6-15", "16-59", "60+", None]


def test_persons_by_health_labour_and_education_count_blanks(store):
    f = Filters("R1")
    assert _counts(store, f, "health") == {
        ("孔兴村", "健康"): 2,
        ("孔兴村", "长期慢性病"): 1,
        ("三合村", "健康"): 3,
        ("三合村", "残疾"): 1,
        ("三合村", "患有大病"): 1,
        ("三合村", None): 1,
    }
    assert _counts(store, f, "labour") == {
        ("孔兴村", "普通劳动力"): 1,
        ("孔兴村", "无劳动力"): 1,
        ("孔兴村", None): 1,
        ("三合村", "丧失劳动力"): 1,
        ("三合村", "普通劳动力"): 1,
        ("三合村", "技能劳动力"): 1,
        ("三合村", "无劳动力"): 2,
        ("三合村", "弱劳动力或半劳动力"): 1,
    }
    assert _counts(store, f, "education") == {
        ("孔兴村", "小学"): 1,
        ("孔兴村", "初中"): 1,
        ("孔兴村", None): 1,
        ("三合村", "文盲或半文盲"): 1,
        ("三合村", "小学"): 1,
        ("三合村", "高中"): 1,
        ("三合村", "初中"): 1,
        ("三合村", None): 2,
    }


def test_filters_narrow_the_persons_to_the_chosen_village_and_group(store):
    for f in (Filters("R1", villages=("三合村",)), Filters("R1", groups=("三合组",))):
        assert sum(_counts(store, f, "health").values()) == 6
        assert {v for v, _ in _counts(store, f, "health")} == {"三合村"}
    assert _counts(store, Filters("R1", groups=("孔兴组",)), "education") == {
        ("孔兴村", "小学"): 1,
        ("孔兴村", "初中"): 1,
        ("孔兴村", None): 1,
    }


def test_every_household_or_registered_households_only(store):
    """Household 4 (一般农户) counts with every household, not with registered ones."""
    f = Filters("R1", villages=("孔兴村",))
    assert _counts(store, f, "age_band", registered=False) == {
        ("孔兴村", "0-5"): 1,
        ("孔兴村", "6-15"): 1,
        ("孔兴村", "16-59"): 3,
    }
    assert _counts(store, f, "age_band") == {("孔兴村", "6-15"): 1, ("孔兴村", "16-59"): 2}


def test_coverage_counts_households_with_members_and_member_rows(store):
    def cover(f: Filters, registered: bool = True) -> people.MemberCoverage:
        return queries.member_coverage(store, f, registered=registered)

    assert cover(Filters("R1")) == people.MemberCoverage(3, 2, 9)
    assert cover(Filters("R1"), registered=False) == people.MemberCoverage(4, 3, 11)
    kx = cover(Filters("R1", villages=("孔兴村",)))
    assert kx == people.MemberCoverage(2, 1, 3)  # household 3 has no member rows


def test_a_round_without_members_has_no_breakdown_not_zeros(store):
    cover = queries.member_coverage(store, Filters("R2"))
    assert cover == people.MemberCoverage(2, 0, 0)
    assert not cover.any
    for registered in (False, True):
        frame, _ = queries.persons_by(
            store, Filters("R2"), "health", "village", registered=registered
        )
        assert frame.empty


def test_the_table_behind_the_chart_has_one_row_per_unit_and_a_total(store):
    frame, _ = queries.persons_by(store, Filters("R1"), "labour", "village", registered=True)
    table = people.spread_persons(frame, "village", blank="未填写")
    rows = {r["village"]: r for r in table.to_dict("records")}
    assert list(table.columns) == [
        "village",
        "无劳动力",  # 3 persons
        "普通劳动力",  # 2
        "丧失劳动力",  # 1 each, by name
        "弱劳动力或半劳动力",
        "技能劳动力",
        "未填写",
        "total",
    ]
    assert rows["孔兴村"]["无劳动力"] == 1
    assert rows["孔兴村"]["技能劳动力"] == 0
    assert rows["孔兴村"]["未填写"] == 1
    assert rows["孔兴村"]["total"] == 3
    assert rows["三合村"]["total"] == 6


def test_age_bands_come_from_the_settings_edges():
    assert people.band_names((0, 6, 16, 60)) == ("0-5", "6-15", "16-59", "60+")
    assert [people.age_band(a) for a in (0, 5, 6, 15, 16, 59, 60, 120)] == [
        "0-5",
        "0-5",
        "6-15",
        "6-15",
        "16-59",
        "16-59",
        "60+",
        "60+",
    ]
    assert people.age_band(None) is None
    assert people.age_band(-1) == people.BORN_AFTER
    with pytest.raises(ValueError):
        people.band_names((6, 16))


# ------------------------------------------------------------- the page (AppTest)
def _page(env: pytest.MonkeyPatch, db: Path, round_name: str, **params: str) -> AppTest:
    env.setenv("POVERTY_DB", str(db))
    at = AppTest.from_file("../app.py", default_timeout=180)
    at.switch_page("views/households.py")
    at.query_params["round"] = round_name
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _table(at: AppTest, key: str):
    """A chart's table (``ui.blocks.chart_and_table``), its expander opened as a user does."""
    at.session_state[f"table_{key}"] = True
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at.get_by_key(f"box_{key}").dataframe[0].value


def test_the_households_page_shows_persons_by_health_and_age_per_village(db, monkeypatch):
    at = _page(monkeypatch, db, "R1")
    assert any("2 户有家庭成员明细（范围内共 3 户），共 9 人" in c.value for c in at.caption)
    health = _table(at, "hh_health").set_index("行政村")
    assert health.loc["孔兴村"].to_dict() == {
        "健康": 2,
        "长期慢性病": 1,
        "残疾": 0,
        "患有大病": 0,
        "未填写": 0,
        "合计（人）": 3,
    }
    assert health.loc["三合村"].to_dict() == {
        "健康": 3,
        "长期慢性病": 0,
        "残疾": 1,
        "患有大病": 1,
        "未填写": 1,
        "合计（人）": 6,
    }
    ages = _table(at, "hh_age_band").set_index("行政村")
    assert list(ages.columns) == ["0-5岁", "6-15岁", "16-59岁", "60+岁", "未填写", "合计（人）"]
    assert ages.loc["三合村"].tolist() == [1, 1, 2, 1, 1, 6]
    assert ages.loc["孔兴村"].tolist() == [0, 1, 2, 0, 0, 3]
    assert any("2019-12-31" in c.value for c in at.caption)


def test_the_households_page_says_a_round_without_members_has_no_persons_figures(db, monkeypatch):
    at = _page(monkeypatch, db, "R2")
    assert any("没有家庭成员明细" in i.value for i in at.info)
    assert "table_hh_health" not in at.session_state


def test_the_persons_breakdown_speaks_english(db, monkeypatch):
    at = _page(monkeypatch, db, "R1", lang="English")
    assert any("2 of 3 households have member rows, 9 persons" in c.value for c in at.caption)
    ages = _table(at, "hh_age_band")
    assert list(ages.columns) == [
        "Village",
        "0-5 yrs",
        "6-15 yrs",
        "16-59 yrs",
        "60+ yrs",
        "not recorded",
        "Total (persons)",
    ]
