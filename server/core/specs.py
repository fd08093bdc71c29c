"""Connector specifications: fetched by running `spec` once per connector version (cached in
SQLite; a seeded connector's ships with the server, server.core.seeded_specs), and the
configuration rules that follow from them: JSON Schema validation, and which fields are
secrets."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

import jsonschema
import jsonschema.exceptions
import jsonschema.validators
import msgspec
from sqlite_utils import Database

from server.context import Context
from server.core import seeded_specs
from server.core.config_paths import check_local_paths
from server.core.connectors import job_info, run_connector
from server.core.errors import ConnectorUnavailable, InvalidInput, Problem
from server.domain.secrets import (
    MASK,
    SecretPath,
    mask_leaves,
    mask_paths,
    mask_text,
    restore,
    secret_paths,
    secret_values,
)
from server.models.definitions import DestinationDefinitionRead, SourceDefinitionRead
from server.models.synchronous_jobs import SynchronousJobRead
from server.protocol import ConnectorSpecification
from server.runner.base import ConnectorImage
from server.runner.cache_keys import spec_key
from server.runner.images import connector_image
from server.runner.oneshot import CommandFailed, CommandOutput
from server.store import connector_cache

log = logging.getLogger("sluice.specs")

CONFIG_PATH = "connectionConfiguration"
MAX_SHOWN_VALUE = 1000


Definition = SourceDefinitionRead | DestinationDefinitionRead

__all__ = ["ConnectorUnavailable"]


async def connector_spec(
    ctx: Context, connector: ConnectorImage
) -> tuple[ConnectorSpecification, SynchronousJobRead]:
    """The connector's spec and the jobInfo of getting it (from the cache when known)."""
    started = ctx.now()
    key = spec_key(connector)
    known = await ctx.store.read(_known_spec, connector)
    if known.spec is not None:
        if known.fresh:  # shipped with the server: cached now, as a fetched one would be
            await ctx.store.write(store_spec, known)
        return known.spec, job_info("get_spec", started, ctx.now(), [], config_id=key)
    output = await _run_spec(ctx, connector)
    assert output.spec is not None
    await ctx.store.write(connector_cache.put_spec, key, output.spec)
    return output.spec, job_info("get_spec", started, ctx.now(), output.log_lines, config_id=key)


async def _run_spec(ctx: Context, connector: ConnectorImage) -> CommandOutput:
    try:
        output = await run_connector(ctx, connector, "spec")
    except CommandFailed as exc:
        raise ConnectorUnavailable(
            f"Could not get the specification of connector '{connector.name}': {exc.message}",
            logLines=exc.log_lines[-20:],
        ) from exc
    assert output.spec is not None  # run_command raises unless the SPEC came
    return output


async def definition_spec(
    ctx: Context, definition: SourceDefinitionRead | DestinationDefinitionRead
) -> ConnectorSpecification:
    spec, _ = await connector_spec(ctx, connector_image(definition, "get_spec"))
    return spec


def configuration_problems(
    spec: ConnectorSpecification, configuration: dict[str, Any]
) -> list[Problem]:
    """Each property of `configuration` the spec refuses, stripped of secrets.

    Connector specs are draft-07 JSON Schemas (a spec naming another draft gets that one).
    """
    schema = spec.connectionSpecification
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
    try:
        cls.check_schema(schema)
    except jsonschema.exceptions.SchemaError as exc:
        # The connector's own mistake: do not lock users out of it, but say so.
        log.warning("connector spec is not a valid JSON Schema, not validating: %s", exc.message)
        return []
    errors = sorted(cls(schema).iter_errors(configuration), key=lambda e: list(e.absolute_path))
    secrets = secret_values(configuration, schema) if errors else []
    return [_problem(error, secrets) for error in errors]


def problems_message(problems: list[Problem]) -> str:
    first = problems[0]
    return f"The connection configuration is invalid: {first.property_path}: {first.message}"


def validate_configuration(spec: ConnectorSpecification, configuration: dict[str, Any]) -> None:
    """Raise InvalidInput (422) naming each property of `configuration` the spec refuses."""
    problems = configuration_problems(spec, configuration)
    if problems:
        raise InvalidInput(problems_message(problems), errors=problems)


_REQUIRED = re.compile(r"^'(?P<name>.*)' is a required property$")


def _problem(error: jsonschema.exceptions.ValidationError, secrets: list[str]) -> Problem:
    parts = list(error.absolute_path)
    value: Any = error.instance
    if error.validator == "required":
        # The missing property is named in the message; point at it rather than its parent.
        match = _REQUIRED.match(error.message)
        if match:
            parts.append(match.group("name"))
        value = None
    elif isinstance(error.schema, dict) and error.schema.get("airbyte_secret") is True:
        value = MASK
    path = CONFIG_PATH + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)
    return Problem(
        property_path=path,
        invalid_value=None if value is None else _shown(value, secrets),
        message=mask_text(error.message, secrets),
    )


def _shown(value: Any, secrets: list[str]) -> str:
    text = value if isinstance(value, str) else msgspec.json.encode(value).decode()
    text = mask_text(text, secrets)
    return text if len(text) <= MAX_SHOWN_VALUE else text[:MAX_SHOWN_VALUE] + "..."


