"""Local paths in connector configurations, refused when the configuration is saved.

Local-file connectors take paths under Airbyte's `/local` mount (`destination_path` of the
SQLite, DuckDB, JSON and CSV destinations; `url` of the file source when it reads local
storage). The connectors refuse a path that leaves the mount, but only when they run: here the
same rule (`sluice_connectors.paths.local_relative`, the lexical part of what their `check`
does; symbolic links can only be judged where the files are) runs before a source or
destination is stored, so a bad path is a 422 at create/update rather than a failed check.
"""

from __future__ import annotations

from typing import Any

from sluice_connectors.entrypoint import ConfigError
from sluice_connectors.paths import local_relative

from server.core.errors import InvalidInput
from server.models.definitions import DestinationDefinitionRead, SourceDefinitionRead

CONFIG_PATH = "connectionConfiguration"
# Which configuration fields are local paths, by connector repository (Sluice's connectors
# and the Airbyte images they stand in for).
LOCAL_PATH_FIELDS: dict[str, tuple[str, ...]] = {
    "sluice/destination-sqlite": ("destination_path",),
    "sluice/destination-duckdb": ("destination_path",),
    "sluice/destination-jsonl": ("destination_path",),
    "airbyte/destination-sqlite": ("destination_path",),
    "airbyte/destination-duckdb": ("destination_path",),
    "airbyte/destination-local-json": ("destination_path",),
    "airbyte/destination-csv": ("destination_path",),
    "sluice/source-file": ("url",),
    "airbyte/source-file": ("url",),
}
# DuckDB paths with these prefixes name a MotherDuck database, not a file.
_REMOTE_PREFIXES = ("md:", "motherduck:")


def _is_local(field: str, configuration: dict[str, Any]) -> bool:
    value = configuration.get(field)
    if not isinstance(value, str) or value.startswith(_REMOTE_PREFIXES):
        return False
    if field == "url":  # the file source reads a URL unless its provider is local storage
        provider = configuration.get("provider")
        storage = provider.get("storage", "local") if isinstance(provider, dict) else "local"
        return str(storage).lower() == "local"
    return True


def check_local_paths(
    definition: SourceDefinitionRead | DestinationDefinitionRead, configuration: dict[str, Any]
) -> None:
    """Raise InvalidInput naming `connectionConfiguration.<field>` for a path that would leave
    the `/local` mount (absolute elsewhere, or with a `..` part)."""
    for field in LOCAL_PATH_FIELDS.get(definition.docker_repository, ()):
        if not _is_local(field, configuration):
            continue
        value = configuration[field]
        try:
            local_relative(value)
        except ConfigError as exc:
            raise InvalidInput(
                f"{field}: {exc}", property_path=f"{CONFIG_PATH}.{field}", invalid_value=value
            ) from None
