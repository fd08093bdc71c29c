"""Connections: the list (filtered by name and status, paged) and a new connection.

A connection's own page and its actions are `connection_detail.py`.
"""

from __future__ import annotations

import contextlib
import uuid
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from server.core import catalogs, destinations, public_catalog, sources, workspaces
from server.core import connections as core
from server.core.connection_list import list_connection_summaries
from server.core.errors import DomainError
from server.ui import frame

PAGE_SIZE = 50
# Sources and destinations the new-connection form offers (a select of thousands helps no one;
# a source's page links here with `?source=<id>` for the others).
MAX_CHOICES = 100
STATUSES = ("active", "inactive", "deprecated")


def _int(value: str | None, default: int) -> int:
    try:
        return max(0, int(value)) if value else default
    except ValueError:
        return default


async def connection_list(request: Request) -> Response:
    query = request.query_params
    name = query.get("name", "").strip()[:200]
    status = query.get("status", "")
    status = status if status in STATUSES else ""
    offset = _int(query.get("offset"), 0)
    found = await list_connection_summaries(
        frame.context(request), name or None, status or None, PAGE_SIZE, offset
    )

    def link(at: int) -> str:
        kept = {k: v for k, v in (("name", name), ("status", status)) if v}
        return "/connections?" + urlencode({**kept, "offset": at})

    values = {
        "rows": found.rows,
        "name": name,
        "status": status,
        "statuses": STATUSES,
        "previous": link(max(0, offset - PAGE_SIZE)) if offset > 0 else None,
        "next": link(offset + PAGE_SIZE) if found.more else None,
        "first": offset + 1,
        "last": offset + len(found.rows),
        "now": frame.context(request).now(),
    }
    return frame.page(request, "connections/list.html", values)


async def _ends(request: Request) -> tuple[list[Any], list[Any], bool]:
    """The sources and destinations to choose from (up to `MAX_CHOICES` of each, oldest
    first; a source named in `?source=` is among them), and whether some were left out."""
    ctx = frame.context(request)
    found_sources: list[Any] = []
    found_destinations: list[Any] = []
    for workspace in await workspaces.list_workspaces(ctx):
        left = MAX_CHOICES + 1 - len(found_sources)
        if left > 0:
            found_sources += await sources.list_sources(ctx, workspace.workspace_id, left)
        left = MAX_CHOICES + 1 - len(found_destinations)
        if left > 0:
            found_destinations += await destinations.list_destinations(
                ctx, workspace.workspace_id, left
            )
    more = len(found_sources) > MAX_CHOICES or len(found_destinations) > MAX_CHOICES
    found_sources, found_destinations = (
        found_sources[:MAX_CHOICES],
        found_destinations[:MAX_CHOICES],
    )
    wanted = request.query_params.get("source", "")
    if wanted and all(str(s.source_id) != wanted for s in found_sources):
        # Not a source's id: the choice starts on the first one.
        with contextlib.suppress(ValueError, DomainError):
            found_sources.insert(0, await sources.get_source(ctx, uuid.UUID(wanted)))
    return found_sources, found_destinations, more


async def new_connection_form(request: Request) -> Response:
    found_sources, found_destinations, more = await _ends(request)
    values = {
        "more": more,
        "max_choices": MAX_CHOICES,
        "sources": found_sources,
        "destinations": found_destinations,
        "chosen": {"source": request.query_params.get("source", ""), "destination": ""},
        "name": "",
    }
    return frame.page(request, "connections/new.html", values)


def _uuid(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise frame.PageError(400, f"Choose a {what}.") from None


async def create_connection(request: Request) -> Response:
    """Discover the source's streams, select each in its default mode, and create the
    connection (manual schedule); its page then lets one change streams and schedule."""
    ctx = frame.context(request)
    data = await frame.form(request)
    source_id = _uuid(frame.field(data, "source"), "source")
    destination_id = _uuid(frame.field(data, "destination"), "destination")
    name = frame.field(data, "name").strip() or None
    try:
        discovered = await public_catalog.discovered_catalog(ctx, source_id)
        writable = await public_catalog.destination_modes(ctx, destination_id)
        catalog = public_catalog.chosen_catalog(
            discovered.catalog, None, writable, catalogs.modern_path, lambda m: " / ".join(m)
        )
        fields = core.ConnectionFields(
            name=name,
            sync_catalog=catalog,
            source_catalog_id=discovered.catalog_id,
            schedule_type="manual",
        )
        created = await core.create_connection(ctx, source_id, destination_id, fields)
    except DomainError as exc:
        return frame.back(request, "/connections/new", exc.message, "error")
    return frame.back(request, f"/connections/{created.connection_id}", "Connection created.")


ROUTES = [
    frame.route("/connections", connection_list),
    frame.route("/connections/new", new_connection_form),
    frame.route("/connections/new", create_connection, methods=["POST"]),
]
