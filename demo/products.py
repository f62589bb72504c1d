"""The demo products: "Starter" (limited, instant) and "Unlimited" (approved by an admin)."""

from __future__ import annotations

from django.db import transaction

from catalog.models import Api
from gateway.models import Product, QuotaPeriod

STARTER_SLUG = "starter"
UNLIMITED_SLUG = "unlimited"

STARTER_DESCRIPTION = """\
Everything you need to **try the APIs**: subscribe and get your keys at once.

Calls are limited to 5 a minute and 100 a week, enough to build and test a client.
"""
STARTER_TERMS = """\
The Starter product is for development and evaluation only.

* Keep your keys secret; regenerate a key as soon as you think it was exposed.
* Do not send personal or confidential data to the demo service.
* The service comes without any guarantee and may change or stop at any time.
"""
UNLIMITED_DESCRIPTION = """\
For **production** clients: no rate limit and no quota.

An administrator approves each subscription; its keys work once it is approved.
"""


@transaction.atomic
def register_demo_products(*, api: Api) -> list[Product]:
    """Create or refresh the demo products, both including the API; safe to run twice.

    Other APIs an admin added to a product stay in it.
    """
    starter, _ = Product.objects.update_or_create(
        slug=STARTER_SLUG,
        defaults={
            "name": "Starter",
            "description": STARTER_DESCRIPTION,
            "terms": STARTER_TERMS,
            "published": True,
            "subscription_required": True,
            "approval_required": False,
            "rate_limit_calls": 5,
            "rate_limit_period_seconds": 60,
            "quota_calls": 100,
            "quota_period_seconds": QuotaPeriod.WEEK,
            "order": 1,
        },
    )
    unlimited, _ = Product.objects.update_or_create(
        slug=UNLIMITED_SLUG,
        defaults={
            "name": "Unlimited",
            "description": UNLIMITED_DESCRIPTION,
            "terms": "",
            "published": True,
            "subscription_required": True,
            "approval_required": True,
            "rate_limit_calls": 0,
            "quota_calls": 0,
            "order": 2,
        },
    )
    products = [starter, unlimited]
    for product in products:
        product.apis.add(api)
    return products
