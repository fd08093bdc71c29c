"""Local paths that leave the `/local` mount are refused when a configuration is saved (the
connectors' own rule, run by sources/destinations create and update), with real definitions."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import post
from tests.support.actors import default_workspace

SQLITE = "b76be0a6-27dc-4560-95f6-2623da0bd7b6"
DUCKDB = "94bd199c-2ff0-4aa2-b98e-17f0acb72610"
JSONL = "a625d593-bba5-4a1c-a53d-2d246268a816"
FILE = "778daa7c-feaf-4db6-96f3-70fd645acc77"
ESCAPES = ["/etc/sluice.db", "/local/../etc/sluice.db", "../outside.db", "a/../../b.db"]


def file_config(url: str, storage: str = "local") -> dict[str, Any]:
    return {"dataset_name": "rows", "format": "csv", "url": url, "provider": {"storage": storage}}


async def save(
    client: httpx.AsyncClient, kind: str, definition_id: str, config: dict[str, Any]
) -> httpx.Response:
    return await post(
        client,
        f"{kind}s/create",
        {
            "workspaceId": await default_workspace(client),
            f"{kind}DefinitionId": definition_id,
            "name": "Files",
            "connectionConfiguration": config,
        },
    )


def refused_at(r: httpx.Response, field: str, value: str) -> None:
    assert r.status_code == 422, r.text
    (error,) = r.json()["validationErrors"]
    assert error["propertyPath"] == f"connectionConfiguration.{field}"
    assert error["invalidValue"] == value and "/local" in error["message"]


@pytest.mark.parametrize("path", ESCAPES)
@pytest.mark.parametrize("definition_id", [SQLITE, DUCKDB, JSONL])
async def test_destinations_refuse_a_path_outside_local(
    client: httpx.AsyncClient, definition_id: str, path: str
) -> None:
    refused_at(
        await save(client, "destination", definition_id, {"destination_path": path}),
        "destination_path",
        path,
    )


async def test_update_refuses_it_too_and_keeps_the_stored_path(client: httpx.AsyncClient) -> None:
    created = await save(client, "destination", SQLITE, {"destination_path": "/local/ok.db"})
    assert created.status_code == 200, created.text
    destination_id = created.json()["destinationId"]
    body = {
        "destinationId": destination_id,
        "name": "Files",
        "connectionConfiguration": {"destination_path": "/local/../../root/x.db"},
    }
    refused_at(
        await post(client, "destinations/update", body),
        "destination_path",
        "/local/../../root/x.db",
    )
    stored = await post(client, "destinations/get", {"destinationId": destination_id})
    assert stored.json()["connectionConfiguration"] == {"destination_path": "/local/ok.db"}
    # Relative paths mean the same as under /local/, as the connectors read them.
    body["connectionConfiguration"] = {"destination_path": "out/ok.db"}
    assert (await post(client, "destinations/update", body)).status_code == 200


@pytest.mark.parametrize("url", ["/etc/passwd", "/local/../etc/*.csv", "../*.csv"])
async def test_the_file_source_refuses_a_local_url_outside_local(
    client: httpx.AsyncClient, url: str
) -> None:
    refused_at(await save(client, "source", FILE, file_config(url)), "url", url)


async def test_paths_inside_local_are_stored(client: httpx.AsyncClient) -> None:
    for definition_id in (SQLITE, DUCKDB):
        r = await save(client, "destination", definition_id, {"destination_path": "/local/a.db"})
        assert r.status_code == 200, r.text
    r = await save(client, "source", FILE, file_config("/local/data/**/*.csv"))
    assert r.status_code == 200, r.text
