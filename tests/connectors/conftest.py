"""Fixtures for the connector tests."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.postgres import PostgresServer, throwaway_postgres

__all__ = ["PostgresServer"]  # tests import it from here

# -- a throwaway PostgreSQL server (tests/support/postgres.py) ---------------------------------


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    with throwaway_postgres() as server:
        yield server


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
