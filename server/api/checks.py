"""Connection checks (tags: source, destination, scheduler): wire model in, one core call
(`server.core.checks`), wire model out.

A check that fails (the connector says FAILED, crashes, times out, or cannot start, or the
spec refuses the configuration) is a 200 with `status: failed` and a message; only unknown
ids are HTTP errors (404).
"""

from __future__ import annotations

from server.context import Context
from server.core import checks as core
from server.models.checks import CheckConnectionRead, DestinationCoreConfig, SourceCoreConfig
from server.models.destinations import DestinationIdRequestBody, DestinationUpdate
from server.models.sources import SourceIdRequestBody, SourceUpdate


async def check_connection_to_source(
    body: SourceIdRequestBody, ctx: Context
) -> CheckConnectionRead:
    return await core.check_source(ctx, body.source_id)


async def check_connection_to_source_for_update(
    body: SourceUpdate, ctx: Context
) -> CheckConnectionRead:
    return await core.check_source_update(ctx, body.source_id, body.connection_configuration)


async def execute_source_check_connection(
    body: SourceCoreConfig, ctx: Context
) -> CheckConnectionRead:
    return await core.check_source_configuration(
        ctx, body.source_definition_id, body.connection_configuration, body.source_id
    )


async def check_connection_to_destination(
    body: DestinationIdRequestBody, ctx: Context
) -> CheckConnectionRead:
    return await core.check_destination(ctx, body.destination_id)


async def check_connection_to_destination_for_update(
    body: DestinationUpdate, ctx: Context
) -> CheckConnectionRead:
    configuration = body.connection_configuration
    return await core.check_destination_update(ctx, body.destination_id, configuration)


async def execute_destination_check_connection(
    body: DestinationCoreConfig, ctx: Context
) -> CheckConnectionRead:
    return await core.check_destination_configuration(
        ctx, body.destination_definition_id, body.connection_configuration, body.destination_id
    )


handlers = [
    check_connection_to_source,
    check_connection_to_source_for_update,
    execute_source_check_connection,
    check_connection_to_destination,
    check_connection_to_destination_for_update,
    execute_destination_check_connection,
]
