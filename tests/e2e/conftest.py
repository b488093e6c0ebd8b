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
from playwright.sync_api import Browser, Page, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
SHOTS = ROOT / "artifacts" / "screenshots"
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


@pytest.fixture
def page(browser: Browser, request) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(60_000)
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
