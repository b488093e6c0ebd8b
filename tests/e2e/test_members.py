"""A household's members in a real browser (issue 14): masked for an inspector (names and
ID numbers masked, the birth year and age, never the full birth date), whole for an
administrator who unmasks; a member's own record; the persons breakdown of 贫困户情况.

The demo's household 5309211030050387 (三合村 三合组, eight members in every round) is
opened through the drill-down's pickers as a user does. What the administrator's unmasked
download holds is the oracle of what the inspector's masked one must (and must not) show.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.conftest import new_context, rerun, shot
from tests.e2e.test_journeys import as_admin, choose, open_page, sign_in

HID = "5309211030050387"
INSPECTOR, INSPECTOR_PW = "hecha", "inspector password"


def _download(page: Page, key: str) -> list[dict[str, str]]:
    """The CSV download of the table keyed ``key`` (``ui.blocks.table_with_download``)."""
    with rerun(page), page.expect_download() as info:  # the click's callback reruns
        page.locator(f".st-key-csv_{key} button").click()
    data = Path(info.value.path()).read_bytes().decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(data)))


def _open_household(page: Page) -> None:
    """核查钻取 -> 三合村 -> 三合组 -> every household of the group -> ``HID``."""
    open_page(page, "核查钻取")
    choose(page, "进入行政村", "三合村")
    choose(page, "进入村民小组", "三合组")
    with rerun(page):  # every household of the group, not only those a figure counts
        page.get_by_text(re.compile("^只显示计入")).click()
    choose(page, "查看户", HID)
    expect(page.get_by_role("heading", name=f"户 {HID}", exact=True)).to_be_visible()
    expect(page.locator(".st-key-box_drill_members")).to_be_visible()


def _inspector(browser, server: str, admin: Page) -> Page:
    """A new browser signed in as an inspector the administrator creates (once)."""
    form = admin.get_by_test_id("stForm").filter(has_text="添加用户")
    form.get_by_label("用户名").fill(INSPECTOR)
    form.get_by_label("密码").fill(INSPECTOR_PW)
    choose(form, "角色", "核查人员", in_form=True)
    with rerun(admin):
        form.get_by_role("button", name="创建").click()
    expect(admin.get_by_text(f"已创建账号 {INSPECTOR}。")).to_be_visible()
    page = new_context(browser, accept_downloads=True).new_page()
    page.goto(server)
    sign_in(page, INSPECTOR, INSPECTOR_PW)
    expect(page.get_by_text(f"已登录：{INSPECTOR}（核查人员）")).to_be_visible()
    return page


def test_members_masked_for_an_inspector_and_whole_for_an_administrator_who_unmasks(
    server, page, browser, setup_token
):
    as_admin(page, server, setup_token)
    inspector = _inspector(browser, server, page)
    with rerun(page):
        page.get_by_test_id("stSidebar").get_by_text(
            "显示完整姓名和身份证号（记入审计日志）"
        ).click()
    _open_household(page)
    whole = _download(page, "drill_members")
    assert len(whole) == 8
    for r in whole:
        assert re.fullmatch(r"\d{17}[\dX]", r["证件号码"]), r
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", r["出生日期"][:10]), r
    box = page.locator(".st-key-box_drill_members")
    expect(box).to_contain_text(whole[0]["证件号码"])
    shot(page, "members_unmasked")

    _open_household(inspector)
    masked = _download(inspector, "drill_members")
    assert "出生日期" not in masked[0]
    assert [r["人编号"] for r in masked] == [r["人编号"] for r in whole]
    for m, w in zip(masked, whole, strict=True):
        assert m["姓名"] == w["姓名"][0] + "*" * (len(w["姓名"]) - 1)
        assert m["证件号码"] == w["证件号码"][:6] + "*" * 11 + w["证件号码"][-1]
        assert m["出生年份"] == w["出生日期"][:4]
        assert m["年龄（岁）"] == w["年龄（岁）"]
    box = inspector.locator(".st-key-box_drill_members")
    expect(box).to_contain_text(masked[0]["证件号码"])
    for w in whole:
        expect(inspector.get_by_test_id("stMain")).not_to_contain_text(w["证件号码"])
        expect(inspector.get_by_test_id("stMain")).not_to_contain_text(w["出生日期"][:10])
    shot(inspector, "members_masked")

    # the drill-down reaches a person: the head's own record, masked the same way
    head = masked[0]
    choose(inspector, "查看成员", head["人编号"])
    record = inspector.locator(".st-key-box_drill_person")
    expect(record).to_contain_text(head["证件号码"])
    expect(record).to_contain_text(head["出生年份"])
    expect(record).not_to_contain_text(whole[0]["证件号码"])
    expect(inspector.get_by_role("button", name=re.compile("成员（家庭成员 第"))).to_be_visible()
    shot(inspector, "member_record_masked")
    inspector.context.close()


def test_the_households_page_shows_persons_by_age_band_health_labour_and_education(server, page):
    page.goto(server)
    open_page(page, "贫困户情况")
    expect(page.get_by_role("heading", name="家庭成员情况（按人）")).to_be_visible()
    cover = page.get_by_text(re.compile(r"户均有家庭成员明细，共 [\d,]+ 人"))
    expect(cover).to_be_visible()
    persons = int(re.search(r"共 ([\d,]+) 人", cover.inner_text()).group(1).replace(",", ""))
    for key in ("age_band", "health", "labour", "education"):
        expect(page.locator(f".st-key-chart_hh_{key} .js-plotly-plot")).to_be_visible()
    with rerun(page):  # the age table, drawn once its expander is opened
        page.locator(".st-key-table_hh_age_band summary").click()
    rows = _download(page, "hh_age_band")
    assert sum(int(r["合计（人）"]) for r in rows) == persons
    bands = ["0-5岁", "6-15岁", "16-59岁", "60+岁"]
    for r in rows:
        assert set(bands) <= set(r)
        counted = sum(int(v) for k, v in r.items() if k not in ("行政村", "合计（人）"))
        assert counted == int(r["合计（人）"])
    shot(page, "households_persons")
