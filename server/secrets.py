"""Moved to `server.domain.secrets`; this name stays until its last importers move."""

from server.domain.secrets import mask_text, secret_values

__all__ = ["mask_text", "secret_values"]
