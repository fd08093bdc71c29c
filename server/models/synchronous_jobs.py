"""The `jobInfo` of the synchronous connector calls (spec, check, discover).

Airbyte's SynchronousJobRead: unlike a sync job its id is a UUID, and it is answered inline.
Its parts (log lines, failure reason) are the same models as a sync attempt's.
"""

from __future__ import annotations

from uuid import UUID

from server.jobs.attempts import FailureOrigin
from server.models.base import Model
from server.models.jobs import FailureReason, JobConfigType, LogRead

__all__ = ["FailureOrigin", "FailureReason", "JobConfigType", "LogRead", "SynchronousJobRead"]


class SynchronousJobRead(Model):
    id: UUID
    config_type: JobConfigType
    created_at: int
    ended_at: int
    succeeded: bool
    connector_configuration_updated: bool
    logs: LogRead
    config_id: str | None = None
    failure_reason: FailureReason | None = None
