"""Province and county are part of a household's place (issue 14, DOMAIN.md "What offices
really export": township names repeat across counties, so a township is known by its
county): read from a 县 / 省 column, else a title naming them, else the rest of the
workbook; the same township name in two counties is two townships in every figure; a
database made before counties keeps its figures and gains the columns; the bulk path reads
a county column as the normal path does.

Every workbook is built here, a few rows each; expected figures are counted by hand.
"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from analytics.figures import metrics, queries
from analytics.importing import bulk, ingest
from analytics.importing.locate import place_from_title, township_from_title
from analytics.store.database import SCHEMA_VERSION, Store
from tests.builders import (
    HOUSEHOLD_HEADER,
    RELOCATION_HEADER,
    csv_bytes,
    household,
    inspect,
    relocation_row,
    workbook_bytes,
    xlsx_bytes,
)

ROUND = "2017年动态管理"
# HOUSEHOLD_HEADER with a national export's county column before 乡镇.
HEADER = ("序号", "县(市、区、旗)", *HOUSEHOLD_HEADER[1:])


def _row(n: int, county: str | None, **kw: object) -> list[object]:
    cells = household(n, **kw)
    return [cells[0], county, *cells[1:]]


# Two counties, each with a township 诗礼乡 and a village 孔兴村: 凤庆县 two households
# (4 persons 未脱贫, 3 persons 已脱贫), 云县 one (5 persons 未脱贫).
TWO_COUNTIES = [
    list(HEADER),
    _row(1, "凤庆县", size=4, state="未脱贫"),
    _row(2, "凤庆县", size=3, state="已脱贫"),
    _row(3, "云县", size=5, state="未脱贫"),
]


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "s.duckdb")
    yield s
    s.close()


def _load(store: Store, data: bytes, name: str = "户信息.xlsx") -> ingest.FileReport:
    report = ingest.import_file(store, name, data, ROUND)
    assert report.status == "loaded", (report.status, report.message)
    return report


def _figures(frame, keys: tuple[str, ...]) -> dict[tuple, tuple[int, int, int]]:
    return {
        tuple(r[k] for k in keys): (
            r["households_total"],
            r["persons_total"],
            r["remaining_poor_households"],
        )
        for r in frame.to_dict("records")
    }


# ------------------------------------------------------------------ the figures
def test_the_same_township_name_in_two_counties_is_two_townships(store):
    _load(store, xlsx_bytes(TWO_COUNTIES))
    township = queries.metrics_frame(store, ROUND, "township")
    assert _figures(township, ("county", "township")) == {
        ("云县", "诗礼乡"): (1, 5, 1),
        ("凤庆县", "诗礼乡"): (2, 7, 1),
    }
    village = queries.metrics_frame(store, ROUND, "village")
    assert _figures(village, ("county", "township", "village")) == {
        ("云县", "诗礼乡", "孔兴村"): (1, 5, 1),
        ("凤庆县", "诗礼乡", "孔兴村"): (2, 7, 1),
    }
    group = queries.metrics_frame(store, ROUND, "group")
    assert len(group) == 2


def test_counties_are_a_level_and_the_county_level_stays_the_whole_area(store):
    _load(store, xlsx_bytes(TWO_COUNTIES))
    counties = queries.metrics_frame(store, ROUND, "counties")
    assert _figures(counties, ("county",)) == {("云县",): (1, 5, 1), ("凤庆县",): (2, 7, 1)}
    whole = queries.metrics_frame(store, ROUND, "county")
    assert _figures(whole, ("county",)) == {("",): (3, 12, 2)}


def test_a_county_filter_keeps_that_countys_township_only(store):
    _load(store, xlsx_bytes(TWO_COUNTIES))
    con = queries.backend(store)
    for prepared in (True, False):
        f = metrics.Filters(ROUND, ("诗礼乡",), counties=("云县",))
        frame = metrics.compute(con, f, "township", round_order=[ROUND], prepared=prepared)
        assert _figures(frame, ("county", "township")) == {("云县", "诗礼乡"): (1, 5, 1)}


def test_a_relocated_household_counts_for_its_own_countys_township(store):
    # no township, no county on the relocation sheet: its household's (云县 诗礼乡)
    relocation = [
        list(RELOCATION_HEADER),
        relocation_row("H003", "孔兴村", "新村", "集中安置", 5, 100, township=None),
    ]
    data = workbook_bytes({"户信息": (TWO_COUNTIES, []), "易地扶贫搬迁": (relocation, [])})
    _load(store, data)
    frame = queries.metrics_frame(store, ROUND, "township")
    moved = {
        (r["county"], r["township"]): r["relocated_households"] for r in frame.to_dict("records")
    }
    assert moved == {("云县", "诗礼乡"): 1, ("凤庆县", "诗礼乡"): 0}


def test_one_county_is_one_unit_of_each_level_as_before(store):
    """Every existing file names one county (or none): one township, one village."""
    _load(store, xlsx_bytes([list(HEADER), _row(1, "凤庆县", size=4), _row(2, "凤庆县", size=3)]))
    for level, keys in (("township", ("county", "township")), ("counties", ("county",))):
        frame = queries.metrics_frame(store, ROUND, level)
        expected = ("凤庆县", "诗礼乡")[: len(keys)]
        assert _figures(frame, keys) == {expected: (2, 7, 2)}


# ------------------------------------------------------------------ where the county comes from
def _places(report: ingest.FileReport) -> dict[str, list[tuple]]:
    return {
        p.sheet: [(r.get("province"), r.get("county"), r.get("township")) for r in p.rows]
        for p in report.parsed
    }


def test_the_county_comes_from_its_column_and_a_blank_cell_from_the_title():
    rows = [
        ["云南省临沧市凤庆县2017年户信息表", *[None] * 9],
        list(HEADER),
        _row(1, "云县"),
        _row(2, None),
    ]
    report = inspect("户信息.xlsx", xlsx_bytes(rows))
    assert _places(report) == {
        "户信息": [("云南省", "云县", "诗礼乡"), ("云南省", "凤庆县", "诗礼乡")]
    }


def test_the_county_and_province_come_from_the_title_naming_the_township():
    rows = [
        ["云南省临沧市凤庆县诗礼乡2017年贫困对象动态管理户信息表", *[None] * 8],
        list(HOUSEHOLD_HEADER),
        household(1),
    ]
    report = inspect("户信息.xlsx", xlsx_bytes(rows))
    assert _places(report) == {"户信息": [("云南省", "凤庆县", "诗礼乡")]}


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("凤庆县诗礼乡2017年户信息表", {"county": "凤庆县"}),
        ("云南省临沧市凤庆县诗礼乡户信息", {"province": "云南省", "county": "凤庆县"}),
        ("临沧市临翔区博尚镇贫困户名单", {"county": "临翔区"}),
        ("大理白族自治州宾川县金牛镇", {"county": "宾川县"}),
        ("贵州省黔东南苗族侗族自治州雷山县丹江镇", {"province": "贵州省", "county": "雷山县"}),
        ("凤庆县2017年贫困户信息表", {"county": "凤庆县"}),
        ("全县贫困户花名册", {}),
        ("临沧市2017年贫困户", {}),
        ("诗礼乡村基本情况表", {}),
        ("2017年凤庆县诗礼乡贫困户", {"county": "凤庆县"}),  # a year is no part of a name
        ("云南省2018年度凤庆县诗礼乡", {"province": "云南省", "county": "凤庆县"}),
    ],
)
def test_a_title_names_a_county_only_where_it_says_one(title, expected):
    assert place_from_title(title) == expected


@pytest.mark.parametrize(
    ("title", "township"),
    [
        ("2017年诗礼乡贫困户信息表", "诗礼乡"),
        ("2018年度青山乡建档立卡户花名册", "青山乡"),
        ("凤庆县2017年诗礼乡贫困户", "诗礼乡"),
        ("万年乡2017年贫困户", "万年乡"),  # 年 inside a name stays
    ],
)
def test_a_year_before_the_township_in_a_title_is_not_part_of_its_name(title, township):
    assert township_from_title(title) == township


def test_a_county_named_in_one_sheets_title_applies_to_the_sheets_that_name_none():
    households = [
        ["凤庆县诗礼乡2017年户信息表", *[None] * 8],
        list(HOUSEHOLD_HEADER),
        household(1),
    ]
    relocation = [
        list(RELOCATION_HEADER),
        relocation_row("H001", "孔兴村", "新村", "集中安置", 4, 80, township=None),
    ]
    data = workbook_bytes({"户信息": (households, []), "易地扶贫搬迁": (relocation, [])})
    report = inspect("2017年.xlsx", data)
    assert _places(report) == {
        "户信息": [(None, "凤庆县", "诗礼乡")],
        "易地扶贫搬迁": [(None, "凤庆县", "诗礼乡")],
    }


def test_sheets_naming_two_counties_give_none_to_a_sheet_that_names_none():
    relocation = [
        list(RELOCATION_HEADER),
        relocation_row("H001", "孔兴村", "新村", "集中安置", 4, 80, township=None),
    ]
    data = workbook_bytes({"户信息": (TWO_COUNTIES, []), "易地扶贫搬迁": (relocation, [])})
    report = inspect("2017年.xlsx", data)
    assert _places(report) == {
        "户信息": [
            (None, "凤庆县", "诗礼乡"),
            (None, "凤庆县", "诗礼乡"),
            (None, "云县", "诗礼乡"),
        ],
        "易地扶贫搬迁": [(None, None, "诗礼乡")],
    }


def test_the_file_name_names_the_county():
    report = inspect("凤庆县诗礼乡户信息.xlsx", xlsx_bytes([list(HOUSEHOLD_HEADER), household(1)]))
    assert _places(report) == {"户信息": [(None, "凤庆县", "诗礼乡")]}


# ------------------------------------------------------------------ the store
def test_a_version_5_database_keeps_its_figures_and_gains_the_columns(tmp_path):
    path = tmp_path / "v5.duckdb"
    old = Store(path)
    _load(old, xlsx_bytes([list(HOUSEHOLD_HEADER), household(1, size=4), household(2, size=3)]))
    with old.write() as cur:  # as version 5 made it: no province or county anywhere
        for table in ("households", "meetings", "relocation", "villages"):
            cur.execute(f"ALTER TABLE {table} DROP COLUMN county")
            cur.execute(f"ALTER TABLE {table} DROP COLUMN province")
        cur.execute("UPDATE meta SET value = '5' WHERE key = 'schema_version'")
    old.close()
    again = Store(path)
    try:
        cur = again.cursor()
        added = cur.execute(
            "SELECT table_name, column_name FROM duckdb_columns() "
            "WHERE column_name IN ('county', 'province')"
        ).fetchall()
        assert {t for t, _ in added} >= {"households", "meetings", "relocation", "villages"}
        assert len(added) == 8
        township = queries.metrics_frame(again, ROUND, "township")
        assert _figures(township, ("county", "township")) == {("", "诗礼乡"): (2, 7, 2)}
        version = cur.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        assert version == (str(SCHEMA_VERSION),) == ("6",)
        _load(again, xlsx_bytes([list(HEADER), _row(9, "云县")]), "云县.xlsx")
        township = queries.metrics_frame(again, ROUND, "township")
        assert _figures(township, ("county", "township")) == {
            ("", "诗礼乡"): (2, 7, 2),
            ("云县", "诗礼乡"): (1, 4, 1),
        }
    finally:
        again.close()


@pytest.mark.parametrize("share", [-1.0, 1e9], ids=["shortcuts", "python"])
def test_the_bulk_path_reads_a_county_column_as_the_normal_path(tmp_path, monkeypatch, share):
    """The county from its column (spaces removed), a blank cell left blank (the column
    names two counties), the province from the file name on every row; with the SQL
    shortcuts on every column or on none (tests/test_bulk_import.py)."""
    monkeypatch.setattr(bulk, "LARGE_SHARE", share)
    data = csv_bytes([*TWO_COUNTIES, _row(4, None), _row(5, " 云 县 ")])
    path = tmp_path / "云南省户信息.csv"
    path.write_bytes(data)
    stored = []
    for way in ("normal", "bulk"):
        s = Store(tmp_path / f"{way}.duckdb")
        try:
            if way == "normal":
                report = ingest.import_file(s, path.name, data, ROUND)
            else:
                report = bulk.import_path(s, path, ROUND)
            assert report.status == "loaded"
            stored.append(
                s.cursor()
                .execute(
                    "SELECT household_id, province, county, township FROM households ORDER BY 1"
                )
                .fetchall()
            )
        finally:
            s.close()
    assert (
        stored[0]
        == stored[1]
        == [
            ("H001", "云南省", "凤庆县", "诗礼乡"),
            ("H002", "云南省", "凤庆县", "诗礼乡"),
            ("H003", "云南省", "云县", "诗礼乡"),
            ("H004", "云南省", None, "诗礼乡"),
            ("H005", "云南省", "云县", "诗礼乡"),
        ]
    )


# ------------------------------------------------------------------ the sidebar
def _app(path) -> AppTest:
    at = AppTest.from_file("../app.py", default_timeout=180)
    at.run()
    assert not at.exception, at.exception
    return at


def _sidebar_boxes(at: AppTest) -> list[str]:
    return [w.key for w in at.sidebar.multiselect]


def _registered(at: AppTest) -> str:
    return next(m.value for m in at.metric if m.label == "建档立卡户")


def test_the_county_box_shows_when_the_round_has_two_counties_and_filters(tmp_path, monkeypatch):
    path = tmp_path / "c.duckdb"
    s = Store(path)
    _load(s, xlsx_bytes(TWO_COUNTIES))
    s.close()
    monkeypatch.setenv("POVERTY_DB", str(path))
    monkeypatch.setenv("STREAMLIT_CLIENT_SHOW_ERROR_DETAILS", "full")
    at = _app(path)
    at.sidebar.selectbox(key="round").select(ROUND).run()
    assert "county" in _sidebar_boxes(at)
    assert _registered(at) == "3 户 / 12 人"
    at.sidebar.multiselect(key="county").set_value(["云县"]).run()
    assert not at.exception, at.exception
    assert _registered(at) == "1 户 / 5 人"


def test_one_county_shows_no_county_box(tmp_path, monkeypatch):
    path = tmp_path / "one.duckdb"
    s = Store(path)
    _load(s, xlsx_bytes([list(HEADER), _row(1, "凤庆县"), _row(2, "凤庆县")]))
    s.close()
    monkeypatch.setenv("POVERTY_DB", str(path))
    at = _app(path)
    at.sidebar.selectbox(key="round").select(ROUND).run()
    assert not at.exception, at.exception
    assert "county" not in _sidebar_boxes(at)
