"""What a workspace-scoped credential may do through the public API: the rules of
server.auth.scope (which the config API applies), fed from path and query parameters too.

- Admin-only operations (new workspaces, connector definitions, applications) are 403.
- Every id the request names, in its path, query or body, must be in the credential's
  workspace: another workspace's object is 404, as if it did not exist.
- A list not pinned to workspaces (`workspaceIds` absent) is pinned to the credential's.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from server.auth.principal import current
from server.auth.scope import FIELD_KINDS, check_request, filter_reply, references
from server.context import Context
from server.errors import Forbidden

Handler = Callable[..., Awaitable[Any]]

ADMIN_ONLY = frozenset(
    {
        "create_workspace",
        "list_applications",
        "create_application",
        "get_application",
        "delete_application",
        "create_source_definition",
        "update_source_definition",
        "delete_source_definition",
        "create_destination_definition",
        "update_destination_definition",
        "delete_destination_definition",
    }
)


def _refs(values: dict[str, Any], path_names: list[str]) -> list[tuple[str, str | int]]:
    refs: list[tuple[str, str | int]] = []
    for name in path_names:
        kind = FIELD_KINDS.get(name)
        if kind is not None:
            value = values[name]
            refs.append((kind, value if isinstance(value, int) else str(value)))
    for key in ("body", "query"):
        struct = values.get(key)
        if isinstance(struct, msgspec.Struct):
            refs += references(struct)
            for workspace in getattr(struct, "workspace_ids", None) or []:
                refs.append(("workspace", str(workspace)))
    return refs


def guarded(handler: Handler, path_names: list[str]) -> Handler:
    """`handler`, with the rules above applied for workspace-scoped principals."""
    name = handler.__name__
    creating = name.startswith("create_")

    @functools.wraps(handler)
    async def call(**values: Any) -> Any:
        principal = current.get()
        if principal is None or principal.workspace_id is None:
            return await handler(**values)
        if name in ADMIN_ONLY:
            raise Forbidden(
                "This credential is scoped to one workspace; this operation needs the admin"
            )
        ctx: Context = values["ctx"]
        workspace = principal.workspace_id
        refs = _refs(values, path_names)
        if refs:
            await ctx.store.read(check_request, refs, workspace, creating)
        query = values.get("query")
        if isinstance(query, msgspec.Struct) and getattr(query, "workspace_ids", None) == []:
            pinned = [uuid.UUID(workspace)]
            values["query"] = msgspec.structs.replace(query, workspace_ids=pinned)
        reply = await handler(**values)
        if isinstance(reply, msgspec.Struct):
            reply = await ctx.store.read(filter_reply, reply, workspace)
        return reply

    return call
