"""Command line for inspectors and staff: anomalies, report, adduser."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import docx
import pytest

from analytics.access import accounts
from analytics.store.database import Store

ROOT = Path(__file__).resolve().parent.parent
CHECK = "2017年精准核查"


def _cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "analytics", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        input=stdin,
        timeout=300,
    )


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> str:
    db = str(tmp_path_factory.mktemp("cli") / "demo.duckdb")
    assert _cli("demo", "--db", db).returncode == 0
    return db


def test_anomalies_prints_one_json_record_per_hit(demo_db):
    p = _cli("anomalies", "--db", demo_db, "--round", CHECK)
    assert p.returncode == 0, p.stderr
    hits = json.loads(p.stdout)
    assert hits and set(hits[0]) == {
        "level",
        "township",
        "village",
        "group",
        "household_id",
        "rule",
        "severity",
        "message",
        "message_en",
    }
    assert {h["level"] for h in hits} <= {"household", "village"}
    # the village filter keeps that village's hits only
    p = _cli("anomalies", "--db", demo_db, "--round", CHECK, "--village", "三合村")
    assert {h["village"] for h in json.loads(p.stdout)} == {"三合村"}


def test_report_writes_markdown_and_word_with_the_seed_figures(demo_db, tmp_path):
    md = tmp_path / "r.md"
    p = _cli("report", "--db", demo_db, "--round", CHECK, "--format", "md", "--out", str(md))
    assert p.returncode == 0, p.stderr
    text = md.read_text(encoding="utf-8")
    assert "错评户74户324人" in text and "错退率0.06%" in text
    out = tmp_path / "r.docx"
    p = _cli("report", "--db", demo_db, "--format", "docx", "--out", str(out))
    assert p.returncode == 0, p.stderr
    body = "\n".join(par.text for par in docx.Document(str(out)).paragraphs)
    assert "拟退出7户32人" in body  # the latest round by default


def test_report_of_an_unknown_round_is_a_message_not_a_traceback(demo_db, tmp_path):
    p = _cli(
        "report",
        "--db",
        demo_db,
        "--round",
        "2099年",
        "--format",
        "md",
        "--out",
        str(tmp_path / "x.md"),
    )
    assert p.returncode == 1
    assert "no round named" in p.stderr and "Traceback" not in p.stderr


def test_adduser_creates_an_account_from_stdin(tmp_path):
    db = str(tmp_path / "u.duckdb")
    p = _cli("adduser", "--db", db, "boss", "--role", "admin", stdin="long enough pw\n")
    assert p.returncode == 0, p.stderr
    p = _cli("adduser", "--db", db, "li", "--role", "inspector", stdin="short\n")
    assert p.returncode == 1 and "8" in p.stderr
    s = Store(db)
    assert accounts.authenticate(s, "boss", "long enough pw") == accounts.User("boss", "admin")
    s.close()
