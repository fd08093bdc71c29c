"""A stream's mappers over a block of records at a time, as the relay calls them.

Each step is one loop over the block's records, or one msgspec call over a column of
values (the texts to hash, a row filter's numbers) followed by a C-level pass: no Python
function call per record and step. A step whose values are not all as the relay hands them
(undecoded, present) takes the records one by one through the same per-record step
(server.mappers.transform), so both give the same results.
"""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Callable
from itertools import compress
from typing import Any, cast

import msgspec

from server.mappers.conditions import COMPARISONS, Compare, as_text
from server.mappers.configs import Encryption, FieldFilter, Hashing, Renaming, RowFilter, Spec

# One entry of a record's `meta.changes` (Airbyte's AirbyteRecordMessageMetaChange):
# {"field": ..., "change": "NULLED", "reason": "PLATFORM_SERIALIZATION_ERROR"}.
Change = dict[str, str]
Data = dict[str, Any]
Step = Callable[[Data], Data | None]

_MISSING = object()
_values = msgspec.json.Decoder(list[Any])  # a column of undecoded values, in one call
_COLUMN_ERRORS = (TypeError, msgspec.DecodeError)  # a value that is not undecoded JSON


class Block:
    """A block's records as the steps leave them: `rows` the data kept, `places` their
    positions in the block given (None: all of them, in order), `changes` by position."""

    __slots__ = ("changes", "places", "rows")

    def __init__(self, rows: list[Data]) -> None:
        self.rows = rows
        self.places: list[int] | None = None
        self.changes: dict[int, list[Change]] = {}

    def keep(self, flags: list[bool]) -> None:
        """Keep the rows whose flag is true."""
        if all(flags):
            return
        self.rows = list(compress(self.rows, flags))
        places = self.places if self.places is not None else range(len(flags))
        self.places = list(compress(places, flags))

    def place(self, index: int) -> int:
        return index if self.places is None else self.places[index]


BlockStep = Callable[[Block], None]


# CPython's own digests (the same values): for short values their constructors cost about
# half of OpenSSL's (measured: SHA-256 of a 12-byte text 1.8 us against 3.9 us).
_BUILTIN_DIGESTS = {
    "md5": ("_md5",),
    "sha1": ("_sha1",),
    "sha224": ("_sha2", "_sha256"),
    "sha256": ("_sha2", "_sha256"),
    "sha384": ("_sha2", "_sha512"),
    "sha512": ("_sha2", "_sha512"),
}


def digest_of(method: str) -> Callable[[bytes], Any]:
    """The fastest constructor of a hashlib digest by name."""
    for module in _BUILTIN_DIGESTS.get(method, ()):
        try:
            found = getattr(importlib.import_module(module), method, None)
        except ImportError:
            continue
        if found is not None:
            return found  # type: ignore[no-any-return]  # a C constructor, untyped
    return getattr(hashlib, method)  # type: ignore[no-any-return]  # hashlib's, by name


def _column(values: list[Any]) -> list[Any]:
    """Undecoded values (msgspec.Raw) decoded in one call; TypeError if one is not (absent,
    or already a Python value), msgspec.DecodeError if one is not JSON."""
    return _values.decode(b"[" + b",".join(values) + b"]")


def select_block(keep: tuple[str, ...]) -> BlockStep:
    def select(block: Block) -> None:
        block.rows = [{name: data[name] for name in keep if name in data} for data in block.rows]

    return select


def block_step(spec: Spec, step: Step, pending: list[Change]) -> BlockStep:
    """The block form of a mapper; `step` is its per-record form (the same closure the
    record chain calls), `pending` where that one notes a record's changes."""
    if isinstance(spec, Hashing):
        return _hashing(spec, step, digest_of(spec.method))
    if isinstance(spec, Renaming):
        return _renaming(spec.old, spec.new)
    if isinstance(spec, FieldFilter):
        return _dropping(spec.target)
    if isinstance(spec, RowFilter):
        return _filtering(spec, step)
    if isinstance(spec, Encryption):
        return _with_changes(step, pending)
    one = cast(Callable[[Data], Data], step)  # value and field-name transforms keep the record

    def each(block: Block) -> None:
        block.rows = [one(data) for data in block.rows]

    return each


def _hashing(spec: Hashing, step: Step, digest: Callable[[bytes], Any]) -> BlockStep:
    target, output = spec.target, spec.target + spec.suffix

    def hashed(value: Any) -> str | None:
        if value is None:
            return None  # nothing to hash: a null stays null
        return str(digest(as_text(value).encode()).hexdigest())

    def hashing(block: Block) -> None:
        rows = block.rows
        try:
            texts = _column([data.get(target, _MISSING) for data in rows])
        except _COLUMN_ERRORS:
            for data in rows:
                step(data)
            return
        digests = [
            digest(text.encode()).hexdigest() if type(text) is str else hashed(text)
            for text in texts
        ]
        for data, value in zip(rows, digests, strict=True):
            del data[target]  # then set: the hashed field goes last, as one record's step
            data[output] = value

    return hashing


def _renaming(old: str, new: str) -> BlockStep:
    def renaming(block: Block) -> None:
        for data in block.rows:
            if old in data:
                data[new] = data.pop(old)

    return renaming


def _dropping(target: str) -> BlockStep:
    def drop(block: Block) -> None:
        for data in block.rows:
            data.pop(target, None)

    return drop


def _filtering(spec: RowFilter, step: Step) -> BlockStep:
    """A numeric comparison (the common filter) decodes the column at once and compares in
    a comprehension; a record whose value is not a number (absent, text, a boolean) and any
    other condition go through the record's step."""
    condition = spec.condition

    def filtering(block: Block) -> None:
        block.keep([step(data) is not None for data in block.rows])

    if not (isinstance(condition, Compare) and condition.op != "NOT_EQUAL"):
        return filtering
    number = condition.value
    if not isinstance(number, int | float) or isinstance(number, bool):
        return filtering
    field, check = condition.field, COMPARISONS[condition.op]

    def numeric(block: Block) -> None:
        rows = block.rows
        try:
            values = _column([data.get(field, _MISSING) for data in rows])
        except _COLUMN_ERRORS:
            return filtering(block)
        block.keep(
            [
                check(value, number)
                if type(value) is float or type(value) is int
                else step(data) is not None
                for value, data in zip(values, rows, strict=True)
            ]
        )
        return None

    return numeric


def _with_changes(step: Step, pending: list[Change]) -> BlockStep:
    """A step that may record changes (encryption): they are kept by the record's place."""

    def run(block: Block) -> None:
        for index, data in enumerate(block.rows):
            step(data)
            if pending:
                block.changes.setdefault(block.place(index), []).extend(pending)
                pending.clear()

    return run
