"""`GET /api/public/v1/streams`: a JSON array of what each stream a source discovers offers, in
the public API's mode names, narrowed to what a destination can write when one is named."""

from __future__ import annotations

from typing import Any

import httpx
import msgspec
import pytest

from server import openapi
from server.models.public.streams import StreamProperties
from tests.conftest import post
from tests.support.actors import default_workspace, make_destination, make_source
from tests.support.public import API, assert_problem

NESTED = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "updated_at": {"type": "integer"},
        "address": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


@pytest.fixture
async def pair(client: httpx.AsyncClient) -> tuple[str, str]:
    workspace_id = await default_workspace(client)
    catalog = {
        "type": "SINGLE_STREAM",
        "stream_name": "people",
        "stream_schema": msgspec.json.encode(NESTED).decode(),
    }
    source = await make_source(client, workspace_id, "People", mock_catalog=catalog)
    destination = await make_destination(client, workspace_id, "Warehouse")
    return str(source["sourceId"]), str(destination["destinationId"])


async def test_streams_are_a_json_array_of_their_properties(
    client: httpx.AsyncClient, pair: tuple[str, str]
) -> None:
    source_id, destination_id = pair
    reply = await client.get(f"{API}/streams", params={"sourceId": source_id})
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"] == "application/json"
    [stream] = reply.json()
    assert stream["streamName"] == "people"
    assert stream["sourceDefinedCursorField"] is True
    assert stream["defaultCursorField"] == ["updated_at"]
    assert stream["sourceDefinedPrimaryKey"] == [["id"]]
    assert stream["propertyFields"] == [["id"], ["updated_at"], ["address"], ["address", "city"]]
    # No destination named: every public mode the stream's reads allow.
    assert len(stream["syncModes"]) == 9 and "incremental_soft_delete" in stream["syncModes"]
    narrowed = await client.get(
        f"{API}/streams", params={"sourceId": source_id, "destinationId": destination_id}
    )
    # SQLite writes overwrite, append and append_dedup.
    assert narrowed.json()[0]["syncModes"] == [
        "full_refresh_overwrite",
        "full_refresh_append",
        "incremental_append",
        "incremental_deduped_history",
    ]
    fresh = await client.get(f"{API}/streams?sourceId={source_id}&ignoreCache=true")
    assert fresh.status_code == 200 and fresh.json() == reply.json()


async def test_every_mode_offered_can_be_chosen(
    client: httpx.AsyncClient, pair: tuple[str, str]
) -> None:
    source_id, destination_id = pair
    query = {"sourceId": source_id, "destinationId": destination_id}
    [stream] = (await client.get(f"{API}/streams", params=query)).json()
    for mode in stream["syncModes"]:
        body = {
            "sourceId": source_id,
            "destinationId": destination_id,
            "configurations": {"streams": [{"name": stream["streamName"], "syncMode": mode}]},
        }
        made = await client.post(f"{API}/connections", json=body)
        assert made.status_code == 200, made.text
        assert made.json()["configurations"]["streams"][0]["syncMode"] == mode


async def test_bad_and_unknown_ids(client: httpx.AsyncClient, pair: tuple[str, str]) -> None:
    source_id, _ = pair
    missing = "00000000-0000-4000-8000-000000000000"
    assert_problem(await client.get(f"{API}/streams"), 400, "bad-request")
    assert_problem(await client.get(f"{API}/streams?sourceId=nope"), 400, "bad-request")
    assert_problem(await client.get(f"{API}/streams?sourceId={missing}"), 404, "resource-not-found")
    unknown_destination = await client.get(
        f"{API}/streams", params={"sourceId": source_id, "destinationId": missing}
    )
    assert_problem(unknown_destination, 404, "resource-not-found")


async def test_a_source_whose_discover_fails_is_a_problem(client: httpx.AsyncClient) -> None:
    workspace_id = await default_workspace(client)
    source = await make_source(
        client,
        workspace_id,
        "Broken",
        mock_catalog={"type": "MULTI_STREAM", "stream_schemas": "{}"},
    )
    check = await post(client, "sources/discover_schema", {"sourceId": source["sourceId"]})
    assert check.json()["jobInfo"]["succeeded"] is False
    reply = await client.get(f"{API}/streams", params={"sourceId": source["sourceId"]})
    body = assert_problem(reply, 400, "bad-request")
    assert "discover" in body["detail"]


def test_the_documented_item_schema_is_the_model() -> None:
    """The reply is an array, so its item schema is written in openapi/public/streams.yaml
    rather than generated: it must stay what the model encodes."""
    operation = openapi.PUBLIC.document["paths"]["/streams"]["get"]
    documented: dict[str, Any] = operation["responses"]["200"]["content"]["application/json"][
        "schema"
    ]
    assert documented["type"] == "array"
    _, components = msgspec.json.schema_components([StreamProperties])
    model = components["StreamProperties"]
    assert documented["items"]["properties"] == model["properties"]
    assert documented["items"]["required"] == model["required"]
