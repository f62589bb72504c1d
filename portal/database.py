"""The current thread's database connection around calls that wait on another host."""

from __future__ import annotations

from django.db import connection


def release_while_waiting() -> None:
    """Give a pooled connection back to its pool before waiting on a backend.

    A Try it, replay or gateway call may wait on its backend for up to the outbound
    deadline. Holding a connection all that time would let a burst of slow calls take the
    whole pool and keep every page of the process waiting for one; the next query takes a
    connection again. Inside a transaction the connection belongs to the transaction and
    stays. Without a pool (SQLite, or DATABASE_POOL_MAX_SIZE=0) closing would only cost
    a new connection afterwards, so it stays too.
    """
    if getattr(connection, "pool", None) is not None and not connection.in_atomic_block:
        connection.close()
