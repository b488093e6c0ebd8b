"""User journeys in a real browser (Chromium) against a real ``streamlit run app.py``.

The tests run in file order on one server: the demo first, then the first administrator
and an upload that changes the figures, then roles. They wait on what appears
(Playwright's ``expect``), never on sleeps, and find elements by their labels.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import new_context, rerun, settle, shot

ADMIN, ADMIN_PW = "boss", "long enough pw"
LEADER, LEADER_PW = "lingdao", "leader password"
PAGES = (
    "overview",
    "dynamics",
    "households",
    "accuracy",
    "progress",
    "relocation",
    "meetings",
    "drilldown",
    "anomalies",
    "data",
)


def metric(page: Page, label: str):
    """The metric tile whose label is ``label`` exactly."""
    return page.get_by_test_id("stMetric").filter(
        has=page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True)
    )


def open_page(page: Page, title: str) -> None:
    """Goes to a page through the sidebar navigation (keeps the session and sign-in) and
    waits until the page's run has finished."""
    with rerun(page):
        page.get_by_test_id("stSidebarNavLink").filter(has_text=title).click()
    expect(page.get_by_role("heading", name=title, exact=True)).to_be_visible()


def choose(scope, label: str, option: str, *, in_form: bool = False) -> None:
    """Picks ``option`` in the selectbox labelled ``label`` (typing it, as a user can) and
    waits until the run the choice makes has finished; a choice ``in_form`` makes no run
    (the form's button sends it)."""
    box = scope.get_by_role("combobox", name=label, exact=True)

    def pick() -> None:
        box.click()
        box.fill(option)
        box.press("Enter")
        # the box shows the choice at once, in the browser: proof of nothing on the server
        expect(box).to_have_value(re.compile("^" + re.escape(option)))

    if in_form:
        pick()
    else:
        with rerun(box.page):
            pick()


def pick_once(scope, label: str, option: str) -> None:
    """``choose`` unless the selectbox already shows ``option`` (choosing the shown option
    again makes no run to wait for)."""
    box = scope.get_by_role("combobox", name=label, exact=True)
    expect(box).to_be_visible()
    if not box.input_value().startswith(option):
        choose(scope, label, option)


# The bars of a Plotly chart, once Plotly has drawn the figure for the width
# the chart has now (Streamlit draws it again when its column's width changes) and bound
# its click layer: each bar's category and box in the viewport.
_BARS = """(chart) => {
  const layout = chart._fullLayout;
  const holder = chart.closest("[data-testid='stPlotlyChart']");
  if (!layout || !chart._fullData || !holder || !chart.querySelector(".nsewdrag")) return null;
  if (Math.abs(layout.width - holder.getBoundingClientRect().width) > 1) return null;
  const bars = [...chart.querySelectorAll(".trace.bars .point")];
  if (!bars.length) return null;
  return bars.map((bar) => {
    const trace = bar.closest(".trace").__data__[0].trace;
    const box = bar.getBoundingClientRect();
    return {
      x: String(trace.x[bar.__data__.i]),
      left: box.left, top: box.top, width: box.width, height: box.height,
    };
  });
}"""


def plotted_bars(page: Page, key: str) -> list[dict]:
    """The bars of the Plotly chart keyed ``key`` (a new key is a new chart, never the one
    it replaces), as drawn now that the page has settled: ``x`` (the category) and the box
    in the viewport (``left``, ``top``, ``width``, ``height``, CSS pixels)."""
    settle(page)
    chart = page.locator(f".st-key-{key} .js-plotly-plot")
    chart.scroll_into_view_if_needed()
    return page.wait_for_function(_BARS, arg=chart.element_handle()).json_value()


def click_bar(page: Page, bar: dict) -> None:
    """Clicks where ``bar`` is drawn (a user's click lands on Plotly's drag layer above
    the bar, not on the bar's element) and waits for the runs the selection makes."""
    with rerun(page):
        page.mouse.click(bar["left"] + bar["width"] / 2, bar["top"] + bar["height"] / 2)


