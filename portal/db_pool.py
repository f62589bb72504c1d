"""Pooled PostgreSQL connections, checked without a query.

Django's `CONN_HEALTH_CHECKS` makes the psycopg pool send an empty query on every
checkout (`ConnectionPool.check_connection`), a round trip on every request. The pool
runs without it (portal/settings.py), and each checkout is looked at here instead, when
Django announces the connection (`connection_created`): a connection that is closed, or
whose socket has something to read although it sits idle (a server that terminated it
sends its error and closes), is handed back, which makes the pool drop it and open
another, and the next one is taken; only such a connection gets the pool's own check,
since an idle connection may also have been sent a notice. A page therefore still
answers after PostgreSQL has ended the pool's connections (a restart, an
administrator's `pg_terminate_backend`), without a query per request.
"""

from __future__ import annotations

import select
from typing import Any

from django.db.backends.signals import connection_created


def looks_alive(raw: Any) -> bool:
    """Whether a psycopg connection taken from the pool can be used: not closed, and
    nothing waiting on its socket, else the pool's check (one empty query) passes."""
    import psycopg
    from psycopg_pool import ConnectionPool

    if raw.closed:
        return False
    poller = select.poll()
    poller.register(raw.fileno(), select.POLLIN)
    if not poller.poll(0):
        return True
    try:
        ConnectionPool.check_connection(raw)
    except psycopg.Error:
        return False
    return True


def replace_dropped(*, connection: Any) -> None:
    """Swap a dropped pooled connection for a working one before Django uses it."""
    pool = getattr(connection, "pool", None)
    if pool is None:  # not PostgreSQL, or without the pool
        return
    while not looks_alive(connection.connection):
        pool.putconn(connection.connection)  # broken: the pool discards and replaces it
        connection.connection = pool.getconn()


def _on_connection_created(*, connection: Any, **_: object) -> None:
    replace_dropped(connection=connection)


connection_created.connect(_on_connection_created, dispatch_uid="portal-db-pool-dropped")
