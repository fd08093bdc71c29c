"""Secrets are masked in every form a connector may print them: as is, JSON-escaped (ASCII and
UTF-8) and Python's repr, in check and discover logs, jobs/get and jobs/list failure messages
and the attempt log. A real connector program prints its configuration each of those ways."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.app import create_app
from server.domain.secrets import MASK, encoded_forms, mask_text
from tests.conftest import running
from tests.connector_fixtures import FIXTURES, custom_definition
from tests.support.api_jobs import (
    DEV_NULL,
    SILENT,
    fast_settings,
    make_connection,
    make_destination,
    make_source,
    ok,
    wait_job,
)

SECRET = 'Sp3cQ"ial\\Secret-\u00fc-55'
KEY = "k3y'with\"both\\quotes-\u00e9"
CONFIG: dict[str, Any] = {
    "dsn": SECRET,
    "host": "db.internal",
    "ssl_mode": {"mode": "verify-full", "client_key": KEY},
}


def test_mask_text_masks_escaped_and_repr_forms() -> None:
    config = {"dsn": SECRET, "key": KEY}
    import json

    for text in (json.dumps(config), json.dumps(config, ensure_ascii=False), repr(config)):
        masked = mask_text(f"config: {text}", [SECRET, KEY])
        assert "Sp3cQ" not in masked and "k3y" not in masked, masked
        assert masked.count(MASK) == 2
    assert {json.dumps(SECRET)[1:-1], repr(SECRET)[1:-1]} <= encoded_forms(SECRET)


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)
    elif isinstance(value, str):
        yield value


def assert_no_secret(reply: Any) -> None:
    """No text in `reply` holds any piece of either secret, in any encoding."""
    for text in strings(reply):
        assert "Sp3cQ" not in text and "k3y" not in text, text


def mentions_config(reply: Any) -> bool:
    """The connector did print its configuration (masked), so the test shows something."""
    return any(f"{MASK}" in text and "db.internal" in text for text in strings(reply))


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = fast_settings(tmp_path, connector_path=str(FIXTURES), sync_max_attempts=1)
    async with running(create_app(settings)) as c:
        yield c


async def test_no_form_of_a_secret_in_check_discover_or_job_replies_and_logs(
    client: httpx.AsyncClient, tmp_path: Path
) -> None:
    definition = await custom_definition(
        client,
        "source",
        "Secretive",
        command=["secretive_connector.py"],
        image="sluice/secretive-test:1",
    )
    source_id = await make_source(client, CONFIG, definition)

    check = await ok(client, "sources/check_connection", {"sourceId": source_id})
    assert check["status"] == "failed"
    assert_no_secret(check)
    assert mentions_config(check["jobInfo"]["logs"]["logLines"])
    assert MASK in check["message"]

    discovered = await ok(
        client, "sources/discover_schema", {"sourceId": source_id, "disable_cache": True}
    )
    assert discovered["jobInfo"]["succeeded"] is True
    assert_no_secret(discovered)
    assert mentions_config(discovered["jobInfo"]["logs"]["logLines"])

    destination_id = await make_destination(client, DEV_NULL, SILENT)
    connection_id = await make_connection(client, source_id, destination_id)
    job = (await ok(client, "connections/sync", {"connectionId": connection_id}))["job"]
    info = await wait_job(client, job["id"])
    assert info["job"]["status"] == "failed"
    assert_no_secret(info)
    failures = [f for a in info["attempts"] for f in a["attempt"]["failureSummary"]["failures"]]
    assert any(MASK in f["externalMessage"] for f in failures), failures
    assert mentions_config(info["attempts"][-1]["logs"]["logLines"])
    listed = await ok(client, "jobs/list", {"configTypes": ["sync"], "configId": connection_id})
    assert listed["jobs"]
    assert_no_secret(listed)
    # The attempt log on disk, as jobs/get_debug_info and a reader of the data directory see it.
    logs = list((tmp_path / "data").rglob("*.log"))
    assert logs
    for path in logs:
        text = path.read_text(encoding="utf-8", errors="replace")
        assert "Sp3cQ" not in text and "k3y" not in text, path
