"""Secrets at rest: the values at a configuration's secret paths are encrypted (Fernet, from
`cryptography`) before they reach SQLite, and decrypted when read back through the store.

Sources and destinations are sealed and opened in `store/sources.py` and
`store/destinations.py`, the one place their configurations are (de)serialised, so no caller
can store a secret in clear or hand a connector a sealed one. A sealed value is the string
`PREFIX + token`, the token encrypting the value's JSON (a secret object is sealed whole). With
no secret paths known, every leaf value is sealed (as every one is masked then). A clear
string that happens to start with PREFIX is sealed too, so every PREFIX string is a token.

The key is `SLUICE_SECRET_KEY`, or one generated once into `<data_dir>/secret.key` (0600). A
`secret_key_check` row holds a token of a known text: a key that does not open it is refused at
start-up (`unlock`), before anything is written with it. Rows stored in clear by an older
version are sealed by `unlock`, not by a named migration: a migration runs once and knows only
the database, while the key is a runtime setting (and a start-up pass also seals a row an older
server wrote into the same file later). `rotate` re-encrypts every value in one transaction.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import os
import time
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import msgspec
from cryptography.fernet import Fernet, InvalidToken
from sqlite_utils import Database

from server.store.key_files import create_key_file, sync_dir, write_key
from server.store.pg import is_postgres

PREFIX = "sluice-sealed:v1:"
KEY_FILE = "secret.key"
# A rotation writes the new key here first and renames it over KEY_FILE once the database
# committed: whichever the file system holds after a crash, one of the two opens the secrets.
NEW_KEY_FILE = "secret.key.new"
TABLES = ("sources", "destinations")
# Every table whose documents may hold a sealed value somewhere: what `rotate` re-encrypts.
SEALED_TABLES = (*TABLES, "connections", "workspaces")
CONFIG = "connectionConfiguration"
_CHECK = b"sluice secret key check"

Paths = Sequence[Sequence[str | None]] | None
S = TypeVar("S", bound=msgspec.Struct)


class SealingKey(Fernet):
    """A Fernet key that also keys digests of values holding secrets (`keyed_digest`)."""

    def __init__(self, key: bytes) -> None:
        super().__init__(key)
        # Domain-separated from the Fernet keys, which are the two halves of the same bytes.
        raw = base64.urlsafe_b64decode(key)
        self.digest_key = hashlib.sha256(b"sluice keyed digest\0" + raw).digest()


class SecretKeyError(Exception):
    """The secret key is missing, malformed or not the one the secrets were sealed with."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class _Keyring:
    configured: str  # SLUICE_SECRET_KEY; "" means the key file
    key_dir: Path | None  # where the key file lives; None: in-memory database, a key per process
    fernet: SealingKey | None = None
    check: str | None = None  # the check token `fernet` opened


_rings: weakref.WeakKeyDictionary[Database, _Keyring] = weakref.WeakKeyDictionary()


def new_key() -> str:
    return Fernet.generate_key().decode()


def bind(db: Database, configured: str, key_dir: Path | None) -> None:
    """Say where `db`'s key comes from (`open_db` does, for every database it opens)."""
    _rings[db] = _Keyring(configured, key_dir)


def unlock(db: Database) -> SealingKey:
    """The key of `db`'s secrets, checked against the database; on first use it also seals
    the values an older version stored in clear. Raises SecretKeyError with what to do."""
    ring = _rings.get(db)
    if ring is None:
        raise SecretKeyError("the database was opened without its secret key (use open_db)")
    check = _check_token(db)
    # One indexed read per use: a `sluice secrets rotate` beside this process is seen at once.
    if ring.fernet is not None and check == ring.check:
        return ring.fernet
    in_transaction, first = db.conn.in_transaction, check is None
    with _atomic(db):
        fernet = _load_key(ring, check)
        if check is None:
            check = _put_check(db, fernet)
        sealed = _seal_clear_rows(db, fernet)
    if not in_transaction:
        # Not cached inside a caller's transaction: it may still roll the check row back.
        ring.fernet, ring.check = fernet, check
        if (first or sealed) and ring.key_dir is not None:
            purge(db)
    return fernet


def keyed_digest(db: Database, data: bytes) -> str:
    """HMAC-SHA256 of `data` under `db`'s secret key. A cache key over a configuration must not
    be a plain hash: a copy of the database would let anyone test guesses of its secrets."""
    return hmac.new(unlock(db).digest_key, data, hashlib.sha256).hexdigest()


def purge(db: Database) -> None:
    """Leave no clear secret in the files: an older version wrote them in clear, and deleted
    or replaced ones stay in the file's free space (it did not set `secure_delete`). VACUUM
    rewrites the file without free space; the checkpoint empties the WAL into it. On
    PostgreSQL there is no file of ours to rewrite: dead row versions are the server's to
    reclaim (autovacuum), and a fresh PostgreSQL database never held a clear secret."""
    if is_postgres(db):
        return
    db.execute("VACUUM")
    checkpoint(db)


