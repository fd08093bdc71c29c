"""The plan of one attempt: everything the relay needs, read in one store call and turned
into protocol form (the source's configured catalog, the namespace rules), so the relay never
sees an API model.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec
from sqlite_utils import Database

from server.core.catalogs import configured_catalog
from server.core.errors import NotFound
from server.core.stream_mappers import mapper_inputs
from server.domain.secrets import secret_values
from server.jobs.attempts import RESET_TYPES, SYNC
from server.mappers import SECRET_CONFIG_KEYS, MapperConfigError, StreamMapper, compile_stream
from server.models.connections import AirbyteCatalog, ConnectionRead
from server.protocol import ConfiguredAirbyteCatalog, StreamDescriptor
from server.runner.base import ConnectorImage
from server.runner.cache_keys import spec_key
from server.runner.images import connector_image
from server.store import connector_cache, state
from server.store.connections import get_connection
from server.store.definitions import get_destination_definition, get_source_definition
from server.store.destinations import get_destination
from server.store.destinations import get_secret_paths as destination_secret_paths
from server.store.jobs import Claim
from server.store.sources import get_secret_paths as source_secret_paths
from server.store.sources import get_source
from server.sync.catalog import Namespacing, StreamKey
from server.sync.plan import AttemptPlan
from server.sync.states import parse_state


class PlanError(Exception):
    """The job cannot run as configured (a retry would not help); the message says why."""


def secrets_of(
    db: Database,
    definition: Any,
    configuration: dict[str, Any],
    paths: list[list[str | None]] | None = None,
) -> list[str]:
    """A configuration's secret values, kept out of the attempt log: by the connector's cached
    spec and the secret paths stored with the configuration (those of the spec it was
    validated with, kept also when the spec is not cached); by name with neither."""
    spec = connector_cache.get_spec(db, spec_key(connector_image(definition, "get_spec")))
    schema = None if spec is None else spec.connectionSpecification
    return secret_values(configuration, schema, paths)


def namespacing(
    connection: ConnectionRead, mappers: dict[StreamKey, StreamMapper] | None = None
) -> Namespacing:
    return Namespacing(
        {
            "namespaceDefinition": connection.namespace_definition,
            "namespaceFormat": connection.namespace_format,
            "prefix": connection.prefix,
        },
        mappers,
    )


def stream_mappers(
    sync_catalog: AirbyteCatalog, catalog: ConfiguredAirbyteCatalog
) -> dict[StreamKey, StreamMapper]:
    """The compiled mappers of the streams to move that have a field selection or mappers
    (source names), from the inputs the connection was checked with when it was saved
    (server.core.stream_mappers.mapper_inputs). A field a mapper names that the schema has
    lost since is tolerated (the relay logs it); any other problem is a PlanError."""
    moving = {(s.stream.name, s.stream.namespace) for s in catalog.streams}
    found: dict[StreamKey, StreamMapper] = {}
    for item in sync_catalog.streams:
        config, stream = item.config, item.stream
        key = (stream.name, stream.namespace)
        if config is None or key not in moving:
            continue
        try:
            mapper = compile_stream(*mapper_inputs(stream, config), tolerate_missing=True)
        except MapperConfigError as exc:
            raise PlanError(f"Stream '{stream.name}': its mappers cannot run: {exc}") from exc
        if mapper is not None:
            found[key] = mapper
    return found


def _wanted(streams: list[StreamDescriptor] | None) -> set[StreamKey] | None:
    if streams is None:
        return None
    return {(s.name, s.namespace) for s in streams}


def _matches(wanted: set[StreamKey], name: str, namespace: str | None) -> bool:
    # A descriptor without a namespace names the stream in any namespace.
    return (name, namespace) in wanted or (name, None) in wanted


def source_catalog(
    sync_catalog: AirbyteCatalog | Mapping[str, Any],
    streams: list[StreamDescriptor] | None,
    sync_id: int,
    reset: bool = False,
) -> ConfiguredAirbyteCatalog:
    """The protocol catalog for the source: the selected streams, or the ones `streams`
    names. A reset takes them in full_refresh/overwrite (streams it names explicitly even if
    they are no longer selected: their data is still there)."""
    api = (
        sync_catalog
        if isinstance(sync_catalog, AirbyteCatalog)
        else msgspec.convert(sync_catalog, AirbyteCatalog)
    )
    if reset:
        items = []
        for item in api.streams:
            if item.config is not None:
                config = msgspec.structs.replace(
                    item.config,
                    sync_mode="full_refresh",
                    destination_sync_mode="overwrite",
                    selected=bool(item.config.selected is not False or streams is not None),
                )
                items.append(msgspec.structs.replace(item, config=config))
        api = AirbyteCatalog(streams=items)
    catalog = configured_catalog(api)
    wanted = _wanted(streams)
    result = []
    for configured in catalog.streams:
        if wanted is not None and not _matches(
            wanted, configured.stream.name, configured.stream.namespace
        ):
            continue
        # Airbyte's generations: an overwrite truncates what earlier generations wrote.
        overwrite = configured.destination_sync_mode == "overwrite"
        result.append(
            msgspec.structs.replace(
                configured,
                generation_id=configured.generation_id or 0,
                minimum_generation_id=(configured.generation_id or 0) if overwrite else 0,
                sync_id=sync_id,
            )
        )
    return ConfiguredAirbyteCatalog(streams=result)


def mapper_secrets(sync_catalog: AirbyteCatalog) -> list[str]:
    """The secret values in the streams' mappers (an AES key): kept out of the attempt log."""
    found: list[str] = []
    for item in sync_catalog.streams:
        config = msgspec.to_builtins(item.config) if item.config is not None else {}
        for entry in config.get("mappers") or []:
            given = entry.get("mapperConfiguration") or {}
            for key in SECRET_CONFIG_KEYS.get(entry.get("type"), ()):
                value = given.get(key)
                if isinstance(value, str) and value:
                    found.append(value)
    return found


