"""A connector spec that marks a secret at each place a spec can: a plain property, inside a
`oneOf` variant, under array items through a `$ref`, and as `additionalProperties`."""

from __future__ import annotations

from typing import Any

SPEC: dict[str, Any] = {
    "type": "object",
    "definitions": {"secret": {"type": "string", "airbyte_secret": True}},
    "properties": {
        "host": {"type": "string"},
        "password": {"type": "string", "airbyte_secret": True},
        "tunnel": {
            "type": "object",
            "oneOf": [
                {"properties": {"method": {"const": "none"}}},
                {
                    "properties": {
                        "method": {"const": "key"},
                        "private_key": {"type": "string", "airbyte_secret": True},
                    }
                },
            ],
        },
        "replicas": {
            "type": "array",
            "items": {"type": "object", "properties": {"token": {"$ref": "#/definitions/secret"}}},
        },
        "headers": {
            "type": "object",
            "additionalProperties": {"type": "string", "airbyte_secret": True},
        },
    },
}
