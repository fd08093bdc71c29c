"""Models of the schedule helpers (tag: web_backend), as Airbyte names them."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta

from server.models.base import Model


class WebBackendDescribeCronExpressionRequestBody(Model):
    cron_expression: Annotated[str, Meta(max_length=256)]
    # Airbyte's schedules are UTC only; any IANA zone is accepted here (UTC when left out).
    cron_time_zone: Annotated[str, Meta(min_length=1, max_length=64)] | None = None


class WebBackendCronExpressionDescription(Model):
    cron_expression: str
    description: str
    # The next runs after now, as epoch seconds.
    next_executions: list[int]
