"""destination-postgres, run as a program against a real PostgreSQL server started for the
session: the shared destination contract plus its spec, connection failures and column types."""

from __future__ import annotations

import socket
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.connectors.conftest import PostgresServer
from tests.connectors.destination_contract import DestinationContract
from tests.connectors.destination_support import (
    Row,
    check_docker_run,
    check_status,
    event,
    lines,
    record,
    row_from_columns,
    table_name,
    user,
    written,
)
from tests.connectors.programs import run

psycopg = pytest.importorskip("psycopg")
pytestmark = pytest.mark.postgres

NAME = "destination-postgres"


class PostgresTarget:
    name = NAME

    def __init__(self, server: PostgresServer) -> None:
        self.server = server
        self.schema = f"test_{uuid.uuid4().hex[:10]}"

    def config(self) -> dict[str, Any]:
        return self.server.config(schema=self.schema)

    def env(self) -> dict[str, str]:
        return {}

    def rows(self, stream: str, namespace: str | None = None) -> list[Row]:
        table = table_name(stream).lower()
        schema = namespace or self.schema
        with psycopg.connect(self.server.dsn()) as conn:
            found = conn.execute(
                "SELECT 1 FROM information_schema.tables WHERE table_schema = %s "
                "AND table_name = %s",
                (schema, table),
            ).fetchone()
            if not found:
                return []
            cur = conn.execute(
                f'SELECT *, (extract(epoch FROM "_airbyte_extracted_at") * 1000)::bigint '
                f'AS "_ms" FROM "{schema}"."{table}" ORDER BY ctid'
            )
            names = [d.name for d in cur.description]
            result = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
        return [row_from_columns(stream, r, r["_ms"]) for r in result]

    def leftovers(self) -> list[str]:
        with psycopg.connect(self.server.dsn()) as conn:
            names = conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                (self.schema,),
            ).fetchall()
        return [n for (n,) in names if n.endswith("_airbyte_tmp") or "connection_test" in n]


