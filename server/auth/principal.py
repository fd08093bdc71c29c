"""Who a request runs as, and how an Authorization header becomes that.

The middleware sets `current` for the request; the workspace check around each handler reads it
(handlers take only their body and the context, so the request's principal travels in a
context variable, which is per request as each request runs in its own task context).
"""

from __future__ import annotations

import base64
import binascii
import contextvars
from dataclasses import dataclass, field
from typing import Literal

from server.auth import credentials, tokens
from server.auth.hashing import same
from server.context import Context
from server.store.api_keys import touch_api_key
from server.store.applications import application_scope

Kind = Literal["admin", "application", "api_key"]

# How often an API key's `lastUsedAt` is written: at most once a minute per key, so that a busy
# key costs one write a minute, not one per request.
TOUCH_SECONDS = 60


@dataclass(frozen=True)
class Principal:
    kind: Kind
    id: str
    # A scoped credential sees and changes only this workspace; None: every workspace.
    workspace_id: str | None = None

    @property
    def rate_key(self) -> str:
        return f"{self.kind}:{self.id}"


ADMIN = Principal("admin", "admin")

current: contextvars.ContextVar[Principal | None] = contextvars.ContextVar(
    "sluice_principal", default=None
)


@dataclass
class Authenticator:
    """Checks credentials; remembers when it last wrote each API key's `lastUsedAt`."""

    touched: dict[str, int] = field(default_factory=dict)

    async def authenticate(self, authorization: str | None, ctx: Context) -> Principal | None:
        """The principal the header names, or None when it is missing or names no one."""
        settings = ctx.settings
        if settings.auth == "none":
            return ADMIN
        scheme, _, value = (authorization or "").strip().partition(" ")
        value = value.strip()
        if scheme.lower() == "basic":
            return self._basic(value, ctx)
        if scheme.lower() != "bearer" or not value:
            return None
        if value.startswith(credentials.KEY_PREFIX):
            return await self._api_key(value, ctx)
        subject = tokens.verify(settings, value, ctx.now())
        if subject == tokens.ADMIN:
            return ADMIN
        if subject is None or not subject.startswith("app:"):
            return None
        application_id = subject.removeprefix("app:")
        exists, workspace_id = await ctx.store.read(application_scope, application_id)
        return Principal("application", application_id, workspace_id) if exists else None

    def _basic(self, value: str, ctx: Context) -> Principal | None:
        try:
            user, sep, password = base64.b64decode(value, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        # Both compared, always: which one was wrong takes no different time.
        ok_user = same(user, ctx.settings.username)
        ok_password = same(password, ctx.settings.password)
        return ADMIN if sep and ok_user and ok_password else None

    async def _api_key(self, key: str, ctx: Context) -> Principal | None:
        now = ctx.now()
        row = await ctx.store.read(credentials.live_api_key, key, now)
        if row is None:
            return None
        if now - self.touched.get(row.id, -TOUCH_SECONDS) >= TOUCH_SECONDS:
            self.touched[row.id] = now
            await ctx.store.write(touch_api_key, row.id, now)
        return Principal("api_key", row.id, row.workspace_id)
