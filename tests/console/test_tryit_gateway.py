"""Try it through the gateway (gateway/tryit_access.py, console/tryit.py, the key endpoint).

An API in a product that needs a subscription is tried as the gateway would call it:
the key from the form's key header row is checked and counted, stripped before the
call is sent, and every call, refused or sent, is a GatewayCall with source "tryit".
The backend is a scripted server on loopback, so what it received is known exactly.
"""

from __future__ import annotations

import json
import re

import pytest
from bs4 import BeautifulSoup

from catalog.models import Api, Operation
from catalog.registration import create_missing_template_parameters
from console.models import Exchange
from gateway.limits import Admission
from gateway.models import CallOutcome, CallSource, GatewayCall, SubscriptionState
from gateway.tryit_access import usage_lines
from gateway.wording import format_duration
from httpcore.masking import MASK
from portal.secrets import decrypt_json
from tests.backends import reply_with, scripted_server, unused_port
from tests.factories import make_product, make_subscription, make_user
from tests.markup import attr, one

pytestmark = pytest.mark.django_db

KEY_HEADER = "Ocp-Apim-Subscription-Key"
BODY = b'{"ok": true}'


@pytest.fixture
def backend():
    with scripted_server(
        reply_with(200, headers=[("Content-Type", "application/json")], body=BODY)
    ) as server:
        yield server


def make_operation(
    service_url: str, *, key_header: str = KEY_HEADER, slug: str = "scripted"
) -> Operation:
    api = Api.objects.create(
        name=slug.title(),
        slug=slug,
        url_suffix=slug,
        service_url=service_url,
        subscription_key_header=key_header,
    )
    operation = Operation.objects.create(
        api=api, name="Item", slug="item", method="GET", url_template="/items/{item}"
    )
    create_missing_template_parameters(operation=operation)
    return operation


@pytest.fixture
def operation(backend) -> Operation:
    return make_operation(backend.url)


@pytest.fixture
def product(operation):
    return make_product(operation.api, slug="starter", rate=5, quota=100)


@pytest.fixture
def developer(client):
    user = make_user("ada")
    client.force_login(user)
    return user


@pytest.fixture
def subscription(developer, product):
    return make_subscription(user=developer, product=product, name="My app")


def page_url(operation: Operation) -> str:
    return f"/apis/{operation.api.slug}/operations/{operation.slug}/"


def try_it(client, operation: Operation, *, key: str | None, header: str = KEY_HEADER, **extra):
    data = {"param-template-item": "42", **extra}
    if key is not None:
        data |= {"header_name": [header, ""], "header_value": [key, ""]}
    response = client.post(page_url(operation) + "try", data, headers={"HX-Request": "true"})
    assert response.status_code == 200
    return BeautifulSoup(response.content, "html.parser")


def refusal_of(soup: BeautifulSoup) -> dict:
    panel = one(soup, "#result [data-gateway-refusal]")
    retry = panel.select_one("[data-retry-after]")
    return {
        "status": one(panel, "[data-status]").get_text(strip=True),
        "code": one(panel, "[data-refusal-code]").get_text(strip=True),
        "message": one(panel, "[data-error-message]").get_text(strip=True),
        "retry_after": int(attr(retry, "data-retry-after")) if retry else None,
        "retry_text": retry.get_text(strip=True) if retry else None,
    }


def usage_of(soup: BeautifulSoup) -> list[str]:
    return [s.get_text(strip=True) for s in soup.select("#result [data-usage-line]")]


# --- A call that goes through -------------------------------------------------------


def test_the_backend_never_sees_the_key(client, operation, subscription, backend):
    key = subscription.key("primary")
    soup = try_it(client, operation, key=key, subscription=str(subscription.pk))
    assert soup.select_one("#result [data-status]").get_text(strip=True) == "200 OK"
    [received] = backend.requests
    assert received.target == "/items/42"
    assert received.header(KEY_HEADER) is None
    assert all(key not in value for _, value in received.headers)


