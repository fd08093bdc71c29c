"""Web UI sessions: signing the instance admin in with a form, the session a cookie names, and
the CSRF token of each session.

- A session token is 256 random bits, sent only in the cookie; the store keeps its SHA-256.
- A session ends `SESSION_SECONDS` after sign-in, or after `IDLE_SECONDS` without a request;
  sign-out deletes it. Ended sessions are removed when someone signs in.
- The CSRF token is derived from the session token (SHA-256 under a label), so it needs no
  storage and cannot be computed from what the store holds.
- The username and password are checked as the Basic check does (both compared, in constant
  time), so the form is no easier to guess through than the header.
"""

from __future__ import annotations

import hashlib
import secrets

import msgspec
from sqlite_utils import Database

from server.auth.hashing import same
from server.context import Context
from server.store import ui_sessions as store

SESSION_SECONDS = 12 * 3600
IDLE_SECONDS = 2 * 3600
# `last_used_at` is written at most this often per session (not once per page).
TOUCH_SECONDS = 60


class Session(msgspec.Struct, frozen=True):
    """A live session as a page sees it."""

    csrf_token: str
    expires_at: int


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_for(token: str) -> str:
    return hashlib.sha256(b"sluice-ui-csrf\0" + token.encode()).hexdigest()


def credentials_ok(ctx: Context, username: str, password: str) -> bool:
    # Both compared, always: which one was wrong takes no different time.
    ok_user = same(username, ctx.settings.username)
    ok_password = same(password, ctx.settings.password)
    return ok_user and ok_password


def _open(db: Database, token_digest: str, now: int) -> None:
    store.delete_ended_sessions(db, now, now - IDLE_SECONDS)
    store.insert_session(db, store.SessionRow(token_digest, now, now + SESSION_SECONDS, now))


async def sign_in(ctx: Context, username: str, password: str) -> str | None:
    """A new session's token when the credentials are the admin's, else None."""
    if not credentials_ok(ctx, username, password):
        return None
    token = secrets.token_urlsafe(32)
    await ctx.store.write(_open, digest(token), ctx.now())
    return token


async def session_for(ctx: Context, token: str) -> Session | None:
    """The live session the token names, or None (unknown, ended or idle too long)."""
    if not token or len(token) > 128:
        return None
    key = digest(token)
    row = await ctx.store.read(store.find_session, key)
    now = ctx.now()
    if row is None or row.expires_at <= now or row.last_used_at + IDLE_SECONDS <= now:
        return None
    if now - row.last_used_at >= TOUCH_SECONDS:
        await ctx.store.write(store.touch_session, key, now)
    return Session(csrf_token=csrf_for(token), expires_at=row.expires_at)


async def sign_out(ctx: Context, token: str) -> None:
    await ctx.store.write(store.delete_session, digest(token))
