"""The relay itself (`run_attempt`), driven with real connector programs: source-e2e-test into
destination-dev-null and destination-sqlite, and one fault-injecting destination fixture
(tests/fixtures/relay_destination.py) for what a correct destination never does."""

from __future__ import annotations

import io
import sqlite3
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import msgspec
import pytest

from server.jobs.plan import source_catalog
from server.protocol import StreamDescriptor
from server.runner.base import ConnectorImage
from server.runner.lines import LineTooLong
from server.settings import Settings
from server.sync.attempt_log import AttemptLog
from server.sync.catalog import Namespacing, destination_catalog
from server.sync.checkpoints import Checkpoints
from server.sync.chunks import iter_chunks
from server.sync.messages import Observations
from server.sync.pump import SourcePump
from tests.support.relay import (
    DEV_NULL,
    FAULTY,
    FAULTY_SOURCE,
    ITEMS,
    SQLITE,
    Run,
    api_catalog,
    assert_nothing_left,
    run,
)

TWO_STREAMS = {
    "type": "MULTI_STREAM",
    "stream_schemas": {
        "users": {"type": "object", "properties": {"name": {"type": "string"}}},
        "orders": {"type": "object", "properties": {"amount": {"type": "number"}}},
    },
}


def data_sizes(source_config: dict[str, Any], catalog_path: Path) -> dict[str, tuple[int, int]]:
    """Records and bytes of `data` per stream, from the source's own output, parsed here."""
    config_path = catalog_path.with_name("source.json")
    config_path.write_bytes(msgspec.json.encode(source_config))
    out = subprocess.run(
        ["source-e2e-test", "read", "--config", str(config_path), "--catalog", str(catalog_path)],
        capture_output=True,
        check=True,
    ).stdout
    sizes: dict[str, tuple[int, int]] = {}
    for line in out.splitlines():
        message = msgspec.json.decode(line, type=dict[str, msgspec.Raw])
        if msgspec.json.decode(message["type"]) != "RECORD":
            continue
        record = msgspec.json.decode(message["record"], type=dict[str, msgspec.Raw])
        name = msgspec.json.decode(record["stream"])
        count, size = sizes.get(name, (0, 0))
        sizes[name] = (count + 1, size + len(bytes(record["data"])))
    return sizes


def run_fault_source(tmp_path: Path, config: dict[str, Any], **options: Any) -> Run:
    """`run` with the fault source (tests/fixtures/relay_source.py) and its one stream, into
    the gate destination, which echoes every state."""
    return run(
        tmp_path,
        config,
        FAULTY,
        {"mode": "gate", "gate_path": str(tmp_path)},
        source=FAULTY_SOURCE,
        sync_catalog=ITEMS,
        **options,
    )


def e2e(records: int, **extra: Any) -> dict[str, Any]:
    return {"type": "CONTINUOUS_FEED", "max_messages": records, "seed": 3, **extra}


# --- counting and state --------------------------------------------------------------------


def test_counts_records_and_bytes_per_stream_and_merges_stream_states(tmp_path: Path) -> None:
    config = e2e(2500, mock_catalog=TWO_STREAMS, state_checkpoint_interval=1000)
    other = {
        "type": "STREAM",
        "stream": {"stream_descriptor": {"name": "deselected"}, "stream_state": {"k": 1}},
    }
    done = run(tmp_path, config, input_state=[other])
    result = done.result
    assert result.succeeded and not result.failures, done.log

    catalog = tmp_path / "catalog.json"
    streams = [
        {
            "stream": {"name": n, "json_schema": {}, "supported_sync_modes": ["incremental"]},
            "sync_mode": "incremental",
            "destination_sync_mode": "append",
        }
        for n in ("users", "orders")
    ]
    catalog.write_bytes(msgspec.json.encode({"streams": streams}))
    expected = data_sizes(config, catalog)
    for name in ("users", "orders"):
        stats = done.stats(name)
        assert (stats["recordsEmitted"], stats["bytesEmitted"]) == expected[name]
        assert stats["recordsCommitted"] == expected[name][0]
        assert stats["stateMessagesEmitted"] == 3  # at 1000, 2000 and the end (2500)
    assert result.stats.records_emitted == 5000
    assert result.stats.bytes_emitted == sum(size for _, size in expected.values())
    assert result.stats.state_messages_emitted == 6

    # Every echoed state was committed; the last full state merges per stream and keeps the
    # state of the stream this sync did not read.
    assert len(done.commits) == 6
    final = {s["stream"]["stream_descriptor"]["name"]: s["stream"] for s in done.commits[-1]}
    assert final["users"]["stream_state"] == {"updated_at": 2500}
    assert final["orders"]["stream_state"] == {"updated_at": 2500}
    assert final["deselected"]["stream_state"] == {"k": 1}
    assert done.progress and done.progress[-1].records_emitted == 5000
    assert "Sync attempt succeeded" in done.log
    assert_nothing_left(done.started)


