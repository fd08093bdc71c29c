"""SLUICE_SCHEMA_REFRESH_SECONDS: how often the check before a sync discovers its source. 0
(the default): every sync compares a fresh discover, so a change is caught at the next sync;
N: a discover of the same source configuration made in the last N seconds (by a sync or by
sources/discover_schema) is taken from the discover cache. The file source (a real program)
whose CSV gains and loses columns between syncs, as in test_schema_changes_sync."""

from __future__ import annotations

from pathlib import Path

from server.app import create_app
from server.settings import Settings
from tests.conftest import running
from tests.support.api_jobs import ok
from tests.support.notifications import settings_for
from tests.support.schema_changes import SECOND, log, properties, setup, sync, write

REUSED = "Schema check: the source's discover from the last"
DETECTED = "Schema change detected (non_breaking)"
MATCHES = "Schema check: the source's catalog matches the connection's"


def app_settings(tmp_path: Path, seconds: int) -> Settings:
    settings: Settings = settings_for(tmp_path, schema_refresh_seconds=seconds)
    settings.local_path.mkdir(parents=True, exist_ok=True)
    return settings


async def test_zero_discovers_before_every_sync(tmp_path: Path) -> None:
    settings = app_settings(tmp_path, 0)
    assert Settings().schema_refresh_seconds == 0  # the default
    async with running(create_app(settings)) as api:
        _, connection_id = await setup(api, settings, "ignore")
        write(settings, SECOND)
        info = await sync(api, connection_id)
        assert info["job"]["status"] == "succeeded"
        lines = log(info)
        assert any(DETECTED in line for line in lines)
        assert not any(REUSED in line for line in lines)
        read = await ok(api, "web_backend/connections/get", {"connectionId": connection_id})
        assert read["schemaChange"] == "non_breaking"


async def test_a_recent_discover_is_reused_until_one_is_run_again(tmp_path: Path) -> None:
    settings = app_settings(tmp_path, 3600)
    async with running(create_app(settings)) as api:
        source, connection_id = await setup(api, settings, "ignore")
        write(settings, SECOND)
        # The discover of the first sync (an hour is not over) stands for the source: the
        # change is not seen yet.
        info = await sync(api, connection_id)
        assert info["job"]["status"] == "succeeded"
        lines = log(info)
        assert any(f"{REUSED} 3600 s is reused" in line for line in lines), lines
        assert any(MATCHES in line for line in lines) and not any(DETECTED in x for x in lines)
        read = await ok(api, "web_backend/connections/get", {"connectionId": connection_id})
        assert read["schemaChange"] == "no_change"

        # A client's fresh discover goes into the same cache: the next sync compares with it.
        found = await ok(
            api, "sources/discover_schema", {"sourceId": source, "disable_cache": True}
        )
        assert properties({"syncCatalog": found["catalog"]}) == ["email", "id", "title"]
        info = await sync(api, connection_id)
        lines = log(info)
        assert any(REUSED in line for line in lines) and any(DETECTED in x for x in lines)
        read = await ok(api, "web_backend/connections/get", {"connectionId": connection_id})
        assert read["schemaChange"] == "non_breaking"


async def test_another_source_configuration_is_discovered_afresh(tmp_path: Path) -> None:
    settings = app_settings(tmp_path, 3600)
    async with running(create_app(settings)) as api:
        source, connection_id = await setup(api, settings, "ignore")
        configuration = {
            "dataset_name": "items",
            "format": "csv",
            "url": "/local/rows.csv",
            "provider": {"storage": "local"},
        }
        body = {"sourceId": source, "name": "Source", "connectionConfiguration": configuration}
        await ok(api, "sources/update", body)
        info = await sync(api, connection_id)
        lines = log(info)
        assert not any(REUSED in line for line in lines)
        assert any("Added stream 'items'; Removed stream 'rows'" in line for line in lines)
