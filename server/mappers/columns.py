"""A stream's mappers as operations on a block's columns, for the relay's common case.

When a stream's mappers are only field selection, field filtering, renaming, hashing and
row filters, a block's record data are decoded in one msgspec call into Structs of the
stream's declared fields (each value undecoded, an absent one `UNSET`), taken apart into one
list per field, and each mapper works on whole columns: removing or renaming a field is one
dict operation per block, hashing one pass over a column, a row filter one pass and a
C-level `compress` of each column. The columns are put together again as Structs of the
output fields (absent values are left out when encoded). Measured: about half the CPU of the
same steps over dicts.

A record with a field the schema does not declare fails the block's decode: that block (and,
after a few, the stream's later blocks) goes the dict way (server.mappers.blocks), which
keeps such fields. With a field selection, undeclared fields are dropped at decoding, as the
selection drops them. Output fields come in the order of the schema's properties (the dict
way keeps a record's own order): JSON objects are unordered.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import compress, repeat
from operator import attrgetter, methodcaller
from typing import Any

import msgspec

from server.mappers.blocks import Data, digest_of
from server.mappers.conditions import COMPARISONS, Compare, as_text, compile_condition, fields_of
from server.mappers.configs import FieldFilter, Hashing, Renaming, RowFilter, Spec

UNSET = msgspec.UNSET
Columns = dict[str, list[Any]]
# A step changes the columns (the block's size given); a filter returns its row flags.
ColumnStep = Callable[[Columns, int], list[bool] | None]
_values = msgspec.json.Decoder(list[Any])
_numbers = msgspec.json.Decoder(list[int | float])  # refuses booleans, texts and nulls
_COLUMN_ERRORS = (TypeError, msgspec.DecodeError)
_hexdigest = methodcaller("hexdigest")
FAILURES_BEFORE_GIVING_UP = 3  # blocks with undeclared fields: then the dict way only


class ColumnPlan:
    """`run(joined)`: the mapped data of a block (`joined`: a JSON array of the records'
    data) as output Structs and the flags of the records kept (None: all), or None when
    the block cannot be decoded so (undeclared fields: the dict way takes it)."""

    def __init__(
        self,
        fields: Sequence[str],
        selecting: bool,
        steps: list[ColumnStep],
        output: list[str],
        first: list[tuple[list[tuple[str, str]], ColumnStep]],
    ) -> None:
        """`first`: row filters that read only fields no step before them changes, each with
        the (name it reads, source field) pairs: they run on the decoded Structs, before
        any column is taken apart (a record dropped so costs no hashing)."""
        names = {f"f{i}": name for i, name in enumerate(fields)}
        source = msgspec.defstruct(
            "Source",
            [(attr, msgspec.Raw, UNSET) for attr in names],
            rename=names,
            forbid_unknown_fields=not selecting,
            gc=False,
        )
        self.decoder = msgspec.json.Decoder(list[source])  # type: ignore[valid-type]  # made above
        self.getters = [(name, attrgetter(attr)) for attr, name in names.items()]
        by_name = dict(self.getters)
        self.first = [
            ([(read, by_name[field]) for read, field in reads], step) for reads, step in first
        ]
        self.steps = steps
        self.output = output
        outs = {f"f{i}": name for i, name in enumerate(output)}
        self.make = msgspec.defstruct(
            "Output", [(attr, Any, UNSET) for attr in outs], rename=outs, gc=False
        )
        self.failures = 0

    def run(self, joined: bytes) -> tuple[list[Any], list[bool] | None] | None:
        if self.failures >= FAILURES_BEFORE_GIVING_UP:
            return None
        try:
            structs = self.decoder.decode(joined)
        except msgspec.ValidationError:
            self.failures += 1
            return None
        kept: list[bool] | None = None
        size = len(structs)
        for reads, first in self.first:
            flags = first({name: list(map(get, structs)) for name, get in reads}, size)
            if flags is not None and not all(flags):
                kept = flags if kept is None else _merge(kept, flags)
                structs = list(compress(structs, flags))
                size = len(structs)
        columns: Columns = {name: list(map(get, structs)) for name, get in self.getters}
        for step in self.steps:
            flags = step(columns, size)
            if flags is not None and not all(flags):
                kept = flags if kept is None else _merge(kept, flags)
                for name, column in columns.items():
                    columns[name] = list(compress(column, flags))
                size = len(flags) - flags.count(False)
        return list(map(self.make, *(columns[name] for name in self.output))), kept


def _merge(kept: list[bool], flags: list[bool]) -> list[bool]:
    """The flags over the block's records, from those over the ones kept so far."""
    later = iter(flags)
    return [next(later) if was else False for was in kept]


def compile_columns(
    json_schema: dict[str, Any], selected: Sequence[str] | None, specs: Sequence[Spec]
) -> ColumnPlan | None:
    """The stream's column plan, or None when a mapper has no column form (encryption,
    value and field-name transforms) or the schema names no fields."""
    properties = json_schema.get("properties")
    if not isinstance(properties, dict) or not properties:
        return None
    fields = list(selected) if selected is not None else list(properties)
    names = list(fields)
    # Each column's source field while its values are the decoded ones (renames keep them).
    origin: dict[str, str] = {name: name for name in fields}
    steps: list[ColumnStep] = []
    first: list[tuple[list[tuple[str, str]], ColumnStep]] = []
    for spec in specs:
        step = _step(spec, names)
        if step is None:
            return None
        reads = _origins(spec, origin)
        if reads is not None:
            first.append((reads, step))
        else:
            steps.append(step)
    return ColumnPlan(fields, selected is not None, steps, names, first)


