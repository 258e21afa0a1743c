"""The throwaway PostgreSQL cluster the suite starts: it runs, and data round-trips through it."""

from __future__ import annotations

import psycopg
import pytest

from tests.support import ServiceUnavailableError
from tests.support.postgres import PostgresServer

pytestmark = pytest.mark.integration


def test_cluster_accepts_connections_on_its_own_port(postgres: PostgresServer) -> None:
    with psycopg.connect(postgres.url) as connection:
        row = connection.execute("SHOW port").fetchone()
        listen = connection.execute("SHOW listen_addresses").fetchone()
        fsync = connection.execute("SHOW fsync").fetchone()
    assert row == (str(postgres.port),)
    assert listen == ("127.0.0.1",)
    assert fsync == ("off",)
    assert postgres.url == f"postgresql://postgres@127.0.0.1:{postgres.port}/postgres"


def test_a_table_round_trips(postgres: PostgresServer, unique_id: str) -> None:
    url = postgres.create_database(unique_id)
    rows = [(1, "rover.power.battery_soc", 87.5, b"\x1a\xcf\xfc\x1d"), (2, "lander.mode", 3.0, b"")]
    with psycopg.connect(url) as connection:
        connection.execute(
            "CREATE TABLE samples (id integer PRIMARY KEY, name text, eng_value double precision,"
            " raw bytea)"
        )
        with connection.cursor() as cursor:
            cursor.executemany("INSERT INTO samples VALUES (%s, %s, %s, %s)", rows)
    with psycopg.connect(url) as connection:
        stored = connection.execute("SELECT id, name, eng_value, raw FROM samples ORDER BY id")
        assert stored.fetchall() == rows
        database = connection.execute("SELECT current_database()").fetchone()
    assert database == (unique_id,)


def test_databases_are_separate(postgres: PostgresServer, unique_id: str) -> None:
    first = postgres.create_database(f"{unique_id}_a")
    second = postgres.create_database(f"{unique_id}_b")
    with psycopg.connect(first) as connection:
        connection.execute("CREATE TABLE only_here (x integer)")
    with psycopg.connect(second) as connection:
        found = connection.execute("SELECT to_regclass('only_here')").fetchone()
    assert found == (None,)


@pytest.mark.parametrize("name", ["", "Upper", "semi;colon", "x" * 64, "1digit"])
def test_create_database_refuses_odd_names(postgres: PostgresServer, name: str) -> None:
    with pytest.raises(ValueError, match="database name"):
        postgres.create_database(name)


def test_a_second_cluster_starts_and_stops() -> None:
    with PostgresServer() as other:
        with psycopg.connect(other.url) as connection:
            assert connection.execute("SELECT 1").fetchone() == (1,)
        workdir = other.workdir
    assert not workdir.exists()


def test_missing_binaries_are_an_error_not_a_skip(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LUPEX_PG_BINDIR", "/nonexistent")
    with pytest.raises(ServiceUnavailableError, match="LUPEX_PG_BINDIR"):
        PostgresServer()
