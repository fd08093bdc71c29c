"""The README's curl walkthrough works as written, against a real server."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.connectors.conftest import connector_images

__all__ = ["connector_images"]  # a fixture used below

ROOT = Path(__file__).resolve().parent.parent
FAKER_BIN = ROOT / ".venvs" / "source-faker" / "bin"


def readme_blocks(heading: str) -> list[str]:
    """The ```sh blocks of one README section (up to the next heading of the same level)."""
    text = (ROOT / "README.md").read_text()
    level = heading.split(" ", 1)[0]
    section = text.split(heading + "\n", 1)[1]
    section = re.split(rf"\n{level} ", section, maxsplit=1)[0]
    return re.findall(r"```sh\n(.*?)```", section, flags=re.S)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    port = free_port()
    env = {
        **os.environ,
        "SLUICE_DATA_DIR": str(tmp_path / "data"),
        "SLUICE_CONNECTOR_PATH": str(FAKER_BIN),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "server", "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    api = f"http://127.0.0.1:{port}/api/v1"
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{api}/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield api, {**env, "API": api}
    finally:
        proc.terminate()
        proc.wait(20)


def run_blocks(blocks: list[str], env: dict[str, str], cwd: Path) -> str:
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", "\n".join(blocks)],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.mark.serve
@pytest.mark.slow
@pytest.mark.skipif(not (FAKER_BIN / "source-faker").exists(), reason="scripts/install-faker.sh")
def test_the_curl_walkthrough_works_as_written(
    server: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    _, env = server
    process_block = readme_blocks("## A first sync with curl")[0]
    out = run_blocks([process_block], env, tmp_path)
    assert '"propertyPath":"connectionConfiguration.count"' in out
    assert "\nsucceeded\n" in out
    assert "['products', 'users', 'purchases']" in out
    assert re.search(r"job \d+: succeeded", out)
    assert "{'users': 1000, 'products': 100, 'purchases': " in out


@pytest.mark.serve
@pytest.mark.slow
@pytest.mark.docker
def test_the_docker_walkthrough_works_as_written(
    server: tuple[str, dict[str, str]], tmp_path: Path, connector_images: None
) -> None:
    _, env = server
    blocks = readme_blocks("## A first sync with curl")
    assert len(blocks) == 2
    out = run_blocks(blocks, env, tmp_path)
    assert out.rstrip().endswith("succeeded\nTrue")
