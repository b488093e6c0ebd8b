"""Accounts, roles, masking on the rendered pages, and the audit log."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analytics.access import accounts
from analytics.importing import ingest
from analytics.store.database import Store
from tests.builders import survey_row, workbook_bytes
from tests.signin import sign_in
from ui.auth import TOKEN_KEY

ROOT = Path(__file__).resolve().parent.parent
FULL_ID = "530921198001010018"
FULL_NAME = "欧阳明月"


@pytest.fixture
def store(tmp_path) -> Store:
    return Store(tmp_path / "acc.duckdb")


def test_passwords_are_stored_as_argon2id_hashes_never_in_clear(store):
    accounts.create_user(store, "admin1", "correct horse", "admin")
    row = store.cursor().execute("SELECT password_hash FROM users").fetchone()[0]
    assert row.startswith("$argon2id$")
    assert "correct horse" not in row
    store.close()
    assert b"correct horse" not in store.path.read_bytes()


def test_authenticate_accepts_the_right_password_only_and_not_a_disabled_account(store):
    accounts.create_user(store, "admin1", "correct horse", "admin")
    accounts.create_user(store, "li", "inspector pw", "inspector", by="admin1")
    assert accounts.authenticate(store, "li", "inspector pw") == accounts.User("li", "inspector")
    assert accounts.authenticate(store, "li", "wrong") is None
    assert accounts.authenticate(store, "nobody", "inspector pw") is None
    accounts.set_disabled(store, "li", True, by="admin1")
    assert accounts.authenticate(store, "li", "inspector pw") is None


def test_bad_accounts_are_refused_with_a_message(store):
    with pytest.raises(accounts.AccountError, match="8"):
        accounts.create_user(store, "short", "1234567", "admin")
    with pytest.raises(accounts.AccountError):
        accounts.create_user(store, "x", "long enough", "admin")  # name too short
    with pytest.raises(accounts.AccountError):
        accounts.create_user(store, "boss", "long enough", "emperor")
    accounts.create_user(store, "boss", "long enough", "admin")
    with pytest.raises(accounts.AccountError, match="boss"):
        accounts.create_user(store, "boss", "long enough", "leader")


def test_the_last_administrator_cannot_be_demoted_or_disabled(store):
    accounts.create_user(store, "boss", "long enough", "admin")
    with pytest.raises(accounts.AccountError):
        accounts.set_role(store, "boss", "leader", by="boss")
    with pytest.raises(accounts.AccountError):
        accounts.set_disabled(store, "boss", True, by="boss")
    assert accounts.users(store)["role"].tolist() == ["admin"]


def test_role_capabilities():
    leader, inspector, admin = (accounts.User("u", r) for r in accounts.ROLES)
    assert not leader.can("view_households") and not leader.can("upload")
    assert inspector.can("view_households") and inspector.can("export_households")
    assert not inspector.can("unmask") and not inspector.can("upload")
    assert all(admin.can(c) for c in accounts.CAN)
    with pytest.raises(KeyError):
        leader.can("fly")


def test_account_changes_are_audited_without_passwords(store, monkeypatch):
    accounts.create_user(store, "boss", "long enough", "admin")
    accounts.create_user(store, "li", "another secret", "inspector", by="boss")
    accounts.set_role(store, "li", "leader", by="boss")
    log = accounts.audit_log(store)
    assert set(log["action"]) == {"create_user", "set_role"}
    assert (log["actor"] == "boss").sum() == 3  # its own creation, li, the role change
    assert not log["detail"].str.contains("secret|long enough").any()


# ------------------------------------------------------------- rendered pages
@pytest.fixture
def town(tmp_path) -> Path:
    """A township whose one household carries a full name and a full ID number."""
    path = tmp_path / "town.duckdb"
    s = Store(path)
    rows = [
        survey_row("H1", "甲村", "一组", 4, "已脱贫", None, "错退"),
        survey_row("H2", "甲村", "一组", 3, "非建档立卡"),
    ]
    header, *body = _with_ids(rows)
    data = workbook_bytes({"户信息": ([header, *body], ())})
    assert ingest.import_file(s, "t.xlsx", data, "R1").status == "loaded"
    accounts.create_user(s, "boss", "long enough", "admin")
    accounts.create_user(s, "li", "inspector pw", "inspector", by="boss")
    s.close()
    return path


def _with_ids(rows):
    from tests.builders import SURVEY_HEADER

    header = [*SURVEY_HEADER, "户主身份证号"]
    body = []
    for r in rows:
        r = list(r)
        if r[3] == "H1":
            r[4] = FULL_NAME
            body.append([*r, FULL_ID])
        else:
            body.append([*r, None])
    return [header, *body]


def _rendered(at: AppTest) -> str:
    """Everything the session would send to the browser, as text (element protos)."""
    out = []

    def walk(node):
        proto = getattr(node, "proto", None)
        if proto is not None:
            out.append(str(proto))
        if type(node).__name__ == "Dataframe":  # Arrow bytes in the proto: decode them
            out.append(node.value.to_csv())
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return "\n".join(out)


def _drill(
    env: pytest.MonkeyPatch, db: Path, user: accounts.User | None, unmask: bool = False
) -> AppTest:
    env.setenv("POVERTY_DB", str(db))
    at = AppTest.from_file("../app.py", default_timeout=120)
    at.switch_page("views/drilldown.py")
    if user:
        sign_in(at, db, user)
    at.session_state["unmask"] = unmask
    at.session_state["drill"] = {
        "township": "测试乡",
        "village": "甲村",
        "group": "一组",
        "household": None,
    }
    at.session_state["drill_family"] = "registered"
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_a_visitor_leader_gets_no_household_rows(town, monkeypatch):
    at = _drill(monkeypatch, town, None)
    text = _rendered(at)
    assert "H1" not in text and FULL_ID not in text and FULL_NAME not in text
    assert any("核查人员" in i.value for i in at.info)


def test_an_inspector_gets_household_rows_masked_in_everything_sent(town, monkeypatch):
    at = _drill(
        monkeypatch, town, accounts.User("li", "inspector"), unmask=True
    )  # asks, is not allowed
    text = _rendered(at)
    assert "H1" in text
    assert "530921***********8" in text and "欧***" in text
    assert FULL_ID not in text and FULL_NAME not in text


def test_an_administrator_who_unmasks_sees_full_data_and_is_audited(town, monkeypatch):
    at = _drill(monkeypatch, town, accounts.User("boss", "admin"), unmask=True)
    assert FULL_ID in _rendered(at)
    at = _drill(monkeypatch, town, accounts.User("boss", "admin"), unmask=False)
    assert FULL_ID not in _rendered(at)
    s = Store(town)
    seen = accounts.audit_log(s)
    s.close()
    seen = seen[seen["action"] == "view_unmasked"]
    assert len(seen) == 1 and seen["actor"].iloc[0] == "boss"  # the unmasked run only
    detail = json.loads(seen["detail"].iloc[0])
    assert detail["page"] == "drilldown"
    assert detail["filters"]["round"] == "R1" and detail["filters"]["villages"] == []


def test_signing_in_through_the_sidebar_form(town, monkeypatch):
    monkeypatch.setenv("POVERTY_DB", str(town))
    at = AppTest.from_file("../app.py", default_timeout=120).run()
    at.sidebar.text_input(key="login_name").input("li")
    at.sidebar.text_input(key="login_password").input("inspector pw")
    at.sidebar.button[0].click().run()  # the form's submit button
    assert not at.exception, [e.message for e in at.exception]
    at.run()  # the browser reloads the page after signing in
    assert any("li" in c.value for c in at.sidebar.caption)
    s = Store(town)
    assert accounts.session_user(s, at.session_state[TOKEN_KEY]) == accounts.User("li", "inspector")
    assert "login" in set(accounts.audit_log(s)["action"])
    s.close()


def test_data_page_asks_for_the_first_administrator_and_hides_upload_from_visitors(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("POVERTY_DB", str(tmp_path / "fresh.duckdb"))
    at = AppTest.from_file("../app.py", default_timeout=180)
    at.switch_page("views/data.py").run()
    assert not at.exception
    assert any(s.value == "首次使用：创建管理员账号" for s in at.subheader)
    assert len(at.get("file_uploader")) == 0
    s = Store(tmp_path / "fresh.duckdb")
    token = accounts.new_setup_token(s)  # what the server prints when it starts
    s.close()
    at.text_input(key="first_token").input(token)
    at.text_input(key="first_name").input("boss")
    at.text_input(key="first_password").input("long enough")
    at.button[0].click().run()
    assert not at.exception, [e.message for e in at.exception]
    at.run()  # the browser reloads the page after signing in
    s = Store(tmp_path / "fresh.duckdb")
    assert accounts.session_user(s, at.session_state[TOKEN_KEY]) == accounts.User("boss", "admin")
    s.close()
    assert len(at.get("file_uploader")) == 1


def test_cli_unmasked_export_is_audited_with_the_os_user(town, tmp_path):
    out = tmp_path / "h.csv"
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "analytics",
            "export",
            "households",
            "--db",
            str(town),
            "--round",
            "R1",
            "--out",
            str(out),
            "--unmask",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert p.returncode == 0, p.stderr
    s = Store(town)
    log = accounts.audit_log(s)
    s.close()
    hit = log[log["action"] == "export_unmasked"]
    assert len(hit) == 1 and hit["actor"].iloc[0].startswith("cli:")
    assert '"table": "households"' in hit["detail"].iloc[0]


# ------------------------------------------------------------- unmasking and reports audited
def _log(db: Path, action: str) -> list[dict]:
    s = Store(db)
    try:
        log = accounts.audit_log(s)
    finally:
        s.close()
    hits = log[log["action"] == action]
    return [
        {"actor": a, **json.loads(d)} for a, d in zip(hits["actor"], hits["detail"], strict=True)
    ]


def test_switching_unmasking_on_and_off_is_audited(town, monkeypatch):
    at = _drill(monkeypatch, town, accounts.User("boss", "admin"))
    at.sidebar.toggle(key="unmask").set_value(True).run()
    assert FULL_ID in _rendered(at)
    at.sidebar.toggle(key="unmask").set_value(False).run()
    assert FULL_ID not in _rendered(at)
    assert len(_log(town, "unmask_on")) == 1 and len(_log(town, "unmask_off")) == 1
    assert [e["actor"] for e in _log(town, "unmask_on")] == ["boss"]


def test_every_new_unmasked_view_is_audited_with_its_page_filters_and_household(town, monkeypatch):
    at = _drill(monkeypatch, town, accounts.User("boss", "admin"), unmask=True)
    at.run()  # the same view again: no new line
    views = _log(town, "view_unmasked")
    assert len(views) == 1
    assert (views[0]["page"], views[0]["village"], views[0]["group"]) == (
        "drilldown",
        "甲村",
        "一组",
    )
    assert views[0]["filters"]["round"] == "R1"
    at.selectbox(key="drill_pick_household").select("H1").run()
    assert not at.exception, [e.message for e in at.exception]
    assert FULL_NAME in _rendered(at)
    views = _log(town, "view_unmasked")  # newest first
    assert len(views) == 2 and views[0]["household"] == "H1"


def test_a_downloaded_situation_report_is_audited_with_its_filters(town, monkeypatch):
    monkeypatch.setenv("POVERTY_DB", str(town))
    at = AppTest.from_file("../app.py", default_timeout=120)
    at.query_params["round"] = "R1"  # the report is of a chosen round
    at.run()
    at.button(key="make_report").click().run()
    assert not at.exception, [e.message for e in at.exception]
    at.download_button(key="report_md").click().run()
    at.download_button(key="report_docx").click().run()
    reports = _log(town, "download_report")
    assert [r["format"] for r in reports] == ["docx", "md"]  # newest first
    assert reports[0]["actor"] == "visitor" and reports[0]["filters"]["round"] == "R1"


def test_cli_report_is_audited_with_the_os_user(town, tmp_path):
    out = tmp_path / "r.md"
    command = ["report", "--db", str(town), "--format", "md", "--out", str(out)]
    p = subprocess.run(
        [sys.executable, "-m", "analytics", *command],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert p.returncode == 0, p.stderr
    (hit,) = _log(town, "report")
    assert hit["actor"].startswith("cli:") and hit["round"] == "R1" and hit["format"] == "md"
