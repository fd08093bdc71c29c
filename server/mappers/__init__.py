"""Mappers: what a connection does to a stream's records between source and destination.

A stream's configuration (the API's JSON names, as stored in a connection's
`syncCatalog.streams[].config`) may carry, applied in this order:

1. `fieldSelectionEnabled` + `selectedFields` (`[{"fieldPath": ["name"]}]`): keep only the
   selected top-level fields. The cursor and the primary key are always kept, as Airbyte does.
   (The 2020 shape, `fields[].selected`, is turned into `selectedFields` by the API's edge.)
2. Airbyte's deprecated `hashedFields` (`[{"fieldPath": ["name"]}]`): each is a `hashing`
   mapper with method SHA-256 and suffix `_hashed`.
3. `mappers` (`[{"id"?, "type", "mapperConfiguration"}]`), in order.

Airbyte's mapper types and configurations:

- `hashing`: `{targetField, method, fieldNameSuffix = "_hashed"}`; method among MD5, SHA-1,
  SHA-224, SHA-256, SHA-384, SHA-512. The value (as text) is replaced by the hex digest under
  `targetField + fieldNameSuffix`.
- `field-renaming`: `{originalFieldName, newFieldName}`.
- `row-filtering`: `{conditions}`: a record is kept when its condition holds. Airbyte's
  conditions: `{type: EQUAL, fieldName, comparisonValue}` and `{type: NOT, conditions: [..]}`.
- `encryption`: `{algorithm: RSA, targetField, fieldNameSuffix = "_encrypted", publicKey}`
  (hex of the DER public key, or PEM), or `{algorithm: AES, targetField, fieldNameSuffix, key,
  mode (CBC, CFB, OFB, CTR, GCM, ECB), padding (PKCS5Padding, NoPadding)}`; `key` is hex and a
  secret (`SECRET_CONFIG_KEYS`).
- `field-filtering`: `{targetField}`: the field is removed.

Sluice's additions (same list, same shape):

- `row-filtering` conditions beyond Airbyte's: `{type: AND | OR, conditions: [..]}`;
  comparisons `{type: NOT_EQUAL | GREATER_THAN | GREATER_THAN_OR_EQUAL | LESS_THAN |
  LESS_THAN_OR_EQUAL, fieldName, comparisonValue}` (numbers compare as numbers); `{type: IN,
  fieldName, comparisonValues: [..]}`; `{type: IS_NULL, fieldName}` (absent or null). And a
  text form instead of `conditions`: `{expression: "status = 'active' AND amount > 10"}`
  (grammar in `server.mappers.grammar`).
- `value-transform`: `{targetField, operation: UPPERCASE | LOWERCASE | REPLACE, find,
  replacement, regex = false}`: changes a text field's values in place.
- `field-name-transform`: `{pattern, replacement}`: a regular expression replaced in every
  top-level field name (`re.sub`), e.g. `{"pattern": "^", "replacement": "src_"}`.

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
