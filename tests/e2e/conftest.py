"""A real ``streamlit run app.py`` on a free port with its own database, and Chromium.

Debian's ``/usr/bin/chromium`` is driven by Playwright (its own browser download does
not work on these machines). If the browser cannot start, the tests fail: they never
skip.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
SHOTS = ROOT / "artifacts" / "screenshots"
# How long any wait on the app may take (an ``expect``, an action, a run to finish). A wait
# ends as soon as what it waits for is true; this only bounds a failure. Measured here with
# the load average at 30-38 on 2 cores (other engineers' test runs): a page switch's run
# 47 s, the first run of the dynamics page on a new server 138 s.
WAIT_MS = 300_000
expect.set_options(timeout=WAIT_MS)
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_server(folder: Path, env: dict[str, str] | None = None) -> Iterator[Server]:
    """``streamlit run app.py`` on a free port, its database ``folder/e2e.duckdb``, its
    console output ``folder/streamlit.log``, with ``env`` added to the environment; stopped
    on leaving."""
    port = _free_port()
    db = folder / "e2e.duckdb"
    log = open(folder / "streamlit.log", "w")  # noqa: SIM115  (closed below)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=ROOT,
        env={**os.environ, "POVERTY_DB": str(db), **(env or {})},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    # The health check answers once the server has built the demo (ui/server.py's
    # lifespan): about a minute on a quiet machine, several under load. Wait for that answer
    # while the process lives; fail at once if it exits. The deadline only ends a start
    # that hangs.
    deadline = time.monotonic() + 900
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=10) as r:
                if r.status == 200:
                    break
        except OSError:
            with suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=0.5)  # the pause between tries, cut short by an exit
    else:
        proc.kill()
        tail = (folder / "streamlit.log").read_text()[-2000:]
        raise RuntimeError(f"streamlit did not answer on {url} (exit {proc.poll()}): {tail}")
    try:
        yield Server(url, proc, db)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@dataclass
class Server:
    url: str
    proc: subprocess.Popen
    db: Path

    @property
    def log(self) -> Path:
        """The file the server's console output goes to."""
        return self.db.parent / "streamlit.log"


