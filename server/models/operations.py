"""Operation models (tag: operation): steps a connection runs after a sync."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from server.models.base import Model


class OperatorConfiguration(Model):
    operator_type: str
    normalization: dict[str, Any] | None = None
    dbt: dict[str, Any] | None = None
    webhook: dict[str, Any] | None = None


class OperationRead(Model):
    workspace_id: UUID
    operation_id: UUID
    name: str
    operator_configuration: OperatorConfiguration


class OperationReadList(Model):
    operations: list[OperationRead]


class OperationListRequestBody(Model):
    """Airbyte's `operations/list` takes `{connectionId}`; `{workspaceId}` lists a workspace's."""

    connection_id: UUID | None = None
    workspace_id: UUID | None = None
