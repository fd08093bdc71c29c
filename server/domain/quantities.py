"""Resource quantities: `resourceRequirements` memory and CPU values, one grammar for all.

Airbyte writes them as Kubernetes quantities ("512Mi", "1Gi", "1", "0.5", "500m"), and its
Docker mode passed memory to `docker run --memory`, so Docker's spellings ("512m", "1g") are
taken for memory too (there `m` is MiB, as Docker reads it, not Kubernetes' milli). Only
positive values: a zero or negative limit means "unlimited" or nothing to Docker.

The patterns below go into the models (so a bad value is a 422 naming the field wherever a
`resourceRequirements` is accepted, and the OpenAPI document says what is allowed), and the
parsers the Docker runner uses check the same grammar, with surrounding blanks allowed.
"""

from __future__ import annotations

import re
from decimal import Decimal

# A positive decimal: some digit before the point is not 0, or some digit after it.
_POSITIVE = r"(0*[1-9][0-9]*(\.[0-9]+)?|[0-9]*\.[0-9]*[1-9][0-9]*)"

MEMORY_UNITS = {
    "": 1,
    # Kubernetes binary and decimal suffixes.
    "Ki": 1 << 10,
    "Mi": 1 << 20,
    "Gi": 1 << 30,
    "Ti": 1 << 40,
    "Pi": 1 << 50,
    "K": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "P": 10**15,
    # Docker's suffixes (binary), as `docker run --memory=512m` takes them.
    "b": 1,
    "k": 1 << 10,
    "m": 1 << 20,
    "g": 1 << 30,
    "t": 1 << 40,
    "kb": 1 << 10,
    "mb": 1 << 20,
    "gb": 1 << 30,
}
# Longest suffixes first, so that `Mi` is not read as `M` followed by garbage.
_MEMORY_SUFFIX = "|".join(sorted((u for u in MEMORY_UNITS if u), key=len, reverse=True))
MEMORY_PATTERN = rf"^{_POSITIVE}({_MEMORY_SUFFIX})?$"
CPU_PATTERN = rf"^{_POSITIVE}m?$"

_MEMORY = re.compile(rf"{_POSITIVE}(?P<unit>{_MEMORY_SUFFIX})?")
_CPU = re.compile(rf"{_POSITIVE}(?P<milli>m)?")


class QuantityError(ValueError):
    """A memory or CPU value that is not a positive quantity."""


def memory_bytes(quantity: str) -> int:
    """'512Mi' -> 536870912; raises QuantityError naming the bad value."""
    match = _MEMORY.fullmatch(quantity.strip())
    if match is None:
        raise QuantityError(
            f"Invalid memory quantity {quantity!r}: use a positive amount such as '512Mi', "
            "'1Gi' or '1g'"
        )
    value = int(Decimal(match.group(1)) * MEMORY_UNITS[match.group("unit") or ""])
    if value < 1:
        raise QuantityError(f"Invalid memory quantity {quantity!r}: less than one byte")
    return value


def nano_cpus(quantity: str) -> int:
    """'0.5' or '500m' -> 500000000 (Docker's NanoCpus); raises QuantityError."""
    match = _CPU.fullmatch(quantity.strip())
    if match is None:
        raise QuantityError(
            f"Invalid CPU quantity {quantity!r}: use a positive amount such as '1', '0.5' or '500m'"
        )
    cpus = Decimal(match.group(1)) / (1000 if match.group("milli") else 1)
    value = int(cpus * 10**9)
    if value < 1:
        raise QuantityError(f"Invalid CPU quantity {quantity!r}: less than one nano-CPU")
    return value
