"""The base of every API model: camelCase on the wire, keyword-only, None and defaults omitted."""

from __future__ import annotations

import re
from typing import Annotated, TypeVar

import msgspec

M = TypeVar("M", bound=msgspec.Struct)

# Paging values end up in SQLite, whose integers are 64-bit: bounded, a huge value is a 422.
PageSize = Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]
RowOffset = Annotated[int, msgspec.Meta(ge=0, le=2**62)]
# An absolute URI (scheme, then something): Airbyte's `format: uri` fields. `""` is not one.
_URI = r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$"
Uri = Annotated[str, msgspec.Meta(pattern=_URI, max_length=2048)]


def uri_or_none(value: str | None) -> str | None:
    """`value` if it is an absolute URI, else None: a reply leaves such a field out rather than
    sending `""` (or another non-URI) where Airbyte's schema says `format: uri`."""
    return value if value is not None and re.match(_URI, value) else None


class Model(msgspec.Struct, rename="camel", kw_only=True, omit_defaults=True):
    """API model. Fields a client relies on seeing are required (no default), so they are always
    sent; optional fields are left out of replies when unset, as Airbyte's server does."""


class Empty(Model):
    """A request with no fields: `{}` or an empty body."""


def merge(current: M, update: msgspec.Struct) -> M:
    """`current` with every field that `update` sets (not None) and `current` also has.

    Airbyte's updates send the whole object, but clients often send only what changes; a field
    left out (None) keeps its stored value.
    """
    changes = {
        name: value
        for name in update.__struct_fields__
        if name in current.__struct_fields__ and (value := getattr(update, name)) is not None
    }
    return msgspec.structs.replace(current, **changes)
