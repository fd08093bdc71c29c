"""DockerRunner: a connector image run as a container, the way Airbyte's Docker mode runs it.

`docker run --rm -i --init --log-driver none -v <local root>:/local [--network <mode>]
[--memory ..] [--cpus ..] <image> <command> --config /data/job/config.json`, done with the
Docker SDK. The job files (config.json ...) are copied into the created container's
/data/job before it starts, not mounted: the image's user (often uid 1000) could read a
mounted file only if every local user could, and configurations hold secrets. The image's
own ENTRYPOINT runs (or `AIRBYTE_ENTRYPOINT` when an image sets only that). Images are
never pulled: a missing image is a clear error.

Output is streamed from one attach connection opened before the container starts (so no
line is lost); server/runner/docker_output.py splits it into the `.stdout` pipe and the log,
and closes that pipe when the connector closes its stdout (the engine does not say so).
`.stdin` writes to the same connection; closing it half-closes the socket, and Docker then
closes the container's stdin (`StdinOnce`), so the connector sees EOF.

Every container carries labels (`io.sluice.managed`, the server's instance, the caller's
labels such as job id and attempt) so that containers left by a crashed server are found
and removed at the next start-up (`remove_leftover_containers`).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import shlex
import socket
import tarfile
import threading
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, BinaryIO

from server.runner.base import ConnectorError, ConnectorImage, RunRequest, arguments
from server.runner.docker_engine import (
    INSTANCE_LABEL,
    MANAGED_LABEL,
    docker_client,
    instance_label,
    remove_leftover_containers,
)
from server.runner.docker_output import PIPE_BUFFER, OutputPump, stdout_probe
from server.runner.images import memory_bytes, nano_cpus

if TYPE_CHECKING:  # the SDK is imported on first use: a server without Docker never loads it
    from docker import DockerClient

__all__ = [
    "INSTANCE_LABEL",
    "MANAGED_LABEL",
    "DockerContainer",
    "DockerRunner",
    "docker_client",
    "instance_label",
    "remove_leftover_containers",
]

log = logging.getLogger("sluice.runner.docker")

JOB_MOUNT = "/data/job"  # where the job files (config.json, catalog.json ...) are seen
LOCAL_MOUNT = "/local"  # Airbyte's convention for files a connector reads or writes
STDIN_EOF_GRACE_SECONDS = 10.0


class _SocketWriter(io.RawIOBase):
    """The container's stdin: writes go to the attach socket; close() half-closes it."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._sock.sendall(data)
        return len(data)

    def close(self) -> None:
        if not self.closed:
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_WR)
        super().close()