def test_the_exchange_masks_the_key_and_keeps_it_for_try_again(
    client, operation, subscription, backend
):
    key = subscription.key("primary")
    try_it(client, operation, key=key)
    exchange = Exchange.objects.get()
    assert exchange.values["headers"] == [[KEY_HEADER, MASK]]
    # What was sent: the request without the key.
    assert [name for name, _ in exchange.request_headers] == []
    stored = json.dumps([exchange.url, exchange.values, exchange.request_headers])
    assert key not in stored
    assert decrypt_json(exchange.secret_values)["headers"] == {KEY_HEADER: key}


def test_a_gateway_call_is_recorded_with_source_tryit(
    client, operation, subscription, developer, backend
):
    try_it(client, operation, key=subscription.key("primary"))
    call = GatewayCall.objects.get()
    assert call.source == CallSource.TRY_IT
    assert call.outcome == CallOutcome.FORWARDED
    assert call.status_code == 200
    assert (call.api, call.operation) == (operation.api, operation)
    assert (call.subscription, call.product, call.user) == (
        subscription,
        subscription.product,
        developer,
    )
    assert (call.method, call.path) == ("GET", "/gateway/scripted/items/42")
    assert call.response_bytes == len(BODY)
    assert call.request_bytes == 0
    assert call.backend_duration_ms is not None
    assert call.duration_ms >= call.backend_duration_ms
    assert call.client_address == "127.0.0.1"
    assert call.error_kind == ""


def test_the_panel_shows_the_remaining_rate_and_quota(client, operation, subscription):
    soup = try_it(client, operation, key=subscription.key("primary"))
    rate, quota = usage_of(soup)
    assert rate == "Rate limit: 4 of 5 calls left (per 60 s)"
    assert re.fullmatch(
        r"Quota: 99 of 100 calls left this week, renews in \d d( \d+ h)?|"
        r"Quota: 99 of 100 calls left this week, renews in \d+ (h|min|s).*",
        quota,
    ), quota
    assert "(Starter)" in soup.select_one("#result [data-gateway-usage]").get_text()
    soup = try_it(client, operation, key=subscription.key("primary"))
    assert usage_of(soup)[0] == "Rate limit: 3 of 5 calls left (per 60 s)"
    assert usage_of(soup)[1].startswith("Quota: 98 of 100 calls left this week")


def test_the_secondary_key_works_too(client, operation, subscription, backend):
    soup = try_it(client, operation, key=subscription.key("secondary"))
    assert soup.select_one("#result [data-status]").get_text(strip=True) == "200 OK"
    assert len(backend.requests) == 1


def test_a_backend_failure_is_recorded_as_a_backend_error(client, subscription, developer):
    operation = make_operation(f"http://127.0.0.1:{unused_port()}", slug="closed")
    subscription.product.apis.add(operation.api)
    soup = try_it(client, operation, key=subscription.key("primary"))
    assert soup.select_one("#result [data-error-kind]")["data-error-kind"] == "connect"
    call = GatewayCall.objects.get()
    assert (call.outcome, call.status_code, call.error_kind) == (
        CallOutcome.BACKEND_ERROR,
        502,
        "connect",
    )
    assert call.response_bytes == 0
    # The call was counted: the panel says what is left.
    assert usage_of(soup)[0] == "Rate limit: 4 of 5 calls left (per 60 s)"


# --- Calls the gateway refuses: an error panel, nothing sent, no exchange ---------------


def test_no_key_is_a_401_and_nothing_is_sent(client, operation, subscription, backend):
    soup = try_it(client, operation, key=None, subscription=str(subscription.pk))
    assert refusal_of(soup) == {
        "status": "401 Unauthorized",
        "code": "MissingSubscriptionKey",
        "message": (
            "This API needs a subscription key: send it in the Ocp-Apim-Subscription-Key "
            "header or the subscription-key query parameter."
        ),
        "retry_after": None,
        "retry_text": None,
    }
    assert "nothing was sent to the backend" in soup.select_one("#result").get_text()
    assert soup.select_one("#result [data-requested-url]").get_text() == (
        "http://testserver/gateway/scripted/items/42"
    )
    assert soup.select_one("#result [data-backend-url]") is None
    assert backend.requests == []
    assert Exchange.objects.count() == 0
    call = GatewayCall.objects.get()
    assert (call.source, call.outcome, call.status_code) == (
        CallSource.TRY_IT,
        CallOutcome.NO_KEY,
        401,
    )
    assert call.subscription is None
    assert call.user == subscription.user


