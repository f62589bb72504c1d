"""The admin of products, subscriptions (actions through gateway/subscriptions.py) and calls."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from gateway.keys import hash_key
from gateway.models import CallOutcome, GatewayCall, KeySlot, Product, Subscription
from gateway.models import SubscriptionState as S
from tests.factories import make_product, make_subscription, make_user

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:gateway_subscription_changelist"


@pytest.fixture
def admin_client_() -> Client:
    client = Client()
    client.force_login(make_user("root", staff=True))
    return client


@pytest.fixture
def product(demo_api) -> Product:
    return make_product(demo_api, slug="starter", rate=5, quota=100)


@pytest.fixture
def owner():
    return make_user("ada")


def _act(client: Client, action: str, subscriptions: list[Subscription]) -> list[str]:
    response = client.post(
        reverse(CHANGELIST),
        {"action": action, "_selected_action": [str(s.pk) for s in subscriptions]},
        follow=True,
    )
    assert response.status_code == 200
    return [str(message) for message in response.context["messages"]]


# --- products ----------------------------------------------------------------------


def test_product_list_shows_limits_and_counts(admin_client_, product, owner, demo_api) -> None:
    make_subscription(user=owner, product=product)
    make_subscription(user=owner, product=product, name="two")
    make_subscription(user=owner, product=product, state=S.SUBMITTED, name="three")
    make_subscription(user=owner, product=product, state=S.CANCELLED, name="four")
    make_product(demo_api, slug="free")
    response = admin_client_.get(reverse("admin:gateway_product_changelist"))
    assert response.status_code == 200
    rows = {
        row.name: (row.active_count, row.pending_count)
        for row in response.context["cl"].result_list
    }
    assert rows == {"Starter": (2, 1), "Free": (0, 0)}
    html = response.content.decode()
    assert "5 calls per minute, 100 calls per week" in html
    assert "no limits" in html


def test_product_form_has_the_apis_picker_and_limits(admin_client_, product) -> None:
    response = admin_client_.get(reverse("admin:gateway_product_change", args=[product.pk]))
    html = response.content.decode()
    assert 'class="selectfilter" data-field-name="apis" data-is-stacked="0"' in html
    assert 'id="fieldset-0-2-heading" class="fieldset-heading">Limits</h2>' in html
    assert "data-prepopulated-fields" in html and "&quot;#id_slug&quot;" in html


def test_product_can_be_added(admin_client_, demo_api) -> None:
    response = admin_client_.post(
        reverse("admin:gateway_product_add"),
        {
            "name": "Gold",
            "slug": "gold",
            "description": "",
            "apis": [str(demo_api.pk)],
            "published": "on",
            "order": "3",
            "subscription_required": "on",
            "terms": "",
            "rate_limit_calls": "10",
            "rate_limit_period_seconds": "60",
            "quota_calls": "0",
            "quota_period_seconds": "604800",
        },
    )
    assert response.status_code == 302
    gold = Product.objects.get(slug="gold")
    assert list(gold.apis.all()) == [demo_api]
    assert (gold.rate_limit_calls, gold.approval_required) == (10, False)


# --- subscriptions -----------------------------------------------------------------


def test_approve_action_reports_changed_and_skipped(admin_client_, owner, product) -> None:
    waiting = make_subscription(user=owner, product=product, state=S.SUBMITTED, name="Wait")
    cancelled = make_subscription(user=owner, product=product, state=S.CANCELLED, name="Gone")
    messages = _act(admin_client_, "approve", [waiting, cancelled])
    assert messages == [
        "Approved 1 subscription.",
        "Skipped 1: “Gone” (Cannot approve a subscription that is cancelled.)",
    ]
    waiting.refresh_from_db()
    assert waiting.state == S.ACTIVE
    assert waiting.activated_at is not None
    assert waiting.state_comment == "Approved by an administrator."
    assert Subscription.objects.get(pk=cancelled.pk).state == S.CANCELLED


@pytest.mark.parametrize(
    ("action", "start", "end", "done"),
    [
        ("reject", S.SUBMITTED, S.REJECTED, "Rejected"),
        ("suspend", S.ACTIVE, S.SUSPENDED, "Suspended"),
        ("reactivate", S.SUSPENDED, S.ACTIVE, "Reactivated"),
        ("cancel", S.ACTIVE, S.CANCELLED, "Cancelled"),
    ],
)
def test_each_action(admin_client_, owner, product, action, start, end, done) -> None:
    first = make_subscription(user=owner, product=product, state=start, name="a")
    second = make_subscription(user=owner, product=product, state=start, name="b")
    messages = _act(admin_client_, action, [first, second])
    assert messages == [f"{done} 2 subscriptions."]
    assert set(Subscription.objects.values_list("state", flat=True)) == {end}


def test_action_that_changes_nothing(admin_client_, owner, product) -> None:
    active = make_subscription(user=owner, product=product, name="On")
    messages = _act(admin_client_, "reactivate", [active])
    assert messages == [
        "Reactivated 0 subscriptions.",
        "Skipped 1: “On” (Cannot reactivate a subscription that is active.)",
    ]


def test_list_filters_and_search(admin_client_, owner, product) -> None:
    make_subscription(user=owner, product=product, state=S.SUBMITTED, name="Waiting")
    make_subscription(user=make_user("bob"), product=product, name="Bob app")
    url = reverse(CHANGELIST)
    waiting = admin_client_.get(url, {"state__exact": "submitted"}).context["cl"].result_list
    assert [s.name for s in waiting] == ["Waiting"]
    by_user = admin_client_.get(url, {"q": "bob"}).context["cl"].result_list
    assert [s.name for s in by_user] == ["Bob app"]
    by_product = admin_client_.get(url, {"product__id__exact": product.pk}).context["cl"]
    assert by_product.result_count == 2


def test_change_page_masks_keys_and_edits_no_state(admin_client_, owner, product) -> None:
    subscription = make_subscription(user=owner, product=product, name="Mine")
    url = reverse("admin:gateway_subscription_change", args=[subscription.pk])
    html = admin_client_.get(url).content.decode()
    for slot in KeySlot:
        assert subscription.masked_key(slot) in html
        assert subscription.key(slot) not in html
    assert 'name="state"' not in html
    assert "primary_key_hash" not in html and "key_encrypted" not in html
    old_hash = subscription.primary_key_hash
    response = admin_client_.post(
        url,
        {
            "name": "Renamed",
            "state_comment": "",
            "state": "cancelled",
            "primary_key_hash": hash_key("chosen"),
        },
    )
    assert response.status_code == 302
    stored = Subscription.objects.get(pk=subscription.pk)
    assert (stored.name, stored.state, stored.primary_key_hash) == ("Renamed", S.ACTIVE, old_hash)


def test_admin_can_add_a_subscription(admin_client_, owner, product) -> None:
    response = admin_client_.post(
        reverse("admin:gateway_subscription_add"),
        {
            "user": str(owner.pk),
            "product": str(product.pk),
            "name": "Given",
            "state": "active",
            "state_comment": "",
        },
    )
    assert response.status_code == 302
    subscription = Subscription.objects.get()
    assert subscription.state == S.ACTIVE
    assert subscription.activated_at is not None
    assert len(subscription.key("primary")) == 32


def test_admin_index_counts_pending_subscriptions(admin_client_, owner, product) -> None:
    assert "awaiting approval" not in admin_client_.get(reverse("admin:index")).content.decode()
    make_subscription(user=owner, product=product, state=S.SUBMITTED, name="a")
    make_subscription(user=owner, product=product, state=S.SUBMITTED, name="b")
    html = admin_client_.get(reverse("admin:index")).content.decode()
    assert "2 subscriptions awaiting approval" in html
    assert f"{reverse(CHANGELIST)}?state__exact=submitted" in html


def test_non_staff_cannot_use_the_admin(owner, product) -> None:
    subscription = make_subscription(user=owner, product=product, state=S.SUBMITTED)
    client = Client()
    client.force_login(owner)
    response = client.post(
        reverse(CHANGELIST), {"action": "approve", "_selected_action": [str(subscription.pk)]}
    )
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert Subscription.objects.get(pk=subscription.pk).state == S.SUBMITTED


# --- calls -------------------------------------------------------------------------


def test_calls_are_read_only(admin_client_, owner, product, demo_api) -> None:
    subscription = make_subscription(user=owner, product=product)
    call = GatewayCall.objects.create(
        api=demo_api,
        product=product,
        subscription=subscription,
        user=owner,
        method="GET",
        path="/gateway/azureml-demo/x",
        outcome=CallOutcome.FORWARDED,
        status_code=200,
    )
    listing = admin_client_.get(reverse("admin:gateway_gatewaycall_changelist"))
    assert listing.status_code == 200
    assert [c.pk for c in listing.context["cl"].result_list] == [call.pk]
    filters = {spec.title for spec in listing.context["cl"].filter_specs}
    assert filters == {"outcome", "source", "api", "product"}
    assert listing.context["has_add_permission"] is False
    assert admin_client_.get(reverse("admin:gateway_gatewaycall_add")).status_code == 403
    change_url = reverse("admin:gateway_gatewaycall_change", args=[call.pk])
    view = admin_client_.get(change_url)
    assert view.status_code == 200
    assert 'name="path"' not in view.content.decode()
    assert admin_client_.post(change_url, {"path": "/changed"}).status_code == 403
    delete_url = reverse("admin:gateway_gatewaycall_delete", args=[call.pk])
    assert admin_client_.post(delete_url, {"post": "yes"}).status_code == 403
    assert GatewayCall.objects.get(pk=call.pk).path == "/gateway/azureml-demo/x"
