"""The secret key's file: written whole and durably, private (0600), never half there."""

from __future__ import annotations

import os
from pathlib import Path


def create_key_file(path: Path, text: str) -> str:
    """Write `text` as a new key file; the key already there if another process was first."""
    try:
        return write_key(path, text, exclusive=True)
    except FileExistsError:  # another process starting at the same time wrote it
        return path.read_text()


def write_key(path: Path, text: str, exclusive: bool) -> str:
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    fd = os.open(path, flags, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(text + "\n")
        file.flush()
        os.fsync(file.fileno())
    os.chmod(path, 0o600)  # O_TRUNC keeps an existing file's mode
    return text


def sync_dir(path: Path) -> None:
    """Make a rename in `path` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
