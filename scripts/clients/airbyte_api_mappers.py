"""The airbyte-api SDK's typed mappers against Sluice's public API, part of
airbyte_api_client.py's lifecycle: a connection whose `users` stream drops a column, hashes
another and filters rows, built from the SDK's own models (ConfiguredStreamMapper and its
configurations); one naming a field the stream does not have refused with a 422; the mappers
read back in order with ids; a sync that writes fewer rows than the source has.

airbyte-api 1.0.1 sends mappers but cannot read a reply that holds one other than an
encryption mapper, from any server: its `MapperConfiguration` union lets the encryption
member's discriminator raise on a configuration without `algorithm` (ValueError, with every
pydantic 2 release tried). The check recognises that failure and reads the reply's JSON body
itself; it fails on any other.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sluice_api as api
from airbyte_api import AirbyteAPI, errors, models
from airbyte_api import api as ops


def users_mappers(dropped: str) -> list[models.ConfiguredStreamMapper]:
    return [
        models.ConfiguredStreamMapper(
            type=models.StreamMapperType.FIELD_FILTERING,
            mapper_configuration=models.FieldFilteringMapperConfiguration(target_field=dropped),
        ),
        models.ConfiguredStreamMapper(
            type=models.StreamMapperType.HASHING,
            mapper_configuration=models.HashingMapperConfiguration(
                target_field="email",
                method=models.HashingMethod.SHA_256,
                field_name_suffix="_hashed",
            ),
        ),
        models.ConfiguredStreamMapper(
            type=models.StreamMapperType.ROW_FILTERING,
            mapper_configuration=models.RowFilteringMapperConfiguration(
                conditions=models.RowFilteringOperationNot(
                    type=models.RowFilteringOperationType.NOT,
                    conditions=[
                        models.RowFilteringOperationEqual(
                            type=models.RowFilteringOperationType.EQUAL,
                            field_name="gender",
                            comparison_value="Female",
                        )
                    ],
                ),
            ),
        ),
    ]


def connection_request(
    ids: tuple[str, str], name: str, streams: list[models.StreamConfiguration]
) -> models.ConnectionCreateRequest:
    """A manual full-refresh connection of `ids` (source, destination), its tables prefixed
    with its name."""
    source_id, destination_id = ids
    return models.ConnectionCreateRequest(
        source_id=source_id,
        destination_id=destination_id,
        name=name,
        prefix=f"{name}_",
        configurations=models.StreamConfigurations(streams=streams),
        schedule=models.AirbyteAPIConnectionSchedule(schedule_type=models.ScheduleTypeEnum.MANUAL),
    )


def mapped_users(ids: tuple[str, str], name: str, dropped: str) -> models.ConnectionCreateRequest:
    users = models.StreamConfiguration(
        name="users",
        sync_mode=models.ConnectionSyncModeEnum.FULL_REFRESH_OVERWRITE,
        mappers=users_mappers(dropped),
    )
    return connection_request(ids, name, [users])


def mapped_sync(
    checks: api.Checks,
    mode: str,
    sdk: AirbyteAPI,
    ids: tuple[str, str],
    name: str,
    users: int,
    jobs: tuple[Callable[[str], Any], Callable[[int], Any]],
) -> None:
    """`ids`: the faker source's and the destination's; `users`: the source's user count;
    `jobs`: (start a sync of a connection: its job, wait for a job: the job once ended)."""
    step, say = checks.step, checks.check
    try:
        sdk.connections.create_connection(request=mapped_users(ids, f"{name} bad", "phone"))
        say(f"{mode}: a mapper on a missing field is refused", False, "created")
    except errors.SDKError as exc:
        say(
            f"{mode}: a mapper on a missing field is refused (422, names it)",
            exc.status_code == 422 and "phone" in exc.body,
            f"{exc.status_code} {exc.body[:200]}",
        )
    created = step(
        f"{mode}: create connection with mappers",
        lambda: reply_body(
            lambda: sdk.connections.create_connection(
                request=mapped_users(ids, f"{name} mapped", "telephone")
            )
        ),
    )
    connection_id = created["connectionId"]
    got = step(
        f"{mode}: get connection with mappers",
        lambda: reply_body(
            lambda: sdk.connections.get_connection(
                request=ops.GetConnectionRequest(connection_id=connection_id)
            )
        ),
    )
    (stream,) = got["configurations"]["streams"]
    mappers = stream.get("mappers") or []
    say(
        f"{mode}: the mappers read back in order, with ids",
        [m["type"] for m in mappers] == ["field-filtering", "hashing", "row-filtering"]
        and all(m.get("id") for m in mappers)
        and mappers[0]["mapperConfiguration"] == {"targetField": "telephone"},
        [(m["type"], m.get("id")) for m in mappers],
    )
    start, wait = jobs
    job = step(f"{mode}: sync the mapped connection", lambda: start(connection_id))
    done = step(f"{mode}: poll the mapped job", lambda: wait(job.job_id))
    rows = done.rows_synced or 0
    say(
        f"{mode}: the mapped job wrote the rows the filter kept",
        done.status.value == "succeeded" and 0 < rows < users,
        f"{done.status.value}: {rows} of {users} users",
    )
    reply = step(
        f"{mode}: delete the mapped connection",
        lambda: sdk.connections.delete_connection(
            request=ops.DeleteConnectionRequest(connection_id=connection_id)
        ),
    )
    say(f"{mode}: delete the mapped connection 204", reply.status_code == 204, reply.status_code)


def reply_body(call: Callable[[], Any]) -> dict[str, Any]:
    """A connection reply as JSON: the SDK's own parse when it succeeds, else (its mapper
    union's failure, above) the body it could not parse."""
    try:
        reply = call()
    except errors.ResponseValidationError as exc:
        if "discriminator field algorithm" not in str(exc):
            raise
        body: dict[str, Any] = exc.raw_response.json()
        return body
    found: dict[str, Any] = reply.raw_response.json()
    return found
