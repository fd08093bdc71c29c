"""A small client of Sluice's HTTP API, for the commands that drive a server remotely.

Where the server is and who calls it, most specific first: the command's flags
(`--server`, `--username`, `--password`), the environment (`SLUICE_URL`, `SLUICE_USERNAME`,
`SLUICE_PASSWORD`, `SLUICE_TOKEN`), a TOML file (`$SLUICE_CLIENT_CONFIG`, else
`~/.config/sluice/client.toml`: `url`, `username`, `password` or `token`), then the defaults
(`http://127.0.0.1:8000`, the instance admin's `airbyte`/`password`).

This package is a client only: it never imports the server's core, store or faces
(tests/test_import_layout.py), so what it does is what any HTTP caller could do.
"""

from __future__ import annotations

import argparse
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

DEFAULT_URL = "http://127.0.0.1:8000"
DEFAULT_USERNAME = "airbyte"
DEFAULT_PASSWORD = "password"  # the instance admin's default (server/settings.py)
TIMEOUT_SECONDS = 60.0  # a check or discover runs a connector: give it time


class RemoteError(Exception):
    """A call the server refused (`status` its HTTP status) or could not be made (`status` 0:
    unreachable, no reply). `message` and `details` come from the API's error body."""

    def __init__(self, status: int, message: str, details: Mapping[str, Any] | None = None) -> None:
        self.status = status
        self.message = message
        self.details: dict[str, Any] = dict(details or {})
        super().__init__(f"{status}: {message}" if status else message)

    @property
    def unreachable(self) -> bool:
        return self.status == 0

    @property
    def auth(self) -> bool:
        """The credential is missing, wrong, or not allowed this call."""
        return self.status in (401, 403)


@dataclass(frozen=True)
class ClientConfig:
    url: str = DEFAULT_URL
    username: str | None = None
    # repr=False: a config printed while debugging shows no secret.
    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)

    def auth(self) -> httpx.Auth | None:
        if self.token and self.username is None:
            return _Bearer(self.token)
        if self.username is not None:
            return httpx.BasicAuth(self.username, self.password or "")
        return None


class _Bearer(httpx.Auth):
    def __init__(self, token: str) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Any:
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request


def config_file(env: Mapping[str, str]) -> Path:
    if env.get("SLUICE_CLIENT_CONFIG"):
        return Path(env["SLUICE_CLIENT_CONFIG"])
    return Path(env.get("HOME", str(Path.home()))) / ".config" / "sluice" / "client.toml"


def _read_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RemoteError(0, f"cannot read the client configuration {path}: {exc}") from exc
    unknown = set(data) - {"url", "username", "password", "token"}
    if unknown:
        raise RemoteError(0, f"{path}: unknown keys {', '.join(sorted(unknown))}")
    if not all(isinstance(v, str) for v in data.values()):
        raise RemoteError(0, f"{path}: url, username, password and token are strings")
    return data


def resolve(
    *,
    server: str | None = None,
    username: str | None = None,
    password: str | None = None,
    env: Mapping[str, str] | None = None,
) -> ClientConfig:
    """The client's configuration from flags (the arguments), environment and file."""
    env = os.environ if env is None else env
    file = _read_file(config_file(env))
    url = server or env.get("SLUICE_URL") or file.get("url") or DEFAULT_URL
    # A user or password from flags or environment means Basic auth, whatever the file says
    # (the rest filled from the file, else the defaults); else a token, else the file's user.
    user = username if username is not None else env.get("SLUICE_USERNAME")
    secret = password if password is not None else env.get("SLUICE_PASSWORD")
    if user is not None or secret is not None:
        if secret is None:
            secret = file.get("password") if "username" in file else DEFAULT_PASSWORD
        return ClientConfig(
            url=url, username=user or file.get("username") or DEFAULT_USERNAME, password=secret
        )
    token = env.get("SLUICE_TOKEN") or None
    if token is None and "username" not in file:
        token = file.get("token")
    if token:
        return ClientConfig(url=url, token=token)
    if "username" in file:
        return ClientConfig(url=url, username=file["username"], password=file.get("password"))
    return ClientConfig(url=url, username=DEFAULT_USERNAME, password=DEFAULT_PASSWORD)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags every remote command takes."""
    group = parser.add_argument_group("server")
    group.add_argument("--server", metavar="URL", help=f"API server (SLUICE_URL, {DEFAULT_URL})")
    group.add_argument("--username", help="Basic auth user (SLUICE_USERNAME, default airbyte)")
    group.add_argument("--password", help="Basic auth password (SLUICE_PASSWORD)")


def from_args(
    args: argparse.Namespace,
    env: Mapping[str, str] | None = None,
    transport: httpx.BaseTransport | None = None,
) -> Client:
    config = resolve(
        server=getattr(args, "server", None),
        username=getattr(args, "username", None),
        password=getattr(args, "password", None),
        env=env,
    )
    return Client(config, transport=transport)


class Client:
    """`call("sources/list", {...})` POSTs JSON to /api/v1/sources/list and returns the reply."""

    def __init__(
        self,
        config: ClientConfig,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self.config = config
        self._http = httpx.Client(
            base_url=config.url.rstrip("/"),
            auth=config.auth(),
            transport=transport,
            timeout=timeout,
            headers={"User-Agent": "sluice-cli"},
        )

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    @property
    def url(self) -> str:
        return self.config.url

    def call(self, path: str, body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """A configuration API call; its JSON reply ({} for an empty one)."""
        reply = self.request("POST", f"/api/v1/{path.lstrip('/')}", json=dict(body or {}))
        if not reply.content:
            return {}
        data = _json(reply)
        if not isinstance(data, dict):
            raise RemoteError(reply.status_code, f"{path}: the reply is not a JSON object")
        return data

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Any request; a reply that is not 2xx raises RemoteError."""
        try:
            reply = self._http.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            raise RemoteError(0, f"{self.url} did not answer in time ({path})") from exc
        except httpx.HTTPError as exc:
            raise RemoteError(0, f"cannot reach the server at {self.url}: {exc}") from exc
        if reply.is_success:
            return reply
        raise _error(reply)


def _json(reply: httpx.Response) -> Any:
    try:
        return reply.json()
    except ValueError as exc:
        raise RemoteError(reply.status_code, "the server's reply is not JSON") from exc


def _error(reply: httpx.Response) -> RemoteError:
    """The API's error body, either face's: Airbyte's `{message, details, validationErrors}` or
    the public API's problem `{title, detail}`."""
    try:
        body = reply.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return RemoteError(reply.status_code, reply.reason_phrase or "error")
    message = body.get("message") or body.get("detail") or body.get("title") or "error"
    details = dict(body.get("details") or {})
    for key in ("validationErrors", "id", "exceptionClassName"):
        if body.get(key):
            details[key] = body[key]
    return RemoteError(reply.status_code, str(message), details)