def _origins(spec: Spec, origin: dict[str, str]) -> list[tuple[str, str]] | None:
    """For a row filter that reads only columns holding their decoded values: the (name,
    source field) pairs it reads; else None. `origin` follows the other steps."""
    if isinstance(spec, RowFilter):
        reads = list(dict.fromkeys(fields_of(spec.condition)))
        if all(name in origin for name in reads):
            return [(name, origin[name]) for name in reads]
    elif isinstance(spec, Renaming):
        if spec.old in origin:
            origin[spec.new] = origin.pop(spec.old)
    elif isinstance(spec, FieldFilter):
        origin.pop(spec.target, None)
    elif isinstance(spec, Hashing):
        origin.pop(spec.target, None)
        origin.pop(spec.target + spec.suffix, None)
    return None


def _step(spec: Spec, names: list[str]) -> ColumnStep | None:
    """The column form of a mapper; `names` (the columns so far, in order) is updated."""
    if isinstance(spec, FieldFilter):
        if spec.target in names:
            names.remove(spec.target)
        return _dropping(spec.target)
    if isinstance(spec, Renaming):
        old, new = spec.old, spec.new
        if new in names and new != old:
            return None  # onto a field that is there (refused when checked): the dict way
        if old in names:
            names.remove(old)
            names.append(new)
        return _renaming(old, new)
    if isinstance(spec, Hashing):
        output = spec.target + spec.suffix
        if output in names and output != spec.target:
            return None
        if spec.target in names:
            names.remove(spec.target)
            names.append(output)
        return _hashing(spec.target, output, digest_of(spec.method))
    if isinstance(spec, RowFilter):
        return _filtering(spec)
    return None


def _dropping(target: str) -> ColumnStep:
    def drop(columns: Columns, size: int) -> None:
        columns.pop(target, None)

    return drop


def _renaming(old: str, new: str) -> ColumnStep:
    def renaming(columns: Columns, size: int) -> None:
        column = columns.pop(old, None)
        if column is not None:
            columns[new] = column

    return renaming


def _hashing(target: str, output: str, digest: Callable[[bytes], Any]) -> ColumnStep:
    def one(value: Any) -> Any:
        if value is UNSET:
            return UNSET  # absent: stays absent
        if type(value) is msgspec.Raw:
            value = msgspec.json.decode(value)
        if value is None:
            return None  # nothing to hash: a null stays null
        return digest(as_text(value).encode()).hexdigest()

    def hashing(columns: Columns, size: int) -> None:
        column = columns.pop(target, None)
        if column is None:
            return
        try:
            texts = _values.decode(b"[" + b",".join(column) + b"]")
        except _COLUMN_ERRORS:  # absent values, or ones an earlier step made
            columns[output] = list(map(one, column))
            return
        try:  # all texts (the common case): C-level maps, no bytecode per value
            columns[output] = list(map(_hexdigest, map(digest, map(str.encode, texts))))
        except TypeError:  # a value that is not a text: each on its own
            columns[output] = [
                digest(text.encode()).hexdigest() if type(text) is str else one(text)
                for text in texts
            ]

    return hashing


def _filtering(spec: RowFilter) -> ColumnStep:
    """Flags of the records whose condition holds: a numeric comparison over its decoded
    column; otherwise the condition's predicate on a dict of the fields it reads."""
    condition = spec.condition
    keep = compile_condition(condition)
    fields = list(dict.fromkeys(fields_of(condition)))

    def filtering(columns: Columns, size: int) -> list[bool]:
        found = [columns.get(name, [UNSET] * size) for name in fields]
        return [keep(_record(fields, values)) for values in zip(*found, strict=True)]

    if not (isinstance(condition, Compare) and condition.op != "NOT_EQUAL"):
        return filtering
    number = condition.value
    if not isinstance(number, int | float) or isinstance(number, bool):
        return filtering
    field, check = condition.field, COMPARISONS[condition.op]

    def numeric(columns: Columns, size: int) -> list[bool]:
        column = columns.get(field)
        if column is None:
            return filtering(columns, size)
        try:
            joined = b"[" + b",".join(column) + b"]"
            try:  # all numbers (the common case): compared by one C-level map
                return list(map(check, _numbers.decode(joined), repeat(number)))
            except msgspec.ValidationError:  # a text, a boolean, a null: by the predicate
                values = _values.decode(joined)
        except _COLUMN_ERRORS:  # absent values, or ones an earlier step made
            return filtering(columns, size)
        return [
            check(value, number)
            if type(value) is float or type(value) is int
            else keep({field: value})
            for value in values
        ]

    return numeric


def _record(fields: list[str], values: tuple[Any, ...]) -> Data:
    return {name: value for name, value in zip(fields, values, strict=True) if value is not UNSET}
