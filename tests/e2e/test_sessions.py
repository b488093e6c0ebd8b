"""Signing in survives a reload and a new tab; signing out makes the cookie worthless.
Real Chromium, real server."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

from tests.e2e.test_journeys import ADMIN, as_admin, settle

VIEWPORT = {"width": 1440, "height": 1000}


def signed_in(page: Page):
    return page.get_by_test_id("stSidebar").get_by_text(f"已登录：{ADMIN}", exact=False)


def signed_out(page: Page):
    return page.get_by_test_id("stSidebar").get_by_text("未登录", exact=False)


def test_a_sign_in_survives_a_reload_and_a_new_tab_and_ends_for_good_on_sign_out(
    server: str, browser: Browser, setup_token: str
):
    context = browser.new_context(viewport=VIEWPORT)
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

    settle(page)
    page.get_by_test_id("stSidebar").get_by_role("button", name="退出登录").click()
    expect(signed_out(page)).to_be_visible()
    assert not [c for c in context.cookies() if c["name"] == "poverty_session"]
    tab.reload()
    expect(signed_out(tab)).to_be_visible()

    # the old cookie, copied into another browser, signs nobody in
    thief = browser.new_context(viewport=VIEWPORT)
    thief.add_cookies([cookie])
    stolen = thief.new_page()
    stolen.goto(server)
    expect(signed_out(stolen)).to_be_visible()
    expect(signed_in(stolen)).to_have_count(0)
    thief.close()
    context.close()
