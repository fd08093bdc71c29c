"""server.mappers: each mapper on records, the compiled stream, and the text conditions."""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec
import pytest
from cryptography.hazmat.primitives import padding, serialization
from cryptography.hazmat.primitives.asymmetric import padding as rsa_padding
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from server.mappers import MapperConfigError, StreamMapper, compile_stream
from server.mappers.conditions import ConditionError, compile_condition
from server.mappers.grammar import parse_text
from tests.support.mappers import SCHEMA, mapper

RECORD: dict[str, Any] = {
    "id": 7,
    "updated_at": 3,
    "name": "Ada Lovelace",
    "email": "ada@example.com",
    "status": "active",
    "amount": 12.5,
    "tags": ["a"],
}


def compiled(config: dict[str, Any], cursor: list[str] | None = None) -> StreamMapper:
    found = compile_stream(SCHEMA, config, cursor, [["id"]])
    assert found is not None
    return found


def run(config: dict[str, Any], record: dict[str, Any] | None = None) -> dict[str, Any] | None:
    data, _ = compiled(config).apply(dict(record or RECORD))
    return data


def test_nothing_to_do_keeps_the_byte_path() -> None:
    assert compile_stream(SCHEMA, {}, None, None) is None
    assert (
        compile_stream(SCHEMA, {"fieldSelectionEnabled": False, "mappers": []}, None, None) is None
    )


def test_field_selection_keeps_the_selected_fields_the_cursor_and_the_key() -> None:
    config = {"fieldSelectionEnabled": True, "selectedFields": [{"fieldPath": ["name"]}]}
    stream = compiled(config, cursor=["updated_at"])
    data, changes = stream.apply({**RECORD, "extra": 1})
    assert data == {"id": 7, "updated_at": 3, "name": "Ada Lovelace"}
    assert changes == []
    assert list(stream.json_schema["properties"]) == ["id", "updated_at", "name"]


@pytest.mark.parametrize(
    ("method", "digest"),
    [("MD5", "md5"), ("SHA-1", "sha1"), ("SHA-224", "sha224"), ("SHA-256", "sha256"),
     ("SHA-384", "sha384"), ("SHA-512", "sha512")],
)  # fmt: skip
def test_hashing_replaces_the_value_by_its_hex_digest(method: str, digest: str) -> None:
    data = run({"mappers": [mapper("hashing", targetField="email", method=method)]})
    assert data is not None and "email" not in data
    assert data["email_hashed"] == hashlib.new(digest, b"ada@example.com").hexdigest()


def test_hashed_fields_are_sha256_with_the_hashed_suffix_and_numbers_hash_as_text() -> None:
    stream = compiled({"hashedFields": [{"fieldPath": ["id"]}]})
    data, _ = stream.apply(dict(RECORD))
    assert data is not None and data["id_hashed"] == hashlib.sha256(b"7").hexdigest()
    assert stream.primary_key == [["id_hashed"]]  # the key follows, as Airbyte's
    assert stream.json_schema["properties"]["id_hashed"] == {"type": "string"}


def test_renaming_moves_the_value_and_the_cursor() -> None:
    config = {
        "mappers": [mapper("field-renaming", originalFieldName="updated_at", newFieldName="ts")]
    }
    stream = compiled(config, cursor=["updated_at"])
    data, _ = stream.apply(dict(RECORD))
    assert data is not None and data["ts"] == 3 and "updated_at" not in data
    assert stream.cursor_field == ["ts"]


def test_row_filtering_keeps_the_records_whose_condition_holds() -> None:
    equal = {"type": "EQUAL", "fieldName": "status", "comparisonValue": "active"}
    keep = {"mappers": [mapper("row-filtering", conditions=equal)]}
    drop = {"mappers": [mapper("row-filtering", conditions={"type": "NOT", "conditions": [equal]})]}
    assert run(keep) is not None
    assert run(keep, {**RECORD, "status": "gone"}) is None
    assert run(drop) is None
    assert run(drop, {**RECORD, "status": "gone"}) is not None