class DockerContainer:
    """A started container (see RunningConnector)."""

    def __init__(
        self,
        client: DockerClient,
        container_id: str,
        attach: Any,
        log_file: BinaryIO | None,
        stdin: bool,
    ) -> None:
        self._api = client.api
        self.id = container_id
        self._attach = attach  # docker's socket.SocketIO over the hijacked connection
        self._sock: socket.socket = getattr(attach, "_sock", attach)
        self._log = log_file
        self._killed = False
        self._exit_code: int | None = None
        # kill() may come from a timer thread while wait() runs: one removal at a time, and
        # neither returns before the container is gone.
        self._closing = threading.Lock()
        probe = stdout_probe(self._api, container_id)
        self._output = OutputPump(attach, log_file, probe, f"docker-{container_id[:12]}")
        self.stdout: IO[bytes] = self._output.stdout
        self.stdin: IO[bytes] | None = (
            io.BufferedWriter(_SocketWriter(self._sock), PIPE_BUFFER) if stdin else None
        )
        self._output.start()

    def wait(self, timeout: float | None = None) -> int:
        import docker.errors
        import requests.exceptions

        if self._exit_code is not None:
            return self._exit_code
        try:
            if timeout is not None and timeout <= 0:
                # "Has it exited?" without waiting: the engine's wait API refuses a 0 timeout.
                state = self._api.inspect_container(self.id)["State"]
                if state.get("Running"):
                    raise TimeoutError("connector still running")
                result = {"StatusCode": state.get("ExitCode", -1)}
            else:
                result = self._api.wait(self.id, timeout=timeout)
        except requests.exceptions.ReadTimeout:
            raise TimeoutError(f"connector still running after {timeout} s") from None
        except requests.exceptions.ConnectionError as exc:
            if "timed out" in str(exc).lower():
                raise TimeoutError(f"connector still running after {timeout} s") from None
            raise ConnectorError(f"Lost the Docker engine while waiting: {exc}") from exc
        except docker.errors.NotFound:
            if not self._killed:
                raise ConnectorError(f"Container {self.id[:12]} disappeared") from None
            result = {"StatusCode": 137}
        # The attach stream ends once the container has exited and its output is flushed.
        self._output.join_output(STDIN_EOF_GRACE_SECONDS)
        self._close()
        self._exit_code = int(result.get("StatusCode", -1))
        return self._exit_code

    def kill(self) -> None:
        """Kill and remove the container at once; the pump then sees EOF."""
        self._killed = True
        self._close()

    def _close(self) -> None:
        with self._closing:
            self._remove()

    def _remove(self) -> None:
        import docker.errors

        # Shut the attach socket down first, in both directions: a thread blocked writing to
        # the container's stdin gets an error instead of hanging, and the engine is not left
        # pushing output nobody reads while it removes the container.
        self._output.dropping.set()
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
            self._api.remove_container(self.id, force=True)
        if self._output.is_alive():
            self._output.join(STDIN_EOF_GRACE_SECONDS)
        with contextlib.suppress(OSError):
            self._sock.close()
        if self._log is not None and not self._log.closed:
            self._log.close()


