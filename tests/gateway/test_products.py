"""The product pages and subscribing from them (gateway/product_views.py, gateway/products.py)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from catalog.models import Api
from gateway.models import Product, Subscription, SubscriptionState
from gateway.products import limits_in_words, period_in_words
from tests.factories import make_product, make_subscription, make_user

pytestmark = pytest.mark.django_db

S = SubscriptionState


@pytest.fixture
def owner():
    return make_user("ada")


@pytest.fixture
def starter(demo_api) -> Product:
    return make_product(
        demo_api,
        slug="starter",
        rate=5,
        quota=100,
        description="Everything to **try** the APIs.\n\n<script>alert(1)</script>",
        terms="Be *nice*.",
    )


@pytest.fixture
def unlimited(demo_api) -> Product:
    return make_product(demo_api, slug="unlimited", approval_required=True)


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _subscribe_url(product: Product) -> str:
    return reverse("gateway:subscribe", args=[product.slug])


# --- limits in words ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (1, "second"),
        (30, "30 seconds"),
        (60, "minute"),
        (90, "90 seconds"),
        (120, "2 minutes"),
        (3600, "hour"),
        (86400, "day"),
        (7 * 86400, "week"),
        (14 * 86400, "2 weeks"),
        (30 * 86400, "30 days"),
    ],
)
def test_period_in_words(seconds, words) -> None:
    assert period_in_words(seconds) == words


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"rate": 5, "quota": 100}, "5 calls per minute, 100 calls per week"),
        ({"rate": 1, "rate_period": 1}, "1 call per second"),
        ({"quota": 10000, "quota_period": 86400}, "10,000 calls per day"),
        ({}, "no limits"),
    ],
)
def test_limits_in_words(demo_api, fields, words) -> None:
    assert limits_in_words(product=make_product(demo_api, **fields)) == words


# --- the product list --------------------------------------------------------------


def test_product_list_for_a_visitor(client, starter, unlimited, demo_api) -> None:
    hidden_api = Api.objects.create(
        name="Hidden API", slug="hidden", service_url="http://127.0.0.1:9", published=False
    )
    starter.apis.add(hidden_api)
    make_product(demo_api, slug="draft", published=False)

    response = client.get(reverse("gateway:product_list"))

    assert response.status_code == 200
    html = response.content.decode()
    assert [card.product.slug for card in response.context["cards"]] == ["starter", "unlimited"]
    assert "Everything to try the APIs." in html  # the Markdown summary, as plain words
    assert "<script>alert(1)</script>" not in html
    assert "5 calls per minute, 100 calls per week" in html
    assert "No limits" in html
    assert html.count("approval required") == 1
    assert "AzureML Demo API" in html and demo_api.get_absolute_url() in html
    assert "Hidden API" not in html
    assert "Draft" not in html
    assert "data-my-state" not in html


def test_product_list_says_what_the_user_subscribes_to(owner, starter, unlimited) -> None:
    make_subscription(user=owner, product=starter)
    make_subscription(user=owner, product=unlimited, state=S.SUBMITTED)
    make_subscription(user=make_user("bob"), product=unlimited)
    cards = _signed_in(owner).get(reverse("gateway:product_list")).context["cards"]
    assert [(c.subscribed, c.awaiting_approval) for c in cards] == [(True, False), (False, True)]
    html = _signed_in(owner).get(reverse("gateway:product_list")).content.decode()
    assert ">Subscribed</span>" in html
    assert ">Awaiting approval</span>" in html


def test_cancelled_subscriptions_do_not_count_as_subscribed(owner, starter) -> None:
    make_subscription(user=owner, product=starter, state=S.CANCELLED)
    cards = _signed_in(owner).get(reverse("gateway:product_list")).context["cards"]
    assert cards[0].subscriptions == []


def test_staff_see_unpublished_products(starter, demo_api) -> None:
    make_product(demo_api, slug="draft", published=False)
    staff = _signed_in(make_user("root", staff=True))
    html = staff.get(reverse("gateway:product_list")).content.decode()
    assert "Draft" in html and ">unpublished</span>" in html
    assert staff.get(reverse("gateway:product_detail", args=["draft"])).status_code == 200
    assert Client().get(reverse("gateway:product_detail", args=["draft"])).status_code == 404


def test_product_list_query_count(client, django_assert_max_num_queries, demo_api) -> None:
    for index in range(10):
        make_product(demo_api, slug=f"p{index}")
    with django_assert_max_num_queries(4):
        client.get(reverse("gateway:product_list"))


# --- the product page --------------------------------------------------------------


def test_product_page_for_a_visitor(client, starter) -> None:
    response = client.get(reverse("gateway:product_detail", args=["starter"]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Everything to <strong>try</strong> the APIs." in html
    assert "<script>alert(1)</script>" not in html
    assert "Be <em>nice</em>." in html
    assert "5 calls per minute, 100 calls per week" in html
    assert 'href="/apis/azureml-demo/"' in html
    login = reverse("account_login")
    assert f'href="{login}?next=/products/starter/">Sign in to subscribe</a>' in html
    assert '<form method="post" action="/products/starter/subscribe"' not in html


def test_product_page_for_a_user_has_the_form(owner, starter) -> None:
    response = _signed_in(owner).get(reverse("gateway:product_detail", args=["starter"]))
    html = response.content.decode()
    assert 'value="Starter for ada"' in html
    assert "I accept the terms of use" in html
    assert 'action="/products/starter/subscribe"' in html


def test_product_without_terms_has_no_checkbox(owner, unlimited) -> None:
    html = _signed_in(owner).get(unlimited.get_absolute_url()).content.decode()
    assert "I accept the terms of use" not in html
    assert "An administrator approves each new subscription" in html


def test_open_product_offers_no_subscription(owner, demo_api) -> None:
    product = make_product(demo_api, slug="open", subscription_required=False)
    html = _signed_in(owner).get(product.get_absolute_url()).content.decode()
    assert "nothing to subscribe to" in html
    assert 'action="/products/open/subscribe"' not in html


def test_missing_product_is_404(client) -> None:
    assert client.get("/products/nothing/").status_code == 404
    assert client.post("/products/nothing/subscribe").status_code == 404


# --- subscribing -------------------------------------------------------------------


def test_subscribe_without_approval(owner, starter) -> None:
    response = _signed_in(owner).post(
        _subscribe_url(starter), {"name": "My app", "accept_terms": "on"}, follow=True
    )
    subscription = Subscription.objects.get()
    assert response.redirect_chain == [
        (reverse("gateway:subscription_detail", args=[subscription.pk]), 302)
    ]
    assert (subscription.user, subscription.name) == (owner, "My app")
    assert (subscription.product, subscription.state) == (starter, S.ACTIVE)
    html = response.content.decode()
    assert "You are subscribed to Starter: your keys work now." in html
    assert subscription.masked_key("primary") in html


def test_subscribe_with_approval_says_it_waits(owner, unlimited) -> None:
    response = _signed_in(owner).post(_subscribe_url(unlimited), {"name": "Prod"}, follow=True)
    subscription = Subscription.objects.get()
    assert subscription.state == S.SUBMITTED
    html = response.content.decode()
    assert "Your subscription to Unlimited awaits approval by an administrator." in html
    assert "data-key-row" not in html


def test_terms_checkbox_is_required(owner, starter) -> None:
    response = _signed_in(owner).post(_subscribe_url(starter), {"name": "My app"})
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "accept_terms": ["Accept the terms of use to subscribe."]
    }
    assert "Accept the terms of use to subscribe." in response.content.decode()
    assert not Subscription.objects.exists()


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("", "This field is required."),
        ("   ", "This field is required."),
        ("n" * 201, "Ensure this value has at most 200 characters (it has 201)."),
    ],
)
def test_bad_names_are_form_errors(owner, starter, name, error) -> None:
    response = _signed_in(owner).post(_subscribe_url(starter), {"name": name, "accept_terms": "on"})
    assert response.status_code == 200
    assert response.context["form"].errors == {"name": [error]}
    assert not Subscription.objects.exists()


def test_subscribing_to_an_open_product_is_refused(owner, demo_api) -> None:
    product = make_product(demo_api, slug="open", subscription_required=False)
    response = _signed_in(owner).post(_subscribe_url(product), {"name": "x"})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "The product Open needs no subscription: its APIs answer without a key."
    ]
    assert not Subscription.objects.exists()


def test_subscribing_to_an_unpublished_product(demo_api) -> None:
    make_product(demo_api, slug="draft", published=False)
    user = _signed_in(make_user("bob"))
    assert user.post("/products/draft/subscribe", {"name": "x"}).status_code == 404
    staff = _signed_in(make_user("root", staff=True))
    response = staff.post("/products/draft/subscribe", {"name": "x"})
    assert response.context["form"].non_field_errors() == ["The product Draft is not published."]
    assert not Subscription.objects.exists()


def test_subscribe_permission_matrix(starter) -> None:
    url = _subscribe_url(starter)
    anonymous = Client().post(url, {"name": "x", "accept_terms": "on"})
    assert anonymous.status_code == 302
    assert anonymous["Location"] == f"{reverse('account_login')}?next=/products/starter/"
    assert not Subscription.objects.exists()
    for user in (make_user("bob"), make_user("root", staff=True)):
        response = _signed_in(user).post(url, {"name": "x", "accept_terms": "on"})
        assert response.status_code == 302
    assert sorted(Subscription.objects.values_list("user__username", flat=True)) == [
        "bob",
        "root",
    ]


def test_subscribe_only_answers_post(owner, starter) -> None:
    assert _signed_in(owner).get(_subscribe_url(starter)).status_code == 405


def test_subscribe_needs_the_csrf_token(owner, starter) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    response = client.post(_subscribe_url(starter), {"name": "x", "accept_terms": "on"})
    assert response.status_code == 403
    assert not Subscription.objects.exists()


def test_product_page_lists_the_users_subscriptions(owner, starter) -> None:
    mine = make_subscription(user=owner, product=starter, name="Mine")
    make_subscription(user=make_user("bob"), product=starter, name="Not mine")
    html = _signed_in(owner).get(starter.get_absolute_url()).content.decode()
    assert f'href="{reverse("gateway:subscription_detail", args=[mine.pk])}">Mine</a>' in html
    assert "Not mine" not in html
