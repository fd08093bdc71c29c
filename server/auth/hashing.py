"""Hashes of stored credentials, with the standard library only (no hand-rolled crypto).

Client secrets are hashed with scrypt (memory-hard, salted), as passwords are: a copy of the
database then gives an attacker nothing cheap to try. API keys are 256 random bits, which no
dictionary or brute force can reach, so a fast SHA-256 digest protects them as well and lets a
key be looked up by its digest on every request without scrypt's 50 ms.
(Looking a digest up in an index leaks, at most, timing about digests, which say nothing
about any key: finding a key from its digest is a SHA-256 preimage.)
"""

from __future__ import annotations

import hashlib
import hmac
import os

# scrypt's interactive-login parameters (16 MiB, about 50 ms here).
_N, _R, _P = 2**14, 8, 1


def hash_secret(secret: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def verify_secret(secret: str, stored: str) -> bool:
    try:
        name, n, r, p, salt, digest = stored.split("$")
        if name != "scrypt":
            return False
        got = hashlib.scrypt(
            secret.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32
        )
    except ValueError:
        return False
    return hmac.compare_digest(got, bytes.fromhex(digest))


# Verified against when a client id is unknown, so an unknown id takes as long as a wrong secret.
DUMMY_HASH = hash_secret("not a secret")


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def same(a: str, b: str) -> bool:
    """Constant-time comparison of two strings (credentials from a request)."""
    return hmac.compare_digest(a.encode(), b.encode())