def test_state_is_committed_only_after_the_destination_echoes_it(tmp_path: Path) -> None:
    """The fault fixture holds each echo until the gate file exists: all states reach it, and
    nothing is committed until it echoes them."""
    gate = tmp_path / "gate"
    commits: list[list[dict[str, Any]]] = []
    outcome: list[Run] = []
    config = e2e(300, state_checkpoint_interval=100)
    worker = threading.Thread(
        target=lambda: outcome.append(
            run(tmp_path, config, FAULTY, {"gate_path": str(gate)}, commits=commits)
        )
    )
    worker.start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not list(tmp_path.glob("attempt-*/attempt.log")):
        time.sleep(0.05)
    log = next(tmp_path.glob("attempt-*/attempt.log"))
    while time.monotonic() < deadline and "data_stream is COMPLETE" not in log.read_text():
        time.sleep(0.05)
    time.sleep(0.5)  # the source is done; its three states are at the destination
    assert commits == [] and not outcome
    gate.touch()
    worker.join(30)
    done = outcome[0]
    assert done.result.succeeded, done.log
    assert [c[0]["stream"]["stream_state"] for c in commits] == [
        {"updated_at": 100},
        {"updated_at": 200},
        {"updated_at": 300},
    ]


def test_saves_are_spaced_but_the_last_confirmed_state_is_always_saved(tmp_path: Path) -> None:
    settings = Settings(data_dir=str(tmp_path / "data"), state_commit_seconds=60)
    done = run(tmp_path, e2e(5000, state_checkpoint_interval=100), settings=settings)
    assert done.result.succeeded, done.log
    assert done.result.stats.state_messages_emitted == 50
    # The first confirmed state is saved at once, the rest wait: the last one is saved at the end.
    assert len(done.commits) == 2
    assert done.commits[-1][0]["stream"]["stream_state"] == {"updated_at": 5000}


def test_a_destination_that_never_echoes_commits_no_state(tmp_path: Path) -> None:
    done = run(tmp_path, e2e(300, state_checkpoint_interval=100), FAULTY, {"mode": "never"})
    assert done.result.succeeded, done.log
    assert done.commits == []
    assert done.result.stats.records_emitted == 300
    assert "0 of 3 states committed" in done.log
    # Succeeded, but not silently: the next incremental sync will start over.
    [warning] = done.result.warnings
    assert warning.failure_origin == "destination"
    assert warning.external_message == (
        "The destination committed 300 records but confirmed none of the 3 states the source "
        "sent: the connection's state was not saved, so the next incremental sync starts over "
        "(from the beginning)"
    )
    assert f"replication WARN {warning.external_message}" in done.log


def test_a_destination_that_confirms_its_states_gets_no_warning(tmp_path: Path) -> None:
    done = run(
        tmp_path,
        e2e(300, state_checkpoint_interval=100),
        FAULTY,
        {"mode": "gate", "gate_path": str(tmp_path)},
    )
    assert done.result.succeeded, done.log
    assert done.result.warnings == []


def test_an_echoed_state_that_was_never_sent_is_ignored(tmp_path: Path) -> None:
    done = run(tmp_path, e2e(200, state_checkpoint_interval=100), FAULTY, {"mode": "bogus"})
    assert done.result.succeeded, done.log
    assert "was not sent to it" in done.log
    states = [c[0]["stream"]["stream_state"] for c in done.commits]
    assert states == [{"updated_at": 100}, {"updated_at": 200}]  # never {"x": -1}


# --- faults ----------------------------------------------------------------------------------


