"""Local file paths under the data root: Airbyte's `/local` convention.

Airbyte mounts one host directory into every connector container at `/local`, and local-file
connectors take paths that start with `/local/`. Sluice keeps that contract:

* The data root is the directory named by the environment variable `SLUICE_LOCAL_ROOT`, or
  `/local` when it is unset (the mount point inside a connector image).
* A path `/local/a/b.csv` means `<data root>/a/b.csv`; a relative path `a/b.csv` means the same.
* Any other absolute path, or one whose `..` parts or symbolic links lead outside the data
  root, is refused with a `ConfigError` (so `check` fails with a clear message).
"""

from __future__ import annotations

import glob
import os
from pathlib import Path, PurePosixPath

from sluice_connectors.entrypoint import ConfigError

LOCAL_PREFIX = "/local"
ROOT_ENV = "SLUICE_LOCAL_ROOT"


def data_root() -> Path:
    return Path(os.environ.get(ROOT_ENV) or LOCAL_PREFIX)


def local_relative(path: str) -> PurePosixPath:
    """The part of a configured path below `/local`, checked without touching the disk (so
    the server can refuse a bad path when the configuration is saved): not empty, under
    `/local/` or relative, and no `..` part."""
    relative = _relative_part(path)
    # Refuse `..` before resolving so a path like /local/../etc/passwd never reaches the disk.
    if ".." in relative.parts:
        raise ConfigError(f"path {path!r} escapes the data root {LOCAL_PREFIX}/")
    return relative


def _relative_part(path: str) -> PurePosixPath:
    """The part of a configured path below `/local`."""
    if not path or not path.strip():
        raise ConfigError("the path is empty")
    pure = PurePosixPath(path.strip())
    if pure.is_absolute():
        try:
            return pure.relative_to(LOCAL_PREFIX)
        except ValueError:
            raise ConfigError(
                f"path {path!r} must start with {LOCAL_PREFIX}/ (the data root) "
                "or be relative to it"
            ) from None
    return pure


def _inside(candidate: Path, root: Path, original: str) -> Path:
    real_root = root.resolve()
    real = candidate.resolve()
    if real != real_root and real_root not in real.parents:
        raise ConfigError(f"path {original!r} escapes the data root {LOCAL_PREFIX}/")
    return real


def resolve_local(path: str) -> Path:
    """The real path on this machine for a configured path; refuses paths outside the root.

    The target need not exist (destinations create it)."""
    root = data_root()
    return _inside(root / local_relative(path), root, path)


def glob_local(pattern: str) -> list[Path]:
    """Files matching a configured path or glob (`*`, `?`, `[...]`, `**`), sorted; each one
    must lie inside the data root once symbolic links are followed."""
    root = data_root()
    relative = local_relative(pattern)
    full = root / relative
    if not glob.has_magic(str(relative)):
        return [_inside(full, root, pattern)] if full.is_file() else []
    # Escape the root so only the configured part is a pattern.
    found = glob.glob(os.path.join(glob.escape(str(root)), str(relative)), recursive=True)
    matches = sorted(Path(p) for p in found)
    return [_inside(p, root, pattern) for p in matches if p.is_file()]
