"""The HTTP edge: ASGI middleware that every request passes before any route sees it.

A web page can make a browser send "simple" requests (a `text/plain` POST, any `Origin`) to a
server on localhost without a CORS preflight, and DNS rebinding gives such a page the server's
address under the attacker's own host name. So, for every route, present and future:

- the `Host` header must name an allowed host (any port), else 400;
- a state-changing request (POST, PUT, PATCH, DELETE) with an `Origin` must come from an
  allowed host (http or https, any port), else 403;
- a body that is not empty must be `application/json` (UTF-8), else 415; an empty body is `{}`;
  on the web UI's paths (`server.ui.paths`: outside `/api/`) instead a form
  (`application/x-www-form-urlencoded`) of at most `MAX_FORM_BYTES`, whose pages check a CSRF
  token, and JSON is refused there;
- a body must arrive whole within `http_body_timeout_seconds` (else 408), be at most
  `max_body_bytes` (else 413) and nest at most `MAX_JSON_DEPTH` levels (else 400): deeper values
  would exhaust Python's recursion limit in decoding, schema validation, masking or encoding.

The body is read here, once, and handed on to the app whole; except on `STREAMED_PATHS` (file
uploads: the API's and the web UI's), whose bodies pass through as they arrive, the Host and
Origin checks done, for the handler to stream to disk within its own limit and content type
(the UI's checks its CSRF token, sent in the query string, before it reads the body).
"""

from __future__ import annotations

import itertools
import operator
import re
from collections.abc import Iterable
from dataclasses import dataclass

import anyio
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.errors import (
    ApiError,
    BadRequest,
    Forbidden,
    PayloadTooLarge,
    RequestTimeout,
    UnsupportedMediaType,
    error_response,
)
from server.settings import Settings
from server.ui.paths import MAX_FORM_BYTES, is_ui_path

# Well below what Python's default recursion limit (1000) leaves to a request's call stack; no
# Airbyte configuration, state or catalog comes near it.
MAX_JSON_DEPTH = 128
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
DEFAULT_HOSTS = ("localhost", "127.0.0.1", "[::1]")
# The API's upload and the web UI's (server.ui.files_pages, which checks its CSRF token first).
STREAMED_PATHS = frozenset(
    {"/api/v1/files/upload", "/api/v1/files/upload/", "/files/upload", "/files/upload/"}
)

_SQUARE = bytes.maketrans(b"{}", b"[]")
_NOT_BRACKET = bytes(c for c in range(256) if c not in b"[]{}")
_RUN = re.compile(rb"\[+|\]+")
_HOST = re.compile(r"^(?P<name>\[[0-9a-f:.]+\]|[^\[\]:/@\s]+)(?::(?P<port>[0-9]{1,5}))?$")
_ORIGIN = re.compile(r"^(?P<scheme>https?)://(?P<host>[^/?#]+)$")


def json_depth(raw: bytes, limit: int = MAX_JSON_DEPTH) -> int:
    """How deep the arrays and objects of a JSON text nest: exact up to `limit`, some number
    above it beyond. Brackets inside strings do not count. Linear, with byte operations done in
    C (no recursion, no regular expression that could backtrack): a 16 MB body takes < 0.5 s.
    """
    # Escaped backslashes, then escaped quotes, go first; the quotes left then alternate
    # string start / string end, so every other piece of a split is outside the strings.
    text = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    brackets = b"".join(text.split(b'"')[::2]).translate(_SQUARE, _NOT_BRACKET)
    if b"[" * (limit + 1) in brackets:
        return limit + 1
    # Each pass takes away the innermost level; passes run while they shrink the text a lot
    # (many shallow siblings), so what is left has few runs of brackets to add up.
    peeled = 0
    while True:
        shorter = brackets.replace(b"[]", b"")
        if shorter == brackets or len(shorter) * 4 > len(brackets) * 3:
            break
        brackets, peeled = shorter, peeled + 1
    runs = [len(run) for run in _RUN.findall(brackets)]
    if brackets.startswith(b"]"):
        runs = runs[1:]  # malformed; what follows still counts
    opens, closes = runs[0::2], runs[1::2]
    # The depth after each run of opening brackets: opened so far minus closed before it.
    depths = map(operator.sub, itertools.accumulate(opens), itertools.accumulate([0, *closes]))
    return peeled + max(depths, default=0)


@dataclass(frozen=True)
class HostRule:
    """An allowed host name; without a port it allows every port."""

    name: str
    port: str | None = None

    def allows(self, name: str, port: str | None) -> bool:
        return self.name == name and (self.port is None or self.port == port)


def split_host(value: str) -> tuple[str, str | None] | None:
    """`name[:port]` (a bracketed IPv6 address included), lower-cased; None if malformed."""
    match = _HOST.match(value.strip().lower())
    if match is None:
        return None
    return match.group("name"), match.group("port")


def host_rules(settings: Settings) -> list[HostRule] | None:
    """The hosts the server answers for; None when `*` allows every host."""
    entries = [e.strip() for e in settings.allowed_hosts.split(",") if e.strip()]
    if not entries:
        entries = [settings.host, *DEFAULT_HOSTS]
    if "*" in entries:
        return None
    rules = []
    for entry in entries:
        # A bare IPv6 address (the bind address `::1`) is bracketed as in a Host header.
        if entry.count(":") > 1 and not entry.startswith("["):
            entry = f"[{entry}]"
        parts = split_host(entry)
        if parts is None:
            raise ValueError(f"SLUICE_ALLOWED_HOSTS: {entry!r} is not a host name[:port]")
        rules.append(HostRule(*parts))
    return rules


