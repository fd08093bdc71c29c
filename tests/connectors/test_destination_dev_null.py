"""destination-dev-null, run as a program: spec, check, write with every test destination type,
and the order in which it echoes states."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

import msgspec
import pytest

from tests.connectors.programs import command, executable, write_json

NAME = "destination-dev-null"
CATALOG = {
    "streams": [
        {
            "stream": {"name": "s", "json_schema": {}, "supported_sync_modes": ["full_refresh"]},
            "sync_mode": "full_refresh",
            "destination_sync_mode": "append",
        }
    ]
}


def record(n: int) -> bytes:
    return b'{"type":"RECORD","record":{"stream":"s","emitted_at":1,"data":{"id":%d}}}' % n


def state(n: int) -> bytes:
    return (
        b'{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"s"},'
        b'"stream_state":{"updated_at":%d}}}}' % n
    )


def messages(count: int, every: int) -> list[bytes]:
    """`count` records with a state after every `every` of them."""
    lines = []
    for n in range(1, count + 1):
        lines.append(record(n))
        if n % every == 0:
            lines.append(state(n))
    return lines


def write(tmp: Path, config: dict[str, Any], lines: list[bytes], **kwargs: Any) -> Any:
    stdin = b"".join(line + b"\n" for line in lines)
    return command(NAME, "write", tmp, config=config, catalog=CATALOG, stdin=stdin, **kwargs)


def test_spec_declares_sync_modes_and_test_destination_types(tmp_path: Path) -> None:
    spec = command(NAME, "spec", tmp_path).one("SPEC")["spec"]
    assert spec["supported_destination_sync_modes"] == ["overwrite", "append", "append_dedup"]
    one_of = spec["connectionSpecification"]["properties"]["test_destination"]["oneOf"]
    types = [o["properties"]["test_destination_type"]["enum"][0] for o in one_of]
    assert types == ["SILENT", "LOGGING", "THROTTLED", "FAILING"]


@pytest.mark.parametrize(
    "config",
    [
        {},
        {"test_destination": {"test_destination_type": "SILENT"}},
        {"test_destination": {"test_destination_type": "THROTTLED", "millis_per_record": 1}},
        {"test_destination": {"test_destination_type": "FAILING", "num_messages": 3}},
        {
            "test_destination": {
                "test_destination_type": "LOGGING",
                "logging_config": {"logging_type": "FirstN", "max_entry_count": 5},
            }
        },
    ],
)
def test_check_accepts_airbyte_configs(tmp_path: Path, config: dict[str, Any]) -> None:
    result = command(NAME, "check", tmp_path, config=config)
    assert result.one("CONNECTION_STATUS")["connectionStatus"]["status"] == "SUCCEEDED"


@pytest.mark.parametrize(
    ("config", "words"),
    [
        ({"test_destination": {"test_destination_type": "NOPE"}}, "test_destination_type"),
        ({"test_destination": {"test_destination_type": "FAILING"}}, "num_messages"),
        (
            {"test_destination": {"test_destination_type": "THROTTLED", "millis_per_record": -1}},
            "millis_per_record",
        ),
        ({"test_destination": "SILENT"}, "$.test_destination"),
    ],
)
def test_check_refuses_bad_configs(tmp_path: Path, config: dict[str, Any], words: str) -> None:
    result = command(NAME, "check", tmp_path, config=config)
    assert result.returncode == 0
    status = result.one("CONNECTION_STATUS")["connectionStatus"]
    assert status["status"] == "FAILED"
    assert words in status["message"]


def test_silent_echoes_every_state_in_order(tmp_path: Path) -> None:
    lines = messages(1000, 100)
    result = write(tmp_path, {}, lines)
    assert result.returncode == 0, result.stderr
    echoed = [line for line in result.lines if line.startswith(b'{"type":"STATE"')]
    assert echoed == [line for line in lines if line.startswith(b'{"type":"STATE"')]
    assert "discarded 1000 records, echoed 10 states" in result.one("LOG")["log"]["message"]


def test_states_are_echoed_as_received_whatever_their_layout(tmp_path: Path) -> None:
    """Messages from other writers: other key order, spaces. Records count, states come back
    byte for byte."""
    spaced_state = b'{ "state": {"type": "LEGACY", "data": {"x": 1}}, "type": "STATE" }'
    lines = [
        b'{"record": {"stream": "s", "data": {"id": 1}, "emitted_at": 1}, "type": "RECORD"}',
        b'{"type": "RECORD", "record": {"stream": "s", "data": {"id": 2}, "emitted_at": 1}}',
        b'{"type":"LOG","log":{"level":"INFO","message":"passing through"}}',
        spaced_state,
        b"",
    ]
    result = write(tmp_path, {}, lines)
    assert result.returncode == 0
    assert result.lines[0] == spaced_state
    assert "discarded 2 records, echoed 1 states" in result.lines[-1].decode()


def test_a_state_is_echoed_as_soon_as_what_precedes_it_is_consumed(tmp_path: Path) -> None:
    """The destination answers each state while its input is still open: states are
    acknowledged as they come, not at the end."""
    config = write_json(tmp_path / "c.json", {})
    catalog = write_json(tmp_path / "cat.json", CATALOG)
    with subprocess.Popen(
        [executable(NAME), "write", "--config", config, "--catalog", catalog],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    ) as proc:
        assert proc.stdin is not None and proc.stdout is not None
        for batch in range(3):
            chunk = messages(50, 50)
            chunk[-1] = state(batch)
            proc.stdin.write(b"".join(line + b"\n" for line in chunk))
            proc.stdin.flush()
            assert proc.stdout.readline().rstrip(b"\n") == state(batch)
        proc.stdin.close()
        rest = proc.stdout.read()
        assert proc.wait(timeout=10) == 0
    assert b"discarded 150 records, echoed 3 states" in rest


def test_failing_fails_after_n_records_with_earlier_states_echoed(tmp_path: Path) -> None:
    config = {"test_destination": {"test_destination_type": "FAILING", "num_messages": 25}}
    result = write(tmp_path, config, messages(100, 10))
    assert result.returncode == 1
    assert result.states == [
        msgspec.json.decode(state(10))["state"],
        msgspec.json.decode(state(20))["state"],
    ]
    (error,) = result.errors
    assert "after 25 records" in error["message"]
    assert result.messages[-1]["type"] == "TRACE"


def test_throttled_slows_consumption_per_record_and_per_batch(tmp_path: Path) -> None:
    per_record = {
        "test_destination": {"test_destination_type": "THROTTLED", "millis_per_record": 20}
    }
    started = time.monotonic()
    assert write(tmp_path, per_record, messages(20, 10)).returncode == 0
    assert time.monotonic() - started >= 0.4
    per_batch = {
        "test_destination": {
            "test_destination_type": "THROTTLED",
            "millis_per_batch": 200,
            "batch_size": 10,
        }
    }
    started = time.monotonic()
    result = write(tmp_path, per_batch, messages(30, 10))
    assert time.monotonic() - started >= 0.6
    assert len(result.states) == 3


def test_logging_logs_every_nth_record(tmp_path: Path) -> None:
    config = {
        "test_destination": {
            "test_destination_type": "LOGGING",
            "logging_config": {
                "logging_type": "EveryNth",
                "nth_entry_to_log": 3,
                "max_entry_count": 2,
            },
        }
    }
    result = write(tmp_path, config, messages(10, 5))
    logged = [m["log"]["message"] for m in result.of("LOG")][:-1]
    assert logged == [
        'record 3: {"stream":"s","emitted_at":1,"data":{"id":3}}',
        'record 6: {"stream":"s","emitted_at":1,"data":{"id":6}}',
    ]


def test_a_line_that_is_not_json_fails_the_write(tmp_path: Path) -> None:
    result = write(tmp_path, {}, [record(1), b"this is not JSON", state(1)])
    assert result.returncode == 1
    assert "not JSON" in result.errors[0]["message"]
    assert result.states == []
