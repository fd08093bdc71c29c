"""A connection's schema change on its page: the stored change in words (streams and fields
added, removed or changed, breaking or not, why the connection was paused), "Refresh the source
schema" (the core's withRefreshedCatalog path: a discover now, its diff recorded, the pause a
breaking change asks for), applying the refreshed catalog, and the two settings
(`nonBreakingChangesPreference`, `notifySchemaChanges`).
"""

from __future__ import annotations

import uuid
from typing import Any, get_args

from starlette.requests import Request
from starlette.responses import Response

from server.core import connections as core
from server.core import schema_checks, schema_views
from server.core.connection_views import ConnectionInFull
from server.core.errors import DomainError
from server.models.connections import NonBreakingChangesPreference
from server.ui import frame

PREFERENCES: dict[str, NonBreakingChangesPreference] = {
    p: p for p in get_args(NonBreakingChangesPreference)
}
PREFERENCE_WORDS = {
    "ignore": "Ignore them (record the change, keep the catalog)",
    "disable": "Pause the connection",
    "propagate_columns": "Apply column changes to the streams it has",
    "propagate_fully": "Apply column and stream changes (new streams added, removed dropped)",
}
ACTION_WORDS = {
    "none": "nothing to do",
    "ignored": "left the catalog as it is",
    "disabled": "paused the connection (its preference is to pause on a change)",
    "propagated": "applied the changes the preference takes; what is listed is left",
    "paused": "paused the connection: the change is breaking",
    "detected": "recorded it for review",
}


def connection_id(request: Request) -> uuid.UUID:
    try:
        return uuid.UUID(request.path_params["connection_id"])
    except ValueError:
        raise frame.PageError(404, "There is no such connection.") from None


async def section(request: Request, full: ConnectionInFull) -> dict[str, Any]:
    """The values of the connection page's "Schema changes" section."""
    c = full.connection
    stored = await schema_views.stored_change(frame.context(request), c.connection_id)
    return {
        "change": full.change.schema_change,
        "stored": stored,
        "action": ACTION_WORDS.get(stored.action, stored.action) if stored else "",
        "status_reason": c.status_reason,
        "preference": c.non_breaking_changes_preference or "ignore",
        "preferences": PREFERENCE_WORDS,
        "notify": bool(c.notify_schema_changes),
    }


def _here(request: Request) -> str:
    return f"/connections/{connection_id(request)}"


async def refresh(request: Request) -> Response:
    await frame.form(request)
    cid = connection_id(request)
    try:
        refreshed = await schema_checks.refresh_connection(frame.context(request), cid)
    except DomainError as exc:
        return frame.back(request, _here(request), exc.message, "error")
    outcome = refreshed.outcome
    if outcome is None:
        return frame.back(
            request,
            _here(request),
            "The source's schema could not be discovered; its check or discover says why.",
            "error",
        )
    if outcome.schema_change == "no_change":
        return frame.back(request, _here(request), "The source's schema has not changed.", "ok")
    words = "a breaking change" if outcome.schema_change == "breaking" else "a change"
    return frame.back(
        request, _here(request) + "#schema", f"The source's schema has {words}.", "info"
    )


async def apply(request: Request) -> Response:
    """Save the refreshed catalog (the discovered streams with the connection's configs) as
    the connection's, as a client does after reviewing withRefreshedCatalog."""
    await frame.form(request)
    ctx = frame.context(request)
    cid = connection_id(request)
    try:
        refreshed = await schema_checks.refresh_connection(ctx, cid)
        if refreshed.outcome is None:
            raise frame.PageError(400, "The source's schema could not be discovered.")
        fields = core.ConnectionFields(
            sync_catalog=refreshed.catalog,
            source_catalog_id=refreshed.catalog_id,
            breaking_change=False,
        )
        await core.update_connection(ctx, cid, fields)
    except DomainError as exc:
        return frame.back(request, _here(request) + "#schema", exc.message, "error")
    except frame.PageError as exc:
        return frame.back(request, _here(request) + "#schema", exc.message, "error")
    return frame.back(
        request, _here(request) + "#schema", "The source's schema is the connection's now.", "ok"
    )


async def settings(request: Request) -> Response:
    data = await frame.form(request)
    preference = PREFERENCES.get(frame.field(data, "preference"))
    if preference is None:
        raise frame.PageError(400, "Choose what to do with a non-breaking change.")
    fields = core.ConnectionFields(
        non_breaking_changes_preference=preference,
        notify_schema_changes=frame.field(data, "notify") == "on",
    )
    try:
        await core.update_connection(frame.context(request), connection_id(request), fields)
    except DomainError as exc:
        return frame.back(request, _here(request) + "#schema", exc.message, "error")
    return frame.back(request, _here(request) + "#schema", "Schema settings saved.", "ok")


_ID = "/connections/{connection_id}"
ROUTES = [
    frame.route(_ID + "/schema/refresh", refresh, methods=["POST"]),
    frame.route(_ID + "/schema/apply", apply, methods=["POST"]),
    frame.route(_ID + "/schema/settings", settings, methods=["POST"]),
]
