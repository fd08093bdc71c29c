"""The data directory and everything in it that holds secrets is private to the server's
user (directories 0700, files 0600), whatever the umask the server starts with: the
database and its -wal/-shm, job directories and configuration files of process and Docker
runs, and logs."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.app import create_app
from server.runner.base import ConnectorImage, RunRequest
from server.runner.docker import DockerRunner, remove_leftover_containers
from server.store.db import open_db
from tests.conftest import running
from tests.connector_fixtures import FIXTURES, custom_definition, docker_client, fault_image
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

UMASKS = [0o022, 0o000]


@pytest.fixture(params=UMASKS, ids=["umask-022", "umask-000"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    previous = os.umask(request.param)
    try:
        yield int(request.param)
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def not_private(root: Path, skip: tuple[Path, ...] = ()) -> list[str]:
    """Every directory under `root` (itself included) that is not 0700, every file not 0600."""
    found = []
    for path in [root, *root.rglob("*")]:
        if any(path == s or s in path.parents for s in skip):
            continue
        want = 0o700 if path.is_dir() else 0o600
        if mode(path) != want:
            found.append(f"{path.relative_to(root.parent)} {oct(mode(path))}")
    return found


def test_the_database_and_its_directory_are_private(umask: int, tmp_path: Path) -> None:
    db = open_db(tmp_path / "data" / "sluice.db")
    try:
        db.execute("CREATE TABLE t (x)")
        db.execute("INSERT INTO t VALUES (1)")
        names = {p.name for p in (tmp_path / "data").iterdir()}
        assert {"sluice.db", "sluice.db-wal", "sluice.db-shm"} <= names
        assert not_private(tmp_path / "data") == []
    finally:
        db.conn.close()


def test_an_older_install_is_made_private(umask: int, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    open_db(data / "sluice.db").conn.close()
    data.chmod(0o755)
    (data / "sluice.db").chmod(0o644)
    open_db(data / "sluice.db").conn.close()
    assert mode(data) == 0o700
    assert mode(data / "sluice.db") == 0o600


async def test_server_files_are_private_whatever_the_umask(umask: int, tmp_path: Path) -> None:
    settings = fast_settings(tmp_path, connector_path=str(FIXTURES), sync_max_attempts=1)
    async with running(create_app(settings)) as client:
        definition = await custom_definition(
            client,
            "source",
            "Secretive",
            command=["secretive_connector.py"],
            image="sluice/secretive-test:1",
        )
        source_id = await make_source(client, {"dsn": "postgres://u:p@h/db"}, definition)
        check = await ok(client, "sources/check_connection", {"sourceId": source_id})
        # The check's own config.json, as the connector saw it.
        lines = check["jobInfo"]["logs"]["logLines"]
        assert any("config file mode 0o600, its directory mode 0o700" in line for line in lines)
        destination_id = await make_destination(client, DEV_NULL, SILENT)
        connection_id = await make_connection(client, source_id, destination_id)
        job = (await ok(client, "connections/sync", {"connectionId": connection_id}))["job"]
        info = await wait_job(client, job["id"])
        lines = info["attempts"][-1]["logs"]["logLines"]
        assert any("config file mode 0o600, its directory mode 0o700" in line for line in lines)
        data = Path(settings.data_dir)
        assert list(data.rglob("*.log")), "the attempt wrote a log"
        assert not_private(data, skip=(settings.local_path,)) == []
    assert os.umask(umask) == umask  # the server's umask was its own, and put back


@pytest.mark.docker
def test_docker_job_files_never_reach_the_host_readable(umask: int, tmp_path: Path) -> None:
    client = docker_client()
    image = fault_image(client, "ok")
    instance = f"test-{tmp_path.name}"
    runner = DockerRunner(network="none", instance=instance, client=client)
    job_dir = tmp_path / "runs" / "check-1"
    request = RunRequest(
        connector=ConnectorImage(name="fault", runner="docker", docker_image=image),
        command="check",
        job_dir=job_dir,
        files={"config.json": json.dumps({"api_key": "good", "count": 1}).encode()},
        log_path=job_dir / "stderr.log",
    )
    container = runner.start(request)
    try:
        output = container.stdout.read()
        assert container.wait(60) == 0
    finally:
        container.stdout.close()
        remove_leftover_containers(instance, client)
    assert b"SUCCEEDED" in output  # the container read its configuration
    assert "api_key good" in (job_dir / "stderr.log").read_text()
    assert not (job_dir / "config.json").exists()
    assert mode(job_dir) == 0o700
    assert mode(job_dir / "stderr.log") == 0o600
