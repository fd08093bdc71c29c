"""The ASGI layer that checks every request's credential and rate, before any route runs.

Open without a credential: the health checks of both APIs (also exempt from the rate limit),
the token endpoints (a client has no token before calling them) and the API documents.
Everything else, known path or not, needs a credential: a missing or wrong one is a 401 with
the API's error body and `WWW-Authenticate`. Callers are rate-limited per credential;
callers without a valid one per address, so guessing passwords is limited too.

Web UI paths (everything outside `/api/` but the token aliases: `server.ui.paths`) are
authenticated by the session cookie instead, never by a header, and `/api/` never by the
cookie (so a cookie cannot make a browser's cross-site request count on the JSON API). A UI
request without a live session is sent (303) to the sign-in form, except the form itself and
the static assets. With SLUICE_AUTH=none the UI, like the API, needs no sign-in.
"""

from __future__ import annotations

import msgspec
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server import openapi
from server.auth import principal as who
from server.auth.ratelimit import Decision, RateLimiter
from server.auth.replies import send_reply
from server.auth.scope import ADMIN_ONLY
from server.auth.ui_gate import UiGate
from server.models.errors import KnownExceptionInfo
from server.public.problems import is_public, problem
from server.settings import Settings
from server.ui.paths import is_ui_path

HEALTH = frozenset({"/api/v1/health", "/api/public/v1/health"})
TOKEN_PATHS = frozenset(
    {
        "/api/v1/applications/token",
        "/api/public/v1/applications/token",
        "/v1/applications/token",
        "/applications/token",
    }
)
OPEN_PATHS = TOKEN_PATHS | {
    "/api/v1/openapi",
    "/api/v1/openapi.yaml",
    "/api/v1/openapi.json",
    "/api/public/v1/openapi.yaml",
    "/api/public/v1/openapi.json",
}
CHALLENGE = (b"www-authenticate", b'Basic realm="sluice", Bearer realm="sluice"')
_encoder = msgspec.json.Encoder()


def error_body(message: str, class_name: str) -> bytes:
    return _encoder.encode(KnownExceptionInfo(message=message, exception_class_name=class_name))


UNAUTHORIZED_MESSAGE = (
    "Authentication required: send Basic credentials (SLUICE_USERNAME / SLUICE_PASSWORD), "
    "a Bearer token from applications/token, or a Bearer API key"
)
UNAUTHORIZED = error_body(UNAUTHORIZED_MESSAGE, "io.airbyte.commons.server.errors.AuthException")


FORBIDDEN = error_body(
    "This credential is scoped to one workspace; this operation needs the admin",
    "io.airbyte.commons.server.errors.ApplicationErrorKnownException",
)


class AuthMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.authenticator = who.Authenticator()
        self.limiter = RateLimiter(settings.rate_limit) if settings.rate_limit > 0 else None
        self.ui = UiGate(app, self.limiter)
        # Refused to scoped credentials before the body is read (so also before validation).
        self.admin_paths = {
            openapi.base_path() + op.path
            for op in openapi.operations()
            if op.handler_name in ADMIN_ONLY
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"].rstrip("/") or "/"
        if path in HEALTH:
            await self.app(scope, receive, send)
            return
        ctx = scope["app"].state.ctx
        if is_ui_path(path):
            await self.ui(scope, receive, send)
            return
        principal = None
        if path not in OPEN_PATHS:
            header = next((v for k, v in scope["headers"] if k == b"authorization"), None)
            principal = await self.authenticator.authenticate(
                header.decode("latin-1") if header is not None else None, ctx
            )
        decision = self._take(scope, principal)
        extra = decision.headers() if decision is not None else []
        public = is_public(path)
        if decision is not None and not decision.allowed:
            message = (
                f"Rate limit of {decision.limit} requests a minute exceeded; retry in "
                f"{decision.retry_after} s"
            )
            body = (
                problem(429, message)
                if public
                else error_body(
                    message, "io.airbyte.commons.server.errors.TooManyRequestsException"
                )
            )
            await send_reply(send, 429, body, extra)
            return
        if principal is None and path not in OPEN_PATHS:
            body = problem(401, UNAUTHORIZED_MESSAGE) if public else UNAUTHORIZED
            await send_reply(send, 401, body, [*extra, CHALLENGE])
            return
        if principal is not None and principal.workspace_id and path in self.admin_paths:
            await send_reply(send, 403, FORBIDDEN, extra)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", [])) + extra
                if message["status"] == 401:  # a token endpoint refusing client credentials
                    headers.append(CHALLENGE)
                message = {**message, "headers": headers}
            await send(message)

        token = who.current.set(principal)
        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            who.current.reset(token)

    def _take(self, scope: Scope, principal: who.Principal | None) -> Decision | None:
        if self.limiter is None:
            return None
        # Without auth everyone is the admin: count per address, as for failed credentials.
        if principal is None or scope["app"].state.ctx.settings.auth == "none":
            client = scope.get("client")
            return self.limiter.take(f"address:{client[0] if client else '-'}")
        return self.limiter.take(principal.rate_key)
