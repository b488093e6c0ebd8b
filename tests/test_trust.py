"""What a county official signs: no silent zeros, no silent round switch, no comparison with
another township's figures (AppTest of the pages, and the analytics behind them).

The 青山乡 workbook of these tests is the kind a new user brings: 3 households whose
relocation sheet heads its persons column 搬迁人口数.
"""

from __future__ import annotations

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from analytics.access import accounts
from analytics.figures import metrics, queries
from analytics.fixtures.demo import load_demo
from analytics.importing import ingest
from analytics.store.database import Store
from tests.builders import SURVEY_HEADER, survey_row, workbook_bytes
from tests.signin import sign_in

TIMEOUT = 180
QINGSHAN = "2018年动态管理"
CHECK, DYNAMICS = "2017年精准核查", "2017年动态管理"
RELOCATION_ODD = (
    "乡镇",
    "户编号",
    "户主",
    "迁出村",
    "安置点",
    "安置方式",
    "搬迁人口数",
    "住房面积",
)


def qingshan() -> bytes:
    households = [
        survey_row(h, "青山村", "一组", 2, "未脱贫", township="青山乡") for h in ("Q1", "Q2", "Q3")
    ]
    relocated = [
        ["青山乡", h, f"户主{h}", "青山村", "青山安置点", "集中安置", 2, area]
        for h, area in (("Q1", 40), ("Q2", 60), ("Q3", 50))
    ]
    return workbook_bytes(
        {
            "户信息": ([SURVEY_HEADER, *households], ()),
            "易地扶贫搬迁": ([RELOCATION_ODD, *relocated], ()),
        }
    )


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("trust") / "demo.duckdb"
    store = Store(path)
    load_demo(store)
    store.close()
    return path


def _app(db, monkeypatch, page: str | None = None, user=None, **params) -> AppTest:
    monkeypatch.setenv("POVERTY_DB", str(db))
    monkeypatch.setenv("STREAMLIT_CLIENT_SHOW_ERROR_DETAILS", "full")
    at = AppTest.from_file("../app.py", default_timeout=TIMEOUT)
    if page:
        at.switch_page(f"views/{page}.py")
    if user:
        sign_in(at, db, user)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _metric(at: AppTest, label: str):
    return next(m for m in at.metric if m.label == label)


# ------------------------------------------------------------- unknown column, end to end
def test_an_administrator_confirms_the_proposed_column_at_upload_and_loads_six_persons(
    tmp_path, monkeypatch
):
    db = tmp_path / "q.duckdb"
    Store(db).close()
    at = _app(db, monkeypatch, "data", user=accounts.User("boss", "admin"))
    at.get("file_uploader")[0].set_value(("青山乡.xlsx", qingshan(), "application/octet-stream"))
    at.run()
    assert not at.exception
    frames = [d.value for d in at.dataframe]
    problems = next(f for f in frames if "规则" in f.columns)
    assert "E_NO_COLUMN" in problems["规则"].tolist()
    box = at.checkbox(key="proposal_0")
    assert "搬迁人口数" in box.label and "搬迁人口" in box.label
    box.check()
    at.button(key="FormSubmitter:proposals_form-确认所选对应并重新检查").click().run()
    assert not at.exception
    frames = [d.value for d in at.dataframe]
    problems = [f for f in frames if "规则" in f.columns]
    assert not problems or "E_NO_COLUMN" not in problems[0]["规则"].tolist()
    at.selectbox(key="upload_round_pick").select("＋ 新建批次").run()
    at.text_input(key="upload_round_new").input(QINGSHAN).run()
    at.button(key="upload_import").click().run()
    assert any("已导入" in s.value for s in at.success), [s.value for s in at.success]
    store = Store(db)
    try:
        county = queries.metrics_frame(store, QINGSHAN, "county").iloc[0]
        assert (county["relocated_households"], county["relocated_persons"]) == (3, 6)
        actions = accounts.audit_log(store)["action"].tolist()
        assert "confirm_spelling" in actions
    finally:
        store.close()


def test_a_tile_without_its_table_shows_a_dash_and_why(demo_db, monkeypatch):
    at = _app(demo_db, monkeypatch, round=DYNAMICS)
    tile = _metric(at, "搬迁户")
    assert tile.value == "—"
    assert tile.delta == "本批次未导入易地扶贫搬迁数据（无此表或各行均未通过校验）"
    rate = _metric(at, "错评率")
    assert rate.value == "—" and "未核查" in rate.delta


# ------------------------------------------------------------------ rounds and comparisons
def test_a_page_without_its_data_in_the_round_names_the_round_that_has_it(demo_db, monkeypatch):
    at = _app(demo_db, monkeypatch, "relocation", round=DYNAMICS)
    assert any("没有易地扶贫搬迁数据" in i.value for i in at.info), [i.value for i in at.info]
    buttons = [b for b in at.button if b.label == CHECK]
    assert len(buttons) == 1
    buttons[0].click().run()
    assert not at.exception
    assert at.session_state["round"] == CHECK
    assert not any("没有易地扶贫搬迁数据" in i.value for i in at.info)


