"""Accounts, roles, signing in, and the audit log.

Roles (what each may do is ``CAN``; pages and exports check it on the server):
- ``leader`` 领导: aggregates only, no household rows. A visitor without an account is a
  leader.
- ``inspector`` 核查人员: household rows and exports, names and ID numbers masked.
- ``admin`` 管理员: upload, delete batches, manage users, settings, unmasked data, the
  audit log.
Passwords are hashed with Argon2id (argon2-cffi); a clear password is never stored or
logged. Signing in (``sign_in``) is throttled per account and client (``Throttle``) and
opens a server-side session (``start_session``, ``analytics/access/sessions.py``); a password,
role or enabled change ends every session of the user. The first administrator of a fresh
install needs the one-time setup token the server prints when it starts
(``new_setup_token``, ``create_first_admin``); ``python -m analytics adduser`` does not.
The audit log records sign-ins and failed ones, uploads, deletions, exports (with the
filter), unmasked views, reports, settings and account changes, and when (``ACTIONS``).
The command line acts as an administrator (reading the database file is the credential)
and is logged as ``cli:<operating-system user>``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import math
import re
import secrets
from dataclasses import dataclass

import duckdb
import pandas as pd
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from analytics.access import sessions
from analytics.access.sessions import utcnow
from analytics.domain import config, labels
from analytics.store.database import Store, os_user, scalar

ROLES = ("leader", "inspector", "admin")
CAN: dict[str, frozenset[str]] = {
    "view_households": frozenset({"inspector", "admin"}),
    "export_households": frozenset({"inspector", "admin"}),
    "unmask": frozenset({"admin"}),
    "upload": frozenset({"admin"}),
    "delete": frozenset({"admin"}),
    "settings": frozenset({"admin"}),
    "manage_users": frozenset({"admin"}),
    "read_audit": frozenset({"admin"}),
}
# What the audit log records (its ``action`` column); each has the label ``audit_<action>``
# in analytics/domain/labels.py.
ACTIONS = (
    "login",
    "login_failed",
    "logout",
    "create_first_admin",
    "create_user",
    "set_role",
    "disable_user",
    "enable_user",
    "set_password",
    "reset_password",
    "upload",
    "delete_batch",
    "delete_demo",
    "settings",
    "export",
    "export_unmasked",
    "unmask_on",
    "unmask_off",
    "view_unmasked",
    "download_report",
    "report",
    "confirm_spelling",
    "remove_spelling",
    "search",
)
MIN_PASSWORD = 8
_USERNAME = re.compile(r"^[\w.@-]{2,64}$")
_hasher = PasswordHasher()


class AccountError(ValueError):
    """A user cannot be created, changed or signed in as asked.

    ``key`` and ``fmt`` name the message in ``analytics/domain/labels.py``: ``message(lang)`` is
    it in one language, ``str(err)`` in both ("中文 / English", for the command line).
    """

    def __init__(self, key: str, **fmt: object) -> None:
        self.key = key
        self.fmt = fmt
        super().__init__(f"{self.message('zh')} / {self.message('en')}")

    def message(self, lang: str) -> str:
        """The message in ``lang`` ("zh" or "en")."""
        return labels.label(self.key, lang, **self.fmt)


class TooManyAttempts(AccountError):
    """A sign-in (or password check) inside the wait after failed ones; ``retry_in`` is how
    long until the next attempt is taken."""

    def __init__(self, retry_in: dt.timedelta) -> None:
        self.retry_in = retry_in
        super().__init__("err_wait", s=math.ceil(retry_in.total_seconds()))


@dataclass(frozen=True)
class User:
    """A signed-in user (or the anonymous visitor, role leader, name "")."""

    username: str
    role: str

    def can(self, capability: str) -> bool:
        """Whether this user's role grants ``capability`` (a key of ``CAN``).

        Raises
        ------
        KeyError
            For an unknown capability (a typo must not silently deny or grant).
        """
        return self.role in CAN[capability]


VISITOR = User("", "leader")
CLI = User(f"cli:{os_user()}", "admin")


@dataclass(frozen=True)
class Throttle:
    """The growing wait after failed sign-ins of one account from one client.

    After ``free`` failures in a row, the next attempt is taken only ``first`` x
    2^(failures - free) after the last failure, at most ``cap`` (5 s, 10 s, 20 s, ... 15
    min: about ten tries in the first hour instead of thousands). A success, or ``forget``
    without a failure, starts over. Attempts inside the wait are refused without looking
    at the password, so they cost nothing and tell nothing, and the wait is held in the
    database, not by a sleeping server thread.

    The key is the account and the client together, as OWASP's Authentication Cheat Sheet
    ("Login Throttling", "Account Lockout") advises: failures from one place never delay
    the real user elsewhere. Unknown names are keyed the same way, so the wait does not
    tell which names exist.
    """

    free: int = 3
    first: dt.timedelta = dt.timedelta(seconds=5)
    cap: dt.timedelta = dt.timedelta(minutes=15)
    forget: dt.timedelta = dt.timedelta(hours=24)

    def delay(self, failures: int) -> dt.timedelta:
        """How long after the last of ``failures`` failures the next attempt waits."""
        if failures < self.free:
            return dt.timedelta(0)
        return min(self.first * 2 ** min(failures - self.free, 30), self.cap)


THROTTLE = Throttle()
# Household searches that find nothing, per account and client: ten free misses, then a
# growing wait (2 s, 4 s, ... 15 min), so that an ID number cannot be worked out by trying
# its hidden digits (issue 12: 58 searches rebuilt one). A hit does not start over.
SEARCH_THROTTLE = Throttle(free=10, first=dt.timedelta(seconds=2))


# ------------------------------------------------------------------ accounts
def has_users(store: Store) -> bool:
    """Whether any account exists (none: the first-run setup is due)."""
    return scalar(store.cursor(), "SELECT count(*) FROM users") > 0


def _checked(username: str, password: str, role: str) -> str:
    """The user name, stripped, once name, password and role are acceptable.

    Raises
    ------
    AccountError
        Bad user name, password shorter than ``MIN_PASSWORD``, unknown role.
    """
    username = (username or "").strip()
    if not _USERNAME.match(username):
        raise AccountError("err_username")
    _check_password(password)
    if role not in ROLES:
        raise AccountError("err_role", r=role)
    return username


def _check_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD:
        raise AccountError("err_password_short", n=MIN_PASSWORD)


def create_user(store: Store, username: str, password: str, role: str, *, by: str = "") -> User:
    """Creates an account with an Argon2id password hash.

    Raises
    ------
    AccountError
        Bad user name, password shorter than ``MIN_PASSWORD``, unknown role, or the name is
        taken.
    """
    username = _checked(username, password, role)
    digest = _hasher.hash(password)
    with store.write() as cur:
        if scalar(cur, "SELECT count(*) FROM users WHERE username = ?", [username]):
            raise AccountError("err_taken", u=username)
        cur.execute(
            "INSERT INTO users VALUES (?, ?, ?, ?, FALSE)",
            [username, digest, role, dt.datetime.now()],
        )
        log(cur, by or username, "create_user", {"username": username, "role": role})
    return User(username, role)


def new_setup_token(store: Store, *, now: dt.datetime | None = None) -> str | None:
    """A new one-time token for creating the first administrator, or None when an account
    exists already.

    The server calls this when it starts and prints the token to its console: whoever
    reaches a fresh install first cannot make themselves administrator without it. Only
    the token's SHA-256 is stored; a new one replaces the last, creating the first
    administrator uses it up.
    """
    with store.write() as cur:
        cur.execute("DELETE FROM setup_token")
        if scalar(cur, "SELECT count(*) FROM users"):
            return None
        token = secrets.token_urlsafe(15)  # 20 characters, 120 bits
        cur.execute(
            "INSERT INTO setup_token VALUES (?, ?)",
            [sessions.token_hash(token), now or utcnow()],
        )
    return token


def create_first_admin(store: Store, username: str, password: str, token: str) -> User:
    """Creates the first administrator of a fresh install with the one-time setup token.

    Atomic: in one transaction it checks that no account exists and uses the token up
    (a DELETE of its row, which a concurrent transaction cannot also do), so of two
    concurrent creations exactly one succeeds.

    Raises
    ------
    AccountError
        Bad user name or password, an account exists already, or the token is wrong.
    """
    username = _checked(username, password, "admin")
    digest = _hasher.hash(password)
    with store.write() as cur:
        if scalar(cur, "SELECT count(*) FROM users"):
            raise AccountError("err_admin_exists")
        used = cur.execute(
            "DELETE FROM setup_token WHERE token_hash = ? RETURNING token_hash",
            [sessions.token_hash((token or "").strip())],
        ).fetchall()
        if not used:
            raise AccountError("err_setup_token")
        cur.execute(
            "INSERT INTO users VALUES (?, ?, 'admin', ?, FALSE)",
            [username, digest, dt.datetime.now()],
        )
        log(cur, username, "create_first_admin", {"username": username})
    return User(username, "admin")


def authenticate(store: Store, username: str, password: str) -> User | None:
    """The user when the name exists, is enabled and the password matches; else None.

    Not throttled: the sign-in form goes through ``sign_in``.
    """
    row = (
        store.cursor()
        .execute(
            "SELECT password_hash, role FROM users WHERE username = ? AND NOT disabled",
            [(username or "").strip()],
        )
        .fetchone()
    )
    if row is None or not row[0]:
        _hasher.hash(password or "x")  # same work whether or not the user exists
        return None
    try:
        _hasher.verify(row[0], password or "")
    except (VerificationError, InvalidHashError):
        return None
    return User(username.strip(), row[1])


def user_for_login(store: Store, email: str) -> User:
    """The account of a single-sign-on identity (its e-mail as user name); a leader if none."""
    row = (
        store.cursor()
        .execute("SELECT role FROM users WHERE username = ? AND NOT disabled", [email])
        .fetchone()
    )
    return User(email, row[0]) if row else User(email, "leader")


def set_role(store: Store, username: str, role: str, *, by: str) -> None:
    """Changes a user's role (and keeps at least one enabled administrator); a change ends
    the user's sessions.

    Raises
    ------
    AccountError
        Unknown role, unknown user, or the change would leave no administrator.
    """
    if role not in ROLES:
        raise AccountError("err_role", r=role)
    with store.write() as cur:
        _require_user(cur, username)
        before = scalar(cur, "SELECT role FROM users WHERE username = ?", [username])
        cur.execute("UPDATE users SET role = ? WHERE username = ?", [role, username])
        _keep_an_admin(cur)
        ended = sessions.end_for_user(cur, username) if before != role else 0
        detail = {"username": username, "role": role, "sessions_ended": ended}
        log(cur, by, "set_role", detail)


def set_disabled(store: Store, username: str, disabled: bool, *, by: str) -> None:
    """Disables or re-enables an account (keeping at least one enabled administrator);
    disabling ends the user's sessions.

    Raises
    ------
    AccountError
        Unknown user, or the change would leave no administrator.
    """
    with store.write() as cur:
        _require_user(cur, username)
        cur.execute("UPDATE users SET disabled = ? WHERE username = ?", [disabled, username])
        _keep_an_admin(cur)
        ended = sessions.end_for_user(cur, username) if disabled else 0
        detail = {"username": username, "sessions_ended": ended}
        log(cur, by, "disable_user" if disabled else "enable_user", detail)


def set_password(store: Store, username: str, password: str, *, by: str) -> None:
    """Sets a new password (an administrator's reset, or ``python -m analytics passwd``);
    ends every session of the user.

    Raises
    ------
    AccountError
        Unknown user, or a password shorter than ``MIN_PASSWORD``.
    """
    _check_password(password)
    digest = _hasher.hash(password)
    with store.write() as cur:
        _require_user(cur, username)
        cur.execute("UPDATE users SET password_hash = ? WHERE username = ?", [digest, username])
        ended = sessions.end_for_user(cur, username)
        log(cur, by, "reset_password", {"username": username, "sessions_ended": ended})


def change_password(
    store: Store,
    username: str,
    current: str,
    new: str,
    *,
    client: str,
    now: dt.datetime | None = None,
) -> None:
    """A user changes their own password, giving the current one; ends all their sessions
    (this one too: they sign in again with the new password).

    The current password is checked under the same ``Throttle`` as signing in, so that a
    borrowed session cannot be used to guess it.

    Raises
    ------
    TooManyAttempts
        Inside the wait after failed checks.
    AccountError
        The current password is wrong, or the new one is too short.
    """
    _check_password(new)
    now = now or utcnow()
    if _check(store, username, current, client=client, now=now) is None:
        raise AccountError("err_current_password")
    digest = _hasher.hash(new)
    with store.write() as cur:
        cur.execute("UPDATE users SET password_hash = ? WHERE username = ?", [digest, username])
        ended = sessions.end_for_user(cur, username)
        log(cur, username, "set_password", {"sessions_ended": ended})


def users(store: Store) -> pd.DataFrame:
    """Every account without its password hash: username, role, created_at, disabled."""
    sql = "SELECT username, role, created_at, disabled FROM users ORDER BY username"
    return store.cursor().execute(sql).df()


# ------------------------------------------------------------------ signing in
def sign_in(
    store: Store,
    username: str,
    password: str,
    *,
    client: str,
    now: dt.datetime | None = None,
    throttle: Throttle = THROTTLE,
) -> User | None:
    """The user when name and password are right, else None (unknown name, wrong password
    and disabled account alike); a failure is audited as ``login_failed``.

    ``client`` is where the attempt comes from (the browser's IP address); with the name it
    keys the ``Throttle``.

    Raises
    ------
    TooManyAttempts
        Inside the wait after failed attempts of this name from this client (the password
        is then not checked, right or wrong).
    """
    return _check(store, username, password, client=client, now=now or utcnow(), throttle=throttle)


def _check(
    store: Store,
    username: str,
    password: str,
    *,
    client: str,
    now: dt.datetime,
    throttle: Throttle = THROTTLE,
) -> User | None:
    name = (username or "").strip()[:128]
    key = hashlib.sha256(name.encode("utf-8")).hexdigest()
    client = (client or "-")[:64]
    # Count the attempt as a failure before the (slow) password check: concurrent attempts
    # then see each other, and a success takes the count back.
    with store.write() as cur:
        cur.execute("DELETE FROM login_failures WHERE last_failure <= ?", [now - throttle.forget])
        row = cur.execute(
            "SELECT failures, last_failure FROM login_failures "
            "WHERE account_hash = ? AND client = ?",
            [key, client],
        ).fetchone()
        failures = row[0] if row else 0
        if row is not None:
            wait = throttle.delay(failures) - (now - row[1])
            if wait > dt.timedelta(0):
                raise TooManyAttempts(wait)
        cur.execute(
            "INSERT OR REPLACE INTO login_failures VALUES (?, ?, ?, ?)",
            [key, client, failures + 1, now],
        )
    found = authenticate(store, name, password)
    with store.write() as cur:
        if found is not None:
            cur.execute(
                "DELETE FROM login_failures WHERE account_hash = ? AND client = ?", [key, client]
            )
            return found
        known = scalar(cur, "SELECT count(*) FROM users WHERE username = ?", [name])
        # A name that is no account may be a password typed in the wrong box: not logged.
        account = name if known else None
        detail = {"account": account, "client": client, "failures": failures + 1}
        log(cur, "visitor", "login_failed", detail)
    return None


def check_search(
    store: Store,
    username: str,
    *,
    client: str,
    now: dt.datetime | None = None,
    throttle: Throttle = SEARCH_THROTTLE,
) -> None:
    """Refuses a household search inside the wait after too many that found nothing
    (``SEARCH_THROTTLE``), keyed on the account and the client.

    Raises
    ------
    TooManyAttempts
        Inside the wait.
    """
    now = now or utcnow()
    with store.write() as cur:
        cur.execute("DELETE FROM search_misses WHERE last_miss <= ?", [now - throttle.forget])
        row = cur.execute(
            "SELECT misses, last_miss FROM search_misses WHERE username = ? AND client = ?",
            [username, client],
        ).fetchone()
    if row is not None:
        wait = throttle.delay(row[0]) - (now - row[1])
        if wait > dt.timedelta(0):
            raise TooManyAttempts(wait)


def record_search(
    store: Store,
    username: str,
    shown: str,
    hits: int,
    *,
    client: str,
    now: dt.datetime | None = None,
) -> None:
    """Audits one household search (``search``, with the query as the searcher may see it
    and the number of households found) and counts it: a miss adds to the account and
    client's misses. A hit does not start over (a household id is always at hand to hit
    with, so it would reopen guessing); the misses are forgotten after
    ``SEARCH_THROTTLE.forget`` without one."""
    now = now or utcnow()
    with store.write() as cur:
        if not hits:
            row = cur.execute(
                "SELECT misses FROM search_misses WHERE username = ? AND client = ?",
                [username, client],
            ).fetchone()
            cur.execute(
                "INSERT OR REPLACE INTO search_misses VALUES (?, ?, ?, ?)",
                [username, client, (row[0] if row else 0) + 1, now],
            )
        log(cur, username, "search", {"query": shown, "households": hits})


def start_session(
    store: Store, user: User, *, client: str = "", now: dt.datetime | None = None
) -> str:
    """Opens a session for a user who has just signed in; returns its token (audited as
    ``login``). Sessions idle past the timeout are cleared on the way."""
    now = now or utcnow()
    with store.write() as cur:
        sessions.prune(cur, now=now, idle=config.session_idle())
        token = sessions.open_session(cur, user.username, client=client, now=now)
        log(cur, user.username, "login", {"client": client})
    return token


def session_user(store: Store, token: str | None, *, now: dt.datetime | None = None) -> User | None:
    """The user of a live session token (see ``sessions.lookup``), else None."""
    found = sessions.lookup(store, token, now=now)
    return User(*found) if found else None


def sign_out(store: Store, token: str | None) -> None:
    """Ends the session of ``token`` (audited as ``logout``); the token is worthless after."""
    with store.write() as cur:
        name = sessions.close(cur, token)
        if name:
            log(cur, name, "logout", {})


# ------------------------------------------------------------------ audit log
def audit(store: Store, actor: str, action: str, detail: dict | None = None) -> None:
    """Appends one line to the audit log (its own transaction).

    ``action`` is one of ``ACTIONS``; ``detail`` a JSON-able dict (the filter of an export,
    the batch of an upload). Never a password.
    """
    with store.write() as cur:
        log(cur, actor, action, detail)


def audit_log(store: Store, limit: int = 10_000) -> pd.DataFrame:
    """The newest ``limit`` audit lines: logged_at, actor, action, detail (JSON text)."""
    sql = "SELECT * FROM audit ORDER BY logged_at DESC LIMIT ?"
    return store.cursor().execute(sql, [limit]).df()


def readable_audit(frame: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """The audit log (``audit_log``) for reading: actions in words
    (``labels.action_label``) and each detail as "key: value" pairs in words, not JSON.

    Returns
    -------
    pd.DataFrame with the columns logged_at, actor, action, detail (all text but the time).
    """
    out = frame.copy()
    out["logged_at"] = pd.to_datetime(out["logged_at"]).dt.floor("s")
    out["actor"] = [labels.label("visitor", lang) if a == "visitor" else a for a in out["actor"]]
    out["action"] = [labels.action_label(a, lang) for a in out["action"]]
    out["detail"] = [_detail_text(d, lang) for d in out["detail"]]
    return out


# detail keys whose label key differs
_DETAIL_KEYS = {"table": "table_name", "villages": "village_filter", "groups": "group"}
# detail keys whose values are codes, and the label key of a value
_CODED = {
    "basis": "basis_{}",
    "status": "status_{}",
    "field": "{}",
    "client": "client_{}",
}


def _code_text(key: str, value: object, lang: str) -> object:
    """A coded detail value in words (``_CODED``); any other value as it is."""
    pattern = _CODED.get(key)
    if pattern is None or not isinstance(value, str):
        return value
    return labels.label(pattern.format(value), lang) if value else value


def _detail_text(raw: object, lang: str) -> str:
    try:
        data = json.loads(str(raw)) if raw else {}
    except ValueError:
        return str(raw)
    if not isinstance(data, dict):
        return str(data)
    parts = []
    for key, value in data.items():
        if isinstance(value, str) and value.startswith("{"):
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        name = labels.label(_DETAIL_KEYS.get(key) or key, lang)
        if key == "table" and isinstance(value, str):
            value = labels.label(value, lang)
        elif key == "role" and isinstance(value, str):
            value = labels.label(f"role_{value}", lang)
        elif isinstance(value, list):
            value = "、".join(map(str, value)) if value else "—"
        elif isinstance(value, dict):
            value = "；".join(
                f"{labels.label(k, lang)}={_code_text(k, v, lang)}" for k, v in value.items() if v
            )
            value = value or "—"
        elif value is None or value == "":
            value = "—"
        else:
            value = _code_text(key, value, lang)
        parts.append(f"{name}：{value}")
    return "；".join(parts)


def log(cur: duckdb.DuckDBPyConnection, actor: str, action: str, detail: dict | None) -> None:
    """Appends one audit line inside the caller's transaction (see ``audit``); ``action``
    is one of ``ACTIONS``."""
    text = json.dumps(detail or {}, ensure_ascii=False, default=str)
    cur.execute(
        "INSERT INTO audit VALUES (?, ?, ?, ?)",
        [dt.datetime.now(), actor or "visitor", action, text],
    )


def _require_user(cur, username: str) -> None:
    if not scalar(cur, "SELECT count(*) FROM users WHERE username = ?", [username]):
        raise AccountError("err_no_user", u=username)


def _keep_an_admin(cur) -> None:
    n = cur.execute("SELECT count(*) FROM users WHERE role = 'admin' AND NOT disabled").fetchone()
    if not n[0]:
        raise AccountError("err_last_admin")
