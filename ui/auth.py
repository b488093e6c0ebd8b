"""Who is looking: sign-in in the sidebar, the role's capabilities, the unmask switch.

A signed-in user is a session in the database (``analytics/access/sessions.py``): this browser
session keeps its token in its state, and the browser in the HttpOnly cookie that
``ui/server.py`` sets after the sign-in, so that a reload or a new tab stays signed in.
Every check looks the token up again (``user``): a session ended elsewhere (sign-out, a
password, role or enabled change, the idle timeout) counts from the next run on. Every
check runs on the server before data is read (``allowed``), never only by hiding a widget.

Optional single sign-on: when ``.streamlit/secrets.toml`` has an ``[auth]`` section, a button
signs in through Streamlit's OIDC login and the identity's e-mail is looked up in the users
table.
"""

from __future__ import annotations

import json
import urllib.parse

import streamlit as st
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.runtime.scriptrunner import get_script_run_ctx

from analytics.access import accounts
from ui import server
from ui.common import audit_filters, lang, md, store, t, tm

TOKEN_KEY = "auth_token"  # this browser session's session token (server-side state)


def user() -> accounts.User:
    """The signed-in user, or the visitor (role leader)."""
    return _session_user() or _sso_user() or accounts.VISITOR


def allowed(capability: str) -> bool:
    """Whether the current user may ``capability`` (see ``accounts.CAN``)."""
    return user().can(capability)


