"""Benchmark: how fast the dashboard feels in a real browser, on the bundled demo.

    python bench/bench_browser.py                      # this checkout, 5 runs
    python bench/bench_browser.py --root /tmp/old --runs 5 --label before

Each run starts ``streamlit run app.py`` from ``--root`` on a free port with a new, empty
database (``$POVERTY_DB`` in a temporary folder), as a new office's first start, and drives
Debian's Chromium with Playwright. It times:

- **first page after start**: from the moment the server answers its health check to the
  moment the first visitor's page is loaded;
- **fresh session, first page**: a new tab of the same browser (a new Streamlit session;
  the browser has the app's scripts cached, as a returning user's has) opening the
  overview on the running server; and **new browser, first page**: the same from a new
  browser context with nothing cached;
- **page switch**: each of the leader pages in turn through the sidebar navigation, and
  back to the overview;
- **filter change**: choosing the round 2017年精准核查 in the sidebar, then choosing a
  village.

"Loaded" means the app reports no script run in progress (the ``data-test-script-state``
attribute Streamlit's own browser tests wait on is ``notRunning``), no element is a loading
skeleton (a chart whose Plotly code has not arrived yet) and every Plotly chart on the page
has drawn its SVG; the clock stops at the first moment both hold after the action
took effect (the page's heading changed, the sidebar shows the new value). Figures are the
median of ``--runs`` runs with min and max; a page switch figure is the median over pages
and runs. Not a test: nothing here runs under pytest. ``--write`` appends the table to
bench/RESULTS.md ("Browser").
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import describe, load_average

HERE = Path(__file__).resolve().parent.parent
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MEASURES = {
    "first": "first page after the server answers (target 3 s)",
    "fresh": "fresh session (new tab), first page (target 1.5 s)",
    "new_browser": "new browser, nothing cached, first page",
    "switch": "page switch (target 0.5 s)",
    "filter": "filter change (target 0.5 s)",
}
PAGES = ("动态管理", "贫困户情况", "精准识别", "工作进度", "易地扶贫搬迁", "贫情分析会议")
LOADED = """() => {
  const app = document.querySelector("[data-testid='stApp']");
  if (!app || app.getAttribute("data-test-script-state") !== "notRunning") return false;
  // a chart whose Plotly code is still loading is a skeleton, not yet a .js-plotly-plot
  if (document.querySelector("[data-testid='stSkeleton']")) return false;
  const plots = [...document.querySelectorAll(".js-plotly-plot")];
  return plots.every(p => p.querySelector(".main-svg"));
}"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _loaded(page: Page, heading: str | None = None) -> None:
    """Waits until ``heading`` (if given) is on the page and the page is loaded."""
    if heading:
        page.get_by_role("heading", name=heading, exact=True).first.wait_for(timeout=120_000)
    page.wait_for_function(LOADED, timeout=120_000, polling=20)


def one_run(root: Path, browser) -> dict[str, list[float]]:
    port = _free_port()
    tmp = Path(tempfile.mkdtemp(prefix="bench_browser_"))
    env = {**os.environ, "POVERTY_DB": str(tmp / "bench.duckdb")}
    log = open(tmp / "streamlit.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--browser.gatherUsageStats", "false"],
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    out: dict[str, list[float]] = {k: [] for k in MEASURES}
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError((tmp / "streamlit.log").read_text()[-2000:]) from None
                time.sleep(0.05)
        answered = time.perf_counter()
        ctx = browser.new_context(viewport={"width": 1440, "height": 1000})
        page = ctx.new_page()
        page.goto(url)
        _loaded(page, "贫困对象动态管理分析")
        out["first"].append(time.perf_counter() - answered)

        tab = ctx.new_page()
        start = time.perf_counter()
        tab.goto(url)
        _loaded(tab, "贫困对象动态管理分析")
        out["fresh"].append(time.perf_counter() - start)
        tab.close()

        cold = browser.new_context(viewport={"width": 1440, "height": 1000}).new_page()
        start = time.perf_counter()
        cold.goto(url)
        _loaded(cold, "贫困对象动态管理分析")
        out["new_browser"].append(time.perf_counter() - start)
        cold.context.close()

        for title in (*PAGES, "总览"):
            start = time.perf_counter()
            page.get_by_test_id("stSidebarNavLink").filter(has_text=title).click()
            heading = "贫困对象动态管理分析" if title == "总览" else title
            _loaded(page, heading)
            out["switch"].append(time.perf_counter() - start)

        side = page.get_by_test_id("stSidebar")
        for label, option in (("批次", "2017年精准核查"), ("行政村", "三合村")):
            box = side.get_by_role("combobox", name=label, exact=True)
            box.click()
            box.fill(option)
            start = time.perf_counter()
            box.press("Enter")
            if label == "行政村":
                box.press("Escape")  # a multiselect's list stays open and hides the page
            heading = f"{'诗礼乡' if label == '批次' else '三合村'} · 2017年精准核查"
            page.get_by_role("heading", name=heading).wait_for(timeout=120_000)
            _loaded(page)
            out["filter"].append(time.perf_counter() - start)
        ctx.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
    return out


def _cell(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} s ({min(values):.2f}–{max(values):.2f})"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--root", default=str(HERE), help="the checkout to serve")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--label", default="this checkout")
    p.add_argument("--write", action="store_true", help="append the table to bench/RESULTS.md")
    args = p.parse_args()
    runs: dict[str, list[float]] = {k: [] for k in MEASURES}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        for i in range(args.runs):
            found = one_run(Path(args.root), browser)
            for k, v in found.items():
                runs[k].extend(v)
            medians = ", ".join(f"{k} {statistics.median(v):.2f}" for k, v in found.items())
            print(f"run {i + 1}: {medians}")
        browser.close()
    names = MEASURES
    lines = [
        f"### Browser, {args.label} ({dt.date.today()}, load {load_average()})",
        "",
        "| measure | median (min–max) |",
        "|---|---:|",
        *(f"| {names[k]} | {_cell(v)} |" for k, v in runs.items()),
        "",
    ]
    text = "\n".join(lines)
    print(text)
    print(describe(["streamlit", "duckdb", "ibis-framework"]))
    if args.write:
        with open(HERE / "bench" / "RESULTS.md", "a", encoding="utf-8") as f:
            f.write("\n" + text)


if __name__ == "__main__":
    main()