def test_a_non_json_line_is_logged_and_dropped(tmp_path: Path) -> None:
    done = run(tmp_path, e2e(500, fault={"mode": "garbage", "after_records": 250}))
    assert done.result.succeeded, done.log
    assert done.result.stats.records_emitted == 500
    assert "(not a protocol message, dropped) fault injection: this line is not JSON" in done.log


def test_a_flood_of_lines_that_are_not_messages_keeps_the_log_small(tmp_path: Path) -> None:
    """200,000 garbage lines made a 40 MB attempt log: the first ones are kept, the rest
    only counted."""
    config = {"records": 30, "state_every": 10, "fault": "garbage", "garbage_lines": 200_000}
    done = run_fault_source(tmp_path, config)
    assert done.result.succeeded, done.log[-2000:]
    assert done.result.stats.records_emitted == 30
    assert done.log.count("(not a protocol message, dropped) this line is not") == 200
    assert "source WARN dropped 199,800 more lines that are not Airbyte messages" in done.log
    assert len(done.log.encode()) < 100_000


def test_a_line_nested_too_deeply_to_decode_is_dropped_not_a_crash(tmp_path: Path) -> None:
    """JSON nested deeper than msgspec's recursion limit raises RecursionError, not a
    DecodeError: the line is dropped as unreadable and the sync goes on."""
    config = {"records": 20, "state_every": 10, "fault": "deep_line", "depth": 100_000}
    done = run_fault_source(tmp_path, config)
    assert done.result.succeeded, done.log[-2000:]
    assert done.result.stats.records_emitted == 20
    assert "(not a protocol message, dropped)" in done.log


def test_a_trace_error_becomes_the_failure_reason(tmp_path: Path) -> None:
    config = e2e(1000, state_checkpoint_interval=100, fault={"mode": "fail", "after_records": 450})
    done = run(tmp_path, config)
    result = done.result
    assert not result.succeeded and not result.cancelled
    first = result.failures[0]
    assert first.failure_origin == "source"
    assert first.failure_type == "system_error"
    assert "fault injection: failing after 450 records" in first.external_message
    assert first.retryable is True and isinstance(first.timestamp, int)
    # What the destination confirmed before the failure stays committed.
    assert done.commits[-1][0]["stream"]["stream_state"] == {"updated_at": 400}
    assert result.stats.records_emitted == 450
    assert_nothing_left(done.started)


def test_a_source_that_exits_1_fails_with_origin_source(tmp_path: Path) -> None:
    done = run(tmp_path, e2e(300, fault={"mode": "crash", "after_records": 120}))
    result = done.result
    assert not result.succeeded
    assert [f.failure_origin for f in result.failures] == ["source"]
    assert "exit code 1" in result.failures[0].external_message
    assert "crashing after 120 records" in result.failures[0].internal_message
    assert "source ERROR fault injection: crashing" in done.log  # its stderr, in the log
    assert_nothing_left(done.started)


def test_a_failing_destination_fails_with_origin_destination(tmp_path: Path) -> None:
    failing = {"test_destination": {"test_destination_type": "FAILING", "num_messages": 500}}
    done = run(tmp_path, e2e(100_000), DEV_NULL, failing)
    result = done.result
    assert not result.succeeded
    assert result.failures[0].failure_origin == "destination"
    assert "failing after 500 records" in result.failures[0].external_message
    assert all(f.failure_origin != "source" for f in result.failures)
    assert_nothing_left(done.started)


def test_a_destination_that_quits_early_fails_the_attempt(tmp_path: Path) -> None:
    done = run(tmp_path, e2e(5000, message_interval_ms=5), FAULTY, {"mode": "quit"})
    result = done.result
    assert not result.succeeded
    assert [f.failure_origin for f in result.failures] == ["destination"]
    assert "stopped reading its input" in result.failures[0].external_message
    assert done.elapsed < 10  # the source (25 s of records) was stopped
    assert_nothing_left(done.started)


def test_a_huge_line_fails_the_attempt_clearly(tmp_path: Path) -> None:
    settings = Settings(data_dir=str(tmp_path / "data"), max_line_bytes=1 << 20)  # 1 MiB
    fault = {"mode": "huge_line", "after_records": 10, "line_bytes": 3 << 20}
    done = run(tmp_path, e2e(100, fault=fault), settings=settings)
    result = done.result
    assert not result.succeeded
    assert result.failures[0].failure_origin == "source"
    assert "longer than 1048576 bytes" in result.failures[0].external_message
    assert_nothing_left(done.started)


