"""Health check model (tag: health)."""

from __future__ import annotations

from server.models.base import Model


class HealthCheckRead(Model):
    available: bool
    # The 2020 API's key; prefect-airbyte still falls back to it.
    db: bool
