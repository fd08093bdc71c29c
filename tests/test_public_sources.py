"""Public API sources: created by `sourceType` or `definitionId` with real connectors (Airbyte's
source-faker, Sluice's e2e-test, a custom connector), read, paged, patched, replaced and
deleted, with the type kept out of the stored configuration and put back in every reply; the
same sources the configuration API serves."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from server.core.connector_types import derived_name
from tests.conftest import post
from tests.connector_fixtures import custom_definition, fault_command, need_faker_program
from tests.support.actors import make_source
from tests.support.auth import api_key, bearer
from tests.support.public import API, SOURCES, assert_problem, workspace

FAKER = "dfd88b22-b603-4c3d-aad7-3701784586b1"
E2E = "d53f9084-fa6b-4a5a-976c-5b8392f4ad8a"


create = SOURCES.create
assert_source = SOURCES.assert_reply


async def stored(client: httpx.AsyncClient, source_id: str) -> dict[str, Any]:
    """The source through the configuration API."""
    r = await post(client, "sources/get", {"sourceId": source_id})
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def test_type_names_come_from_the_repository() -> None:
    assert derived_name("source", "airbyte/source-faker") == "faker"
    assert derived_name("source", "sluice/source-file") == "file"
    assert derived_name("destination", "ghcr.io/acme/destination-warehouse") == "warehouse"
    assert derived_name("source", "acme/widgets") == "widgets"
    assert derived_name("source", "acme/source-") == "source-"


async def test_faker_by_source_type_and_by_definition_id(client: httpx.AsyncClient) -> None:
    need_faker_program()
    # The seeded faker runs its image; here, the installed program.
    r = await post(
        client, "source_definitions/update", {"sourceDefinitionId": FAKER, "runner": "process"}
    )
    assert r.status_code == 200, r.text
    ws = await workspace(client)
    # The body the airbyte-api SDK sends for models.SourceFaker(count=10).
    sdk = {
        "always_updated": True,
        "count": 10,
        "parallelism": 4,
        "records_per_slice": 1000,
        "seed": -1,
        "sourceType": "faker",
    }
    by_type = assert_source(
        await create(client, name="Faker", workspaceId=ws, configuration=sdk), "faker"
    )
    assert by_type["definitionId"] == FAKER and by_type["configuration"] == sdk
    # Stored without the type: the configuration API sees the connector's own configuration.
    config = (await stored(client, by_type["sourceId"]))["connectionConfiguration"]
    assert "sourceType" not in config and config["count"] == 10

    by_id = assert_source(
        await create(
            client, name="Faker 2", workspaceId=ws, definitionId=FAKER, configuration={"count": 5}
        ),
        "faker",
    )
    assert by_id["configuration"] == {"count": 5, "sourceType": "faker"}
    source_id = by_id["sourceId"]

    got = assert_source(await client.get(f"{API}/sources/{source_id}"), "faker")
    assert got == by_id
    coords = await client.get(f"{API}/sources/{source_id}?includeSecretCoordinates=true")
    assert assert_source(coords, "faker") == by_id

    # PATCH: the name alone, then configuration merged into the stored one.
    renamed = assert_source(
        await client.patch(f"{API}/sources/{source_id}", json={"name": "Renamed"}), "faker"
    )
    assert renamed["name"] == "Renamed" and renamed["configuration"]["count"] == 5
    patched = assert_source(
        await client.patch(
            f"{API}/sources/{source_id}",
            json={"configuration": {"seed": 7, "sourceType": "faker"}},
        ),
        "faker",
    )
    assert patched["configuration"] == {"count": 5, "seed": 7, "sourceType": "faker"}
    assert patched["name"] == "Renamed"

    # PUT: name and whole configuration.
    put = assert_source(
        await client.put(
            f"{API}/sources/{source_id}", json={"name": "Put", "configuration": {"count": 3}}
        ),
        "faker",
    )
    assert put["name"] == "Put" and put["configuration"] == {"count": 3, "sourceType": "faker"}
    assert (await stored(client, source_id))["connectionConfiguration"] == {"count": 3}

    deleted = await client.delete(f"{API}/sources/{source_id}")
    assert deleted.status_code == 204 and deleted.content == b""
    assert_problem(await client.get(f"{API}/sources/{source_id}"), 404, "resource-not-found")


async def test_list_pages_and_filters_by_workspace(client: httpx.AsyncClient) -> None:
    ws = await workspace(client, "Paged")
    other = await workspace(client, "Other")
    made = []
    for n in range(3):
        reply = await create(
            client,
            name=f"s{n}",
            workspaceId=ws,
            configuration={"sourceType": "e2e-test", "max_messages": n + 1},
        )
        made.append(assert_source(reply, "e2e-test")["sourceId"])
    elsewhere = assert_source(
        await create(client, name="x", workspaceId=other, definitionId=E2E, configuration={}),
        "e2e-test",
    )

    first = await client.get(f"{API}/sources", params={"workspaceIds": ws, "limit": 2})
    assert first.status_code == 200, first.text
    page = first.json()
    assert [s["sourceId"] for s in page["data"]] == made[:2]
    assert "limit=2" in page["next"] and "offset=2" in page["next"]
    assert page["previous"] == ""
    second = (await client.get(page["next"])).json()
    assert [s["sourceId"] for s in second["data"]] == made[2:]
    assert second["next"] == "" and "offset=0" in second["previous"]
    # Not one of Airbyte's images: the type is named beside the configuration, not inside it.
    assert second["data"][0]["configuration"] == {"max_messages": 3}

    # No workspaceIds: every workspace's; both, repeated or comma-separated.
    every = (await client.get(f"{API}/sources", params={"limit": 100})).json()
    assert set(made) | {elsewhere["sourceId"]} <= {s["sourceId"] for s in every["data"]}
    both = await client.get(f"{API}/sources?workspaceIds={ws},{other}&includeDeleted=true")
    assert len(both.json()["data"]) == 4

    # A workspace-scoped key sees its own workspace's sources only.
    key = await api_key(client, other)
    scoped = await client.get(f"{API}/sources", headers=bearer(key), auth=None)
    assert [s["sourceId"] for s in scoped.json()["data"]] == [elsewhere["sourceId"]]
    hidden = await client.get(f"{API}/sources/{made[0]}", headers=bearer(key), auth=None)
    assert_problem(hidden, 404, "resource-not-found")

    bad = await client.get(f"{API}/sources", params={"limit": 0})
    assert_problem(bad, 400, "bad-request")


async def test_a_custom_connector_is_named_by_its_repository(client: httpx.AsyncClient) -> None:
    definition_id = await custom_definition(
        client, "source", "Fault", command=fault_command(), image="acme/source-fault-ok:1"
    )
    ws = await workspace(client)
    config = {"sourceType": "fault-ok", "api_key": "s3cret", "count": 1}
    body = assert_source(
        await create(client, name="f", workspaceId=ws, configuration=config), "fault-ok"
    )
    assert body["definitionId"] == definition_id
    # Its spec marks `api_key` secret: masked here as in the configuration API.
    assert body["configuration"] == {"api_key": "**********", "count": 1}
    listed = (await client.get(f"{API}/sources", params={"workspaceIds": ws})).json()["data"]
    assert [s["configuration"]["api_key"] for s in listed] == ["**********"]


async def test_bad_requests_are_problems(client: httpx.AsyncClient) -> None:
    ws = await workspace(client)
    neither = await create(client, name="n", workspaceId=ws, configuration={"max_messages": 1})
    problem = assert_problem(neither, 422, "unprocessable-entity")
    assert problem["data"]["validationErrors"][0]["propertyPath"] == "configuration.sourceType"

    unknown = await create(client, name="n", workspaceId=ws, configuration={"sourceType": "nope"})
    assert (
        "Submitted value could not be found: nope"
        in assert_problem(unknown, 400, "value-not-found")["detail"]
    )

    not_a_name = await create(client, name="n", workspaceId=ws, configuration={"sourceType": 5})
    problem = assert_problem(not_a_name, 422, "unprocessable-entity")
    assert problem["data"]["validationErrors"][0]["propertyPath"] == "configuration.sourceType"

    bad_config = {"sourceType": "e2e-test", "max_messages": "lots"}
    invalid = await create(client, name="n", workspaceId=ws, configuration=bad_config)
    problem = assert_problem(invalid, 422, "unprocessable-entity")
    paths = [e["propertyPath"] for e in problem["data"]["validationErrors"]]
    assert paths == ["configuration.max_messages"]
    assert "configuration.max_messages" in problem["detail"]

    no_name = await create(client, workspaceId=ws, configuration={"sourceType": "e2e-test"})
    assert_problem(no_name, 422, "unprocessable-entity")

    # Wrong ids: 404 problems; a malformed one, 400.
    missing = str(uuid.uuid4())
    for reply in (
        await client.get(f"{API}/sources/{missing}"),
        await client.patch(f"{API}/sources/{missing}", json={"name": "x"}),
        await client.put(f"{API}/sources/{missing}", json={"name": "x", "configuration": {}}),
        await client.delete(f"{API}/sources/{missing}"),
        await create(client, name="n", workspaceId=ws, definitionId=missing, configuration={}),
        await create(client, name="n", workspaceId=missing, definitionId=E2E, configuration={}),
    ):
        assert_problem(reply, 404, "resource-not-found")
    assert_problem(await client.get(f"{API}/sources/not-a-uuid"), 400, "bad-request")

    made = assert_source(
        await create(client, name="n", workspaceId=ws, definitionId=E2E, configuration={}),
        "e2e-test",
    )
    path = f"{API}/sources/{made['sourceId']}"
    bad_patch = await client.patch(path, json={"configuration": {"max_messages": -1}})
    problem = assert_problem(bad_patch, 422, "unprocessable-entity")
    assert problem["data"]["validationErrors"][0]["propertyPath"] == "configuration.max_messages"
    moved = await client.patch(path, json={"workspaceId": await workspace(client, "Else")})
    assert_problem(moved, 422, "unprocessable-entity")
    assert_problem(await client.put(path, json={"name": "x"}), 422, "unprocessable-entity")


async def test_one_world_with_the_configuration_api(client: httpx.AsyncClient) -> None:
    ws = await workspace(client)
    here = assert_source(
        await create(
            client,
            name="Public",
            workspaceId=ws,
            configuration={"sourceType": "e2e-test", "max_messages": 4},
        ),
        "e2e-test",
    )
    there = await stored(client, here["sourceId"])
    assert there["name"] == "Public" and there["sourceDefinitionId"] == E2E
    assert there["connectionConfiguration"] == {"max_messages": 4}
    assert there["createdAt"] == here["createdAt"] and there["workspaceId"] == ws

    made = await make_source(client, ws, "Config", max_messages=9)
    seen = assert_source(await client.get(f"{API}/sources/{made['sourceId']}"), "e2e-test")
    assert seen["name"] == "Config" and seen["definitionId"] == E2E
    assert seen["configuration"] == {"max_messages": 9}

    # Changed here, read there; deleted there, gone here.
    await client.patch(f"{API}/sources/{made['sourceId']}", json={"configuration": {"seed": 3}})
    changed = await stored(client, str(made["sourceId"]))
    assert changed["connectionConfiguration"] == {"max_messages": 9, "seed": 3}
    r = await post(client, "sources/delete", {"sourceId": here["sourceId"]})
    assert r.status_code == 204
    gone = await client.get(f"{API}/sources/{here['sourceId']}")
    assert_problem(gone, 404, "resource-not-found")
