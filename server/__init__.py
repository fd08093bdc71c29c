"""Sluice: an Airbyte-compatible data-integration control plane for one machine."""

__version__ = "0.1.0"
