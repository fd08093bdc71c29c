"""Airbyte's public API (`/api/public/v1`): a face over server.core, as server/api is.

One module per resource, each exporting `handlers` named after `openapi/public.yaml`'s
operationIds (server/public/handlers.py lists them); `rest.py` adapts a handler to a route.
This package's root imports nothing, so `problems` (a leaf) can be imported from anywhere.
"""
