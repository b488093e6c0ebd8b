"""Signing in survives a reload and a new tab; signing out makes the cookie worthless; a
download URL serves only the browser whose page issued it. Real Chromium, real server."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import new_context, rerun, settle
from tests.e2e.test_journeys import ADMIN, as_admin


def signed_in(page: Page):
    return page.get_by_test_id("stSidebar").get_by_text(f"已登录：{ADMIN}", exact=False)


def signed_out(page: Page):
    return page.get_by_test_id("stSidebar").get_by_text("未登录", exact=False)


def test_a_sign_in_survives_a_reload_and_a_new_tab_and_ends_for_good_on_sign_out(
    server: str, browser: Browser, setup_token: str
):
    context = new_context(browser)
    page = context.new_page()
    as_admin(page, server, setup_token)
    (cookie,) = [c for c in context.cookies() if c["name"] == "poverty_session"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert page.evaluate("document.cookie").find("poverty_session") == -1  # not for scripts

    page.reload()  # F5
    expect(signed_in(page)).to_be_visible()
    tab = context.new_page()  # a new tab of the same browser
    tab.goto(server)
    expect(signed_in(tab)).to_be_visible()
    settle(tab)

    settle(page)
    page.get_by_test_id("stSidebar").get_by_role("button", name="退出登录").click()
    expect(signed_out(page)).to_be_visible()
    assert not [c for c in context.cookies() if c["name"] == "poverty_session"]
    tab.reload()
    expect(signed_out(tab)).to_be_visible()

    # the old cookie, copied into another browser, signs nobody in
    thief = new_context(browser)
    thief.add_cookies([cookie])
    stolen = thief.new_page()
    stolen.goto(server)
    expect(signed_out(stolen)).to_be_visible()
    settle(stolen)  # the run has finished: what it did not draw is not coming
    expect(signed_in(stolen)).to_have_count(0)
    thief.close()
    context.close()


def test_a_download_url_serves_its_own_browser_only(server: str, browser: Browser):
    # The blank template: a download whose file is made with the page (not on click). That
    # the URL dies with its page is tested in tests/test_sessions.py.
    context = new_context(browser, accept_downloads=True)
    page = context.new_page()
    page.goto(f"{server}/data")
    button = page.get_by_role("button", name="下载空白模板（Excel）")
    expect(button).to_be_visible()
    with rerun(page), page.expect_download() as info:  # a download button's click reruns
        button.click()
    url = info.value.url
    assert re.search(r"/media/\w+\.xlsx$", url), url
    mine = context.request.get(url)
    assert mine.status == 200 and mine.body()[:2] == b"PK"
    # another browser: neither the URL alone nor with a page of its own open (the overview)
    other = new_context(browser)
    try:
        assert other.request.get(url).status == 404
        elsewhere = other.new_page()
        elsewhere.goto(server)
        expect(elsewhere.get_by_role("heading", name="贫困对象动态管理分析")).to_be_visible()
        settle(elsewhere)
        refused = other.request.get(url)
        assert refused.status == 404 and refused.body()[:2] != b"PK"
    finally:
        other.close()
    context.close()
