"""Serving the app with uvicorn, plus the read timeouts uvicorn lacks.

uvicorn times out only an idle keep-alive connection, after a response. It sets no timer while
a connection waits for a request's headers (a fresh connection that sends nothing, or a client
sending its headers a byte at a time: each byte would also cancel the keep-alive timer), nor
while a body trickles in, whether or not the app reads it. A few hundred such slow clients hold
as many sockets and file descriptors for ever. `ReadDeadlines` adds the two timers to uvicorn's
protocols, the httptools one (the default: a C parser, lower latency) and the h11 one:

- headers: from the connection's start, or a request's first byte, until the request line and
  headers are complete (`http_header_timeout_seconds`): then a 408 and the connection closed;
- body: from the end of the headers until the whole body has arrived. The edge middleware
  answers a body that the app is reading late with a 408 at `http_body_timeout_seconds`; this
  timer, a little later, closes connections whose body nobody reads (or that never answer).
"""

from __future__ import annotations

import asyncio
import importlib.util
from typing import Any, ClassVar, Literal

import h11
import msgspec
import uvicorn
from starlette.types import ASGIApp
from uvicorn.protocols.http.h11_impl import H11Protocol

from server.models.errors import KnownExceptionInfo
from server.settings import Settings

# The edge middleware's 408 comes first while the app reads the body; this is the backstop.
BODY_GRACE_SECONDS = 2.0

Phase = Literal["headers", "body"]


def _timeout_reply() -> bytes:
    body = msgspec.json.encode(
        KnownExceptionInfo(
            message="The request headers did not arrive in time",
            exception_class_name="io.airbyte.commons.server.errors.ApplicationErrorKnownException",
        )
    )
    head = (
        "HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode() + body


class ReadDeadlines:
    """The two read timers, for a uvicorn protocol class that has `loop` and `transport`.

    A phase's deadline is set once, when the phase begins, so bytes arriving slowly do not push
    it back."""

    header_seconds: ClassVar[float] = 0.0
    body_seconds: ClassVar[float] = 0.0
    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport

    _read_timer: asyncio.TimerHandle | None = None
    _waiting_for: Phase | None = None
    _request_bytes = False  # some bytes of a request arrived (a 408 can then be framed)

    def _arm(self, phase: Phase) -> None:
        if self._waiting_for == phase:
            return
        self._cancel()
        self._waiting_for = phase
        seconds = (
            self.header_seconds if phase == "headers" else self.body_seconds + BODY_GRACE_SECONDS
        )
        if seconds > 0:
            self._read_timer = self.loop.call_later(seconds, self._timed_out)

    def _cancel(self) -> None:
        if self._read_timer is not None:
            self._read_timer.cancel()
            self._read_timer = None
        self._waiting_for = None

    def _timed_out(self) -> None:
        phase, self._read_timer = self._waiting_for, None
        if self.transport.is_closing():
            return
        if phase == "headers" and self._request_bytes:
            # No request yet, so the parser cannot frame a response: the bytes are written as is.
            self.transport.write(_timeout_reply())
        self.transport.close()


class TimedH11Protocol(ReadDeadlines, H11Protocol):
    """uvicorn's h11 protocol with a header read timeout and a body read timeout."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        # uvicorn sets no timer before a connection's first request.
        self._arm("headers")

    def data_received(self, data: bytes) -> None:
        if self.conn.their_state is h11.IDLE and data:
            self._request_bytes = True
        super().data_received(data)
        self._follow()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel()
        super().connection_lost(exc)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._follow()

    def _follow(self) -> None:
        """Arm the timer for what the connection now waits for (h11 tells by its state)."""
        state = self.conn.their_state
        if state is h11.IDLE:
            if self._request_bytes:
                self._arm("headers")
            elif self._waiting_for != "headers":
                # Between requests (no byte of the next yet): uvicorn's keep-alive timeout.
                self._cancel()
        elif state is h11.SEND_BODY:
            self._arm("body")
        else:
            self._request_bytes = False
            self._cancel()


def _httptools_protocol() -> type[Any] | None:
    if importlib.util.find_spec("httptools") is None:
        return None
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class TimedHttpToolsProtocol(ReadDeadlines, HttpToolsProtocol):
        """uvicorn's httptools protocol with the same timers; the parser's callbacks say when
        a request begins, its headers end and its body ends."""

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm("headers")

        def connection_lost(self, exc: Exception | None) -> None:
            self._cancel()
            super().connection_lost(exc)

        def on_message_begin(self) -> None:
            self._request_bytes = True
            self._arm("headers")  # kept when the connection is still waiting for its first
            super().on_message_begin()

        def on_headers_complete(self) -> None:
            self._arm("body")
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            self._request_bytes = False
            self._cancel()
            super().on_message_complete()

    return TimedHttpToolsProtocol


def protocol_for(settings: Settings) -> type[Any]:
    """The protocol class with the settings' timeouts (uvicorn builds one per connection)."""
    base: type[Any] = TimedH11Protocol
    if settings.http_parser != "h11":
        fast = _httptools_protocol()
        if fast is None and settings.http_parser == "httptools":
            raise RuntimeError("SLUICE_HTTP_PARSER=httptools, but httptools is not installed")
        base = fast or TimedH11Protocol
    return type(
        base.__name__,
        (base,),
        {
            "header_seconds": settings.http_header_timeout_seconds,
            "body_seconds": settings.http_body_timeout_seconds,
        },
    )


def serve(app: ASGIApp, settings: Settings) -> bool:
    """Run the server until it is stopped; False if it could not start."""
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=False,
        http=protocol_for(settings),
    )
    server = uvicorn.Server(config)
    server.run()
    return server.started
