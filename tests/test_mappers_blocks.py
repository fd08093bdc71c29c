"""The relay's two ways of mapping a block (server.mappers.columns and server.mappers.blocks)
give the same lines as one record at a time (`StreamMapper.apply`), for records with absent
fields, nulls, escapes, numbers written as text, fields the schema does not declare."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from server.mappers import StreamMapper, compile_stream
from tests.support.mappers import SCHEMA, envelopes, map_records, mapper

KEY = ("users", None)
RECORDS: list[dict[str, Any]] = [
    {"id": 1, "updated_at": 1, "name": "Ada", "email": "a@x", "amount": 12.5, "tags": ["a"]},
    {"id": 2, "updated_at": 2, "name": None, "email": "b@x", "amount": 9},  # no tags
    {"id": 3, "updated_at": 3, "name": 'q"u\\o\u00e9\n', "email": "c@x", "amount": "15"},
    {"id": 4, "updated_at": 4, "email": "d@x", "amount": None},  # no name; a null amount
    {"id": 5, "updated_at": 5, "name": "Eve", "email": "e@x", "amount": True},
    {"id": 6, "updated_at": 6, "name": "Fay", "email": "f@x"},  # no amount
    {"id": 7, "updated_at": 7, "name": 7, "email": {"n": [1]}, "amount": 100},
]
CONFIGS: dict[str, dict[str, Any]] = {
    "bench's mappers": {
        "mappers": [
            mapper("field-filtering", targetField="tags"),
            mapper("hashing", targetField="name", method="SHA-256"),
            mapper("field-renaming", originalFieldName="amount", newFieldName="total"),
            mapper("row-filtering", expression="total > 10"),
        ]
    },
    "a filter on a hashed field, then hashing again": {
        "mappers": [
            mapper("hashing", targetField="email", method="MD5"),
            mapper("row-filtering", expression="email_hashed != 'x' AND id < 7"),
            mapper("hashing", targetField="email_hashed", method="SHA-1", fieldNameSuffix=""),
        ]
    },
    "a selection and a text filter": {
        "fieldSelectionEnabled": True,
        "selectedFields": [{"fieldPath": [f]} for f in ("name", "amount")],
        "mappers": [mapper("row-filtering", expression="name = 'Eve' OR name IS NULL")],
    },
    "a filter that keeps every record, two renames": {
        "mappers": [
            mapper("field-renaming", originalFieldName="id", newFieldName="key"),
            mapper("field-renaming", originalFieldName="key", newFieldName="ident"),
            mapper("row-filtering", expression="ident >= 0"),
        ]
    },
}


def compiled(config: dict[str, Any]) -> StreamMapper:
    found = compile_stream(SCHEMA, config, ["updated_at"], [["id"]])
    assert found is not None
    return found


def one_by_one(config: dict[str, Any], records: list[dict[str, Any]]) -> list[Any]:
    """What each record becomes alone (None: filtered out), through `apply`."""
    stream = compiled(config)
    return [stream.apply(msgspec.json.decode(msgspec.json.encode(r)))[0] for r in records]


@pytest.mark.parametrize("name", list(CONFIGS))
def test_columns_blocks_and_records_agree(name: str) -> None:
    config = CONFIGS[name]
    expected = one_by_one(config, RECORDS)
    by_columns = compiled(config)
    assert by_columns.columns is not None, "these mappers all have a column form"
    by_dicts = compiled(config)
    by_dicts.columns = None
    columns_out, columns_filtered = map_records(by_columns, RECORDS)
    dicts_out, dicts_filtered = map_records(by_dicts, RECORDS)
    assert columns_out == expected
    assert dicts_out == expected
    assert columns_filtered == dicts_filtered
    dropped = [r for r, out in zip(RECORDS, expected, strict=True) if out is None]
    if dropped:
        sizes = [
            len(e.data) for e, out in zip(envelopes(RECORDS), expected, strict=True) if not out
        ]
        assert columns_filtered == [len(dropped), sum(sizes)]


def test_an_undeclared_field_sends_the_block_the_dict_way_and_is_kept() -> None:
    config = CONFIGS["bench's mappers"]
    stream = compiled(config)
    extra = [{**RECORDS[0], "extra": {"x": 1}}, RECORDS[2]]
    out, _ = map_records(stream, extra)
    assert out == one_by_one(config, extra)
    assert out[0]["extra"] == {"x": 1}
    assert stream.columns is not None and stream.columns.failures == 1
    # Blocks without one go by columns again; after a few with one, the dict way only.
    assert map_records(stream, RECORDS)[0] == one_by_one(config, RECORDS)
    assert stream.columns.failures == 1
    for _ in range(3):
        map_records(stream, extra)
    assert stream.columns.run(b"[]") is None


def test_a_selection_drops_undeclared_fields_by_columns() -> None:
    config = CONFIGS["a selection and a text filter"]
    stream = compiled(config)
    extra = [{**r, "extra": 1} for r in RECORDS]
    out, _ = map_records(stream, extra)
    assert out == one_by_one(config, extra)
    assert all(o is None or "extra" not in o for o in out)
    assert stream.columns is not None and stream.columns.failures == 0


def test_mappers_without_a_column_form_map_as_dicts() -> None:
    config = {"mappers": [mapper("value-transform", targetField="email", operation="UPPERCASE")]}
    stream = compiled(config)
    assert stream.columns is None
    out, _ = map_records(stream, RECORDS)
    assert out == one_by_one(config, RECORDS)
    assert out[0]["email"] == "A@X"
