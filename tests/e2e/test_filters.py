"""The sidebar filters hold across every page change, from a click or from a URL, in both
languages, until the user changes them (a leader who chose 2017年精准核查 and a basis must
not find the latest round and the default basis on the next page)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import rerun, settle
from tests.e2e.test_journeys import open_page, sidebar_select

CHECK = "2017年精准核查"
# (page title, a heading only that page shows once its figures are drawn), zh and en
ROUTE = {
    "zh": [
        ("精准识别", "各行政村错评率（按户）"),
        ("易地扶贫搬迁", None),
        ("动态管理", None),
        ("贫困户情况", None),
        ("工作进度", None),
    ],
    "en": [
        ("Misclassification", None),
        ("Relocation", None),
        ("Dynamic adjustment", None),
        ("Households", None),
        ("Campaign progress", None),
    ],
}
LABELS = {
    "zh": {
        "round": "批次",
        "basis": "按户",
        "no_data": "所选范围内没有数据",
        "column": "建档立卡户",  # the overview's per-village table on the households basis
    },
    "en": {
        "round": "Round",
        "basis": "By households",
        "no_data": "No data in the selected area",
        "column": "Registered households",
    },
}


def _holds(page: Page, lang: str) -> None:
    side = page.get_by_test_id("stSidebar")
    words = LABELS[lang]
    expect(side.get_by_role("combobox", name=words["round"], exact=True)).to_have_value(CHECK)
    expect(side.get_by_role("radio", name=words["basis"], exact=True)).to_be_checked()
    expect(page).to_have_url(re.compile("round=" + re.escape("2017%E5%B9%B4")))
    expect(page.get_by_text(words["no_data"])).to_have_count(0)


def _five_page_changes(page: Page, lang: str) -> None:
    for title, heading in ROUTE[lang]:
        open_page(page, title)
        _holds(page, lang)
        if heading:
            expect(page.get_by_role("heading", name=heading).first).to_be_visible()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_filters_chosen_by_click_hold_across_five_page_changes(server, page, lang):
    page.goto(server + ("/?lang=English" if lang == "en" else ""))
    expect(page.get_by_role("combobox", name=LABELS[lang]["round"], exact=True)).to_be_visible()
    settle(page)
    sidebar_select(page, LABELS[lang]["round"], CHECK)
    with rerun(page):
        page.get_by_test_id("stSidebar").get_by_text(LABELS[lang]["basis"], exact=True).click()
    table = page.get_by_test_id("stDataFrame").filter(has_text=LABELS[lang]["column"])
    expect(table.first).to_be_attached()
    _holds(page, lang)
    _five_page_changes(page, lang)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_filters_from_a_copied_url_hold_across_five_page_changes(server, page, lang):
    query = f"round={CHECK}&basis={LABELS[lang]['basis']}"
    if lang == "en":
        query += "&lang=English"
    page.goto(f"{server}/?{query}")
    expect(page.get_by_role("combobox", name=LABELS[lang]["round"], exact=True)).to_be_visible()
    settle(page)
    _holds(page, lang)
    _five_page_changes(page, lang)


def test_switching_the_language_keeps_the_filters(server, page):
    page.goto(f"{server}/?round={CHECK}&basis=按户")
    expect(page.get_by_role("combobox", name="批次", exact=True)).to_be_visible()
    with rerun(page):
        page.get_by_test_id("stSidebar").get_by_text("English", exact=True).click()
    expect(page.get_by_role("heading", name="Poverty-target dynamic management")).to_be_visible()
    _holds(page, "en")
    expect(page).to_have_url(re.compile(r"basis=By\+households"))
    open_page(page, "Misclassification")
    _holds(page, "en")


def test_rate_captions_are_read_whole_and_no_select_all_is_offered(server, page):
    page.goto(f"{server}/?round={CHECK}&compare=2017年动态管理")
    expect(page.get_by_text("较“2017年动态管理”")).to_be_visible()
    settle(page)
    deltas = page.get_by_test_id("stMetricDelta")
    expect(deltas.first).to_be_visible()
    # widths measured in the page's own fonts: text laid out in a fallback font before the
    # web font arrives has other widths
    page.evaluate("document.fonts.ready.then(() => true)")
    cut = deltas.evaluate_all(
        "els => els.filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.innerText)"
    )
    assert cut == []
    village = page.get_by_test_id("stSidebar").get_by_role("combobox", name="行政村", exact=True)
    village.click()
    expect(page.get_by_role("option", name="三合村")).to_be_visible()
    expect(page.get_by_text("Select all")).to_have_count(0)
