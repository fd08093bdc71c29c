"""`sluice serve` refuses to listen beyond loopback without a real credential check."""

from __future__ import annotations

import ipaddress

from server.settings import Settings

DEFAULT_PASSWORD = Settings().password

HOW = (
    "set a password of your own (SLUICE_PASSWORD=... sluice serve, with SLUICE_AUTH=basic), "
    "or bind to 127.0.0.1"
)


def is_loopback(host: str) -> bool:
    name = host.strip().strip("[]")
    if name.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def exposure_problem(settings: Settings) -> str | None:
    """Why these settings must not serve on their address, or None when they may."""
    if settings.token_key and len(settings.token_key.encode()) < 32:
        return "SLUICE_TOKEN_KEY must be at least 32 bytes (HS256); or leave it empty"
    if is_loopback(settings.host):
        return None
    if settings.auth == "none":
        return f"refusing to serve on {settings.host} with SLUICE_AUTH=none: {HOW}"
    if settings.password == DEFAULT_PASSWORD:
        return f"refusing to serve on {settings.host} with the default password: {HOW}"
    return None
