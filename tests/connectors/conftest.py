"""Fixtures for the connector tests."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# -- a throwaway PostgreSQL server ------------------------------------------------------------


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    database: str
    username: str
    password: str
    socket_dir: str

    def config(self, **extra: Any) -> dict[str, Any]:
        """A destination-postgres configuration for this server (Airbyte's property names)."""
        return {
            "host": self.host,
            "port": self.port,
            "database": self.database,
            "schema": "public",
            "username": self.username,
            "password": self.password,
            "ssl_mode": {"mode": "disable"},
            **extra,
        }

    def dsn(self) -> str:
        return (
            f"host={self.host} port={self.port} dbname={self.database} "
            f"user={self.username} password={self.password}"
        )


def _postgres_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    # Debian keeps the server binaries out of PATH.
    for version in sorted(Path("/usr/lib/postgresql").glob("*"), reverse=True):
        candidate = version / "bin" / name
        if candidate.exists():
            return str(candidate)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """initdb into a temporary directory, start the server on a free loopback port (password
    auth over TCP, trust over its private unix socket), create a user and a database."""
    initdb, pg_ctl = _postgres_bin("initdb"), _postgres_bin("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    psycopg = pytest.importorskip("psycopg")
    base = Path(tempfile.mkdtemp(prefix="sluice-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root
        user = pwd.getpwnam("postgres")
        os.chown(base, user.pw_uid, user.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    data, sockets, log = base / "data", base / "sockets", base / "server.log"
    superpass = base / "superpass"
    superpass.write_text("postgres-secret\n")  # world-readable: initdb reads it as postgres
    port = _free_port()

    def run(*args: str) -> None:
        done = subprocess.run([*prefix, *args], capture_output=True, text=True, check=False)
        if done.returncode:
            raise RuntimeError(f"{' '.join(args)} failed: {done.stdout}{done.stderr}")

    run("mkdir", "-p", str(sockets))
    run(
        initdb,
        "-D",
        str(data),
        "-U",
        "postgres",
        f"--pwfile={superpass}",
        "--auth-local=trust",
        "--auth-host=scram-sha-256",
        "--encoding=UTF8",
        "--no-sync",
    )
    options = (
        f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 "
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    )
    run(pg_ctl, "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "60", "start")
    server = PostgresServer(
        host="127.0.0.1",
        port=port,
        database="sluice_test",
        username="sluice",
        password="sluice-secret",
        socket_dir=str(sockets),
    )
    try:
        admin = psycopg.connect(
            host=str(sockets), port=port, user="postgres", dbname="postgres", autocommit=True
        )
        with admin:
            admin.execute(f"CREATE USER {server.username} PASSWORD '{server.password}'")
            admin.execute(f"CREATE DATABASE {server.database} OWNER {server.username}")
        yield server
    finally:
        subprocess.run(
            [*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(base, ignore_errors=True)


# -- connector images ----------------------------------------------------------------------


@pytest.fixture(scope="session")
def connector_images() -> None:
    """Build every connector image (cached: a no-op when they are up to date); skip the
    Docker tests when no engine answers."""
    if (
        not shutil.which("docker")
        or subprocess.run(["docker", "info"], capture_output=True, check=False).returncode
    ):
        pytest.skip("no Docker engine answers (scripts/docker-engine.sh starts one)")
    script = Path(__file__).resolve().parents[2] / "scripts" / "build-connector-images.sh"
    done = subprocess.run([str(script)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{script.name} failed:\n{done.stdout}{done.stderr}"
