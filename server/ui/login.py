"""Signing in and out of the UI (SLUICE_AUTH=basic): the instance admin's username and
password, then a session cookie (HttpOnly, SameSite=Lax, Secure over https, Path=/).

SameSite=Lax rather than Strict: a link to a page followed from elsewhere (a notification, a
chat message) then opens the page itself rather than the sign-in form for someone signed in;
every change is a POST, which Lax never sends cross-site, and carries the CSRF token.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from server.core import ui_sessions
from server.ui import frame, paths

HOME = "/connections"


def safe_next(value: str | None) -> str:
    """Where to go after sign-in: a path on this site only (`/x`, never `//host` or a URL)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return HOME
    if any(ord(c) < 0x20 for c in value) or value.startswith(paths.LOGIN):
        return HOME
    return value


async def login_form(request: Request) -> Response:
    target = safe_next(request.query_params.get("next"))
    if frame.context(request).settings.auth == "none" or frame.session(request) is not None:
        return frame.back(request, target)
    return frame.page(request, "login.html", {"next": target, "error": None, "username": ""})


async def login(request: Request) -> Response:
    ctx = frame.context(request)
    data = await frame.form(request)
    target = safe_next(frame.field(data, "next"))
    if ctx.settings.auth == "none":
        return frame.back(request, target)
    username = frame.field(data, "username")
    token = await ui_sessions.sign_in(ctx, username, frame.field(data, "password"))
    if token is None:
        values = {"next": target, "error": "Wrong username or password.", "username": username}
        return frame.page(request, "login.html", values, status=401)
    response = frame.back(request, target)
    frame.set_cookie(response, request, paths.SESSION_COOKIE, token, ui_sessions.SESSION_SECONDS)
    return response


async def logout(request: Request) -> Response:
    await frame.form(request)
    token = request.cookies.get(paths.SESSION_COOKIE)
    if token:
        await ui_sessions.sign_out(frame.context(request), token)
    response = frame.back(request, paths.LOGIN, "Signed out.")
    response.delete_cookie(paths.SESSION_COOKIE, path="/")
    return response


ROUTES = [
    frame.route(paths.LOGIN, login_form),
    frame.route(paths.LOGIN, login, methods=["POST"]),
    frame.route(paths.LOGOUT, logout, methods=["POST"]),
]
