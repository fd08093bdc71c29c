"""The data directory holds every secret (the database, job configuration files, logs that
may repeat a configuration), so it and what is in it are private to the server's user:
directories 0700, files 0600, whatever the umask the server was started with.

Two layers: the server runs with umask 077 (`private_umask`, around the app's lifespan), so
every file any part of it creates is private; and the places that hold secrets set their
modes explicitly too (`private_dir`, `open_db`), for code that runs outside the server.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger("sluice.private")

PRIVATE_UMASK = 0o077


def private_dir(path: Path) -> Path:
    """Create `path` (and missing parents) as 0700, and make an existing one 0700.

    A shared directory (sticky bit, as /tmp, or someone else's) is left as it is: taking
    everyone's access away from it is not ours to do.
    """
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = path.stat()
    if info.st_mode & stat.S_ISVTX or info.st_uid != os.geteuid():
        log.warning("%s is a shared directory; its mode is left as it is", path)
    elif stat.S_IMODE(info.st_mode) != 0o700:
        path.chmod(0o700)
    return path


def private_file(path: Path) -> None:
    """Make an existing file 0600 (created by an older version, or under another umask)."""
    with contextlib.suppress(FileNotFoundError):
        if stat.S_IMODE(path.stat().st_mode) != 0o600:
            path.chmod(0o600)


@contextlib.contextmanager
def private_umask() -> Iterator[None]:
    """Run the block with umask 077, then put the previous umask back."""
    previous = os.umask(PRIVATE_UMASK)
    try:
        yield
    finally:
        os.umask(previous)
