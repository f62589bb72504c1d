"""Try it through the gateway, in a browser: sign in, choose a subscription on the demo
operation, see its key filled in masked, show it, send, and read what is left."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from console.models import Exchange
from gateway.models import CallSource, GatewayCall
from tests.e2e.conftest import open_operation, problems_of, result_status, screenshot, send, sign_in
from tests.factories import make_product, make_subscription, make_user

pytestmark = pytest.mark.django_db(transaction=True)

API_NAME = "AzureML Demo API"
KEY_HEADER = "Ocp-Apim-Subscription-Key"


def key_row_value(page: Page):
    row = page.locator("[data-header-rows] .header-row").filter(
        has=page.locator(f"input[name=header_name][value='{KEY_HEADER}']")
    )
    return row.locator("input[name=header_value]"), row.locator("[data-toggle-secret]")


def test_try_it_with_a_subscription(page: Page, live_server, live_demo_api) -> None:
    developer = make_user("ada")
    product = make_product(live_demo_api, slug="starter", rate=5, quota=100)
    subscription = make_subscription(user=developer, product=product, name="My app")
    key = subscription.key("primary")
    base = live_server.url

    sign_in(page, base, "ada")
    open_operation(page, base_url=base, api_name=API_NAME, operation_name="RRS Execute")
    assert key not in page.content()

    # The only subscription is chosen as the page opens, and its key asked for.
    value, toggle = key_row_value(page)
    select = page.get_by_label("Call through the gateway with")
    expect(select).to_have_value(str(subscription.pk))
    expect(value).to_have_value(key)
    expect(value).to_have_attribute("type", "password")
    screenshot(page, "tryit-gateway-subscription-chosen")

    expect(toggle).to_have_text("Show")
    toggle.click()
    expect(value).to_have_attribute("type", "text")
    expect(toggle).to_have_text("Hide")
    screenshot(page, "tryit-gateway-key-shown")
    toggle.click()
    expect(value).to_have_attribute("type", "password")
    expect(toggle).to_have_text("Show")

    # "(none)" clears the key; choosing again fills it again.
    select.select_option(label="(none)")
    expect(value).to_have_value("")
    select.select_option(label="My app (Starter)")
    expect(value).to_have_value(key)

    send(page)
    assert result_status(page) == "200 OK"
    usage = page.locator("#result [data-gateway-usage]")
    expect(usage).to_contain_text("Rate limit: 4 of 5 calls left (per 60 s)")
    # A quota week ends at a fixed time: within its last day it renews "in 17 h 25 min".
    expect(usage).to_contain_text(
        re.compile(r"Quota: 99 of 100 calls left this week, renews in \d+ (d|h|min|s)\b")
    )
    # The choice and the masked key stay for the next call.
    expect(page.get_by_label("Call through the gateway with")).to_have_value(str(subscription.pk))
    expect(key_row_value(page)[0]).to_have_attribute("type", "password")
    page.locator("#result").scroll_into_view_if_needed()
    screenshot(page, "tryit-gateway-result")
    problems_of(page).assert_none()

    exchange = Exchange.objects.get()
    assert KEY_HEADER.lower() not in [name.lower() for name, _ in exchange.request_headers]
    call = GatewayCall.objects.get()
    assert (call.source, call.status_code, call.subscription_id) == (
        CallSource.TRY_IT,
        200,
        subscription.pk,
    )


def test_the_next_operation_opens_with_the_subscription_last_used(
    page: Page, live_server, live_demo_api
) -> None:
    developer = make_user("ada")
    a = make_subscription(
        user=developer, product=make_product(live_demo_api, slug="starter"), name="A"
    )
    b = make_subscription(
        user=developer, product=make_product(live_demo_api, slug="unlimited", order=1), name="B"
    )
    base = live_server.url
    sign_in(page, base, "ada")

    # Two subscriptions and none used yet: "(none)", the key row empty.
    open_operation(page, base_url=base, api_name=API_NAME, operation_name="RRS Execute")
    select = page.get_by_label("Call through the gateway with")
    expect(select).to_have_value("")
    expect(key_row_value(page)[0]).to_have_value("")
    select.select_option(label="B (Unlimited)")
    expect(key_row_value(page)[0]).to_have_value(b.key("primary"))
    send(page)
    assert result_status(page) == "200 OK"

    # Operation 2 of the API opens with B, its key filled in, and sends with it.
    open_operation(page, base_url=base, api_name=API_NAME, operation_name="BES Submit")
    expect(page.get_by_label("Call through the gateway with")).to_have_value(str(b.pk))
    expect(key_row_value(page)[0]).to_have_value(b.key("primary"))
    assert b.key("primary") not in page.content()
    assert a.key("primary") not in page.content()
    screenshot(page, "tryit-gateway-last-used-subscription")
    send(page)
    assert result_status(page) == "200 OK"
    problems_of(page).assert_none()
    calls = GatewayCall.objects.order_by("id").values_list("operation__slug", "subscription_id")
    assert list(calls) == [("rrs-execute", b.pk), ("bes-submit", b.pk)]


def test_without_a_key_the_gateway_refuses(page: Page, live_server, live_demo_api) -> None:
    make_product(live_demo_api, slug="starter", rate=5)
    page.goto(live_server.url + live_demo_api.operations.get(slug="rrs-execute").get_absolute_url())
    note = page.locator("[data-subscription-note]")
    expect(note.get_by_role("link", name="Sign in")).to_be_visible()
    send(page)
    panel = page.locator("#result [data-gateway-refusal]")
    expect(panel.locator("[data-status]")).to_have_text("401 Unauthorized")
    expect(panel.locator("[data-refusal-code]")).to_have_text("MissingSubscriptionKey")
    next_step = panel.locator("[data-refusal-next-step]")
    expect(next_step.get_by_role("link", name="sign up")).to_have_attribute(
        "href", "/accounts/signup/"
    )
    expect(next_step.get_by_role("link", name="subscribe to a product")).to_have_attribute(
        "href", "/products/"
    )
    screenshot(page, "tryit-gateway-refused")
    problems_of(page).assert_none()
    assert Exchange.objects.count() == 0
