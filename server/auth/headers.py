"""Security headers on every response, whatever produced it (routes, errors, middleware).

HTML pages (the web UI) get their own Content-Security-Policy: their own origin's stylesheet,
script and images only, no inline script or style (`default-src 'self'` alone), forms posted
only to this site, never framed; and a referrer policy under which their requests to this site
keep their Origin. Every reply is `no-store` unless it says otherwise (the UI's static assets,
cached for a year under a content-hashed URL, do).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    # A JSON API loads nothing and is framed by no one.
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
]
PAGE_CSP = (
    b"content-security-policy",
    b"default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; "
    b"object-src 'none'",
)
# A page's forms post back to this site: under `no-referrer` browsers send `Origin: null` with
# them, which the edge refuses as a foreign origin. `same-origin` keeps the Origin on the site's
# own requests and still sends nothing to other sites.
PAGE_REFERRER = (b"referrer-policy", b"same-origin")
# Replies hold configurations and job details: no cache (browser or proxy) keeps them.
NO_STORE = (b"cache-control", b"no-store")


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                kind = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                if kind.startswith(b"text/html") and b"content-security-policy" not in names:
                    headers.append(PAGE_CSP)
                    names.add(PAGE_CSP[0])
                if kind.startswith(b"text/html") and b"referrer-policy" not in names:
                    headers.append(PAGE_REFERRER)
                    names.add(PAGE_REFERRER[0])
                headers += [h for h in SECURITY_HEADERS if h[0] not in names]
                if b"cache-control" not in names:
                    headers.append(NO_STORE)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
