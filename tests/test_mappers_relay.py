"""The source pump with mappers: mapped streams' records are mapped in place among the
others, filtered ones dropped and counted, states held as ever; other streams' lines go on as
the source printed them."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import msgspec

from server.mappers import StreamMapper, compile_stream
from server.protocol import ConfiguredAirbyteCatalog, ConfiguredAirbyteStream, ProtocolStream
from server.sync.attempt_log import AttemptLog
from server.sync.catalog import Namespacing, destination_catalog
from server.sync.checkpoints import Checkpoints
from server.sync.messages import Observations
from server.sync.pump import SourcePump
from tests.support.mappers import SCHEMA, mapper

CONFIG: dict[str, Any] = {
    "fieldSelectionEnabled": True,
    "selectedFields": [{"fieldPath": [f]} for f in ("name", "email", "amount")],
    "hashedFields": [{"fieldPath": ["email"]}],
    "mappers": [
        mapper("field-renaming", originalFieldName="amount", newFieldName="total"),
        mapper("row-filtering", expression="total >= 10"),
    ],
}


def users_mapper() -> StreamMapper:
    found = compile_stream(SCHEMA, CONFIG, None, [["id"]])
    assert found is not None
    return found


def record(stream: str, n: int, **data: Any) -> bytes:
    payload = {"stream": stream, "data": {"id": n, **data}, "emitted_at": 5}
    return msgspec.json.encode({"type": "RECORD", "record": payload})


def state(stream: str, n: int) -> bytes:
    descriptor = {"stream_descriptor": {"name": stream}, "stream_state": {"n": n}}
    return msgspec.json.encode({"type": "STATE", "state": {"type": "STREAM", "stream": descriptor}})


def pump(
    tmp_path: Path,
    lines: list[bytes],
    rules: dict[str, Any] | None = None,
    namespace: str | None = None,
) -> tuple[list[dict[str, Any]], list[bytes], Checkpoints, SourcePump, str]:
    namespacing = Namespacing(rules or {}, {("users", namespace): users_mapper()})
    checkpoints = Checkpoints([], namespacing)
    log = AttemptLog(tmp_path / "pump.log")
    sink = io.BytesIO()
    source = io.BufferedReader(io.BytesIO(b"\n".join(lines) + b"\n"))
    running = SourcePump(source, sink, checkpoints, Observations(log), namespacing, 1 << 20)
    running.run()
    log.close()
    out = sink.getvalue().splitlines()
    return [msgspec.json.decode(x) for x in out], out, checkpoints, running, log_text(tmp_path)


def log_text(tmp_path: Path) -> str:
    return (tmp_path / "pump.log").read_text()


def test_mapped_records_among_others_and_states(tmp_path: Path) -> None:
    other = record("orders", 1, secret="keep me")
    lines = [
        record("users", 1, name="a", email="a@x", amount=12, secret="s1"),
        other,
        record("users", 2, name="b", email="b@x", amount=3, secret="s2"),  # filtered out
        state("users", 2),
        record("users", 3, name="c", email="c@x", amount=10, secret="s3"),
    ]
    messages, raw, checkpoints, running, _ = pump(tmp_path, lines)
    assert [m["type"] for m in messages] == ["RECORD", "RECORD", "STATE", "RECORD"]
    first = messages[0]["record"]
    assert first["stream"] == "users" and first["emitted_at"] == 5
    assert set(first["data"]) == {"id", "name", "email_hashed", "total"}
    assert first["data"]["total"] == 12
    assert raw[1] == other  # another stream's line, byte for byte
    assert b"s1" not in b"".join(raw) and b"s3" not in b"".join(raw)
    assert checkpoints.emitted[("users", None)][0] == 3  # emitted counts the source's records
    assert running.mapper.filtered == {
        ("users", None): [1, len(b'{"id":2,"name":"b","email":"b@x","amount":3,"secret":"s2"}')]
    }
    assert checkpoints.states_emitted == 1


def test_a_mapped_record_keeps_its_namespace_and_meta_and_no_emitted_at_is_added(
    tmp_path: Path,
) -> None:
    meta = {
        "changes": [{"field": "x", "change": "TRUNCATED", "reason": "SOURCE_FIELD_SIZE_LIMITATION"}]
    }
    payloads = [
        {"stream": "users", "namespace": "crm", "data": {"id": 1, "name": "a", "amount": 12}},
        {"stream": "users", "namespace": "crm", "data": {"id": 2, "amount": 20}, "meta": meta},
        {"stream": "users", "namespace": "crm", "data": {"id": 3, "amount": 30}, "emitted_at": 7},
    ]
    lines = [msgspec.json.encode({"type": "RECORD", "record": p}) for p in payloads]
    messages, raw, _, _, _ = pump(tmp_path, [*lines, state("users", 3)], namespace="crm")
    records = [m["record"] for m in messages if m["type"] == "RECORD"]
    assert [r["namespace"] for r in records] == ["crm"] * 3
    assert [r.get("emitted_at") for r in records] == [None, None, 7]
    assert "emitted_at" not in records[0] and "meta" not in records[0]
    assert records[1]["meta"] == meta
    assert [r["data"] for r in records] == [
        {"id": 1, "name": "a", "total": 12},
        {"id": 2, "total": 20},
        {"id": 3, "total": 30},
    ]
    assert all(line.startswith(b'{"type":"RECORD","record":{') for line in raw[:3])


def test_a_block_with_a_log_line_is_mapped_line_by_line(tmp_path: Path) -> None:
    log_line = b'{"type":"LOG","log":{"level":"INFO","message":"hello"}}'
    lines = [
        record("users", 1, name="a", email="a@x", amount=12),
        log_line,
        record("users", 2, name="b", email="b@x", amount=1),
    ]
    messages, _, _, running, text = pump(tmp_path, lines)
    assert [m["record"]["data"]["id"] for m in messages] == [1]
    assert "email_hashed" in messages[0]["record"]["data"]
    assert running.mapper.filtered[("users", None)][0] == 1
    assert "hello" in text


def test_mapped_records_under_a_prefix(tmp_path: Path) -> None:
    lines = [record("users", 1, name="a", email="a@x", amount=12), state("users", 1)]
    messages, _, _, _, _ = pump(tmp_path, lines, {"prefix": "p_"})
    assert messages[0]["record"]["stream"] == "p_users"
    assert "email_hashed" in messages[0]["record"]["data"]
    assert messages[1]["state"]["stream"]["stream_descriptor"]["name"] == "p_users"


def test_changes_go_into_the_record_meta(tmp_path: Path) -> None:
    aes = mapper(
        "encryption",
        algorithm="AES",
        targetField="name",
        key="11" * 16,
        mode="CBC",
        padding="NoPadding",  # only multiples of 16 bytes can be encrypted
    )
    found = compile_stream(SCHEMA, {"mappers": [aes]}, None, None)
    assert found is not None
    namespacing = Namespacing({}, {("users", None): found})
    log = AttemptLog(tmp_path / "pump.log")
    sink = io.BytesIO()
    meta = {
        "changes": [{"field": "x", "change": "TRUNCATED", "reason": "SOURCE_FIELD_SIZE_LIMITATION"}]
    }
    line = msgspec.json.encode(
        {"type": "RECORD", "record": {"stream": "users", "data": {"name": "odd"}, "meta": meta}}
    )
    source = io.BufferedReader(io.BytesIO(line + b"\n" + record("users", 2, name="x" * 16) + b"\n"))
    SourcePump(
        source, sink, Checkpoints([], namespacing), Observations(log), namespacing, 1 << 20
    ).run()
    log.close()
    first, second = [msgspec.json.decode(x)["record"] for x in sink.getvalue().splitlines()]
    assert first["data"] == {"name_encrypted": None}
    assert first["meta"]["changes"] == [
        meta["changes"][0],
        {"field": "name_encrypted", "change": "NULLED", "reason": "PLATFORM_SERIALIZATION_ERROR"},
    ]
    assert len(bytes.fromhex(second["data"]["name_encrypted"])) == 32 and "meta" not in second


def test_the_destination_catalog_has_the_mapped_schema_and_key() -> None:
    stream = ProtocolStream(name="users", json_schema=SCHEMA, source_defined_primary_key=[["id"]])
    catalog = ConfiguredAirbyteCatalog(
        streams=[
            ConfiguredAirbyteStream(
                stream=stream,
                sync_mode="full_refresh",
                destination_sync_mode="append_dedup",
                primary_key=[["id"]],
            ),
            ConfiguredAirbyteStream(
                stream=ProtocolStream(name="orders", json_schema=SCHEMA),
                sync_mode="full_refresh",
                destination_sync_mode="append",
            ),
        ]
    )
    config = {"mappers": [mapper("field-renaming", originalFieldName="id", newFieldName="uid")]}
    renamed = compile_stream(SCHEMA, config, None, [["id"]])
    assert renamed is not None
    mapped = destination_catalog(catalog, Namespacing({"prefix": "p_"}, {("users", None): renamed}))
    users, orders = mapped.streams
    assert users.stream.name == "p_users" and users.primary_key == [["uid"]]
    assert "uid" in users.stream.json_schema["properties"]
    assert "id" not in users.stream.json_schema["properties"]
    assert orders.stream.json_schema == SCHEMA and orders.stream.name == "p_orders"


def test_a_cursor_or_key_the_mappers_did_not_track_goes_on_if_its_field_is_there() -> None:
    configured = ConfiguredAirbyteStream(
        stream=ProtocolStream(
            name="users", json_schema=SCHEMA, default_cursor_field=["updated_at"]
        ),
        sync_mode="full_refresh",
        destination_sync_mode="append",
        cursor_field=["updated_at"],
        primary_key=[["id"]],
    )
    catalog = ConfiguredAirbyteCatalog(streams=[configured])

    def mapped(config: dict[str, Any]) -> ConfiguredAirbyteStream:
        found = compile_stream(SCHEMA, config, None, None)  # nothing tracked: a full refresh
        assert found is not None
        return destination_catalog(catalog, Namespacing({}, {("users", None): found})).streams[0]

    kept = mapped({"mappers": [mapper("field-filtering", targetField="email")]})
    assert kept.cursor_field == ["updated_at"] and kept.primary_key == [["id"]]
    assert kept.stream.default_cursor_field == ["updated_at"]
    gone = mapped({"mappers": [mapper("field-name-transform", pattern="^", replacement="x_")]})
    assert gone.cursor_field is None and gone.primary_key is None


def test_one_stream_between_states_keeps_every_state_in_its_place(tmp_path: Path) -> None:
    lines = [
        record("users", 1, name="a", email="a@x", amount=1),  # filtered out
        state("users", 1),
        record("users", 2, name="b", email="b@x", amount=20),
        record("users", 3, name="c", email="c@x", amount=2),  # filtered out
        state("users", 3),
        state("users", 3),
        record("users", 4, name="d", email="d@x", amount=30),
    ]
    messages, raw, checkpoints, running, _ = pump(tmp_path, lines)
    kinds = [m["type"] if m["type"] == "STATE" else m["record"]["data"]["id"] for m in messages]
    assert kinds == ["STATE", 2, "STATE", "STATE", 4]
    assert raw[0] == lines[1] and raw[2] == lines[4]  # states as the source printed them
    assert running.mapper.filtered[("users", None)][0] == 2
    assert checkpoints.states_emitted == 3 and checkpoints.emitted[("users", None)][0] == 4


def test_a_prefix_renames_mapped_records_and_their_states_in_the_block(tmp_path: Path) -> None:
    lines = [
        record("users", 1, name="a", email="a@x", amount=12),
        state("users", 1),
        record("users", 2, name="b", email="b@x", amount=1),  # filtered out
        state("users", 2),
    ]
    messages, _, checkpoints, running, _ = pump(tmp_path, lines, {"prefix": "p_"})
    assert [m["type"] for m in messages] == ["RECORD", "STATE", "STATE"]
    assert messages[0]["record"]["stream"] == "p_users"
    assert {m["state"]["stream"]["stream_descriptor"]["name"] for m in messages[1:]} == {"p_users"}
    assert running.mapper.filtered[("users", None)][0] == 1
    assert checkpoints.states_emitted == 2
    # Another stream's records in the block: renamed line by line, as without mappers.
    other = [record("orders", 1, x=1), record("users", 3, name="c", email="c@x", amount=50)]
    messages, _, _, _, _ = pump(tmp_path, other, {"prefix": "p_"})
    assert [m["record"]["stream"] for m in messages] == ["p_orders", "p_users"]
    assert messages[0]["record"]["data"] == {"id": 1, "x": 1}


def test_an_emitted_at_that_is_not_a_number_is_copied_as_printed(tmp_path: Path) -> None:
    # Not the protocol's type, but not the mappers' business either: the record goes on.
    payload = {"stream": "users", "data": {"id": 1, "amount": 12}, "emitted_at": "2024-01-01"}
    line = msgspec.json.encode({"type": "RECORD", "record": payload})
    messages, _, _, running, _ = pump(tmp_path, [line, state("users", 1)])
    (record,) = [m["record"] for m in messages if m["type"] == "RECORD"]
    assert record["emitted_at"] == "2024-01-01" and record["data"] == {"id": 1, "total": 12}
    assert not running.failed
