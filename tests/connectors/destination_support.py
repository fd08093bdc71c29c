"""Test data and tools for the destination tests: streams and records, protocol messages,
running a destination as a program (at once, step by step, or as a Docker image) and reading
rows back in one shape whatever the engine."""

from __future__ import annotations

import copy
import os
import re
import select
import signal
import subprocess
import time
import uuid
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import msgspec
from sluice_connectors.destination_tables import ADDITIONAL, column_kind

from tests.connectors.programs import Result, executable, run, write_json

EMITTED_AT = 1_700_000_000_000
SYNC_ID = 7
GENERATION_ID = 3

USERS_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": ["null", "string"]},
        "score": {"type": ["null", "number"]},
        "active": {"type": "boolean"},
        "tags": {"type": ["null", "array"], "items": {"type": "string"}},
        "address": {
            "type": ["null", "object"],
            "properties": {"city": {"type": "string"}, "zip": {"type": "string"}},
        },
        "nickname": {"type": ["null", "string"]},
        "updated_at": {"type": "string", "format": "date-time"},
    },
}
EVENTS_SCHEMA = {
    "type": "object",
    "properties": {
        "event_id": {"type": "integer"},
        "kind": {"type": "string"},
        "payload": {"type": "object"},
        "at": {"type": "number", "airbyte_type": "integer"},
    },
}


# Property names that need quoting or escaping in SQL, JSON paths and msgspec field names.
ODD_NAMES = ['we"ird', "it's", "with space", "a/b~c", "UPPER", "back\\slash", "ünï"]
ODD_SCHEMA = {
    "type": "object",
    "properties": {
        "key": {"type": "integer"},
        **{name: {"type": ["null", "string"]} for name in ODD_NAMES},
        "n'um": {"type": "number"},
        'ob"j': {"type": "object"},
    },
}
SCHEMAS = {"users": USERS_SCHEMA, "events": EVENTS_SCHEMA, "odd stream-name": ODD_SCHEMA}
KEYS = {"users": "id", "events": "event_id", "odd stream-name": "key"}


def user(i: int, updated: str = "2024-01-01T00:00:00Z", **changes: Any) -> dict[str, Any]:
    data = {
        "id": i,
        "name": f"user {i}",
        "score": i * 1.5,
        "active": i % 2 == 0,
        "tags": [f"t{i}", "common"],
        "address": {"city": f"City {i}", "zip": f"{10000 + i}"},
        "nickname": None,
        "updated_at": updated,
    }
    data.update(changes)
    return data


def event(i: int) -> dict[str, Any]:
    return {
        "event_id": i,
        "kind": "click",
        "payload": {"n": i, "nested": [1, {"x": None}]},
        "at": i,
    }


# Values that stress escaping and typing on the way in: quotes, backslashes, a tab, unicode,
# a big integer, a nested null, an empty object, an undeclared field.
TRICKY_USERS = [
    user(1, name='Zoë "Z" \\ back\tslash', tags=[], address={}),
    user(2, score=0.1, nickname="två", extra_field={"kept": True}),
    user(3, id=2**62, score=-12345.678, name=None, tags=None, address=None),
]


def catalog(
    mode: str = "append",
    streams: Iterable[str] = ("users", "events"),
    cursor: str | None = "updated_at",
    namespace: str | None = None,
) -> dict[str, Any]:
    configured = []
    for name in streams:
        schema, key = copy.deepcopy(SCHEMAS[name]), KEYS[name]
        stream: dict[str, Any] = {
            "name": name,
            "json_schema": schema,
            "supported_sync_modes": ["full_refresh", "incremental"],
        }
        if namespace:
            stream["namespace"] = namespace
        configured.append(
            {
                "stream": stream,
                "sync_mode": "incremental" if mode != "overwrite" else "full_refresh",
                "destination_sync_mode": mode,
                "primary_key": [[key]],
                "cursor_field": [cursor] if cursor and name == "users" else [],
                "sync_id": SYNC_ID,
                "generation_id": GENERATION_ID,
            }
        )
    return {"streams": configured}