def _allowed(rules: Iterable[HostRule], value: str) -> bool:
    parts = split_host(value)
    return parts is not None and any(rule.allows(*parts) for rule in rules)


def _is_json(content_type: str) -> bool:
    """`application/json`, with at most a UTF-8 charset parameter (JSON is UTF-8: RFC 8259)."""
    media, *params = [p.strip().lower() for p in content_type.split(";")]
    if media != "application/json":
        return False
    for param in params:
        name, _, value = param.partition("=")
        if name.strip() != "charset" or value.strip().strip('"') not in ("utf-8", "utf8"):
            return False
    return True


def _is_form(content_type: str) -> bool:
    media, *params = [p.strip().lower() for p in content_type.split(";")]
    if media != "application/x-www-form-urlencoded":
        return False
    return all(p.partition("=")[0].strip() == "charset" for p in params)


class _Disconnected(Exception):
    """The client went away while sending its body: nobody to answer."""


class Edge:
    """The middleware (see the module docstring). Registered first in `create_app`."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.hosts = host_rules(settings)
        # Pages the operator lets call the API cross-origin (SLUICE_CORS_ORIGINS) may change
        # things too: the CORS layer above lets their requests through to here.
        self.origins = frozenset(
            o.strip().lower().rstrip("/") for o in settings.cors_origins.split(",") if o.strip()
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if scope["path"] in STREAMED_PATHS:
            await self.stream_through(scope, headers, receive, send)
            return
        try:
            self.check_host(headers)
            if scope["method"] in STATE_CHANGING:
                self.check_origin(headers)
            body = await self.read_body(headers, receive, is_ui_path(scope["path"]))
        except ApiError as exc:
            response = error_response(exc, scope["path"])
            # The rest of an unread body would be taken for the next request: close instead.
            response.headers["connection"] = "close"
            await response(scope, receive, send)
            return
        except _Disconnected:
            return
        await self.app(scope, _replay(body, receive), send)

    async def stream_through(
        self, scope: Scope, headers: Headers, receive: Receive, send: Send
    ) -> None:
        """An upload: the Host and Origin checks, then the body as it comes (not buffered)."""
        try:
            self.check_host(headers)
            if scope["method"] in STATE_CHANGING:
                self.check_origin(headers)
        except ApiError as exc:
            response = error_response(exc, scope["path"])
            response.headers["connection"] = "close"
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def check_host(self, headers: Headers) -> None:
        host = headers.get("host", "")
        if self.hosts is not None and not _allowed(self.hosts, host):
            raise BadRequest(
                f"Host {host!r} is not one this server answers for; add it to "
                "SLUICE_ALLOWED_HOSTS (comma-separated host names) if it should be"
            )

    def check_origin(self, headers: Headers) -> None:
        origin = headers.get("origin")
        if origin is None:
            return  # not sent by a browser on a cross-site request: not one
        if "*" in self.origins or origin.strip().lower() in self.origins:
            return
        match = _ORIGIN.match(origin.strip().lower())
        if match is not None:
            if self.hosts is None:
                # Every host allowed: at least the page must be the server's own.
                if split_host(match.group("host")) == split_host(headers.get("host", "")):
                    return
            elif _allowed(self.hosts, match.group("host")):
                return
        raise Forbidden(
            f"Requests that change something are not accepted from pages of {origin!r}; "
            "allowed origins are http(s)://<a host of SLUICE_ALLOWED_HOSTS>"
        )

    async def read_body(self, headers: Headers, receive: Receive, ui: bool = False) -> bytes:
        """The whole body, within the size limit, the deadline and the content type."""
        limit = (
            min(MAX_FORM_BYTES, self.settings.max_body_bytes)
            if ui
            else self.settings.max_body_bytes
        )
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise PayloadTooLarge(f"Request body is larger than {limit} bytes")
        if declared == "0" or (not declared and "transfer-encoding" not in headers):
            return b""
        timeout = self.settings.http_body_timeout_seconds
        chunks: list[bytes] = []
        size = 0
        more = True
        with anyio.move_on_after(timeout if timeout > 0 else float("inf")) as deadline:
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise _Disconnected
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    raise PayloadTooLarge(f"Request body is larger than {limit} bytes")
                chunks.append(chunk)
                more = message.get("more_body", False)
        if deadline.cancelled_caught:
            raise RequestTimeout(f"The request body did not arrive within {timeout:g} s")
        body = b"".join(chunks)
        if not body.strip():
            return body  # empty: `{}`, whatever the content type says
        if ui:
            if not _is_form(headers.get("content-type", "")):
                raise UnsupportedMediaType(
                    "Pages take forms, sent with 'Content-Type: application/x-www-form-urlencoded'"
                )
            return body
        if not _is_json(headers.get("content-type", "")):
            raise UnsupportedMediaType(
                "Request bodies must be JSON, sent with 'Content-Type: application/json'"
            )
        if json_depth(body) > MAX_JSON_DEPTH:
            raise BadRequest(f"The request body nests deeper than {MAX_JSON_DEPTH} levels")
        return body


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives the body already read, then passes on (disconnect notices)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
