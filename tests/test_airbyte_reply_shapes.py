"""Facts of Airbyte's own response schemas that Sluice's replies keep (found by running
scripts/check_airbyte_schema.py against Airbyte's config.yaml, today's and the 2020 one)."""

from __future__ import annotations

import uuid

import httpx

from server.models.jobs import LogRead
from server.models.specifications import SourceDefinitionSpecificationRead
from server.models.synchronous_jobs import SynchronousJobRead
from tests.conftest import post
from tests.support.actors import default_workspace
from tests.support.connections import hourly_connection


async def test_web_backend_connection_has_the_fields_airbyte_requires(
    client: httpx.AsyncClient,
) -> None:
    connection = await hourly_connection(client, await default_workspace(client))
    cid, wid = connection["connectionId"], connection["workspaceId"]
    # A 2020 client makes a connection manual with `schedule: null`.
    r = await post(client, "connections/update", {"connectionId": cid, "schedule": None})
    assert r.status_code == 200 and r.json()["schedule"] is None, r.text
    assert r.json()["syncMode"] == "full_refresh"  # required by the 2020 ConnectionRead
    for path in ("web_backend/connections/get", "web_backend/connections/list"):
        body = {"connectionId": cid, "workspaceId": wid}
        r = await post(client, path, body)
        assert r.status_code == 200, r.text
        c = r.json() if path.endswith("get") else r.json()["connections"][0]
        assert c["schedule"] is None  # sent as null: 2020 clients read it unguarded
        assert c["syncMode"] in ("full_refresh", "incremental")
        assert c["tags"] == [] and c["onDemandEnabled"] is False
        assert c["notifySchemaChanges"] is False and c["notifySchemaChangesByEmail"] is False
        assert c["nonBreakingChangesPreference"] == "ignore"


async def test_documentation_url_is_a_uri_or_left_out(client: httpx.AsyncClient) -> None:
    body = {
        "name": "Docs",
        "dockerRepository": "airbyte/source-docs",
        "dockerImageTag": "1.0.0",
        "documentationUrl": "",
    }
    r = await post(client, "source_definitions/create", body)
    assert r.status_code == 422, r.text
    assert r.json()["validationErrors"][0]["propertyPath"] == "documentationUrl"
    r = await post(client, "source_definitions/create", {**body, "documentationUrl": "no uri"})
    assert r.status_code == 422, r.text

    # A connector spec's `documentationUrl: ""` is left out of the reply.
    job = SynchronousJobRead(
        id=uuid.uuid4(),
        config_type="get_spec",
        created_at=0,
        ended_at=0,
        succeeded=True,
        connector_configuration_updated=False,
        logs=LogRead(log_lines=[]),
    )
    spec = SourceDefinitionSpecificationRead(
        source_definition_id=uuid.uuid4(),
        connection_specification={},
        job_info=job,
        documentation_url="",
    )
    assert spec.documentation_url is None
