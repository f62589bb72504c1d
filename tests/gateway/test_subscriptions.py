"""gateway/subscriptions.py: subscribing, every state change allowed and refused, keys;
and the pages that list a developer's subscriptions and cancel one."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from gateway import access, subscriptions
from gateway.keys import hash_key
from gateway.models import KeySlot, Subscription, SubscriptionState
from gateway.subscriptions import SubscriptionError, TransitionNotAllowed
from tests.factories import make_product, make_subscription, make_user

pytestmark = pytest.mark.django_db

S = SubscriptionState
ACTIONS = ("approve", "reject", "suspend", "reactivate", "cancel")
ALLOWED = {
    ("approve", S.SUBMITTED): S.ACTIVE,
    ("reject", S.SUBMITTED): S.REJECTED,
    ("suspend", S.ACTIVE): S.SUSPENDED,
    ("reactivate", S.SUSPENDED): S.ACTIVE,
    ("cancel", S.SUBMITTED): S.CANCELLED,
    ("cancel", S.ACTIVE): S.CANCELLED,
    ("cancel", S.SUSPENDED): S.CANCELLED,
}
REFUSED = [(a, s) for a in ACTIONS for s in S.values if (a, s) not in ALLOWED]


@pytest.fixture
def owner():
    return make_user("ada")


@pytest.fixture
def admin_user():
    return make_user("root", staff=True)


@pytest.fixture
def product(demo_api):
    return make_product(demo_api, slug="starter", rate=5, quota=100)


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- subscribe ---------------------------------------------------------------------


def test_subscribe_without_approval_is_active_at_once(owner, product) -> None:
    before = timezone.now()
    subscription = subscriptions.subscribe(
        user=owner, product=product, name="  My app  ", accepted_terms=False
    )
    subscription.refresh_from_db()
    assert subscription.state == S.ACTIVE
    assert subscription.name == "My app"
    assert subscription.activated_at is not None and subscription.activated_at >= before
    assert subscription.state_changed_at >= before
    assert subscription.primary_key_hash != subscription.secondary_key_hash
    assert Subscription.objects.with_key_hash(hash_key(subscription.key("primary"))).get() == (
        subscription
    )


def test_subscribe_with_approval_waits(owner, demo_api) -> None:
    product = make_product(demo_api, slug="unlimited", approval_required=True)
    subscription = subscriptions.subscribe(
        user=owner, product=product, name="Prod", accepted_terms=False
    )
    subscription.refresh_from_db()
    assert subscription.state == S.SUBMITTED
    assert subscription.activated_at is None


def test_subscribe_needs_the_terms_accepted_when_there_are_terms(owner, demo_api) -> None:
    product = make_product(demo_api, terms="Be nice.")
    with pytest.raises(SubscriptionError, match=r"^Accept the product's terms of use"):
        subscriptions.subscribe(user=owner, product=product, name="x", accepted_terms=False)
    assert not Subscription.objects.exists()
    subscriptions.subscribe(user=owner, product=product, name="x", accepted_terms=True)
    assert Subscription.objects.count() == 1


@pytest.mark.parametrize(
    ("fields", "name", "message"),
    [
        ({"published": False}, "x", "The product Starter is not published."),
        (
            {"subscription_required": False},
            "x",
            "The product Starter needs no subscription: its APIs answer without a key.",
        ),
        ({}, "   ", "Give the subscription a name."),
        ({}, "n" * 201, "A subscription's name has at most 200 characters."),
    ],
)
def test_subscribe_refusals(owner, demo_api, fields, name, message) -> None:
    product = make_product(demo_api, **fields)
    with pytest.raises(SubscriptionError) as refused:
        subscriptions.subscribe(user=owner, product=product, name=name, accepted_terms=True)
    assert str(refused.value) == message
    assert not Subscription.objects.exists()


def test_default_name(owner, product) -> None:
    assert subscriptions.default_subscription_name(product=product, user=owner) == (
        "Starter for ada"
    )


# --- state changes -----------------------------------------------------------------


@pytest.mark.parametrize(("action", "start"), list(ALLOWED))
def test_allowed_transitions(owner, admin_user, product, action, start) -> None:
    subscription = make_subscription(user=owner, product=product, state=start)
    earlier = timezone.now() - timedelta(days=3)
    Subscription.objects.filter(pk=subscription.pk).update(state_changed_at=earlier)
    subscription.refresh_from_db()

    result = getattr(subscriptions, action)(subscription=subscription, by=admin_user)

    assert result is subscription
    stored = Subscription.objects.get(pk=subscription.pk)
    assert stored.state == ALLOWED[(action, start)] == subscription.state
    assert stored.state_changed_at > earlier
    assert stored.state_comment == subscriptions.DEFAULT_COMMENTS[action].format(
        by="an administrator"
    )


@pytest.mark.parametrize(("action", "start"), REFUSED)
def test_refused_transitions(owner, admin_user, product, action, start) -> None:
    subscription = make_subscription(user=owner, product=product, state=start)
    before = Subscription.objects.values().get(pk=subscription.pk)
    with pytest.raises(TransitionNotAllowed) as refused:
        getattr(subscriptions, action)(subscription=subscription, by=admin_user)
    assert str(refused.value) == f"Cannot {action} a subscription that is {S(start).label}."
    assert Subscription.objects.values().get(pk=subscription.pk) == before


def test_refusal_reads_the_database_not_a_stale_copy(owner, admin_user, product) -> None:
    subscription = make_subscription(user=owner, product=product, state=S.SUBMITTED)
    stale = Subscription.objects.get(pk=subscription.pk)
    subscriptions.cancel(subscription=subscription, by=owner)
    with pytest.raises(TransitionNotAllowed, match=r"^Cannot approve a subscription that is "):
        subscriptions.approve(subscription=stale, by=admin_user)
    assert Subscription.objects.get(pk=subscription.pk).state == S.CANCELLED


def test_approve_sets_activated_at_once(owner, admin_user, product) -> None:
    subscription = make_subscription(user=owner, product=product, state=S.SUBMITTED)
    subscriptions.approve(subscription=subscription, by=admin_user, comment="Welcome")
    first = Subscription.objects.get(pk=subscription.pk)
    assert first.activated_at is not None
    assert first.state_comment == "Welcome"
    subscriptions.suspend(subscription=subscription, by=admin_user)
    subscriptions.reactivate(subscription=subscription, by=admin_user)
    assert Subscription.objects.get(pk=subscription.pk).activated_at == first.activated_at


def test_cancel_by_owner_says_so(owner, product) -> None:
    subscription = make_subscription(user=owner, product=product)
    subscriptions.cancel(subscription=subscription, by=owner)
    assert Subscription.objects.get(pk=subscription.pk).state_comment == "Cancelled by its owner."


def test_can_matches_the_transitions(owner, product) -> None:
    for state in S.values:
        subscription = Subscription(user=owner, product=product, state=state)
        for action in ACTIONS:
            assert subscriptions.can(action=action, subscription=subscription) == (
                (action, state) in ALLOWED
            )
        assert subscriptions.can(action="regenerate", subscription=subscription) == (
            state == S.ACTIVE
        )


# --- keys --------------------------------------------------------------------------


@pytest.mark.parametrize("slot", [KeySlot.PRIMARY, KeySlot.SECONDARY])
def test_regenerate_changes_the_key_and_the_old_one_finds_nothing(owner, product, slot) -> None:
    subscription = make_subscription(user=owner, product=product)
    other = KeySlot.SECONDARY if slot == KeySlot.PRIMARY else KeySlot.PRIMARY
    old, kept = subscription.key(slot), subscription.key(other)
    old_hash = getattr(subscription, f"{slot}_key_hash")

    new = subscriptions.regenerate_key(subscription=subscription, slot=slot)

    stored = Subscription.objects.get(pk=subscription.pk)
    assert new != old
    assert stored.key(slot) == new == subscription.key(slot)
    assert getattr(stored, f"{slot}_key_hash") == hash_key(new) != old_hash
    assert not Subscription.objects.with_key_hash(hash_key(old)).exists()
    assert Subscription.objects.with_key_hash(hash_key(new)).get() == stored
    assert stored.key(other) == kept


@pytest.mark.parametrize("state", [S.SUBMITTED, S.SUSPENDED, S.CANCELLED, S.REJECTED])
def test_regenerate_refused_unless_active(owner, product, state) -> None:
    subscription = make_subscription(user=owner, product=product, state=state)
    old = subscription.key("primary")
    with pytest.raises(TransitionNotAllowed) as refused:
        subscriptions.regenerate_key(subscription=subscription, slot="primary")
    label = S(state).label
    assert str(refused.value) == f"Cannot regenerate a key of a subscription that is {label}."
    assert Subscription.objects.get(pk=subscription.pk).key("primary") == old


def test_regenerate_refuses_an_unknown_slot(owner, product) -> None:
    subscription = make_subscription(user=owner, product=product)
    with pytest.raises(ValueError):
        subscriptions.regenerate_key(subscription=subscription, slot="tertiary")


def test_changes_make_the_gateway_forget_its_lookups(
    owner, admin_user, product, monkeypatch
) -> None:
    forgotten: list[int] = []
    real_forget = subscriptions.forget_subscription

    def recording_forget(subscription: Subscription) -> None:
        forgotten.append(subscription.pk)
        real_forget(subscription)

    monkeypatch.setattr(subscriptions, "forget_subscription", recording_forget)
    subscription = make_subscription(user=owner, product=product)

    subscriptions.regenerate_key(subscription=subscription, slot="primary")
    subscriptions.suspend(subscription=subscription, by=admin_user)
    subscriptions.cancel(subscription=subscription, by=owner)

    assert forgotten == [subscription.pk] * 3


def test_the_gateway_refuses_changed_keys_at_once(owner, admin_user, product, demo_api, settings):
    """Through the gateway's own key check, whose lookups are cached."""
    settings.PORTAL_GATEWAY_KEY_CACHE_SECONDS = 300
    subscription = make_subscription(user=owner, product=product)
    old = subscription.key("primary")
    assert access.check_key(api=demo_api, key=old).allowed  # now cached

    new = subscriptions.regenerate_key(subscription=subscription, slot="primary")
    assert access.check_key(api=demo_api, key=old).code == "InvalidSubscriptionKey"
    assert access.check_key(api=demo_api, key=new).allowed

    subscriptions.suspend(subscription=subscription, by=admin_user)
    assert access.check_key(api=demo_api, key=new).code == "SubscriptionSuspended"
    subscriptions.reactivate(subscription=subscription, by=admin_user)
    assert access.check_key(api=demo_api, key=new).allowed
    subscriptions.cancel(subscription=subscription, by=owner)
    refused = access.check_key(api=demo_api, key=new)
    assert (refused.status, refused.code) == (403, "SubscriptionCancelled")
    assert access.check_key(api=demo_api, key=subscription.key("secondary")).code == (
        "SubscriptionCancelled"
    )


