"""Running connectors as programs, as the platform does: files for config, catalog and state,
one JSON message per stdout line."""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec


def executable(name: str) -> str:
    """A connector's console script, from this interpreter's environment or PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    assert found, f"{name} is not installed: pip install -e connectors"
    return found


@dataclass
class Result:
    returncode: int
    lines: list[bytes]  # stdout lines without their newline
    stderr: str

    @property
    def messages(self) -> list[dict[str, Any]]:
        """Every stdout line that is JSON (non-JSON lines are the platform's to drop)."""
        result = []
        for line in self.lines:
            try:
                result.append(msgspec.json.decode(line))
            except msgspec.DecodeError:
                continue
        return result

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m.get("type") == kind]

    @property
    def records(self) -> list[dict[str, Any]]:
        return [m["record"] for m in self.of("RECORD")]

    @property
    def states(self) -> list[dict[str, Any]]:
        return [m["state"] for m in self.of("STATE")]

    @property
    def errors(self) -> list[dict[str, Any]]:
        return [m["trace"]["error"] for m in self.of("TRACE") if m["trace"]["type"] == "ERROR"]

    def one(self, kind: str) -> dict[str, Any]:
        found = self.of(kind)
        assert len(found) == 1, f"expected one {kind}, got {len(found)}: {self.stderr[-2000:]}"
        return found[0]


def write_json(path: Path, value: Any) -> str:
    path.write_bytes(msgspec.json.encode(value))
    return str(path)


def run(
    name: str, *args: str, stdin: bytes | None = None, timeout: float = 60, **kwargs: Any
) -> Result:
    proc = subprocess.run(
        [executable(name), *args],
        input=stdin,
        capture_output=True,
        timeout=timeout,
        check=False,
        **kwargs,
    )
    return Result(proc.returncode, proc.stdout.splitlines(), proc.stderr.decode(errors="replace"))


def command(
    name: str,
    command: str,
    tmp: Path,
    config: Any = None,
    catalog: Any = None,
    state: Any = None,
    **kwargs: Any,
) -> Result:
    """`<name> <command> --config ... [--catalog ...] [--state ...]` with the JSON in files."""
    args = [command]
    if config is not None:
        args += ["--config", write_json(tmp / f"{name}-config.json", config)]
    if catalog is not None:
        args += ["--catalog", write_json(tmp / f"{name}-catalog.json", catalog)]
    if state is not None:
        args += ["--state", write_json(tmp / f"{name}-state.json", state)]
    return run(name, *args, **kwargs)


def configured_catalog(
    streams: list[dict[str, Any]],
    sync_mode: str = "full_refresh",
    destination_sync_mode: str = "append",
) -> dict[str, Any]:
    """A ConfiguredAirbyteCatalog selecting every discovered stream."""
    return {
        "streams": [
            {
                "stream": stream,
                "sync_mode": sync_mode,
                "destination_sync_mode": destination_sync_mode,
                "cursor_field": stream.get("default_cursor_field") or [],
                "primary_key": stream.get("source_defined_primary_key") or [],
            }
            for stream in streams
        ]
    }
