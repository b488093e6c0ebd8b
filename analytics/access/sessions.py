"""Signed-in sessions: an opaque random token per sign-in, revocable on the server.

A correct password (``accounts.sign_in``) opens a session: 32 random bytes (``secrets``),
URL-safe, which the browser keeps in an HttpOnly cookie (``ui/server.py``) and this
process in the browser session's state. The database keeps only the token's SHA-256 with
the user name, when it was opened and last used, and the client; a copy of the database
or a backup therefore holds no usable token. Every page run looks the token up
(``lookup``): the session counts while the account exists, is enabled, and was used within
the idle timeout (``config.session_idle``, default 8 hours). Signing out deletes the row;
a password, role or enabled change deletes every row of the user (``end_for_user``), so a
copied cookie is worthless from then on.

The cookie cannot be written by a page script (Streamlit 1.67, streamlit/streamlit#14730),
so the script hands the token to the browser through a one-time code (``OneTimeCodes``):
short-lived, single-use, kept only in this process's memory, exchanged by a route of the
server for the cookie.

Times are UTC without a zone (``utcnow``); every function takes ``now`` so that tests
drive the clock.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass, field

import duckdb

from analytics.domain import config
from analytics.store.database import Store

TOKEN_BYTES = 32  # 256 bits, as OWASP's session management cheat sheet asks (>= 64 bits)
# last_seen is written at most this often: a page run reads, it does not write each time.
TOUCH_EVERY = dt.timedelta(minutes=1)
CODE_TTL = dt.timedelta(seconds=60)  # a one-time code is redeemed by a redirect, at once


def utcnow() -> dt.datetime:
    """The current time in UTC, without a zone (as the sessions table stores it)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def token_hash(token: str) -> str:
    """The SHA-256 (hex) of a token: what the database stores in its place."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def open_session(
    cur: duckdb.DuckDBPyConnection, username: str, *, client: str = "", now: dt.datetime
) -> str:
    """Opens a session for ``username`` inside the caller's transaction; returns its token.

    The token is returned once and stored nowhere but as its hash.
    """
    token = secrets.token_urlsafe(TOKEN_BYTES)
    cur.execute(
        "INSERT INTO sessions VALUES (?, ?, ?, ?, ?)",
        [token_hash(token), username, now, now, client[:64]],
    )
    return token


def lookup(
    store: Store,
    token: str | None,
    *,
    now: dt.datetime | None = None,
    idle: dt.timedelta | None = None,
) -> tuple[str, str] | None:
    """(user name, role) of a live session, or None.

    A session is live while its account exists and is enabled and its last use is less
    than ``idle`` ago (default ``config.session_idle()``). An idle session is deleted when
    seen; a live one has its last use moved to ``now`` (at most once per ``TOUCH_EVERY``).
    Neither write waits for another writer (an import): it is skipped then, and a page
    never stalls on it.
    """
    if not token:
        return None
    now = now or utcnow()
    idle = idle or config.session_idle()
    digest = token_hash(token)
    row = (
        store.cursor()
        .execute(
            """SELECT s.username, u.role, s.last_seen FROM sessions s
            JOIN users u USING (username) WHERE s.token_hash = ? AND NOT u.disabled""",
            [digest],
        )
        .fetchone()
    )
    if row is None:
        return None
    username, role, last_seen = row
    if now - last_seen >= idle:
        with store.write_if_free() as cur:  # else deleted by a later look or sign-in
            if cur is not None:
                cur.execute("DELETE FROM sessions WHERE token_hash = ?", [digest])
        return None
    if now - last_seen >= TOUCH_EVERY:
        with store.write_if_free() as cur:  # else noted at a later run
            if cur is not None:
                cur.execute(
                    "UPDATE sessions SET last_seen = ? WHERE token_hash = ? AND last_seen < ?",
                    [now, digest, now],
                )
    return username, role


def close(cur: duckdb.DuckDBPyConnection, token: str | None) -> str | None:
    """Ends one session inside the caller's transaction; returns its user name (None when
    there was no such session)."""
    if not token:
        return None
    row = cur.execute(
        "DELETE FROM sessions WHERE token_hash = ? RETURNING username", [token_hash(token)]
    ).fetchone()
    return row[0] if row else None


def end_for_user(cur: duckdb.DuckDBPyConnection, username: str) -> int:
    """Ends every session of ``username`` inside the caller's transaction; how many."""
    rows = cur.execute(
        "DELETE FROM sessions WHERE username = ? RETURNING token_hash", [username]
    ).fetchall()
    return len(rows)


def prune(cur: duckdb.DuckDBPyConnection, *, now: dt.datetime, idle: dt.timedelta) -> None:
    """Deletes sessions idle for longer than ``idle`` (inside the caller's transaction)."""
    cur.execute("DELETE FROM sessions WHERE last_seen <= ?", [now - idle])


@dataclass
class OneTimeCodes:
    """Codes that hand a session token from a page script to the cookie route, in memory.

    A code is 32 random bytes, valid for ``ttl`` and for one redemption. It can be bound
    to the browser that asked for it (the value of a cookie the script saw): then only a
    request carrying the same value redeems it, so a code sent to someone else's browser
    (a login-CSRF link) signs nobody in. Thread-safe: scripts run on their own threads.
    """

    ttl: dt.timedelta = CODE_TTL
    _codes: dict[str, tuple[str, str | None, dt.datetime]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def mint(self, token: str, binding: str | None, *, now: dt.datetime | None = None) -> str:
        """A new code for ``token``, bound to ``binding`` (None: any browser)."""
        now = now or utcnow()
        code = secrets.token_urlsafe(TOKEN_BYTES)
        with self._lock:
            for key, (_, _, expires) in list(self._codes.items()):
                if expires <= now:
                    del self._codes[key]
            self._codes[token_hash(code)] = (token, binding, now + self.ttl)
        return code

    def redeem(
        self, code: str | None, binding: str | None, *, now: dt.datetime | None = None
    ) -> str | None:
        """The token of a live code whose binding matches; the code is used up either way."""
        if not code:
            return None
        now = now or utcnow()
        with self._lock:
            entry = self._codes.pop(token_hash(code), None)
        if entry is None:
            return None
        token, bound, expires = entry
        if expires <= now:
            return None
        if bound is not None and not hmac.compare_digest(bound, binding or ""):
            return None
        return token
