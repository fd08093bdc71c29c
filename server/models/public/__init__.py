"""The public API's models (`/api/public/v1`): Airbyte's public names, camelCase on the wire."""
