"""Reads from Django's cache without its per-operation cost on Redis.

Django's Redis backend builds a new redis-py client for every operation, and the
constructor costs about a tenth of a millisecond, as much as the round trip itself.
The gateway reads the cache two or three times per call, so it keeps one redis-py
client per process for the default cache's first server (where Django writes), with
Django's key names and serializer, and uses Django's cache API everywhere else. The
portal's settings give the cache no OPTIONS, so the client is redis-py's from the URL,
as Django's own is.
"""

from __future__ import annotations

import functools
import re
from typing import Any, cast

import redis
from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache, RedisSerializer

_serializer = RedisSerializer()


@functools.cache
def _client_for(url: str) -> redis.Redis:
    # Thread-safe: redis-py takes a connection from its pool for each command.
    return redis.Redis.from_url(url)


def redis_client() -> redis.Redis | None:
    """The default cache's Redis client (writes go to its first server), else None."""
    if not isinstance(caches["default"], RedisCache):
        return None
    location = settings.CACHES["default"]["LOCATION"]
    # RedisCache's reading of LOCATION: a list of URLs, or one string of them.
    servers = re.split("[;,]", location) if isinstance(location, str) else location
    return _client_for(servers[0])


def get(key: str) -> Any:
    """cache.get(key), in one round trip and without building a client on Redis."""
    client = redis_client()
    if client is None:
        return cache.get(key)
    value = client.get(cache.make_and_validate_key(key))
    # Without decode_responses redis-py answers bytes; its hints allow str for clients with it.
    return None if value is None else _serializer.loads(cast(bytes, value))
