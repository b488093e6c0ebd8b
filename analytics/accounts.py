"""Accounts, roles and the audit log.

Roles (what each may do is ``CAN``; pages and exports check it on the server):
- ``leader`` 领导: aggregates only, no household rows. A visitor without an account is a
  leader.
- ``inspector`` 核查人员: household rows and exports, names and ID numbers masked.
- ``admin`` 管理员: upload, delete batches, manage users, settings, unmasked data, the
  audit log.
Passwords are hashed with Argon2id (argon2-cffi); a clear password is never stored or
logged. The audit log records who uploaded, deleted, exported (with the filter) or viewed
unmasked data, and when. The command line acts as an administrator (reading the database
file is the credential) and is logged as ``cli:<operating-system user>``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
from dataclasses import dataclass

import duckdb
import pandas as pd
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from analytics.labels import label
from analytics.store import Store, os_user

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
MIN_PASSWORD = 8
_USERNAME = re.compile(r"^[\w.@-]{2,64}$")
_hasher = PasswordHasher()


class AccountError(ValueError):
    """A user cannot be created or changed as asked; ``str(err)`` is for the user (zh / en)."""


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


def has_users(store: Store) -> bool:
    """Whether any account exists (none: the first-run setup is due)."""
    return store.cursor().execute("SELECT count(*) FROM users").fetchone()[0] > 0


def create_user(store: Store, username: str, password: str, role: str, *, by: str = "") -> User:
    """Creates an account with an Argon2id password hash.

    Raises
    ------
    AccountError
        Bad user name, password shorter than ``MIN_PASSWORD``, unknown role, or the name is
        taken.
    """
    username = (username or "").strip()
    if not _USERNAME.match(username):
        raise AccountError(
            "用户名应为 2-64 位字母、数字或 . _ - @ / user name: 2-64 letters, digits or . _ - @"
        )
    if len(password or "") < MIN_PASSWORD:
        raise AccountError(
            f"密码至少 {MIN_PASSWORD} 位 / the password needs at least {MIN_PASSWORD} characters"
        )
    if role not in ROLES:
        raise AccountError(f"未知角色 {role} / unknown role {role}")
    digest = _hasher.hash(password)
    with store.write() as cur:
        taken = cur.execute("SELECT count(*) FROM users WHERE username = ?", [username])
        if taken.fetchone()[0]:
            raise AccountError(f"用户名 {username} 已存在 / user name {username} is taken")
        cur.execute(
            "INSERT INTO users VALUES (?, ?, ?, ?, FALSE)",
            [username, digest, role, dt.datetime.now()],
        )
        log(cur, by or username, "create_user", {"username": username, "role": role})
    return User(username, role)


def authenticate(store: Store, username: str, password: str) -> User | None:
    """The user when the name exists, is enabled and the password matches; else None."""
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
    """Changes a user's role (and keeps at least one enabled administrator).

    Raises
    ------
    AccountError
        Unknown role, unknown user, or the change would leave no administrator.
    """
    if role not in ROLES:
        raise AccountError(f"未知角色 {role} / unknown role {role}")
    with store.write() as cur:
        _require_user(cur, username)
        cur.execute("UPDATE users SET role = ? WHERE username = ?", [role, username])
        _keep_an_admin(cur)
        log(cur, by, "set_role", {"username": username, "role": role})


def set_disabled(store: Store, username: str, disabled: bool, *, by: str) -> None:
    """Disables or re-enables an account (keeping at least one enabled administrator).

    Raises
    ------
    AccountError
        Unknown user, or the change would leave no administrator.
    """
    with store.write() as cur:
        _require_user(cur, username)
        cur.execute("UPDATE users SET disabled = ? WHERE username = ?", [disabled, username])
        _keep_an_admin(cur)
        log(cur, by, "disable_user" if disabled else "enable_user", {"username": username})


def users(store: Store) -> pd.DataFrame:
    """Every account without its password hash: username, role, created_at, disabled."""
    sql = "SELECT username, role, created_at, disabled FROM users ORDER BY username"
    return store.cursor().execute(sql).df()


def audit(store: Store, actor: str, action: str, detail: dict | None = None) -> None:
    """Appends one line to the audit log (its own transaction).

    ``action`` is one of upload, delete_batch, export, export_unmasked, view_unmasked,
    create_user, set_role, disable_user, enable_user, settings, login, ...; ``detail`` a
    JSON-able dict (the filter of an export, the batch of an upload). Never a password.
    """
    with store.write() as cur:
        log(cur, actor, action, detail)


def audit_log(store: Store, limit: int = 10_000) -> pd.DataFrame:
    """The newest ``limit`` audit lines: logged_at, actor, action, detail (JSON text)."""
    sql = "SELECT * FROM audit ORDER BY logged_at DESC LIMIT ?"
    return store.cursor().execute(sql, [limit]).df()


def readable_audit(frame: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """The audit log (``audit_log``) for reading: action names in ``lang`` (labels
    ``action_<action>``), and each detail as "key: value" pairs in words, not JSON.

    Returns
    -------
    pd.DataFrame with the columns logged_at, actor, action, detail (all text but the time).
    """
    out = frame.copy()
    out["action"] = [_action(a, lang) for a in out["action"]]
    out["detail"] = [_detail_text(d, lang) for d in out["detail"]]
    return out


# detail keys whose label key differs
_DETAIL_KEYS = {"table": "table_name", "villages": "village_filter", "groups": "group"}


def _action(action: str, lang: str) -> str:
    text = label(f"action_{action}", lang)
    return action if text == f"action_{action}" else text


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
        name = label(_DETAIL_KEYS.get(key, key), lang)
        if key == "table" and isinstance(value, str):
            value = label(value, lang)
        elif key == "role" and isinstance(value, str):
            value = label(f"role_{value}", lang)
        elif isinstance(value, list):
            value = "、".join(map(str, value)) if value else "—"
        elif isinstance(value, dict):
            value = "；".join(f"{label(k, lang)}={v}" for k, v in value.items() if v) or "—"
        elif value is None or value == "":
            value = "—"
        parts.append(f"{name}：{value}")
    return "；".join(parts)


def log(cur: duckdb.DuckDBPyConnection, actor: str, action: str, detail: dict | None) -> None:
    """Appends one audit line inside the caller's transaction (see ``audit``)."""
    text = json.dumps(detail or {}, ensure_ascii=False, default=str)
    cur.execute(
        "INSERT INTO audit VALUES (?, ?, ?, ?)",
        [dt.datetime.now(), actor or "visitor", action, text],
    )


def _require_user(cur, username: str) -> None:
    if not cur.execute("SELECT count(*) FROM users WHERE username = ?", [username]).fetchone()[0]:
        raise AccountError(f"没有用户 {username} / no user {username}")


def _keep_an_admin(cur) -> None:
    n = cur.execute("SELECT count(*) FROM users WHERE role = 'admin' AND NOT disabled").fetchone()
    if not n[0]:
        raise AccountError(
            "至少需要一名可用的管理员 / at least one enabled administrator is needed"
        )
