"""A connection's state through the relay, typed (server.sync.states): what a source sends comes
back to it as it was sent, undeclared fields at every level included, and the rules of merging,
matching and resetting hold on the typed messages."""

from __future__ import annotations

import io
import json
import threading
from pathlib import Path
from typing import Any

import msgspec
import pytest
from sqlite_utils import Database

from server.jobs.plan import source_catalog
from server.protocol import AirbyteStateMessage, StateDescriptor
from server.runner import Runners
from server.runner.base import ConnectorImage
from server.runner.process import ProcessRunner
from server.settings import Settings
from server.store import state
from server.sync import AttemptPlan, run_attempt
from server.sync.attempt_log import AttemptLog
from server.sync.catalog import Namespacing
from server.sync.checkpoints import Checkpoints
from server.sync.messages import Observations
from server.sync.pump import SourcePump
from server.sync.states import (
    ConnectionState,
    decode_state,
    parse_state,
    reset_states,
    state_file,
    unparse_state,
    wire_state,
    without_streams,
)
from tests.support.jobs import NOW, add_connection

# Compact, and in the protocol's field order (as the Python CDK and the Java protocol models
# write them), with undeclared fields at each level: the message, `stream`, the descriptor,
# inside `stream_state`, `global` and each of its stream states.
STREAM = (
    b'{"type":"STREAM","stream":{"stream_descriptor":{"name":"items","namespace":"ns",'
    b'"x-descriptor":1},"stream_state":{"cursor":"2024-01-01","nested":{"k":[1,2.5,null]},'
    b'"unknown":true},"x-stream":"s"},"id":7,"x-platform":{"a":"b"}}'
)
GLOBAL = (
    b'{"type":"GLOBAL","global":{"shared_state":{"lsn":42,"x":"y"},"stream_states":['
    b'{"stream_descriptor":{"name":"items","namespace":"ns","x-descriptor":2},'
    b'"stream_state":{"c":1},"x-stream":[]},{"stream_descriptor":{"name":"other"},'
    b'"stream_state":{"c":2}}],"x-global":{"z":0}},"id":8}'
)
LEGACY = b'{"type":"LEGACY","data":{"cursor":3,"x":{"deep":["a"]}},"id":9}'


@pytest.mark.parametrize("wire", [STREAM, GLOBAL, LEGACY], ids=["stream", "global", "legacy"])
def test_a_state_is_stored_and_written_back_as_it_came(wire: bytes) -> None:
    message = parse_state(json.loads(wire))
    assert message.extra["id"] in (7, 8, 9)
    assert msgspec.json.encode(unparse_state(message)) == wire
    assert msgspec.json.encode(wire_state(message)) == wire


PLAIN = [
    b'{"type":"STREAM","stream":{"stream_descriptor":{"name":"a"},"stream_state":{"c":1}},'
    b'"sourceStats":{"recordCount":1.0}}',
    b'{"type":"GLOBAL","global":{"shared_state":{"lsn":1},"stream_states":[]}}',
    b'{"data":{"c":1}}',
    b'{"type":"SOMETHING","data":1}',  # an unknown type reads as LEGACY
]


@pytest.mark.parametrize("wire", [*PLAIN, STREAM, GLOBAL, LEGACY])
def test_a_connectors_state_decodes_as_it_parses(wire: bytes) -> None:
    # decode_state takes a fast path for messages without undeclared fields: same result.
    assert decode_state(wire) == parse_state(json.loads(wire), strict=True)


@pytest.mark.parametrize(
    "wire",
    [
        b"[]",
        b'{"type":"STREAM"}',
        b'{"type":"STREAM","stream":{"stream_descriptor":{}}}',
        b'{"type":"GLOBAL","data":{}}',
        b'{"type":"GLOBAL","global":null,"id":1}',  # undeclared fields: the slow path
        b"{",
    ],
)
def test_a_malformed_state_is_refused(wire: bytes) -> None:
    with pytest.raises((ValueError, msgspec.DecodeError)):
        decode_state(wire)


