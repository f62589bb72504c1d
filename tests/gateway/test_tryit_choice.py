"""Which subscription Try it's select opens with (gateway/tryit_choice.py).

The only active subscription for the API is selected when the page opens; with several,
the one the user last sent a Try it call to the API with (kept per user and API when a
Send is sent or refused by the gateway); "(none)", once sent, is kept too. A remembered
subscription that is no longer active is not selected, another user's never is, and the
page never holds a key.
"""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Api, Operation
from catalog.registration import create_missing_template_parameters
from gateway.models import CallOutcome, GatewayCall, SubscriptionState, TryItChoice
from tests.backends import reply_with, scripted_server
from tests.factories import make_product, make_subscription, make_user
from tests.markup import attr, one

pytestmark = pytest.mark.django_db

KEY_HEADER = "Ocp-Apim-Subscription-Key"


@pytest.fixture
def backend():
    with scripted_server(reply_with(200, body=b"ok")) as server:
        yield server


def make_api(service_url: str, *, slug: str = "scripted") -> Api:
    return Api.objects.create(
        name=slug.title(), slug=slug, url_suffix=slug, service_url=service_url
    )


def make_operation(api: Api, *, slug: str = "item") -> Operation:
    operation = Operation.objects.create(
        api=api, name=slug.title(), slug=slug, method="GET", url_template="/items/{item}"
    )
    create_missing_template_parameters(operation=operation)
    return operation


@pytest.fixture
def api(backend) -> Api:
    return make_api(backend.url)


@pytest.fixture
def first(api) -> Operation:
    return make_operation(api, slug="first")


@pytest.fixture
def second(api) -> Operation:
    return make_operation(api, slug="second")


@pytest.fixture
def starter(api):
    return make_product(api, slug="starter")


@pytest.fixture
def unlimited(api):
    return make_product(api, slug="unlimited", order=1)


@pytest.fixture
def developer(client):
    user = make_user("ada")
    client.force_login(user)
    return user


@pytest.fixture
def two(developer, starter, unlimited):
    """The developer's two active subscriptions for the API: A (Starter), B (Unlimited)."""
    return (
        make_subscription(user=developer, product=starter, name="A"),
        make_subscription(user=developer, product=unlimited, name="B"),
    )


