"""Who is looking: sign-in in the sidebar, the role's capabilities, the unmask switch.

The user lives in this browser session's state on the server; every check runs on the
server before data is read (``allowed``), never only by hiding a widget. Optional single
sign-on: when ``.streamlit/secrets.toml`` has an ``[auth]`` section, a button signs in
through Streamlit's OIDC login and the identity's e-mail is looked up in the users table.
"""

from __future__ import annotations

import streamlit as st

from analytics import accounts
from ui.common import store, t


def user() -> accounts.User:
    """The signed-in user, or the visitor (role leader)."""
    return st.session_state.get("user") or _sso_user() or accounts.VISITOR


def allowed(capability: str) -> bool:
    """Whether the current user may ``capability`` (see ``accounts.CAN``)."""
    return user().can(capability)


def unmasked() -> bool:
    """Whether this session asked for full names and ID numbers (administrators only)."""
    return allowed("unmask") and bool(st.session_state.get("unmask"))


def deny(capability: str) -> None:
    """Says which role is needed, in place of what this user may not see: a visitor is asked
    to sign in, a signed-in user is told the role it has."""
    current = user()
    if current.username:
        after = t("need_other_role", r=t(f"role_{current.role}"))
    else:
        after = t("need_sign_in")
    st.info(f"{t(f'need_{capability}')}{after}")


def _sso_configured() -> bool:
    try:
        return "auth" in st.secrets
    except (FileNotFoundError, KeyError, AttributeError, RuntimeError):
        return False
    except Exception:
        return False


def _sso_user() -> accounts.User | None:
    if not _sso_configured():
        return None
    info = getattr(st, "user", None)
    if info is None or not getattr(info, "is_logged_in", False):
        return None
    return accounts.user_for_login(store(), str(info.get("email", "")))


def sidebar() -> None:
    """Sign-in form, or the signed-in user with sign-out and (admins) the unmask switch."""
    s = store()
    box = st.sidebar.container(border=True)
    current = user()
    if current.username:
        box.caption(t("signed_in_as", u=current.username, r=t(f"role_{current.role}")))
        if current.can("unmask"):
            before = bool(st.session_state.get("unmask"))
            now = box.toggle(t("unmask"), key="unmask")
            if now and not before:
                accounts.audit(s, current.username, "view_unmasked", {"page": _page()})
        if box.button(t("sign_out"), key="sign_out"):
            st.session_state.pop("user", None)
            st.session_state.pop("unmask", None)
            if _sso_configured() and getattr(st, "user", None) and st.user.is_logged_in:
                st.logout()
            st.rerun()
        return
    box.caption(t("visitor_role"))
    with box.expander(t("sign_in")):
        with st.form("sign_in_form", border=False):
            name = st.text_input(t("username"), key="login_name")
            password = st.text_input(t("password"), type="password", key="login_password")
            if st.form_submit_button(t("sign_in")):
                found = accounts.authenticate(s, name, password)
                if found is None:
                    st.error(t("bad_login"))
                else:
                    st.session_state["user"] = found
                    accounts.audit(s, found.username, "login", {})
                    st.rerun()
        if _sso_configured() and st.button(t("sso_login"), key="sso_login"):
            st.login()


def _page() -> str:
    try:
        return st.context.url or ""
    except AttributeError:
        return ""