def record(stream: str, data: dict[str, Any], offset: int = 0, **extra: Any) -> bytes:
    body = {"stream": stream, "data": data, "emitted_at": EMITTED_AT + offset, **extra}
    return msgspec.json.encode({"type": "RECORD", "record": body})


def state(stream: str, position: int) -> bytes:
    return msgspec.json.encode(
        {
            "type": "STATE",
            "state": {
                "type": "STREAM",
                "stream": {
                    "stream_descriptor": {"name": stream},
                    "stream_state": {"position": position},
                },
                "sourceStats": {"recordCount": 1.0},
            },
        }
    )


def stream_status(stream: str, status: str) -> bytes:
    trace = {
        "type": "STREAM_STATUS",
        "emitted_at": float(EMITTED_AT),
        "stream_status": {"stream_descriptor": {"name": stream}, "status": status},
    }
    return msgspec.json.encode({"type": "TRACE", "trace": trace})


def lines(*messages: bytes) -> bytes:
    return b"".join(m + b"\n" for m in messages)


Row = dict[str, Any]


def table_name(stream: str, namespace: str | None = None) -> str:
    """The name a stream's table (or file) gets: characters other than letters, digits and
    `_` become `_`."""
    return re.sub(r"[^A-Za-z0-9_]", "_", f"{namespace}_{stream}" if namespace else stream)


class Target(Protocol):
    """One destination under test."""

    name: str  # its console script

    def config(self) -> dict[str, Any]: ...

    def env(self) -> dict[str, str]: ...

    def rows(self, stream: str, namespace: str | None = None) -> list[Row]:
        """Every row written for a stream, as {"_airbyte_raw_id": str, "_airbyte_extracted_at":
        epoch ms, "_airbyte_meta": dict, "_airbyte_generation_id": int | None, "data": the
        record's fields with their Python types (undeclared fields included, nulls dropped)}.
        A missing table reads as no rows."""
        ...

    def leftovers(self) -> list[str]:
        """Temporary tables or files a finished run should not leave behind."""
        ...


def write(
    target: Target,
    tmp: Path,
    messages: bytes,
    destination_catalog: dict[str, Any],
    env: dict[str, str] | None = None,
) -> Result:
    config = write_json(tmp / f"config-{uuid.uuid4().hex[:6]}.json", target.config())
    catalog_file = write_json(tmp / f"catalog-{uuid.uuid4().hex[:6]}.json", destination_catalog)
    environment = {**os.environ, **target.env(), **(env or {})}
    return run(
        target.name,
        "write",
        "--config",
        config,
        "--catalog",
        catalog_file,
        stdin=messages,
        env=environment,
    )


def written(
    target: Target,
    tmp: Path,
    messages: bytes,
    mode: str = "append",
    env: dict[str, str] | None = None,
    **kw: Any,
) -> Result:
    result = write(target, tmp, messages, catalog(mode, **kw), env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert not result.errors
    return result


def without_nulls(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}


def by(rows: list[Row], key: str) -> dict[Any, Row]:
    return {row["data"][key]: row for row in rows}


class Running:
    """A destination started with pipes, fed and read step by step."""

    def __init__(self, target: Target, tmp: Path, destination_catalog: dict[str, Any]) -> None:
        config = write_json(tmp / "config-running.json", target.config())
        catalog_file = write_json(tmp / "catalog-running.json", destination_catalog)
        self.proc = subprocess.Popen(
            [executable(target.name), "write", "--config", config, "--catalog", catalog_file],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, **target.env()},
        )
        self.buffer = b""

    def send(self, *messages: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(lines(*messages))
        self.proc.stdin.flush()

    def next_line(self, timeout: float = 30) -> bytes:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self.proc.stdout], [], [], max(left, 0))
            if not ready:
                raise AssertionError(f"no output line within {timeout} s")
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            if not chunk:
                raise AssertionError(f"destination exited: {self.stderr()}")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line

    def next_state(self, timeout: float = 30) -> bytes:
        while True:
            line = self.next_line(timeout)
            if msgspec.json.decode(line).get("type") == "STATE":
                return line

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                pipe.close()

    def stderr(self) -> str:
        self.proc.wait(timeout=30)
        assert self.proc.stderr is not None
        return self.proc.stderr.read().decode(errors="replace")[-3000:]


