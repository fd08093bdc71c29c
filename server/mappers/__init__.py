"""Mappers: what a connection does to a stream's records between source and destination.

A stream's configuration (the API's JSON names, as stored in a connection's
`syncCatalog.streams[].config`) may carry, applied in this order:

1. `fieldSelectionEnabled` + `selectedFields` (`[{"fieldPath": ["name"]}]`): keep only the
   selected top-level fields. The cursor and the primary key given are always kept, as
   Airbyte does (the API and the sync give an incremental stream's cursor and a
   deduplicated stream's key: server.core.stream_mappers.mapper_inputs).
   (The 2020 shape, `fields[].selected`, is turned into `selectedFields` by the API's edge.)
2. Airbyte's deprecated `hashedFields` (`[{"fieldPath": ["name"]}]`): each is a `hashing`
   mapper with method SHA-256 and suffix `_hashed`.
3. `mappers` (`[{"id"?, "type", "mapperConfiguration"}]`), in order.

Airbyte's mapper types and configurations:

- `hashing`: `{targetField, method = SHA-256, fieldNameSuffix = "_hashed"}`; method among MD5,
  SHA-1, SHA-224, SHA-256, SHA-384, SHA-512 (not Airbyte's MD2). The value (as text: numbers
  as written, booleans `true`/`false`) is replaced by its hex digest under `targetField +
  fieldNameSuffix`; a null stays null.
- `field-renaming`: `{originalFieldName, newFieldName}`.
- `row-filtering`: `{conditions}`: a record is kept when its condition holds. Airbyte's
  conditions: `{type: EQUAL, fieldName, comparisonValue}` (compared as text), `{type: NOT |
  AND | OR, conditions: [..]}` (NOT: none of them holds).
- `encryption`: `{algorithm: RSA, targetField, fieldNameSuffix = "_encrypted", publicKey}`
  (hex of the DER public key, or PEM), or `{algorithm: AES, targetField, fieldNameSuffix, key,
  mode (CBC, CFB, OFB, CTR, GCM, ECB), padding (PKCS5Padding, NoPadding)}`; `key` is hex and a
  secret (`SECRET_CONFIG_KEYS`). The value is hex, as Airbyte writes it (server.mappers.crypto);
  one the cipher cannot take is nulled and the change recorded (`NULLED`,
  `PLATFORM_SERIALIZATION_ERROR`, Airbyte's reason).
- `field-filtering`: `{targetField}`: the field is removed.

Sluice's additions (same list, same shape):

- `row-filtering` conditions beyond Airbyte's: comparisons `{type: NOT_EQUAL | GREATER_THAN |
  GREATER_THAN_OR_EQUAL | LESS_THAN | LESS_THAN_OR_EQUAL, fieldName, comparisonValue}`
  (a number compares as a number, a text as text); `{type: IN, fieldName, comparisonValues:
  [..]}`; `{type: IS_NULL, fieldName}` (absent or null). And a text form instead of
  `conditions`: `{expression: "status = 'active' AND amount > 10"}` (grammar in
  `server.mappers.grammar`).
- `value-transform`: `{targetField, operation: UPPERCASE | LOWERCASE | REPLACE, find,
  replacement, regex = false}`: changes a text field's values in place.
- `field-name-transform`: `{pattern, replacement}`: a regular expression replaced in every
  top-level field name (`re.sub`), e.g. `{"pattern": "^", "replacement": "src_"}`.

Problems (Airbyte's MapperValidationError types): a field that is not there
(FIELD_NOT_FOUND), a new name that is (FIELD_ALREADY_EXISTS), removing the cursor or a key
field, encrypting one (its values could no longer order or identify records), a bad key,
method or condition (INVALID_MAPPER_CONFIG), an unknown type (MISSING_MAPPER). Hashing or
renaming the cursor or a key field is allowed and renames it, as Airbyte does. A mapper with
a problem is skipped by `validate_stream` (the next sees the fields before it).

The two entry points:

- `validate_stream(json_schema, config, cursor_field, primary_key) -> StreamValidation`: what
  the API checks and `web_backend/mappers/validate` answers (fields before and after each
  mapper, each mapper's error). It never raises for bad input.
- `compile_stream(json_schema, config, cursor_field, primary_key) -> StreamMapper | None`: the
  relay's per-stream record function (None: nothing to do, the stream stays on the byte path).
  Raises `MapperConfigError` for a configuration `validate_stream` reports problems for.
  `config` must hold the secrets in the clear (the caller resolves stored ones).
"""

from __future__ import annotations

from server.mappers.configs import MAPPER_TYPES, SECRET_CONFIG_KEYS, MapperConfigError
from server.mappers.transform import Change, StreamMapper, compile_stream
from server.mappers.validation import (
    FieldSpec,
    MapperError,
    MapperValidation,
    Problem,
    StreamValidation,
    validate_stream,
)

__all__ = [
    "MAPPER_TYPES",
    "SECRET_CONFIG_KEYS",
    "Change",
    "FieldSpec",
    "MapperConfigError",
    "MapperError",
    "MapperValidation",
    "Problem",
    "StreamMapper",
    "StreamValidation",
    "compile_stream",
    "validate_stream",
]
