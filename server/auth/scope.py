"""What a workspace-scoped credential may see and change, checked in one place for every
operation: around each handler, after its body is decoded and before anything runs.

- Admin-only operations (new workspaces, connector definitions, which every workspace shares
  and which say what the server runs; credentials; debug) are 403.
- Every id a request names is mapped to its workspace (`store.ownership`): another workspace's
  object is 404, as if it did not exist; naming another workspace is 404, or 403 when creating.
- A list the request did not pin to a workspace is filtered (workspaces/list, jobs/list with
  no configId); a single reply from another workspace (workspaces/get_by_slug) is 404.

Unscoped principals (the admin, unscoped keys and applications) pass straight through.
"""

from __future__ import annotations

import functools
import uuid
from typing import Any

import msgspec
from sqlite_utils import Database

from server.auth.principal import current
from server.context import Context
from server.errors import Forbidden, NotFound
from server.rpc import Handler
from server.store.ownership import workspace_of

ADMIN_ONLY = frozenset(
    {
        "create_workspace",
        "create_source_definition",
        "create_custom_source_definition",
        "update_source_definition",
        "delete_source_definition",
        "create_destination_definition",
        "create_custom_destination_definition",
        "update_destination_definition",
        "delete_destination_definition",
        "get_debug_info",
        "get_debug",
        "create_application",
        "list_applications",
        "delete_application",
        "create_api_key",
        "list_api_keys",
        "revoke_api_key",
    }
)

# Request field -> kind of object it names (see store.ownership). A field `id` holding an
# integer is a job id (JobIdRequestBody).
FIELD_KINDS = {
    "workspace_id": "workspace",
    "source_id": "source",
    "destination_id": "destination",
    "connection_id": "connection",
    "config_id": "connection",
    "operation_id": "operation",
    "operation_ids": "operation",
    "job_id": "job",
    "including_job_id": "job",
}
# Fields of a reply item that say whose it is, in the order they are tried.
_OWNER_FIELDS = ("connection_id", "config_id", "source_id", "destination_id")


def _creates(name: str) -> bool:
    return name.startswith(("create_", "web_backend_create_", "web_backend_recreate_"))


def references(body: msgspec.Struct) -> list[tuple[str, str | int]]:
    """(kind, id) of every object the request body names."""
    refs: list[tuple[str, str | int]] = []
    for name in body.__struct_fields__:
        value = getattr(body, name)
        kind = FIELD_KINDS.get(name)
        if kind is None and name == "id" and isinstance(value, int):
            kind = "job"
        if kind is None or value is None or value is msgspec.UNSET:
            continue
        values = value if isinstance(value, list) else [value]
        refs += [(kind, v if isinstance(v, int) else str(v)) for v in values]
    return refs


def check_request(
    db: Database, refs: list[tuple[str, str | int]], workspace: str, creating: bool
) -> None:
    for kind, object_id in refs:
        owner = object_id if kind == "workspace" else workspace_of(db, kind, object_id)
        if owner is None or owner == workspace:
            continue  # no such object: the handler says 404 in its own words
        if kind == "workspace" and creating:
            raise Forbidden(f"This credential may not create objects in workspace {object_id}")
        raise NotFound(f"Could not find {kind} with id: {object_id}", id=str(object_id))


def _owner(db: Database, item: Any) -> str | None:
    """The workspace an object of a reply belongs to, None when it belongs to none."""
    workspace = getattr(item, "workspace_id", None)
    if workspace is not None:
        return str(workspace)
    for name in _OWNER_FIELDS:
        value = getattr(item, name, None)
        if isinstance(value, str | uuid.UUID):
            return workspace_of(db, "connection" if name == "config_id" else name[:-3], str(value))
    nested = getattr(item, "job", None)
    return _owner(db, nested) if isinstance(nested, msgspec.Struct) else None


def filter_reply(db: Database, reply: msgspec.Struct, workspace: str) -> msgspec.Struct:
    own = getattr(reply, "workspace_id", None)
    if own is not None and str(own) != workspace:
        raise NotFound(f"Could not find workspace with id: {own}", id=str(own))
    changes = {}
    for name in reply.__struct_fields__:
        items = getattr(reply, name)
        if isinstance(items, list) and items and isinstance(items[0], msgspec.Struct):
            kept = [i for i in items if _owner(db, i) in (workspace, None)]
            if len(kept) != len(items):
                changes[name] = kept
    return msgspec.structs.replace(reply, **changes) if changes else reply


def scoped(handler: Handler) -> Handler:
    """`handler`, with the rules above applied for workspace-scoped principals."""
    name = handler.__name__
    creating = _creates(name)

    @functools.wraps(handler)
    async def guarded(*args: Any) -> Any:
        principal = current.get()
        if principal is None or principal.workspace_id is None:
            return await handler(*args)
        if name in ADMIN_ONLY:
            raise Forbidden(
                "This credential is scoped to one workspace; this operation needs the admin"
            )
        ctx: Context = args[-1]
        workspace = principal.workspace_id
        body = args[0] if len(args) > 1 and isinstance(args[0], msgspec.Struct) else None
        refs = references(body) if body is not None else []
        if refs:
            await ctx.store.read(check_request, refs, workspace, creating)
        reply = await handler(*args)
        if isinstance(reply, msgspec.Struct) and not refs:
            reply = await ctx.store.read(filter_reply, reply, workspace)
        return reply

    return guarded
