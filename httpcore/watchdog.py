"""The overall deadline of a call, and the one thread that enforces it (docs/design.md,
"Outbound: a bare, bounded session").

Socket timeouts bound each read, not their sum: a backend dripping a byte every 0.3 s
(in the headers or the body) never trips a 30 s read timeout. A `Deadline` is given the
call's sockets as they connect (`transport`); at the deadline the watchdog shuts them
down, which ends any blocked read at once.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import socket
import threading
import time


class Deadline:
    """The overall deadline of one exchange."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expires_at = time.monotonic() + seconds
        self.expired = False
        self.finished = False
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []

    def __enter__(self) -> Deadline:
        _watchdog.watch(self)
        return self

    def __exit__(self, *exc_info: object) -> None:
        with self._lock:
            self.finished = True
            # It waits among the due deadlines until its time; its sockets need not.
            self._sockets = []

    def passed(self) -> bool:
        return self.expired or time.monotonic() >= self.expires_at

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            if self.expired:
                _shutdown_socket(sock)

    def expire(self) -> None:
        with self._lock:
            if self.finished:
                return
            self.expired = True
            for sock in self._sockets:
                _shutdown_socket(sock)


class _Watchdog:
    """One thread that expires every call's deadline.

    A timer thread per call cost about a millisecond to start under load, more than
    the rest of the portal's own work on a call through the gateway.
    """

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._due: list[tuple[float, int, Deadline]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def watch(self, deadline: Deadline) -> None:
        with self._condition:
            heapq.heappush(self._due, (deadline.expires_at, next(self._order), deadline))
            # Started on first use, and again in a forked worker, where it does not run.
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="outbound-deadlines", daemon=True
                )
                self._thread.start()
            # Woken only when this deadline is the next one due: every call has the same
            # deadline, so one registered later is due later, and waking the thread on
            # every call cost a thread switch each.
            if self._due[0][2] is deadline:
                self._condition.notify()

    def _next_due(self) -> Deadline:
        with self._condition:
            while True:
                while self._due and self._due[0][2].finished:
                    heapq.heappop(self._due)
                if not self._due:
                    self._condition.wait()
                    continue
                wait = self._due[0][0] - time.monotonic()
                if wait <= 0:
                    return heapq.heappop(self._due)[2]
                self._condition.wait(wait)

    def _run(self) -> None:
        while True:
            self._next_due().expire()


_watchdog = _Watchdog()


def _shutdown_socket(sock: object) -> None:
    if isinstance(sock, socket.socket):
        # socket.socket.shutdown, not SSLSocket.shutdown: the latter drops the TLS
        # object under the reading thread's feet; a plain TCP shutdown just ends reads.
        with contextlib.suppress(OSError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
