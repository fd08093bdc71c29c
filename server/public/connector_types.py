"""How the public API's actor configurations differ from the core's (sources and destinations).

- A configuration carries the connector's type (`sourceType`, `destinationType`) in replies
  and may carry it in requests; it is taken out before the core validates and stores the rest,
  as Airbyte does (`ActorConfigurationHelper.kt`), and put back in replies (every
  destination's; a source's when its image is Airbyte's: see server.public.actors).
- A PATCH's configuration is merged into the stored one: objects key by key, anything else
  replaced (Airbyte's `Jsons.mergeNodes`).
- The core names a refused property by where the configuration API has it
  (`connectionConfiguration.port`); here it is `configuration.port`.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from server.context import Context
from server.core import connector_types
from server.core.connector_types import ActorKind
from server.core.errors import InvalidInput, Problem
from server.core.specs import CONFIG_PATH
from server.models.public.common import ListQuery
from server.public.rest import Links

T = TypeVar("T")
R = TypeVar("R")

FIELD = "configuration"


def type_key(kind: ActorKind) -> str:
    return f"{kind}Type"


def split(kind: ActorKind, configuration: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """(the type the configuration names, the configuration without it)."""
    key = type_key(kind)
    rest = {k: v for k, v in configuration.items() if k != key}
    if key not in configuration:
        return None, rest
    named = configuration[key]
    if not isinstance(named, str) or not named:
        raise InvalidInput(
            f"{key} must be a connector type name such as "
            f"{'faker' if kind == 'source' else 'postgres'}",
            property_path=f"{FIELD}.{key}",
            invalid_value=named,
        )
    return named, rest


def with_type(kind: ActorKind, configuration: dict[str, Any], name: str) -> dict[str, Any]:
    return {**configuration, type_key(kind): name}


def merged(stored: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """`patch` merged into `stored` (copies; neither is changed)."""
    out = dict(stored)
    for key, value in patch.items():
        current = out.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            out[key] = merged(current, value)
        else:
            out[key] = value
    return out


async def definition_for(
    ctx: Context, kind: ActorKind, definition_id: uuid.UUID | None, configuration: dict[str, Any]
) -> tuple[uuid.UUID, dict[str, Any]]:
    """(the definition id, the configuration without its type): `definitionId` if given, else
    the one the configuration's type names; neither is a 422 (Airbyte's)."""
    named, rest = split(kind, configuration)
    if definition_id is not None:
        return definition_id, rest
    if named is None:
        key = type_key(kind)
        raise InvalidInput(
            f"Either definitionId or {FIELD}.{key} is required",
            property_path=f"{FIELD}.{key}",
        )
    return await connector_types.definition_id(ctx, kind, named), rest


def _renamed(path: str) -> str:
    if path == CONFIG_PATH or path.startswith((CONFIG_PATH + ".", CONFIG_PATH + "[")):
        return FIELD + path[len(CONFIG_PATH) :]
    return path


async def as_public(call: Awaitable[T]) -> T:
    """`call`'s result; a refused configuration property named as this API names it."""
    try:
        return await call
    except InvalidInput as exc:
        errors = [
            Problem(_renamed(p.property_path), p.invalid_value, p.message) for p in exc.errors
        ]
        message = exc.message.replace(f"{CONFIG_PATH}.", f"{FIELD}.")
        raise InvalidInput(message, errors=errors) from None


async def paged(
    query: ListQuery,
    links: Links,
    every_workspace: Callable[[], Awaitable[list[Any]]],
    listed: Callable[[uuid.UUID], Awaitable[list[T]]],
    shown: Callable[[T], R],
) -> tuple[list[R], str, str]:
    """A page of the objects of `query.workspaceIds` (every workspace's when empty), in
    workspace then creation order, and its `next` and `previous` links."""
    workspace_ids = query.workspace_ids or [w.workspace_id for w in await every_workspace()]
    every: list[T] = []
    for workspace_id in dict.fromkeys(workspace_ids):
        every += await listed(workspace_id)
    page = every[query.offset : query.offset + query.limit]
    after, before = links.page(query.limit, query.offset, query.offset + len(page) < len(every))
    return [shown(item) for item in page], after, before
