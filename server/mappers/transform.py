"""The relay's per-stream record functions, compiled once per attempt.

Each mapper becomes one closure over its precomputed names (the hashlib constructor bound,
the condition compiled to a predicate), and a record's data goes through them in order, in
place: no schema lookup per record. A step that cannot transform a value (a cipher that
refuses it) sets the output field to null and records the change, as Airbyte's mappers do.

The relay maps a block of records at a time (`run_block`): each step is one loop over the
block's records (or one msgspec call over a column of values: a row filter's numbers, the
texts to hash), not a function call per record and step (measured: about half the mapping
time of the per-record chain). `run`, one record's chain, is what `apply` documents.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from server.mappers.blocks import Block, BlockStep, Data, block_step, digest_of, select_block
from server.mappers.blocks import Change as Change  # re-exported: server.mappers's
from server.mappers.columns import ColumnPlan, compile_columns
from server.mappers.conditions import Raw, as_text, compile_filter, plain
from server.mappers.configs import (
    FIELD_NOT_FOUND,
    Encryption,
    FieldFilter,
    FieldNameTransform,
    Hashing,
    MapperConfigError,
    Renaming,
    RowFilter,
    Spec,
    ValueTransform,
    entries,
)
from server.mappers.validation import Problem, check_stream

Step = Callable[[Data], Data | None]

NULLED = "NULLED"
# The reason Airbyte's hashing and encryption mappers give (the protocol has no closer one).
REASON = "PLATFORM_SERIALIZATION_ERROR"
_MISSING = object()


class StreamMapper:
    """A stream's compiled mappers.

    `json_schema`, `cursor_field`, `primary_key`: what the destination's configured catalog
    gets. `apply(data)` maps one record's data (the dict may be changed in place) and returns
    it (None: filtered out) and the changes to add to the record's `meta.changes`. One
    thread at a time: the steps share a list of the record's changes.

    `run(data)` is one record's chain (the mapped data or None); when `pending` is not
    empty afterwards, it holds the record's changes (to be emptied). The relay calls
    `columns.run` when the stream has a column plan (server.mappers.columns), else (and
    for a block that plan cannot take) `run_block(rows)`: the same steps over a block's
    records as dicts (see `Block`)."""

    def __init__(
        self,
        json_schema: dict[str, Any],
        cursor_field: list[str],
        primary_key: list[list[str]],
        run: Step,
        pending: list[Change],
        block_steps: tuple[BlockStep, ...] = (),
        columns: ColumnPlan | None = None,
        missing: tuple[str, ...] = (),
    ) -> None:
        self.json_schema = json_schema
        self.cursor_field = cursor_field
        self.primary_key = primary_key
        self.run = run
        self.pending = pending
        self.block_steps = block_steps
        self.columns = columns  # the relay's fast way, when the mappers have column forms
        self.missing = missing  # fields named that the schema lacks (compile_stream)

    def apply(self, data: Data) -> tuple[Data | None, list[Change]]:
        block = self.run_block([data])
        if not block.rows:
            return None, []
        return block.rows[0], block.changes.get(0, [])

    def run_block(self, rows: list[Data]) -> Block:
        """The block's records through every step in order (the dicts may be changed)."""
        block = Block(rows)
        for step in self.block_steps:
            if not block.rows:
                break
            step(block)
        return block


def compile_stream(
    json_schema: dict[str, Any],
    config: dict[str, Any],
    cursor_field: list[str] | None,
    primary_key: list[list[str]] | None,
    tolerate_missing: bool = False,
) -> StreamMapper | None:
    """The stream's record function, or None when it has no selection and no mapper.
    Raises MapperConfigError when `validate_stream` reports problems.

    `tolerate_missing` (a sync): a field a mapper or the selection names that the stream's
    schema no longer has (a schema change took it away) is not an error, as Airbyte's
    platform does not fail a sync for it: the mapper acts on the records that still carry
    the field (hashing, filtering, renaming them; a row filter sees it absent elsewhere),
    and `missing` says which. Any other problem is raised, a clash of names above all:
    skipping a mapper then could write a value it was meant to hash or drop."""
    selecting = bool(config.get("fieldSelectionEnabled"))
    if not selecting and not entries(config):
        return None
    validation, specs = check_stream(
        json_schema, config, cursor_field, primary_key, tolerate_missing
    )
    missing: list[Problem] = []
    fatal: list[Problem] = []
    for problem in validation.problems:
        tolerated = tolerate_missing and problem.type == FIELD_NOT_FOUND
        (missing if tolerated else fatal).append(problem)
    if fatal:
        raise MapperConfigError(fatal)
    # The steps of one record note their changes here; `apply` hands them over (a compiled
    # stream serves one thread: the relay's source pump).
    pending: list[Change] = []
    steps: list[Step] = []
    block_steps: list[BlockStep] = []
    keep: tuple[str, ...] | None = None
    if selecting:
        keep = tuple(f.name for f in validation.initial_fields)
        steps.append(_select(keep))
        block_steps.append(select_block(keep))
    for spec in specs:
        step = _step(spec, pending)
        steps.append(step)
        block_steps.append(block_step(spec, step, pending))
    return StreamMapper(
        validation.json_schema,
        validation.cursor_field,
        validation.primary_key,
        _unrolled(tuple(steps)),
        pending,
        tuple(block_steps),
        compile_columns(json_schema, keep, specs),
        tuple(str(p) for p in missing),
    )