def test_an_empty_key_row_counts_as_no_key(client, operation, subscription, backend):
    soup = try_it(client, operation, key="")
    assert refusal_of(soup)["code"] == "MissingSubscriptionKey"
    assert backend.requests == []


def test_a_401_says_how_to_get_a_key(client, operation, subscription, backend):
    links = lambda soup: {  # noqa: E731
        a.get_text(strip=True): a["href"] for a in soup.select("#result [data-refusal-next-step] a")
    }
    assert links(try_it(client, operation, key="")) == {"subscribe to a product": "/products/"}
    client.logout()
    assert links(try_it(client, operation, key="")) == {
        "sign up": "/accounts/signup/",
        "sign in": "/accounts/login/?next=/apis/scripted/operations/item/",
        "subscribe to a product": "/products/",
    }


def test_a_wrong_key_is_a_401(client, operation, subscription, backend):
    soup = try_it(client, operation, key="0" * 32)
    refusal = refusal_of(soup)
    assert (refusal["status"], refusal["code"], refusal["message"]) == (
        "401 Unauthorized",
        "InvalidSubscriptionKey",
        "The subscription key is not valid for this API.",
    )
    assert backend.requests == []
    assert GatewayCall.objects.get().outcome == CallOutcome.INVALID_KEY


def test_a_key_of_a_product_without_the_api_is_a_401(
    client, operation, product, developer, backend
):
    other = make_product(slug="other")
    foreign = make_subscription(user=developer, product=other)
    soup = try_it(client, operation, key=foreign.key("primary"))
    assert refusal_of(soup)["code"] == "InvalidSubscriptionKey"
    assert backend.requests == []


def test_a_suspended_subscription_is_a_403(client, operation, subscription, backend):
    subscription.state = SubscriptionState.SUSPENDED
    subscription.save()
    soup = try_it(client, operation, key=subscription.key("primary"))
    refusal = refusal_of(soup)
    assert (refusal["status"], refusal["code"], refusal["message"]) == (
        "403 Forbidden",
        "SubscriptionSuspended",
        "The subscription is suspended.",
    )
    assert backend.requests == []
    assert Exchange.objects.count() == 0
    call = GatewayCall.objects.get()
    assert (call.outcome, call.status_code, call.subscription) == (
        CallOutcome.INACTIVE_SUBSCRIPTION,
        403,
        subscription,
    )


def test_past_the_rate_limit_is_a_429_with_retry_after(client, operation, developer, backend):
    product = make_product(operation.api, slug="tight", rate=2, rate_period=60)
    subscription = make_subscription(user=developer, product=product)
    key = subscription.key("primary")
    try_it(client, operation, key=key)
    try_it(client, operation, key=key)
    soup = try_it(client, operation, key=key)
    refusal = refusal_of(soup)
    assert (refusal["status"], refusal["code"], refusal["message"]) == (
        "429 Too Many Requests",
        "RateLimitExceeded",
        "Rate limit exceeded: at most 2 calls every 60 seconds.",
    )
    assert 1 <= refusal["retry_after"] <= 120
    seconds = refusal["retry_after"]
    assert refusal["retry_text"] == f"Retry-After: {seconds} s. Try again in {seconds} seconds."
    assert usage_of(soup) == ["Rate limit: 0 of 2 calls left (per 60 s)"]
    assert len(backend.requests) == 2
    assert Exchange.objects.count() == 2
    outcomes = list(GatewayCall.objects.order_by("id").values_list("outcome", "status_code"))
    assert outcomes == [
        (CallOutcome.FORWARDED, 200),
        (CallOutcome.FORWARDED, 200),
        (CallOutcome.RATE_LIMITED, 429),
    ]


