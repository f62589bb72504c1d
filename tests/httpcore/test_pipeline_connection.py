"""httpcore.pipeline: a pooled connection is not held while a call waits on its backend."""

from __future__ import annotations

import pytest
from django.db import connection

from catalog.models import Api, Operation
from console.models import Exchange
from httpcore import outbound
from tests.backends import reply_with, scripted_server


def pooled() -> bool:
    return getattr(connection, "pool", None) is not None


@pytest.fixture
def backend():
    with scripted_server(reply_with(200, body=b"ok")) as server:
        yield server


@pytest.fixture
def held_during_send(monkeypatch) -> list[bool]:
    """Whether the thread held a database connection each time outbound.send began."""
    held: list[bool] = []
    real_send = outbound.send

    def watching_send(request, **kwargs):
        held.append(connection.connection is not None)
        return real_send(request, **kwargs)

    monkeypatch.setattr(outbound, "send", watching_send)
    return held


def make_operation(url: str) -> Operation:
    api = Api.objects.create(name="Plain", slug="plain", service_url=url)
    return Operation.objects.create(
        api=api, name="Ping", slug="ping", method="GET", url_template="/ping"
    )


@pytest.mark.django_db(transaction=True)
def test_a_try_it_call_waits_on_its_backend_without_a_pooled_connection(
    client, backend, held_during_send
):
    url = make_operation(backend.url).get_absolute_url() + "try"
    response = client.post(url, {}, headers={"HX-Request": "true"})
    assert b"data-status>200 " in response.content
    # The pool gets it back (PostgreSQL); without one (SQLite) the connection is kept.
    assert held_during_send == [not pooled()]
    # The call is recorded all the same, on a connection taken again after the answer.
    assert Exchange.objects.filter(operation__slug="ping", status_code=200).count() == 1


@pytest.mark.django_db
def test_inside_a_transaction_the_connection_stays(client, backend, held_during_send):
    """Each test here runs in a transaction: the connection is the transaction's."""
    url = make_operation(backend.url).get_absolute_url() + "try"
    response = client.post(url, {}, headers={"HX-Request": "true"})
    assert b"data-status>200 " in response.content
    assert held_during_send == [True]
