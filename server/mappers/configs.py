"""A stream's configuration, parsed into typed mapper specs (filled in below)."""

from __future__ import annotations

MAPPER_TYPES = (
    "hashing",
    "field-renaming",
    "row-filtering",
    "encryption",
    "field-filtering",
    "value-transform",  # Sluice's
    "field-name-transform",  # Sluice's
)

# Keys of a mapper's `mapperConfiguration` that are secrets (masked in replies, encrypted at
# rest), by mapper type.
SECRET_CONFIG_KEYS: dict[str, tuple[str, ...]] = {"encryption": ("key",)}


class MapperConfigError(ValueError):
    """A stream's mapper configuration that cannot be applied; `problems` says why."""

    def __init__(self, problems: list[object]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))
