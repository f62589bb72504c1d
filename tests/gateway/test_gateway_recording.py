"""gateway/recording.py: record_call, and the background writer the gateway uses."""

import threading

import pytest
from django.contrib.auth import get_user_model

from catalog.models import Api, Operation
from gateway import recording
from gateway.models import CallOutcome, GatewayCall
from gateway.recording import CallWriter, record_call, record_call_later
from tests.backends import reply_with, scripted_server
from tests.factories import make_product, make_subscription

KEY_HEADER = "Ocp-Apim-Subscription-Key"


def row(**fields) -> GatewayCall:
    return GatewayCall(
        method="GET", path="/gateway/x", outcome=CallOutcome.NOT_FOUND, status_code=404, **fields
    )


@pytest.fixture
def owner(db):
    return get_user_model().objects.create(username="owner")


@pytest.mark.django_db
def test_record_call_takes_the_product_and_owner_from_the_subscription(owner):
    subscription = make_subscription(user=owner, product=make_product())
    call = record_call(
        subscription=subscription, method="GET", path="/gateway/a", outcome="forwarded"
    )
    assert (call.product, call.user) == (subscription.product, owner)


@pytest.mark.django_db
def test_without_the_background_writer_the_row_is_written_at_once(settings):
    settings.PORTAL_GATEWAY_RECORD_IN_BACKGROUND = False
    record_call_later(method="GET", path="/gateway/x", outcome=CallOutcome.NOT_FOUND)
    assert GatewayCall.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_gateway_calls_are_written_in_the_background(client, settings, owner):
    settings.PORTAL_GATEWAY_RECORD_IN_BACKGROUND = True
    with scripted_server(reply_with(200, body=b"ok")) as backend:
        api = Api.objects.create(
            name="Shop", slug="shop", service_url=backend.url, url_suffix="shop"
        )
        operation = Operation.objects.create(
            api=api, name="Ping", slug="ping", method="GET", url_template="/ping"
        )
        subscription = make_subscription(user=owner, product=make_product(api, rate=100))
        key = subscription.key("primary")
        statuses = [
            client.get(path, headers={KEY_HEADER: key}).status_code
            for path in ["/gateway/shop/ping"] * 20 + ["/gateway/shop/nothing"]
        ]
    try:
        assert recording.writer.flush(timeout=10)
    finally:
        recording.writer.stop()
    assert statuses == [200] * 20 + [404]
    calls = list(GatewayCall.objects.order_by("id"))
    assert len(calls) == 21
    assert {(c.operation_id, c.subscription_id, c.product_id, c.user_id) for c in calls[:20]} == {
        (operation.pk, subscription.pk, subscription.product_id, owner.pk)
    }
    assert (calls[-1].outcome, calls[-1].status_code) == (CallOutcome.NOT_FOUND, 404)
    # Each row keeps the time of its call, not of its insert.
    assert [c.created_at for c in calls] == sorted(c.created_at for c in calls)


@pytest.mark.django_db(transaction=True)
def test_a_row_that_cannot_be_written_does_not_lose_the_others(caplog):
    writer = CallWriter()
    try:
        for fields in ({}, {"subscription_id": 987654}, {}):
            writer.put(row(**fields))
        assert writer.flush(timeout=10)
    finally:
        writer.stop()
    assert GatewayCall.objects.count() == 2
    assert "a call could not be recorded" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_a_full_queue_drops_new_rows_with_a_warning(caplog, monkeypatch):
    writer = CallWriter(max_queued=1)
    release = threading.Event()
    written = threading.Event()
    real_write = writer._write

    def slow_write(batch):
        written.set()
        release.wait(10)
        real_write(batch)

    monkeypatch.setattr(writer, "_write", slow_write)
    try:
        writer.put(row())  # taken by the thread, which is held in slow_write
        assert written.wait(10)
        writer.put(row())  # waits in the queue
        writer.put(row())  # the queue is full: dropped
        assert writer.dropped == 1
        assert "1 calls not recorded" in caplog.text
        release.set()
        assert writer.flush(timeout=10)
    finally:
        release.set()
        writer.stop()
    assert GatewayCall.objects.count() == 2
