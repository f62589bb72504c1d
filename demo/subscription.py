"""The demo collections' owner gets a subscription: their replays go through the gateway.

A replayed request for an API behind a key is sent with the key its saved request holds,
else with the runner's own subscription key (testing/replay.py). The demo collections
hold no key, so the user who owns them (and runs them from `manage.py replay`) needs an
active subscription to a product of the demo API: "Unlimited", so that a CI run polling a
batch job meets no rate limit.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.utils import timezone

from gateway.models import Product, Subscription, SubscriptionState

DEMO_SUBSCRIPTION_NAME = "Demo collections"


def subscribe_demo_owner(*, owner: User, product: Product) -> Subscription:
    """The owner's "Demo collections" subscription to the product, active when created.

    Safe to run twice: an existing one is kept as it is, keys and state included (an
    admin who suspended or cancelled it meant it).
    """
    existing = Subscription.objects.filter(
        user=owner, product=product, name=DEMO_SUBSCRIPTION_NAME
    ).first()
    if existing is not None:
        return existing
    now = timezone.now()
    return Subscription.objects.create(
        user=owner,
        product=product,
        name=DEMO_SUBSCRIPTION_NAME,
        state=SubscriptionState.ACTIVE,
        state_comment="Created active by load_demo for the demo collections.",
        activated_at=now,
        state_changed_at=now,
    )
