"""Who may call an API through the gateway: the subscription key check.

Both the gateway and Try it through the gateway ask this module, so a key is
accepted or refused for the same reason, with the same words, everywhere.

A key is looked up by its hash. What the lookup finds (the subscription's id, state,
product and owner) is kept in the shared cache for PORTAL_GATEWAY_KEY_CACHE_SECONDS, so
that a call costs no query for it. Whatever changes a subscription's state or keys calls
`forget_subscription`, which drops those entries at once (every save of a Subscription
does it too, gateway/invalidation.py); the time limit bounds what a change made
without either (a bulk update) may leave behind.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from catalog.models import Api
from gateway import registry
from gateway.keys import hash_key
from gateway.models import CallOutcome, Product, Subscription, SubscriptionState
from gateway.registry import ApiEntry
from gateway.selectors import products_requiring_key
from portal import shared_cache


@dataclass(frozen=True)
class AccessDecision:
    allowed: bool
    subscription: Subscription | None = None
    product: Product | None = None
    status: int = 200  # the gateway's answer when refused
    code: str = ""  # machine-readable reason, e.g. "MissingSubscriptionKey"
    message: str = ""
    outcome: str = CallOutcome.FORWARDED


_INACTIVE = {
    SubscriptionState.SUBMITTED: ("SubscriptionNotApproved", "is awaiting an admin's approval"),
    SubscriptionState.SUSPENDED: ("SubscriptionSuspended", "is suspended"),
    SubscriptionState.CANCELLED: ("SubscriptionCancelled", "is cancelled"),
    SubscriptionState.REJECTED: ("SubscriptionRejected", "was rejected"),
}

# The fields a cached lookup keeps; the subscription handed out has only these loaded
# (others load on access, and a save writes only these).
_FIELDS = ("id", "state", "product_id", "user_id")


def _entry_key(key_hash: str) -> str:
    return f"gw-key:{key_hash}"


def _index_key(subscription_id: int) -> str:
    # The key hashes cached for a subscription, so that forgetting it also drops the
    # entry of a key regenerated since.
    return f"gw-key-of:{subscription_id}"


def _lookup(key_hash: str) -> dict | None:
    """{"id", "state", "product_id", "user_id"} of the subscription with this key."""
    ttl = settings.PORTAL_GATEWAY_KEY_CACHE_SECONDS
    if ttl > 0:
        entry = shared_cache.get(_entry_key(key_hash))
        if entry is not None:
            return entry
    row = (
        Subscription.objects.with_key_hash(key_hash)
        .values(*_FIELDS, "primary_key_hash", "secondary_key_hash")
        .first()
    )
    if row is None:
        return None
    entry = {name: row[name] for name in _FIELDS}
    if ttl > 0:
        cache.set_many(
            {
                _entry_key(key_hash): entry,
                _index_key(row["id"]): [row["primary_key_hash"], row["secondary_key_hash"]],
            },
            timeout=ttl,
        )
    return entry


def forget_subscription(subscription: Subscription) -> None:
    """Drop what the gateway keeps about the subscription's keys, in every process.

    Call it after changing a subscription's state or regenerating one of its keys; the
    next call with any of its keys, old or new, reads the database. Within a transaction
    it forgets again once the transaction commits, so that a call reading the database
    before the commit cannot keep the old state.
    """
    _forget(subscription.pk, subscription.primary_key_hash, subscription.secondary_key_hash)
    transaction.on_commit(
        lambda: _forget(
            subscription.pk, subscription.primary_key_hash, subscription.secondary_key_hash
        )
    )


def _forget(subscription_id: int | None, *key_hashes: str) -> None:
    hashes = {h for h in key_hashes if h}
    if subscription_id is not None:
        hashes.update(cache.get(_index_key(subscription_id)) or [])
    names = [_entry_key(h) for h in hashes]
    if subscription_id is not None:
        names.append(_index_key(subscription_id))
    cache.delete_many(names)


def _required_products(api: Api | ApiEntry) -> dict[int, Product]:
    if isinstance(api, ApiEntry):
        return api.products
    entry = registry.api_entry(api.pk)
    if entry is None:  # deleted meanwhile
        return {product.pk: product for product in products_requiring_key(api=api)}
    return entry.products


def _subscription(entry: dict, product: Product) -> Subscription:
    # from_db takes the loaded values in the model's field order.
    names = [f.attname for f in Subscription._meta.concrete_fields if f.attname in entry]
    subscription = Subscription.from_db(
        Subscription.objects.db, names, [entry[name] for name in names]
    )
    subscription.product = product
    return subscription


def check_key(*, api: Api | ApiEntry, key: str) -> AccessDecision:
    """Whether a call to the API with this key (or "" for none) may go on."""
    required = _required_products(api)
    if not required:
        return AccessDecision(allowed=True)
    if not key:
        return AccessDecision(
            allowed=False,
            status=401,
            code="MissingSubscriptionKey",
            message=(
                "This API needs a subscription key: send it in the "
                f"{api.subscription_key_header} header"
                + (
                    f" or the {api.subscription_key_query} query parameter."
                    if api.subscription_key_query
                    else "."
                )
            ),
            outcome=CallOutcome.NO_KEY,
        )
    entry = _lookup(hash_key(key))
    if entry is None or entry["product_id"] not in required:
        return AccessDecision(
            allowed=False,
            status=401,
            code="InvalidSubscriptionKey",
            message="The subscription key is not valid for this API.",
            outcome=CallOutcome.INVALID_KEY,
        )
    product = required[entry["product_id"]]
    subscription = _subscription(entry, product)
    if entry["state"] != SubscriptionState.ACTIVE:
        code, reason = _INACTIVE.get(entry["state"], ("SubscriptionNotActive", "is not active"))
        return AccessDecision(
            allowed=False,
            subscription=subscription,
            product=product,
            status=403,
            code=code,
            message=f"The subscription {reason}.",
            outcome=CallOutcome.INACTIVE_SUBSCRIPTION,
        )
    return AccessDecision(allowed=True, subscription=subscription, product=product)
