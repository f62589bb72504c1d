"""gateway/access.py: the key check, its cached lookups and forget_subscription."""

import pytest
from django.contrib.auth import get_user_model

from catalog.models import Api, Operation
from gateway import access, subscriptions
from gateway.access import check_key, forget_subscription
from gateway.models import CallOutcome, Subscription, SubscriptionState
from tests.backends import reply_with, scripted_server
from tests.factories import make_product, make_subscription

pytestmark = pytest.mark.django_db

KEY_HEADER = "Ocp-Apim-Subscription-Key"


@pytest.fixture
def backend():
    with scripted_server(reply_with(200, body=b"ok")) as server:
        yield server


@pytest.fixture
def api(backend) -> Api:
    api = Api.objects.create(name="Shop", slug="shop", service_url=backend.url, url_suffix="shop")
    Operation.objects.create(api=api, name="Ping", slug="ping", method="GET", url_template="/ping")
    return api


@pytest.fixture
def owner():
    return get_user_model().objects.create(username="owner")


@pytest.fixture
def product(api):
    return make_product(api)


@pytest.fixture
def subscription(product, owner) -> Subscription:
    return make_subscription(user=owner, product=product)


def test_no_product_requiring_a_key_allows_without_one(api):
    make_product(api, slug="open", subscription_required=False)
    decision = check_key(api=api, key="")
    assert (decision.allowed, decision.subscription, decision.status) == (True, None, 200)


def test_a_valid_key_gives_the_subscription_and_its_product(api, subscription, product, owner):
    decision = check_key(api=api, key=subscription.key("primary"))
    assert decision.allowed
    assert (decision.subscription, decision.product) == (subscription, product)
    assert decision.subscription.product == product
    assert decision.subscription.user_id == owner.pk
    # Fields the lookup does not keep load on access.
    assert decision.subscription.name == subscription.name


def test_the_subscription_handed_out_saves_only_what_it_loaded(api, subscription):
    decision = check_key(api=api, key=subscription.key("primary"))
    decision.subscription.save()
    subscription.refresh_from_db()
    assert subscription.name and subscription.primary_key_hash


def test_a_lookup_is_cached(api, subscription, django_assert_num_queries):
    key = subscription.key("primary")
    check_key(api=api, key=key)
    with django_assert_num_queries(0):
        assert check_key(api=api, key=key).allowed


def test_without_a_cache_time_every_check_reads_the_database(
    api, subscription, settings, django_assert_num_queries
):
    settings.PORTAL_GATEWAY_KEY_CACHE_SECONDS = 0
    key = subscription.key("primary")
    check_key(api=api, key=key)
    with django_assert_num_queries(1):
        check_key(api=api, key=key)


def test_a_state_changed_without_signals_is_cached_until_forgotten(api, subscription):
    key = subscription.key("primary")
    assert check_key(api=api, key=key).allowed
    # A bulk update sends no signal: the cached lookup still says active...
    Subscription.objects.filter(pk=subscription.pk).update(state=SubscriptionState.SUSPENDED)
    assert check_key(api=api, key=key).allowed
    # ...until the subscription is forgotten: refused at once.
    forget_subscription(subscription)
    decision = check_key(api=api, key=key)
    assert (decision.allowed, decision.status, decision.code) == (
        False,
        403,
        "SubscriptionSuspended",
    )


def test_forgetting_drops_a_key_regenerated_since(api, subscription):
    old_key = subscription.key("primary")
    assert check_key(api=api, key=old_key).allowed
    new_key = subscription.set_key("primary")
    Subscription.objects.filter(pk=subscription.pk).update(
        primary_key_hash=subscription.primary_key_hash,
        primary_key_encrypted=subscription.primary_key_encrypted,
    )
    forget_subscription(subscription)  # the object carries the new key's hash only
    assert check_key(api=api, key=old_key).code == "InvalidSubscriptionKey"
    assert check_key(api=api, key=new_key).allowed


def test_saving_a_subscription_forgets_it(api, subscription):
    key = subscription.key("primary")
    assert check_key(api=api, key=key).allowed
    subscription.state = SubscriptionState.CANCELLED
    subscription.save()
    assert check_key(api=api, key=key).code == "SubscriptionCancelled"


def test_a_deleted_subscription_is_forgotten(api, subscription):
    key = subscription.key("secondary")
    assert check_key(api=api, key=key).allowed
    subscription.delete()
    assert check_key(api=api, key=key).code == "InvalidSubscriptionKey"


def test_suspending_through_the_subscription_service_refuses_at_once(
    client, backend, api, subscription
):
    admin = get_user_model().objects.create(username="admin", is_staff=True)
    key = subscription.key("primary")
    assert client.get("/gateway/shop/ping", headers={KEY_HEADER: key}).status_code == 200
    subscriptions.suspend(subscription=subscription, by=admin)
    response = client.get("/gateway/shop/ping", headers={KEY_HEADER: key})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "SubscriptionSuspended"
    assert len(backend.requests) == 1


def test_regenerating_through_the_subscription_service_refuses_the_old_key_at_once(
    client, backend, api, subscription
):
    old_key = subscription.key("primary")
    assert client.get("/gateway/shop/ping", headers={KEY_HEADER: old_key}).status_code == 200
    new_key = subscriptions.regenerate_key(subscription=subscription, slot="primary")
    assert client.get("/gateway/shop/ping", headers={KEY_HEADER: old_key}).status_code == 401
    assert client.get("/gateway/shop/ping", headers={KEY_HEADER: new_key}).status_code == 200


def test_the_subscription_service_forgets_through_the_key_check():
    # gateway/subscriptions.py looks it up there.
    assert subscriptions.forget_subscription is access.forget_subscription


def test_forget_within_a_transaction_forgets_again_on_commit(
    api, subscription, django_capture_on_commit_callbacks
):
    key = subscription.key("primary")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        forget_subscription(subscription)
    check_key(api=api, key=key)  # a call caches the row as it reads it before the commit
    Subscription.objects.filter(pk=subscription.pk).update(state=SubscriptionState.SUSPENDED)
    for callback in callbacks:
        callback()
    assert check_key(api=api, key=key).code == "SubscriptionSuspended"


def test_a_refused_decision_names_its_outcome(api, product, owner):
    submitted = make_subscription(user=owner, product=product, state=SubscriptionState.SUBMITTED)
    decision = check_key(api=api, key=submitted.key("primary"))
    assert (decision.status, decision.outcome) == (403, CallOutcome.INACTIVE_SUBSCRIPTION)
    assert check_key(api=api, key="").outcome == CallOutcome.NO_KEY
    assert check_key(api=api, key="nope").outcome == CallOutcome.INVALID_KEY
