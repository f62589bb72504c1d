"""Showing and regenerating a subscription's keys: only its owner, only by asking,
never cached, state changes by POST with CSRF."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from gateway.keys import hash_key
from gateway.models import KeySlot, Subscription, SubscriptionState
from tests.factories import make_product, make_subscription, make_user

pytestmark = pytest.mark.django_db

S = SubscriptionState


@pytest.fixture
def owner():
    return make_user("ada")


@pytest.fixture
def subscription(owner, demo_api) -> Subscription:
    return make_subscription(user=owner, product=make_product(demo_api, rate=5), name="Mine")


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _key_url(subscription: Subscription, slot: str) -> str:
    return reverse("gateway:subscription_key", args=[subscription.pk, slot])


def _regenerate_url(subscription: Subscription, slot: str) -> str:
    return reverse("gateway:regenerate_key", args=[subscription.pk, slot])


# --- revealing a key ---------------------------------------------------------------


@pytest.mark.parametrize("slot", ["primary", "secondary"])
def test_owner_reveals_a_key_uncached(owner, subscription, slot) -> None:
    response = _signed_in(owner).get(_key_url(subscription, slot))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"slot": slot, "key": subscription.key(slot)}
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


def test_reveal_permission_matrix(subscription) -> None:
    url = _key_url(subscription, "primary")
    anonymous = Client().get(url)
    assert anonymous.status_code == 302
    assert anonymous["Location"] == f"{reverse('account_login')}?next={url}"
    assert subscription.key("primary") not in anonymous.content.decode()
    for stranger in (make_user("bob"), make_user("root", staff=True)):
        response = _signed_in(stranger).get(url)
        assert response.status_code == 404
        assert subscription.key("primary") not in response.content.decode()


@pytest.mark.parametrize("state", [S.SUBMITTED, S.SUSPENDED, S.CANCELLED, S.REJECTED])
def test_keys_of_an_inactive_subscription_are_not_revealed(owner, subscription, state) -> None:
    Subscription.objects.filter(pk=subscription.pk).update(state=state)
    response = _signed_in(owner).get(_key_url(subscription, "primary"))
    assert response.status_code == 409
    assert response.json() == {
        "error": f"The subscription is {S(state).label}: its keys are not shown."
    }
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("slot", ["tertiary", "PRIMARY", "primary_key_hash"])
def test_unknown_slot_is_404(owner, subscription, slot) -> None:
    client = _signed_in(owner)
    assert client.get(_key_url(subscription, slot)).status_code == 404
    assert client.post(_regenerate_url(subscription, slot)).status_code == 404


def test_reveal_only_answers_get(owner, subscription) -> None:
    assert _signed_in(owner).post(_key_url(subscription, "primary")).status_code == 405


def test_pages_never_hold_a_full_key(owner, subscription, demo_api) -> None:
    other = make_subscription(user=owner, product=make_product(demo_api, slug="second"))
    client = _signed_in(owner)
    pages = [
        reverse("gateway:subscription_list"),
        reverse("gateway:subscription_detail", args=[subscription.pk]),
        reverse("gateway:product_detail", args=["starter"]),
        reverse("gateway:product_list"),
    ]
    for url in pages:
        html = client.get(url).content.decode()
        for each in (subscription, other):
            for slot in KeySlot:
                key = each.key(slot)
                assert key not in html, url
                # Not even the part before the visible last four characters.
                assert key[:-4] not in html, url
    listing = client.get(pages[0]).content.decode()
    for each in (subscription, other):
        for slot in KeySlot:
            assert f'data-masked="{each.masked_key(slot)}"' in listing
            assert each.masked_key(slot).endswith(each.key(slot)[-4:])
            assert _key_url(each, slot) in listing


# --- regenerating a key ------------------------------------------------------------


def test_regenerate_asks_first(owner, subscription) -> None:
    old = subscription.key("primary")
    response = _signed_in(owner).get(
        _regenerate_url(subscription, "primary"), {"next": "/subscriptions/"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Regenerate the primary key of “Mine”?" in html
    assert 'name="next" value="/subscriptions/"' in html
    assert Subscription.objects.get(pk=subscription.pk).key("primary") == old


@pytest.mark.parametrize("slot", ["primary", "secondary"])
def test_regenerate_makes_a_new_key_and_the_old_stops(owner, subscription, slot) -> None:
    old = subscription.key(slot)
    response = _signed_in(owner).post(
        _regenerate_url(subscription, slot), {"next": "/subscriptions/"}, follow=True
    )
    assert response.redirect_chain == [("/subscriptions/", 302)]
    stored = Subscription.objects.get(pk=subscription.pk)
    assert stored.key(slot) != old
    assert not Subscription.objects.with_key_hash(hash_key(old)).exists()
    assert Subscription.objects.with_key_hash(hash_key(stored.key(slot))).get() == stored
    html = response.content.decode()
    assert f"The {slot} key of “Mine” is new: the old one no longer works." in html
    assert stored.masked_key(slot) in html
    assert stored.key(slot) not in html


def test_regenerate_without_next_goes_to_the_detail_page(owner, subscription) -> None:
    response = _signed_in(owner).post(_regenerate_url(subscription, "primary"))
    assert response.status_code == 302
    assert response["Location"] == reverse("gateway:subscription_detail", args=[subscription.pk])


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/x", "javascript:x"])
def test_regenerate_never_sends_elsewhere(owner, subscription, next_url) -> None:
    response = _signed_in(owner).post(_regenerate_url(subscription, "primary"), {"next": next_url})
    assert response["Location"] == reverse("gateway:subscription_detail", args=[subscription.pk])


@pytest.mark.parametrize("state", [S.SUBMITTED, S.SUSPENDED, S.CANCELLED, S.REJECTED])
def test_regenerate_refused_unless_active(owner, subscription, state) -> None:
    Subscription.objects.filter(pk=subscription.pk).update(state=state)
    old = subscription.key("primary")
    response = _signed_in(owner).post(_regenerate_url(subscription, "primary"))
    assert response.status_code == 409
    assert (
        f"Cannot regenerate a key of a subscription that is {S(state).label}."
        in response.content.decode()
    )
    assert Subscription.objects.get(pk=subscription.pk).key("primary") == old


def test_regenerate_permission_matrix(subscription) -> None:
    url = _regenerate_url(subscription, "primary")
    old = subscription.key("primary")
    anonymous = Client().post(url)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("account_login"))
    for stranger in (make_user("bob"), make_user("root", staff=True)):
        assert _signed_in(stranger).post(url).status_code == 404
        assert _signed_in(stranger).get(url).status_code == 404
    assert Subscription.objects.get(pk=subscription.pk).key("primary") == old


def test_regenerate_needs_the_csrf_token(owner, subscription) -> None:
    old = subscription.key("primary")
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    assert client.post(_regenerate_url(subscription, "primary")).status_code == 403
    assert Subscription.objects.get(pk=subscription.pk).key("primary") == old
