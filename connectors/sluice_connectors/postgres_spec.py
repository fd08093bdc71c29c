"""The specification of destination-postgres: Airbyte's Postgres destination properties (names,
types, titles, required list), so that a configuration moves between the two unchanged.
Airbyte's options that only concern its own machinery (`raw_data_schema`,
`disable_type_dedupe`, `cdc_deletion_mode`) are accepted and ignored; SSH tunnels are not
offered."""

from __future__ import annotations

from typing import Any

_SECRET_TEXT = {"type": "string", "airbyte_secret": True, "multiline": True}


def _ssl_option(mode: str, description: str, **extra: Any) -> dict[str, Any]:
    required = ["mode", *(name for name in extra if name != "client_key_password")]
    return {
        "title": mode,
        "type": "object",
        "additionalProperties": True,
        "description": description,
        "required": required,
        "properties": {
            "mode": {"type": "string", "enum": [mode], "default": mode, "order": 0},
            **extra,
        },
    }


_KEY_PASSWORD = {
    "type": "string",
    "title": "Client key password",
    "description": "Password of the client key, if it is encrypted.",
    "airbyte_secret": True,
}

SPEC: dict[str, Any] = {
    "documentationUrl": "https://docs.airbyte.com/integrations/destinations/postgres",
    "supported_destination_sync_modes": ["overwrite", "append", "append_dedup"],
    "supportsIncremental": True,
    "supportsNormalization": False,
    "supportsDBT": False,
    "connectionSpecification": {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "Postgres Destination Spec",
        "type": "object",
        "required": ["host", "port", "database", "schema", "username"],
        "additionalProperties": True,
        "properties": {
            "host": {
                "type": "string",
                "title": "Host",
                "description": "Hostname of the database.",
                "order": 0,
            },
            "port": {
                "type": "integer",
                "title": "Port",
                "description": "Port of the database.",
                "minimum": 0,
                "maximum": 65536,
                "default": 5432,
                "examples": ["5432"],
                "order": 1,
            },
            "database": {
                "type": "string",
                "title": "DB Name",
                "description": "Name of the database.",
                "order": 2,
            },
            "schema": {
                "type": "string",
                "title": "Default Schema",
                "description": "The schema tables are written to when the source does not set "
                'a namespace. The usual value for this field is "public".',
                "examples": ["public"],
                "default": "public",
                "order": 3,
            },
            "username": {
                "type": "string",
                "title": "User",
                "description": "Username to use to access the database.",
                "order": 4,
            },
            "password": {
                "type": "string",
                "title": "Password",
                "description": "Password associated with the username.",
                "airbyte_secret": True,
                "order": 5,
            },
            "ssl": {
                "type": "boolean",
                "title": "SSL Connection",
                "description": "Encrypt data using SSL. When activating SSL, please select one "
                "of the connection modes.",
                "default": False,
                "order": 6,
            },
            "ssl_mode": {
                "type": "object",
                "title": "SSL modes",
                "description": "SSL connection modes, as libpq's sslmode: disable, allow, "
                "prefer, require, verify-ca (check the server certificate against a CA) and "
                "verify-full (also check the host name).",
                "order": 7,
                "oneOf": [
                    _ssl_option("disable", "Disable SSL."),
                    _ssl_option("allow", "Allow SSL mode."),
                    _ssl_option("prefer", "Prefer SSL mode."),
                    _ssl_option("require", "Require SSL mode."),
                    _ssl_option(
                        "verify-ca",
                        "Verify-ca SSL mode.",
                        ca_certificate={**_SECRET_TEXT, "title": "CA certificate", "order": 1},
                        client_key_password={**_KEY_PASSWORD, "order": 4},
                    ),
                    _ssl_option(
                        "verify-full",
                        "Verify-full SSL mode.",
                        ca_certificate={**_SECRET_TEXT, "title": "CA certificate", "order": 1},
                        client_certificate={
                            **_SECRET_TEXT,
                            "title": "Client certificate",
                            "order": 2,
                        },
                        client_key={**_SECRET_TEXT, "title": "Client key", "order": 3},
                        client_key_password={**_KEY_PASSWORD, "order": 4},
                    ),
                ],
            },
            "jdbc_url_params": {
                "type": "string",
                "title": "JDBC URL Params",
                "description": "Additional properties formatted as 'key=value' pairs separated "
                "by '&' (key1=value1&key2=value2). Those with a libpq equivalent "
                "(ApplicationName, connectTimeout, options, sslmode...) are applied.",
                "order": 8,
            },
            "unconstrained_number": {
                "type": "boolean",
                "title": "Unconstrained numeric columns",
                "description": "Create number columns as unconstrained NUMERIC (the default "
                "here) rather than DECIMAL(38, 9).",
                "default": True,
                "order": 9,
            },
            "drop_cascade": {
                "type": "boolean",
                "title": "Drop tables with CASCADE",
                "description": "Drop replaced tables with CASCADE, which also deletes dependent "
                "objects such as views.",
                "default": False,
                "order": 10,
            },
        },
    },
}
