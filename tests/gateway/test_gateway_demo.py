"""The demo products (demo/products.py), as load_demo creates them."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from catalog.models import Api
from demo.products import register_demo_products
from demo.registration import API_SLUG
from gateway.models import Product
from gateway.products import limits_in_words

pytestmark = pytest.mark.django_db


def _load_demo() -> str:
    out = StringIO()
    call_command("load_demo", stdout=out, no_color=True)
    return out.getvalue()


def test_load_demo_creates_the_products_once() -> None:
    _load_demo()
    output = _load_demo()

    assert 'Created the products "Starter" and "Unlimited" with the AzureML Demo API.' in output
    api = Api.objects.get(slug=API_SLUG)
    starter, unlimited = Product.objects.order_by("order")
    assert Product.objects.count() == 2

    assert (starter.slug, starter.name) == ("starter", "Starter")
    assert starter.published and starter.subscription_required
    assert not starter.approval_required
    assert (starter.rate_limit_calls, starter.rate_limit_period_seconds) == (5, 60)
    assert (starter.quota_calls, starter.quota_period_seconds) == (100, 7 * 86400)
    assert limits_in_words(product=starter) == "5 calls per minute, 100 calls per week"
    assert starter.terms.startswith("The Starter product is for development and evaluation only.")
    assert list(starter.apis.all()) == [api]

    assert (unlimited.slug, unlimited.name) == ("unlimited", "Unlimited")
    assert unlimited.published and unlimited.subscription_required
    assert unlimited.approval_required
    assert (unlimited.rate_limit_calls, unlimited.quota_calls) == (0, 0)
    assert limits_in_words(product=unlimited) == "no limits"
    assert unlimited.terms == ""
    assert list(unlimited.apis.all()) == [api]


def test_reloading_restores_the_settings_and_keeps_added_apis(demo_api) -> None:
    starter, _ = register_demo_products(api=demo_api)
    other = Api.objects.create(name="Other", slug="other", service_url="http://127.0.0.1:9")
    starter.apis.add(other)
    Product.objects.filter(pk=starter.pk).update(rate_limit_calls=99, published=False)

    again = register_demo_products(api=demo_api)

    assert [p.pk for p in again] == list(
        Product.objects.order_by("order").values_list("pk", flat=True)
    )
    starter.refresh_from_db()
    assert (starter.rate_limit_calls, starter.published) == (5, True)
    assert set(starter.apis.all()) == {demo_api, other}
