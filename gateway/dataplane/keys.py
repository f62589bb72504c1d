"""The subscription keys the data plane checks, kept in Redis by the portal.

Each key is a hash `gw-dp-key:<SHA-256 of the key>` holding the subscription's id,
state, product and owner: what gateway/access.py reads from the database, so that
nginx decides alike. Every save or delete of a Subscription writes it at once
(gateway/invalidation.py), after the transaction commits: a suspended subscription or a
regenerated key is refused by the next call. `push_all` writes every subscription
again (the data plane's start and its periodic sweep), for changes made without a save
(a bulk update). Without Redis there is no data plane and nothing is written.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

import redis
from django.db import transaction
from redis.typing import EncodableT, FieldT

from gateway.dataplane.render import KEY_HASH_PREFIX
from gateway.models import Subscription
from portal import shared_cache

_INDEX = "gw-dp-key-of:"


def _write(
    pipe: redis.client.Pipeline, subscription_id: int, row: dict | None, old: Iterable[bytes | str]
) -> None:
    names = [KEY_HASH_PREFIX + (h.decode() if isinstance(h, bytes) else h) for h in old]
    if names:
        pipe.delete(*names)
    pipe.delete(f"{_INDEX}{subscription_id}")
    if row is None:
        return
    fields: dict[FieldT, EncodableT] = {
        "id": subscription_id,
        "state": str(row["state"]),
        "product_id": int(row["product_id"]),
        "user_id": int(row["user_id"]),
    }
    hashes = [h for h in (row["primary_key_hash"], row["secondary_key_hash"]) if h]
    for key_hash in hashes:
        pipe.hset(KEY_HASH_PREFIX + key_hash, mapping=fields)
    if hashes:
        pipe.sadd(f"{_INDEX}{subscription_id}", *hashes)


def _members(client: redis.Redis, subscription_id: int) -> list[bytes | str]:
    # redis-py's hints allow an awaitable for its asyncio client; this one answers a set.
    return list(cast(set, client.smembers(f"{_INDEX}{subscription_id}")))


_FIELDS = ("id", "state", "product_id", "user_id", "primary_key_hash", "secondary_key_hash")


def push(*, subscription_id: int) -> None:
    """Write one subscription's keys as the database has them (none once it is gone)."""
    client = shared_cache.redis_client()
    if client is None:
        return
    row = Subscription.objects.filter(pk=subscription_id).values(*_FIELDS).first()
    old = _members(client, subscription_id)
    pipe = client.pipeline()
    _write(pipe, subscription_id, row, old)
    pipe.execute()


def push_later(*, subscription_id: int) -> None:
    """push() now and again once the current transaction commits."""
    push(subscription_id=subscription_id)
    transaction.on_commit(lambda: push(subscription_id=subscription_id))


def push_all() -> int:
    """Write every subscription's keys; the number written."""
    client = shared_cache.redis_client()
    if client is None:
        return 0
    count = 0
    pipe = client.pipeline(transaction=False)
    for row in Subscription.objects.values(*_FIELDS).iterator(chunk_size=2000):
        old = _members(client, row["id"])
        _write(pipe, row["id"], row, old)
        count += 1
        if count % 500 == 0:
            pipe.execute()
    pipe.execute()
    return count
