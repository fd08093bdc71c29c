"""What every Sluice destination must do, as tests shared by the destination test modules.

Each module subclasses `DestinationContract` and provides a `target` fixture: how to configure
its destination and how to read back what it wrote. The destination always runs as a program
(its console script), fed protocol messages on stdin, as the platform runs it.
"""

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
import pytest
from sluice_connectors.destination_core import ADDITIONAL, column_kind

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


class DestinationContract:
    """The behaviour every destination shares. Subclasses provide the `target` fixture."""

    def test_spec_declares_the_sync_modes(self, target: Target, tmp_path: Path) -> None:
        result = run(target.name, "spec")
        assert result.returncode == 0
        spec = result.one("SPEC")["spec"]
        assert spec["supported_destination_sync_modes"] == ["overwrite", "append", "append_dedup"]
        assert "connectionSpecification" in spec

    def test_check_succeeds_and_leaves_nothing(self, target: Target, tmp_path: Path) -> None:
        config = write_json(tmp_path / "config.json", target.config())
        result = run(target.name, "check", "--config", config, env={**os.environ, **target.env()})
        assert result.returncode == 0
        status = result.one("CONNECTION_STATUS")["connectionStatus"]
        assert status == {"status": "SUCCEEDED"}, status
        assert target.leftovers() == []

    def test_records_of_two_streams_read_back_with_their_types(
        self, target: Target, tmp_path: Path
    ) -> None:
        users = [*TRICKY_USERS, user(4), user(5)]
        messages = [record("users", u, offset=i) for i, u in enumerate(users[:3])]
        messages += [state("users", 3), record("events", event(1)), record("events", event(2))]
        messages += [state("events", 2), *(record("users", u, offset=9) for u in users[3:])]
        messages += [state("users", 5)]
        result = written(target, tmp_path, lines(*messages))
        # Every state comes back, unchanged and in order.
        assert [line for line in result.lines if b'"STATE"' in line] == [
            m for m in messages if b'"type":"STATE"' in m
        ]
        got = by(target.rows("users"), "id")
        assert set(got) == {u["id"] for u in users}
        for i, sent in enumerate(users):
            row = got[sent["id"]]
            assert row["data"] == without_nulls(sent)
            for key, value in without_nulls(sent).items():
                assert type(row["data"][key]) is type(value), key
            assert row["_airbyte_extracted_at"] == EMITTED_AT + (i if i < 3 else 9)
            assert row["_airbyte_meta"] == {"changes": [], "sync_id": SYNC_ID}
            assert row["_airbyte_generation_id"] == GENERATION_ID
            assert str(uuid.UUID(row["_airbyte_raw_id"])) == row["_airbyte_raw_id"]
        assert len({row["_airbyte_raw_id"] for row in got.values()}) == len(users)
        events = by(target.rows("events"), "event_id")
        assert {k: r["data"] for k, r in events.items()} == {1: event(1), 2: event(2)}

    def test_record_meta_changes_from_the_source_are_kept(
        self, target: Target, tmp_path: Path
    ) -> None:
        change = {"field": "name", "change": "TRUNCATED", "reason": "SOURCE_FIELD_SIZE_LIMITATION"}
        message = record("users", user(1), meta={"changes": [change]})
        written(target, tmp_path, lines(message), streams=["users"])
        (row,) = target.rows("users")
        assert row["_airbyte_meta"] == {"changes": [change], "sync_id": SYNC_ID}

    def test_odd_property_names_round_trip(self, target: Target, tmp_path: Path) -> None:
        stream = "odd stream-name"
        data = {"key": 1, **{name: f"value of {name}" for name in ODD_NAMES}}
        data.update({"n'um": 2.5, 'ob"j': {'in"ner': [1, "x"]}, 'un"known': True})
        written(target, tmp_path, lines(record(stream, data)), streams=[stream])
        (row,) = target.rows(stream)
        assert row["data"] == data

    def test_a_record_bigger_than_one_read_is_written_whole(
        self, target: Target, tmp_path: Path
    ) -> None:
        big = user(1, name="x" * 3_000_000 + "é")  # spans several 1 MiB reads of stdin
        written(target, tmp_path, lines(record("users", big), record("users", user(2))))
        assert [r["data"] for r in target.rows("users")] == [
            without_nulls(big),
            without_nulls(user(2)),
        ]

    def test_overwrite_replaces_the_previous_data(self, target: Target, tmp_path: Path) -> None:
        first = [record("users", user(i)) for i in (1, 2, 3)] + [record("events", event(1))]
        written(target, tmp_path, lines(*first, state("users", 1)), mode="overwrite")
        assert len(target.rows("users")) == 3
        written(target, tmp_path, lines(record("users", user(9))), mode="overwrite")
        assert [r["data"]["id"] for r in target.rows("users")] == [9]
        assert target.rows("events") == []  # no records this time: an empty stream
        assert target.leftovers() == []

    def test_append_adds_to_the_previous_data(self, target: Target, tmp_path: Path) -> None:
        written(target, tmp_path, lines(record("users", user(1)), record("users", user(2))))
        written(target, tmp_path, lines(record("users", user(2)), record("users", user(3))))
        assert sorted(r["data"]["id"] for r in target.rows("users")) == [1, 2, 2, 3]

    @pytest.mark.parametrize("batches", [1, 2])
    def test_append_dedup_keeps_the_newest_cursor_per_key(
        self, target: Target, tmp_path: Path, batches: int
    ) -> None:
        t = "2024-01-0{}T00:00:00Z".format
        first = [record("users", user(i, t(5))) for i in (1, 2, 3)]
        written(target, tmp_path, lines(*first), mode="append_dedup", streams=["users"])
        second = [
            record("users", user(1, t(4), name="older, loses")),
            record("users", user(2, t(6), name="newer")),
            record("users", user(2, t(7), name="newest")),
            record("users", user(2, t(6), name="late but older")),
            record("users", user(3, t(5), name="same cursor, later arrival")),
            record("users", user(4, t(1))),
        ]
        # With batches of 3 records the same records cross two commits of one run.
        env = {"SLUICE_BATCH_RECORDS": "3"} if batches == 2 else {}
        written(target, tmp_path, lines(*second), "append_dedup", env, streams=["users"])
        rows = target.rows("users")
        assert sorted(r["data"]["id"] for r in rows) == [1, 2, 3, 4]
        got = {r["data"]["id"]: r["data"]["name"] for r in rows}
        assert got == {1: "user 1", 2: "newest", 3: "same cursor, later arrival", 4: "user 4"}

    def test_append_dedup_without_cursor_keeps_the_latest_arrival(
        self, target: Target, tmp_path: Path
    ) -> None:
        messages = [record("events", {**event(1), "kind": k}) for k in ("a", "b", "c")]
        written(target, tmp_path, lines(*messages[:2]), mode="append_dedup", streams=["events"])
        written(target, tmp_path, lines(messages[2]), mode="append_dedup", streams=["events"])
        assert [r["data"]["kind"] for r in target.rows("events")] == ["c"]

    def test_namespace_keeps_streams_apart(self, target: Target, tmp_path: Path) -> None:
        ns = f"crm_{uuid.uuid4().hex[:6]}"
        message = record("users", user(1), namespace=ns)
        written(target, tmp_path, lines(message), streams=["users"], namespace=ns)
        assert [r["data"]["id"] for r in target.rows("users", ns)] == [1]
        assert target.rows("users") == []

    def test_each_state_is_echoed_only_after_its_records_are_committed(
        self, target: Target, tmp_path: Path
    ) -> None:
        """Feed records and a state, wait for the state to come back, then kill the
        destination: whatever preceded the state must already be in storage."""
        running = Running(target, tmp_path, catalog("append", streams=["users"]))
        try:
            running.send(*(record("users", user(i)) for i in range(1, 4)), state("users", 3))
            assert running.next_state() == state("users", 3)
            running.send(record("users", user(4)), state("users", 4), record("users", user(5)))
            assert running.next_state() == state("users", 4)
        finally:
            running.kill()
        ids = sorted(r["data"]["id"] for r in target.rows("users"))
        assert ids[:4] == [1, 2, 3, 4]  # user 5 may or may not have been committed

    def test_a_killed_overwrite_keeps_the_old_data(self, target: Target, tmp_path: Path) -> None:
        written(target, tmp_path, lines(record("users", user(1))), "overwrite", streams=["users"])
        running = Running(target, tmp_path, catalog("overwrite", streams=["users"]))
        try:
            running.send(record("users", user(7)), record("users", user(8)), state("users", 2))
            running.next_state()  # the new records are committed, not yet swapped in
        finally:
            running.kill()
        assert [r["data"]["id"] for r in target.rows("users")] == [1]
        written(target, tmp_path, lines(record("users", user(9))), "overwrite", streams=["users"])
        assert [r["data"]["id"] for r in target.rows("users")] == [9]
        assert target.leftovers() == []

    def test_an_incomplete_stream_status_keeps_the_old_data(
        self, target: Target, tmp_path: Path
    ) -> None:
        written(target, tmp_path, lines(record("users", user(1))), "overwrite", streams=["users"])
        messages = [stream_status("users", "STARTED"), record("users", user(2))]
        messages.append(stream_status("users", "INCOMPLETE"))
        written(target, tmp_path, lines(*messages), "overwrite", streams=["users"])
        assert [r["data"]["id"] for r in target.rows("users")] == [1]
        messages[-1] = stream_status("users", "COMPLETE")
        written(target, tmp_path, lines(*messages), "overwrite", streams=["users"])
        assert [r["data"]["id"] for r in target.rows("users")] == [2]

    def test_a_record_of_an_unknown_stream_fails_clearly(
        self, target: Target, tmp_path: Path
    ) -> None:
        messages = lines(record("users", user(1)), record("payments", {"id": 1}))
        result = write(target, tmp_path, messages, catalog(streams=["users"]))
        assert result.returncode == 1
        (error,) = result.errors
        assert "payments" in error["message"]
        assert "not in the configured catalog" in error["message"]

    def test_a_line_that_is_not_a_message_fails_clearly(
        self, target: Target, tmp_path: Path
    ) -> None:
        messages = lines(record("users", user(1))) + b"this is not json\n"
        result = write(target, tmp_path, messages, catalog(streams=["users"]))
        assert result.returncode == 1
        (error,) = result.errors
        assert "line 2 is not an Airbyte message" in error["message"]


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