def test_the_state_file_holds_each_message_as_it_came() -> None:
    stored = [json.loads(STREAM), parse_state(json.loads(STREAM))]  # stored, or parsed
    assert state_file(stored) == b"[" + STREAM + b"," + STREAM + b"]"


def test_undeclared_fields_are_kept_at_every_level() -> None:
    message = parse_state(json.loads(STREAM))
    assert message.type == "STREAM" and message.stream is not None
    descriptor = message.stream.stream_descriptor
    assert isinstance(descriptor, StateDescriptor)
    assert (descriptor.name, descriptor.namespace, descriptor.extra) == (
        "items",
        "ns",
        {"x-descriptor": 1},
    )
    assert message.stream.extra == {"x-stream": "s"}
    assert message.extra == {"id": 7, "x-platform": {"a": "b"}}
    shared = parse_state(json.loads(GLOBAL)).global_
    assert shared is not None and shared.extra == {"x-global": {"z": 0}}
    assert shared.stream_states[0].extra == {"x-stream": []}


def test_keys_in_another_order_come_back_as_the_same_json() -> None:
    shuffled = {
        "id": 1,
        "stream": {"x": 0, "stream_state": {"b": 1, "a": 2}, "stream_descriptor": {"name": "s"}},
        "type": "STREAM",
    }
    back = unparse_state(parse_state(shuffled))
    assert back == shuffled
    assert list(back["stream"]["stream_state"]) == ["b", "a"]  # inside a state: as it came


def test_the_stats_go_to_the_destination_but_not_to_the_store() -> None:
    sent = {
        "type": "STREAM",
        "stream": {"stream_descriptor": {"name": "a"}, "stream_state": {"c": 1}},
        "sourceStats": {"recordCount": 3.0},
        "id": 4,
    }
    message = parse_state(sent)
    assert wire_state(message) == sent
    assert unparse_state(message) == {k: v for k, v in sent.items() if k != "sourceStats"}


def test_an_echo_commits_the_sources_state_with_its_undeclared_fields() -> None:
    checkpoints = Checkpoints([], Namespacing({}))
    checkpoints.slot(("items", "ns"))[:] = [3, 30]
    sent = json.loads(STREAM)
    checkpoints.hold(parse_state({**sent, "sourceStats": {"recordCount": 3.0}}))
    # The destination echoes it re-encoded: keys in another order, its own stats, no `id`.
    echoed = {"destinationStats": {"recordCount": 3}, "stream": sent["stream"], "type": "STREAM"}
    full = checkpoints.echoed(parse_state(echoed))
    assert full is not None and [msgspec.json.encode(m) for m in full] == [STREAM]
    assert checkpoints.committed == {("items", "ns"): [3, 30]}


def test_a_renamed_stream_keeps_its_undeclared_fields_for_the_destination(tmp_path: Path) -> None:
    line = b'{"type":"STATE","state":' + STREAM + b"}\n"
    log = AttemptLog(tmp_path / "pump.log")
    sink = io.BytesIO()
    namespacing = Namespacing({"namespaceDefinition": "destination", "prefix": "p_"})
    checkpoints = Checkpoints([], namespacing)
    pump = SourcePump(
        io.BufferedReader(io.BytesIO(line)), sink, checkpoints, Observations(log), namespacing, 1024
    )
    pump.run()
    log.close()
    sent = json.loads(sink.getvalue())["state"]
    expected = json.loads(STREAM)
    expected["stream"]["stream_descriptor"] = {"name": "p_items", "x-descriptor": 1}
    assert sent == expected
    # Committed under the source's name, as it came.
    assert checkpoints.echoed(parse_state(sent)) == [json.loads(STREAM)]


