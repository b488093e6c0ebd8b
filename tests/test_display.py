"""What the screen shows besides the figures: charts that read right, tables without
"None" or "00:00:00", the area named as chosen. Chart builders are checked on their Plotly
figures; pages through AppTest on the demo and on tiny workbooks."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from analytics.figures import breakdowns
from analytics.fixtures.demo import load_demo
from analytics.importing import ingest
from analytics.store.database import Store
from tests.builders import SURVEY_HEADER, survey_row, workbook_bytes
from ui import charts
from ui.blocks import readable

TIMEOUT = 180
CHECK = "2017年精准核查"


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("display") / "demo.duckdb"
    store = Store(path)
    load_demo(store)
    store.close()
    return path


def _app(db, monkeypatch, page=None, **params) -> AppTest:
    monkeypatch.setenv("POVERTY_DB", str(db))
    monkeypatch.setenv("STREAMLIT_CLIENT_SHOW_ERROR_DETAILS", "full")
    at = AppTest.from_file("../app.py", default_timeout=TIMEOUT)
    if page:
        at.switch_page(f"views/{page}.py")
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _specs(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


# ------------------------------------------------------------------------- charts
def test_a_legend_sits_beside_the_plot_not_over_the_unit_names():
    frame = pd.DataFrame({"village": ["甲村", "乙村"], "a": [1, 2], "b": [3, 0]})
    fig = charts.stacked_bars(frame, "village", {"a": "A", "b": "B"}, "t", "村", "户")
    legend = fig.layout.legend
    assert legend.orientation == "v" and legend.x > 1 and legend.xanchor == "left"


def test_every_chart_sent_carries_a_bare_template_that_the_browser_can_theme(demo_db, monkeypatch):
    """The charts a page sends hold no Plotly default template (6 KB each, serialised per
    rerun), yet a template with both "data" and "layout": Streamlit's frontend merges its
    theme into those two."""
    at = _app(demo_db, monkeypatch, "dynamics", round=CHECK)
    specs = _specs(at)
    assert specs
    for spec in specs:
        template = spec["layout"]["template"]
        assert set(template) == {"data", "layout"}
        assert len(json.dumps(template)) < 200


def test_count_axes_have_whole_ticks_only():
    frame = pd.DataFrame({"village": ["甲村"], "a": [1]})
    fig = charts.stacked_bars(frame, "village", {"a": "A"}, "t", "村", "户")
    assert fig.layout.yaxis.tickformat == ",d" and fig.layout.yaxis.dtick == 1


def test_a_missing_figure_is_a_gap_in_a_chart_never_zero():
    """A unit whose figure is missing (a nullable column's NA, as coverage leaves it) is
    drawn as no bar (null), and the count axis is judged from the figures present."""
    frame = pd.DataFrame(
        {
            "village": ["甲村", "乙村"],
            "new": pd.array([40, None], dtype="Int64"),
            "rate": pd.array([0.05, None], dtype="Float64"),
        }
    )
    bars = json.loads(
        charts.stacked_bars(frame, "village", {"new": "新增"}, "", "村", "户").to_json()
    )
    assert bars["data"][0]["y"] == [40, None]
    assert "dtick" not in bars["layout"]["yaxis"]  # 40 households: no tick per household
    rates = json.loads(charts.rate_bars(frame, "village", "rate", 0.02, "", "村", "阈值").to_json())
    assert rates["data"][0]["y"] == [0.05, None]


def test_a_threshold_label_sits_in_the_margin_not_over_the_bars():
    frame = pd.DataFrame({"village": ["甲村"], "approval_rate": [0.95]})
    fig = charts.rate_bars(frame, "village", "approval_rate", 0.9, "", "村", "下限 90%", True)
    [note] = fig.layout.annotations
    assert note.xanchor == "left" and note.x == 1  # right of the plot area
    assert fig.layout.margin.r >= 100


def test_income_boxes_carry_quartiles_not_any_households_income():
    incomes = pd.DataFrame(
        {
            "village": ["甲村"] * 5,
            "income_per_capita": [1000.0, 2000.0, 3000.0, 4000.0, 50000.0],
        }
    )
    summary = breakdowns.income_summary(incomes, "village", 2952)
    row = summary.iloc[0]
    # hand count: quartiles of 1000..4000, 50000; whiskers within 1.5 IQR; 2 below 2952
    assert (row["q1"], row["median"], row["q3"]) == (2000.0, 3000.0, 4000.0)
    assert (row["low"], row["high"]) == (1000.0, 4000.0)
    assert (row["below"], row["at_or_above"], row["missing"]) == (2, 3, 0)
    fig = charts.income_boxes(summary, "village", 2952, "贫困线", "收入", "村", "人均纯收入")
    payload = json.dumps(fig.to_plotly_json()["data"], default=str)
    assert "50000" not in payload  # the outlier household's income never leaves the server


def test_relocation_sites_are_coloured_by_mode(demo_db, monkeypatch):
    at = _app(demo_db, monkeypatch, "relocation", round=CHECK)
    sites = _specs(at)[0]
    assert {d["name"] for d in sites["data"]} <= {"集中安置", "分散安置", "未填写"}
    assert all(d["type"] == "bar" for d in sites["data"])


def test_a_leader_gets_no_households_area_or_size_in_the_relocation_page(demo_db, monkeypatch):
    at = _app(demo_db, monkeypatch, "relocation", round=CHECK)
    traces = [d["type"] for spec in _specs(at) for d in spec["data"]]
    assert "scatter" not in traces and traces  # one point per household: inspectors only


def test_a_round_without_causes_of_poverty_says_so_instead_of_drawing_bars(tmp_path, monkeypatch):
    db = tmp_path / "nc.duckdb"
    store = Store(db)
    rows = [survey_row("A1", "甲村", "一组", 3, "未脱贫", date=None)]
    data = workbook_bytes({"户信息": ([SURVEY_HEADER, *rows], ())})
    assert ingest.import_file(store, "a.xlsx", data, "2018年核查").status == "loaded"
    store.close()
    at = _app(db, monkeypatch, "households")
    infos = [i.value for i in at.info]
    assert any("主要致贫原因" in x for x in infos), infos
    assert any("两不愁三保障" in c.value or "不愁吃穿" in c.value for c in at.caption)
    titles = [s.get("layout", {}).get("title", {}).get("text", "") for s in _specs(at)]
    assert not any("致贫原因" in x for x in titles)


# ------------------------------------------------------------------------- tables
def test_tables_show_empty_cells_and_plain_dates():
    frame = pd.DataFrame(
        {
            "name": ["a", None],
            "row": pd.array([4, None], dtype="Int64"),
            "day": pd.to_datetime(["2017-06-28", None]),
        }
    )
    shown = readable(frame)
    assert shown["name"].tolist() == ["a", ""]
    assert shown["row"].tolist() == [4, ""]
    assert shown["day"].tolist() == ["2017-06-28", ""]


def test_the_data_page_shows_no_none_and_no_midnight(demo_db, monkeypatch):
    at = _app(demo_db, monkeypatch, "data")
    text = " ".join(d.value.to_string() for d in at.dataframe)
    assert "00:00:00" not in text
    assert "None" not in text and "<NA>" not in text


def test_the_overview_heading_names_the_chosen_group(demo_db, monkeypatch):
    at = _app(demo_db, monkeypatch, round=CHECK, village="三合村", group="三合组")
    assert at.subheader[0].value.startswith("三合组")


def test_the_unit_table_fits_a_screen_and_the_rest_is_a_choice(demo_db, monkeypatch):
    at = _app(demo_db, monkeypatch, round=CHECK)
    table = at.get_by_key("box_overview_units").dataframe[0].value
    assert len(table.columns) <= 17  # township, village, 14 figures, notes
    assert "参会人次" not in table.columns
    at.multiselect(key="overview_more_columns").set_value(["meeting_attendance"]).run()
    table = at.get_by_key("box_overview_units").dataframe[0].value
    assert "参会人次" in table.columns


def test_a_name_written_as_html_is_not_a_link_in_a_chart():
    frame = pd.DataFrame({"village": ['<a href="http://x.invalid">点此</a>'], "a": [1]})
    fig = charts.stacked_bars(frame, "village", {"a": "<b>A</b>"}, "<i>t</i>", "村", "户")
    assert fig.data[0].x[0] == '&lt;a href="http://x.invalid">点此&lt;/a>'
    assert fig.data[0].name == "&lt;b>A&lt;/b>"
    assert fig.layout.title.text == "&lt;i>t&lt;/i>"


def test_the_anomaly_heat_map_colour_bar_ticks_whole_counts():
    # the trial: the colour bar ran 0, 0.2, 0.4 ... 1 for whole numbers of households
    counts = pd.DataFrame({"甲村": [1, 0], "乙村": [0, 1]}, index=["规则一", "规则二"])
    fig = charts.count_heatmap(counts, "行政村", "规则", "各规则异常数")
    bar = fig.data[0].colorbar
    assert bar.tickformat == ",d" and bar.dtick == 1
    assert fig.data[0].zmin == 0


def test_the_overviews_column_choice_has_a_chinese_placeholder(demo_db, monkeypatch):
    # the trial: Streamlit's own "Choose options" showed inside the Chinese page
    at = _app(demo_db, monkeypatch, round=CHECK)
    assert at.multiselect(key="overview_more_columns").placeholder == "选择要加入表格的指标"