def open_page(client, operation: Operation) -> tuple[str, BeautifulSoup]:
    response = client.get(operation.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    return html, BeautifulSoup(html, "html.parser")


def selected(client, operation: Operation) -> str | None:
    """The value of the selected option when the page opens, None when none is."""
    _, soup = open_page(client, operation)
    options = soup.select("#try-it select[data-subscription-select] option[selected]")
    assert len(options) <= 1
    return attr(options[0], "value") if options else None


def listed(client, operation: Operation) -> list[str]:
    _, soup = open_page(client, operation)
    return [
        attr(o, "value") for o in soup.select("#try-it select[data-subscription-select] option")
    ]


def send(client, operation: Operation, *, subscription, key: str = "", **extra) -> BeautifulSoup:
    """Send as the form does: the select's value (absent when None) and the key row."""
    data = {"param-template-item": "42", "header_name": [KEY_HEADER], "header_value": [key]}
    if subscription is not None:
        data["subscription"] = str(getattr(subscription, "pk", subscription))
    response = client.post(
        operation.get_absolute_url() + "try", data | extra, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    return BeautifulSoup(response.content, "html.parser")


def status_of(soup: BeautifulSoup) -> str:
    return one(soup, "#result [data-status]").get_text(strip=True)


def choices() -> list[tuple[int, int, int | None]]:
    return list(TryItChoice.objects.values_list("user_id", "api_id", "subscription_id"))


# --- The page as it opens ---------------------------------------------------------------


def test_the_only_subscription_is_selected_and_the_page_holds_no_key(
    client, first, developer, starter
):
    subscription = make_subscription(user=developer, product=starter, name="My app")
    html, soup = open_page(client, first)
    [option] = soup.select("#try-it select[data-subscription-select] option[selected]")
    assert (option["value"], option.get_text(strip=True)) == (
        str(subscription.pk),
        "My app (Starter)",
    )
    assert option["data-key-url"] == f"/subscriptions/{subscription.pk}/try-it-key"
    # The key row is left for the browser to fill from the key endpoint.
    row = soup.select_one("[data-header-rows] .header-row")
    assert row.select_one("input[name=header_name]")["value"] == KEY_HEADER
    assert row.select_one("input[name=header_value]")["value"] == ""
    assert subscription.key("primary") not in html
    assert subscription.key("secondary") not in html
    assert choices() == []  # opening a page keeps nothing


def test_with_several_and_none_used_yet_none_is_selected(client, first, two):
    assert selected(client, first) is None
    assert listed(client, first) == ["", str(two[0].pk), str(two[1].pk)]


def test_the_last_used_of_several_opens_the_other_operations(client, first, second, two):
    a, b = two
    assert status_of(send(client, first, subscription=b, key=b.key("primary"))) == "200 OK"
    assert selected(client, second) == str(b.pk)
    assert selected(client, first) == str(b.pk)
    assert status_of(send(client, second, subscription=a, key=a.key("primary"))) == "200 OK"
    assert selected(client, first) == str(a.pk)
    assert choices() == [(a.user_id, first.api_id, a.pk)]


def test_none_once_sent_is_kept_even_with_one_subscription(
    client, first, second, developer, starter
):
    subscription = make_subscription(user=developer, product=starter)
    # "(none)" with a key typed by hand.
    assert status_of(send(client, first, subscription="", key=subscription.key("primary"))) == (
        "200 OK"
    )
    assert selected(client, second) is None
    assert choices() == [(developer.pk, first.api_id, None)]
    # Choosing it again is kept again.
    send(client, first, subscription=subscription, key=subscription.key("primary"))
    assert selected(client, second) == str(subscription.pk)


def test_a_send_the_gateway_refuses_keeps_the_choice(client, first, second, two, backend):
    _, b = two
    soup = send(client, first, subscription=b, key="")  # the key never came
    assert status_of(soup) == "401 Unauthorized"
    assert GatewayCall.objects.get().outcome == CallOutcome.NO_KEY
    assert backend.requests == []
    assert selected(client, second) == str(b.pk)


@pytest.mark.parametrize("state", [SubscriptionState.CANCELLED, SubscriptionState.SUSPENDED])
def test_a_remembered_subscription_no_longer_active_falls_back_to_the_only_one(
    client, first, second, two, state
):
    a, b = two
    send(client, first, subscription=b, key=b.key("primary"))
    b.state = state
    b.save()
    assert selected(client, second) == str(a.pk)
    assert str(b.pk) not in listed(client, second)


def test_a_remembered_subscription_no_longer_active_among_several_selects_none(
    client, first, two, developer, starter
):
    a, b = two
    third = make_subscription(user=developer, product=starter, name="C")
    send(client, first, subscription=b, key=b.key("primary"))
    b.state = SubscriptionState.CANCELLED
    b.save()
    assert selected(client, first) is None
    assert listed(client, first) == ["", str(a.pk), str(third.pk)]


def test_a_remembered_subscription_whose_product_left_the_api_is_not_selected(
    client, first, two, unlimited
):
    a, b = two
    send(client, first, subscription=b, key=b.key("primary"))
    unlimited.apis.clear()
    assert selected(client, first) == str(a.pk)


def test_a_deleted_subscription_takes_its_choice_with_it(client, first, two):
    a, b = two
    send(client, first, subscription=b, key=b.key("primary"))
    b.delete()
    assert choices() == []
    assert selected(client, first) == str(a.pk)


def test_the_choice_is_the_users_own(client, first, two, starter, unlimited):
    _, b = two
    send(client, first, subscription=b, key=b.key("primary"))
    bob = make_user("bob")
    make_subscription(user=bob, product=starter, name="Bob A")
    make_subscription(user=bob, product=unlimited, name="Bob B")
    client.force_login(bob)
    assert selected(client, first) is None
    assert str(b.pk) not in listed(client, first)


def test_the_choice_is_per_api(client, first, two, backend):
    a, b = two
    other_api = make_api(backend.url, slug="other")
    other = make_operation(other_api)
    make_subscription(user=a.user, product=make_product(other_api, slug="other-a"), name="X")
    make_subscription(user=a.user, product=make_product(other_api, slug="other-b"), name="Y")
    send(client, first, subscription=b, key=b.key("primary"))
    assert selected(client, other) is None


def test_another_users_subscription_is_never_selected_nor_listed(client, first, developer, starter):
    mine = make_subscription(user=developer, product=starter, name="Mine")
    eves = make_subscription(user=make_user("eve"), product=starter, name="Eve's")
    # Even a stored choice naming it (as no Send can make) selects the user's own.
    TryItChoice.objects.create(user=developer, api=first.api, subscription=eves)
    assert selected(client, first) == str(mine.pk)
    assert listed(client, first) == ["", str(mine.pk)]


def test_posting_another_users_subscription_keeps_nothing(client, first, two, starter):
    a, b = two
    send(client, first, subscription=b, key=b.key("primary"))
    eves = make_subscription(user=make_user("eve"), product=starter)
    soup = send(client, first, subscription=eves, key=eves.key("primary"))
    assert status_of(soup) == "200 OK"  # the key typed by hand still works
    assert soup.select_one("option[selected]") is None
    assert choices() == [(a.user_id, first.api_id, b.pk)]
    assert selected(client, first) == str(b.pk)


@pytest.mark.parametrize("value", ["abc", "999999", " "])
def test_a_posted_value_that_is_no_listed_subscription_keeps_nothing(client, first, two, value):
    a, _ = two
    send(client, first, subscription=value, key=a.key("primary"))
    assert choices() == []


def test_a_send_without_the_select_keeps_nothing(client, first, two):
    a, _ = two
    assert status_of(send(client, first, subscription=None, key=a.key("primary"))) == "200 OK"
    assert choices() == []


def test_a_form_error_keeps_nothing(client, first, two):
    a, _ = two
    soup = send(client, first, subscription=a, key=a.key("primary"), **{"param-template-item": ""})
    assert soup.select_one("#result") is None
    assert choices() == []


def test_a_send_refused_by_the_portal_rate_limit_keeps_nothing(client, first, two, settings):
    settings.PORTAL_TRY_IT_RATE_LIMIT = 1
    a, b = two
    send(client, first, subscription=a, key=a.key("primary"))
    response = client.post(
        first.get_absolute_url() + "try",
        {
            "param-template-item": "1",
            "subscription": str(b.pk),
            "header_name": [KEY_HEADER],
            "header_value": [b.key("primary")],
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 429
    assert choices() == [(a.user_id, first.api_id, a.pk)]


def test_anonymous_visitors_get_the_note_and_keep_nothing(client, first, starter, backend):
    owner = make_user("bob")
    subscription = make_subscription(user=owner, product=starter)
    _, soup = open_page(client, first)
    assert soup.select_one("[data-subscription-select]") is None
    assert soup.select_one("[data-subscription-note]") is not None
    soup = send(client, first, subscription="", key=subscription.key("primary"))
    assert status_of(soup) == "200 OK"
    assert choices() == []


def test_an_api_in_no_product_has_no_select_and_keeps_nothing(client, api, first, developer):
    _, soup = open_page(client, first)
    assert soup.select_one("[data-subscription-choice]") is None
    assert status_of(send(client, first, subscription="")) == "200 OK"
    assert choices() == []


def choice_queries(client, operation: Operation) -> int:
    client.get(operation.get_absolute_url())  # the process keeps the operation and routes
    with CaptureQueriesContext(connection) as captured:
        client.get(operation.get_absolute_url())
    return len([q for q in captured if "gateway_tryitchoice" in q["sql"]])


def test_the_choice_costs_one_query_and_only_with_a_subscription_listed(
    client, first, starter, developer
):
    assert choice_queries(client, first) == 0
    make_subscription(user=developer, product=starter)
    assert choice_queries(client, first) == 1