def sidebar_select(page: Page, label: str, option: str) -> None:
    """Picks ``option`` in the sidebar selectbox labelled ``label``."""
    choose(page.get_by_test_id("stSidebar"), label, option)


def sign_in(page: Page, user: str, password: str) -> None:
    """Signs in through the sidebar form; the sign-in reloads the page (the cookie's
    redirect), so it waits for the new page's first run, not for a rerun."""
    settle(page)
    side = page.get_by_test_id("stSidebar")
    side.get_by_text("登录", exact=True).first.click()
    side.get_by_label("用户名").fill(user)
    side.get_by_label("密码").fill(password)
    side.get_by_role("button", name="登录").click()
    expect(side.get_by_text(f"已登录：{user}")).to_be_visible()
    settle(page)


def as_admin(page: Page, server: str, setup_token: str) -> None:
    """Opens the data page as the administrator: created through the first-run form (with
    the setup token the server printed) when the database has no account yet, else signed
    in through the sidebar."""
    page.goto(f"{server}/data")
    first = page.get_by_role("heading", name="首次使用：创建管理员账号")
    signed_out = page.get_by_test_id("stSidebar").get_by_text("未登录", exact=False)
    expect(first.or_(signed_out).first).to_be_visible()
    expect(page.get_by_role("heading", name="阈值与贫困线设置")).to_be_visible()
    settle(page)  # the page's run has finished: whether it drew the first-run form is final
    if first.count():
        form = page.get_by_test_id("stForm").filter(has_text="创建")
        form.get_by_label("一次性设置口令").fill(setup_token)
        form.get_by_label("用户名").fill(ADMIN)
        form.get_by_label("密码").fill(ADMIN_PW)
        form.get_by_role("button", name="创建").click()
        # the account signs in through the cookie's redirect: a new page, then its run
        expect(page.get_by_test_id("stSidebar").get_by_text(f"已登录：{ADMIN}")).to_be_visible()
        settle(page)
    else:
        sign_in(page, ADMIN, ADMIN_PW)


def messy_workbook(path: Path) -> Path:
    """Title row, merged village cells, a totals row, a signature line and one bad row.

    Valid: X-1 (2 persons) and X-2 (3 persons), both 新增 non-registered households of
    诗礼村; bad: X-3 with household size 0.
    """
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "户信息"
    ws.append(["凤庆县诗礼乡2017年补充调查户信息表"])
    ws.merge_cells("A1:G1")
    ws.append(["填报单位：诗礼乡人民政府"])
    ws.append(["行政村", "村民小组", "户编号", "户主姓名", "人口数", "户类型", "动态调整"])
    ws.append(["诗礼村", "补充组", "X-1", "测甲", 2, "一般农户", "新增"])
    ws.append([None, "补充组", "X-2", "测乙", "3", "一般农户", "新增"])
    ws.append([None, "补充组", "X-3", "测丙", 0, "一般农户", "新增"])
    ws.merge_cells("A4:A6")
    ws.append(["合计", None, 3, None, 5, None, None])
    ws.append(["审核人：某某    填表人：某某"])
    book.save(path)
    return path


def test_a_new_user_sees_the_demo_townships_seed_figures(server, page):
    page.goto(server)
    expect(page.get_by_role("heading", name="贫困对象动态管理分析")).to_be_visible()
    # no round chosen: the year's picture, each figure from the round that measured it
    expect(metric(page, "错评户")).to_contain_text("74 户 / 324 人")
    expect(metric(page, "错评户")).to_contain_text("2017年精准核查")
    expect(metric(page, "拟退出户")).to_contain_text("7 户 / 32 人")
    expect(metric(page, "拟退出户")).to_contain_text("2017年动态管理")
    expect(metric(page, "返贫户")).to_contain_text("11 户 / 47 人")
    expect(metric(page, "新增户")).to_contain_text("86 户 / 297 人")
    expect(metric(page, "贫情分析会议（场）")).to_contain_text("114 场 / 1,329 人次")
    sidebar_select(page, "批次", "2017年精准核查")
    expect(metric(page, "错评户")).to_contain_text("74 户 / 324 人")
    expect(metric(page, "错评率")).to_contain_text("5.23%")
    expect(metric(page, "错退率")).to_contain_text("0.06%")
    expect(page).to_have_url(re.compile("round=2017"))
    shot(page, "overview")


