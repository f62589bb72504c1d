"""What each process keeps of the catalog until the catalog changes.

The portal's pages read the same rows on every visit (the operation a Try it call or an
operation page shows), and the gateway matches every call against the APIs' routes.
Reading them from the database each time would cost more than the rest of the request,
so each process keeps them in a snapshot, and drops it:

- when the shared cache's generation changes: every save or delete of an API, an
  operation, a parameter (catalog/invalidation.py) or a product (gateway/invalidation.py)
  sets a new generation, again when its transaction commits. The process that made the
  change drops its snapshot at once; with REDIS_URL every other process sees the new
  generation within GENERATION_CHECK_SECONDS;
- after PORTAL_GATEWAY_ROUTE_CACHE_SECONDS in any case, for changes made without
  signals (bulk statements) or, with the local-memory cache, in another process.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache

from portal import shared_cache

GENERATION_KEY = "gw-config-generation"
# How often a process reads the shared generation: once a second rather than on every
# call saves a round trip to Redis per call.
GENERATION_CHECK_SECONDS = 1.0
# The most values kept() holds in a process before it starts again from none.
KEPT_ENTRIES = 1024

T = TypeVar("T")


@dataclass
class _Snapshot:
    generation: str
    built_at: float
    checked_at: float
    kept: dict[tuple, Any] = field(default_factory=dict)  # see kept()
    parts: dict[str, Any] = field(default_factory=dict)  # see part()


_snapshot: _Snapshot | None = None


def _generation() -> str:
    generation = shared_cache.get(GENERATION_KEY)
    if generation is None:
        cache.add(GENERATION_KEY, secrets.token_hex(8), timeout=None)
        generation = cache.get(GENERATION_KEY) or ""
    return generation


def _current() -> _Snapshot:
    global _snapshot
    snapshot = _snapshot
    now = time.monotonic()
    if (
        snapshot is not None
        and now >= snapshot.built_at + settings.PORTAL_GATEWAY_ROUTE_CACHE_SECONDS
    ):
        snapshot = None
    if snapshot is not None and now < snapshot.checked_at + GENERATION_CHECK_SECONDS:
        return snapshot
    generation = _generation()
    if snapshot is None or snapshot.generation != generation:
        snapshot = _Snapshot(generation=generation, built_at=now, checked_at=now)
        _snapshot = snapshot
    snapshot.checked_at = now
    return snapshot


def forget_everything() -> None:
    """Drop every process's snapshot: the configuration changed."""
    global _snapshot
    cache.set(GENERATION_KEY, secrets.token_hex(8), timeout=None)
    _snapshot = None


def forget_local() -> None:
    """Drop this process's snapshot only (tests start from an empty one)."""
    global _snapshot
    _snapshot = None


def configuration_generation() -> str:
    """A token that changes with every change of an API, an operation, a parameter or a
    product, seen by this process within GENERATION_CHECK_SECONDS: what is rendered from
    them can be kept under a key that holds it (the catalog's cards)."""
    return _current().generation


def kept(key: tuple, load: Callable[[], T]) -> T:
    """What load() returns, kept by this process until the configuration changes. The
    value is shared by the process's threads: only for objects that nobody changes. An
    exception from load() is raised and nothing is kept."""
    snapshot = _current()
    try:
        return snapshot.kept[key]
    except KeyError:
        pass
    value = load()
    if len(snapshot.kept) >= KEPT_ENTRIES:  # a bound for catalogs of many operations
        snapshot.kept.clear()
    snapshot.kept[key] = value
    return value


def part(name: str, build: Callable[[], T]) -> T:
    """The state another package keeps for the current snapshot under name (the gateway's
    routes), built empty by build() with each new snapshot and filled by its owner. Not
    bounded by KEPT_ENTRIES: its owner bounds it."""
    parts = _current().parts
    try:
        return parts[name]
    except KeyError:
        return parts.setdefault(name, build())
