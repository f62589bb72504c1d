"""Named queries over products and subscriptions."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User

from catalog.models import Api
from gateway.models import Product, Subscription, SubscriptionState


def products_requiring_key(*, api: Api) -> list[Product]:
    """The products through which the API needs a subscription key at the gateway."""
    return list(api.products.filter(subscription_required=True))


def subscriptions_for_api(*, user: User | AnonymousUser, api: Api) -> list[Subscription]:
    """The user's active subscriptions whose product includes the API (Try it's choice)."""
    if not user.is_authenticated:
        return []
    return list(
        Subscription.objects.owned_by(user)
        .filter(state=SubscriptionState.ACTIVE, product__apis=api)
        .select_related("product")
        .order_by("product__order", "product__name", "name")
        .distinct()
    )
