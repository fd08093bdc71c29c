"""files/import: an uploaded file into a destination's table in one call.

It makes (or, on the next import of the same file, updates) a source-file source that reads
the file where connectors see it (`/local/files/<ws>/<fileId><suffix>`, a hard link to the
stored bytes, a copy across file systems) with the stream named `tableName`; then a
connection to the destination (reused per destination) syncing that one stream in
full_refresh / overwrite, the column renames as `field-renaming` mappers; then starts the sync
through the same rules as connections/sync. The job is an ordinary job.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from typing import Any

import msgspec

from server.context import Context
from server.core import connections, discover, sources
from server.core import jobs as core_jobs
from server.core.catalogs import api_catalog
from server.core.errors import InvalidInput, Refused
from server.core.files import file_path, local_relative, override
from server.models.connections import AirbyteCatalog
from server.models.files import FileImportRequestBody, FileRead
from server.private import private_dir
from server.store import connections as connection_store
from server.store import files as store
from server.store import sources as source_store

# The seeded File source (Airbyte's definition id), run by Sluice's source-file.
FILE_SOURCE_DEFINITION = uuid.UUID("778daa7c-feaf-4db6-96f3-70fd645acc77")


class ImportFailed(Refused):
    """The file could not be imported."""


def _link(ctx: Context, file: FileRead) -> str:
    """Make the stored bytes visible under the connectors' /local root; its /local path."""
    target = ctx.settings.local_path / local_relative(file)
    private_dir(target.parent)
    if not target.exists():
        source = file_path(ctx.settings, file)
        try:
            os.link(source, target)
        except OSError:  # another file system (SLUICE_LOCAL_ROOT elsewhere)
            shutil.copyfile(source, target)
    return "/local/" + local_relative(file)


def _configuration(file: FileRead, url: str, table: str) -> dict[str, Any]:
    return {
        "dataset_name": table,
        "format": file.format,
        "url": url,
        "provider": {"storage": "local"},
        "reader_options": msgspec.json.encode(file.options).decode(),
    }


def _source_exists(db: Any, source_id: str) -> bool:
    with contextlib.suppress(Exception):
        source_store.get_source(db, source_id)
        return True
    return False


async def _source(ctx: Context, file: FileRead, configuration: dict[str, Any]) -> uuid.UUID:
    if file.source_id is not None and await ctx.store.read(_source_exists, str(file.source_id)):
        await sources.update_source(ctx, file.source_id, None, configuration)
        return file.source_id
    created = await sources.create_source(
        ctx, file.workspace_id, FILE_SOURCE_DEFINITION, f"File: {file.name}", configuration
    )
    return created.source_id


def _mappers(renames: dict[str, str], columns: set[str]) -> list[dict[str, Any]]:
    unknown = sorted(set(renames) - columns)
    if unknown:
        raise InvalidInput(
            f"columnRenames names columns the file does not have: {unknown}",
            property_path="columnRenames",
        )
    return [
        {
            "type": "field-renaming",
            "mapperConfiguration": {"originalFieldName": old, "newFieldName": new},
        }
        for old, new in renames.items()
        if old != new
    ]


async def _catalog(
    ctx: Context, source_id: uuid.UUID, renames: dict[str, str] | None
) -> AirbyteCatalog:
    found = await discover.discover_source(ctx, source_id, use_cache=False)
    if found.catalog is None or not found.catalog.streams:
        failure = found.job_info.failure_reason
        detail = failure.external_message if failure is not None else "no stream discovered"
        raise ImportFailed(f"The file source could not read the file: {detail}")
    entry = msgspec.to_builtins(api_catalog(found.catalog).streams[0])
    config = dict(entry.get("config") or {})
    config.update(selected=True, syncMode="full_refresh", destinationSyncMode="overwrite")
    if renames:
        columns = set((entry["stream"].get("jsonSchema") or {}).get("properties") or {})
        config["mappers"] = _mappers(renames, columns)
    entry["config"] = config
    return msgspec.convert({"streams": [entry]}, AirbyteCatalog)


async def _connection(
    ctx: Context,
    file: FileRead,
    source_id: uuid.UUID,
    destination_id: uuid.UUID,
    catalog: AirbyteCatalog,
) -> uuid.UUID:
    known = (file.connection_ids or {}).get(str(destination_id))
    if known is not None:
        with contextlib.suppress(Exception):
            current = await ctx.store.read(connection_store.get_connection, str(known))
            if current.source_id == source_id and current.status != "deprecated":
                fields = connections.ConnectionFields(sync_catalog=catalog)
                await connections.update_connection(ctx, known, fields)
                return known
    fields = connections.ConnectionFields(
        sync_catalog=catalog, status="active", schedule_type="manual"
    )
    created = await connections.create_connection(ctx, source_id, destination_id, fields)
    return created.connection_id


async def import_file(ctx: Context, body: FileImportRequestBody, file: FileRead) -> int:
    """Make the source and connection and queue the sync; the job id."""
    url = _link(ctx, file)
    reading = override(file, body.format, body.options)
    source_id = await _source(ctx, file, _configuration(reading, url, body.table_name))
    catalog = await _catalog(ctx, source_id, body.column_renames)
    connection_id = await _connection(ctx, file, source_id, body.destination_id, catalog)
    kept = msgspec.structs.replace(
        file,
        source_id=source_id,
        connection_ids={**(file.connection_ids or {}), str(body.destination_id): connection_id},
    )
    await ctx.store.write(store.update_file, kept)
    return await ctx.store.write(core_jobs.start_job, str(connection_id), ctx.now())
