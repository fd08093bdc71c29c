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
from typing import Any, TypeVar

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


def _insert_source(
    db: Database, definition: SourceDefinitionRead, scope: Scope | None
) -> SourceDefinitionRead:
    _check_scope(db, scope)
    return store.insert_source_definition(db, definition)


def _insert_destination(
    db: Database, definition: DestinationDefinitionRead, scope: Scope | None
) -> DestinationDefinitionRead:
    _check_scope(db, scope)
    return store.insert_destination_definition(db, definition)


# --- sources -------------------------------------------------------------------------------


async def create_source_definition(
    ctx: Context, new: NewDefinition, scope: Scope | None = None, at: str = ""
) -> SourceDefinitionRead:
    """A custom source definition; `at` is where the definition sits in the request."""
    definition = new_source_definition(new)
    refuse_unrunnable(ctx.settings, definition, at)
    return await ctx.store.write(_insert_source, definition, scope)


async def get_source_definition(ctx: Context, definition_id: uuid.UUID) -> SourceDefinitionRead:
    return await ctx.store.read(store.get_source_definition, str(definition_id))


async def list_source_definitions(ctx: Context) -> list[SourceDefinitionRead]:
    return await ctx.store.read(store.list_source_definitions)


async def update_source_definition(
    ctx: Context, definition_id: uuid.UUID, changes: DefinitionChanges
) -> SourceDefinitionRead:
    def update(db: Database) -> SourceDefinitionRead:
        updated = _changed(store.get_source_definition(db, str(definition_id)), changes)
        refuse_unrunnable(ctx.settings, updated)
        return store.update_source_definition(db, updated)

    return await ctx.store.write(update)


async def delete_source_definition(ctx: Context, definition_id: uuid.UUID) -> None:
    await ctx.store.write(store.delete_source_definition, str(definition_id))


# --- destinations --------------------------------------------------------------------------


async def create_destination_definition(
    ctx: Context, new: NewDefinition, scope: Scope | None = None, at: str = ""
) -> DestinationDefinitionRead:
    definition = new_destination_definition(new)
    refuse_unrunnable(ctx.settings, definition, at)
    return await ctx.store.write(_insert_destination, definition, scope)


async def get_destination_definition(
    ctx: Context, definition_id: uuid.UUID
) -> DestinationDefinitionRead:
    return await ctx.store.read(store.get_destination_definition, str(definition_id))


async def list_destination_definitions(ctx: Context) -> list[DestinationDefinitionRead]:
    return await ctx.store.read(store.list_destination_definitions)


async def update_destination_definition(
    ctx: Context, definition_id: uuid.UUID, changes: DefinitionChanges
) -> DestinationDefinitionRead:
    def update(db: Database) -> DestinationDefinitionRead:
        updated = _changed(store.get_destination_definition(db, str(definition_id)), changes)
        refuse_unrunnable(ctx.settings, updated)
        return store.update_destination_definition(db, updated)

    return await ctx.store.write(update)


async def delete_destination_definition(ctx: Context, definition_id: uuid.UUID) -> None:
    await ctx.store.write(store.delete_destination_definition, str(definition_id))


def fields(struct: msgspec.Struct, kind: type[Any]) -> dict[str, Any]:
    """The fields of a face's model that `kind` (NewDefinition, DefinitionChanges) has."""
    names = set(kind.__struct_fields__)
    return {n: getattr(struct, n) for n in struct.__struct_fields__ if n in names}