def test_a_long_line_within_the_bound_is_relayed(tmp_path: Path) -> None:
    settings = Settings(data_dir=str(tmp_path / "data"), max_line_bytes=8 << 20)
    fault = {"mode": "huge_line", "after_records": 10, "line_bytes": 3 << 20}
    done = run(tmp_path, e2e(100, fault=fault), settings=settings)
    assert done.result.succeeded, done.log
    assert done.result.stats.records_emitted == 101  # the 3 MiB record too
    assert done.result.stats.bytes_emitted > 3 << 20


def test_a_silent_source_fails_the_heartbeat(tmp_path: Path) -> None:
    settings = Settings(data_dir=str(tmp_path / "data"), heartbeat_seconds=1.5)
    done = run(tmp_path, e2e(1000, fault={"mode": "hang", "after_records": 50}), settings=settings)
    result = done.result
    assert not result.succeeded and not result.cancelled
    assert result.failures[0].failure_type == "heartbeat_timeout"
    assert result.failures[0].failure_origin == "source"
    assert "The source is unresponsive" in result.failures[0].external_message
    assert done.elapsed < 15
    assert_nothing_left(done.started)


@pytest.mark.slow
def test_a_slow_destination_does_not_count_as_a_silent_source(tmp_path: Path) -> None:
    """Blocked writing to a destination that pauses 2 s per 4000 records (more than the
    pipes hold), the relay is not waiting on the source: no heartbeat failure."""
    settings = Settings(data_dir=str(tmp_path / "data"), heartbeat_seconds=1.0)
    throttled = {
        "test_destination": {
            "test_destination_type": "THROTTLED",
            "millis_per_batch": 2000,
            "batch_size": 4000,
        }
    }
    done = run(tmp_path, e2e(12_000, record_size_bytes=500), DEV_NULL, throttled, settings=settings)
    assert done.result.succeeded, done.log
    assert done.elapsed > 4  # it did wait on the destination


def test_a_destination_that_stops_reading_times_out(tmp_path: Path) -> None:
    """The gate fixture holds the first state forever: it stops reading its input."""
    settings = Settings(data_dir=str(tmp_path / "data"), destination_timeout_seconds=1.5)
    config = e2e(100_000, state_checkpoint_interval=100)
    done = run(tmp_path, config, FAULTY, {"gate_path": str(tmp_path / "never")}, settings=settings)
    result = done.result
    assert not result.succeeded
    assert result.failures[0].failure_type == "destination_timeout"
    assert result.failures[0].failure_origin == "destination"
    assert done.elapsed < 15
    assert_nothing_left(done.started)


def test_cancel_stops_both_connectors_within_seconds(tmp_path: Path) -> None:
    cancel = threading.Event()
    threading.Timer(1.0, cancel.set).start()
    slow = {"test_destination": {"test_destination_type": "THROTTLED", "millis_per_record": 1}}
    done = run(tmp_path, e2e(10_000_000), DEV_NULL, slow, cancel=cancel)
    assert done.result.cancelled and not done.result.succeeded
    assert done.elapsed < 8
    assert "Cancelled" in done.log
    assert_nothing_left(done.started)


def test_a_source_that_cannot_start_fails_and_the_destination_is_stopped(tmp_path: Path) -> None:
    missing = ConnectorImage("Missing", "process", "none", ("no-such-connector-program",))
    catalog = api_catalog(e2e(10), "full_refresh", "append")
    done = run(tmp_path, e2e(10), source=missing, sync_catalog=catalog)
    result = done.result
    assert not result.succeeded
    assert result.failures[0].failure_origin == "source"
    assert "no-such-connector-program" in result.failures[0].external_message
    assert_nothing_left(done.started)  # the destination, started first, is gone too


def test_secrets_never_reach_the_log_or_the_failure(tmp_path: Path) -> None:
    secret = "hunter2-api-key"
    config = {"mode": "leak", "api_key": secret}
    done = run(tmp_path, e2e(10), FAULTY, config, secrets=[secret])
    result = done.result
    assert not result.succeeded
    assert result.failures[0].failure_type == "config_error"
    assert result.failures[0].retryable is False
    assert secret not in done.log and secret not in str(result.failures)
    assert "rejected key **********" in result.failures[0].external_message
    assert "using **********" in done.log and "connecting with key **********" in done.log
    # The raw stderr was copied (masked) into the attempt log, and not kept.
    assert not list(tmp_path.glob("attempt-0/job/*.stderr.log"))


