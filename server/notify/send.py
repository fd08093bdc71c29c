"""One HTTP delivery of a notification, and which receivers may be sent to."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from server.core.notification_queue import SIGNATURE_HEADER

USER_AGENT = "Sluice-Notifications/1"
EXCERPT_BYTES = 500


@dataclass(frozen=True)
class Answer:
    """What the receiver said: its status code and the start of its body, or why it could
    not be reached."""

    ok: bool
    status_code: int | None = None
    excerpt: str | None = None
    error: str | None = None


def host_allowed(url: str, allowed: str) -> bool:
    """Whether `url` is http(s) and its host is in `allowed` (comma-separated names; a
    leading dot names a domain and its subdomains; empty allows any host)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:  # not a URL (an unclosed IPv6 bracket, say)
        return False
    if parts.scheme.lower() not in ("http", "https") or not host:
        return False
    names = [n.strip().lower() for n in allowed.split(",") if n.strip()]
    if not names:
        return True
    host = host.lower()
    return any(host == n or (n.startswith(".") and host.endswith(n)) for n in names)


def shown_target(url: str) -> str:
    """A receiver's address without its path and query, which may hold its credential (a
    Slack webhook's path is one)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "an address that is not a URL"
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


async def deliver(
    client: httpx.AsyncClient,
    url: str,
    body: bytes,
    signature: str | None,
    timeout: float,
    allowed_hosts: str,
) -> Answer:
    """POST the body; a 2xx answer is a delivery. Redirects are not followed: a receiver is
    the address configured, not one it points elsewhere."""
    if not host_allowed(url, allowed_hosts):
        return Answer(ok=False, error=f"{shown_target(url)} is not an allowed receiver")
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    if signature is not None:
        headers[SIGNATURE_HEADER] = signature
    try:
        # Streamed: only the start of the answer is read, however much the receiver sends.
        async with client.stream(
            "POST", url, content=body, headers=headers, timeout=timeout
        ) as reply:
            start = b""
            async for chunk in reply.aiter_raw():
                start += chunk
                if len(start) >= EXCERPT_BYTES:
                    break
    except httpx.TimeoutException:
        return Answer(ok=False, error=f"no answer within {timeout:g} s")
    except (httpx.HTTPError, httpx.InvalidURL) as exc:  # InvalidURL is no HTTPError
        return Answer(ok=False, error=f"{type(exc).__name__}: {exc}"[:EXCERPT_BYTES])
    excerpt = start[:EXCERPT_BYTES].decode("utf-8", "replace")
    return Answer(ok=200 <= reply.status_code < 300, status_code=reply.status_code, excerpt=excerpt)
