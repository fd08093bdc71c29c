"""The web UI's side of the credential check: the session cookie on UI paths.

A live session (or SLUICE_AUTH=none) runs the page as the instance admin, with the session in
the scope for the page's CSRF check; without one, a page is a 303 to `/login?next=<path>`
(the sign-in form and the static assets are open). A path that is no page goes on without a
principal, to the app's JSON 404, as it did before the UI (a signed-in browser gets an HTML
404 page instead). Rate-limited as the API: per address
without a session (sign-in attempts included), per principal with one.
"""

from __future__ import annotations

import urllib.parse
from http.cookies import SimpleCookie

from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

from server.auth import principal as who
from server.auth.ratelimit import RateLimiter
from server.auth.replies import send_reply
from server.core import ui_sessions
from server.ui import paths


def cookie(scope: Scope, name: str) -> str | None:
    for key, value in scope["headers"]:
        if key == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a malformed cookie header names no session
                return None
            if name in jar:
                return jar[name].value
    return None


async def _plain(send: Send, status: int, text: str, headers: list[tuple[bytes, bytes]]) -> None:
    await send_reply(send, status, text.encode(), headers, b"text/plain; charset=utf-8")


def _is_page(scope: Scope) -> bool:
    """Some UI route (not the 404 fallback) takes the path, whatever the method."""
    for route in scope["app"].router.routes:
        if getattr(route, "fallback", False):
            continue
        match, _ = route.matches(scope)
        if match is not Match.NONE:
            return True
    return False


class UiGate:
    def __init__(self, app: ASGIApp, limiter: RateLimiter | None) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        ctx = scope["app"].state.ctx
        path: str = scope["path"]
        if path.startswith(paths.STATIC):  # public assets, no rate to count
            await self.app(scope, receive, send)
            return
        session = None
        principal: who.Principal | None = None
        if ctx.settings.auth == "none":
            principal = who.ADMIN
        else:
            token = cookie(scope, paths.SESSION_COOKIE)
            session = await ui_sessions.session_for(ctx, token) if token else None
            principal = who.ADMIN if session is not None else None
        if self.limiter is not None:
            client = scope.get("client")
            key = (
                principal.rate_key
                if session is not None and principal is not None
                else f"address:{client[0] if client else '-'}"
            )
            decision = self.limiter.take(key)
            if not decision.allowed:
                message = f"Too many requests; retry in {decision.retry_after} s"
                await _plain(send, 429, message, decision.headers())
                return
        if principal is None and not paths.is_open(path):
            if not _is_page(scope):
                await self.app(scope, receive, send)  # no route takes it: the app's 404
                return
            target = path + ("?" + scope["query_string"].decode() if scope["query_string"] else "")
            location = paths.LOGIN + "?" + urllib.parse.urlencode({"next": target})
            await _plain(send, 303, "Sign in first", [(b"location", location.encode())])
            return
        scope[paths.SESSION_KEY] = session
        scope[paths.SIGNED_IN_KEY] = principal is not None
        token_var = who.current.set(principal)
        try:
            await self.app(scope, receive, send)
        finally:
            who.current.reset(token_var)
