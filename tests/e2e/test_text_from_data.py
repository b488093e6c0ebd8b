"""Text from data is shown as text in a real browser: a village, round or file name written
as a Markdown link or image never becomes a link or loads an image (the notice
"会话已过期请点此重新登录" with a working link that a crafted name used to show)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote, urlparse

import openpyxl
from playwright.sync_api import expect

from tests.e2e.conftest import rerun, settle
from tests.e2e.test_journeys import as_admin, open_page, pick_once

EVIL = "x.invalid"
VILLAGE = f"[会话已过期请点此重新登录](http://{EVIL}/login)"
ROUND = f"![2017年补录](http://{EVIL}/round.png)"
FILE = f"[通知](http:{EVIL})"  # a file name holds no slash


def _workbook(path: Path) -> Path:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "户信息"
    ws.append(["乡镇", "行政村", "村民小组", "户编号", "户主姓名", "家庭人口数", "建档立卡状态"])
    ws.append(["诗礼乡", VILLAGE, f"<img src=http://{EVIL}/g.png>组", "MD-1", "测某", 2, "未脱贫"])
    book.save(path)
    return path


def _nothing_links_out(page) -> None:
    expect(page.locator(f"a[href*='{EVIL}']")).to_have_count(0)
    expect(page.locator(f"img[src*='{EVIL}']")).to_have_count(0)


def test_names_written_as_markdown_show_as_text(server, page, setup_token, tmp_path):
    as_admin(page, server, setup_token)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    with rerun(page):  # the upload, then the run that inspects the file
        page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(
            str(_workbook(tmp_path / f"{FILE}.xlsx"))
        )
    expect(
        page.get_by_text("行报告").first.or_(page.get_by_text("没有发现问题")).first
    ).to_be_visible()
    _nothing_links_out(page)
    pick_once(page, "导入到批次", "＋ 新建批次")
    with rerun(page):  # a text box sends its value on Enter (or on leaving it), with a run
        name = page.get_by_label("新批次名称（如 2018年动态管理）")
        name.fill(ROUND)
        name.press("Enter")
    with rerun(page):
        page.get_by_role("button", name="导入", exact=True).click()
    expect(page.get_by_text(re.compile("已导入批次"))).to_be_visible()
    _nothing_links_out(page)

    # a copied link naming the round and the village
    page.goto(f"{server}/?round={quote(ROUND)}&village={quote(VILLAGE)}")
    heading = page.get_by_role("heading", name=re.compile("会话已过期请点此重新登录"))
    expect(heading).to_be_visible()
    # the link shown as its text (a word joiner after "http:" keeps GFM from linking it)
    expect(heading).to_contain_text(re.compile(r"\]\(http:\u2060?//x\.invalid/login\)"))
    settle(page)
    _nothing_links_out(page)
    for title in ("动态管理", "贫困户情况", "异常核查", "核查钻取"):
        open_page(page, title)
        _nothing_links_out(page)
    assert not [u for u in requests if urlparse(u).hostname == EVIL]  # nothing fetched from it