def test_a_round_of_another_township_is_never_offered_for_comparison(tmp_path, monkeypatch):
    db = tmp_path / "two.duckdb"
    store = Store(db)
    load_demo(store)
    assert ingest.import_file(store, "q.xlsx", qingshan(), QINGSHAN, allow_partial=True).status
    store.close()
    at = _app(db, monkeypatch, round=QINGSHAN)
    assert not [w for w in at.sidebar.selectbox if w.key == "compare"]
    assert any("无法对比" in c.value for c in at.sidebar.caption)
    # the demo's rounds share 诗礼乡: each offers the other
    at = _app(db, monkeypatch, round=CHECK)
    assert at.sidebar.selectbox(key="compare").options == [DYNAMICS]


def _units(rows: list[tuple[str, str, int]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["township", "village", "households_total"])
    for c in metrics.METRIC_KEYS:
        if c not in frame:
            frame[c] = 0 if c in metrics.COUNT_KEYS else float("nan")
    return frame


def test_a_comparison_subtracts_only_units_both_rounds_hold():
    now = _units([("青山乡", "青山村", 60), ("诗礼乡", "三合村", 429)])
    before = _units([("诗礼乡", "三合村", 400), ("诗礼乡", "孔兴村", 350)])
    keys = ["township", "village"]
    change = metrics.compare(now, before, keys)
    assert change[[*keys, "households_total"]].values.tolist() == [["诗礼乡", "三合村", 29]]
    only_now, only_before = metrics.unmatched(now, before, keys)
    assert only_now == [("青山乡", "青山村")]
    assert only_before == [("诗礼乡", "孔兴村")]


def test_totals_compared_between_two_rounds_cover_the_shared_villages_only(tmp_path):
    store = Store(tmp_path / "s.duckdb")
    a = [survey_row("A1", "甲村", "一组", 3), survey_row("B1", "乙村", "一组", 4)]
    b = [survey_row("A1", "甲村", "一组", 3), survey_row("C1", "丙村", "一组", 5)]
    for name, rows, round_name in (("a.xlsx", a, "R1"), ("b.xlsx", b, "R2")):
        data = workbook_bytes({"户信息": ([SURVEY_HEADER, *rows], ())})
        assert ingest.import_file(store, name, data, round_name).status == "loaded"
    shared = queries.shared_area(store, "R1", "R2", metrics.Filters("R1"))
    assert shared.narrowed and shared.villages == ("甲村",)
    totals = queries.metrics_frame(store, "R2", "county", villages=shared.villages)
    assert totals["persons_total"].iloc[0] == 3  # 甲村's A1 only, not 丙村's 5
    store.close()


# ------------------------------------------------------------------------- roles
def test_a_signed_in_inspector_is_told_the_role_it_lacks_not_to_sign_in(demo_db, monkeypatch):
    at = _app(demo_db, monkeypatch, "data", user=accounts.User("li", "inspector"))
    texts = [i.value for i in at.info]
    assert "上传数据需要管理员账号。您的角色是核查人员，没有此权限。" in texts
    assert not any("请登录" in x for x in texts)


def test_the_audit_log_is_in_words(demo_db, monkeypatch, tmp_path):
    store = Store(tmp_path / "a.duckdb")
    accounts.create_user(store, "boss", "long enough", "admin")
    frame = accounts.readable_audit(accounts.audit_log(store))
    assert frame["action"].tolist() == ["创建账号"]
    assert frame["detail"].iloc[0] == "用户名：boss；角色：管理员"
    store.close()


def test_audit_details_that_are_codes_are_in_words_and_times_in_whole_seconds(tmp_path):
    # the trial found "client：local", operator "visitor", "统计口径=persons", "字段：persons",
    # "title", "partial" and times with microseconds in the audit log and its CSV
    store = Store(tmp_path / "a.duckdb")
    with store.write() as cur:
        accounts.log(cur, "", "login", {"client": "local"})
        accounts.log(cur, "li", "export", {"filters": {"basis": "persons", "round": "R"}})
        accounts.log(cur, "li", "confirm_spelling", {"header": "搬迁人口数", "field": "persons"})
        accounts.log(cur, "li", "import", {"status": "partial", "title": "青山乡"})
    frame = accounts.readable_audit(accounts.audit_log(store)).iloc[::-1]
    assert frame["detail"].tolist() == [
        "来源：本机",
        "筛选：统计口径=按人；批次=R",
        "列名：搬迁人口数；字段：搬迁人口",
        "状态：部分导入；标题：青山乡",
    ]
    assert frame["actor"].iloc[0] == "访客（未登录）"
    assert all(ts.microsecond == 0 for ts in frame["logged_at"])
    store.close()


def test_the_first_upload_goes_to_a_new_round_not_into_the_demos(demo_db, monkeypatch):
    # the trial: 导入到批次 offered the demo's 2017年动态管理 first; a new office's 2018
    # file would have joined the demo round unless the clerk noticed
    at = _app(demo_db, monkeypatch, "data", user=accounts.User("boss", "admin"))
    assert at.selectbox(key="upload_round_pick").value == "＋ 新建批次"


def test_a_round_without_findings_is_said_to_lack_findings_not_its_households(demo_db, monkeypatch):
    # the trial: 精准识别 on 2017年动态管理 said the round had no 户信息、核查结论 data; it
    # holds 5,802 households and lacks only the findings
    at = _app(demo_db, monkeypatch, "accuracy", round=DYNAMICS)
    texts = [i.value for i in at.info]
    assert "批次“2017年动态管理”没有核查结论数据。" in texts, texts
