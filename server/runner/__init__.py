"""Runners: how connector commands run. `Runners.get(connector)` picks one per definition."""

from __future__ import annotations

from server.runner.base import ConnectorImage, Runner
from server.runner.process import ProcessRunner


class Runners:
    """The runners of one server. The Docker runner is created on first use, so a machine
    without Docker serves everything that runs as local processes."""

    def __init__(self, process: ProcessRunner, docker: Runner | None = None) -> None:
        self.process = process
        self._docker = docker

    def get(self, connector: ConnectorImage) -> Runner:
        if connector.runner == "process":
            return self.process
        return self.docker()

    def docker(self) -> Runner:
        if self._docker is None:
            from server.runner.docker import DockerRunner

            self._docker = DockerRunner()
        return self._docker
