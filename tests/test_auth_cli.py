"""`sluice applications` and `sluice api-keys` on the data directory, used against the API."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

from tests.support.auth import ADMIN, Clock, bearer, call, serve, settings_for

ROOT = Path(__file__).resolve().parent.parent


def sluice(*args: str, data_dir: Path) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "server", *args, "--data-dir", str(data_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


async def test_credentials_made_on_the_command_line_work(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    data = settings.data_path
    async with serve(settings) as (_, client):
        workspace = (await call(client, "workspaces/list"))["workspaces"][0]["workspaceId"]
    out = sluice("applications", "create", "etl", "--workspace", workspace, data_dir=data)
    client_id = re.search(r"client id:\s+(\S+)", out).group(1)  # type: ignore[union-attr]
    secret = re.search(r"client secret:\s+(\S+)", out).group(1)  # type: ignore[union-attr]
    assert client_id in sluice("applications", "list", data_dir=data)
    assert secret not in sluice("applications", "list", data_dir=data)
    out = sluice("api-keys", "create", "ci", "--expires-in", "30", data_dir=data)
    key = re.search(r"key: (sk_sluice_\S+)", out).group(1)  # type: ignore[union-attr]
    key_id = re.search(r"API key (\S+)", out).group(1)  # type: ignore[union-attr]
    listed = sluice("api-keys", "list", data_dir=data)
    assert key_id in listed and key not in listed and "active" in listed

    # The commands use the real clock: so does the server here.
    async with serve(settings, Clock(time.time())) as (_, client):
        token = await call(
            client,
            "applications/token",
            {"client_id": client_id, "client_secret": secret},
            headers={},
        )
        scoped = await call(client, "workspaces/list", headers=bearer(token["access_token"]))
        assert [w["workspaceId"] for w in scoped["workspaces"]] == [workspace]
        keys = (await call(client, "api_keys/list", headers=ADMIN))["apiKeys"]
        assert keys[0]["expiresAt"] - keys[0]["createdAt"] == 30 * 86_400
        assert (await client.post("/api/v1/workspaces/list", headers=bearer(key))).is_success
        # Revoked on the command line while the server runs: refused on the next request.
        assert "revoked" in sluice("api-keys", "revoke", key_id, data_dir=data)
        r = await client.post("/api/v1/workspaces/list", headers=bearer(key))
        assert r.status_code == 401