def checkpoint(db: Database) -> None:
    """Copy the WAL into the database file and empty it: with `secure_delete` on, the bytes of
    values just replaced are gone from both files (SQLite only, as `purge` says)."""
    if is_postgres(db):
        return
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


# --- sealing and opening configurations -------------------------------------------------


def seal_model(db: Database, model: S, paths: Paths) -> S:
    """`model` (a source or destination) with its configuration's secrets sealed."""
    config = seal(unlock(db), model.connection_configuration, paths)  # type: ignore[attr-defined]
    return msgspec.structs.replace(model, connection_configuration=config)


def open_model(db: Database, model: S) -> S:
    """`model` as stored, with its configuration's sealed values opened."""
    config = model.connection_configuration  # type: ignore[attr-defined]
    if not _has_tokens(config):
        return model
    return msgspec.structs.replace(model, connection_configuration=open_value(unlock(db), config))


def seal(fernet: Fernet, value: Any, paths: Paths) -> Any:
    """`value` with the value at each secret path sealed (every leaf with `paths` None)."""
    if paths is None:
        return _seal_leaves(fernet, value)
    if any(len(path) == 0 for path in paths):
        return None if value is None else _token(fernet, value)
    if isinstance(value, dict):
        return {
            key: seal(fernet, item, [p[1:] for p in paths if p[0] is None or p[0] == key])
            for key, item in value.items()
        }
    if isinstance(value, list):
        inner = [p[1:] for p in paths if p[0] is None]
        return [seal(fernet, item, inner) for item in value]
    if isinstance(value, str) and value.startswith(PREFIX):
        return _token(fernet, value)
    return value


def _seal_leaves(fernet: Fernet, value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _seal_leaves(fernet, item) for key, item in value.items()}
    if isinstance(value, list):
        return [_seal_leaves(fernet, item) for item in value]
    return None if value is None else _token(fernet, value)


def open_value(fernet: Fernet, value: Any) -> Any:
    """`value` with every sealed string replaced by what it seals."""
    if isinstance(value, str) and value.startswith(PREFIX):
        try:
            return msgspec.json.decode(fernet.decrypt(value[len(PREFIX) :]))
        except InvalidToken as exc:
            raise SecretKeyError("a stored secret does not open with the secret key") from exc
    if isinstance(value, dict):
        return {key: open_value(fernet, item) for key, item in value.items()}
    if isinstance(value, list):
        return [open_value(fernet, item) for item in value]
    return value


def _token(fernet: Fernet, value: Any) -> str:
    return PREFIX + fernet.encrypt(msgspec.json.encode(value)).decode()


def _has_tokens(value: Any) -> bool:
    if isinstance(value, str):
        return value.startswith(PREFIX)
    if isinstance(value, dict):
        return any(_has_tokens(item) for item in value.values())
    if isinstance(value, list):
        return any(_has_tokens(item) for item in value)
    return False


def _reseal(old: Fernet, new: Fernet, value: Any) -> Any:
    """Every token of `value` sealed again with `new` (what is sealed stays sealed)."""
    if isinstance(value, str) and value.startswith(PREFIX):
        return _token(new, open_value(old, value))
    if isinstance(value, dict):
        return {key: _reseal(old, new, item) for key, item in value.items()}
    if isinstance(value, list):
        return [_reseal(old, new, item) for item in value]
    return value


# --- rows ------------------------------------------------------------------------------


def _unsealed_rows(db: Database, table: str) -> Iterator[tuple[str, dict[str, Any], Paths]]:
    """The rows that may hold a secret in clear: none of their configuration's values is sealed,
    and their secret paths are unknown or not empty. SQLite picks them out, so a start with
    thousands of sealed rows decodes none of them."""
    rows = db.execute(
        f"SELECT id, data, secret_paths FROM {table} "
        "WHERE instr(coalesce(json_extract(data, '$.connectionConfiguration'), ''), ?) = 0 "
        "AND coalesce(secret_paths, '') != '[]'",
        [PREFIX],
    ).fetchall()
    for row_id, data, paths in rows:
        decoded = None if paths is None else msgspec.json.decode(paths)
        yield row_id, msgspec.json.decode(data), decoded


def _seal_clear_rows(db: Database, fernet: Fernet) -> int:
    """Seal the secrets of rows written in clear (before this version); returns how many."""
    changed = 0
    for table in TABLES:
        for row_id, data, paths in _unsealed_rows(db, table):
            config = data.get(CONFIG)
            if not isinstance(config, dict) or _has_tokens(config):
                continue  # sealed when written (a sealed row has a token, or nothing to seal)
            sealed = seal(fernet, config, paths)
            if sealed != config:
                data[CONFIG] = sealed
                db.execute(
                    f"UPDATE {table} SET data = ? WHERE id = ?",
                    [msgspec.json.encode(data).decode(), row_id],
                )
                changed += 1
    return changed