def test_field_filtering_removes_the_field() -> None:
    stream = compiled({"mappers": [mapper("field-filtering", targetField="email")]})
    data, _ = stream.apply(dict(RECORD))
    assert data is not None and "email" not in data and data["name"] == "Ada Lovelace"
    assert "email" not in stream.json_schema["properties"]


def test_rsa_encryption_decrypts_with_the_private_key() -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    der = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    config = {
        "mappers": [mapper("encryption", algorithm="RSA", targetField="email", publicKey=der.hex())]
    }
    stream = compiled(config)
    data, changes = stream.apply(dict(RECORD))
    assert data is not None and "email" not in data and changes == []
    clear = private.decrypt(bytes.fromhex(data["email_encrypted"]), rsa_padding.PKCS1v15())
    assert clear == b"ada@example.com"
    # A value longer than the key takes is nulled, the change recorded as Airbyte's is.
    data, changes = stream.apply({**RECORD, "email": "x" * 400})
    assert data is not None and data["email_encrypted"] is None
    assert changes == [
        {"field": "email_encrypted", "change": "NULLED", "reason": "PLATFORM_SERIALIZATION_ERROR"}
    ]


def test_aes_cbc_encryption_is_iv_then_ciphertext() -> None:
    key = bytes(range(32))
    config = {
        "mappers": [
            mapper(
                "encryption",
                algorithm="AES",
                targetField="name",
                key=key.hex(),
                mode="CBC",
                padding="PKCS5Padding",
                fieldNameSuffix="_enc",
            )
        ]
    }
    data = run(config)
    assert data is not None
    raw = bytes.fromhex(data["name_enc"])
    decryptor = Cipher(algorithms.AES(key), modes.CBC(raw[:16])).decryptor()
    padded = decryptor.update(raw[16:]) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    assert unpadder.update(padded) + unpadder.finalize() == b"Ada Lovelace"


def test_value_transforms_change_text_values_only() -> None:
    upper = run({"mappers": [mapper("value-transform", targetField="name", operation="UPPERCASE")]})
    assert upper is not None and upper["name"] == "ADA LOVELACE"
    lowering = mapper("value-transform", targetField="status", operation="LOWERCASE")
    lower = run({"mappers": [lowering]}, {**RECORD, "status": "ACTIVE"})
    assert lower is not None and lower["status"] == "active"
    replaced = run(
        {"mappers": [mapper("value-transform", targetField="email", operation="REPLACE",
                            find="example.com", replacement="example.org")]}
    )  # fmt: skip
    assert replaced is not None and replaced["email"] == "ada@example.org"
    pattern = run(
        {"mappers": [mapper("value-transform", targetField="name", operation="REPLACE",
                            find="[aeiou]", replacement="*", regex=True)]}
    )  # fmt: skip
    assert pattern is not None and pattern["name"] == "Ad* L*v*l*c*"
    number = run(
        {"mappers": [mapper("value-transform", targetField="amount", operation="UPPERCASE")]}
    )
    assert number is not None and number["amount"] == 12.5


def test_field_name_transform_renames_every_field_and_the_key() -> None:
    stream = compiled(
        {"mappers": [mapper("field-name-transform", pattern="^", replacement="src_")]}
    )
    data, _ = stream.apply(dict(RECORD))
    assert data is not None and set(data) == {f"src_{k}" for k in RECORD}
    assert stream.primary_key == [["src_id"]]
    assert "src_email" in stream.json_schema["properties"]


def test_mappers_apply_in_order() -> None:
    config = {
        "fieldSelectionEnabled": True,
        "selectedFields": [{"fieldPath": [f]} for f in ("name", "email", "status", "amount")],
        "hashedFields": [{"fieldPath": ["email"]}],
        "mappers": [
            mapper("field-renaming", originalFieldName="amount", newFieldName="total"),
            mapper("row-filtering", expression="status = 'active' AND total > 10"),
        ],
    }
    stream = compiled(config)
    data, _ = stream.apply(dict(RECORD))
    assert data is not None
    assert set(data) == {"id", "name", "email_hashed", "status", "total"}
    assert stream.apply({**RECORD, "amount": 9})[0] is None


