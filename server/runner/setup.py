"""The runners a server uses, made from its settings, and the start-up clean-up of containers."""

from __future__ import annotations

import hashlib

from server.runner import Runners
from server.runner.allowed import AllowedImages, rules_for
from server.runner.docker import DockerRunner, instance_label, remove_leftover_containers
from server.runner.process import ProcessRunner
from server.settings import Settings


def runners_for(settings: Settings) -> Runners:
    # What may run (connector directories, image allow-list) is the same rule the
    # definition APIs apply; both runners check it again as they start a connector.
    rules = rules_for(settings)
    # Connectors outside a container find Airbyte's `/local` under the same host directory
    # that containers get mounted at /local.
    process = ProcessRunner(
        environment={"SLUICE_LOCAL_ROOT": str(settings.local_path)}, rules=rules
    )
    docker = DockerRunner(
        network=settings.docker_network,
        local_root=settings.local_path,
        instance=instance_of(settings),
        local_program=process.resolve,
    )
    return Runners(process, AllowedImages(docker, rules))


def instance_of(settings: Settings) -> str:
    """The label of this process's containers: of its worker id when one is set (several
    workers may share a data directory and an engine), else of its data directory."""
    if settings.worker_id:
        return hashlib.sha256(f"worker:{settings.worker_id}".encode()).hexdigest()[:16]
    return instance_label(settings.data_path)


def remove_leftovers(settings: Settings) -> int:
    """Containers of this server (or worker) left running by a crash (blocking: run it in a
    thread)."""
    return remove_leftover_containers(instance_of(settings))
