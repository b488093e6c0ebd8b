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
  its first page, notes which ``/media/…`` files (the files of ``st.download_button`` and
  ``st.image``) are named in the messages sent down each browser's websocket, and serves a
  media file only to a browser it was sent to, while that browser has a page of this
  server open. Streamlit alone serves such a URL to anyone who holds it (history, a proxy
  log, a shared screen) while the issuing session lives.
- ``lifespan``: when the server starts and the database has no account, it prints the
  one-time setup token for the first administrator to the console.

The module is imported once per process (by ``app.py`` under the ASGI server), so the
routes and the page scripts share ``CODES``.
"""

from __future__ import annotations

import logging
import re
import secrets
import sys
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from starlette.datastructures import URL
from starlette.middleware import Middleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from streamlit import config as st_config
from streamlit.url_util import make_url_path

from analytics.access import accounts
from analytics.access.sessions import OneTimeCodes
from analytics.store.database import Store, StoreError, default_path

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


# ------------------------------------------------------------------ downloads
_MEDIA_ID = re.compile(rb"/media/([0-9A-Za-z]+)\.")


def _browser(scope: dict) -> str | None:
    return HTTPConnection(scope).cookies.get(BROWSER_COOKIE) or None


class Issued:
    """Which media files (their ids) each browser has been sent, over its own websocket.

    Streamlit 1.67 serves ``/media/<id>`` to anyone holding the URL and does not say which
    session a file was made for (a deferred download is left unmapped), so ``Guard`` reads
    the answer off the wire: a URL in a message sent down a browser's websocket was issued
    to that browser. A browser's record goes when its last websocket closes; past
    ``per_browser`` files its oldest are dropped (such a file downloads again once its page
    is drawn again). Thread-safe.
    """

    def __init__(self, per_browser: int = 5_000) -> None:
        self.per_browser = per_browser
        self._files: dict[str, OrderedDict[bytes, None]] = {}
        self._open: dict[str, int] = {}
        self._lock = threading.Lock()

    def opened(self, browser: str) -> None:
        """A websocket of ``browser`` is open."""
        with self._lock:
            self._open[browser] = self._open.get(browser, 0) + 1
            self._files.setdefault(browser, OrderedDict())

    def closed(self, browser: str) -> None:
        """A websocket of ``browser`` has closed; with its last one, its record goes."""
        with self._lock:
            left = self._open.get(browser, 0) - 1
            if left > 0:
                self._open[browser] = left
            else:
                self._open.pop(browser, None)
                self._files.pop(browser, None)

    def sent(self, browser: str, data: bytes) -> None:
        """Notes the media files a message sent to ``browser`` names."""
        if b"/media/" not in data:
            return
        with self._lock:
            files = self._files.get(browser)
            if files is None:
                return
            for file_id in _MEDIA_ID.findall(data):
                files[file_id] = None
                files.move_to_end(file_id)
            while len(files) > self.per_browser:
                files.popitem(last=False)

    def allows(self, browser: str | None, file_id: str) -> bool:
        """Whether ``browser`` has a page of this server open and was sent ``file_id``."""
        if not browser:
            return False
        with self._lock:
            return file_id.encode() in self._files.get(browser, {})


ISSUED = Issued()


class Guard:
    """ASGI middleware: a browser cookie with every page, and ``/media/`` files only for the
    browser they were sent to, while it has a page open.

    Parameters
    ----------
    app : the ASGI application it wraps (Streamlit's).
    issued : the record of files sent to each browser (``ISSUED``).
    """

    def __init__(self, app: Any, issued: Issued | None = None) -> None:
        self.app = app
        self.issued = issued or ISSUED

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _websocket(self, scope: dict, receive: Callable, send: Callable) -> None:
        browser = _browser(scope)
        if not browser:
            await self.app(scope, receive, send)
            return
        accepted = False

        async def watching_send(message: dict) -> None:
            nonlocal accepted
            if message["type"] == "websocket.accept" and not accepted:
                accepted = True
                self.issued.opened(browser)
            elif message["type"] == "websocket.send" and message.get("bytes"):
                self.issued.sent(browser, message["bytes"])
            await send(message)

        try:
            await self.app(scope, receive, watching_send)
        finally:
            if accepted:
                self.issued.closed(browser)

    async def _http(self, scope: dict, receive: Callable, send: Callable) -> None:
        browser = _browser(scope)
        media = make_url_path(base_path(), "media") + "/"
        if scope["path"].startswith(media):
            file_id = scope["path"][len(media) :].split(".")[0]
            if not self.issued.allows(browser, file_id):
                await _no_store(PlainTextResponse("Not found", status_code=404))(
                    scope, receive, send
                )
                return
        if browser:
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
    """While the database has no account, prints a new one-time setup token for the first
    administrator to the console (standard error); returns it.

    The database is opened for this and closed again: as before, the server holds it (and
    loads the demo) from the first page view on, so the command line can use the file
    until then.
    """
    try:
        store = Store(default_path())
    except StoreError as e:
        _LOG.error("cannot open the database at start: %s", e.detail or e)
        return None
    try:
        token = accounts.new_setup_token(store)
    finally:
        store.close()
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


def prepare_database() -> None:
    """Server start, before the health check answers: builds the demo into an empty
    database and compiles the SQL of the first page's questions (kept per query shape for
    the process, ``analytics.prepared``), then closes the file again, as
    ``announce_setup_token`` does, so that the command line can use it until a page is
    viewed. The first visitor then waits for the figures, not for the demo or compiling."""
    from analytics.figures import metrics, queries
    from analytics.fixtures.demo import ensure_demo

    try:
        store = Store(default_path())
    except StoreError as e:
        _LOG.error("cannot open the database at start: %s", e.detail or e)
        return
    try:
        ensure_demo(store)
        for round_name in store.round_names():
            for level in ("county", "township", "village", "group"):
                queries.metrics_frame(store, round_name, level)
            queries.anomalies(store, metrics.Filters(round_name))  # the rules' SQL too
    finally:
        store.close()


@asynccontextmanager
async def lifespan(_app: Any) -> AsyncIterator[None]:
    """Server start: on a fresh install, the setup token printed before the first page is
    served; the demo built and the first page's queries compiled
    (``prepare_database``)."""
    from anyio import to_thread

    await to_thread.run_sync(announce_setup_token)
    await to_thread.run_sync(prepare_database)
    yield
