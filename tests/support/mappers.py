"""What the mapper tests share: a stream's JSON schema and a mapper in the API's shape."""

from __future__ import annotations

from typing import Any

SCHEMA: dict[str, Any] = {
    "type": "object",
    "$schema": "http://json-schema.org/draft-07/schema#",
    "properties": {
        "id": {"type": "integer"},
        "updated_at": {"type": "integer"},
        "name": {"type": ["null", "string"]},
        "email": {"type": "string"},
        "status": {"type": "string"},
        "amount": {"type": "number"},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
}


def mapper(kind: str, **configuration: Any) -> dict[str, Any]:
    """One entry of a stream's `mappers`: `{type, mapperConfiguration}`."""
    return {"type": kind, "mapperConfiguration": configuration}
