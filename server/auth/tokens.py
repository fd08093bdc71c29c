"""Signed Bearer tokens (JWT, HS256, PyJWT) and the key that signs them.

The key is `SLUICE_TOKEN_KEY`, or 32 random bytes generated once into `<data_dir>/token.key`
(mode 0600), so tokens outlive a restart. A token names its subject (`app:<id>` or `admin`);
the application is looked up on every request, so deleting it ends its tokens at once. An
admin token carries a digest of the admin password, so changing the password ends them too.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import secrets
import uuid
from pathlib import Path
from typing import Any

import jwt

from server.settings import Settings

KEY_FILE = "token.key"
ISSUER = "sluice"
ADMIN = "admin"


def signing_key(settings: Settings) -> bytes:
    if settings.token_key:
        return settings.token_key.encode()
    return _key_file(settings.data_path)


@functools.cache
def _key_file(data_path: Path) -> bytes:
    path = data_path / KEY_FILE
    try:
        return bytes.fromhex(path.read_text().strip())
    except FileNotFoundError:
        pass
    data_path.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = secrets.token_bytes(32)
    try:
        # O_EXCL: of two processes starting together, one writes and both read its key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return bytes.fromhex(path.read_text().strip())
    with os.fdopen(fd, "w") as f:
        f.write(key.hex())
    return key


def _admin_digest(settings: Settings, key: bytes) -> str:
    mac = hmac.new(key, f"{settings.username}:{settings.password}".encode(), hashlib.sha256)
    return mac.hexdigest()[:32]


def issue(settings: Settings, subject: str, now: int) -> str:
    key = signing_key(settings)
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "sub": subject,
        "iat": now,
        "exp": now + settings.token_expires_seconds,
        "jti": uuid.uuid4().hex,
    }
    if subject == ADMIN:
        claims["adm"] = _admin_digest(settings, key)
    return jwt.encode(claims, key, algorithm="HS256")


def verify(settings: Settings, token: str, now: int) -> str | None:
    """The token's subject, or None when it is not one of ours, expired or stale."""
    key = signing_key(settings)
    try:
        # Expiry is checked against `now` below (the context's clock, which tests move).
        claims = jwt.decode(
            token,
            key,
            algorithms=["HS256"],
            issuer=ISSUER,
            options={
                "require": ["exp", "iat", "sub", "iss"],
                "verify_exp": False,
                "verify_iat": False,
            },
        )
    except jwt.PyJWTError:
        return None
    exp, subject = claims.get("exp"), claims.get("sub")
    if not isinstance(exp, int) or exp <= now or not isinstance(subject, str):
        return None
    if subject == ADMIN and not hmac.compare_digest(
        str(claims.get("adm", "")), _admin_digest(settings, key)
    ):
        return None
    return subject