def docker_write(
    image: str,
    tmp: Path,
    config: dict[str, Any],
    messages: bytes,
    destination_catalog: dict[str, Any],
    local: Path | None = None,
    network: str = "none",
) -> subprocess.CompletedProcess[bytes]:
    """`write` run as the platform runs an image: the job files in a directory mounted at
    /data/job (the working directory), the local root (if any) mounted at /local."""
    job = tmp / "job"
    job.mkdir()
    write_json(job / "destination_config.json", config)
    write_json(job / "destination_catalog.json", destination_catalog)
    for path in (job, *job.iterdir()):  # the image runs as its non-root user `airbyte`
        path.chmod(0o755 if path.is_dir() else 0o644)
    command = ["docker", "run", "--rm", "-i", "--init", "--network", network]
    command += ["-w", "/data/job", "-v", f"{job}:/data/job"]
    if local is not None:
        local.mkdir(parents=True, exist_ok=True)
        local.chmod(0o777)
        command += ["-v", f"{local}:/local"]
    command += [image, "write", "--config", "destination_config.json"]
    command += ["--catalog", "destination_catalog.json"]
    return subprocess.run(command, input=messages, capture_output=True, timeout=180, check=False)


def check_docker_run(
    target: Target, image: str, tmp: Path, local: Path | None, network: str
) -> None:
    """The shared Docker test: two streams, a state between; states come back, data lands."""
    messages = lines(record("users", user(1)), state("users", 1), record("events", event(1)))
    done = docker_write(image, tmp, target.config(), messages, catalog(), local, network)
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-3000:]
    assert state("users", 1) in done.stdout.splitlines()
    assert [r["data"] for r in target.rows("users")] == [without_nulls(user(1))]
    assert [r["data"] for r in target.rows("events")] == [event(1)]


def check_status(
    target_name: str, tmp: Path, config: dict[str, Any], env: dict[str, str]
) -> dict[str, Any]:
    """`check` with a configuration; the CONNECTION_STATUS payload (exit code 0 either way)."""
    path = write_json(tmp / f"check-{uuid.uuid4().hex[:6]}.json", config)
    result = run(target_name, "check", "--config", path, env={**os.environ, **env})
    assert result.returncode == 0, result.stderr
    status: dict[str, Any] = result.one("CONNECTION_STATUS")["connectionStatus"]
    return status


def row_from_columns(stream: str, values: dict[str, Any], extracted_at_ms: int) -> Row:
    """A table row (column -> value as the database driver returns it) in the shape of
    `Target.rows`: JSON text decoded, booleans as bool, exact numbers as float."""
    data: dict[str, Any] = {}
    for name, prop in SCHEMAS[stream]["properties"].items():
        value = values.get(name)
        if value is None:
            continue
        kind = column_kind(prop)
        if kind == "json" and isinstance(value, str):
            value = msgspec.json.decode(value)
        elif kind == "boolean":
            value = bool(value)
        elif kind == "number" and isinstance(value, Decimal):
            value = float(value)
        data[name] = value
    extra = values.get(ADDITIONAL)
    if isinstance(extra, str):
        extra = msgspec.json.decode(extra)
    if extra:
        data.update(extra)
    meta = values["_airbyte_meta"]
    return {
        "_airbyte_raw_id": str(values["_airbyte_raw_id"]),
        "_airbyte_extracted_at": extracted_at_ms,
        "_airbyte_meta": msgspec.json.decode(meta) if isinstance(meta, str) else meta,
        "_airbyte_generation_id": values["_airbyte_generation_id"],
        "data": data,
    }