def test_past_the_quota_is_a_403_with_retry_after(client, operation, developer, backend):
    product = make_product(operation.api, slug="small", quota=1, quota_period=86400)
    subscription = make_subscription(user=developer, product=product)
    key = subscription.key("primary")
    first = try_it(client, operation, key=key)
    assert re.fullmatch(r"Quota: 0 of 1 call left today, renews in .+", usage_of(first)[0])
    soup = try_it(client, operation, key=key)
    refusal = refusal_of(soup)
    assert (refusal["status"], refusal["code"], refusal["message"]) == (
        "403 Forbidden",
        "QuotaExceeded",
        "Quota exceeded: at most 1 call every 1 d.",
    )
    assert 1 <= refusal["retry_after"] <= 86400
    assert len(backend.requests) == 1
    assert GatewayCall.objects.latest("id").outcome == CallOutcome.QUOTA_EXCEEDED


def test_the_portal_rate_limit_still_applies_first(
    client, operation, subscription, backend, settings
):
    settings.PORTAL_TRY_IT_RATE_LIMIT = 1
    try_it(client, operation, key=subscription.key("primary"))
    response = client.post(
        page_url(operation) + "try",
        {
            "param-template-item": "1",
            "header_name": [KEY_HEADER],
            "header_value": [subscription.key("primary")],
        },
    )
    assert response.status_code == 429
    assert len(backend.requests) == 1
    # Refused by the portal before the gateway: not counted against the subscription.
    assert GatewayCall.objects.count() == 1


def test_a_bad_value_is_a_form_error_and_not_a_gateway_call(client, operation, subscription):
    soup = try_it(client, operation, key=subscription.key("primary"), **{"param-template-item": ""})
    assert soup.select_one("#result") is None
    assert GatewayCall.objects.count() == 0


# --- The subscription select and the key row ------------------------------------------


def test_the_select_lists_the_users_active_subscriptions_of_the_api(
    client, operation, product, developer
):
    mine = make_subscription(user=developer, product=product, name="My app")
    unlimited = make_product(operation.api, slug="unlimited", order=1)
    second = make_subscription(user=developer, product=unlimited, name="Load test")
    make_subscription(user=developer, product=product, state=SubscriptionState.SUSPENDED)
    make_subscription(user=developer, product=make_product(slug="unrelated"))
    make_subscription(user=make_user("eve"), product=product, name="Eve's app")
    soup = BeautifulSoup(client.get(page_url(operation)).content, "html.parser")
    select = soup.select_one("#try-it select[name=subscription][data-subscription-select]")
    options = [(o["value"], o.get_text(strip=True)) for o in select.select("option")]
    assert options == [
        ("", "(none)"),
        (str(mine.pk), "My app (Starter)"),
        (str(second.pk), "Load test (Unlimited)"),
    ]
    assert select["data-key-header"] == KEY_HEADER
    assert select.select_one(f"option[value='{mine.pk}']")["data-key-url"] == (
        f"/subscriptions/{mine.pk}/try-it-key"
    )
    # Above the headers.
    html = str(soup.select_one("#try-it form"))
    assert html.index("data-subscription-select") < html.index("data-header-rows")


def test_the_key_row_is_masked_named_and_the_page_holds_no_key(client, operation, subscription):
    html = client.get(page_url(operation)).content.decode()
    soup = BeautifulSoup(html, "html.parser")
    first = soup.select_one("[data-header-rows] .header-row")
    name = first.select_one("input[name=header_name]")
    value = first.select_one("input[name=header_value]")
    assert (name["value"], name.has_attr("readonly")) == (KEY_HEADER, True)
    assert (value["type"], value["value"]) == ("password", "")
    assert first.select_one("[data-toggle-secret]").get_text() == "Show"
    assert first.select_one("[data-remove-header]") is None
    assert subscription.key("primary") not in html
    assert subscription.key("secondary") not in html
    assert "js/subscription-key.js" in html


def test_after_a_call_the_choice_and_the_masked_row_stay(client, operation, subscription):
    soup = try_it(client, operation, key=subscription.key("primary"), subscription=subscription.pk)
    assert soup.select_one("option[selected]")["value"] == str(subscription.pk)
    row = soup.select_one("[data-header-rows] .header-row")
    assert row.select_one("input[name=header_name]").has_attr("readonly")
    assert row.select_one("input[name=header_value]")["type"] == "password"


def test_a_posted_subscription_that_is_not_the_users_is_not_selected(
    client, operation, subscription
):
    other = make_subscription(user=make_user("eve"), product=subscription.product)
    soup = try_it(client, operation, key=subscription.key("primary"), subscription=other.pk)
    assert soup.select_one("option[selected]") is None
    assert str(other.pk) not in [o["value"] for o in soup.select("select option")]


