"""The one call pipeline: admit, release the database connection, send, finish.

Every sender (Try it, a replay's tries, the gateway) runs its calls through `run_call`
with a policy saying what admission and recording mean for it (docs/design.md, "The one
path"). The order is the pipeline's, not the sender's: nothing is sent unless admission
passed, no pooled connection is held while the backend is waited on, and whatever was
sent is handed to the policy's `finish`, failed or not.
"""

from __future__ import annotations

from typing import Protocol, TypeVar

from django.db import connection

from httpcore import outbound
from httpcore.templating import OutboundRequest

TicketT = TypeVar("TicketT")
ResultT = TypeVar("ResultT")
ResultCo = TypeVar("ResultCo", covariant=True)


class CallPolicy(Protocol[TicketT, ResultCo]):
    """What one sender does around the send."""

    def admit(self, request: OutboundRequest) -> TicketT:
        """Every check before sending (rate limit, key, product limits). Raises to refuse:
        a refused call sends nothing. The ticket is what `finish` needs of the decision."""
        ...

    def finish(self, ticket: TicketT, result: outbound.SendResult) -> ResultCo:
        """What the call leaves behind (its records) and what the sender gets back."""
        ...


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


def run_call(*, request: OutboundRequest, policy: CallPolicy[TicketT, ResultT]) -> ResultT:
    """Admit, send and finish one call; the policy's refusal propagates unsent."""
    ticket = policy.admit(request)
    release_while_waiting()
    # Looked up on the module at each call, so that a test watching outbound.send sees
    # every call of every sender.
    result = outbound.send(request)
    return policy.finish(ticket, result)
