"""Shared pieces of the public-API tests (`/api/public/v1`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import httpx

API = "/api/public/v1"


def assert_problem(response: httpx.Response, status: int, title: str) -> dict[str, Any]:
    """`response` is the public API's problem JSON for `status`, with Airbyte's `title`."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["title"] == title
    assert body["type"] == f"https://reference.airbyte.com/reference/errors#{title}"
    assert isinstance(body["detail"], str) and body["detail"]
    return body


async def workspace(client: httpx.AsyncClient, name: str | None = None) -> str:
    """The default workspace (the first listed), or a new one named `name`."""
    if name is not None:
        created = await client.post(f"{API}/workspaces", json={"name": name})
        assert created.status_code == 200, created.text
        return str(created.json()["workspaceId"])
    listed = (await client.get(f"{API}/workspaces")).json()
    return str(listed["data"][0]["workspaceId"])


@dataclass(frozen=True)
class Actors:
    """Sources or destinations through the public API."""

    kind: Literal["source", "destination"]

    async def create(self, client: httpx.AsyncClient, **body: Any) -> httpx.Response:
        return await client.post(f"{API}/{self.kind}s", json=body)

    def assert_reply(self, reply: httpx.Response, type_name: str) -> dict[str, Any]:
        """A SourceResponse / DestinationResponse as the airbyte-api SDK 1.0.1 needs it: every
        required field, `createdAt` an integer (epoch seconds), and the type in both places,
        but for sources whose image is not Airbyte's (`sourceType` inside the configuration is
        then left out: the SDK has no model for that type and would refuse the reply)."""
        assert reply.status_code == 200, reply.text
        assert reply.headers["content-type"] == "application/json"
        body: dict[str, Any] = reply.json()
        kind = self.kind
        required = {f"{kind}Id", "name", f"{kind}Type", "definitionId", "workspaceId"}
        assert required | {"configuration", "createdAt"} <= set(body)
        assert body[f"{kind}Type"] == type_name
        inside = body["configuration"].get(f"{kind}Type")
        assert inside == (
            None if kind == "source" and type_name not in AIRBYTE_IMAGES else type_name
        )
        assert isinstance(body["createdAt"], int) and body["createdAt"] > 1_600_000_000
        return body


# The built-in source types whose image is Airbyte's (airbyte/source-...).
AIRBYTE_IMAGES = {"faker"}
SOURCES = Actors("source")
DESTINATIONS = Actors("destination")
