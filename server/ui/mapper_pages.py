"""A stream's mappers edited as JSON (the API's `mappers` list) in a textarea per stream, on the
connection's page; the core checks them as it checks an API update (server.mappers), and a
refusal is shown beside the textarea with the text as typed (a 422 page).

The list reaches the page as the API shows it: an encryption mapper's AES `key` as the mask.
Sent back unchanged, the mask keeps the stored key (the core's rule for every update), so no
key is ever in a page.
"""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from server.core import connection_views
from server.core import connections as core
from server.core.errors import DomainError, InvalidInput
from server.models.connections import AirbyteCatalog, ConfiguredStreamMapper
from server.ui import frame
from server.ui.connection_detail import connection_id, render

MAX_TEXT = 64 * 1024


def _parsed(text: str) -> list[ConfiguredStreamMapper]:
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"The mappers are longer than {MAX_TEXT} characters.")
    if not text.strip():
        return []
    try:
        return msgspec.json.decode(text, type=list[ConfiguredStreamMapper])
    except msgspec.ValidationError as exc:
        raise InvalidInput(f"Not a list of mappers: {exc}") from None
    except msgspec.DecodeError as exc:
        raise InvalidInput(f"Not JSON: {exc}") from None


def _message(exc: DomainError) -> str:
    details = [
        f"{p.property_path}: {p.message}" if p.property_path else p.message
        for p in getattr(exc, "errors", [])
        if p.message != exc.message
    ]
    return "; ".join([exc.message, *details])


async def set_mappers(request: Request) -> Response:
    ctx = frame.context(request)
    cid = connection_id(request)
    data = await frame.form(request)
    text = frame.field(data, "mappers")
    full = await connection_views.get_connection_in_full(ctx, cid)
    streams = full.connection.sync_catalog.streams
    try:
        index = int(frame.field(data, "stream"))
        item = streams[index]
    except (ValueError, IndexError):
        raise frame.PageError(400, "The connection's streams changed meanwhile: reload.") from None
    if item.stream.name != frame.field(data, "name") or item.config is None:
        raise frame.PageError(400, "The connection's streams changed meanwhile: reload.")
    try:
        config = msgspec.structs.replace(item.config, mappers=_parsed(text) or None)
        changed: list[Any] = list(streams)
        changed[index] = msgspec.structs.replace(item, config=config)
        fields = core.ConnectionFields(sync_catalog=AirbyteCatalog(streams=changed))
        await core.update_connection(ctx, cid, fields)
    except DomainError as exc:
        extra = {"mapper_errors": {index: _message(exc)}, "mapper_text": {index: text}}
        return await render(request, extra, status=422)
    return frame.back(
        request, f"/connections/{cid}#mappers-{index}", f"Mappers of {item.stream.name} saved."
    )


ROUTES = [frame.route("/connections/{connection_id}/mappers", set_mappers, methods=["POST"])]
