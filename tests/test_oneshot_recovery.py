"""A server killed with SIGKILL while a check runs: at the next start the check's connector
process is gone and its run directory (with the configuration's secrets) removed, as for
interrupted sync attempts. A real uvicorn server process and a real connector that hangs."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

import anyio
import httpx
import pytest

from tests.conftest import ADMIN_AUTH, post
from tests.connector_fixtures import FIXTURES, custom_definition
from tests.support.api_jobs import make_source
from tests.support.processes import processes_mentioning
from tests.support.serving import ServerProcess

pytestmark = [pytest.mark.slow, pytest.mark.serve]


def wait_for(condition: object, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


async def test_kill_9_during_a_check_then_restart_removes_its_process_and_files(
    server_process: ServerProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLUICE_CONNECTOR_PATH", str(FIXTURES))
    monkeypatch.setenv("SLUICE_CHECK_TIMEOUT_SECONDS", "600")
    server_process.start()
    runs = server_process.data_dir / "runs"
    leftovers: list[int] = []
    try:
        async with httpx.AsyncClient(
            base_url=server_process.url, timeout=600, auth=ADMIN_AUTH
        ) as client:
            definition = await custom_definition(
                client, "source", "Hangs in check", command=["fault_connector.py", "check:hang"]
            )
            source_id = await make_source(client, {"api_key": "good", "count": 1}, definition)
            async with anyio.create_task_group() as tasks:

                async def check() -> None:
                    with contextlib.suppress(httpx.HTTPError):
                        await post(client, "sources/check_connection", {"sourceId": source_id})

                tasks.start_soon(check)
                run: list[Path] = []

                def started() -> bool:
                    run[:] = [p for p in runs.glob("check-*") if processes_mentioning(p.name)]
                    return bool(run)

                await anyio.to_thread.run_sync(lambda: wait_for(started, "no check started"))
                assert (run[0] / "config.json").exists()
                server_process.kill(signal.SIGKILL)
                tasks.cancel_scope.cancel()
        # The premise: the connector outlived the server, its secrets still on disk.
        leftovers = processes_mentioning(run[0].name)
        assert leftovers
        assert run[0].exists()

        server_process.start()
        wait_for(lambda: not processes_mentioning(run[0].name), "the check's process survived")
        assert not run[0].exists()
        assert list(runs.iterdir()) == []
    finally:
        for pid in leftovers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