def test_screenshots_of_every_main_page(server, page):
    for name in PAGES:
        page.goto(f"{server}/{name}" if name != "overview" else server)
        expect(
            page.get_by_test_id("stMainBlockContainer").get_by_role("heading").first
        ).to_be_visible()
        expect(page.get_by_role("combobox", name="批次", exact=True)).to_be_visible()
        settle(page)  # the picture shows the page drawn, and no run is cut by the next goto
        shot(page, name)


def test_first_admin_uploads_a_messy_workbook_and_the_figures_change(
    server, page, tmp_path, setup_token
):
    page.goto(f"{server}/data")
    expect(page.get_by_role("heading", name="首次使用：创建管理员账号")).to_be_visible()
    as_admin(page, server, setup_token)

    with rerun(page):  # the upload, then the run that inspects the file
        page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(
            str(messy_workbook(tmp_path / "补充调查.xlsx"))
        )
    # the row report names the bad row before anything is written
    expect(page.get_by_text("补充调查.xlsx").first).to_be_visible()
    expect(page.get_by_text("行报告").first).to_be_visible()
    report = page.get_by_test_id("stDataFrame").filter(has_text="E_POSITIVE_INT")
    expect(report.first).to_be_attached()
    # beside the township and date boxes: what the file says of both, and where from
    expect(page.get_by_text("补充调查.xlsx · 户信息：乡镇“诗礼乡”（来源：标题）")).to_be_visible()
    expect(page.get_by_text("补充调查.xlsx：文件未写明数据日期", exact=False)).to_be_visible()
    with rerun(page):
        page.get_by_text("仅导入有效行（错误行隔离保存）").click()
    # into the demo's latest round (a first upload is offered a new round of its own)
    pick_once(page, "导入到批次", "2017年动态管理")
    with rerun(page):
        page.get_by_role("button", name="导入", exact=True).click()
    expect(page.get_by_text(re.compile("部分导入.*1 行有错误已隔离"))).to_be_visible()
    shot(page, "data_after_upload")

    page.goto(server)
    expect(metric(page, "新增户")).to_contain_text("88 户 / 302 人")


def test_clicking_a_village_bar_lands_on_its_households(server, page, setup_token):
    as_admin(page, server, setup_token)
    # in-app navigation keeps the Streamlit session; a typed URL starts a new one (the
    # cookie keeps the sign-in, but the sidebar filters would start over)
    open_page(page, "核查钻取")
    sidebar_select(page, "批次", "2017年精准核查")
    choose(page, "按指标钻取", "错评户")
    expect(page.get_by_role("heading", name="核查钻取")).to_be_visible()
    bars = plotted_bars(page, "drill_chart_village")
    assert bars[0]["x"] == "三合村"  # the first village in name order
    click_bar(page, bars[0])
    crumb = page.get_by_role("button", name=re.compile("› 三合村"))
    expect(crumb).to_be_visible()
    expect(page.get_by_role("combobox", name="进入村民小组", exact=True)).to_be_visible()
    # now one bar per group of 三合村: click the first group that has any 错评 household
    click_bar(page, next(b for b in plotted_bars(page, "drill_chart_group") if b["height"] > 1))
    expect(page.get_by_text(re.compile(r"共 [1-9]\d* 户"))).to_be_visible()
    shot(page, "drilldown_households")


def test_a_downloaded_table_matches_the_screen(server, page):
    page.goto(f"{server}/?round=2017年精准核查&village=三合村")
    tile = metric(page, "错评户")
    expect(tile).to_contain_text("户 /")
    settle(page)  # the download buttons below the tile are bound to this run's files
    persons = re.search(r"([\d,]+) 人", tile.inner_text()).group(1).replace(",", "")
    with rerun(page), page.expect_download() as info:  # the click's callback reruns
        page.get_by_role("button", name="下载 CSV").first.click()
    data = Path(info.value.path()).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert [r["行政村"] for r in rows] == ["三合村"]
    assert rows[0]["错评人数"] == persons  # a number, without separators


