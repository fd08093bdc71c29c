"""server.mappers.validate_stream: fields through each mapper, and the problems, as Airbyte's
MapperValidationResult reports them."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from server.mappers import validate_stream
from tests.support.mappers import SCHEMA, mapper


def problems(config: dict[str, Any], cursor: list[str] | None = None) -> list[tuple[str, str]]:
    found = validate_stream(SCHEMA, config, cursor, [["id"]]).problems
    return [(p.path, p.type) for p in found]


def test_fields_through_each_mapper_and_the_reply_shape() -> None:
    config = {
        "fieldSelectionEnabled": True,
        "selectedFields": [{"fieldPath": ["name"]}, {"fieldPath": ["amount"]}],
        "mappers": [
            {"id": "m1", **mapper("hashing", targetField="name", method="MD5")},
            mapper("field-renaming", originalFieldName="amount", newFieldName="total"),
        ],
    }
    result = validate_stream(SCHEMA, config, ["updated_at"], [["id"]])
    assert result.problems == []
    names = [f.name for f in result.initial_fields]
    assert names == ["id", "updated_at", "name", "amount"]  # cursor and key always kept
    first = msgspec.to_builtins(result.mappers[0])
    assert first["id"] == "m1" and first["validationError"] is None
    assert first["inputFields"][2] == {"name": "name", "type": "STRING"}
    assert first["outputFields"][2] == {"name": "name_hashed", "type": "STRING"}
    assert [f.name for f in result.output_fields] == ["id", "updated_at", "name_hashed", "total"]
    assert result.json_schema["properties"]["total"] == {"type": "number"}
    assert result.json_schema["$schema"] == SCHEMA["$schema"]


def test_field_types_follow_airbyte() -> None:
    schema = {
        "properties": {
            "d": {"type": "string", "format": "date"},
            "t": {"type": "string", "format": "date-time"},
            "l": {
                "type": "string",
                "format": "date-time",
                "airbyte_type": "timestamp_without_timezone",
            },
            "i": {"type": ["null", "integer"]},
            "n": {"type": "number", "airbyte_type": "integer"},
            "b": {"type": "boolean"},
            "o": {"type": "object"},
            "m": {"type": ["string", "integer"]},
            "u": {},
        }
    }
    fields = {f.name: f.type for f in validate_stream(schema, {}, None, None).output_fields}
    assert fields == {
        "d": "DATE",
        "t": "TIMESTAMP_WITH_TIMEZONE",
        "l": "TIMESTAMP_WITHOUT_TIMEZONE",
        "i": "INTEGER",
        "n": "INTEGER",
        "b": "BOOLEAN",
        "o": "OBJECT",
        "m": "MULTI",
        "u": "UNKNOWN",
    }


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (
            {"mappers": [mapper("hashing", targetField="nope")]},
            [("mappers[0]", "FIELD_NOT_FOUND")],
        ),
        (
            {"mappers": [mapper("field-renaming", originalFieldName="name", newFieldName="email")]},
            [("mappers[0]", "FIELD_ALREADY_EXISTS")],
        ),
        (
            {"mappers": [mapper("field-filtering", targetField="id")]},
            [("mappers[0]", "INVALID_MAPPER_CONFIG")],  # the primary key
        ),
        (
            {"mappers": [mapper("field-filtering", targetField="updated_at")]},
            [("mappers[0]", "INVALID_MAPPER_CONFIG")],  # the cursor
        ),
        (
            {"mappers": [mapper("encryption", algorithm="AES", targetField="id", key="00" * 16)]},
            [("mappers[0]", "INVALID_MAPPER_CONFIG")],  # encrypting the key
        ),
        (
            {"mappers": [mapper("encryption", algorithm="AES", targetField="name", key="abc")]},
            [("mappers[0]", "INVALID_MAPPER_CONFIG")],  # a bad key
        ),
        (
            {
                "mappers": [
                    mapper("encryption", algorithm="RSA", targetField="name", publicKey="00")
                ]
            },
            [("mappers[0]", "INVALID_MAPPER_CONFIG")],
        ),
        (
            {"mappers": [mapper("row-filtering", expression="status = ")]},
            [("mappers[0]", "INVALID_MAPPER_CONFIG")],
        ),
        (
            {"mappers": [mapper("row-filtering", expression="nope = 'x'")]},
            [("mappers[0]", "FIELD_NOT_FOUND")],
        ),
        (
            {"mappers": [mapper("hashing", targetField="name", method="MD2")]},
            [("mappers[0]", "INVALID_MAPPER_CONFIG")],
        ),
        ({"mappers": [{"type": "teleport"}]}, [("mappers[0]", "MISSING_MAPPER")]),
        (
            {"fieldSelectionEnabled": True, "selectedFields": [{"fieldPath": ["nope"]}]},
            [("selectedFields[0]", "FIELD_NOT_FOUND")],
        ),
        (
            {"fieldSelectionEnabled": True, "selectedFields": [{"fieldPath": ["a", "b"]}]},
            [("selectedFields[0]", "INVALID_MAPPER_CONFIG")],
        ),
        ({"hashedFields": [{"fieldPath": ["nope"]}]}, [("hashedFields[0]", "FIELD_NOT_FOUND")]),
        (
            {
                "mappers": [
                    mapper("field-name-transform", pattern="^(name|email)$", replacement="x")
                ]
            },
            [("mappers[0]", "FIELD_ALREADY_EXISTS")],
        ),
        (
            {"mappers": [mapper("field-name-transform", pattern="(", replacement="x")]},
            [("mappers[0]", "INVALID_MAPPER_CONFIG")],
        ),
        (
            {"mappers": [mapper("value-transform", targetField="name", operation="REVERSE")]},
            [("mappers[0]", "INVALID_MAPPER_CONFIG")],
        ),
    ],
)
def test_problems(config: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    assert problems(config, cursor=["updated_at"]) == expected


def test_a_failed_mapper_is_skipped_and_the_next_sees_the_fields_before_it() -> None:
    config = {
        "mappers": [
            mapper("field-renaming", originalFieldName="nope", newFieldName="x"),
            mapper("field-renaming", originalFieldName="name", newFieldName="full_name"),
            mapper("hashing", targetField="name"),  # renamed away: not found
        ]
    }
    result = validate_stream(SCHEMA, config, None, None)
    errors = [m.validation_error.type if m.validation_error else None for m in result.mappers]
    assert errors == ["FIELD_NOT_FOUND", None, "FIELD_NOT_FOUND"]
    assert result.mappers[0].output_fields == result.mappers[0].input_fields
    assert "full_name" in [f.name for f in result.output_fields]
    assert "'nope'" in (result.problems[0].message)


def test_hashing_the_key_or_the_cursor_renames_them_as_airbyte_does() -> None:
    config = {"hashedFields": [{"fieldPath": ["id"]}, {"fieldPath": ["updated_at"]}]}
    result = validate_stream(SCHEMA, config, ["updated_at"], [["id"]])
    assert result.problems == []
    assert result.primary_key == [["id_hashed"]] and result.cursor_field == ["updated_at_hashed"]


def test_bad_input_never_raises() -> None:
    for config in (
        {"mappers": "x"},
        {"mappers": [None, 3, {"type": "hashing", "mapperConfiguration": "x"}]},
        {"hashedFields": [{"fieldPath": "x"}]},
        {"fieldSelectionEnabled": True, "selectedFields": "x"},
        {"mappers": [mapper("row-filtering", conditions={"type": "IN", "fieldName": "id"})]},
        {"mappers": [mapper("row-filtering", conditions={"type": "AND", "conditions": []})]},
    ):
        result = validate_stream(SCHEMA, config, None, None)
        assert result.problems, config
    assert validate_stream({}, {"mappers": []}, None, None).output_fields == []