class DockerRunner:
    """Starts connector containers. The engine is reached on first use (docker.from_env)."""

    def __init__(
        self,
        network: str = "host",
        local_root: Path | None = None,
        instance: str = "",
        local_program: Callable[[str], str | None] | None = None,
        client: DockerClient | None = None,
    ) -> None:
        self.network = network
        self.local_root = local_root
        self.instance = instance
        # Finds a connector's local program, to suggest the process runner for a missing image.
        self._local_program = local_program
        self._client = client
        self._lock = threading.Lock()

    def client(self) -> DockerClient:
        with self._lock:
            if self._client is None:
                self._client = docker_client()
            return self._client

    def start(self, request: RunRequest) -> DockerContainer:
        import docker.errors

        client = self.client()
        connector = request.connector
        entrypoint = self._entrypoint(client, connector)
        _write_job_files(request)
        log_file = _open_log(request.log_path)
        try:
            container_id = client.api.create_container(
                connector.docker_image,
                command=arguments(request, JOB_MOUNT),
                entrypoint=entrypoint,
                stdin_open=request.stdin,
                name=_container_name(connector, request),
                labels=self._labels(request.labels),
                environment={
                    "WORKER_CONNECTOR_IMAGE": connector.docker_image,
                    "DEPLOYMENT_MODE": "OSS",
                },
                host_config=client.api.create_host_config(**self._host_config(request)),
            )["Id"]
        except (docker.errors.DockerException, ConnectorError) as exc:
            if log_file is not None:
                log_file.close()
            raise ConnectorError(
                f"Could not create a container for {connector.name}: {exc}"
            ) from exc
        try:
            attach = client.api.attach_socket(
                container_id,
                params={"stdin": int(request.stdin), "stdout": 1, "stderr": 1, "stream": 1},
            )
            client.api.put_archive(container_id, "/", _job_archive(request))
            client.api.start(container_id)
        except docker.errors.DockerException as exc:
            with contextlib.suppress(docker.errors.DockerException):
                client.api.remove_container(container_id, force=True)
            if log_file is not None:
                log_file.close()
            raise ConnectorError(f"Could not start {connector.docker_image}: {exc}") from exc
        return DockerContainer(client, container_id, attach, log_file, request.stdin)

    def _entrypoint(self, client: DockerClient, connector: ConnectorImage) -> list[str] | None:
        """None keeps the image's ENTRYPOINT; images that only set AIRBYTE_ENTRYPOINT get it."""
        import docker.errors

        try:
            config = client.api.inspect_image(connector.docker_image).get("Config") or {}
        except docker.errors.ImageNotFound:
            raise ConnectorError(self._missing_image(connector)) from None
        except docker.errors.DockerException as exc:
            raise ConnectorError(f"Docker engine error: {exc}") from exc
        if config.get("Entrypoint"):
            return None
        env = dict(item.split("=", 1) for item in config.get("Env") or [] if "=" in item)
        if env.get("AIRBYTE_ENTRYPOINT"):
            return shlex.split(env["AIRBYTE_ENTRYPOINT"])
        raise ConnectorError(
            f"Image {connector.docker_image} has neither an ENTRYPOINT nor AIRBYTE_ENTRYPOINT; "
            f"it is not a connector image"
        )

    def _missing_image(self, connector: ConnectorImage) -> str:
        message = (
            f"Image {connector.docker_image} is not present locally (Sluice never pulls images); "
            f"build it first (scripts/build-connector-images.sh; for Airbyte's source-faker, "
            f"scripts/build-faker-image.sh)"
        )
        program = (
            self._local_program(connector.command[0])
            if self._local_program and connector.command
            else None
        )
        if program:
            message += (
                f". Connector '{connector.name}' is installed as a local program ({program}): "
                f"set the definition's runner to 'process' to run it without Docker"
            )
        return message

    def _labels(self, extra: Mapping[str, str]) -> dict[str, str]:
        labels = {MANAGED_LABEL: "true", INSTANCE_LABEL: self.instance}
        for key, value in extra.items():
            labels[key if "." in key else f"io.sluice.{key}"] = str(value)
        return labels

    def _host_config(self, request: RunRequest) -> dict[str, Any]:
        binds: dict[str, dict[str, str]] = {}
        if self.local_root is not None:
            binds[str(_local_root(self.local_root))] = {"bind": LOCAL_MOUNT, "mode": "rw"}
        config: dict[str, Any] = {
            "binds": binds,
            "network_mode": self.network,
            "init": True,  # reaps a connector's children and forwards signals, as Airbyte's runs
            "log_config": {"type": "none"},  # output is read from the attach stream only
        }
        if request.connector.memory_limit:
            config["mem_limit"] = memory_bytes(request.connector.memory_limit)
        if request.connector.cpu_limit:
            config["nano_cpus"] = nano_cpus(request.connector.cpu_limit)
        return config


def _write_job_files(request: RunRequest) -> None:
    """Only the run's log lives in the job directory on the host (private to the server's
    user); the job files go into the container (`_job_archive`)."""
    request.job_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    request.job_dir.chmod(0o700)


def _job_archive(request: RunRequest) -> bytes:
    """The job files as a tar for `put_archive` at "/": JOB_MOUNT and the files in it,
    readable by whichever user the image runs as (inside the container only)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        parts = JOB_MOUNT.strip("/").split("/")
        for depth in range(1, len(parts) + 1):
            folder = tarfile.TarInfo("/".join(parts[:depth]))
            folder.type, folder.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(folder)
        for name, content in request.files.items():
            info = tarfile.TarInfo(f"{'/'.join(parts)}/{name}")
            info.size, info.mode = len(content), 0o644
            tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def _local_root(path: Path) -> Path:
    if not path.exists():
        path.mkdir(parents=True)
        # Connector images run as their own user; /local must be writable for it.
        path.chmod(0o1777)
    return path.resolve()


def _open_log(path: Path | None) -> BinaryIO | None:
    if path is None:
        return None
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # The connector's stderr may repeat its configuration: private to the server's user.
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "ab")


_UNSAFE = re.compile(r"[^a-zA-Z0-9_.-]+")


def _container_name(connector: ConnectorImage, request: RunRequest) -> str:
    image = _UNSAFE.sub("-", connector.docker_image.rsplit("/", 1)[-1])
    return f"sluice-{image}-{request.command}-{uuid.uuid4().hex[:8]}"[:128]
