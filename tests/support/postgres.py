"""A throwaway PostgreSQL server (initdb + pg_ctl into a temporary directory), for the
destination-postgres tests and for running the store on PostgreSQL (SLUICE_TEST_STORE)."""

from __future__ import annotations

import contextlib
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

    def url(self, database: str | None = None) -> str:
        """A postgresql:// URL of this server's database (or of `database` on it)."""
        name = database or self.database
        return f"postgresql://{self.username}:{self.password}@{self.host}:{self.port}/{name}"

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


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[PostgresServer]:
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
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400"
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
            admin.execute(f"CREATE USER {server.username} CREATEDB PASSWORD '{server.password}'")
            admin.execute(f"CREATE DATABASE {server.database} OWNER {server.username}")
        yield server
    finally:
        subprocess.run(
            [*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(base, ignore_errors=True)


# -- the store on PostgreSQL -------------------------------------------------------------------

STORE_ENV = "SLUICE_TEST_STORE"
TEMPLATE = "sluice_template"


def store_is_postgres() -> bool:
    """Whether this run stores on PostgreSQL (SLUICE_TEST_STORE=postgres) instead of SQLite."""
    return os.environ.get(STORE_ENV, "sqlite") == "postgres"


# For a test of SQLite itself (its files, its catalog, a document stored by an older version):
# PostgreSQL databases start at this version, and their own tests say how they differ.
sqlite_only = pytest.mark.skipif(
    store_is_postgres(), reason="about the SQLite file; the run stores on PostgreSQL"
)


class Databases:
    """Fresh Sluice databases on one server: each a copy of a migrated template (CREATE
    DATABASE ... TEMPLATE), so a test starts on an empty store in milliseconds."""

    def __init__(self, server: PostgresServer) -> None:
        import psycopg

        from server.store.db import open_db

        self.server = server
        self.count = 0
        self.admin = psycopg.connect(server.url("postgres"), autocommit=True)
        self.admin.execute(f"CREATE DATABASE {TEMPLATE}")
        open_db(server.url(TEMPLATE)).conn.close()  # migrated, no key yet

    def fresh(self) -> str:
        """The URL of a new database, migrated and empty."""
        self.count += 1
        name = f"sluice_{os.getpid()}_{self.count}"
        self.admin.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
        return self.server.url(name)


@pytest.fixture(scope="session")
def pg_databases() -> Iterator[Databases]:
    with throwaway_postgres() as server:
        databases = Databases(server)
        try:
            yield databases
        finally:
            databases.admin.close()


_current = {"url": ""}


def current_database_url() -> str:
    """This test's database (as `database_url`), for helpers that build Settings by hand."""
    return _current["url"]


@pytest.fixture(autouse=True)
def database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh PostgreSQL database's URL when the run stores on PostgreSQL, else ""."""
    if not store_is_postgres():
        yield ""
        return
    databases: Databases = request.getfixturevalue("pg_databases")
    _current["url"] = databases.fresh()
    try:
        yield _current["url"]
    finally:
        _current["url"] = ""
