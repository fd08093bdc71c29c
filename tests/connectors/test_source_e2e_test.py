"""source-e2e-test, run as a program: spec, check, discover, read (full refresh, incremental
with state) and every fault mode."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

import jsonschema
import msgspec
import pytest

from tests.connectors.programs import Result, command, configured_catalog

NAME = "source-e2e-test"


def discover(tmp: Path, config: dict[str, Any]) -> list[dict[str, Any]]:
    result = command(NAME, "discover", tmp, config=config)
    assert result.returncode == 0, result.stderr
    streams: list[dict[str, Any]] = result.one("CATALOG")["catalog"]["streams"]
    return streams


def read(
    tmp: Path,
    config: dict[str, Any],
    sync_mode: str = "full_refresh",
    state: Any = None,
    **kwargs: Any,
) -> Result:
    catalog = configured_catalog(discover(tmp, config), sync_mode)
    return command(NAME, "read", tmp, config=config, catalog=catalog, state=state, **kwargs)


def test_spec_declares_the_airbyte_e2e_properties(tmp_path: Path) -> None:
    result = command(NAME, "spec", tmp_path)
    assert result.returncode == 0
    spec = result.one("SPEC")["spec"]
    properties = spec["connectionSpecification"]["properties"]
    for name in ("type", "max_messages", "seed", "message_interval_ms", "mock_catalog", "fault"):
        assert name in properties
    assert properties["fault"]["properties"]["mode"]["enum"] == [
        "fail",
        "crash",
        "garbage",
        "hang",
        "huge_line",
    ]


@pytest.mark.parametrize(
    "config",
    [
        {},
        {"max_messages": 10, "seed": 42},
        {  # Airbyte's own continuous-feed configuration, unchanged
            "type": "CONTINUOUS_FEED",
            "max_messages": 100,
            "mock_catalog": {
                "type": "SINGLE_STREAM",
                "stream_name": "data_stream",
                "stream_schema": '{"type":"object","properties":{"column1":{"type":"string"}}}',
                "stream_duplication": 1,
            },
        },
        {
            "mock_catalog": {
                "type": "MULTI_STREAM",
                "stream_schemas": '{"a":{"type":"object","properties":{}},"b":{}}',
            }
        },
        {"type": "EXCEPTION_AFTER_N", "throw_after_n_records": 3},
    ],
)
def test_check_accepts_good_configs(tmp_path: Path, config: dict[str, Any]) -> None:
    result = command(NAME, "check", tmp_path, config=config)
    assert result.returncode == 0
    assert result.one("CONNECTION_STATUS")["connectionStatus"] == {"status": "SUCCEEDED"}


@pytest.mark.parametrize(
    ("config", "words"),
    [
        ({"max_messages": "ten"}, "$.max_messages"),
        ({"max_messages": -1}, "$.max_messages"),
        ({"type": "SOMETHING"}, "$.type"),
        ({"mock_catalog": {"type": "MULTI_STREAM", "stream_schemas": "{not json"}}, "not valid"),
        ({"mock_catalog": {"type": "MULTI_STREAM", "stream_schemas": "{}"}}, "names no stream"),
        ({"mock_catalog": {"type": "NOPE"}}, "$.mock_catalog"),
        ({"fault": {"mode": "explode"}}, "$.fault.mode"),
        ({"state_checkpoint_interval": 0}, "$.state_checkpoint_interval"),
        ({"type": "EXCEPTION_AFTER_N"}, "throw_after_n_records"),
    ],
)
def test_check_refuses_bad_configs(tmp_path: Path, config: dict[str, Any], words: str) -> None:
    result = command(NAME, "check", tmp_path, config=config)
    assert result.returncode == 0  # a failed check is a status, not a crash
    status = result.one("CONNECTION_STATUS")["connectionStatus"]
    assert status["status"] == "FAILED"
    assert words in status["message"]


def test_discover_declares_cursor_key_and_stream_names(tmp_path: Path) -> None:
    config = {
        "mock_catalog": {"type": "SINGLE_STREAM", "stream_name": "ds", "stream_duplication": 3}
    }
    streams = discover(tmp_path, config)
    assert [s["name"] for s in streams] == ["ds_0", "ds_1", "ds_2"]
    for stream in streams:
        assert stream["supported_sync_modes"] == ["full_refresh", "incremental"]
        assert stream["source_defined_cursor"] is True
        assert stream["default_cursor_field"] == ["updated_at"]
        assert stream["source_defined_primary_key"] == [["id"]]
        assert stream["json_schema"]["properties"]["id"] == {"type": "integer"}
    multi = {
        "mock_catalog": {
            "type": "MULTI_STREAM",
            "stream_schemas": '{"users":{"type":"object","properties":{"n":{"type":"string"}}},'
            '"orders":{"type":"object","properties":{"total":{"type":"number"}}}}',
        }
    }
    streams = discover(tmp_path, multi)
    assert [s["name"] for s in streams] == ["users", "orders"]
    assert set(streams[1]["json_schema"]["properties"]) == {"id", "updated_at", "total"}


def test_full_refresh_emits_every_record_with_periodic_state(tmp_path: Path) -> None:
    config = {"max_messages": 25, "state_checkpoint_interval": 10, "seed": 7}
    result = read(tmp_path, config)
    assert result.returncode == 0, result.stderr
    assert [r["data"]["id"] for r in result.records] == list(range(1, 26))
    assert all(r["stream"] == "data_stream" for r in result.records)
    states = result.states
    assert [s["stream"]["stream_state"] for s in states] == [
        {"updated_at": 10},
        {"updated_at": 20},
        {"updated_at": 25},
    ]
    assert [s["sourceStats"]["recordCount"] for s in states] == [10.0, 10.0, 5.0]
    assert states[0]["type"] == "STREAM"
    assert states[0]["stream"]["stream_descriptor"] == {"name": "data_stream"}
    statuses = [m["trace"]["stream_status"]["status"] for m in result.of("TRACE")]
    assert statuses == ["STARTED", "COMPLETE"]
    # Each state follows exactly the records it covers.
    kinds = [m["type"] for m in result.messages if m["type"] in ("RECORD", "STATE")]
    assert kinds.index("STATE") == 10


def test_records_match_the_schema_and_the_seed(tmp_path: Path) -> None:
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "score": {"type": ["null", "integer"]},
            "ratio": {"type": "number"},
            "ok": {"type": "boolean"},
            "seen": {"type": "string", "format": "date-time"},
        },
    }
    config: dict[str, Any] = {
        "max_messages": 200,
        "seed": 3,
        "mock_catalog": {
            "type": "SINGLE_STREAM",
            "stream_name": "things",
            "stream_schema": msgspec.json.encode(schema).decode(),
        },
    }
    first = read(tmp_path, config)
    discovered = discover(tmp_path, config)[0]["json_schema"]
    for record in first.records:
        jsonschema.validate(record["data"], discovered)
    again = read(tmp_path, config)
    data = [r["data"] for r in first.records]
    assert data == [r["data"] for r in again.records]  # same seed, same data
    other = read(tmp_path, {**config, "seed": 4})
    assert data != [r["data"] for r in other.records]
    assert len({r["data"]["name"] for r in first.records}) > 50  # varied, not one value


@pytest.mark.parametrize("size", [200, 1000, 5000])
def test_record_size_is_about_the_configured_bytes(tmp_path: Path, size: int) -> None:
    result = read(tmp_path, {"max_messages": 500, "record_size_bytes": size})
    sizes = [len(msgspec.json.encode(r["data"])) for r in result.records]
    assert size * 0.9 <= sum(sizes) / len(sizes) <= size * 1.05


def test_incremental_reads_only_records_after_the_state(tmp_path: Path) -> None:
    config = {"max_messages": 12, "state_checkpoint_interval": 5, "seed": 1}
    first = read(tmp_path, config, "incremental")
    assert [r["data"]["id"] for r in first.records] == list(range(1, 13))
    last = first.states[-1]
    assert last["stream"]["stream_state"] == {"updated_at": 12}

    # Same count, saved state: nothing new, the state is repeated.
    same = read(tmp_path, config, "incremental", state=[last])
    assert same.returncode == 0
    assert same.records == []
    assert [s["stream"]["stream_state"] for s in same.states] == [{"updated_at": 12}]

    # A larger count: only the new records, with the data a full read would give them.
    grown = read(tmp_path, {**config, "max_messages": 20}, "incremental", state=[last])
    assert [r["data"]["id"] for r in grown.records] == list(range(13, 21))
    full = read(tmp_path, {**config, "max_messages": 20})
    assert [r["data"] for r in grown.records] == [r["data"] for r in full.records][12:]
    assert grown.states[-1]["stream"]["stream_state"] == {"updated_at": 20}

    # Full refresh ignores the state.
    assert len(read(tmp_path, config, "full_refresh", state=[last]).records) == 12


def test_incremental_state_is_per_stream(tmp_path: Path) -> None:
    config = {
        "max_messages": 6,
        "mock_catalog": {"type": "SINGLE_STREAM", "stream_name": "s", "stream_duplication": 2},
    }
    state = [
        {
            "type": "STREAM",
            "stream": {"stream_descriptor": {"name": "s_1"}, "stream_state": {"updated_at": 4}},
        }
    ]
    result = read(tmp_path, config, "incremental", state=state)
    ids = {
        name: [r["data"]["id"] for r in result.records if r["stream"] == name]
        for name in ("s_0", "s_1")
    }
    assert ids == {"s_0": [1, 2, 3, 4, 5, 6], "s_1": [5, 6]}


def test_catalog_subset_and_unknown_stream(tmp_path: Path) -> None:
    config = {
        "max_messages": 3,
        "mock_catalog": {"type": "SINGLE_STREAM", "stream_name": "s", "stream_duplication": 3},
    }
    streams = discover(tmp_path, config)
    catalog = configured_catalog([streams[2]])
    result = command(NAME, "read", tmp_path, config=config, catalog=catalog)
    assert {r["stream"] for r in result.records} == {"s_2"}
    catalog = configured_catalog([{**streams[0], "name": "missing"}])
    bad = command(NAME, "read", tmp_path, config=config, catalog=catalog)
    assert bad.returncode == 1
    assert bad.errors[0]["failure_type"] == "config_error"
    assert "missing" in bad.errors[0]["message"]


def test_fault_fail_emits_a_trace_error_after_n_records(tmp_path: Path) -> None:
    result = read(tmp_path, {"max_messages": 100, "fault": {"mode": "fail", "after_records": 7}})
    assert result.returncode == 1
    assert len(result.records) == 7
    (error,) = result.errors
    assert error["failure_type"] == "system_error"
    assert "after 7 records" in error["message"]
    assert result.messages[-1]["type"] == "TRACE"  # nothing after the error


def test_legacy_exception_after_n(tmp_path: Path) -> None:
    result = read(tmp_path, {"type": "EXCEPTION_AFTER_N", "throw_after_n_records": 4})
    assert result.returncode == 1
    assert len(result.records) == 4
    assert len(result.errors) == 1


def test_fault_crash_exits_1_without_a_trace(tmp_path: Path) -> None:
    result = read(tmp_path, {"max_messages": 100, "fault": {"mode": "crash", "after_records": 5}})
    assert result.returncode == 1
    assert len(result.records) == 5
    assert result.errors == []
    assert "crashing" in result.stderr


def test_fault_garbage_prints_one_non_json_line(tmp_path: Path) -> None:
    config = {"max_messages": 10, "fault": {"mode": "garbage", "after_records": 4}}
    result = read(tmp_path, config)
    assert result.returncode == 0
    bad = []
    for index, line in enumerate(result.lines):
        try:
            msgspec.json.decode(line)
        except msgspec.DecodeError:
            bad.append(index)
    assert len(bad) == 1
    before = result.lines[: bad[0]]
    assert sum(line.startswith(b'{"type":"RECORD"') for line in before) == 4
    assert len(result.records) == 10  # the source goes on after the bad line


def test_fault_hang_sleeps_until_killed(tmp_path: Path) -> None:
    config = {"max_messages": 100, "fault": {"mode": "hang", "after_records": 6}}
    catalog = configured_catalog(discover(tmp_path, config))
    started = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired) as hung:
        command(NAME, "read", tmp_path, config=config, catalog=catalog, timeout=3)
    assert time.monotonic() - started >= 3
    output = hung.value.stdout or b""
    assert output.count(b'{"type":"RECORD"') == 6  # flushed before hanging


def test_fault_huge_line_has_the_configured_size(tmp_path: Path) -> None:
    size = 70 * 1024 * 1024
    config = {
        "max_messages": 5,
        "fault": {"mode": "huge_line", "after_records": 2, "line_bytes": size},
    }
    result = read(tmp_path, config)
    assert result.returncode == 0
    sizes = [len(line) for line in result.lines]
    huge = [i for i, n in enumerate(sizes) if n > 1000]
    assert [sizes[i] for i in huge] == [size]
    message = msgspec.json.decode(result.lines[huge[0]])  # a valid RECORD message
    assert message["type"] == "RECORD"
    assert message["record"]["data"]["id"] == 2
    assert [r["data"]["id"] for r in result.records] == [1, 2, 2, 3, 4, 5]


def test_message_interval_spaces_records(tmp_path: Path) -> None:
    started = time.monotonic()
    result = read(tmp_path, {"max_messages": 4, "message_interval_ms": 150})
    assert len(result.records) == 4
    assert time.monotonic() - started >= 0.6


def _docker(image: str, data: Path, *args: str) -> list[str]:
    return ["docker", "run", "--rm", "-i", "--network", "none", "-v", f"{data}:/data", image, *args]


@pytest.mark.docker
@pytest.mark.usefixtures("connector_images")
def test_images_sync_end_to_end(tmp_path: Path) -> None:
    """source-e2e-test | destination-dev-null as containers: every state comes back in order,
    and a second incremental run from the last echoed state moves only the new records."""
    source, dest = "sluice/source-e2e-test:0.1.0", "sluice/destination-dev-null:0.1.0"
    tmp_path.chmod(0o755)  # the connectors run as the image's `airbyte` user
    config = {"max_messages": 5000, "state_checkpoint_interval": 1000, "seed": 9}
    catalog = configured_catalog(discover(tmp_path, config), "incremental")
    for name, value in [
        ("source.json", config),
        ("catalog.json", catalog),
        ("dest.json", {"test_destination": {"test_destination_type": "SILENT"}}),
    ]:
        (tmp_path / name).write_bytes(msgspec.json.encode(value))

    def sync(*state_args: str) -> list[dict[str, Any]]:
        read = [*_docker(source, tmp_path, "read"), "--config", "/data/source.json"]
        write = [*_docker(dest, tmp_path, "write"), "--config", "/data/dest.json"]
        with subprocess.Popen(
            [*read, "--catalog", "/data/catalog.json", *state_args], stdout=subprocess.PIPE
        ) as src:
            assert src.stdout is not None
            with subprocess.Popen(
                [*write, "--catalog", "/data/catalog.json"],
                stdin=src.stdout,
                stdout=subprocess.PIPE,
            ) as dst:
                src.stdout.close()
                output, _ = dst.communicate(timeout=120)
            assert src.wait(timeout=60) == 0
        assert dst.returncode == 0
        return [msgspec.json.decode(line) for line in output.splitlines()]

    first = sync()
    states = [m["state"] for m in first if m["type"] == "STATE"]
    assert [s["stream"]["stream_state"]["updated_at"] for s in states] == [
        1000,
        2000,
        3000,
        4000,
        5000,
    ]
    assert "discarded 5000 records, echoed 5 states" in first[-1]["log"]["message"]

    (tmp_path / "source.json").write_bytes(msgspec.json.encode({**config, "max_messages": 6500}))
    (tmp_path / "state.json").write_bytes(msgspec.json.encode([states[-1]]))
    second = sync("--state", "/data/state.json")
    assert "discarded 1500 records, echoed 2 states" in second[-1]["log"]["message"]
