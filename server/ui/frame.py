"""What every UI page module uses: rendering, the signed-in session, CSRF, flash messages and
the route wrapper that turns errors into pages (see the package docstring for how to plug in).
"""

from __future__ import annotations

import hmac
import logging
import secrets
import urllib.parse
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
import msgspec
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from server.auth import principal as who
from server.context import Context
from server.core.errors import DomainError, NotFound
from server.core.ui_sessions import Session
from server.ui import paths
from server.ui.static import static_url

log = logging.getLogger("sluice.ui")

TEMPLATES = Path(__file__).parent / "templates"
# Autoescape on for every template (not only by file suffix): everything shown is escaped
# unless a template says otherwise, and none does.
templates = Jinja2Templates(
    env=jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
)
templates.env.globals["static"] = static_url


def when(epoch: int | float | None) -> str:
    """An epoch time as the pages show it (UTC, to the minute)."""
    if epoch is None:
        return "-"
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M UTC")


def duration(seconds: int | float | None) -> str:
    if seconds is None:
        return "-"
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def size(count: int | None) -> str:
    if count is None:
        return "-"
    value = float(count)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"


templates.env.filters["when"] = when
templates.env.filters["duration"] = duration
templates.env.filters["size"] = size
templates.env.filters["number"] = lambda n: "-" if n is None else f"{n:,}"
MAX_FLASH = 600  # characters of a flash message kept (it travels in a cookie)

Endpoint = Callable[[Request], Awaitable[Response]]


class PageError(Exception):
    """A page that cannot be shown (status and a message for the person)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def context(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


def session(request: Request) -> Session | None:
    """The signed-in session (None when SLUICE_AUTH=none)."""
    found: Session | None = request.scope.get(paths.SESSION_KEY)
    return found


def principal(request: Request) -> who.Principal:
    """Who the page runs as: the instance admin (the only one who can sign in to the UI)."""
    return who.current.get() or who.ADMIN


def csrf_token(request: Request) -> str:
    """The token every form sends back (`<input type=hidden name=csrf_token>`): the session's,
    or before sign-in and without auth a random value kept in a cookie (double submit)."""
    found = session(request)
    if found is not None:
        return found.csrf_token
    token = request.cookies.get(paths.CSRF_COOKIE) or request.scope.get("sluice.new_csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.scope["sluice.new_csrf"] = token
    return str(token)


async def form(request: Request) -> FormData:
    """The posted form, after its CSRF token was checked (403 otherwise)."""
    data = await request.form()
    sent = data.get("csrf_token")
    found = session(request)
    expected = found.csrf_token if found is not None else request.cookies.get(paths.CSRF_COOKIE)
    if not isinstance(sent, str) or not expected or not hmac.compare_digest(sent, expected):
        raise PageError(403, "This form has expired or did not come from this site; try again.")
    return data


def field(data: FormData, name: str, default: str = "") -> str:
    value = data.get(name, default)
    return value if isinstance(value, str) else default


def _flash(request: Request) -> dict[str, str] | None:
    raw = request.cookies.get(paths.FLASH_COOKIE)
    if not raw:
        return None
    try:
        found = msgspec.json.decode(urllib.parse.unquote(raw), type=dict[str, str])
    except msgspec.DecodeError:
        return None
    return {"kind": found.get("kind", "info"), "text": found.get("text", "")}


def _cookie(response: Response, request: Request, name: str, value: str, age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def page(
    request: Request, name: str, values: dict[str, Any] | None = None, status: int = 200
) -> HTMLResponse:
    """Render `name` (a template extending base.html) with what the frame gives every page:
    `csrf_token`, `flash`, `auth` (is sign-in on), `path` and `static()`."""
    flash = _flash(request)
    shown = {
        "csrf_token": csrf_token(request),
        "flash": flash,
        "auth": context(request).settings.auth != "none",
        "path": request.url.path,
        "bare": False,
        **(values or {}),
    }
    response = templates.TemplateResponse(request, name, shown, status_code=status)
    assert isinstance(response, HTMLResponse)
    if flash is not None:
        response.delete_cookie(paths.FLASH_COOKIE, path="/")
    new = request.scope.get("sluice.new_csrf")
    if new:
        _cookie(response, request, paths.CSRF_COOKIE, str(new), 12 * 3600)
    return response


def back(request: Request, url: str, text: str = "", kind: str = "info") -> RedirectResponse:
    """303 to `url` (after a POST), with a flash message shown on the next page."""
    response = RedirectResponse(url, status_code=303)
    if text:
        value = msgspec.json.encode({"kind": kind, "text": text[:MAX_FLASH]}).decode()
        _cookie(response, request, paths.FLASH_COOKIE, urllib.parse.quote(value), 120)
    return response


def set_cookie(response: Response, request: Request, name: str, value: str, age: int) -> None:
    _cookie(response, request, name, value, age)


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    return page(request, "error.html", {"status": status, "message": message}, status=status)


def route(path: str, endpoint: Endpoint, methods: Sequence[str] = ("GET",)) -> Route:
    """A UI route: a PageError, or a core error the page did not handle, becomes an error page
    with the core's message (never a traceback)."""

    async def guarded(request: Request) -> Response:
        try:
            return await endpoint(request)
        except PageError as exc:
            return error_page(request, exc.status, exc.message)
        except NotFound as exc:
            return error_page(request, 404, exc.message)
        except DomainError as exc:
            return error_page(request, 400, exc.message)
        except Exception:
            # A fault of the server: logged with its traceback, the page says only that.
            log.exception("UI page %s %s failed", request.method, request.url.path)
            return error_page(
                request, 500, "The server could not show this page; its log says why."
            )

    guarded.__name__ = endpoint.__name__
    return Route(path, guarded, methods=list(methods), name=endpoint.__name__)