def test_anonymous_visitors_get_a_note_with_sign_in_and_products(client, operation, product):
    soup = BeautifulSoup(client.get(page_url(operation)).content, "html.parser")
    assert soup.select_one("[data-subscription-select]") is None
    note = soup.select_one("[data-subscription-note]")
    links = {a.get_text(strip=True): a["href"] for a in note.select("a")}
    assert links == {
        "Sign up": "/accounts/signup/",
        "sign in": "/accounts/login/?next=/apis/scripted/operations/item/",
        "products": "/products/",
    }
    # The key may still be typed in by hand.
    assert soup.select_one("[data-header-rows] input[name=header_name]")["value"] == KEY_HEADER


def test_a_user_without_subscription_gets_a_link_to_the_products(
    client, operation, product, developer
):
    soup = BeautifulSoup(client.get(page_url(operation)).content, "html.parser")
    note = soup.select_one("[data-subscription-note]")
    assert note.select_one("a").get_text(strip=True) == "subscribe to a product"
    assert note.select_one("a")["href"] == "/products/"


def test_a_key_typed_by_hand_works_without_signing_in(client, operation, product, backend):
    owner = make_user("bob")
    subscription = make_subscription(user=owner, product=product)
    soup = try_it(client, operation, key=subscription.key("primary"))
    assert soup.select_one("#result [data-status]").get_text(strip=True) == "200 OK"
    assert backend.requests[0].header(KEY_HEADER) is None
    # Without a signed-in caller, the call is the key owner's.
    assert GatewayCall.objects.get().user == owner


# --- The key endpoint: the user's own active subscriptions only ------------------------


def key_url(subscription) -> str:
    return f"/subscriptions/{subscription.pk}/try-it-key"


def test_the_endpoint_serves_the_primary_key_of_ones_own_subscription(client, subscription):
    response = client.post(key_url(subscription))
    assert response.status_code == 200
    assert response.json() == {"key": subscription.key("primary")}
    assert "no-cache" in response["Cache-Control"]
    assert "no-store" in response["Cache-Control"]


def test_another_users_subscription_is_a_404(client, developer, product):
    other = make_subscription(user=make_user("eve"), product=product)
    response = client.post(key_url(other))
    assert response.status_code == 404
    assert other.key("primary").encode() not in response.content


def test_a_suspended_own_subscription_is_a_404(client, subscription):
    subscription.state = SubscriptionState.SUSPENDED
    subscription.save()
    assert client.post(key_url(subscription)).status_code == 404


def test_anonymous_callers_get_a_404(client, product):
    subscription = make_subscription(user=make_user("eve"), product=product)
    assert client.post(key_url(subscription)).status_code == 404


def test_the_endpoint_answers_post_only_and_wants_the_csrf_token(subscription):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(subscription.user)
    assert strict.get(key_url(subscription)).status_code == 405
    assert strict.post(key_url(subscription)).status_code == 403
    assert strict.post("/subscriptions/999999/try-it-key").status_code == 403


def test_an_unknown_subscription_is_a_404(client, developer):
    assert client.post("/subscriptions/999999/try-it-key").status_code == 404


# --- APIs in no product that needs a key: Try it as before -----------------------------


def test_an_api_in_no_product_is_tried_as_before(client, operation, developer, backend):
    html = client.get(page_url(operation)).content.decode()
    soup = BeautifulSoup(html, "html.parser")
    assert soup.select_one("[data-subscription-choice]") is None
    assert soup.select_one("[data-header-rows] input[name=header_name]")["value"] == ""
    # A key header typed by hand is an ordinary (secret) header: sent, masked in history.
    soup = try_it(client, operation, key="typed-by-hand-key")
    assert soup.select_one("#result [data-status]").get_text(strip=True) == "200 OK"
    assert soup.select_one("#result [data-gateway-usage]") is None
    assert backend.requests[0].header(KEY_HEADER) == "typed-by-hand-key"
    assert Exchange.objects.get().request_headers == [[KEY_HEADER, MASK]]
    assert GatewayCall.objects.count() == 0


