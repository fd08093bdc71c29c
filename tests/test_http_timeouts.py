"""Stalled HTTP connections against a real `sluice serve` (issue 9, item 17).

Slowloris-style clients, over raw sockets: a connection that sends nothing, headers sent a byte
at a time, a body that stops half-way. Each is cut off after its timeout (1 s here) instead of
holding a socket for ever, and a normal keep-alive client is not.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import ADMIN_AUTH
from tests.support.serving import free_port

pytestmark = pytest.mark.serve

TIMEOUT = 1.0
# The admin's credential as a raw header line: without one, a request is refused (401) before its
# body is read, and the body timers never come into play.
BASIC = b"Authorization: Basic " + base64.b64encode(f"{ADMIN_AUTH[0]}:{ADMIN_AUTH[1]}".encode())


@pytest.fixture(scope="module", params=["httptools", "h11"])
def server(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[int]:
    """`python -m server serve` with 1 s header and body timeouts, with each HTTP parser
    uvicorn has (httptools is the default); yields its port."""
    root = tmp_path_factory.mktemp("timeouts")
    port = free_port()
    env = {
        **os.environ,
        "SLUICE_HTTP_PARSER": request.param,
        "SLUICE_HTTP_HEADER_TIMEOUT_SECONDS": str(TIMEOUT),
        "SLUICE_HTTP_BODY_TIMEOUT_SECONDS": str(TIMEOUT),
        "SLUICE_SCHEDULER_TICK_SECONDS": "0",
    }
    log = (root / "server.log").open("ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "server", "serve", "--port", str(port)],
        cwd=Path(__file__).resolve().parent.parent,
        env={**env, "SLUICE_DATA_DIR": str(root / "data")},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        started = time.monotonic()
        while time.monotonic() - started < 30:
            assert proc.poll() is None, (root / "server.log").read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=5).status_code:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        yield port
    finally:
        proc.kill()
        proc.wait(timeout=10)
        log.close()


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.settimeout(10)
    return sock


def read_until_closed(sock: socket.socket) -> tuple[bytes, float]:
    """Everything the server sends until it closes, and when it closed (monotonic)."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data, time.monotonic()


def test_a_connection_that_sends_nothing_is_closed(server: int) -> None:
    with connect(server) as sock:
        opened = time.monotonic()
        data, closed = read_until_closed(sock)
    assert data == b""
    assert TIMEOUT - 0.2 < closed - opened < TIMEOUT + 2


def test_headers_sent_a_byte_at_a_time_get_408_at_the_deadline(server: int) -> None:
    """Each byte comes well within the timeout of the last; the deadline still holds."""
    head = b"POST /api/v1/workspaces/list HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + b"a" * 100
    with connect(server) as sock:
        started = time.monotonic()
        sock.sendall(head[:20])
        try:
            for byte in head[20:]:
                sock.sendall(bytes([byte]))
                time.sleep(0.1)
                if time.monotonic() - started > TIMEOUT + 3:
                    break
        except (BrokenPipeError, ConnectionResetError):
            pass
        data, closed = read_until_closed(sock)
    assert data.startswith(b"HTTP/1.1 408 "), data
    body = json.loads(data.split(b"\r\n\r\n", 1)[1])
    assert body["exceptionClassName"] and "headers" in body["message"]
    assert closed - started < TIMEOUT + 2


def test_a_body_that_stops_half_way_gets_408_and_the_connection_closes(server: int) -> None:
    body = b'{"name": "' + b"x" * 50
    with connect(server) as sock:
        sock.sendall(
            b"POST /api/v1/workspaces/list HTTP/1.1\r\nHost: localhost\r\n" + BASIC + b"\r\n"
            b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n" + body
        )
        started = time.monotonic()
        data, closed = read_until_closed(sock)
    assert data.startswith(b"HTTP/1.1 408 "), data
    assert json.loads(data.split(b"\r\n\r\n", 1)[1])["message"].startswith(
        "The request body did not arrive"
    )
    assert TIMEOUT - 0.2 < closed - started < TIMEOUT + 2


def test_a_refused_request_with_a_trickling_body_is_closed_at_once(server: int) -> None:
    with connect(server) as sock:
        sock.sendall(
            b"POST /api/v1/workspaces/list HTTP/1.1\r\nHost: evil.example\r\n" + BASIC + b"\r\n"
            b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"
        )
        started = time.monotonic()
        data, closed = read_until_closed(sock)
    assert data.startswith(b"HTTP/1.1 400 "), data
    assert closed - started < TIMEOUT


def test_keep_alive_clients_are_served_across_pauses(server: int) -> None:
    """Timers run per request: a connection reused after a pause longer than the header
    timeout (but within uvicorn's keep-alive) is served, and so is a slow but steady body."""
    base = f"http://127.0.0.1:{server}/api/v1"
    with httpx.Client(base_url=base, auth=ADMIN_AUTH, timeout=10) as client:
        assert client.post("/workspaces/list", json={}).status_code == 200
        time.sleep(TIMEOUT + 0.5)
        assert client.post("/workspaces/list", json={}).status_code == 200

        def slow_body() -> Iterator[bytes]:
            for part in (b"{", b' "unknown"', b": 1}"):
                time.sleep(TIMEOUT / 4)
                yield part

        r = client.post(
            "/workspaces/list", content=slow_body(), headers={"content-type": "application/json"}
        )
        assert r.status_code == 200 and r.json()["workspaces"]
