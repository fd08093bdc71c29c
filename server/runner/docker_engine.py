"""The Docker engine as the runner reaches it: a client (refused clearly when no engine
answers), and the labels by which one server's containers are found again, so that those a
crashed server left behind are removed at the next start (`remove_leftover_containers`)."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import socket
from pathlib import Path
from typing import TYPE_CHECKING

from server.runner.base import ConnectorError

if TYPE_CHECKING:  # the SDK is imported on first use: a server without Docker never loads it
    from docker import DockerClient

log = logging.getLogger("sluice.runner.docker")

MANAGED_LABEL = "io.sluice.managed"
INSTANCE_LABEL = "io.sluice.instance"


def instance_label(data_dir: Path) -> str:
    """Names one server's containers, so two servers sharing an engine never remove each
    other's runs: a short hash of the data directory's absolute path."""
    return hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:16]


def _unix_socket_refuses() -> str | None:
    """Why the engine's Unix socket does not answer, None if it does (or is not a Unix socket).

    The Docker SDK leaks its socket when the connect fails; checking first with a socket of our
    own, closed whatever happens, keeps a machine without an engine free of leaked sockets."""
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    if not host.startswith("unix://"):
        return None
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(2)
        try:
            probe.connect(host.removeprefix("unix://"))
        except OSError as exc:
            return f"{host}: {exc.strerror or exc}"
    return None


def docker_client() -> DockerClient:
    import docker
    import docker.errors

    refused = _unix_socket_refuses()
    if refused is not None:
        raise ConnectorError(
            f"Cannot reach the Docker engine ({refused}); start one with "
            f"scripts/docker-engine.sh, or run connectors as local programs (definition "
            f"runner 'process')"
        )
    client = None
    try:
        client = docker.from_env()
        client.ping()
    except docker.errors.DockerException as exc:
        # A client whose engine does not answer still holds its socket: close it here.
        if client is not None:
            client.close()
        raise ConnectorError(
            f"Cannot reach the Docker engine ({exc}); start one with scripts/docker-engine.sh, "
            f"or run connectors as local programs (definition runner 'process')"
        ) from exc
    return client


def remove_leftover_containers(instance: str, client: DockerClient | None = None) -> int:
    """Remove this server's containers left behind by a crash; the number removed.

    A machine without a Docker engine has none: that is not an error.
    """
    import docker.errors

    own = client is None
    try:
        client = client or docker_client()
    except ConnectorError as exc:
        log.debug("no leftover containers removed: %s", exc)
        return 0
    try:
        api = client.api
        found = api.containers(
            all=True, filters={"label": [f"{MANAGED_LABEL}=true", f"{INSTANCE_LABEL}={instance}"]}
        )
        for container in found:
            with contextlib.suppress(docker.errors.NotFound):
                api.remove_container(container["Id"], force=True)
            log.warning("removed leftover connector container %s", container.get("Names"))
        return len(found)
    except docker.errors.DockerException as exc:
        log.debug("no leftover containers removed: %s", exc)
        return 0
    finally:
        if own:
            client.close()