def test_a_configuration_with_problems_does_not_compile() -> None:
    config = {"mappers": [mapper("field-filtering", targetField="nope")]}
    with pytest.raises(MapperConfigError) as caught:
        compile_stream(SCHEMA, config, None, None)
    assert "nope" in str(caught.value)


# --- conditions ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("status = 'active'", True),
        ("status != 'active'", False),
        ("amount > 10 AND amount <= 12.5", True),
        ("amount >= 13 OR name = 'Ada Lovelace'", True),
        ("NOT (status = 'active' OR amount < 0)", False),
        ("status IN ('gone', 'active')", True),
        ("status NOT IN ('gone', 'active')", False),
        ("missing IS NULL AND name IS NOT NULL", True),
        ("id = '7'", True),  # Airbyte's EQUAL compares as text
        ("id = 7 and amount = 12.5", True),
        ("\"status\" = 'active' AND `amount` > 1e1", True),
        ("name = 'O''Brien'", False),
        ("missing > 1", False),  # an absent field never compares
        ("missing != 'x'", True),  # != is NOT =
    ],
)
def test_text_conditions(text: str, kept: bool) -> None:
    assert compile_condition(parse_text(text))(RECORD) is kept


def test_quotes_in_text_values() -> None:
    check = compile_condition(parse_text("name = 'O''Brien'"))
    assert check({"name": "O'Brien"}) is True


@pytest.mark.parametrize(
    ("text", "position", "words"),
    [
        ("status = ", 9, "expected a value"),
        ("status = 'active' AND", 21, "expected a field name"),
        ("(amount > 1", 11, "expected ')'"),
        ("amount >> 1", 8, "expected a value"),
        ("status 'x'", 7, "expected a comparison"),
        ("status = 'x' amount", 13, "expected AND, OR"),
        ("amount > 1 # no", 11, "unexpected character"),
        ("status IN ()", 11, "expected a value"),
        ("", 0, "expected a condition"),
    ],
)
def test_text_condition_errors_say_where(text: str, position: int, words: str) -> None:
    with pytest.raises(ConditionError) as caught:
        parse_text(text)
    assert caught.value.position == position
    assert words in str(caught.value) and f"position {position}" in str(caught.value)


def test_text_conditions_are_never_evaluated_as_python() -> None:
    with pytest.raises(ConditionError):
        parse_text("__import__('os').system('true')")


def test_undecoded_values_as_the_relay_hands_them() -> None:
    """The relay decodes a record's data into undecoded values (msgspec.Raw): each mapper
    decodes what it reads and gives the same results as on decoded values."""
    config = {
        "hashedFields": [{"fieldPath": ["name"]}, {"fieldPath": ["email"]}],
        "mappers": [
            mapper("value-transform", targetField="status", operation="UPPERCASE"),
            mapper(
                "row-filtering", expression="status = 'ACTIVE' AND amount > 10 AND tags IS NOT NULL"
            ),
        ],
    }
    stream = compiled(config)
    line = msgspec.json.encode({**RECORD, "name": 'Ada "the first"', "email": "ada\u00e9@x"})
    raw = msgspec.json.decode(line, type=dict[str, msgspec.Raw])
    data, _ = stream.apply(raw)
    assert data is not None
    decoded = msgspec.json.decode(msgspec.json.encode(data))
    assert decoded["name_hashed"] == hashlib.sha256(b'Ada "the first"').hexdigest()
    assert decoded["email_hashed"] == hashlib.sha256("ada\u00e9@x".encode()).hexdigest()
    assert decoded["status"] == "ACTIVE" and decoded["tags"] == ["a"]
    nulls = msgspec.json.decode(
        msgspec.json.encode({**RECORD, "tags": None}), type=dict[str, msgspec.Raw]
    )
    assert stream.apply(nulls)[0] is None