# --- the subscriptions list and detail pages ----------------------------------------


def test_list_shows_each_subscription_with_masked_keys(owner, product, demo_api) -> None:
    active = make_subscription(user=owner, product=product, name="Active one")
    waiting = make_subscription(
        user=owner,
        product=make_product(demo_api, slug="unlimited", approval_required=True),
        state=S.SUBMITTED,
        name="Waiting one",
    )
    response = _signed_in(owner).get(reverse("gateway:subscription_list"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Active one" in html and "Waiting one" in html
    for slot in KeySlot:
        assert active.masked_key(slot) in html
        assert active.key(slot) not in html
        assert waiting.key(slot) not in html
        assert waiting.masked_key(slot) not in html
    assert "Awaiting an administrator's approval" in html
    assert f"{reverse('analytics:analytics')}?subscription={active.pk}" in html
    assert "js/subscription-keys.js" in html
    rows = response.context["rows"]
    assert [row.subscription for row in rows] == [waiting, active]
    usage = rows[1].usage.admission
    assert (usage.rate_limit, usage.rate_remaining) == (5, 5)
    assert (usage.quota_limit, usage.quota_remaining) == (100, 100)
    assert "5</strong> of 5 calls left per minute" in html
    assert "100</strong> of 100 calls left this week" in html


def test_list_shows_only_the_users_own(owner, product) -> None:
    make_subscription(user=make_user("bob"), product=product, name="Bob's secret app")
    response = _signed_in(owner).get(reverse("gateway:subscription_list"))
    assert "Bob&#x27;s secret app" not in response.content.decode()
    assert "You have no subscriptions yet." in response.content.decode()


@pytest.mark.parametrize(
    ("state", "sentence"),
    [
        (S.SUBMITTED, "Awaiting an administrator's approval."),
        (S.SUSPENDED, "its keys are refused until an administrator reactivates it."),
        (S.CANCELLED, "its keys no longer work."),
        (S.REJECTED, "An administrator rejected this subscription"),
    ],
)
def test_inactive_subscriptions_show_no_keys_but_why(owner, product, state, sentence) -> None:
    subscription = make_subscription(user=owner, product=product, state=state)
    client = _signed_in(owner)
    for url in (
        reverse("gateway:subscription_list"),
        reverse("gateway:subscription_detail", args=[subscription.pk]),
    ):
        html = client.get(url).content.decode()
        assert sentence in html
        assert "data-key-row" not in html
        for slot in KeySlot:
            assert subscription.masked_key(slot) not in html


def test_detail_page(owner, product) -> None:
    subscription = make_subscription(user=owner, product=product, name="Mine")
    response = _signed_in(owner).get(reverse("gateway:subscription_detail", args=[subscription.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert '<h1 class="h2 mb-0 me-2">Mine</h1>' in html
    assert "5 calls per minute, 100 calls per week" in html
    assert f'href="{reverse("analytics:analytics")}?subscription={subscription.pk}"' in html
    assert "/gateway/azureml-demo/" in html
    assert "Ocp-Apim-Subscription-Key" in html
    assert subscription.key("primary") not in html
    assert subscription.masked_key("primary") in html


@pytest.mark.parametrize("page", ["list", "detail"])
def test_pages_permission_matrix(owner, product, page) -> None:
    subscription = make_subscription(user=owner, product=product)
    url = (
        reverse("gateway:subscription_list")
        if page == "list"
        else reverse("gateway:subscription_detail", args=[subscription.pk])
    )
    anonymous = Client().get(url)
    assert anonymous.status_code == 302
    assert anonymous["Location"] == f"{reverse('account_login')}?next={url}"
    assert _signed_in(owner).get(url).status_code == 200
    for stranger in (make_user("bob"), make_user("root", staff=True)):
        response = _signed_in(stranger).get(url)
        if page == "list":
            assert response.status_code == 200
            assert subscription.name not in response.content.decode()
        else:
            assert response.status_code == 404


def test_detail_of_a_missing_subscription_is_404(owner) -> None:
    assert _signed_in(owner).get("/subscriptions/999999/").status_code == 404


# --- cancelling from the pages -----------------------------------------------------


def test_cancel_asks_first_then_cancels(owner, product) -> None:
    subscription = make_subscription(user=owner, product=product, name="Mine")
    client = _signed_in(owner)
    url = reverse("gateway:cancel_subscription", args=[subscription.pk])

    confirm = client.get(url, {"next": "/subscriptions/"})
    assert confirm.status_code == 200
    assert "Cancel “Mine”?" in confirm.content.decode()
    assert Subscription.objects.get(pk=subscription.pk).state == S.ACTIVE

    done = client.post(url, {"next": "/subscriptions/"}, follow=True)
    assert done.redirect_chain == [("/subscriptions/", 302)]
    assert Subscription.objects.get(pk=subscription.pk).state == S.CANCELLED
    assert "“Mine” is cancelled: its keys no longer work." in done.content.decode()
    assert not Subscription.objects.with_key_hash(hash_key(subscription.key("primary"))).filter(
        state=S.ACTIVE
    )


def test_cancel_goes_back_only_to_pages_of_the_portal(owner, product) -> None:
    subscription = make_subscription(user=owner, product=product)
    url = reverse("gateway:cancel_subscription", args=[subscription.pk])
    response = _signed_in(owner).post(url, {"next": "https://evil.example/"})
    assert response.status_code == 302
    assert response["Location"] == reverse("gateway:subscription_detail", args=[subscription.pk])


def test_cancelling_twice_is_refused(owner, product) -> None:
    subscription = make_subscription(user=owner, product=product, state=S.CANCELLED)
    url = reverse("gateway:cancel_subscription", args=[subscription.pk])
    client = _signed_in(owner)
    response = client.post(url)
    assert response.status_code == 409
    assert "Cannot cancel a subscription that is cancelled." in response.content.decode()
    confirm = client.get(url)
    assert "there is nothing to cancel" in confirm.content.decode()
    assert '<form method="post" class="d-flex' not in confirm.content.decode()


def test_cancel_permission_matrix(owner, product) -> None:
    subscription = make_subscription(user=owner, product=product)
    url = reverse("gateway:cancel_subscription", args=[subscription.pk])
    anonymous = Client().post(url)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("account_login"))
    for stranger in (make_user("bob"), make_user("root", staff=True)):
        assert _signed_in(stranger).post(url).status_code == 404
        assert _signed_in(stranger).get(url).status_code == 404
    assert Subscription.objects.get(pk=subscription.pk).state == S.ACTIVE


def test_cancel_needs_the_csrf_token(owner, product) -> None:
    subscription = make_subscription(user=owner, product=product)
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    response = client.post(reverse("gateway:cancel_subscription", args=[subscription.pk]))
    assert response.status_code == 403
    assert Subscription.objects.get(pk=subscription.pk).state == S.ACTIVE


def test_list_and_detail_refuse_post(owner, product) -> None:
    subscription = make_subscription(user=owner, product=product)
    client = _signed_in(owner)
    assert client.post(reverse("gateway:subscription_list")).status_code == 405
    detail = reverse("gateway:subscription_detail", args=[subscription.pk])
    assert client.post(detail).status_code == 405
