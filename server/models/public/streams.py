"""Stream properties in the public API (tag: streams): what a source's streams offer."""

from __future__ import annotations

from uuid import UUID

from server.models.base import Model
from server.models.public.connections import PublicSyncMode


class StreamProperties(Model):
    """One discovered stream. `syncModes` are the public modes the stream supports (and the
    destination, when one is named); `propertyFields` every field path, nested ones too.
    `streamnamespace` is spelled as Airbyte spells it."""

    stream_name: str
    sync_modes: list[PublicSyncMode]
    default_cursor_field: list[str]
    source_defined_cursor_field: bool
    source_defined_primary_key: list[list[str]]
    property_fields: list[list[str]]
    streamnamespace: str | None = None


class StreamPropertiesQuery(Model):
    source_id: UUID
    destination_id: UUID | None = None
    ignore_cache: bool = False
