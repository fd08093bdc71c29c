"""Connection checks (tags: source, destination, scheduler)."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from server.models.base import Model
from server.models.synchronous_jobs import SynchronousJobRead


class CheckConnectionRead(Model):
    """A check that fails is still a 200: `status` says so and `message` says why."""

    status: Literal["succeeded", "failed"]
    job_info: SynchronousJobRead
    message: str | None = None


class SourceCoreConfig(Model):
    """A configuration to check (or discover) before it is saved. With `sourceId`, masked
    secrets (`**********`) are taken from that stored source."""

    source_definition_id: UUID
    connection_configuration: dict[str, Any]
    workspace_id: UUID | None = None
    source_id: UUID | None = None


class DestinationCoreConfig(Model):
    destination_definition_id: UUID
    connection_configuration: dict[str, Any]
    workspace_id: UUID | None = None
    destination_id: UUID | None = None
