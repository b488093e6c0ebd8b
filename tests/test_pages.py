"""AppTest of every leaders' page: on the demo data each renders and shows the seed's
figures where they belong; on a tiny hand-counted township the filters change the figures
as counted; a link's query parameters restore the filters; English changes the labels."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from analytics.access import accounts
from analytics.fixtures.demo import load_demo
from analytics.importing import ingest
from analytics.store.database import Store
from tests.builders import meeting_row, relocation_row, survey_row, survey_workbook
from tests.signin import sign_in

TIMEOUT = 180
PAGES = ("dynamics", "households", "accuracy", "progress", "relocation", "meetings", "data")
CHECK = "2017年精准核查"


def _num(text: object) -> float:
    """A displayed number back to a float: "1,329" -> 1329, "5.23%" -> 5.23."""
    return float(str(text).replace(",", "").replace("%", ""))


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    store = Store(path)
    load_demo(store)
    store.close()
    return path


def _app(
    env: pytest.MonkeyPatch, db: Path, page: str | None = None, **params: str | list[str]
) -> AppTest:
    env.setenv("POVERTY_DB", str(db))
    env.setenv("STREAMLIT_CLIENT_SHOW_ERROR_DETAILS", "full")
    at = AppTest.from_file("../app.py", default_timeout=TIMEOUT)
    if page:
        at.switch_page(f"views/{page}.py")
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _set(at: AppTest, key: str, value: object) -> None:
    """Sets a sidebar filter (by its widget key) and reruns.

    AppTest drops the entrypoint's sidebar elements from its element tree after
    ``switch_page`` (the browser keeps them), so on other pages the widget's state is set
    through session state, which is what the widget itself would write.
    """
    at.session_state[key] = value
    at.run()
    assert not at.exception, [e.message for e in at.exception]


def _table(at: AppTest, key: str) -> pd.DataFrame:
    """The table drawn by ``ui.blocks.table_with_download(..., key)``; a chart's table
    (``ui.blocks.chart_and_table``) is drawn once its expander is opened, as a user does."""
    if f"table_{key}" in at.session_state and not at.session_state[f"table_{key}"]:
        at.session_state[f"table_{key}"] = True
        at.run()
        assert not at.exception, [e.message for e in at.exception]
    return at.get_by_key(f"box_{key}").dataframe[0].value


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_on_the_demo_without_an_exception(demo_db, page, monkeypatch):
    at = _app(monkeypatch, demo_db, page)
    _set(at, "round", CHECK)
    assert at.title[0].value


def test_dynamics_page_sums_to_the_seeds_adjustments(demo_db, monkeypatch):
    at = _app(monkeypatch, demo_db, "dynamics", basis="按户")
    table = _table(at, "dyn_units")
    assert table["拟退出户"].sum() == 7
    assert table["返贫户"].sum() == 11
    assert table["新增户"].sum() == 86
    _set(at, "basis", "persons")
    table = _table(at, "dyn_units")
    assert (table["拟退出人数"].sum(), table["返贫人数"].sum(), table["新增人数"].sum()) == (
        32,
        47,
        297,
    )
    flows = _table(at, "dyn_flows")
    assert flows.loc[flows["动态管理结果"] == "新增", "人数"].sum() == 297


def test_accuracy_page_shows_numerators_and_denominators_of_the_seed_rates(demo_db, monkeypatch):
    at = _app(monkeypatch, demo_db, "accuracy", round=CHECK, basis="按人")
    table = _table(at, "acc_inclusion_error_rate")
    num = next(c for c in table.columns if c.startswith("分子"))
    den = next(c for c in table.columns if c.startswith("分母"))
    assert table[num].map(_num).sum() == 324
    assert table[den].map(_num).sum() == 6195
    wrong = _table(at, "acc_wrongful_exit_rate")
    assert wrong[next(c for c in wrong.columns if c.startswith("分子"))].map(_num).sum() == 4
    # villages over the 2% ceiling are listed by name
    assert any("超过阈值的单位" in e.value for e in at.error)


def test_meetings_page_counts_the_seeds_114_sessions_and_1329_attendances(demo_db, monkeypatch):
    at = _app(monkeypatch, demo_db, "meetings")
    table = _table(at, "meet_units")
    assert table["贫情分析会议（场）"].sum() == 114
    assert table["参会人次"].sum() == 1329
    assert "乡级会议" in set(table["行政村"])


def test_relocation_page_shows_13_households_and_3_over_standard(demo_db, monkeypatch):
    at = _app(monkeypatch, demo_db, "relocation", round=CHECK)
    sites = _table(at, "rel_sites")
    assert (sites["户数"].sum(), sites["人数"].sum()) == (13, 54)
    # a visitor (leader) gets the over-standard figures per village, no household rows
    summary = _table(at, "rel_area")
    over = summary[summary["是否超标"] == "超标"]
    assert (over["户数"].sum(), over["人数"].sum()) == (3, 14)
    assert "户编号" not in summary.columns
    # an inspector gets each household against the standard
    at = _inspector(monkeypatch, demo_db, "relocation", round=CHECK)
    area = _table(at, "rel_area")
    over = area[area["是否超标"] == "超标"]
    assert (len(over), over["搬迁人口"].sum()) == (3, 14)
    assert set(over["整改措施"]) <= {"亲属共建", "共有产权", "待整改"}


def test_an_administrator_changes_a_ceiling_and_keeps_every_other_limit(tiny_db, monkeypatch):
    at = _inspector(monkeypatch, tiny_db, "data", user=accounts.User("boss", "admin"))
    at.number_input(key="set_inclusion_error_rate").set_value(5.0)
    at.number_input(key="set_outlier_z").set_value(3.0)
    submit = next(b for b in at.get("form_submit_button") if b.label == "保存")
    submit.click().run()
    assert not at.exception, [e.message for e in at.exception]
    s = Store(tiny_db)
    cfg = s.settings()
    s.close()
    assert cfg.rate_ceilings["inclusion_error_rate"] == 0.05
    assert cfg.outlier_z == 3.0
    assert cfg.completeness_min == 0.9 and cfg.rate_ceilings["wrongful_exit_rate"] == 0.02


def test_progress_and_households_pages_cover_every_surveyed_household(demo_db, monkeypatch):
    at = _app(monkeypatch, demo_db, "progress")
    assert _table(at, "prog_cumulative")["已调查户数"].sum() == 5802
    at = _app(monkeypatch, demo_db, "households")
    causes = _table(at, "hh_causes")
    assert causes.drop(columns=["行政村"]).to_numpy().sum() == 6195  # registered persons


# ---------------------------------------------------------------- a tiny township
# 甲村: 一组 H1 (3 persons, 已脱贫, 返贫), H2 (2, 非建档立卡, 新增); 二组 H3 (4, 未脱贫, 拟退出)
# 乙村: 一组 H4 (5, 非建档立卡, 新增), H5 (1, 已脱贫, 错退)
# meetings: 甲村一组 10 人次, 乙村 (village-level) 8 人次, township-level 20 人次
# relocation: H3 of 甲村, 4 persons, 120 m² (> 25 x 4 = 100: over standard)
@pytest.fixture(scope="module")
def tiny_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("tiny") / "tiny.duckdb"
    store = Store(path)
    data = survey_workbook(
        [
            survey_row("H1", "甲村", "一组", 3, "已脱贫", "返贫"),
            survey_row("H2", "甲村", "一组", 2, "非建档立卡", "新增"),
            survey_row("H3", "甲村", "二组", 4, "未脱贫", "拟退出"),
            survey_row("H4", "乙村", "一组", 5, "非建档立卡", "新增"),
            survey_row("H5", "乙村", "一组", 1, "已脱贫", None, "错退"),
        ],
        meetings=[
            meeting_row("甲村", "一组", 10),
            meeting_row("乙村", None, 8),
            meeting_row(None, None, 20),
        ],
        relocation=[relocation_row("H3", "甲村", "小湾", "集中安置", 4, 120)],
    )
    report = ingest.import_file(store, "tiny.xlsx", data, "2018年动态管理")
    assert report.status == "loaded", report.message
    store.close()
    return path


def test_village_filter_changes_the_headline_as_counted_by_hand(tiny_db, monkeypatch):
    at = _app(monkeypatch, tiny_db)
    metric = {m.label: m.value for m in at.metric}
    assert metric["新增户"] == "2 户 / 7 人"
    assert metric["贫情分析会议（场）"] == "3 场 / 38 人次"
    at.sidebar.multiselect(key="village").set_value(["甲村"]).run()
    metric = {m.label: m.value for m in at.metric}
    assert metric["新增户"] == "1 户 / 2 人"
    assert metric["返贫户"] == "1 户 / 3 人"
    assert metric["拟退出户"] == "1 户 / 4 人"
    assert metric["贫情分析会议（场）"] == "1 场 / 10 人次"  # township meeting left out
    assert metric["住房超标户"] == "1 户 / 4 人"


def test_group_filter_narrows_the_dynamics_table(tiny_db, monkeypatch):
    at = _app(monkeypatch, tiny_db, "dynamics", basis="按户")
    _set(at, "village", ["甲村"])
    _set(at, "group", ["二组"])
    table = _table(at, "dyn_units")
    assert table[["新增户", "返贫户", "拟退出户"]].sum().tolist() == [0, 0, 1]


def test_meetings_page_lists_groups_without_a_meeting(tiny_db, monkeypatch):
    at = _app(monkeypatch, tiny_db, "meetings")
    missing = _table(at, "meet_missing")
    # 甲村二组 and 乙村一组 have households but no group meeting (乙村's was village-level)
    assert sorted(zip(missing["行政村"], missing["村民小组"], strict=True)) == [
        ("乙村", "一组"),
        ("甲村", "二组"),
    ]


def test_a_link_with_query_parameters_restores_the_filters(demo_db, monkeypatch):
    at = _app(monkeypatch, demo_db, round=CHECK, village="三合村", basis="按户")
    assert at.sidebar.selectbox(key="round").value == CHECK
    assert at.sidebar.multiselect(key="village").value == ["三合村"]
    assert at.sidebar.radio(key="basis").value == "households"  # the default is persons
    assert at.subheader[0].value.startswith("三合村")
    table = _table(at, "overview_units")
    assert list(table["行政村"]) == ["三合村"]


def test_english_switch_changes_the_labels_on_a_page(demo_db, monkeypatch):
    at = _app(monkeypatch, demo_db, "meetings")
    _set(at, "lang", "en")
    assert at.title[0].value == "Meetings"
    table = _table(at, "meet_units")
    assert "Attendance" in table.columns


# ------------------------------------------------------------- drill-down, report
def _inspector(env: pytest.MonkeyPatch, db: Path, page: str, user=None, **state: object) -> AppTest:
    env.setenv("POVERTY_DB", str(db))
    at = AppTest.from_file("../app.py", default_timeout=TIMEOUT)
    at.switch_page(f"views/{page}.py")
    sign_in(at, db, user or accounts.User("li", "inspector"))
    for k, v in state.items():
        at.session_state[k] = v
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_drilldown_from_village_to_group_lands_on_exactly_the_counted_households(
    tiny_db, monkeypatch
):
    at = _inspector(monkeypatch, tiny_db, "drilldown", drill_family="new")
    # one township: the page opens at its villages; 甲村 has 1 new household, 乙村 1
    at.selectbox(key="drill_pick_village").select("甲村").run()
    at.selectbox(key="drill_pick_group").select("一组").run()
    assert not at.exception, [e.message for e in at.exception]
    rows = _table(at, "drill_list")
    assert rows["户编号"].tolist() == ["H2"]  # 甲村一组: H2 is the one 新增 household
    at.toggle(key="drill_only").set_value(False).run()
    assert sorted(_table(at, "drill_list")["户编号"]) == ["H1", "H2"]
    at.selectbox(key="drill_pick_household").select("H1").run()
    history = _table(at, "drill_history")
    assert history["批次"].tolist() == ["2018年动态管理"]
    assert history["动态管理结果"].tolist() == ["返贫"]
    # the breadcrumb goes back up to the village list
    at.button(key="crumb_1").click().run()
    assert at.selectbox(key="drill_pick_village") is not None


def test_search_by_household_id_opens_that_household(tiny_db, monkeypatch):
    at = _inspector(monkeypatch, tiny_db, "drilldown")
    at.text_input(key="drill_search").input("H5").run()
    found = [d.value for d in at.dataframe if "户编号" in d.value.columns]
    assert found and found[0]["户编号"].tolist() == ["H5"]


def test_anomaly_page_lists_each_flagged_household_once_with_its_rules(demo_db, monkeypatch):
    at = _inspector(monkeypatch, demo_db, "anomalies", round=CHECK)
    households = _table(at, "anom_households")
    flagged = _table(at, "anom_summary")
    assert len(households) > 0 and len(flagged) > 0
    assert households["户编号"].is_unique


def test_overview_writes_the_situation_report_with_the_seed_figures(demo_db, monkeypatch):
    at = _app(monkeypatch, demo_db, round=CHECK)
    at.button(key="make_report").click().run()
    assert not at.exception, [e.message for e in at.exception]
    preview = "\n".join(m.value for m in at.markdown)
    assert "错评户74户324人" in preview and "错退率0.06%" in preview
    assert at.get("download_button")


# ------------------------------------------------------------------- a county
@pytest.fixture(scope="module")
def county_db(tmp_path_factory) -> Path:
    """Two townships: 甲乡 (甲村: H1 3 persons 新增, H2 2 persons) and 乙乡 (乙村: H3 4
    persons 新增, H4 1 person 返贫)."""
    path = tmp_path_factory.mktemp("county") / "county.duckdb"
    store = Store(path)
    data = survey_workbook(
        [
            survey_row("H1", "甲村", "一组", 3, "非建档立卡", "新增", township="甲乡"),
            survey_row("H2", "甲村", "一组", 2, "已脱贫", township="甲乡"),
            survey_row("H3", "乙村", "一组", 4, "非建档立卡", "新增", township="乙乡"),
            survey_row("H4", "乙村", "二组", 1, "已脱贫", "返贫", township="乙乡"),
        ]
    )
    assert ingest.import_file(store, "county.xlsx", data, "2018年动态管理").status == "loaded"
    store.close()
    return path


def test_a_county_is_compared_township_by_township_and_drills_down_to_villages(
    county_db, monkeypatch
):
    at = _app(monkeypatch, county_db)
    metric = {m.label: m.value for m in at.metric}
    assert metric["新增户"] == "2 户 / 7 人"  # county totals: H1 + H3
    assert at.subheader[0].value.startswith("乙乡、甲乡")  # code-point order, as the table
    table = _table(at, "overview_units")
    assert table["乡镇"].tolist() == ["乙乡", "甲乡"]
    assert "行政村" not in table.columns
    at.sidebar.multiselect(key="township").set_value(["乙乡"]).run()
    metric = {m.label: m.value for m in at.metric}
    assert metric["新增户"] == "1 户 / 4 人"
    assert metric["返贫户"] == "1 户 / 1 人"
    assert _table(at, "overview_units")["行政村"].tolist() == ["乙村"]


def test_drilldown_counts_only_the_group_chosen_in_the_sidebar(tiny_db, monkeypatch):
    # the trial: with 青山村 / 上寨组 chosen, the page drew the whole village (20, not 10)
    monkeypatch.setenv("POVERTY_DB", str(tiny_db))
    at = AppTest.from_file("../app.py", default_timeout=TIMEOUT)
    at.switch_page("views/drilldown.py")
    sign_in(at, tiny_db, accounts.User("li", "inspector"))
    at.query_params["village"] = "甲村"
    at.query_params["group"] = "一组"
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    # 甲村 一组: H1 and H2 (H3 is in 二组)
    shown = at.get_by_key("drill_table_village").value
    assert shown.iloc[:, -1].tolist() == [2]
    at.selectbox(key="drill_pick_village").select("甲村").run()
    assert at.get_by_key("drill_table_group").value.iloc[:, 0].tolist() == ["一组"]


def test_a_charts_table_is_sent_only_once_its_expander_is_opened(demo_db, monkeypatch):
    """A closed 数据表 expander holds no table and no downloads (a page switch does not pay
    for them); opening it draws the chart's own figures."""
    at = _app(monkeypatch, demo_db, "dynamics", basis="按户")
    with pytest.raises(KeyError):
        at.get_by_key("box_dyn_units")
    assert not [b for b in at.get("download_button") if b.key == "csv_dyn_units"]
    assert _table(at, "dyn_units")["新增户"].sum() == 86