def test_a_product_that_needs_no_subscription_changes_nothing(
    client, operation, developer, backend
):
    make_product(operation.api, slug="open", subscription_required=False, rate=1)
    soup = BeautifulSoup(client.get(page_url(operation)).content, "html.parser")
    assert soup.select_one("[data-subscription-choice]") is None
    try_it(client, operation, key=None)
    try_it(client, operation, key=None)
    assert len(backend.requests) == 2
    assert GatewayCall.objects.count() == 0


# --- A custom key header name ----------------------------------------------------------


def test_a_custom_key_header_is_the_row_stripped_and_masked(client, developer, backend):
    operation = make_operation(backend.url, key_header="X-Portal-Key")
    product = make_product(operation.api)
    subscription = make_subscription(user=developer, product=product)
    key = subscription.key("primary")
    page = BeautifulSoup(client.get(page_url(operation)).content, "html.parser")
    assert page.select_one("[data-header-rows] input[name=header_name]")["value"] == "X-Portal-Key"
    assert page.select_one("[data-subscription-select]")["data-key-header"] == "X-Portal-Key"
    soup = try_it(client, operation, key=key, header="X-Portal-Key")
    assert soup.select_one("#result [data-status]").get_text(strip=True) == "200 OK"
    assert backend.requests[0].header("X-Portal-Key") is None
    assert Exchange.objects.get().values["headers"] == [["X-Portal-Key", MASK]]
    # Refused without it, naming the API's own header.
    soup = try_it(client, operation, key=None)
    assert "in the X-Portal-Key header" in refusal_of(soup)["message"]


def test_code_samples_read_a_custom_key_header_from_the_environment(client, developer, backend):
    operation = make_operation(backend.url, key_header="X-Portal-Key")
    make_product(operation.api)
    key = "f" * 32
    response = client.post(
        page_url(operation) + "samples",
        {"param-template-item": "42", "header_name": ["X-Portal-Key"], "header_value": [key]},
    )
    soup = BeautifulSoup(response.content, "html.parser")
    curl = soup.select_one("[data-sample=curl] pre").get_text()
    assert "--header 'X-Portal-Key: '\"$X_PORTAL_KEY\"" in curl
    assert key not in response.content.decode()
    assert "X_PORTAL_KEY" in soup.select_one("[data-samples-secrets]").get_text()


# --- Formatting ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0 s"),
        (42, "42 s"),
        (60, "1 min"),
        (250, "4 min 10 s"),
        (3600, "1 h"),
        (18180, "5 h 3 min"),
        (86400, "1 d"),
        (7 * 86400 - 3600, "6 d 23 h"),
    ],
)
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


def test_usage_lines_name_each_quota_period(operation):
    product = make_product(slug="p", rate=5, quota=100)
    admission = Admission(
        allowed=True,
        rate_limit=5,
        rate_remaining=4,
        rate_period=60,
        quota_limit=100,
        quota_remaining=99,
        quota_reset=7 * 86400 - 3600,
    )
    assert usage_lines(admission=admission, product=product) == [
        "Rate limit: 4 of 5 calls left (per 60 s)",
        "Quota: 99 of 100 calls left this week, renews in 6 d 23 h",
    ]
    for period, words in [
        (3600, "this hour"),
        (86400, "today"),
        (30 * 86400, "in this 30-day period"),
    ]:
        product.quota_period_seconds = period
        assert words in usage_lines(admission=admission, product=product)[1]
    assert usage_lines(admission=Admission(allowed=True), product=product) == []


def test_share_links_never_carry_a_custom_key(client, developer, backend):
    operation = make_operation(backend.url, key_header="X-Portal-Key")
    make_product(operation.api)
    key = "f" * 32
    response = client.post(
        page_url(operation) + "samples",
        {"param-template-item": "42", "header_name": ["X-Portal-Key"], "header_value": [key]},
    )
    link = BeautifulSoup(response.content, "html.parser").select_one("[data-share-url]")["value"]
    assert link.endswith("/apis/scripted/operations/item/?p.item=42&h.X-Portal-Key=")
    # Nor is a key taken from a link.
    page = client.get(page_url(operation), {"h.X-Portal-Key": key})
    assert key not in page.content.decode()