def _unrolled(steps: tuple[Step, ...]) -> Step:
    """The steps as one function; up to four written out (no loop: measured ~10% of a
    record's mapping time in the relay), more in a loop."""
    if len(steps) == 1:
        return steps[0]
    if len(steps) == 2:
        a, b = steps

        def two(data: Data) -> Data | None:
            out = a(data)
            return None if out is None else b(out)

        return two
    if len(steps) == 3:
        a, b, c = steps

        def three(data: Data) -> Data | None:
            out = a(data)
            if out is not None:
                out = b(out)
                if out is not None:
                    return c(out)
            return None

        return three
    if len(steps) == 4:
        a, b, c, d = steps

        def four(data: Data) -> Data | None:
            out = a(data)
            if out is not None:
                out = b(out)
                if out is not None:
                    out = c(out)
                    if out is not None:
                        return d(out)
            return None

        return four
    head, rest = _unrolled(steps[:4]), _unrolled(steps[4:])

    def more(data: Data) -> Data | None:
        out = head(data)
        return None if out is None else rest(out)

    return more


def _select(keep: tuple[str, ...]) -> Step:
    def select(data: Data) -> Data:
        return {name: data[name] for name in keep if name in data}

    return select


def _step(spec: Spec, pending: list[Change]) -> Step:
    if isinstance(spec, Hashing):
        return _hashing(spec)
    if isinstance(spec, Encryption):
        return _encryption(spec, pending)
    if isinstance(spec, Renaming):
        return _renaming(spec.old, spec.new)
    if isinstance(spec, RowFilter):
        return compile_filter(spec.condition)
    if isinstance(spec, FieldFilter):
        target = spec.target

        def drop(data: Data) -> Data:
            data.pop(target, None)
            return data

        return drop
    if isinstance(spec, ValueTransform):
        return _value_transform(spec)
    if isinstance(spec, FieldNameTransform):
        return _field_names(spec)
    raise TypeError(f"no step for {spec!r}")  # configs.parse_mapper knows every type


def _hashing(spec: Hashing) -> Step:
    target, output = spec.target, spec.target + spec.suffix
    digest = digest_of(spec.method)

    def hashing(data: Data) -> Data:
        value = data.pop(target, _MISSING)
        if value is _MISSING:
            return data
        if type(value) is Raw:  # as the relay hands it: a text without escapes is hashed as is
            text = bytes(value)
            if text[0] == 34 and b"\\" not in text:  # 34: '"'; a JSON value is never empty
                data[output] = digest(text[1:-1]).hexdigest()
                return data
            value = plain(value)
        if value is None:
            data[output] = None  # nothing to hash: a null stays null
        elif type(value) is str:
            data[output] = digest(value.encode()).hexdigest()
        else:
            data[output] = digest(as_text(value).encode()).hexdigest()
        return data

    return hashing


def _encryption(spec: Encryption, changes: list[Change]) -> Step:
    target, output, encrypt = spec.target, spec.target + spec.suffix, spec.encrypt

    def encryption(data: Data) -> Data:
        value = plain(data.pop(target, _MISSING))
        if value is _MISSING:
            return data
        if value is None:
            data[output] = None
            return data
        try:
            data[output] = encrypt(as_text(value).encode())
        except ValueError:  # more than the cipher takes: the value is not sent
            data[output] = None
            changes.append({"field": output, "change": NULLED, "reason": REASON})
        return data

    return encryption


def _renaming(old: str, new: str) -> Step:
    def renaming(data: Data) -> Data:
        value = data.pop(old, _MISSING)
        if value is not _MISSING:
            data[new] = value
        return data

    return renaming


def _value_transform(spec: ValueTransform) -> Step:
    target, find, replacement = spec.target, spec.find, spec.replacement
    change: Callable[[str], str]
    if spec.operation == "UPPERCASE":
        change = str.upper
    elif spec.operation == "LOWERCASE":
        change = str.lower
    elif isinstance(find, str):
        text = find
        change = lambda value: value.replace(text, replacement)  # noqa: E731
    else:
        pattern = find
        change = lambda value: pattern.sub(replacement, value)  # noqa: E731

    def transform(data: Data) -> Data:
        value = plain(data.get(target))
        if type(value) is str:  # numbers, objects and nulls are left as they are
            data[target] = change(value)
        return data

    return transform


def _field_names(spec: FieldNameTransform) -> Step:
    pattern, replacement = spec.pattern, spec.replacement
    cache: dict[str, str] = {}  # a stream has few distinct names: each is replaced once

    def rename(name: str) -> str:
        new = cache.get(name)
        if new is None:
            new = cache[name] = pattern.sub(replacement, name) or name
        return new

    def field_names(data: Data) -> Data:
        return {rename(name): value for name, value in data.items()}

    return field_names