def rotate(db: Database, new: str | None = None) -> str:
    """Seal every secret of `db` with a new key (`new`, or one generated) in one transaction.

    With the key in a file, the new key goes into the file; with SLUICE_SECRET_KEY, the caller
    must set it to the returned key. Returns the new key."""
    old = unlock(db)
    ring = _rings[db]
    if ring.configured and new is None:
        raise SecretKeyError(
            "SLUICE_SECRET_KEY is set: pass the new key in SLUICE_NEW_SECRET_KEY with --new-key "
            "(make one with `sluice secrets new-key`)"
        )
    text = new if new is not None else new_key()
    fernet = parse_key(text, "the new key")
    pending = None
    if not ring.configured and ring.key_dir is not None:
        pending = ring.key_dir / NEW_KEY_FILE
        write_key(pending, text, exclusive=False)
    with _atomic(db):
        for table in SEALED_TABLES:
            # Wherever a token sits in the document (a configuration, a connection's mapper
            # key, a workspace's webhook secret), it is sealed again.
            rows = db.execute(
                f"SELECT id, data FROM {table} WHERE instr(data, ?) > 0", [PREFIX]
            ).fetchall()
            for row_id, data in rows:
                resealed = _reseal(old, fernet, msgspec.json.decode(data))
                db.execute(
                    f"UPDATE {table} SET data = ? WHERE id = ?",
                    [msgspec.json.encode(resealed).decode(), row_id],
                )
        check = _put_check(db, fernet)
    if pending is not None and ring.key_dir is not None:
        # A server beside us that saw the new check row may have finished the rename first.
        with contextlib.suppress(FileNotFoundError):
            os.replace(pending, ring.key_dir / KEY_FILE)
        sync_dir(ring.key_dir)
    ring.fernet, ring.check = fernet, check
    checkpoint(db)
    return text


# --- the key ---------------------------------------------------------------------------


def parse_key(text: str, where: str) -> SealingKey:
    try:
        return SealingKey(text.strip().encode())
    except (ValueError, binascii.Error):
        raise SecretKeyError(
            f"{where} is not a secret key (32 url-safe base64-encoded bytes); "
            "make one with `sluice secrets new-key`"
        ) from None


def _opens(fernet: Fernet, check: str) -> bool:
    try:
        return fernet.decrypt(check) == _CHECK
    except InvalidToken:
        return False


def _check_token(db: Database) -> str | None:
    row = db.execute("SELECT token FROM secret_key_check WHERE id = 1").fetchone()
    return None if row is None else str(row[0])


def _put_check(db: Database, fernet: Fernet) -> str:
    token = fernet.encrypt(_CHECK).decode()
    db.execute(
        "INSERT INTO secret_key_check (id, token, created_at) VALUES (1, ?, ?) ON CONFLICT (id) "
        "DO UPDATE SET token = excluded.token, created_at = excluded.created_at",
        [token, int(time.time())],
    )
    return token


def _load_key(ring: _Keyring, check: str | None) -> SealingKey:
    if ring.key_dir is None:
        return SealingKey(Fernet.generate_key())
    if ring.configured:
        fernet = parse_key(ring.configured, "SLUICE_SECRET_KEY")
        if check is not None and not _opens(fernet, check):
            raise SecretKeyError(
                "SLUICE_SECRET_KEY does not open the secrets in the database: it is not the key "
                "they were sealed with. Set it to that key, or unset it if they were sealed with "
                f"the key file {ring.key_dir / KEY_FILE}"
            )
        return fernet
    path, pending = ring.key_dir / KEY_FILE, ring.key_dir / NEW_KEY_FILE
    current = parse_key(path.read_text(), str(path)) if path.exists() else None
    if check is None or (current is not None and _opens(current, check)):
        pending.unlink(missing_ok=True)  # a rotation that did not commit
        return current or parse_key(create_key_file(path, new_key()), str(path))
    if pending.exists() and _opens(parse_key(pending.read_text(), str(pending)), check):
        os.replace(pending, path)  # a rotation that committed: finish it
        return parse_key(path.read_text(), str(path))
    if current is None:
        raise SecretKeyError(
            f"the database holds sealed secrets but the key file {path} is missing: restore "
            "it, or set SLUICE_SECRET_KEY to the key they were sealed with"
        )
    raise SecretKeyError(
        f"the key file {path} does not open the secrets in the database: restore the key "
        "they were sealed with, or set SLUICE_SECRET_KEY to it"
    )


@contextlib.contextmanager
def _atomic(db: Database) -> Iterator[None]:
    """Join the caller's transaction, or be one (BEGIN IMMEDIATE ... COMMIT)."""
    if db.conn.in_transaction:
        yield
        return
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.conn.execute("ROLLBACK")
        raise
    db.conn.execute("COMMIT")