def build_plan(db: Database, claim: Claim, job_dir: Path, log_path: Path) -> AttemptPlan:
    """Everything one attempt needs, read in one go (configurations as stored: unmasked).

    A connection, connector or definition that no longer exists is a `PlanError` (a retry
    cannot fix it); anything else raised here is a fault of the platform and propagates."""
    job = claim.job
    try:
        connection = get_connection(db, job.config_id)
        destination = get_destination(db, str(connection.destination_id))
        destination_definition = get_destination_definition(
            db, str(destination.destination_definition_id)
        )
        source = source_definition = None
        if job.config_type == SYNC:
            source = get_source(db, str(connection.source_id))
            source_definition = get_source_definition(db, str(source.source_definition_id))
    except NotFound as exc:
        raise PlanError(f"The connection cannot run: {exc.message}") from exc
    overrides = connection.resource_requirements

    def image(definition: Any) -> ConnectorImage:
        found = connector_image(definition, "sync")
        if overrides is not None:  # the connection's limits win over the definition's
            found = dataclasses.replace(
                found,
                memory_limit=overrides.memory_limit or found.memory_limit,
                cpu_limit=overrides.cpu_limit or found.cpu_limit,
            )
        return found

    reset = job.config_type in RESET_TYPES
    streams = (
        [StreamDescriptor(s["name"], s.get("namespace")) for s in job.streams]
        if reset and job.streams is not None
        else None
    )
    secrets = secrets_of(
        db,
        destination_definition,
        destination.connection_configuration,
        destination_secret_paths(db, str(destination.destination_id)),
    )
    if source is not None:
        secrets += secrets_of(
            db,
            source_definition,
            source.connection_configuration,
            source_secret_paths(db, str(source.source_id)),
        )
    secrets += mapper_secrets(connection.sync_catalog)
    catalog = source_catalog(connection.sync_catalog, streams, job.id, reset)
    # A reset moves no record, but its destination catalog has the mapped schemas as well.
    mappers = stream_mappers(connection.sync_catalog, catalog)
    return AttemptPlan(
        job_id=job.id,
        attempt_number=claim.attempt_number,
        connection_id=job.config_id,
        kind="reset" if reset else "sync",
        source=None if source_definition is None else image(source_definition),
        destination=image(destination_definition),
        source_config=None if source is None else source.connection_configuration,
        destination_config=destination.connection_configuration,
        catalog=catalog,
        namespacing=namespacing(connection, mappers),
        streams=streams,
        input_state=[parse_state(m) for m in state.get_state(db, job.config_id)],
        job_dir=job_dir,
        log_path=log_path,
        secrets=secrets,
    )
