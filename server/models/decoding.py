"""Request decoding: msgspec's strict types, plus integers written with a zero fraction.

JSON Schema counts `3217.0` as an integer, and Airbyte's server (Jackson) accepts it wherever an
integer goes; msgspec's strict mode refuses it, and its lax mode would also turn `"3217"` into an
integer, which Airbyte refuses. So the fast strict decode runs first, and only when it fails on a
float where an integer is expected, with an integral value, is that one value rewritten and the
body decoded again. Only values the model types as integers are touched: a float inside a
connector configuration (`Any`) stays a float.
"""

from __future__ import annotations

import re
from typing import Any, Generic, TypeVar

import msgspec

T = TypeVar("T")

# msgspec's message for a float where the type (`int`, `int | null`, ...) wants an integer.
_FLOAT_FOR_INT = re.compile(r"^Expected `(?P<type>[^`]*)`, got `float` - at `\$(?P<path>[^`]*)`$")
_SEGMENT = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]")
# Each retry fixes one value; a body with more integral floats than this is refused as before.
_MAX_FIXES = 64


class RequestDecoder(Generic[T]):
    """A `msgspec.json.Decoder` for a request model that also takes `3.0` for the integer 3."""

    def __init__(self, model: type[T]) -> None:
        self._decoder: msgspec.json.Decoder[T] = msgspec.json.Decoder(model)

    def decode(self, raw: bytes) -> T:
        try:
            return self._decoder.decode(raw)
        except msgspec.ValidationError as first:
            error = first
        tree: Any = None
        for _ in range(_MAX_FIXES):
            match = _FLOAT_FOR_INT.match(str(error))
            if match is None or "int" not in match.group("type").split(" | "):
                raise error
            if tree is None:
                tree = msgspec.json.decode(raw)
            if not _make_int(tree, match.group("path")):
                raise error
            try:
                return self._decoder.decode(msgspec.json.encode(tree))
            except msgspec.ValidationError as again:
                error = again
        raise error


def _make_int(tree: Any, path: str) -> bool:
    """Replace the integral float at `path` with its integer; False if it is not one."""
    segments = [(name, index) for name, index in _SEGMENT.findall(path)]
    if not segments or "".join(f".{n}" if n else f"[{i}]" for n, i in segments) != path:
        return False  # a path we cannot follow exactly (e.g. a dict value, `[...]`)
    node = tree
    try:
        for name, index in segments[:-1]:
            node = node[int(index)] if index else node[name]
        name, index = segments[-1]
        key: Any = int(index) if index else name
        value = node[key]
    except (KeyError, IndexError, TypeError):
        return False
    if type(value) is not float or not value.is_integer():
        return False
    node[key] = int(value)
    return True
