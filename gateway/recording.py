"""Every call through the gateway, refused or forwarded, becomes a GatewayCall row.

`record_call` writes the row at once. The gateway hands its rows to
`record_call_later` instead: with PORTAL_GATEWAY_RECORD_IN_BACKGROUND (the default) a
writer thread of the process inserts them, many at a time, so that a call does not
wait for the database (an insert is about a millisecond, a fifth of the gateway's own
time) and concurrent calls do not queue for SQLite's single writer. A row waits only
while the rows before it are written; the queue is written out when the process
exits. While the database cannot be written, at most MAX_QUEUED rows wait and newer
ones are dropped with a warning in the log.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
import time
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection

from gateway.models import GatewayCall, Subscription

logger = logging.getLogger(__name__)

MAX_QUEUED = 10_000
BATCH_SIZE = 500
_STOP: Any = object()  # ends the writer thread


def record_call(**fields: object) -> GatewayCall:
    """Takes GatewayCall's fields by name; the product follows the subscription."""
    subscription = fields.get("subscription")
    if isinstance(subscription, Subscription) and "product" not in fields:
        fields["product_id"] = subscription.product_id
        if "user" not in fields:
            fields["user_id"] = subscription.user_id
    return GatewayCall.objects.create(**fields)


def record_call_later(**fields: object) -> None:
    """Like record_call (ids, not objects), written by the background writer when
    PORTAL_GATEWAY_RECORD_IN_BACKGROUND is on. The row's time is the call's."""
    if not settings.PORTAL_GATEWAY_RECORD_IN_BACKGROUND:
        record_call(**fields)
        return
    writer.put(GatewayCall(**fields))


class CallWriter:
    """A queue of unsaved GatewayCall rows and the thread that inserts them."""

    def __init__(self, *, max_queued: int = MAX_QUEUED) -> None:
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=max_queued)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self.dropped = 0

    def put(self, row: GatewayCall) -> None:
        self._ensure_thread()
        try:
            self._queue.put_nowait(row)
        except queue.Full:
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                logger.warning(
                    "gateway: %d calls not recorded, the database is not keeping up",
                    self.dropped,
                )

    def flush(self, *, timeout: float = 10.0) -> bool:
        """Wait until every queued row is written (or given up); False on timeout."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks:
            if time.monotonic() >= deadline or not self._alive():
                return False
            time.sleep(0.01)
        return True

    def _alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and self._pid == os.getpid()

    def _ensure_thread(self) -> None:
        if self._alive():
            return
        with self._lock:
            if self._alive():
                return
            # A forked child (a server worker) needs a thread of its own.
            self._pid = os.getpid()
            self._thread = threading.Thread(
                target=self._run, name="gateway-call-writer", daemon=True
            )
            self._thread.start()

    def stop(self, *, timeout: float = 10.0) -> None:
        """Write what is queued, close the thread's database connection and end it."""
        if not self._alive():
            return
        assert self._thread is not None
        self._queue.put(_STOP, timeout=timeout)
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < BATCH_SIZE and batch[-1] is not _STOP:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stopping = batch[-1] is _STOP
            try:
                self._write([row for row in batch if row is not _STOP])
            finally:
                for _ in batch:
                    self._queue.task_done()
            if stopping:
                connection.close()
                return

    def _write(self, batch: list[GatewayCall]) -> None:
        if not batch:
            return
        close_old_connections()
        try:
            GatewayCall.objects.bulk_create(batch)
            return
        except Exception:
            # One bad row (a subscription deleted meanwhile) must not lose the others.
            connection.close()
        for row in batch:
            try:
                row.pk = None
                row.save(force_insert=True)
            except Exception:
                logger.exception("gateway: a call could not be recorded")
                connection.close()


writer = CallWriter()
atexit.register(writer.flush, timeout=5.0)
