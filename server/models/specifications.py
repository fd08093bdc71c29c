"""Connector specifications (tags: source_definition_specification,
destination_definition_specification)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from server.models.base import Model, uri_or_none
from server.models.connections import DestinationSyncMode
from server.models.synchronous_jobs import SynchronousJobRead


class SourceDefinitionIdWithWorkspaceId(Model):
    """Airbyte requires `workspaceId`; the 2020 API sent only the definition id."""

    source_definition_id: UUID
    workspace_id: UUID | None = None


class DestinationDefinitionIdWithWorkspaceId(Model):
    destination_definition_id: UUID
    workspace_id: UUID | None = None


class SourceDefinitionSpecificationRead(Model):
    source_definition_id: UUID
    connection_specification: dict[str, Any]
    job_info: SynchronousJobRead
    documentation_url: str | None = None
    advanced_auth: dict[str, Any] | None = None
    advanced_auth_global_credentials_available: bool | None = None

    def __post_init__(self) -> None:
        # A connector's spec may say `documentationUrl: ""`; Airbyte's schema wants a URI.
        self.documentation_url = uri_or_none(self.documentation_url)


class DestinationDefinitionSpecificationRead(Model):
    destination_definition_id: UUID
    connection_specification: dict[str, Any]
    job_info: SynchronousJobRead
    supported_destination_sync_modes: list[DestinationSyncMode]
    supports_dbt: bool
    supports_normalization: bool
    documentation_url: str | None = None
    advanced_auth: dict[str, Any] | None = None
    advanced_auth_global_credentials_available: bool | None = None

    def __post_init__(self) -> None:
        # A connector's spec may say `documentationUrl: ""`; Airbyte's schema wants a URI.
        self.documentation_url = uri_or_none(self.documentation_url)
