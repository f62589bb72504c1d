"""Calls per client and time window, so the console cannot multiply traffic to a backend.

A fixed window counted in the cache: local memory for one process, a shared cache
(Redis) when several processes serve the portal.
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass

from django.core.cache import cache


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    retry_after: int = 0  # seconds until the window ends, when refused


class TooManyCalls(Exception):
    def __init__(self, *, retry_after: int, limit: int, window: int) -> None:
        self.retry_after = retry_after
        super().__init__(
            f"Too many calls: at most {limit} every {window} seconds. "
            f"Try again in {retry_after} seconds."
        )


def take_call(
    *, client_key: str, limit: int, window: int, now: float | None = None
) -> RateDecision:
    """Count one call for the client; refuse it when the window's limit is reached."""
    if limit <= 0:
        return RateDecision(allowed=True)
    now = time.time() if now is None else now
    window_index = int(now // window)
    key = f"tryit-rate:{client_key}:{window_index}"
    # add() is a no-op when the key exists, so concurrent first calls do not reset it.
    cache.add(key, 0, timeout=window + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # the key expired between add() and incr()
        cache.set(key, 1, timeout=window + 1)
        count = 1
    if count <= limit:
        return RateDecision(allowed=True)
    return RateDecision(
        allowed=False, retry_after=max(1, math.ceil((window_index + 1) * window - now))
    )


def give_back(*, client_key: str, window: int, count: int, now: float) -> None:
    """Uncount calls taken at `now` that will not be sent after all."""
    key = f"tryit-rate:{client_key}:{int(now // window)}"
    # A ValueError means the window has ended: nothing is left to give back.
    with contextlib.suppress(ValueError):
        cache.decr(key, count)
