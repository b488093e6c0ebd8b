"""Signed-in sessions: server-side, revocable, expiring; the cookie route and the download
guard of ``ui/server.py``; the new tables in old databases and in backups.

The clock is a value passed in (``now=``), never a sleep.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import subprocess
import sys
import threading
from pathlib import Path

import duckdb
import pytest

from analytics.access import accounts, sessions
from analytics.access.sessions import OneTimeCodes, token_hash
from analytics.domain import config
from analytics.store import backup
from analytics.store.database import Store
from ui import server

ROOT = Path(__file__).resolve().parent.parent
T0 = dt.datetime(2026, 3, 2, 9, 0, 0)
MINUTE = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)


@pytest.fixture
def store(tmp_path) -> Store:
    s = Store(tmp_path / "sessions.duckdb")
    accounts.create_user(s, "boss", "long enough", "admin")
    accounts.create_user(s, "li", "inspector pw", "inspector", by="boss")
    yield s
    s.close()


def _open(store: Store, name: str = "li", at: dt.datetime = T0) -> str:
    role = accounts.users(store).set_index("username")["role"][name]
    return accounts.start_session(store, accounts.User(name, role), client="10.0.0.7", now=at)


# ------------------------------------------------------------------ sessions
def test_a_session_token_is_stored_only_as_its_sha256(store):
    token = _open(store)
    stored = store.cursor().execute("SELECT token_hash, username, client FROM sessions").fetchall()
    assert stored == [(token_hash(token), "li", "10.0.0.7")]
    assert len(token) >= 43  # 32 random bytes, URL-safe base64
    store.close()
    files = list(store.path.parent.iterdir())
    assert store.path in files and all(token.encode() not in f.read_bytes() for f in files)


def test_a_session_lasts_while_used_and_ends_after_the_idle_timeout(store, monkeypatch):
    monkeypatch.setenv(config.SESSION_IDLE_ENV, "2")  # hours
    token = _open(store)
    li = accounts.User("li", "inspector")
    assert accounts.session_user(store, token, now=T0 + 119 * MINUTE) == li  # used: kept
    # two hours after that use it is still... one minute short of idle
    assert accounts.session_user(store, token, now=T0 + 119 * MINUTE + 119 * MINUTE) == li
    # and two hours without use end it, for good
    assert accounts.session_user(store, token, now=T0 + 238 * MINUTE + 2 * HOUR) is None
    assert accounts.session_user(store, token, now=T0 + 238 * MINUTE) is None
    assert store.cursor().execute("SELECT count(*) FROM sessions").fetchone()[0] == 0


def test_the_idle_timeout_defaults_to_eight_hours_and_ignores_nonsense():
    assert config.session_idle({}) == dt.timedelta(hours=8)
    assert config.session_idle({config.SESSION_IDLE_ENV: "0.5"}) == dt.timedelta(minutes=30)
    for bad in ("0", "-3", "abc", "nan", "inf"):
        assert config.session_idle({config.SESSION_IDLE_ENV: bad}) == dt.timedelta(hours=8)


def test_a_token_from_a_signed_out_session_is_worthless(store):
    token = _open(store)
    other = _open(store)  # the same user in another browser
    accounts.sign_out(store, token)
    assert accounts.session_user(store, token, now=T0 + MINUTE) is None
    assert accounts.session_user(store, other, now=T0 + MINUTE) == accounts.User("li", "inspector")
    log = accounts.audit_log(store)
    assert list(log["action"][:3]) == ["logout", "login", "login"]


def test_a_made_up_or_altered_token_is_nobody(store):
    token = _open(store)
    assert accounts.session_user(store, token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert accounts.session_user(store, "") is None
    assert accounts.session_user(store, token_hash(token)) is None  # the stored hash itself


@pytest.mark.parametrize(
    "change",
    [
        lambda s: accounts.set_password(s, "li", "a new password", by="boss"),
        lambda s: accounts.change_password(
            s, "li", "inspector pw", "a new password", client="x", now=T0
        ),
        lambda s: accounts.set_role(s, "li", "leader", by="boss"),
        lambda s: accounts.set_disabled(s, "li", True, by="boss"),
    ],
    ids=["reset", "own change", "role", "disabled"],
)
def test_a_password_role_or_enabled_change_ends_every_session_of_the_user(store, change):
    tokens = [_open(store), _open(store)]
    boss = _open(store, "boss")
    change(store)
    assert [accounts.session_user(store, t, now=T0) for t in tokens] == [None, None]
    assert accounts.session_user(store, boss, now=T0) == accounts.User("boss", "admin")


def test_a_role_change_to_the_same_role_or_enabling_keeps_the_sessions(store):
    token = _open(store)
    accounts.set_role(store, "li", "inspector", by="boss")
    accounts.set_disabled(store, "li", False, by="boss")
    assert accounts.session_user(store, token, now=T0) == accounts.User("li", "inspector")


def test_a_user_changes_their_own_password_with_the_current_one(store):
    with pytest.raises(accounts.AccountError) as wrong:
        accounts.change_password(store, "li", "not it", "a new password", client="x", now=T0)
    assert wrong.value.key == "err_current_password"
    with pytest.raises(accounts.AccountError, match="8"):
        accounts.change_password(store, "li", "inspector pw", "short", client="x", now=T0)
    accounts.change_password(store, "li", "inspector pw", "a new password", client="x", now=T0)
    assert accounts.authenticate(store, "li", "inspector pw") is None
    assert accounts.authenticate(store, "li", "a new password") == accounts.User("li", "inspector")
    assert "set_password" in set(accounts.audit_log(store)["action"])


def test_cli_passwd_sets_a_password_and_ends_the_users_sessions(store):
    token = _open(store)
    store.close()
    done = subprocess.run(
        [sys.executable, "-m", "analytics", "passwd", "li", "--db", str(store.path)],
        cwd=ROOT,
        input="brand new secret\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    again = Store(store.path)
    try:
        assert accounts.session_user(again, token, now=T0) is None
        assert accounts.authenticate(again, "li", "brand new secret") is not None
        reset = accounts.audit_log(again).iloc[0]
        assert reset["action"] == "reset_password" and reset["actor"].startswith("cli:")
        assert "brand new secret" not in reset["detail"]
    finally:
        again.close()
    unknown = subprocess.run(
        [sys.executable, "-m", "analytics", "passwd", "nobody", "--db", str(store.path)],
        cwd=ROOT,
        input="brand new secret\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert unknown.returncode == 1 and "nobody" in unknown.stderr


# ------------------------------------------------------------------ one-time codes
def test_a_code_gives_its_token_once_within_a_minute_to_its_browser_only():
    codes = OneTimeCodes()
    code = codes.mint("TOKEN", "browser-1", now=T0)
    assert codes.redeem(code, "browser-1", now=T0 + dt.timedelta(seconds=59)) == "TOKEN"
    assert codes.redeem(code, "browser-1", now=T0 + dt.timedelta(seconds=59)) is None  # used
    late = codes.mint("TOKEN", "browser-1", now=T0)
    assert codes.redeem(late, "browser-1", now=T0 + dt.timedelta(seconds=60)) is None
    elsewhere = codes.mint("TOKEN", "browser-1", now=T0)
    assert codes.redeem(elsewhere, "browser-2", now=T0) is None
    assert codes.redeem(elsewhere, "browser-1", now=T0) is None  # a wrong try used it up
    assert codes.redeem("made-up", "browser-1", now=T0) is None


# ------------------------------------------------------------------ the server's routes
def _request(
    app, path: str, query: str = "", cookies: dict[str, str] | None = None, scheme: str = "http"
) -> tuple[int, list[tuple[str, str]], bytes]:
    """One GET through an ASGI app: (status, headers, body)."""
    headers = [(b"host", b"testserver")]
    if cookies:
        line = "; ".join(f"{k}={v}" for k, v in cookies.items())
        headers.append((b"cookie", line.encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": scheme,
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }
    return asyncio.run(_call(app, scope))


async def _request_in_loop(app, path: str, cookies: dict[str, str] | None = None):
    """``_request`` inside a running event loop."""
    headers = [(b"host", b"testserver")]
    if cookies:
        headers.append((b"cookie", "; ".join(f"{k}={v}" for k, v in cookies.items()).encode()))
    scope = {
        "type": "http",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
    }
    return await _call(app, scope)


async def _call(app, scope: dict) -> tuple[int, list[tuple[str, str]], bytes]:
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    head = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in start["headers"]]
    return start["status"], head, body


def _routes_app():
    from starlette.applications import Starlette

    return Starlette(routes=server.routes())


def test_the_open_route_sets_an_httponly_strict_cookie_for_a_live_code_and_goes_back():
    token = "the-session-token"
    code = server.CODES.mint(token, "b1")
    status, headers, _ = _request(
        _routes_app(),
        "/api/session/open",
        f"code={code}&next=/data%3Fround%3DR1",
        cookies={server.BROWSER_COOKIE: "b1"},
    )
    assert status == 303
    assert dict(headers)["location"] == "/data?round=R1"
    cookie = dict(headers)["set-cookie"]
    assert cookie.startswith(f"{server.SESSION_COOKIE}={token};")
    flags = {p.strip().lower() for p in cookie.split(";")}
    assert {"httponly", "samesite=strict", "path=/"} <= flags
    assert not any(p.startswith(("max-age", "expires")) for p in flags)  # ends with the browser
    assert dict(headers)["cache-control"] == "no-store"
    # the same code again, or from another browser: no cookie
    for cookies in ({server.BROWSER_COOKIE: "b1"}, {server.BROWSER_COOKIE: "b2"}):
        status, headers, _ = _request(_routes_app(), "/api/session/open", f"code={code}", cookies)
        assert status == 303 and "set-cookie" not in dict(headers)


def test_the_cookie_is_secure_over_https():
    code = server.CODES.mint("tok", None)
    _, headers, _ = _request(_routes_app(), "/api/session/open", f"code={code}", scheme="https")
    assert "secure" in {p.strip().lower() for p in dict(headers)["set-cookie"].split(";")}


@pytest.mark.parametrize(
    "target", ["//evil.example/x", "https://evil.example/", "\\\\evil", "data", ""]
)
def test_the_routes_only_go_back_to_this_site(target):
    for route in ("/api/session/open", "/api/session/close"):
        _, headers, _ = _request(_routes_app(), route, f"next={target}")
        assert dict(headers)["location"] == "/"


def test_the_close_route_clears_the_cookie():
    status, headers, _ = _request(
        _routes_app(), "/api/session/close", "next=/data", cookies={server.SESSION_COOKIE: "x"}
    )
    cookie = dict(headers)["set-cookie"]
    assert status == 303 and dict(headers)["location"] == "/data"
    assert cookie.startswith(f'{server.SESSION_COOKIE}="";') and "max-age=0" in cookie.lower()


# ------------------------------------------------------------------ downloads
async def _streamlit_stub(scope, receive, send):
    """Stands for Streamlit's app: a page (HTML), a media file, or a websocket that sends the
    messages of ``scope["say"]``, sets ``scope["said"]`` and stays open until
    ``scope["hang_up"]`` is set."""
    if scope["type"] == "websocket":
        await send({"type": "websocket.accept"})
        for data in scope["say"]:
            await send({"type": "websocket.send", "bytes": data})
        scope["said"].set()
        await scope["hang_up"].wait()
        return
    media = scope["path"].startswith("/media/")
    kind = b"application/octet-stream" if media else b"text/html; charset=utf-8"
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", kind)]})
    await send({"type": "http.response.body", "body": b"FILE" if media else b"<html>"})


async def _page_open(guard, browser: str, *messages: bytes):
    """A websocket of ``browser`` through ``guard``, its messages sent: (task, event that
    closes it)."""
    hang_up, said = asyncio.Event(), asyncio.Event()
    scope = {
        "type": "websocket",
        "path": "/_stcore/stream",
        "headers": [(b"cookie", f"{server.BROWSER_COOKIE}={browser}".encode())],
        "say": messages,
        "said": said,
        "hang_up": hang_up,
    }

    async def receive():
        return {"type": "websocket.connect"}

    async def send(message):
        return None

    task = asyncio.ensure_future(guard(scope, receive, send))
    await said.wait()
    return task, hang_up


def test_a_download_url_serves_only_the_browser_it_was_sent_to_while_its_page_is_open():
    async def scenario():
        guard = server.Guard(_streamlit_stub, server.Issued())
        url = "/media/0123abcd.csv"
        message = b"\x12\x1a download_button url=" + url.encode() + b"\x00"
        mine, close_mine = await _page_open(guard, "b1", message)
        other, close_other = await _page_open(guard, "b2", b"\x12 another page, no media")

        def get(cookie: str | None):
            cookies = {server.BROWSER_COOKIE: cookie} if cookie else None
            return _request_in_loop(guard, url, cookies)

        assert (await get("b1"))[2] == b"FILE"
        assert (await get("b1"))[2] == b"FILE"  # again: a second click works
        assert (await get(None))[0] == 404  # the URL alone
        assert (await get("b2"))[0] == 404  # a browser with its own page open
        assert (await get("b3"))[0] == 404
        close_mine.set()
        await mine
        status, _, body = await get("b1")  # the issuing page has closed
        assert (status, body) == (404, b"Not found")
        close_other.set()
        await other

    asyncio.run(scenario())


def test_every_browser_gets_an_httponly_browser_cookie_with_its_first_page():
    guard = server.Guard(_streamlit_stub, server.Issued())
    _, headers, _ = _request(guard, "/data")
    cookie = dict(headers)["set-cookie"]
    assert cookie.startswith(f"{server.BROWSER_COOKIE}=")
    assert {"httponly", "samesite=lax", "path=/"} <= {p.strip().lower() for p in cookie.split(";")}
    _, headers, _ = _request(guard, "/data", cookies={server.BROWSER_COOKIE: "b1"})
    assert "set-cookie" not in dict(headers)  # kept, never replaced


# ------------------------------------------------------------------ old databases, backups
OLD_SCHEMA = [  # analytics/store/database.py before sessions existed (schema version 1): the tables
    "CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR)",
    "CREATE TABLE settings (key VARCHAR PRIMARY KEY, value VARCHAR)",
    """CREATE TABLE users (username VARCHAR PRIMARY KEY, password_hash VARCHAR,
        role VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL, disabled BOOLEAN DEFAULT FALSE)""",
    """CREATE TABLE audit (logged_at TIMESTAMP NOT NULL, actor VARCHAR NOT NULL,
        action VARCHAR NOT NULL, detail VARCHAR)""",
    "INSERT INTO meta VALUES ('schema_version', '1'), ('data_version', '7')",
    "INSERT INTO audit VALUES (TIMESTAMP '2025-01-01 08:00:00', 'boss', 'upload', '{}')",
]


def test_a_database_made_before_sessions_opens_migrated_with_its_data(tmp_path):
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    for stmt in OLD_SCHEMA:
        con.execute(stmt)
    digest = accounts._hasher.hash("old password")
    con.execute(
        "INSERT INTO users VALUES ('boss', ?, 'admin', TIMESTAMP '2025-01-01', FALSE)", [digest]
    )
    con.close()
    store = Store(path)
    try:
        tables = {r[0] for r in store.cursor().execute("SHOW TABLES").fetchall()}
        assert {"sessions", "login_failures", "setup_token"} <= tables
        assert store.data_version() == 7
        assert accounts.authenticate(store, "boss", "old password") == accounts.User(
            "boss", "admin"
        )
        assert list(accounts.audit_log(store)["action"]) == ["upload"]
        token = accounts.start_session(store, accounts.User("boss", "admin"), now=T0)
        assert accounts.session_user(store, token, now=T0) == accounts.User("boss", "admin")
    finally:
        store.close()


def test_backup_and_restore_keep_sessions_failures_and_setup_state_hashed(tmp_path):
    src = Store(tmp_path / "src.duckdb")
    token = accounts.new_setup_token(src, now=T0)
    accounts.create_first_admin(src, "boss", "long enough", token)
    live = accounts.start_session(src, accounts.User("boss", "admin"), now=T0)
    assert accounts.sign_in(src, "boss", "wrong", client="10.1.1.1", now=T0) is None
    fresh = accounts.new_setup_token(src, now=T0)  # none: an account exists
    assert fresh is None
    src.close()
    src = Store(tmp_path / "src.duckdb")
    try:
        manifest = backup.backup(src, tmp_path / "bk")
    finally:
        src.close()
    assert {"sessions", "login_failures", "setup_token"} <= set(manifest.tables)
    assert manifest.tables["sessions"] == 1 and manifest.tables["login_failures"] == 1
    for file in (tmp_path / "bk").iterdir():
        assert live.encode() not in file.read_bytes()
    backup.restore(tmp_path / "bk", tmp_path / "restored.duckdb")
    restored = Store(tmp_path / "restored.duckdb")
    try:
        assert accounts.session_user(restored, live, now=T0) == accounts.User("boss", "admin")
        stored = restored.cursor().execute("SELECT token_hash FROM sessions").fetchall()
        assert stored == [(sessions.token_hash(live),)]
        count = "SELECT failures FROM login_failures"
        assert restored.cursor().execute(count).fetchall() == [(1,)]
    finally:
        restored.close()


def test_looking_a_session_up_never_waits_for_a_writer(store):
    token = _open(store)
    held = threading.Event()
    release = threading.Event()

    def importer() -> None:  # holds the writer as a long import does
        with store.write():
            held.set()
            release.wait(timeout=60)

    worker = threading.Thread(target=importer)
    worker.start()
    held.wait(timeout=60)
    try:
        later = T0 + 10 * MINUTE  # due for a last-use update, which is skipped
        assert accounts.session_user(store, token, now=later) == accounts.User("li", "inspector")
        gone = T0 + 9 * HOUR  # idle: refused at once, deleted later
        assert accounts.session_user(store, token, now=gone) is None
    finally:
        release.set()
        worker.join(timeout=60)
    last = store.cursor().execute("SELECT last_seen FROM sessions").fetchall()
    assert last == [(T0,)]