class TestPostgresDestination(DestinationContract):
    @pytest.fixture
    def target(self, postgres_server: PostgresServer) -> PostgresTarget:
        return PostgresTarget(postgres_server)

    def test_spec_matches_airbytes_postgres(self, target: PostgresTarget) -> None:
        spec = run(NAME, "spec").one("SPEC")["spec"]
        connection = spec["connectionSpecification"]
        assert connection["required"] == ["host", "port", "database", "schema", "username"]
        properties = connection["properties"]
        assert properties["password"]["airbyte_secret"] is True
        assert properties["schema"]["default"] == "public"
        assert properties["port"]["default"] == 5432
        modes = [option["properties"]["mode"]["enum"] for option in properties["ssl_mode"]["oneOf"]]
        assert modes == [
            ["disable"],
            ["allow"],
            ["prefer"],
            ["require"],
            ["verify-ca"],
            ["verify-full"],
        ]
        assert "jdbc_url_params" in properties

    def test_check_fails_with_a_wrong_password(
        self, target: PostgresTarget, tmp_path: Path
    ) -> None:
        config = {**target.config(), "password": "not-the-password"}
        status = check_status(NAME, tmp_path, config, {})
        assert status["status"] == "FAILED"
        assert "password authentication failed" in status["message"]

    def test_check_fails_when_nothing_listens(self, target: PostgresTarget, tmp_path: Path) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]  # free once closed: nothing listens there
        status = check_status(NAME, tmp_path, {**target.config(), "port": port}, {})
        assert status["status"] == "FAILED"
        assert f"could not connect to 127.0.0.1:{port}" in status["message"]

    def test_check_fails_for_an_unknown_host(self, target: PostgresTarget, tmp_path: Path) -> None:
        status = check_status(NAME, tmp_path, {**target.config(), "host": "db.invalid"}, {})
        assert status["status"] == "FAILED"
        assert "could not connect to db.invalid" in status["message"]

    def test_check_accepts_airbytes_full_configuration(
        self, target: PostgresTarget, tmp_path: Path
    ) -> None:
        config = {
            **target.config(),
            "ssl": False,
            "ssl_mode": {"mode": "prefer"},
            "jdbc_url_params": "ApplicationName=sluice-test&loggerLevel=OFF",
            "tunnel_method": {"tunnel_method": "NO_TUNNEL"},
            "raw_data_schema": "airbyte_internal",
            "disable_type_dedupe": False,
        }
        assert check_status(NAME, tmp_path, config, {}) == {"status": "SUCCEEDED"}

    def test_check_refuses_an_ssh_tunnel(self, target: PostgresTarget, tmp_path: Path) -> None:
        tunnel = {"tunnel_method": "SSH_KEY_AUTH", "tunnel_host": "jump", "tunnel_port": 22}
        status = check_status(NAME, tmp_path, {**target.config(), "tunnel_method": tunnel}, {})
        assert status["status"] == "FAILED"
        assert "SSH tunnels are not supported" in status["message"]

    def test_columns_have_postgres_types(self, target: PostgresTarget, tmp_path: Path) -> None:
        written(target, tmp_path, lines(record("users", user(1))), streams=["users"])
        with psycopg.connect(target.server.dsn()) as conn:
            types = dict(
                conn.execute(
                    "SELECT column_name, data_type FROM information_schema.columns "
                    "WHERE table_schema = %s AND table_name = 'users'",
                    (target.schema,),
                ).fetchall()
            )
        assert types == {
            "_airbyte_raw_id": "character varying",
            "_airbyte_extracted_at": "timestamp with time zone",
            "_airbyte_meta": "jsonb",
            "_airbyte_generation_id": "bigint",
            "id": "bigint",
            "name": "character varying",
            "score": "numeric",
            "active": "boolean",
            "tags": "jsonb",
            "address": "jsonb",
            "nickname": "character varying",
            "updated_at": "character varying",
            "_airbyte_additional_properties": "jsonb",
        }

    def test_values_that_do_not_fit_become_null_with_a_change(
        self, target: PostgresTarget, tmp_path: Path
    ) -> None:
        odd_user = user(1, score="high", active="yes", name=42)
        odd_event = {**event(1), "event_id": 2**64, "at": 1.5}
        messages = lines(record("users", odd_user), record("events", odd_event))
        written(target, tmp_path, messages)
        (row,) = target.rows("users")
        assert "score" not in row["data"] and "active" not in row["data"]
        assert row["data"]["name"] == "42"  # a string column keeps any value as text
        changes = row["_airbyte_meta"]["changes"]
        assert sorted(c["field"] for c in changes) == ["active", "score"]
        assert {c["reason"] for c in changes} == {"DESTINATION_TYPECAST_ERROR"}
        (row,) = target.rows("events")
        assert "event_id" not in row["data"] and "at" not in row["data"]
        fields = sorted(c["field"] for c in row["_airbyte_meta"]["changes"])
        assert fields == ["at", "event_id"]

    def test_decimal_numbers_when_unconstrained_number_is_false(
        self, target: PostgresTarget, tmp_path: Path
    ) -> None:
        config = {**target.config(), "unconstrained_number": False}
        target.config = lambda: config  # type: ignore[method-assign]
        written(target, tmp_path, lines(record("users", user(1, score=1.0123456789))))
        with psycopg.connect(target.server.dsn()) as conn:
            (score,) = conn.execute(f'SELECT score FROM "{target.schema}".users').fetchone()
        assert str(score) == "1.012345679"

    def test_nul_characters_are_dropped(self, target: PostgresTarget, tmp_path: Path) -> None:
        written(target, tmp_path, lines(record("users", user(1, name="a\u0000b"))))
        assert target.rows("users")[0]["data"]["name"] == "ab"


@pytest.mark.docker
@pytest.mark.usefixtures("connector_images")
def test_runs_as_a_docker_image(postgres_server: PostgresServer, tmp_path: Path) -> None:
    target = PostgresTarget(postgres_server)  # the server listens on the host's loopback
    check_docker_run(target, "sluice/destination-postgres:0.1.0", tmp_path, None, "host")
