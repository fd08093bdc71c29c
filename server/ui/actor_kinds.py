"""What differs between the sources and the destinations pages (server.ui.actors): the words,
the paths, and the core calls, bound once for each."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from server.context import Context
from server.core import checks, definitions, destinations, sources, specifications, workspaces
from server.core.errors import NotFound
from server.models.checks import CheckConnectionRead
from server.models.definitions import DestinationDefinitionRead, SourceDefinitionRead
from server.models.destinations import DestinationRead
from server.models.sources import SourceRead

Actor = SourceRead | DestinationRead
Definition = SourceDefinitionRead | DestinationDefinitionRead


@dataclass(frozen=True)
class ActorKind:
    noun: Literal["source", "destination"]
    plural: str  # "sources"
    get: Callable[[Context, uuid.UUID], Awaitable[Any]]
    create: Callable[[Context, uuid.UUID, uuid.UUID, str, dict[str, Any]], Awaitable[Any]]
    update: Callable[[Context, uuid.UUID, str | None, dict[str, Any]], Awaitable[Any]]
    delete: Callable[[Context, uuid.UUID], Awaitable[None]]
    definitions: Callable[[Context], Awaitable[list[Any]]]
    definition: Callable[[Context, uuid.UUID], Awaitable[Any]]
    spec: Callable[[Context, uuid.UUID], Awaitable[Any]]  # of a definition
    check_new: Callable[[Context, uuid.UUID, dict[str, Any]], Awaitable[CheckConnectionRead]]
    check_update: Callable[[Context, uuid.UUID, dict[str, Any]], Awaitable[CheckConnectionRead]]

    @property
    def base(self) -> str:
        return f"/{self.plural}"

    @property
    def title(self) -> str:
        return self.noun.capitalize()

    def id_of(self, actor: Actor) -> uuid.UUID:
        return actor.source_id if isinstance(actor, SourceRead) else actor.destination_id

    def definition_id_of(self, actor: Actor) -> uuid.UUID:
        if isinstance(actor, SourceRead):
            return actor.source_definition_id
        return actor.destination_definition_id

    def connector_of(self, actor: Actor) -> str:
        return actor.source_name if isinstance(actor, SourceRead) else actor.destination_name


def definition_id(definition: Definition) -> uuid.UUID:
    if isinstance(definition, SourceDefinitionRead):
        return definition.source_definition_id
    return definition.destination_definition_id


async def _source_spec(ctx: Context, definition_id: uuid.UUID) -> Any:
    return await specifications.source_definition_specification(ctx, definition_id)


async def _destination_spec(ctx: Context, definition_id: uuid.UUID) -> Any:
    return await specifications.destination_definition_specification(ctx, definition_id)


async def _check_source(
    ctx: Context, definition_id: uuid.UUID, configuration: dict[str, Any]
) -> CheckConnectionRead:
    return await checks.check_source_configuration(ctx, definition_id, configuration)


async def _check_destination(
    ctx: Context, definition_id: uuid.UUID, configuration: dict[str, Any]
) -> CheckConnectionRead:
    return await checks.check_destination_configuration(ctx, definition_id, configuration)


async def default_workspace(ctx: Context) -> uuid.UUID:
    """The UI works in the first workspace (the default one every server has)."""
    found = await workspaces.list_workspaces(ctx)
    if not found:
        raise NotFound("There is no workspace.")
    return found[0].workspace_id


SOURCES = ActorKind(
    noun="source",
    plural="sources",
    get=sources.get_source,
    create=sources.create_source,
    update=sources.update_source,
    delete=sources.delete_source,
    definitions=definitions.list_source_definitions,
    definition=definitions.get_source_definition,
    spec=_source_spec,
    check_new=_check_source,
    check_update=checks.check_source_update,
)
DESTINATIONS = ActorKind(
    noun="destination",
    plural="destinations",
    get=destinations.get_destination,
    create=destinations.create_destination,
    update=destinations.update_destination,
    delete=destinations.delete_destination,
    definitions=definitions.list_destination_definitions,
    definition=definitions.get_destination_definition,
    spec=_destination_spec,
    check_new=_check_destination,
    check_update=checks.check_destination_update,
)
