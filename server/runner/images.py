"""From a definition to a `ConnectorImage`, and Airbyte's resource quantities to numbers
(server.domain.quantities parses them: the grammar the models check requests with)."""

from __future__ import annotations

from typing import Literal

from server.domain import quantities
from server.models.definitions import (
    DestinationDefinitionRead,
    ResourceRequirements,
    SourceDefinitionRead,
)
from server.runner.base import ConnectorError, ConnectorImage

JobType = Literal["get_spec", "check_connection", "discover_schema", "sync"]


def memory_bytes(quantity: str) -> int:
    """'512Mi' -> 536870912; raises ConnectorError naming the bad value."""
    try:
        return quantities.memory_bytes(quantity)
    except quantities.QuantityError as exc:
        raise ConnectorError(str(exc)) from None


def nano_cpus(quantity: str) -> int:
    """'0.5' or '500m' -> 500000000 (Docker's NanoCpus)."""
    try:
        return quantities.nano_cpus(quantity)
    except quantities.QuantityError as exc:
        raise ConnectorError(str(exc)) from None


def _requirements(
    definition: SourceDefinitionRead | DestinationDefinitionRead, job_type: JobType
) -> ResourceRequirements:
    """The definition's default limits, overridden field by field for this job type."""
    resources = definition.resource_requirements
    if resources is None:
        return ResourceRequirements()
    merged = resources.default or ResourceRequirements()
    for specific in resources.job_specific or []:
        if specific.job_type == job_type:
            own = specific.resource_requirements
            merged = ResourceRequirements(
                cpu_request=own.cpu_request or merged.cpu_request,
                cpu_limit=own.cpu_limit or merged.cpu_limit,
                memory_request=own.memory_request or merged.memory_request,
                memory_limit=own.memory_limit or merged.memory_limit,
            )
    return merged


def connector_image(
    definition: SourceDefinitionRead | DestinationDefinitionRead, job_type: JobType
) -> ConnectorImage:
    limits = _requirements(definition, job_type)
    return ConnectorImage(
        name=definition.name,
        runner=definition.runner,
        docker_image=f"{definition.docker_repository}:{definition.docker_image_tag}",
        command=tuple(definition.command),
        memory_limit=limits.memory_limit,
        cpu_limit=limits.cpu_limit,
    )