def test_a_source_that_closes_its_output_but_never_exits_fails_as_the_source(
    tmp_path: Path,
) -> None:
    """Whatever the destination's timeout: the source is stopped after the exit grace period
    and named, and the destination still commits what it confirmed."""
    for destination_timeout in (1.0, 3600.0):
        settings = Settings(
            data_dir=str(tmp_path / "data"),
            state_commit_seconds=0,
            connector_exit_grace_seconds=2.0,
            destination_timeout_seconds=destination_timeout,
        )
        config = {"records": 20, "state_every": 10, "fault": "close_stdout"}
        done = run_fault_source(tmp_path, config, settings=settings)
        result = done.result
        assert not result.succeeded
        assert [f.failure_origin for f in result.failures] == ["source"], done.log
        message = result.failures[0].external_message
        assert message == (
            "The source closed its output but did not exit within 2 s; it was stopped"
        )
        assert 2 <= done.elapsed < 8, done.log
        assert done.commits[-1][0]["stream"]["stream_state"] == {"id": 20}
        assert_nothing_left(done.started)


# --- names, reset --------------------------------------------------------------------------


@pytest.fixture
def local_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "local"
    root.mkdir()
    monkeypatch.setenv("SLUICE_LOCAL_ROOT", str(root))
    return root


def rows(database: Path, table: str) -> int:
    with sqlite3.connect(database) as db:
        return int(db.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])


def test_a_prefix_renames_the_stream_the_destination_sees(tmp_path: Path, local_root: Path) -> None:
    connection = {"namespaceDefinition": "destination", "prefix": "pre_"}
    sqlite = {"destination_path": "/local/out.sqlite"}
    done = run(
        tmp_path, e2e(250, state_checkpoint_interval=100), SQLITE, sqlite, connection=connection
    )
    assert done.result.succeeded, done.log
    assert rows(local_root / "out.sqlite", "pre_data_stream") == 250
    # The state is the source's: committed under the source's stream name.
    assert done.commits[-1] == [
        {
            "type": "STREAM",
            "stream": {
                "stream_descriptor": {"name": "data_stream"},
                "stream_state": {"updated_at": 250},
            },
        }
    ]
    assert done.stats("data_stream")["recordsEmitted"] == 250  # stats under the source's name


def test_a_prefix_renames_every_stream_of_the_records(tmp_path: Path) -> None:
    names = tmp_path / "names.txt"
    connection = {"prefix": "x_", "namespaceDefinition": "source"}
    done = run(
        tmp_path,
        e2e(50, mock_catalog=TWO_STREAMS),
        FAULTY,
        {"mode": "gate", "gate_path": str(tmp_path), "names_path": str(names)},
        connection=connection,
    )
    assert done.result.succeeded, done.log
    seen = names.read_text().split()
    assert sorted(set(seen)) == ["x_orders", "x_users"] and len(seen) == 100


def test_reset_empties_the_streams_and_their_state(tmp_path: Path, local_root: Path) -> None:
    sqlite = {"destination_path": "/local/out.sqlite"}
    config = e2e(120, state_checkpoint_interval=100)
    catalog = api_catalog(config, "incremental", "append")
    first = run(tmp_path, config, SQLITE, sqlite, sync_catalog=catalog)
    assert first.result.succeeded, first.log
    assert rows(local_root / "out.sqlite", "data_stream") == 120
    reset = run(
        tmp_path,
        None,
        SQLITE,
        sqlite,
        kind="reset",
        sync_catalog=catalog,
        input_state=first.commits[-1],
        streams=[StreamDescriptor(name="data_stream")],
    )
    assert reset.result.succeeded, reset.log
    assert rows(local_root / "out.sqlite", "data_stream") == 0
    assert reset.commits[-1] == []  # the stream's state is gone


