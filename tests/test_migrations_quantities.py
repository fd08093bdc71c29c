"""A resource quantity stored before quantities were validated (`"lots"`) would make its row
fail to decode on every read (a 500 for connections/get): migration m011 drops such values."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from server.app import create_app
from server.settings import Settings
from tests.conftest import post, running

E2E = "d53f9084-fa6b-4a5a-976c-5b8392f4ad8a"
DEV_NULL = "a7bcc9d8-13b3-4e49-b80d-d020b90045e3"


async def test_quantities_stored_before_the_rule_are_dropped(tmp_path: Path) -> None:
    settings = Settings(data_dir=str(tmp_path / "data"), scheduler_tick_seconds=0)
    async with running(create_app(settings)) as c:
        ws = (await post(c, "workspaces/list", {})).json()["workspaces"][0]["workspaceId"]
        source = await post(
            c,
            "sources/create",
            {
                "workspaceId": ws,
                "sourceDefinitionId": E2E,
                "name": "s",
                "connectionConfiguration": {"max_messages": 10},
            },
        )
        destination = await post(
            c,
            "destinations/create",
            {
                "workspaceId": ws,
                "destinationDefinitionId": DEV_NULL,
                "name": "d",
                "connectionConfiguration": {},
            },
        )
        body = {
            "sourceId": source.json()["sourceId"],
            "destinationId": destination.json()["destinationId"],
            "resourceRequirements": {"memory_limit": "512Mi", "cpu_limit": "1"},
        }
        connection_id = (await post(c, "connections/create", body)).json()["connectionId"]

    # What an older version could store, as it would have: straight into the JSON document.
    db = sqlite3.connect(settings.db_path)
    data = json.loads(db.execute("SELECT data FROM connections").fetchone()[0])
    data["resourceRequirements"] = {"memory_limit": "lots", "cpu_limit": "1", "cpu_request": -1}
    db.execute("UPDATE connections SET data = ?", [json.dumps(data)])
    definition = json.loads(
        db.execute("SELECT data FROM source_definitions WHERE id = ?", [E2E]).fetchone()[0]
    )
    definition["resourceRequirements"] = {
        "default": {"memory_limit": "many"},
        "jobSpecific": [{"jobType": "sync", "resourceRequirements": {"cpu_limit": "-1"}}],
    }
    db.execute("UPDATE source_definitions SET data = ? WHERE id = ?", [json.dumps(definition), E2E])
    db.execute("DELETE FROM _migrations WHERE name = 'm011_drop_bad_quantities'")
    db.commit()
    db.close()

    async with running(create_app(settings)) as c:
        r = await post(c, "connections/get", {"connectionId": connection_id})
        assert r.status_code == 200, r.text
        assert r.json()["resourceRequirements"] == {"cpu_limit": "1"}
        r = await post(c, "source_definitions/get", {"sourceDefinitionId": E2E})
        assert r.status_code == 200, r.text
        kept = r.json()["resourceRequirements"]
        assert kept["default"] == {}
        assert kept["jobSpecific"][0]["resourceRequirements"] == {}
