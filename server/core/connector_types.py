"""Connector type names (`faker`, `postgres`, ...) and the definitions they stand for, both ways.

Airbyte's public API lets a client name a connector by its type instead of its definition id
(`configuration.sourceType`, `configuration.destinationType`), and says the type in replies.

- A definition Sluice seeds has Airbyte's name for its id (`faker` is dfd88b22-...), so scripts
  written against Airbyte find the same connector.
- Every other definition, custom ones included, is named by its docker repository:
  `airbyte/source-faker` -> `faker`, `sluice/destination-duckdb` -> `duckdb`.
- Two definitions with one name (a custom copy of a seeded connector): the seeded one wins,
  then the one created first.
- An unknown name is refused (Airbyte's "value-not-found").
"""

from __future__ import annotations

import uuid
from typing import Literal

from server.context import Context
from server.core import definitions
from server.core.errors import Refused
from server.models.definitions import DestinationDefinitionRead, SourceDefinitionRead

ActorKind = Literal["source", "destination"]

# Airbyte's names (its public API's NameToDefinitionMapper) for the definitions Sluice seeds.
AIRBYTE_NAMES: dict[ActorKind, dict[str, str]] = {
    "source": {
        "dfd88b22-b603-4c3d-aad7-3701784586b1": "faker",
        "d53f9084-fa6b-4a5a-976c-5b8392f4ad8a": "e2e-test",
        "778daa7c-feaf-4db6-96f3-70fd645acc77": "file",
    },
    "destination": {
        "b76be0a6-27dc-4560-95f6-2623da0bd7b6": "sqlite",
        "94bd199c-2ff0-4aa2-b98e-17f0acb72610": "duckdb",
        "a625d593-bba5-4a1c-a53d-2d246268a816": "local-json",
        "25c5221d-dce2-4163-ade9-739ef790f503": "postgres",
    },
}


class UnknownConnectorType(Refused):
    """Submitted value could not be found."""

    problem = "value-not-found"


def derived_name(kind: ActorKind, docker_repository: str) -> str:
    """`airbyte/source-faker` -> `faker`: the image's last path part without its kind."""
    last = docker_repository.rsplit("/", 1)[-1]
    prefix = f"{kind}-"
    return last[len(prefix) :] if last.startswith(prefix) and len(last) > len(prefix) else last


def type_name(kind: ActorKind, definition_id: uuid.UUID | str, docker_repository: str) -> str:
    known = AIRBYTE_NAMES[kind].get(str(definition_id))
    return known if known is not None else derived_name(kind, docker_repository)


def _named(
    kind: ActorKind, found: list[SourceDefinitionRead] | list[DestinationDefinitionRead]
) -> list[tuple[uuid.UUID, str]]:
    """(id, type name) of every definition, seeded ones first, otherwise in stored order."""
    pairs = [
        (
            d.source_definition_id
            if isinstance(d, SourceDefinitionRead)
            else d.destination_definition_id,
            d.docker_repository,
        )
        for d in found
    ]
    named = [(i, type_name(kind, i, repository)) for i, repository in pairs]
    return sorted(named, key=lambda pair: str(pair[0]) not in AIRBYTE_NAMES[kind])


async def _definitions(
    ctx: Context, kind: ActorKind
) -> list[SourceDefinitionRead] | list[DestinationDefinitionRead]:
    if kind == "source":
        return await definitions.list_source_definitions(ctx)
    return await definitions.list_destination_definitions(ctx)


async def types_and_published(
    ctx: Context, kind: ActorKind
) -> tuple[dict[uuid.UUID, str], set[uuid.UUID]]:
    """Every definition's type name by id, and the ids of those that run one of Airbyte's own
    images (`airbyte/...`), in one store read.

    Airbyte's clients know those connectors' configurations by type: the airbyte-api SDK reads
    a source configuration as whichever of its models has that `sourceType`, and refuses one
    whose type it has no model for (Sluice's own and custom connectors)."""
    found = await _definitions(ctx, kind)
    published = {
        d.source_definition_id
        if isinstance(d, SourceDefinitionRead)
        else d.destination_definition_id
        for d in found
        if d.docker_repository.startswith("airbyte/")
    }
    return dict(_named(kind, found)), published


async def definition_id(ctx: Context, kind: ActorKind, name: str) -> uuid.UUID:
    """The definition `name` stands for; UnknownConnectorType when none does."""
    for found_id, found_name in _named(kind, await _definitions(ctx, kind)):
        if found_name == name:
            return found_id
    raise UnknownConnectorType(f"Submitted value could not be found: {name}", value=name)
