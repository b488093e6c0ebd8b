"""Signing a user in to an ``AppTest`` session as the sign-in form does: a real session in
the database, its token in the session's state (``ui.auth.TOKEN_KEY``).

AppTest has no browser, so no cookie: the token in the state is what keeps the session
signed in from run to run, and every run looks it up in the database like a cookie's.
"""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from analytics.access import accounts
from analytics.store.database import Store
from ui.auth import TOKEN_KEY

PASSWORD = "a long test password"


def sign_in(at: AppTest, db: Path | str, user: accounts.User) -> str:
    """Signs ``user`` in to ``at`` (creating the account with ``PASSWORD`` when the database
    has none of that name); returns the session token."""
    store = Store(db)
    try:
        roles = accounts.users(store).set_index("username")["role"]
        if user.username not in roles:
            accounts.create_user(store, user.username, PASSWORD, user.role, by="test")
        elif roles[user.username] != user.role:
            accounts.set_role(store, user.username, user.role, by="test")
        token = accounts.start_session(store, user)
    finally:
        store.close()
    at.session_state[TOKEN_KEY] = token
    return token
