"""Notification deliveries and the catalog changes found before syncs."""

from __future__ import annotations

from sqlite_utils import Database


def m014_notifications(db: Database) -> None:
    """Each notification the server sent or will send, and what the receiver answered."""


def m015_catalog_diffs(db: Database) -> None:
    """The catalog changes found for each connection."""
