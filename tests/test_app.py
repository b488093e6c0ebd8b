"""AppTest: the dashboard opens on the demo township with the seed's figures, an upload
through the page changes them, and the English switch changes the labels."""

from __future__ import annotations

import io

import openpyxl
import pytest
from streamlit.testing.v1 import AppTest

from analytics.access import accounts
from analytics.store.database import default_path
from tests.signin import sign_in

TIMEOUT = 180


def _metric(at: AppTest, label: str) -> str:
    for m in at.metric:
        if m.label == label:
            return m.value
    raise AssertionError(f"no metric {label!r}; have {[m.label for m in at.metric]}")


@pytest.fixture
def app(tmp_path, monkeypatch) -> AppTest:
    monkeypatch.setenv("POVERTY_DB", str(tmp_path / "app.duckdb"))
    # Production hides error details (.streamlit/config.toml); a failing test shows them.
    monkeypatch.setenv("STREAMLIT_CLIENT_SHOW_ERROR_DETAILS", "full")
    at = AppTest.from_file("../app.py", default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, at.exception
    return at


def test_first_start_shows_the_years_picture_with_every_seed_figure(app):
    # No round chosen: each tile from the year's latest round that measured it, named.
    assert app.sidebar.selectbox(key="round").value is None
    assert _metric(app, "错评户") == "74 户 / 324 人"
    assert _metric(app, "错评率") == "5.23%"
    assert _metric(app, "错退率") == "0.06%"
    assert _metric(app, "漏评户") == "178 户 / 548 人"
    assert _metric(app, "搬迁户") == "13 户 / 54 人"
    assert _metric(app, "住房超标户") == "3 户 / 14 人"
    deltas = {m.label: m.delta for m in app.metric}
    assert deltas["错评户"] == "2017年精准核查"
    assert deltas["返贫户"] == "2017年动态管理"
    assert _metric(app, "拟退出户") == "7 户 / 32 人"
    assert _metric(app, "返贫户") == "11 户 / 47 人"
    assert _metric(app, "新增户") == "86 户 / 297 人"
    assert _metric(app, "贫情分析会议（场）") == "114 场 / 1,329 人次"
    villages = app.dataframe[0].value
    assert len(villages) == 14


def test_choosing_the_check_round_shows_its_seed_figures(app):
    app.sidebar.selectbox(key="round").select("2017年精准核查").run()
    assert not app.exception
    assert _metric(app, "错评户") == "74 户 / 324 人"
    assert _metric(app, "错评率") == "5.23%"
    assert _metric(app, "漏评户") == "178 户 / 548 人"
    assert _metric(app, "错退户") == "1 户 / 4 人"
    assert _metric(app, "错退率") == "0.06%"
    assert _metric(app, "返贫户") == "1 户 / 2 人"
    assert _metric(app, "搬迁户") == "13 户 / 54 人"
    assert _metric(app, "住房超标户") == "3 户 / 14 人"


def _small_workbook() -> bytes:
    """Two new households (5 persons) for 诗礼乡, title row naming the township."""
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["诗礼乡2017年补充调查表"])
    ws.append(
        [
            "行政村",
            "村民小组",
            "户编号",
            "户主姓名",
            "家庭人口数",
            "建档立卡状态",
            "动态管理结果",
            "人均纯收入",
        ]
    )
    ws.append(["诗礼村", "新组", "X-0001", "测甲", 2, "一般农户", "新增", 5200])
    ws.append(["诗礼村", "新组", "X-0002", "测乙", 3, "一般农户", "新增", "不详"])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def test_uploading_a_workbook_through_the_data_page_changes_the_figures(app):
    page = AppTest.from_file("../app.py", default_timeout=TIMEOUT)
    page.switch_page("views/data.py")
    sign_in(page, default_path(), accounts.User("boss", "admin"))  # uploads need an admin
    page.run()
    assert not page.exception
    page.get("file_uploader")[0].set_value(
        ("补充.xlsx", _small_workbook(), "application/octet-stream")
    ).run()
    assert not page.exception
    # the inspection shows the recognised sheet before anything is written
    assert any("待导入" in i.value for i in page.info), [i.value for i in page.info]
    frames = [d.value for d in page.dataframe]
    # the township came from the title, named with it; the income 不详 is reported at H4
    # (row 4, column H)
    sheets = next(f for f in frames if "乡镇来源" in f.columns)
    assert sheets["乡镇来源"].tolist() == ["诗礼乡（标题）"]
    problems = next(f for f in frames if "规则" in f.columns)
    assert problems[["行号", "列"]].values.tolist() == [[4, "H 人均纯收入"]]
    # into the demo's latest round (a first upload is offered a new round of its own)
    page.selectbox(key="upload_round_pick").select("2017年动态管理").run()
    page.button(key="upload_import").click().run()
    assert not page.exception
    assert any("已导入" in s.value for s in page.success), [s.value for s in page.success]
    batches = next(d.value for d in page.dataframe if "文件名" in d.value.columns)
    assert batches.iloc[0][["文件名", "数据表"]].tolist() == ["补充.xlsx", "户信息"]
    app.run()
    # 86 households / 297 persons in the demo round, plus the two new ones (2 + 3 persons).
    assert _metric(app, "新增户") == "88 户 / 302 人"


def test_english_switch_changes_the_labels(app):
    app.sidebar.radio(key="lang").set_value("en").run()
    assert not app.exception
    assert _metric(app, "Exit-proposed households") == "7 hh / 32 ppl"


def test_village_filter_narrows_the_headline_to_the_chosen_villages(app):
    app.sidebar.selectbox(key="round").select("2017年精准核查").run()
    app.multiselect(key="overview_more_columns").set_value(
        ["registered_households", "inclusion_error_households"]
    ).run()
    table = app.dataframe[0].value
    row = table[table["行政村"] == "三合村"].iloc[0]
    app.sidebar.multiselect(key="village").set_value(["三合村"]).run()
    assert not app.exception
    # the headline now equals 三合村's row of the per-village table
    assert _metric(app, "错评户") == f"{row['错评户']} 户 / {row['错评人数']} 人"
    assert _metric(app, "建档立卡户") == f"{row['建档立卡户']} 户 / {row['建档立卡人数']} 人"
    assert len(app.dataframe[0].value) == 1
