"""A newcomer's first run: a relative data directory, the built-in connectors, real programs.

Connector processes run in their own job directory, so every path Sluice hands them (the
config file, the job directory, SLUICE_LOCAL_ROOT) must be absolute whatever `data_dir` is.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from server.app import create_app
from server.settings import Settings
from tests.conftest import post, running
from tests.connector_fixtures import workspace_id

E2E_SOURCE = "d53f9084-fa6b-4a5a-976c-5b8392f4ad8a"  # seeded "E2E Testing" (source-e2e-test)
SQLITE = "b76be0a6-27dc-4560-95f6-2623da0bd7b6"  # seeded "Local SQLite" (destination-sqlite)


def test_settings_paths_are_absolute_for_a_relative_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings(data_dir="sluice-data")
    for path in (settings.data_path, settings.db_path, settings.local_path):
        assert path.is_absolute(), path
    assert settings.data_path == tmp_path.resolve() / "sluice-data"
    assert Settings(data_dir="d", local_root="files").local_path == tmp_path.resolve() / "files"


async def test_check_discover_and_a_local_file_with_a_relative_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings(data_dir="sluice-data", scheduler_tick_seconds=0)
    async with running(create_app(settings)) as client:
        ws = await workspace_id(client)
        r = await post(
            client,
            "sources/create",
            {
                "workspaceId": ws,
                "sourceDefinitionId": E2E_SOURCE,
                "name": "E2E",
                "connectionConfiguration": {},
            },
        )
        assert r.status_code == 200, r.text
        source_id = r.json()["sourceId"]
        r = await post(client, "sources/check_connection", {"sourceId": source_id})
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "succeeded", r.text
        r = await post(client, "sources/discover_schema", {"sourceId": source_id})
        assert r.status_code == 200, r.text
        assert r.json()["jobInfo"]["succeeded"] is True, r.text
        assert r.json()["catalog"]["streams"], r.text

        # The destination's /local is the data directory's local/, not the job directory's.
        r = await post(
            client,
            "destinations/create",
            {
                "workspaceId": ws,
                "destinationDefinitionId": SQLITE,
                "name": "Warehouse",
                "connectionConfiguration": {"destination_path": "/local/first.sqlite"},
            },
        )
        assert r.status_code == 200, r.text
        destination_id = r.json()["destinationId"]
        r = await post(client, "destinations/check_connection", {"destinationId": destination_id})
        assert r.json()["status"] == "succeeded", r.text
    assert (tmp_path / "sluice-data" / "local" / "first.sqlite").is_file()
