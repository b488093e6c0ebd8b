"""Who is looking: sign-in in the sidebar, the role's capabilities, the unmask switch.

The user lives in this browser session's state on the server; every check runs on the
server before data is read (``allowed``), never only by hiding a widget. Optional single
sign-on: when ``.streamlit/secrets.toml`` has an ``[auth]`` section, a button signs in
through Streamlit's OIDC login and the identity's e-mail is looked up in the users table.
"""

from __future__ import annotations

import json
from dataclasses import asdict

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from analytics import accounts
from ui.common import store, t


def user() -> accounts.User:
    """The signed-in user, or the visitor (role leader)."""
    return st.session_state.get("user") or _sso_user() or accounts.VISITOR


def allowed(capability: str) -> bool:
    """Whether the current user may ``capability`` (see ``accounts.CAN``)."""
    return user().can(capability)


def unmasked(**subject: object) -> bool:
    """Whether to read full names and ID numbers now (administrators who switched it on).

    Call it where the data is read, as ``query(..., unmask=auth.unmasked())``: a True answer
    is written to the audit log as ``view_unmasked`` with the page, the filters and
    ``subject`` (e.g. ``household=…``), once for each new page, filters and subject of this
    browser session (a rerun of the same view adds no line).
    """
    current = user()
    if not (current.can("unmask") and st.session_state.get("unmask")):
        return False
    view = st.session_state.get("_view")
    detail = {
        "page": page(),
        "filters": asdict(view) if view is not None else {},
        **{k: str(v) for k, v in subject.items()},
    }
    key = json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str)
    seen = st.session_state.setdefault("_unmask_audited", set())
    if key not in seen:
        accounts.audit(store(), current.username, "view_unmasked", detail)
        seen.add(key)
    return True


def audit_report(fmt: str, title: str) -> None:
    """Writes a situation-report download to the audit log (``download_report``) with its
    format, title and the filters it was written for (an ``on_click`` callback)."""
    view = st.session_state.get("_view")
    detail = {
        "format": fmt,
        "title": title,
        "filters": asdict(view) if view is not None else {},
    }
    accounts.audit(store(), user().username, "download_report", detail)


def deny(capability: str) -> None:
    """Says which role is needed, in place of what this user may not see."""
    st.info(t(f"need_{capability}"))


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
            box.toggle(t("unmask"), key="unmask", on_change=_unmask_changed)
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


def page() -> str:
    """The page being drawn, as its URL path ("drilldown"); "" for the default page."""
    ctx = get_script_run_ctx()
    if ctx is None:
        return ""
    pages = ctx.pages_manager.get_pages()
    return str(pages.get(ctx.pages_manager.current_page_script_hash, {}).get("url_pathname", ""))


def _unmask_changed() -> None:
    current = user()
    if current.can("unmask"):
        on = bool(st.session_state.get("unmask"))
        accounts.audit(store(), current.username, "unmask_on" if on else "unmask_off", {})
