"""The runners a server uses, made from its settings, and the start-up clean-up of containers."""

from __future__ import annotations

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
        instance=instance_label(settings.data_path),
        local_program=process.resolve,
    )
    return Runners(process, AllowedImages(docker, rules))


def remove_leftovers(settings: Settings) -> int:
    """Containers of this server left running by a crash (blocking: run it in a thread)."""
    return remove_leftover_containers(instance_label(settings.data_path))
