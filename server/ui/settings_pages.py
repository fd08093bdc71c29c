"""Settings: applications and API keys (create shows the secret once; revoke)."""

from __future__ import annotations

from starlette.routing import Route

ROUTES: list[Route] = []
