"""Who may call an API through the gateway: the subscription key check.

Both the gateway and Try it through the gateway ask this module, so a key is
accepted or refused for the same reason, with the same words, everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.keys import hash_key
from gateway.models import CallOutcome, Product, Subscription, SubscriptionState
from gateway.selectors import products_requiring_key
from operations.models import Api


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


def check_key(*, api: Api, key: str) -> AccessDecision:
    """Whether a call to the API with this key (or "" for none) may go on."""
    required = products_requiring_key(api=api)
    if not required:
        return AccessDecision(allowed=True)
    if not key:
        return AccessDecision(
            allowed=False,
            status=401,
            code="MissingSubscriptionKey",
            message=(
                "This API needs a subscription key: send it in the "
                f"{api.subscription_key_header} header or the {api.subscription_key_query} "
                "query parameter."
            ),
            outcome=CallOutcome.NO_KEY,
        )
    subscription = (
        Subscription.objects.with_key_hash(hash_key(key)).select_related("product").first()
    )
    if subscription is None or subscription.product not in required:
        return AccessDecision(
            allowed=False,
            status=401,
            code="InvalidSubscriptionKey",
            message="The subscription key is not valid for this API.",
            outcome=CallOutcome.INVALID_KEY,
        )
    if subscription.state != SubscriptionState.ACTIVE:
        code, reason = _INACTIVE.get(subscription.state, ("SubscriptionNotActive", "is not active"))
        return AccessDecision(
            allowed=False,
            subscription=subscription,
            product=subscription.product,
            status=403,
            code=code,
            message=f"The subscription {reason}.",
            outcome=CallOutcome.INACTIVE_SUBSCRIPTION,
        )
    return AccessDecision(allowed=True, subscription=subscription, product=subscription.product)
