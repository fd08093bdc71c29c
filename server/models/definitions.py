"""Source and destination definition models (tags: source_definition, destination_definition).

A definition names a connector image (`dockerRepository:dockerImageTag`) as Airbyte's does.
Sluice adds two fields that say how the connector runs here: `runner` ("docker" runs the
image, "process" runs `command` as a local program) and `command`.
"""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from msgspec import Meta

from server.domain.quantities import CPU_PATTERN, MEMORY_PATTERN
from server.models.base import Model, Uri, uri_or_none

ReleaseStage = Literal["alpha", "beta", "generally_available", "custom"]
SourceType = Literal["api", "file", "database", "custom"]
SupportLevel = Literal["community", "certified", "archived", "none"]
RunnerKind = Literal["docker", "process"]
Name = Annotated[str, Meta(min_length=1, max_length=256)]
# An image reference without its tag: optional registry host[:port], then path components.
_REPOSITORY = r"^[a-z0-9]+([._:-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*$"
DockerRepository = Annotated[str, Meta(pattern=_REPOSITORY, max_length=256)]
DockerImageTag = Annotated[str, Meta(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")]
# The program (and leading arguments) of a "process" connector, e.g. ["source-faker"].
Command = Annotated[list[Annotated[str, Meta(min_length=1)]], Meta(min_length=1)]
ScopeType = Literal["workspace", "organization"]
JobType = Literal[
    "get_spec",
    "check_connection",
    "discover_schema",
    "sync",
    "reset_connection",
    "connection_updater",
]


# Kubernetes quantities, as Airbyte takes them (server/quantities.py: the runner's grammar).
CpuQuantity = Annotated[str, Meta(pattern=CPU_PATTERN, max_length=64)]
MemoryQuantity = Annotated[str, Meta(pattern=MEMORY_PATTERN, max_length=64)]


class ResourceRequirements(Model, rename=None):
    """Container limits, spelled in snake_case on the wire as Airbyte spells them: positive
    quantities such as "0.5" or "500m" CPUs and "512Mi" or "1Gi" of memory."""

    cpu_request: CpuQuantity | None = None
    cpu_limit: CpuQuantity | None = None
    memory_request: MemoryQuantity | None = None
    memory_limit: MemoryQuantity | None = None


class JobTypeResourceLimit(Model):
    job_type: JobType
    resource_requirements: ResourceRequirements


class ActorDefinitionResourceRequirements(Model):
    """`default` applies to every job of the connector; `jobSpecific` overrides per job type."""

    default: ResourceRequirements | None = None
    job_specific: list[JobTypeResourceLimit] | None = None


class NormalizationDestinationDefinitionConfig(Model):
    supported: bool
    normalization_repository: str | None = None
    normalization_tag: str | None = None
    normalization_integration_type: str | None = None


class DefinitionCreate(Model):
    """A connector to add: the same fields for sources and destinations."""

    name: Name
    docker_repository: DockerRepository
    docker_image_tag: DockerImageTag
    documentation_url: Uri
    icon: str | None = None
    resource_requirements: ActorDefinitionResourceRequirements | None = None
    runner: RunnerKind = "docker"
    command: Command | None = None


class SourceDefinitionCreate(DefinitionCreate):
    pass


class DestinationDefinitionCreate(DefinitionCreate):
    pass


class CustomSourceDefinitionCreate(Model):
    source_definition: SourceDefinitionCreate
    workspace_id: UUID | None = None
    scope_id: UUID | None = None
    scope_type: ScopeType | None = None


class CustomDestinationDefinitionCreate(Model):
    destination_definition: DestinationDefinitionCreate
    workspace_id: UUID | None = None
    scope_id: UUID | None = None
    scope_type: ScopeType | None = None


class DefinitionUpdate(Model):
    """Fields left out keep their stored value (Airbyte requires `dockerImageTag`; we do not)."""

    docker_image_tag: DockerImageTag | None = None
    name: Name | None = None
    workspace_id: UUID | None = None
    resource_requirements: ActorDefinitionResourceRequirements | None = None
    runner: RunnerKind | None = None
    command: Command | None = None


class SourceDefinitionUpdate(DefinitionUpdate, kw_only=True):
    source_definition_id: UUID


class DestinationDefinitionUpdate(DefinitionUpdate, kw_only=True):
    destination_definition_id: UUID


class SourceDefinitionRead(Model):
    source_definition_id: UUID
    name: str
    docker_repository: str
    docker_image_tag: str
    custom: bool
    runner: RunnerKind
    command: list[str]
    documentation_url: str | None = None
    icon: str | None = None
    protocol_version: str | None = None
    release_stage: ReleaseStage | None = None
    release_date: str | None = None
    support_level: SupportLevel | None = None
    source_type: SourceType | None = None
    resource_requirements: ActorDefinitionResourceRequirements | None = None

    def __post_init__(self) -> None:
        # Stored before `documentationUrl` had to be a URI: left out rather than sent as "".
        self.documentation_url = uri_or_none(self.documentation_url)


class DestinationDefinitionRead(Model):
    destination_definition_id: UUID
    name: str
    docker_repository: str
    docker_image_tag: str
    documentation_url: str
    custom: bool
    supports_dbt: bool
    normalization_config: NormalizationDestinationDefinitionConfig
    runner: RunnerKind
    command: list[str]
    icon: str | None = None
    protocol_version: str | None = None
    release_stage: ReleaseStage | None = None
    release_date: str | None = None
    support_level: SupportLevel | None = None
    resource_requirements: ActorDefinitionResourceRequirements | None = None


class SourceDefinitionIdRequestBody(Model):
    source_definition_id: UUID


class DestinationDefinitionIdRequestBody(Model):
    destination_definition_id: UUID


class SourceDefinitionReadList(Model):
    source_definitions: list[SourceDefinitionRead]


class DestinationDefinitionReadList(Model):
    destination_definitions: list[DestinationDefinitionRead]
