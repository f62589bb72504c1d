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

from django.db import transaction

from gateway.dataplane.render import KEY_HASH_PREFIX
from gateway.models import Subscription
from portal import shared_cache

_INDEX = "gw-dp-key-of:"


def _write(pipe: object, subscription_id: int, row: dict | None, old: list[bytes]) -> None:
    names = [KEY_HASH_PREFIX + h.decode() for h in old]
    if names:
        pipe.delete(*names)  # type: ignore[attr-defined]
    pipe.delete(f"{_INDEX}{subscription_id}")  # type: ignore[attr-defined]
    if row is None:
        return
    fields = {
        "id": subscription_id,
        "state": row["state"],
        "product_id": row["product_id"],
        "user_id": row["user_id"],
    }
    hashes = [h for h in (row["primary_key_hash"], row["secondary_key_hash"]) if h]
    for key_hash in hashes:
        pipe.hset(KEY_HASH_PREFIX + key_hash, mapping=fields)  # type: ignore[attr-defined]
    if hashes:
        pipe.sadd(f"{_INDEX}{subscription_id}", *hashes)  # type: ignore[attr-defined]


_FIELDS = ("id", "state", "product_id", "user_id", "primary_key_hash", "secondary_key_hash")


def push(*, subscription_id: int) -> None:
    """Write one subscription's keys as the database has them (none once it is gone)."""
    client = shared_cache.redis_client()
    if client is None:
        return
    row = Subscription.objects.filter(pk=subscription_id).values(*_FIELDS).first()
    old = list(client.smembers(f"{_INDEX}{subscription_id}"))  # type: ignore[arg-type]
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
        old = list(client.smembers(f"{_INDEX}{row['id']}"))  # type: ignore[arg-type]
        _write(pipe, row["id"], row, old)
        count += 1
        if count % 500 == 0:
            pipe.execute()
    pipe.execute()
    return count