def test_a_failed_source_never_ends_an_overwrite_as_if_complete(
    tmp_path: Path, local_root: Path
) -> None:
    sqlite = {"destination_path": "/local/out.sqlite"}
    good = run(
        tmp_path, e2e(300), SQLITE, sqlite, sync_mode="full_refresh", destination_mode="overwrite"
    )
    assert good.result.succeeded, good.log
    for mode in ("fail", "crash"):  # a TRACE ERROR then exit 1; exit 1 without a word
        config = e2e(300, fault={"mode": mode, "after_records": 120})
        bad = run(
            tmp_path, config, SQLITE, sqlite, sync_mode="full_refresh", destination_mode="overwrite"
        )
        assert not bad.result.succeeded
        assert bad.result.failures[0].failure_origin == "source"
        # The destination was told the stream is INCOMPLETE before its input ended: the table
        # that the last good sync wrote is still there, not 120 rows of a partial refresh.
        assert rows(local_root / "out.sqlite", "data_stream") == 300
        assert_nothing_left(bad.started)


class Trickle:
    """A pipe that hands over its bytes in pieces of the given sizes."""

    def __init__(self, data: bytes, sizes: list[int]) -> None:
        self.data, self.sizes = data, sizes

    def readinto(self, buffer: memoryview) -> int:
        size = min(self.sizes.pop(0) if self.sizes else len(self.data), len(buffer))
        piece, self.data = self.data[:size], self.data[size:]
        buffer[: len(piece)] = piece
        return len(piece)


def test_blocks_are_whole_lines_whatever_the_reads() -> None:
    lines = [b'{"n":%d,"pad":"%s"}' % (i, b"x" * (i * 37 % 300)) for i in range(400)]
    data = b"\n".join(lines) + b"\n" + b'{"last":"no newline"}'
    sizes = [7, 1, 300, 5000, 2, 65536, 13] * 20
    blocks = [bytes(b) for b in iter_chunks(Trickle(data, sizes), 1 << 20, chunk_bytes=4096)]  # type: ignore[arg-type]
    assert all(b.endswith(b"\n") for b in blocks)
    assert b"".join(blocks) == data + b"\n"
    with pytest.raises(LineTooLong):
        list(iter_chunks(Trickle(b"y" * 10_000 + b"\n", [999] * 20), 5000, chunk_bytes=1024))  # type: ignore[arg-type]


def pump_lines(tmp_path: Path, lines: list[bytes]) -> tuple[bytes, Checkpoints, str]:
    checkpoints = Checkpoints([], Namespacing({}))
    log = AttemptLog(tmp_path / "pump.log")
    sink = io.BytesIO()  # the destination's stdin
    pump = SourcePump(
        io.BufferedReader(io.BytesIO(b"\n".join(lines) + b"\n")),
        sink,
        checkpoints,
        Observations(log),
        Namespacing({}),
        1 << 20,
    )
    pump.run()
    log.close()
    assert not sink.closed  # ending the destination's input is the relay's decision, not the pump's
    return sink.getvalue(), checkpoints, (tmp_path / "pump.log").read_text()


def record(stream: str, n: int) -> bytes:
    return b'{"type":"RECORD","record":{"stream":"%s","data":{"n":%d},"emitted_at":1}}' % (
        stream.encode(),
        n,
    )


def test_the_relay_drops_what_is_not_for_the_destination(tmp_path: Path) -> None:
    state = (
        b'{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"a"},'
        b'"stream_state":{"n":2}}}}'
    )
    log = b'{"type":"LOG","log":{"level":"WARN","message":"careful"}}'
    lines = [record("a", 1), b"", log, record("a", 2), state, b"  ", record("b", 3)]
    written, checkpoints, text = pump_lines(tmp_path, lines)
    assert written == b"\n".join([record("a", 1), record("a", 2), state, record("b", 3)]) + b"\n"
    assert checkpoints.emitted == {("a", None): [2, 14], ("b", None): [1, 7]}
    assert checkpoints.states_emitted == 1
    assert "source WARN careful" in text

    # Records and states only: the block goes on as it came, unless a state is malformed.
    malformed = b'{"type":"STATE","state":{"type":"STREAM","stream":{}}}'
    written, checkpoints, text = pump_lines(tmp_path, [record("a", 1), state, record("a", 2)])
    assert written == b"\n".join([record("a", 1), state, record("a", 2)]) + b"\n"
    written, checkpoints, text = pump_lines(tmp_path, [record("a", 1), malformed, record("a", 2)])
    assert written == b"\n".join([record("a", 1), record("a", 2)]) + b"\n"
    assert checkpoints.states_emitted == 0 and "malformed STATE" in text


