from __future__ import annotations

import uuid
from pathlib import Path

import httpx

from server.app import create_app
from server.settings import Settings
from tests.conftest import post, running

SEEDED = {
    "a7bcc9d8-13b3-4e49-b80d-d020b90045e3": (
        "End-to-End Testing (/dev/null)",
        "destination-dev-null",
    ),
    "b76be0a6-27dc-4560-95f6-2623da0bd7b6": ("Local SQLite", "destination-sqlite"),
    "94bd199c-2ff0-4aa2-b98e-17f0acb72610": ("DuckDB", "destination-duckdb"),
    "a625d593-bba5-4a1c-a53d-2d246268a816": ("Local JSON", "destination-jsonl"),
    "25c5221d-dce2-4163-ade9-739ef790f503": ("Postgres", "destination-postgres"),
}


async def _definitions(client: httpx.AsyncClient) -> list[dict[str, object]]:
    r = await post(client, "destination_definitions/list")
    assert r.status_code == 200
    return r.json()["destinationDefinitions"]  # type: ignore[no-any-return]


async def test_seeded_destinations_run_as_local_processes(client: httpx.AsyncClient) -> None:
    by_id = {d["destinationDefinitionId"]: d for d in await _definitions(client)}
    for definition_id, (name, program) in SEEDED.items():
        d = by_id[definition_id]
        assert d["name"] == name
        assert (d["runner"], d["command"]) == ("process", [program])
        assert (d["dockerRepository"], d["dockerImageTag"]) == (f"sluice/{program}", "0.1.0")
        # Fields clients read without a guard are always present.
        assert d["documentationUrl"].startswith("https://")
        assert d["normalizationConfig"] == {"supported": False}
        assert d["supportsDbt"] is False


async def test_create_get_update_delete(tmp_path: Path) -> None:
    # An image from a private registry, allowed by SLUICE_ALLOWED_IMAGES.
    settings = Settings(data_dir=str(tmp_path / "d"), allowed_images="registry.local:5000/*")
    async with running(create_app(settings)) as client:
        await _create_get_update_delete(client)


async def _create_get_update_delete(client: httpx.AsyncClient) -> None:
    r = await post(
        client,
        "destination_definitions/create",
        {
            "name": "Warehouse",
            "dockerRepository": "registry.local:5000/acme/destination-wh",
            "dockerImageTag": "0.3.1",
            "documentationUrl": "https://example.com/wh",
        },
    )
    assert r.status_code == 200, r.text
    created = r.json()
    definition_id = created["destinationDefinitionId"]
    assert created["command"] == ["destination-wh"] and created["custom"] is True

    r = await post(
        client,
        "destination_definitions/update",
        {"destinationDefinitionId": definition_id, "dockerImageTag": "0.4.0"},
    )
    assert r.json()["dockerImageTag"] == "0.4.0"
    assert r.json()["dockerRepository"] == "registry.local:5000/acme/destination-wh"
    r = await post(
        client, "destination_definitions/get", {"destinationDefinitionId": definition_id}
    )
    assert r.json()["dockerImageTag"] == "0.4.0"

    r = await post(
        client, "destination_definitions/delete", {"destinationDefinitionId": definition_id}
    )
    assert r.status_code == 204
    r = await post(
        client, "destination_definitions/delete", {"destinationDefinitionId": definition_id}
    )
    assert r.status_code == 404 and r.json()["id"] == definition_id


async def test_create_custom_wrapped_shape(tmp_path: Path) -> None:
    # A program of its own, in a directory of SLUICE_CONNECTOR_PATH.
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "destination-mine").write_text("#!/bin/sh\nexit 0\n")
    (tmp_path / "bin" / "destination-mine").chmod(0o755)
    settings = Settings(data_dir=str(tmp_path / "d"), connector_path=str(tmp_path / "bin"))
    definition = {
        "name": "Mine",
        "dockerRepository": "acme/destination-mine",
        "dockerImageTag": "dev",
        "documentationUrl": "https://example.com",
        "runner": "process",
        "command": ["destination-mine", "--fast"],
    }
    async with running(create_app(settings)) as client:
        r = await post(
            client, "destination_definitions/create_custom", {"destinationDefinition": definition}
        )
        assert r.status_code == 200, r.text
        assert r.json()["command"] == ["destination-mine", "--fast"]
        # Docker would run acme/destination-mine, which is not allowed.
        docker = {**definition, "runner": "docker"}
        r = await post(
            client, "destination_definitions/create_custom", {"destinationDefinition": docker}
        )
        assert r.status_code == 422, r.text
        error = r.json()["validationErrors"][0]
        assert error["propertyPath"] == "destinationDefinition.dockerRepository"


async def test_a_destination_definition_may_not_run_a_shell(client: httpx.AsyncClient) -> None:
    sqlite = "b76be0a6-27dc-4560-95f6-2623da0bd7b6"
    for command in (["/bin/sh", "-c", "id"], ["bash"], ["python3", "-m", "http.server"]):
        r = await post(
            client,
            "destination_definitions/update",
            {"destinationDefinitionId": sqlite, "command": command},
        )
        assert r.status_code == 422, r.text
        assert r.json()["validationErrors"][0]["propertyPath"] == "command"
        r = await post(
            client,
            "destination_definitions/create",
            {
                "name": "Shell",
                "dockerRepository": "sluice/destination-shell",
                "dockerImageTag": "1",
                "documentationUrl": "https://example.com",
                "runner": "process",
                "command": command,
            },
        )
        assert r.status_code == 422, r.text
        assert r.json()["validationErrors"][0]["propertyPath"] == "command"
    r = await post(client, "destination_definitions/get", {"destinationDefinitionId": sqlite})
    assert r.json()["command"] == ["destination-sqlite"]
    assert "Shell" not in {d["name"] for d in await _definitions(client)}


async def test_update_unknown_and_missing_fields(client: httpx.AsyncClient) -> None:
    missing = str(uuid.uuid4())
    r = await post(
        client,
        "destination_definitions/update",
        {"destinationDefinitionId": missing, "dockerImageTag": "1"},
    )
    assert r.status_code == 404 and r.json()["id"] == missing
    r = await post(client, "destination_definitions/create", {"name": "no image"})
    assert r.status_code == 422
    assert r.json()["validationErrors"][0]["propertyPath"] == "dockerRepository"
