"""Sluice's settings: one frozen Struct, filled once from `SLUICE_*` environment variables."""

from __future__ import annotations

import os
import typing
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

import msgspec


def _help(text: str) -> msgspec.Meta:
    return msgspec.Meta(description=text)


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Every knob Sluice has. Nothing else reads the environment."""

    host: Annotated[str, _help("Address the HTTP server binds to.")] = "127.0.0.1"
    port: Annotated[int, _help("Port the HTTP server listens on.")] = 8000
    data_dir: Annotated[
        str, _help("Directory for the SQLite database, job directories and logs.")
    ] = "./sluice-data"
    max_body_bytes: Annotated[
        int, _help("Largest accepted request body in bytes; larger bodies get 413.")
    ] = 16 * 1024 * 1024
    upload_max_bytes: Annotated[
        int,
        _help(
            "Largest file files/upload accepts, in bytes; a larger upload gets 413 and is not kept."
        ),
    ] = 1024 * 1024 * 1024
    allowed_hosts: Annotated[
        str,
        _help(
            "Host names (comma-separated, each with an optional :port) the server answers for "
            "in the Host header, and whose pages may send it changes (Origin); others are "
            "refused, against DNS rebinding. Empty: the bind address, localhost, 127.0.0.1 "
            "and [::1], any port. '*' allows every host."
        ),
    ] = ""
    http_header_timeout_seconds: Annotated[
        float,
        _help(
            "A connection is closed (408) when a request's headers have not all arrived this "
            "long after it opened or after the request's first byte; 0: no limit."
        ),
    ] = 20.0
    http_body_timeout_seconds: Annotated[
        float,
        _help(
            "A request is refused (408) and its connection closed when its body has not all "
            "arrived this long after its headers; 0: no limit."
        ),
    ] = 60.0
    http_parser: Annotated[
        Literal["auto", "httptools", "h11"],
        _help(
            "HTTP/1.1 parser: 'auto' takes httptools (C, lower latency) when installed, else h11; "
            "both get the header and body read timeouts."
        ),
    ] = "auto"
    log_level: Annotated[str, _help("Server log level (debug, info, warning, error).")] = "info"
    max_concurrent_syncs: Annotated[
        int,
        _help("Sync and reset jobs that run at the same time; more wait as pending (0: none run)."),
    ] = 2
    sync_max_attempts: Annotated[
        int, _help("Attempts a job gets before it fails (the first run plus retries).")
    ] = 3
    sync_retry_backoff_seconds: Annotated[
        float,
        _help(
            "Wait before the first retry of a failed attempt; each further failure in a row "
            "triples it (10 s, 30 s, 90 s as Airbyte). An attempt that committed data resets it."
        ),
    ] = 10.0
    job_log_lines: Annotated[
        int, _help("Last lines of an attempt's log that jobs/get returns (full logs stay on disk).")
    ] = 1000
    worker_poll_seconds: Annotated[
        float, _help("How often the job worker looks for due jobs when nothing wakes it.")
    ] = 5.0
    max_line_bytes: Annotated[
        int,
        _help("Longest message line a connector may print; a longer one fails the run."),
    ] = 64 * 1024 * 1024
    heartbeat_seconds: Annotated[
        float,
        _help(
            "A sync attempt fails ('The source is unresponsive') when the source sends no "
            "record or state for this long (Airbyte's default: 3 h)."
        ),
    ] = 3 * 3600.0
    destination_timeout_seconds: Annotated[
        float,
        _help(
            "The destination is unresponsive (the attempt fails) when it has not read its "
            "input for this long, or not finished this long after the source ended."
        ),
    ] = 3600.0
    state_commit_seconds: Annotated[
        float,
        _help(
            "During a sync, the connection's state is saved at most this often (the latest "
            "state the destination confirmed; always at the end); 0 saves every one."
        ),
    ] = 1.0
    connector_exit_grace_seconds: Annotated[
        float,
        _help(
            "A sync's connector that closes its output must exit within this long; else it "
            "is stopped and the attempt fails, naming it."
        ),
    ] = 10.0
    connector_path: Annotated[
        str,
        _help(
            "Directories (separated by ':') holding the programs of connectors whose "
            "definition runner is 'process' (relative to the working directory); searched "
            "before the built-in connectors beside the server, never $PATH."
        ),
    ] = ".venvs/source-faker/bin"
    allowed_images: Annotated[
        str,
        _help(
            "Image repositories (comma-separated fnmatch patterns) that a definition with "
            "runner 'docker' may name; others are refused."
        ),
    ] = "airbyte/*,sluice/*"
    docker_network: Annotated[
        str,
        _help(
            "Docker network mode of connector containers: 'host' gives them the machine's "
            "network (needed on engines started with --bridge=none); 'none' isolates them; "
            "'bridge' or a named network where the engine has one."
        ),
    ] = "host"
    local_root: Annotated[
        str,
        _help(
            "Host directory mounted at /local in connector containers (Airbyte's convention "
            "for local files); empty means <data_dir>/local."
        ),
    ] = ""
    spec_timeout_seconds: Annotated[
        float, _help("Longest a connector's `spec` may run; it is stopped after that.")
    ] = 120.0
    check_timeout_seconds: Annotated[
        float, _help("Longest a connector's `check` may run; the check then fails.")
    ] = 300.0
    discover_timeout_seconds: Annotated[
        float, _help("Longest a source's `discover` may run; the discover then fails.")
    ] = 600.0
    schema_refresh_seconds: Annotated[
        int,
        _help(
            "Before a sync the source's schema is compared with the connection's: 0 discovers "
            "it afresh every time; N reuses a discover of the same source configuration made "
            "in the last N seconds (Airbyte refreshes once a day: 86400)."
        ),
    ] = 0
    scheduler_tick_seconds: Annotated[
        float,
        _help(
            "How often the scheduler checks basic and cron schedules for due syncs (cron "
            "slots finer than this run late by up to this much); 0 turns it off."
        ),
    ] = 1.0

    auth: Annotated[
        Literal["basic", "none"],
        _help(
            "'basic': every call but health and the token endpoints needs a credential (the "
            "admin's Basic username/password, an application's Bearer token or an API key); "
            "'none': no checks (refused by `sluice serve` off loopback)."
        ),
    ] = "basic"
    username: Annotated[
        str, _help("The instance admin's username (Basic auth; also a token client id).")
    ] = "airbyte"
    password: Annotated[
        str,
        _help(
            "The instance admin's password (also a token client secret). Change it: "
            "`sluice serve` refuses the default off loopback."
        ),
    ] = "password"
    token_key: Annotated[
        str,
        _help(
            "Key that signs Bearer tokens (HS256); empty: a random key generated once into "
            "<data_dir>/token.key (mode 0600). Changing it ends every token issued."
        ),
    ] = ""
    token_expires_seconds: Annotated[
        int, _help("Lifetime of a Bearer token from applications/token, in seconds.")
    ] = 900
    rate_limit: Annotated[
        int,
        _help(
            "Requests per minute per credential (a token bucket that holds a minute's worth; "
            "callers without a valid credential are counted per address); 0 turns it off."
        ),
    ] = 6000
    cors_origins: Annotated[
        str,
        _help(
            "Origins (comma-separated, e.g. https://ui.example) whose pages may call the API "
            "from a browser (CORS); empty: CORS off."
        ),
    ] = ""
    secret_key: Annotated[
        str,
        _help(
            "Key that encrypts the secrets of stored configurations (Fernet: `sluice secrets "
            "new-key` makes one); empty: one generated once into <data_dir>/secret.key (mode "
            "0600). `sluice secrets rotate` changes it."
        ),
    ] = ""
    database_url: Annotated[
        str,
        _help(
            "PostgreSQL to store everything in (postgresql://user:password@host:port/dbname), "
            "shared by several Sluice processes; empty: the SQLite file <data_dir>/sluice.db. "
            "With PostgreSQL, set SLUICE_SECRET_KEY (the same on every process), or each "
            "process uses <data_dir>/secret.key."
        ),
    ] = ""
    run_worker: Annotated[
        bool,
        _help(
            "Whether this process runs sync jobs and the scheduler (`sluice serve --no-worker` "
            "turns it off: the API only, with workers elsewhere on the same PostgreSQL)."
        ),
    ] = True
    worker_id: Annotated[
        str,
        _help(
            "This worker's name in the attempts it runs and its leases; empty: <host>-<data_dir "
            "digest>, stable across restarts, so a worker coming back cleans up after itself."
        ),
    ] = ""
    lease_seconds: Annotated[
        float,
        _help(
            "PostgreSQL: how long a running attempt's lease lasts without renewal (its worker "
            "renews it every second); an expired lease fails the attempt and the job is "
            "retried by another worker, and the connectors it left are removed when its "
            "worker comes back."
        ),
    ] = 30.0

    max_consecutive_failures: Annotated[
        int,
        _help(
            "A connection whose last this many jobs all failed is disabled (set inactive), with "
            "a sendOnSyncDisabled notification, and warned at half of it (Airbyte's rule and "
            "default); 0: never."
        ),
    ] = 100
    max_failing_days: Annotated[
        int,
        _help(
            "A connection whose jobs have only failed for this many days (and at least twice) "
            "is disabled too, warned at half of it (Airbyte: 14); 0: no days rule."
        ),
    ] = 14
    notification_timeout_seconds: Annotated[
        float, _help("How long a notification receiver may take to answer one delivery.")
    ] = 10.0
    notification_max_attempts: Annotated[
        int, _help("Deliveries of one notification before it is recorded as failed.")
    ] = 6
    notification_retry_backoff_seconds: Annotated[
        float,
        _help(
            "Wait before retrying a notification the receiver did not take; doubled after "
            "each failure, at most an hour."
        ),
    ] = 30.0
    notification_poll_seconds: Annotated[
        float, _help("How often the delivery loop looks for notifications to send.")
    ] = 2.0
    notification_allowed_hosts: Annotated[
        str,
        _help(
            "Host names (comma-separated; '.example.com' for a domain and its subdomains) "
            "notifications may be sent to; empty: any http or https receiver."
        ),
    ] = ""
    public_url: Annotated[
        str,
        _help(
            "Sluice's address as people reach it (e.g. https://sluice.example), for the links "
            "in notifications; empty: http://<host>:<port>."
        ),
    ] = ""

    # Settings that hold a credential or a key: never shown by repr (a logged or printed
    # Settings would leak them).
    SECRET_FIELDS: ClassVar[frozenset[str]] = frozenset(
        {"password", "token_key", "secret_key", "database_url"}
    )

    def __repr__(self) -> str:
        shown = (
            f"{name}={'**********' if name in self.SECRET_FIELDS else repr(getattr(self, name))}"
            for name in self.__struct_fields__
        )
        return f"Settings({', '.join(shown)})"

    @property
    def data_path(self) -> Path:
        # Absolute: connectors run in their own job directory, so a relative path handed to
        # them (config file, job directory, /local root, Docker mounts) would miss.
        return Path(self.data_dir).expanduser().resolve()

    @property
    def db_path(self) -> Path:
        return self.data_path / "sluice.db"

    @property
    def database(self) -> Path | str:
        """What `open_db` opens: the PostgreSQL URL when set, else the SQLite file."""
        return self.database_url or self.db_path

    @property
    def local_path(self) -> Path:
        if self.local_root:
            return Path(self.local_root).expanduser().resolve()
        return self.data_path / "local"

    @property
    def connector_dirs(self) -> list[str]:
        return [p for p in self.connector_path.split(os.pathsep) if p]

    @property
    def allowed_image_patterns(self) -> list[str]:
        return [p.strip() for p in self.allowed_images.split(",") if p.strip()]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from `SLUICE_<NAME>` variables; explicit overrides win."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for field in msgspec.structs.fields(cls):
            raw = env.get(f"SLUICE_{field.name.upper()}")
            if raw is not None:
                values[field.name] = raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        # strict=False converts "8000" -> 8000 and "true" -> True, with a clear error otherwise.
        return msgspec.convert(values, cls, strict=False)

    @classmethod
    def describe(cls) -> Iterator[tuple[str, str, str]]:
        """(environment variable, default, help) for each setting: the README table."""
        defaults = cls()
        hints = typing.get_type_hints(cls, include_extras=True)
        for field in msgspec.structs.fields(cls):
            meta = getattr(hints[field.name], "__metadata__", ())
            text = next((m.description or "" for m in meta if isinstance(m, msgspec.Meta)), "")
            yield (f"SLUICE_{field.name.upper()}", str(getattr(defaults, field.name)), text)
