"""From a definition to a `ConnectorImage`, and Airbyte's resource quantities to numbers.

Airbyte writes limits as Kubernetes quantities ("512Mi", "1Gi", "0.5", "500m"); its Docker
mode passed them to `docker run --memory`, so Docker's own spellings ("512m", "1g") are
accepted too.
"""

from __future__ import annotations

import re
from typing import Literal

from server.models.definitions import (
    DestinationDefinitionRead,
    ResourceRequirements,
    SourceDefinitionRead,
)
from server.runner.base import ConnectorError, ConnectorImage

JobType = Literal["get_spec", "check_connection", "discover_schema", "sync"]

_MEMORY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$")
_MEMORY_UNITS = {
    "": 1,
    "b": 1,
    # Kubernetes binary and decimal suffixes.
    "Ki": 1 << 10,
    "Mi": 1 << 20,
    "Gi": 1 << 30,
    "Ti": 1 << 40,
    "K": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    # Docker's suffixes (binary), as `docker run --memory=512m` takes them.
    "k": 1 << 10,
    "m": 1 << 20,
    "g": 1 << 30,
    "t": 1 << 40,
    "kb": 1 << 10,
    "mb": 1 << 20,
    "gb": 1 << 30,
}


def memory_bytes(quantity: str) -> int:
    """'512Mi' -> 536870912; raises ConnectorError naming the bad value."""
    match = _MEMORY.match(quantity)
    unit = match.group(2) if match else None
    factor = _MEMORY_UNITS.get(unit) if unit is not None else None
    if match is None or factor is None:
        raise ConnectorError(
            f"Invalid memory quantity {quantity!r}: use e.g. '512Mi', '1Gi' or '1g'"
        )
    return int(float(match.group(1)) * factor)


def nano_cpus(quantity: str) -> int:
    """'0.5' or '500m' -> 500000000 (Docker's NanoCpus)."""
    text = quantity.strip()
    try:
        cpus = float(text[:-1]) / 1000 if text.endswith("m") else float(text)
    except ValueError:
        raise ConnectorError(
            f"Invalid CPU quantity {quantity!r}: use e.g. '1', '0.5' or '500m'"
        ) from None
    if cpus <= 0:
        raise ConnectorError(f"Invalid CPU quantity {quantity!r}: must be positive")
    return int(cpus * 1e9)


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