def test_a_download_is_written_to_the_audit_log(server, page, setup_token):
    # The files are built when clicked (deferred); the click must still be audited.
    as_admin(page, server, setup_token)

    def audit_log() -> list[dict[str, str]]:
        # the click's callback writes the audit line in the run the click makes
        with rerun(page), page.expect_download() as info:
            page.locator(".st-key-csv_audit button").click()
        data = Path(info.value.path()).read_bytes().decode("utf-8-sig")
        return list(csv.DictReader(io.StringIO(data)))

    def exports(rows: list[dict[str, str]]) -> list[dict[str, str]]:
        return [r for r in rows if r["操作"] == "下载表格"]  # the action "export", in words

    before = exports(audit_log())  # this click is audited after the file has started
    # Away and back: the page is drawn again after the click's own rerun.
    open_page(page, "精准识别")
    open_page(page, "数据导入")
    after = exports(audit_log())
    assert len(after) == len(before) + 1
    assert "审计日志" in " ".join(after[0].values())  # newest first


def test_filters_persist_from_page_to_page(server, page):
    page.goto(server)
    sidebar_select(page, "批次", "2017年精准核查")
    side = page.get_by_test_id("stSidebar")
    village = side.get_by_role("combobox", name="行政村", exact=True)
    with rerun(page):
        village.click()
        village.fill("三合村")
        village.press("Enter")
    expect(page).to_have_url(re.compile("village="))
    open_page(page, "精准识别")
    expect(side.get_by_role("combobox", name="批次", exact=True)).to_have_value(
        re.compile("^2017年精准核查")
    )
    expect(side.get_by_test_id("stMultiSelect").get_by_text("三合村")).to_be_visible()
    expect(page).to_have_url(re.compile("accuracy.*round=2017"))


def test_switching_to_english(server, page):
    page.goto(server)
    expect(page.get_by_role("heading", name="贫困对象动态管理分析")).to_be_visible()
    with rerun(page):
        page.get_by_test_id("stSidebar").get_by_text("English", exact=True).click()
    expect(page.get_by_role("heading", name="Poverty-target dynamic management")).to_be_visible()
    expect(metric(page, "Exit-proposed households")).to_contain_text("7 hh / 32 ppl")
    expect(page).to_have_url(re.compile("lang=English"))


def test_a_leader_account_cannot_see_household_rows(server, page, browser, setup_token):
    as_admin(page, server, setup_token)
    form = page.get_by_test_id("stForm").filter(has_text="添加用户")
    form.get_by_label("用户名").fill(LEADER)
    form.get_by_label("密码").fill(LEADER_PW)
    choose(form, "角色", "领导", in_form=True)
    with rerun(page):
        form.get_by_role("button", name="创建").click()
    expect(page.get_by_text(f"已创建账号 {LEADER}。")).to_be_visible()

    leader = new_context(browser).new_page()
    leader.goto(server)
    sign_in(leader, LEADER, LEADER_PW)
    expect(leader.get_by_text("已登录：lingdao（领导）")).to_be_visible()
    open_page(leader, "核查钻取")
    choose(leader, "进入行政村", "三合村")
    choose(leader, "进入村民小组", "三合组")
    # the run has finished (``choose``): what it did not draw is not coming
    expect(
        leader.get_by_text("户级明细仅对核查人员和管理员开放。您的角色是领导，没有此权限。")
    ).to_be_visible()
    expect(leader.get_by_text(re.compile(r"共 \d+ 户"))).to_have_count(0)
    expect(leader.get_by_label("搜索户")).to_have_count(0)
    shot(leader, "leader_no_households")
    leader.context.close()


@pytest.fixture(autouse=True)
def _no_console_errors(page):
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield
    assert not errors, errors
