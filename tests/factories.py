"""Small builders for products, subscriptions and users, shared by the test modules."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User

from catalog.models import Api
from gateway.models import Product, Subscription, SubscriptionState

PASSWORD = "correct horse battery staple"


def make_user(
    username: str = "dev", *, staff: bool = False, verified: bool = True, **fields
) -> User:
    """An account with PASSWORD; its address (if any) is its primary one in allauth's
    table, confirmed unless `verified` is false."""
    user = get_user_model().objects.create_user(
        username=username,
        email=fields.pop("email", f"{username}@example.com"),
        password=PASSWORD,
        is_staff=staff,
        is_superuser=staff,
        **fields,
    )
    if user.email:
        EmailAddress.objects.create(
            user=user, email=user.email.lower(), primary=True, verified=verified
        )
    return user


def make_product(
    *apis: Api,
    slug: str = "starter",
    rate: int = 0,
    rate_period: int = 60,
    quota: int = 0,
    quota_period: int = 7 * 86400,
    **fields,
) -> Product:
    product = Product.objects.create(
        name=fields.pop("name", slug.title()),
        slug=slug,
        rate_limit_calls=rate,
        rate_limit_period_seconds=rate_period,
        quota_calls=quota,
        quota_period_seconds=quota_period,
        **fields,
    )
    product.apis.set(apis)
    return product


def make_subscription(
    *,
    user: User,
    product: Product,
    state: str = SubscriptionState.ACTIVE,
    name: str = "",
) -> Subscription:
    return Subscription.objects.create(
        user=user, product=product, state=state, name=name or f"{product.name} of {user}"
    )