@pytest.fixture(scope="package")
def served(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """The dashboard on a free port, its database in a temporary folder; yields its URL and
    the file its console output goes to."""
    with running_server(tmp_path_factory.mktemp("e2e")) as running:
        yield running.url, running.log


@pytest.fixture(scope="package")
def server(served) -> str:
    """The dashboard's URL (see ``served``)."""
    return served[0]


def setup_token_of(log: Path) -> str:
    """The one-time first-administrator token a server printed on its console at start."""
    found = re.search(r"SETUP TOKEN: (\S+)", log.read_text(encoding="utf-8"))
    assert found, "the server printed no setup token"
    return found.group(1)


@pytest.fixture(scope="package")
def setup_token(served) -> str:
    """The one-time first-administrator token the test server printed at start."""
    return setup_token_of(served[1])


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


# Counts, in the page, the script runs its Streamlit websocket reports: ``started`` (a
# NewSession message), ``finished`` (a ScriptFinished message that ends a run chain: finished
# successfully, with a compile error or a fragment run; a run stopped for a rerun is followed
# by the rerun, so the chain goes on) and ``open`` (a run has started and its chain has not
# finished). Read off the wire (ForwardMsg fields 4 and 6, streamlit/proto/ForwardMsg.proto),
# in the page's own message order: the DOM's ``data-test-script-state`` alone cannot tell
# "finished" from "not started yet" (it still reads "notRunning" until the server's answer to
# a click arrives), nor see a run whose start and end React drew in one commit.
WIRE_WATCH = """(() => {
  if (window.__e2eRuns) return;
  const runs = { started: 0, finished: 0, open: false };
  window.__e2eRuns = runs;
  const varint = (b, i) => {
    let v = 0, s = 1, x;
    do { x = b[i++]; v += (x & 0x7f) * s; s *= 128; } while (x & 0x80);
    return [v, i];
  };
  const kind = (buf) => {
    const b = new Uint8Array(buf);
    let i = 0;
    while (i < b.length) {
      let tag, n;
      [tag, i] = varint(b, i);
      const field = Math.floor(tag / 8), wire = tag & 7;
      if (wire === 0) { [n, i] = varint(b, i); if (field === 6) return n; }
      else if (wire === 2) { [n, i] = varint(b, i); if (field === 4) return "started"; i += n; }
      else if (wire === 1) i += 8;
      else if (wire === 5) i += 4;
      else return null;
    }
    return null;
  };
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      if (!String(args[0]).includes("/_stcore/stream")) return;
      this.addEventListener("message", (e) => {
        if (!(e.data instanceof ArrayBuffer)) return;
        const k = kind(e.data);
        if (k === "started") { runs.started += 1; runs.open = true; }
        else if (k === 0 || k === 1 || k === 3) { runs.finished += 1; runs.open = false; }
      });
    }
  };
})()"""

# Whether no run is in flight (at least ``finished`` run chains have ended and none is open).
_IDLE = """(finished) => {
  const runs = window.__e2eRuns;
  return Boolean(runs) && !runs.open && runs.finished >= finished;
}"""
# Resolves in a task posted now: after the task React posted to draw the state of the
# messages received so far (React draws a message's state in a task of its own).
_DRAWN = """() => new Promise((done) => {
  const channel = new MessageChannel();
  channel.port1.onmessage = () => done(true);
  channel.port2.postMessage(null);
})"""
_SHOWN_IDLE = """(finished) => {
  const runs = window.__e2eRuns;
  const app = document.querySelector("[data-testid='stApp']");
  return !runs.open && runs.finished >= finished
    && app?.getAttribute("data-test-script-state") === "notRunning";
}"""


def _idle(page: Page, finished: int) -> None:
    """Waits until at least ``finished`` run chains have ended, none is in flight, and the
    page shows it (the app root's script state is "notRunning")."""
    try:
        page.wait_for_function(_IDLE, arg=finished)
        page.evaluate(_DRAWN)
        page.wait_for_function(_SHOWN_IDLE, arg=finished)
    except PlaywrightTimeout:
        runs = page.evaluate("() => window.__e2eRuns")
        state = page.locator("[data-testid='stApp']").get_attribute("data-test-script-state")
        raise AssertionError(
            f"no idle page after {finished} finished run(s): runs {runs}, script state {state}"
        ) from None


def new_context(browser: Browser, **options) -> BrowserContext:
    """A browser context (``options`` as ``Browser.new_context``) whose pages count their
    script runs (``WIRE_WATCH``), so that ``settle`` and ``rerun`` work in them, and wait
    as long as the ``page`` fixture's."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, **options)
    context.add_init_script(WIRE_WATCH)
    context.set_default_timeout(WAIT_MS)
    return context


def settle(page: Page) -> None:
    """Waits until the app has no script run in flight and the page shows the last one
    finished. After ``goto`` or a reload, that is the page's first run (and any rerun it
    chains); after an action, use ``rerun`` instead, which waits for the action's own run."""
    _idle(page, 1)


@contextmanager
def rerun(page: Page) -> Iterator[None]:
    """Around an action that makes the app run its script (a click, a choice): on entering,
    waits until no run is in flight (so that the run that follows is the action's); on
    leaving, until the action's run, and every rerun it chains (``st.rerun``), has finished
    and the page shows it."""
    settle(page)
    finished = page.evaluate("() => window.__e2eRuns.finished")
    yield
    _idle(page, finished + 1)


@pytest.fixture
def page(browser: Browser, request) -> Iterator[Page]:
    context = new_context(browser, accept_downloads=True)
    pg = context.new_page()
    yield pg
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        shot(pg, f"FAILED_{request.node.name}")
    context.close()


def shot(page: Page, name: str) -> Path:
    """Saves a full-page screenshot under artifacts/screenshots/ and returns its path."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
