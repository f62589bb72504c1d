"""Pooled connections are checked without a query, and a dropped one is replaced."""

from __future__ import annotations

import socket
import time

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from portal import db_pool


class FakeConnection:
    """What looks_alive reads of a psycopg connection: closed, fileno, execute."""

    def __init__(self, sock: socket.socket, *, closed: bool = False, works: bool = True) -> None:
        self.sock = sock
        self.closed = closed
        self.works = works
        self.autocommit = True
        self.queries: list[str] = []

    def fileno(self) -> int:
        return self.sock.fileno()

    def execute(self, query: str) -> None:
        self.queries.append(query)
        if not self.works:
            raise psycopg.OperationalError("server closed the connection unexpectedly")


@pytest.fixture
def sockets():
    ours, server = socket.socketpair()
    yield ours, server
    ours.close()
    server.close()


def test_a_quiet_connection_is_used_without_a_query(sockets):
    raw = FakeConnection(sockets[0])
    assert db_pool.looks_alive(raw)
    assert raw.queries == []


def test_a_closed_connection_is_not_used(sockets):
    assert not db_pool.looks_alive(FakeConnection(sockets[0], closed=True))


def test_a_connection_with_something_to_read_gets_the_pools_check(sockets):
    sockets[1].sendall(b"E")  # what a server sends before it closes the connection
    raw = FakeConnection(sockets[0], works=False)
    assert not db_pool.looks_alive(raw)
    assert raw.queries == [""]
    working = FakeConnection(sockets[0])  # a notice: the check passes, it is used
    assert db_pool.looks_alive(working)
    assert working.queries == [""]


def test_the_pool_sends_no_health_check_query():
    """CONN_HEALTH_CHECKS would give the pool ConnectionPool.check_connection."""
    database = settings.DATABASES["default"]
    assert database["CONN_HEALTH_CHECKS"] is not bool(database.get("OPTIONS", {}).get("pool"))
    if getattr(connection, "pool", None) is not None:
        assert connection.pool._check is None


def _end_other_connections() -> None:
    """pg_terminate_backend of every other connection to the test database (the pool's),
    from a connection of its own, and wait until they are gone."""
    params = connection.get_connection_params()
    params.pop("pool", None)
    params.pop("server_side_binding", None)
    with psycopg.connect(**params, autocommit=True) as admin:
        ended = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()
        assert ended is not None and ended[0] >= 1
        others = (
            "SELECT pid FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        deadline = time.monotonic() + 10
        while admin.execute(others).fetchall() and time.monotonic() < deadline:
            time.sleep(0.05)


@pytest.mark.django_db(transaction=True)
def test_a_page_answers_after_postgresql_ended_the_pools_connections(client, demo_api):
    url = demo_api.get_absolute_url()  # the API page reads the database on every visit
    assert client.get(url).status_code == 200
    if connection.vendor != "postgresql":  # SQLite: no pool, the connection is left alone
        raw = connection.connection
        db_pool.replace_dropped(connection=connection)
        assert connection.connection is raw
        return
    assert getattr(connection, "pool", None) is not None
    connection.close()  # back to the pool, as at the end of a request
    _end_other_connections()
    for _ in range(3):
        assert client.get(url).status_code == 200