def test_messages_not_on_a_line_of_their_own_are_dropped(tmp_path: Path) -> None:
    lines = [
        record("a", 1),
        b'{"type":"LOG",',  # one message over two lines
        b'"log":{"level":"INFO","message":"split"}}',
        record("a", 2) + record("a", 3),  # two on one line
        record("a", 4),
    ]
    written, checkpoints, text = pump_lines(tmp_path, lines)
    assert written == record("a", 1) + b"\n" + record("a", 4) + b"\n"
    assert checkpoints.emitted == {("a", None): [2, 14]}
    assert text.count("(not a protocol message, dropped)") == 3


# --- state matching rules ------------------------------------------------------------------


def test_global_and_legacy_states_match_whole_and_replace() -> None:
    checkpoints = Checkpoints([], Namespacing({}))
    checkpoints.slot(("a", None))[:] = [10, 100]
    first = {"type": "GLOBAL", "global": {"shared_state": {"lsn": 1}, "stream_states": []}}
    checkpoints.hold(first)
    checkpoints.slot(("a", None))[:] = [20, 200]
    second = {"type": "GLOBAL", "global": {"shared_state": {"lsn": 2}, "stream_states": []}}
    checkpoints.hold(second)
    # Echoed with keys in another order and extra stats: still the same state.
    echoed = {"destinationStats": {"recordCount": 5}, "global": second["global"], "type": "GLOBAL"}
    assert checkpoints.echoed(echoed) == [{"type": "GLOBAL", "global": second["global"]}]
    assert checkpoints.committed[("a", None)] == [20, 200]
    assert checkpoints.echoed(first) is None  # already covered by the later one

    legacy = Checkpoints(
        [{"type": "STREAM", "stream": {"stream_descriptor": {"name": "a"}}}], Namespacing({})
    )
    legacy.hold({"data": {"cursor": 3}})
    assert legacy.echoed({"type": "LEGACY", "data": {"cursor": 3}}) == [
        {"type": "LEGACY", "data": {"cursor": 3}}
    ]


def test_namespace_rules_follow_airbyte() -> None:
    assert Namespacing({"namespaceDefinition": "source"}).map("s", "ns") == ("s", "ns")
    assert Namespacing({"namespaceDefinition": "destination"}).map("s", "ns") == ("s", None)
    custom = Namespacing(
        {"namespaceDefinition": "customformat", "namespaceFormat": "raw_${SOURCE_NAMESPACE}"}
    )
    assert custom.map("s", "ns") == ("s", "raw_ns")
    assert custom.map("s", None) == ("s", "raw_")
    blank = Namespacing({"namespaceDefinition": "customformat", "namespaceFormat": "  "})
    assert blank.map("s", "ns") == ("s", None)
    assert Namespacing({"prefix": "p_"}).map("s", None) == ("p_s", None)
    assert not Namespacing({"namespaceDefinition": "source", "prefix": " "}).may_rename


def test_catalogs_for_the_source_and_the_destination() -> None:
    catalog = api_catalog(e2e(1, mock_catalog=TWO_STREAMS), "incremental", "append_dedup")
    catalog["streams"][1]["config"]["selected"] = False  # "orders"
    source = source_catalog(catalog, None, sync_id=12)
    assert [s.stream.name for s in source.streams] == ["users"]
    users = source.streams[0]
    assert (users.sync_mode, users.destination_sync_mode) == ("incremental", "append_dedup")
    assert users.cursor_field == ["updated_at"] and users.primary_key == [["id"]]
    assert (users.sync_id, users.generation_id, users.minimum_generation_id) == (12, 0, 0)
    renamed = destination_catalog(source, Namespacing({"prefix": "p_"}))
    assert [s.stream.name for s in renamed.streams] == ["p_users"]
    # A reset of a stream no longer selected still clears it, in overwrite.
    reset = source_catalog(catalog, [StreamDescriptor(name="orders")], sync_id=13, reset=True)
    assert [(s.stream.name, s.sync_mode, s.destination_sync_mode) for s in reset.streams] == [
        ("orders", "full_refresh", "overwrite")
    ]
