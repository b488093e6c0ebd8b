"""What the web server adds around the pages: the sign-in cookie, download binding, setup.

``app.py`` serves the pages through ``st.App`` with these routes, middleware and lifespan
(``streamlit run app.py`` finds the ``st.App`` there and runs it; nothing else changes).

- ``/api/session/open?code=…&next=…`` exchanges a one-time code that a page script minted
  after a correct password (``analytics.sessions.OneTimeCodes``) for the session cookie
  ``poverty_session`` (HttpOnly, SameSite=Strict, Secure over HTTPS, no Max-Age: it ends
  with the browser) and redirects back. A page script cannot write cookies in Streamlit
  1.67 (streamlit/streamlit#14730), and a JavaScript cookie could not be HttpOnly.
- ``/api/session/close?next=…`` clears the cookie and redirects back (the session itself is
  ended in the database by the script first: the cookie is worthless by then).
- ``Guard`` (middleware) gives every browser an HttpOnly ``poverty_browser`` cookie with
  its first page; a one-time code is bound to it, so that a code sent to someone else's
  browser signs nobody in.
- ``lifespan`` opens the database when the server starts and, while no account exists,
  prints the one-time setup token for the first administrator to the console.

The module is imported once per process (by ``app.py`` under the ASGI server), so the
routes and the page scripts share ``CODES``.
"""

from __future__ import annotations

import logging
import secrets
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from starlette.datastructures import URL
from starlette.middleware import Middleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from streamlit import config as st_config
from streamlit.url_util import make_url_path

from analytics import accounts
from analytics.sessions import OneTimeCodes
from analytics.store import StoreError

SESSION_COOKIE = "poverty_session"
BROWSER_COOKIE = "poverty_browser"
OPEN = "api/session/open"
CLOSE = "api/session/close"
CODES = OneTimeCodes()
_LOG = logging.getLogger(__name__)


def base_path() -> str:
    """The server's base URL path ("" or "/prefix"), from ``server.baseUrlPath``."""
    return make_url_path(st_config.get_option("server.baseUrlPath") or "", "").rstrip("/")


def url(route: str, **params: str) -> str:
    """The path of one of this module's routes with its query string."""
    return str(URL(make_url_path(base_path(), route)).include_query_params(**params))


def safe_next(value: str | None) -> str:
    """A redirect target that stays on this site: a path, else the home page."""
    home = base_path() + "/"
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return home
    return value


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


async def open_session(request: Request) -> Response:
    """Sets the session cookie for a live one-time code, then goes back to ``next``."""
    token = CODES.redeem(request.query_params.get("code"), request.cookies.get(BROWSER_COOKIE))
    response = RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    if token:
        response.set_cookie(
            SESSION_COOKIE,
            token,
            path=base_path() + "/",
            secure=request.url.scheme == "https",
            httponly=True,
            samesite="strict",
        )
    return _no_store(response)


async def close_session(request: Request) -> Response:
    """Clears the session cookie, then goes back to ``next``."""
    response = RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    response.delete_cookie(
        SESSION_COOKIE,
        path=base_path() + "/",
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="strict",
    )
    return _no_store(response)


def routes() -> list[Route]:
    """The routes ``app.py`` adds to Streamlit's own."""
    return [
        Route(make_url_path(base_path(), OPEN), open_session, methods=["GET"]),
        Route(make_url_path(base_path(), CLOSE), close_session, methods=["GET"]),
    ]


# ------------------------------------------------------------------ the browser cookie
class Guard:
    """ASGI middleware: a browser cookie with every page (it binds one-time codes).

    Parameters
    ----------
    app : the ASGI application it wraps (Streamlit's).
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http" or HTTPConnection(scope).cookies.get(BROWSER_COOKIE):
            await self.app(scope, receive, send)
            return
        cookie = (
            f"{BROWSER_COOKIE}={secrets.token_urlsafe(24)}; Path={base_path()}/; HttpOnly; "
            "SameSite=Lax" + ("; Secure" if scope.get("scheme") == "https" else "")
        )

        async def send_with_cookie(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                kind = dict(headers).get(b"content-type", b"")
                if kind.startswith(b"text/html"):
                    headers.append((b"set-cookie", cookie.encode("latin-1")))
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def middleware() -> list[Middleware]:
    """The middleware ``app.py`` puts in front of Streamlit's."""
    return [Middleware(Guard)]


# ------------------------------------------------------------------ start
def announce_setup_token() -> str | None:
    """Opens the database and, while it has no account, prints a new one-time setup token
    for the first administrator to the console (standard error); returns it."""
    from ui.common import store  # Streamlit's caches: imported when the server runs

    try:
        token = accounts.new_setup_token(store())
    except StoreError as e:
        _LOG.error("cannot open the database at start: %s", e.detail or e)
        return None
    if token:
        rule = "=" * 72
        print(
            f"\n{rule}\nNo account exists yet. On the 数据导入 (Data) page, create the first "
            f"administrator with this one-time setup token:\n\n    SETUP TOKEN: {token}\n\n"
            f"(or run: python -m analytics adduser NAME --role admin)\n{rule}\n",
            file=sys.stderr,
            flush=True,
        )
    return token


@asynccontextmanager
async def lifespan(_app: Any) -> AsyncIterator[None]:
    """Server start: the database opened (the demo loaded on first start) and, on a fresh
    install, the setup token printed, before the first page is served."""
    from anyio import to_thread

    await to_thread.run_sync(announce_setup_token)
    yield
