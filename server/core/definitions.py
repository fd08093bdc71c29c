"""Source and destination definitions: the rules every face follows for them.

- A definition created through the API is a custom one: a fresh id, `release_stage: custom`,
  protocol 0.2.0, and the program `source-faker` for `airbyte/source-faker` unless it names
  its `command`.
- What a definition may run is server.runner.allowed's rule, checked here on the definition
  as it would be stored (on update the merged result, not the changes: `runner: process`
  alone may switch a stored command on); a refusal names the field.
- A workspace a custom definition is created for must exist (checked in the same write).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import msgspec
from sqlite_utils import Database

from server.context import Context
from server.core.errors import InvalidInput
from server.models.definitions import (
    ActorDefinitionResourceRequirements,
    DestinationDefinitionRead,
    NormalizationDestinationDefinitionConfig,
    RunnerKind,
    SourceDefinitionRead,
)
from server.runner.allowed import rules_for
from server.settings import Settings
from server.store import definitions as store
from server.store import workspaces

Definition = TypeVar("Definition", SourceDefinitionRead, DestinationDefinitionRead)


class NewDefinition(msgspec.Struct, frozen=True, kw_only=True):
    """A custom definition as a face hands it over (validated by the face's decoding)."""

    name: str
    docker_repository: str
    docker_image_tag: str
    documentation_url: str
    icon: str | None = None
    resource_requirements: ActorDefinitionResourceRequirements | None = None
    runner: RunnerKind = "docker"
    command: list[str] | None = None


class DefinitionChanges(msgspec.Struct, frozen=True, kw_only=True):
    """What an update may change; a field left None keeps its stored value."""

    name: str | None = None
    docker_image_tag: str | None = None
    resource_requirements: ActorDefinitionResourceRequirements | None = None
    runner: RunnerKind | None = None
    command: list[str] | None = None


class Scope(msgspec.Struct, frozen=True, kw_only=True):
    """Where a custom definition is created: each id given must name a workspace."""

    workspace_id: uuid.UUID | None = None
    scope_workspace_id: uuid.UUID | None = None


def default_command(docker_repository: str) -> list[str]:
    """`airbyte/source-faker` runs as the program `source-faker` unless told otherwise."""
    return [docker_repository.rsplit("/", 1)[-1]]


def refuse_unrunnable(
    settings: Settings,
    definition: SourceDefinitionRead | DestinationDefinitionRead,
    at: str = "",
) -> None:
    """InvalidInput naming the field when the definition names a program or image it may
    not run; `at` prefixes the path in a wrapped body (e.g. `sourceDefinition.`)."""
    refusal = rules_for(settings).refusal(
        definition.runner, definition.command, definition.docker_repository
    )
    if refusal is not None:
        value = definition.command if refusal.field == "command" else definition.docker_repository
        raise InvalidInput(refusal.message, property_path=at + refusal.field, invalid_value=value)


def new_source_definition(new: NewDefinition) -> SourceDefinitionRead:
    return SourceDefinitionRead(
        source_definition_id=uuid.uuid4(),
        name=new.name,
        docker_repository=new.docker_repository,
        docker_image_tag=new.docker_image_tag,
        documentation_url=new.documentation_url,
        icon=new.icon,
        resource_requirements=new.resource_requirements,
        custom=True,
        release_stage="custom",
        source_type="custom",
        protocol_version="0.2.0",
        runner=new.runner,
        command=new.command or default_command(new.docker_repository),
    )


def new_destination_definition(new: NewDefinition) -> DestinationDefinitionRead:
    return DestinationDefinitionRead(
        destination_definition_id=uuid.uuid4(),
        name=new.name,
        docker_repository=new.docker_repository,
        docker_image_tag=new.docker_image_tag,
        documentation_url=new.documentation_url,
        icon=new.icon,
        resource_requirements=new.resource_requirements,
        custom=True,
        release_stage="custom",
        protocol_version="0.2.0",
        supports_dbt=False,
        normalization_config=NormalizationDestinationDefinitionConfig(supported=False),
        runner=new.runner,
        command=new.command or default_command(new.docker_repository),
    )


def _changed(current: Definition, changes: DefinitionChanges) -> Definition:
    set_ = {
        name: value
        for name in changes.__struct_fields__
        if (value := getattr(changes, name)) is not None
    }
    return msgspec.structs.replace(current, **set_)


def _check_scope(db: Database, scope: Scope | None) -> None:
    if scope is None:
        return
    for workspace_id in (scope.workspace_id, scope.scope_workspace_id):
        if workspace_id is not None:
            workspaces.get_workspace(db, str(workspace_id))


@dataclass(frozen=True)
class DefinitionKind(Generic[Definition]):
    """Source or destination definitions: how a new one is built, the store functions."""

    new: Callable[[NewDefinition], Definition]
    insert: Callable[[Database, Definition], Definition]
    get: Callable[[Database, str], Definition]
    list_all: Callable[[Database], list[Definition]]
    update: Callable[[Database, Definition], Definition]
    delete: Callable[[Database, str], None]


class Definitions(Generic[Definition]):
    """The core's operations on one kind of definition."""

    def __init__(self, kind: DefinitionKind[Definition]) -> None:
        self.kind: DefinitionKind[Definition] = kind

    def _insert(self, db: Database, definition: Definition, scope: Scope | None) -> Definition:
        _check_scope(db, scope)
        return self.kind.insert(db, definition)

    async def create(
        self, ctx: Context, new: NewDefinition, scope: Scope | None = None, at: str = ""
    ) -> Definition:
        """A custom definition; `at` is where the definition sits in the request."""
        definition = self.kind.new(new)
        refuse_unrunnable(ctx.settings, definition, at)
        return await ctx.store.write(self._insert, definition, scope)

    async def get(self, ctx: Context, definition_id: uuid.UUID) -> Definition:
        return await ctx.store.read(self.kind.get, str(definition_id))

    async def listed(self, ctx: Context) -> list[Definition]:
        return await ctx.store.read(self.kind.list_all)

    async def update(
        self, ctx: Context, definition_id: uuid.UUID, changes: DefinitionChanges
    ) -> Definition:
        def update(db: Database) -> Definition:
            updated = _changed(self.kind.get(db, str(definition_id)), changes)
            refuse_unrunnable(ctx.settings, updated)
            return self.kind.update(db, updated)

        return await ctx.store.write(update)

    async def delete(self, ctx: Context, definition_id: uuid.UUID) -> None:
        await ctx.store.write(self.kind.delete, str(definition_id))


# --- sources -------------------------------------------------------------------------------

_sources = Definitions(
    DefinitionKind(
        new=new_source_definition,
        insert=store.insert_source_definition,
        get=store.get_source_definition,
        list_all=store.list_source_definitions,
        update=store.update_source_definition,
        delete=store.delete_source_definition,
    )
)
create_source_definition = _sources.create
get_source_definition = _sources.get
list_source_definitions = _sources.listed
update_source_definition = _sources.update
delete_source_definition = _sources.delete

# --- destinations --------------------------------------------------------------------------

_destinations = Definitions(
    DefinitionKind(
        new=new_destination_definition,
        insert=store.insert_destination_definition,
        get=store.get_destination_definition,
        list_all=store.list_destination_definitions,
        update=store.update_destination_definition,
        delete=store.delete_destination_definition,
    )
)
create_destination_definition = _destinations.create
get_destination_definition = _destinations.get
list_destination_definitions = _destinations.listed
update_destination_definition = _destinations.update
delete_destination_definition = _destinations.delete


def fields(struct: msgspec.Struct, kind: type[Any]) -> dict[str, Any]:
    """The fields of a face's model that `kind` (NewDefinition, DefinitionChanges) has."""
    names = set(kind.__struct_fields__)
    return {n: getattr(struct, n) for n in struct.__struct_fields__ if n in names}
