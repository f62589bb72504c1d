"""Reads from Django's cache without its per-operation cost on Redis.

Django's Redis backend builds a new redis-py client for every operation, and the
constructor costs about a tenth of a millisecond, as much as the round trip itself.
The gateway reads the cache two or three times per call, so it keeps one client per
thread beside Django's (same connection pool, same key names, same serializer) and
uses Django's cache API everywhere else.
"""

from __future__ import annotations

from typing import Any

from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache


def redis_client() -> Any | None:
    """The default cache's Redis client (writes go to its first server), else None."""
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return None
    django_client = backend._cache  # one per thread, like the backend itself
    client = getattr(django_client, "_gateway_client", None)
    if client is None:
        client = django_client.get_client(write=True)
        django_client._gateway_client = client
    return client


def get(key: str) -> Any:
    """cache.get(key), in one round trip and without building a client on Redis."""
    client = redis_client()
    if client is None:
        return cache.get(key)
    value = client.get(cache.make_and_validate_key(key))
    return None if value is None else caches["default"]._cache._serializer.loads(value)