async def prepare_configuration(
    ctx: Context,
    definition: SourceDefinitionRead | DestinationDefinitionRead,
    configuration: dict[str, Any],
    previous: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The configuration to store: masked secrets sent back on update take their stored
    values, then the whole is validated against the connector's spec and the definition's
    local path rule (422 otherwise)."""
    if previous is not None:
        configuration = restore(configuration, previous)
    check_local_paths(definition, configuration)  # needs no connector: before the spec
    validate_configuration(await definition_spec(ctx, definition), configuration)
    return configuration


def validated_secret_paths(
    db: Database,
    definition: SourceDefinitionRead | DestinationDefinitionRead,
    previous: Sequence[SecretPath] | None = None,
) -> list[SecretPath] | None:
    """The secret paths to store with a configuration just validated (`prepare_configuration`
    fetched and cached the spec), together with `previous` ones: a secret kept from an older
    version of the connector stays masked. None when the spec is not cached (not known)."""
    spec = connector_cache.get_spec(db, spec_key(connector_image(definition, "get_spec")))
    if spec is None:
        return None if previous is None else list(previous)
    paths = secret_paths(spec.connectionSpecification)
    return paths + [list(p) for p in previous or [] if list(p) not in paths]


async def masked_configuration(
    ctx: Context,
    definition: SourceDefinitionRead | DestinationDefinitionRead,
    configuration: dict[str, Any],
    stored_paths: Sequence[SecretPath] | None = None,
) -> dict[str, Any]:
    """The configuration as a client may see it: masked at the secret paths of the connector's
    spec and at those stored with it; with neither known, every value is masked."""
    try:
        spec = await definition_spec(ctx, definition)
    except ConnectorUnavailable:
        spec = None
    if spec is None and stored_paths is None:
        masked: dict[str, Any] = mask_leaves(configuration)
        return masked
    paths = [*(secret_paths(spec.connectionSpecification) if spec else []), *(stored_paths or [])]
    shown: dict[str, Any] = mask_paths(configuration, paths)
    return shown


# ---- Specs in hand: the fewest store round trips ---------------------------------------------
#
# The core's create/update/list read a definition's cached spec in the same store read as the
# definition itself (`cached_spec`), run the connector only when it is not cached
# (`spec_in_hand`), and store a freshly fetched spec in the same write as the object.


class SpecInHand(msgspec.Struct, frozen=True):
    """A definition's spec as the core holds it during one call. `fresh`: just fetched from
    the connector, not cached yet (`store_spec` caches it inside the caller's write)."""

    key: str
    spec: ConnectorSpecification | None
    fresh: bool = False


def definition_spec_key(definition: Definition) -> str:
    return spec_key(connector_image(definition, "get_spec"))


def cached_spec(db: Database, definition: Definition) -> SpecInHand:
    """Store function: the definition's cached or shipped spec (spec None when neither)."""
    return _known_spec(db, connector_image(definition, "get_spec"))


def _known_spec(db: Database, connector: ConnectorImage) -> SpecInHand:
    """Store function: the connector's cached spec, else the one shipped for a seeded
    connector at its seeded version (fresh: not cached yet), else spec None (run `spec`)."""
    key = spec_key(connector)
    cached = connector_cache.get_spec(db, key)
    if cached is not None:
        return SpecInHand(key=key, spec=cached)
    shipped = seeded_specs.seeded_spec(db, connector)
    return SpecInHand(key=key, spec=shipped, fresh=shipped is not None)


async def spec_in_hand(ctx: Context, definition: Definition, cached: SpecInHand) -> SpecInHand:
    """The cached spec, else the connector's (raises ConnectorUnavailable); no store call."""
    if cached.spec is not None:
        return cached
    output = await _run_spec(ctx, connector_image(definition, "get_spec"))
    return SpecInHand(key=cached.key, spec=output.spec, fresh=True)


async def spec_if_available(ctx: Context, definition: Definition, cached: SpecInHand) -> SpecInHand:
    """As `spec_in_hand`, but a connector that cannot run gives no spec (spec None)."""
    try:
        return await spec_in_hand(ctx, definition, cached)
    except ConnectorUnavailable:
        return cached


def store_spec(db: Database, held: SpecInHand) -> None:
    """Inside a write: cache a spec `spec_in_hand` just fetched."""
    if held.fresh and held.spec is not None:
        connector_cache.put_spec(db, held.key, held.spec)


def prepared(
    definition: Definition,
    spec: ConnectorSpecification,
    configuration: dict[str, Any],
    previous: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """As `prepare_configuration`, with the spec in hand: masked secrets sent back take their
    stored values, then the local path rule and the spec's schema (InvalidInput otherwise)."""
    if previous is not None:
        configuration = restore(configuration, previous)
    check_local_paths(definition, configuration)
    validate_configuration(spec, configuration)
    return configuration


def paths_to_store(
    spec: ConnectorSpecification | None, previous: Sequence[SecretPath] | None = None
) -> list[SecretPath] | None:
    """As `validated_secret_paths`, with the spec in hand."""
    if spec is None:
        return None if previous is None else list(previous)
    paths = secret_paths(spec.connectionSpecification)
    return paths + [list(p) for p in previous or [] if list(p) not in paths]


def masked(
    configuration: dict[str, Any],
    spec: ConnectorSpecification | None,
    stored_paths: Sequence[SecretPath] | None,
) -> dict[str, Any]:
    """As `masked_configuration`, with the spec (or None) in hand."""
    if spec is None and stored_paths is None:
        leaves: dict[str, Any] = mask_leaves(configuration)
        return leaves
    paths = [*(secret_paths(spec.connectionSpecification) if spec else []), *(stored_paths or [])]
    shown: dict[str, Any] = mask_paths(configuration, paths)
    return shown
