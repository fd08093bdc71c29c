"""Real connector programs for runner and API tests: Airbyte's source-faker (the venv that
scripts/install-faker.sh makes, and the image scripts/build-faker-image.sh builds) and the
test connector tests/fixtures/fault_connector.py (as a program and as images, one per fault)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
FAULT_PROGRAM = FIXTURES / "fault_connector.py"
FAKER_BIN = ROOT / ".venvs" / "source-faker" / "bin"
FAKER_IMAGE = "airbyte/source-faker:7.2.1"
# A process definition names its program, found only in the connector directories: tests
# that run the fault connector put its directory there.
CONNECTOR_PATH = os.pathsep.join([str(FAKER_BIN), str(FIXTURES)])
BASE_IMAGE = "sluice/python-base:bookworm"


def need_faker_program() -> Path:
    if not (FAKER_BIN / "source-faker").exists():
        pytest.skip("source-faker is not installed: run scripts/install-faker.sh")
    return FAKER_BIN


def docker_client() -> Any:
    # The server's own client: it checks the engine's socket first, so a missing engine
    # leaks no socket (the SDK's own connect would).
    from server.runner.base import ConnectorError
    from server.runner.docker_engine import docker_client as engine_client

    try:
        return engine_client()
    except ConnectorError as exc:
        pytest.skip(f"no Docker engine ({exc}): run scripts/docker-engine.sh")


def need_image(client: Any, image: str, how: str) -> None:
    import docker.errors

    try:
        client.images.get(image)
    except docker.errors.ImageNotFound:
        pytest.skip(f"image {image} is missing: run {how}")


def fault_image(client: Any, mode: str) -> str:
    """The fault connector as an image for `mode`, built once per content (no network)."""
    import docker.errors

    need_image(client, BASE_IMAGE, "scripts/build-base-image.sh")
    content = FAULT_PROGRAM.read_bytes() + (FIXTURES / "Dockerfile.fault").read_bytes()
    tag = f"sluice-test/fault-{mode}:{hashlib.sha256(content).hexdigest()[:12]}"
    try:
        client.images.get(tag)
    except docker.errors.ImageNotFound:
        client.images.build(
            path=str(FIXTURES),
            dockerfile="Dockerfile.fault",
            buildargs={"MODE": mode},
            tag=tag,
            network_mode="none",
            rm=True,
        )
    return tag


async def custom_definition(
    client: Any,
    kind: str,
    name: str,
    *,
    runner: str = "process",
    command: list[str] | None = None,
    image: str = "sluice-test/fault:1",
) -> str:
    """Create a custom source or destination definition through the API; its id."""
    from tests.conftest import post

    workspaces = (await post(client, "workspaces/list")).json()["workspaces"]
    repository, tag = image.rsplit(":", 1)
    definition: dict[str, Any] = {
        "name": name,
        "dockerRepository": repository,
        "dockerImageTag": tag,
        "documentationUrl": "https://example.invalid/docs",
        "runner": runner,
    }
    if command is not None:
        definition["command"] = command
    r = await post(
        client,
        f"{kind}_definitions/create_custom",
        {"workspaceId": workspaces[0]["workspaceId"], f"{kind}Definition": definition},
    )
    assert r.status_code == 200, r.text
    return str(r.json()[f"{kind}DefinitionId"])


def fault_command(mode: str = "ok") -> list[str]:
    """The fault connector's command: its name, found through CONNECTOR_PATH."""
    return [FAULT_PROGRAM.name, mode]


async def workspace_id(client: Any) -> str:
    from tests.conftest import post

    return str((await post(client, "workspaces/list")).json()["workspaces"][0]["workspaceId"])