def test_the_merge_and_reset_rules_on_typed_messages() -> None:
    a = {"type": "STREAM", "stream": {"stream_descriptor": {"name": "a"}, "stream_state": {"c": 1}}}
    b = json.loads(STREAM)
    current = ConnectionState([a, parse_state(b)])
    assert current.stored() == [a, b]
    assert all(isinstance(m, AirbyteStateMessage) for m in current.messages())
    current.apply(parse_state({"type": "STREAM", "stream": {"stream_descriptor": {"name": "a"}}}))
    assert current.stored() == [b]  # a state without `stream_state` resets its stream
    assert without_streams([a, b], [{"name": "a"}]) == [b]
    kept = without_streams([json.loads(GLOBAL)], [{"name": "other"}])
    expected = json.loads(GLOBAL)
    expected["global"]["stream_states"].pop()
    assert kept == [expected]
    assert reset_states([json.loads(GLOBAL)], [("items", "ns")]) == [
        {
            "type": "GLOBAL",
            "global": {
                "shared_state": {"lsn": 42, "x": "y"},
                "stream_states": [json.loads(GLOBAL)["global"]["stream_states"][1]],
                "x-global": {"z": 0},
            },
        }
    ]


# --- source -> relay -> store -> source, with real programs ---------------------------------

SOURCE = """#!/usr/bin/env python3
import json, sys
from pathlib import Path

args = sys.argv[1:]
config = json.loads(Path(args[args.index("--config") + 1]).read_text())
if "--state" in args:  # what the source was given, byte for byte
    Path(config["given"]).write_bytes(Path(args[args.index("--state") + 1]).read_bytes())
out = sys.stdout.buffer
for n in range(3):
    record = {"stream": "items", "namespace": "ns", "data": {"id": n}, "emitted_at": 1}
    out.write(json.dumps({"type": "RECORD", "record": record}).encode() + b"\\n")
out.write(b'{"type":"STATE","state":' + config["state"].encode() + b"}\\n")
"""
DEV_NULL = ConnectorImage(
    "End-to-End Testing (/dev/null)", "process", "sluice/destination-dev-null:dev",
    ("destination-dev-null",),
)  # fmt: skip
CATALOG = {
    "streams": [
        {
            "stream": {
                "name": "items",
                "namespace": "ns",
                "jsonSchema": {"type": "object", "properties": {"id": {"type": "integer"}}},
                "supportedSyncModes": ["incremental"],
            },
            "config": {"syncMode": "incremental", "destinationSyncMode": "append"},
        }
    ]
}


def attempt(tmp_path: Path, number: int, config: dict[str, Any], stored: Any) -> list[Any]:
    commits: list[Any] = []
    plan = AttemptPlan(
        job_id=1,
        attempt_number=number,
        connection_id="c0ffee00-0000-4000-8000-000000000000",
        kind="sync",
        source=ConnectorImage("states source", "process", "none", ("states_source.py",)),
        destination=DEV_NULL,
        source_config=config,
        destination_config={"test_destination": {"test_destination_type": "SILENT"}},
        catalog=source_catalog(CATALOG, None, 1),
        namespacing=Namespacing({"namespaceDefinition": "source"}),
        streams=None,
        input_state=stored,
        job_dir=tmp_path / f"job-{number}",
        log_path=tmp_path / f"attempt-{number}.log",
    )
    runners = Runners(ProcessRunner([str(tmp_path / "bin")]), None)
    settings = Settings(data_dir=str(tmp_path / "data"), state_commit_seconds=0)
    result = run_attempt(plan, runners, settings, commits.append, lambda _: None, threading.Event())
    assert result.succeeded, plan.log_path.read_text()
    return commits


@pytest.mark.parametrize("wire", [STREAM, GLOBAL, LEGACY], ids=["stream", "global", "legacy"])
def test_a_source_gets_back_the_state_it_sent(tmp_path: Path, db: Database, wire: bytes) -> None:
    program = tmp_path / "bin" / "states_source.py"
    program.parent.mkdir()
    program.write_text(SOURCE)
    program.chmod(0o755)
    given = tmp_path / "given.json"
    config = {"state": wire.decode(), "given": str(given)}
    connection = add_connection(db)

    commits = attempt(tmp_path, 0, config, [])
    assert commits, "the destination's echo was not committed"
    assert state.set_state(db, connection, commits[-1], NOW)
    assert not given.exists()  # the first read had no state

    attempt(tmp_path, 1, config, [parse_state(m) for m in state.get_state(db, connection)])
    assert given.read_bytes() == b"[" + wire + b"]"
