"""Stream properties (tag: streams): `GET /streams?sourceId=...`, a JSON array of what each
stream the source discovers offers, over server.core.public_catalog.

`syncModes` are the public modes the stream can read and, when `destinationId` is given, the
destination can write (without one, any write mode); the discovered catalog is the cached one
unless `ignoreCache=true`.
"""

from __future__ import annotations

from server.context import Context
from server.core import public_catalog
from server.models.public.streams import StreamProperties, StreamPropertiesQuery
from server.public import sync_modes


async def get_stream_properties(
    query: StreamPropertiesQuery, ctx: Context
) -> list[StreamProperties]:
    writable = None
    if query.destination_id is not None:
        writable = await public_catalog.destination_modes(ctx, query.destination_id)
    found = await public_catalog.discovered_catalog(
        ctx, query.source_id, use_cache=not query.ignore_cache
    )
    return [
        StreamProperties(
            stream_name=item.stream.name,
            streamnamespace=item.stream.namespace,
            sync_modes=sync_modes.names_of(public_catalog.modes_of(item.stream, writable)),
            default_cursor_field=item.stream.default_cursor_field or [],
            source_defined_cursor_field=bool(item.stream.source_defined_cursor),
            source_defined_primary_key=item.stream.source_defined_primary_key or [],
            property_fields=public_catalog.field_paths(item.stream.json_schema),
        )
        for item in found.catalog.streams
    ]


handlers = [get_stream_properties]