def unmasked(**subject: object) -> bool:
    """Whether to read full names and ID numbers now (administrators who switched it on).

    Call it where the data is read, as ``reads.search(..., unmask=auth.unmasked())``: a True
    answer is written to the audit log as ``view_unmasked`` with the page, the filters and
    ``subject`` (e.g. ``household=…``), once for each new page, filters and subject of this
    browser session (a rerun of the same view adds no line).
    """
    current = user()
    if not (current.can("unmask") and st.session_state.get("unmask")):
        return False
    detail = {
        "page": page(),
        "filters": audit_filters(),
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
    detail = {"format": fmt, "title": title, "filters": audit_filters()}
    accounts.audit(store(), user().username, "download_report", detail)


def deny(capability: str) -> None:
    """Says which role is needed, in place of what this user may not see: a visitor is asked
    to sign in, a signed-in user is told the role it has."""
    current = user()
    if current.username:
        after = t("need_other_role", r=t(f"role_{current.role}"))
    else:
        after = t("need_sign_in")
    st.info(f"{t(f'need_{capability}')}{after}")


def client() -> str:
    """Where this browser session connects from (its IP address; "local" on this machine):
    with the user name, the key of the sign-in throttle."""
    ip = st.context.ip_address
    return ip if isinstance(ip, str) and ip else "local"


def _cookie(name: str) -> str | None:
    """A cookie the browser sent when this session connected (None without a browser)."""
    value = st.context.cookies.get(name)
    return value if isinstance(value, str) and value else None


def _tokens() -> list[str]:
    """Session tokens this browser session holds: its own (state), then the cookie's."""
    found = [st.session_state.get(TOKEN_KEY), _cookie(server.SESSION_COOKIE)]
    return [tok for tok in found if isinstance(tok, str) and tok]


def _session_user() -> accounts.User | None:
    for token in _tokens():
        found = accounts.session_user(store(), token)
        if found is not None:
            return found
    return None


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


def _go(route: str, **params: str) -> None:
    """Sends the browser to one of ``ui/server.py``'s routes, then back to this page.

    Uses the message ``st.login`` sends for its own redirect (``ForwardMsg.auth_redirect``:
    the page sets ``window.location``); without a browser (tests) nothing happens.
    """
    ctx = get_script_run_ctx()
    if ctx is None:
        return
    msg = ForwardMsg()
    msg.auth_redirect.url = server.url(route, next=_here(), **params)
    ctx.enqueue(msg)


def page() -> str:
    """The page being drawn, as its URL path ("drilldown"); "" for the default page."""
    ctx = get_script_run_ctx()
    if ctx is None:
        return ""
    pages = ctx.pages_manager.get_pages()
    return str(pages.get(ctx.pages_manager.current_page_script_hash, {}).get("url_pathname", ""))


def _path() -> str:
    """This page's path ("/data"), without the query string."""
    url = st.context.url
    return urllib.parse.urlsplit(url if isinstance(url, str) else "").path or "/"


def _here() -> str:
    """This page's path and query string, to come back to after a redirect."""
    query = urllib.parse.urlencode(
        [(k, v) for k in st.query_params for v in st.query_params.get_all(k)]
    )
    return _path() + (f"?{query}" if query else "")


def start_session(found: accounts.User) -> None:
    """Signs ``found`` in and ends this run: a new session for this browser session now, and
    for the browser (the cookie, through a one-time code) by the redirect that follows, which
    reloads the page. (A rerun instead of the stop would drop the redirect message.)"""
    token = accounts.start_session(store(), found, client=client())
    st.session_state[TOKEN_KEY] = token
    code = server.CODES.mint(token, _cookie(server.BROWSER_COOKIE))
    _go(server.OPEN, code=code)
    st.stop()


def end_session() -> None:
    """Signs out: the session ends in the database (the cookie is worthless from now on),
    then the browser drops the cookie (a redirect that reloads the page; this run ends)."""
    tokens = _tokens()
    for token in tokens:
        accounts.sign_out(store(), token)
    st.session_state.pop(TOKEN_KEY, None)
    st.session_state.pop("unmask", None)
    if tokens:
        _go(server.CLOSE)
        st.stop()


def _unmask_changed() -> None:
    current = user()
    if current.can("unmask"):
        on = bool(st.session_state.get("unmask"))
        accounts.audit(store(), current.username, "unmask_on" if on else "unmask_off", {})


def sidebar() -> None:
    """Sign-in form, or the signed-in user with sign-out, own password and (admins) the
    unmask switch."""
    s = store()
    box = st.sidebar.container(border=True)
    current = user()
    if current.username:
        box.caption(tm("signed_in_as", u=current.username, r=t(f"role_{current.role}")))
        if current.can("unmask"):
            box.toggle(t("unmask"), key="unmask", on_change=_unmask_changed)
        if box.button(t("sign_out"), key="sign_out"):
            end_session()
            if _sso_configured() and getattr(st, "user", None) and st.user.is_logged_in:
                st.logout()
            st.rerun()
        if _tokens():
            _password_form(box, current)
        return
    if st.session_state.pop("_password_changed", False):
        box.success(t("password_changed"))
    box.caption(t("visitor_role"))
    with box.expander(t("sign_in")):
        with st.form("sign_in_form", border=False):
            name = st.text_input(t("username"), key="login_name")
            password = st.text_input(t("password"), type="password", key="login_password")
            if st.form_submit_button(t("sign_in")):
                try:
                    found = accounts.sign_in(s, name, password, client=client())
                except accounts.TooManyAttempts as e:
                    st.error(md(e.message(lang())))
                else:
                    if found is None:
                        st.error(t("bad_login"))
                    else:
                        start_session(found)
        if _sso_configured() and st.button(t("sso_login"), key="sso_login"):
            st.login()


def _password_form(box, current: accounts.User) -> None:
    """A signed-in user changes their own password (all their sign-ins end)."""
    with box.expander(t("change_password")), st.form("password_form", border=False):
        old = st.text_input(t("current_password"), type="password", key="pw_current")
        new = st.text_input(t("new_password"), type="password", key="pw_new")
        again = st.text_input(t("new_password_again"), type="password", key="pw_again")
        if not st.form_submit_button(t("change_password")):
            return
        if new != again:
            st.error(t("password_mismatch"))
            return
        try:
            accounts.change_password(store(), current.username, old, new, client=client())
        except accounts.AccountError as e:
            st.error(md(e.message(lang())))
            return
    # Every session of the user has ended in the database, the cookie's too (worthless now,
    # it goes with the next sign-in or sign-out): no redirect, so that the notice shows.
    st.session_state.pop(TOKEN_KEY, None)
    st.session_state.pop("unmask", None)
    st.session_state["_password_changed"] = True
    st.rerun()
