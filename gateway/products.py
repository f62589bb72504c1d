"""Read-side helpers for the product and subscription pages: what to list, and in words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from catalog.models import Api
from gateway.limits import Admission, current_usage
from gateway.models import KeySlot, Product, Subscription, SubscriptionState
from gateway.wording import calls_in_words

# States in which a user counts as subscribed to a product (the product list's badge).
CURRENT_STATES = (
    SubscriptionState.ACTIVE,
    SubscriptionState.SUBMITTED,
    SubscriptionState.SUSPENDED,
)
_UNITS = (("week", 7 * 86400), ("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1))


def period_in_words(seconds: int) -> str:
    """60 → "minute", 120 → "2 minutes", 604800 → "week", 90 → "90 seconds"."""
    for unit, size in _UNITS:
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return unit if count == 1 else f"{count} {unit}s"
    return f"{seconds} seconds"


def limits_in_words(*, product: Product) -> str:
    """ "5 calls per minute, 100 calls per week", or "no limits"."""
    parts = []
    if product.rate_limit_calls:
        period = period_in_words(product.rate_limit_period_seconds)
        parts.append(f"{calls_in_words(product.rate_limit_calls)} per {period}")
    if product.quota_calls:
        period = period_in_words(product.quota_period_seconds)
        parts.append(f"{calls_in_words(product.quota_calls)} per {period}")
    return ", ".join(parts) or "no limits"


def visible_products(*, user: User | AnonymousUser) -> QuerySet[Product]:
    """Published products; staff also see unpublished ones, to check them before release."""
    staff = user.is_active and user.is_staff
    products = Product.objects.all() if staff else Product.objects.published()
    return products.prefetch_related(
        Prefetch("apis", queryset=_visible_apis(user=user).order_by("name"), to_attr="shown_apis")
    )


def _visible_apis(*, user: User | AnonymousUser) -> QuerySet[Api]:
    return Api.objects.all() if user.is_active and user.is_staff else Api.objects.published()


def get_product(*, user: User | AnonymousUser, product_slug: str) -> Product:
    return get_object_or_404(visible_products(user=user), slug=product_slug)


@dataclass(frozen=True)
class ProductCard:
    product: Product
    limits: str
    apis: list[Api]
    subscriptions: list[Subscription]  # the visitor's current ones

    @property
    def subscribed(self) -> bool:
        return any(s.state == SubscriptionState.ACTIVE for s in self.subscriptions)

    @property
    def awaiting_approval(self) -> bool:
        return any(s.state == SubscriptionState.SUBMITTED for s in self.subscriptions)


def product_cards(*, user: User | AnonymousUser) -> list[ProductCard]:
    products = list(visible_products(user=user))
    mine: dict[int, list[Subscription]] = {}
    if user.is_authenticated:
        current = Subscription.objects.owned_by(user).filter(state__in=CURRENT_STATES)
        for subscription in current.filter(product__in=products).order_by("created_at"):
            mine.setdefault(subscription.product_id, []).append(subscription)
    return [
        ProductCard(
            product=product,
            limits=limits_in_words(product=product),
            apis=product.shown_apis,
            subscriptions=mine.get(product.pk, []),
        )
        for product in products
    ]


def user_subscriptions_of(*, user: User | AnonymousUser, product: Product) -> list:
    if not user.is_authenticated:
        return []
    return list(Subscription.objects.owned_by(user).filter(product=product))


def published_apis_of(*, product: Product) -> list[Api]:
    return list(Api.objects.published().filter(products=product).order_by("name"))


def owned_subscription(*, user: User, subscription_id: int) -> Subscription:
    """The user's own subscription; anyone else's is as absent as a missing one (404)."""
    return get_object_or_404(
        Subscription.objects.owned_by(user).select_related("product"), pk=subscription_id
    )


def key_slot(slot: str) -> KeySlot:
    if slot not in KeySlot.values:
        raise Http404("No such key.")
    return KeySlot(slot)


@dataclass(frozen=True)
class Usage:
    """What is left of a subscription's rate and quota, for its page."""

    admission: Admission
    rate_period: str
    quota_period: str
    quota_renews_at: datetime | None

    @property
    def limited(self) -> bool:
        return bool(self.admission.rate_limit or self.admission.quota_limit)


def usage(*, subscription: Subscription) -> Usage:
    product = subscription.product
    admission = current_usage(subscription=subscription, product=product)
    renews = (
        timezone.now() + timedelta(seconds=admission.quota_reset) if admission.quota_limit else None
    )
    return Usage(
        admission=admission,
        rate_period=period_in_words(product.rate_limit_period_seconds),
        quota_period=period_in_words(product.quota_period_seconds),
        quota_renews_at=renews,
    )


@dataclass(frozen=True)
class SubscriptionRow:
    """A subscription as its page shows it: keys masked, usage only when it works."""

    subscription: Subscription
    limits: str
    masked_keys: list[tuple[KeySlot, str]]  # empty unless active
    usage: Usage | None


def subscription_row(*, subscription: Subscription) -> SubscriptionRow:
    active = subscription.state == SubscriptionState.ACTIVE
    return SubscriptionRow(
        subscription=subscription,
        limits=limits_in_words(product=subscription.product),
        masked_keys=[(slot, subscription.masked_key(slot)) for slot in KeySlot] if active else [],
        usage=usage(subscription=subscription) if active else None,
    )


def subscription_rows(*, user: User) -> list[SubscriptionRow]:
    subscriptions = Subscription.objects.owned_by(user).select_related("product")
    return [subscription_row(subscription=s) for s in subscriptions]
