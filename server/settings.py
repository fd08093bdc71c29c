"""Sluice's settings: one frozen Struct, filled once from `SLUICE_*` environment variables."""

from __future__ import annotations

import os
import typing
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any

import msgspec


def _help(text: str) -> msgspec.Meta:
    return msgspec.Meta(description=text)


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Every knob Sluice has. Nothing else reads the environment."""

    host: Annotated[str, _help("Address the HTTP server binds to.")] = "127.0.0.1"
    port: Annotated[int, _help("Port the HTTP server listens on.")] = 8000
    data_dir: Annotated[
        str, _help("Directory for the SQLite database, job directories and logs.")
    ] = "./sluice-data"
    max_body_bytes: Annotated[
        int, _help("Largest accepted request body in bytes; larger bodies get 413.")
    ] = 16 * 1024 * 1024
    log_level: Annotated[str, _help("Server log level (debug, info, warning, error).")] = "info"

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir)

    @property
    def db_path(self) -> Path:
        return self.data_path / "sluice.db"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from `SLUICE_<NAME>` variables; explicit overrides win."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for field in msgspec.structs.fields(cls):
            raw = env.get(f"SLUICE_{field.name.upper()}")
            if raw is not None:
                values[field.name] = raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        # strict=False converts "8000" -> 8000 and "true" -> True, with a clear error otherwise.
        return msgspec.convert(values, cls, strict=False)

    @classmethod
    def describe(cls) -> Iterator[tuple[str, str, str]]:
        """(environment variable, default, help) for each setting: the README table."""
        defaults = cls()
        hints = typing.get_type_hints(cls, include_extras=True)
        for field in msgspec.structs.fields(cls):
            meta = getattr(hints[field.name], "__metadata__", ())
            text = next((m.description for m in meta if isinstance(m, msgspec.Meta)), "")
            yield (f"SLUICE_{field.name.upper()}", repr(getattr(defaults, field.name)), text or "")
