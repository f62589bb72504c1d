"""The README's quick start, as a newcomer walks it after `make run`, in a browser.

The state is what `manage.py load_demo` creates (the demo API behind the gateway, the
Starter and Unlimited products, the demo user's collections); the demo backend is the
live server's own. An anonymous Send is refused by the gateway; the newcomer signs up,
confirms from the email, subscribes to Starter, sends RRS Execute with the new
subscription and reads the call in Analytics.
"""

from __future__ import annotations

import re

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.core.management import call_command
from playwright.sync_api import Page, expect

from console.models import Exchange
from gateway.models import CallOutcome, GatewayCall, Subscription, SubscriptionState
from tests.e2e.conftest import (
    mailed_link,
    open_operation,
    problems_of,
    response_json,
    result_status,
    screenshot,
    send,
)

pytestmark = pytest.mark.django_db(transaction=True)

API_NAME = "AzureML Demo API"
USERNAME = "newcomer"
PASSWORD = "a long passphrase for the quick start"
CONFIRM_LINK = re.compile(r"https?://\S+/accounts/confirm/[^/\s]+/")
MASKED = re.compile(r"^•{28}[0-9a-f]{4}$")
HASHED_COLUMNS = [f"Col2_HashingFeature.{index}" for index in range(8)]


@pytest.fixture
def demo_loaded(live_server, settings) -> None:
    """What `make run` does before serving: `manage.py load_demo`, the demo backend and
    the emailed links on the portal's own address."""
    settings.PORTAL_DEMO_BACKEND_URL = f"{live_server.url}/demo-backend"
    settings.PORTAL_SITE_URL = live_server.url
    call_command("load_demo")


def nav(page: Page):
    return page.locator("nav.navbar")


def send_anonymously(page: Page, base_url: str) -> GatewayCall:
    """Step 1: catalog -> AzureML Demo API -> RRS Execute -> Send, the form as it comes.
    The gateway refuses (no key) and nothing reaches the demo backend."""
    open_operation(page, base_url=base_url, api_name=API_NAME, operation_name="RRS Execute")
    send(page)
    refusal = page.locator("#result [data-gateway-refusal]")
    expect(refusal.locator("[data-status]")).to_have_text("401 Unauthorized")
    expect(refusal.locator("[data-refusal-code]")).to_have_text("MissingSubscriptionKey")
    expect(refusal).to_contain_text("nothing was sent to the backend")
    page.locator("#result").scroll_into_view_if_needed()
    screenshot(page, "newcomer-1-anonymous-refused")
    problems_of(page).assert_none()
    assert Exchange.objects.count() == 0
    refused = GatewayCall.objects.get()
    assert (refused.outcome, refused.status_code, refused.user_id) == (
        CallOutcome.NO_KEY,
        401,
        None,
    )
    return refused


def test_the_refusal_of_an_anonymous_send_leads_to_the_products(
    page: Page, live_server, demo_loaded
) -> None:
    send_anonymously(page, live_server.url)
    # The way on, from the refusal itself: the products to subscribe to.
    products = page.locator("#result").get_by_role("link", name=re.compile("product", re.I))
    expect(products.first).to_have_attribute("href", "/products/")


def test_the_quick_start_from_anonymous_send_to_analytics(
    page: Page, live_server, demo_loaded
) -> None:
    assert django_settings.EMAIL_BACKEND == "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox.clear()
    base = live_server.url

    # 1. Anonymous: refused by the gateway, nothing sent.
    refused = send_anonymously(page, base)

    # 2. Sign up from the navigation bar; the emailed link confirms and signs in.
    nav(page).get_by_role("link", name="Sign up").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Create your account")
    page.locator("input[name=username]").fill(USERNAME)
    page.locator("input[name=email]").fill(f"{USERNAME}@example.com")
    page.locator("input[name=password1]").fill(PASSWORD)
    page.locator("input[name=password2]").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [f"{USERNAME}@example.com"]
    page.goto(mailed_link(CONFIRM_LINK))
    page.get_by_role("button", name="Confirm").click()
    expect(page).to_have_url(base + "/accounts/profile/")
    expect(page.locator("main .alert-success").first).to_have_text(
        f"You have confirmed {USERNAME}@example.com."
    )
    expect(nav(page).locator(".navbar-text")).to_have_text(USERNAME)
    problems_of(page).assert_none()

    # 3. Products -> Starter -> accept the terms -> Subscribe: the keys, masked.
    nav(page).get_by_role("link", name="Products").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Products")
    page.get_by_role("link", name="Starter", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Starter")
    page.get_by_label("I accept the terms of use").check()
    page.get_by_role("button", name="Subscribe").click()
    subscription_name = f"Starter for {USERNAME}"
    expect(page.get_by_role("heading", level=1)).to_have_text(subscription_name)
    expect(page.locator(".subscription-message")).to_have_text(
        "You are subscribed to Starter: your keys work now."
    )
    subscription = Subscription.objects.get(user__username=USERNAME)
    assert subscription.state == SubscriptionState.ACTIVE
    keys = page.locator("[data-key-row] [data-key-value]")
    expect(keys).to_have_count(2)
    for slot, value in zip(("primary", "secondary"), keys.all(), strict=True):
        expect(value).to_have_text(MASKED)
        expect(value).to_have_text(subscription.masked_key(slot))
        assert subscription.key(slot) not in page.content()
    screenshot(page, "newcomer-3-subscribed")
    problems_of(page).assert_none()

    # 4. APIs -> AzureML Demo API -> RRS Execute: the only subscription is already chosen,
    # its key filled in (never in the page's HTML), and the first Send goes through.
    nav(page).get_by_role("link", name="APIs").click()
    page.get_by_role("link", name=API_NAME, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(API_NAME)
    page.get_by_role("link", name=re.compile(r"\bRRS Execute\b")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("RRS Execute")
    choice = page.locator("[data-subscription-choice]")
    expect(choice.get_by_role("heading")).to_have_text(re.compile("Subscription", re.IGNORECASE))
    select = choice.get_by_role("combobox")
    expect(select).to_have_value(str(subscription.pk))
    expect(select.locator("option:checked")).to_have_text(f"{subscription_name} (Starter)")
    key_value = (
        page.locator("[data-header-rows] .header-row")
        .filter(has=page.locator("input[name=header_name][value='Ocp-Apim-Subscription-Key']"))
        .locator("input[name=header_value]")
    )
    expect(key_value).to_have_value(subscription.key("primary"))
    expect(key_value).to_have_attribute("type", "password")
    assert subscription.key("primary") not in page.content()
    send(page)
    assert result_status(page) == "200 OK"
    body = page.locator('#result [data-body-kind="json"]')
    for column in HASHED_COLUMNS:
        expect(body).to_contain_text(f'"{column}"')
    table = response_json(page)["Results"]["output1"]["value"]
    assert table["ColumnNames"] == ["Col2", *HASHED_COLUMNS]
    expect(page.locator("#result [data-gateway-usage]")).to_contain_text(
        "Rate limit: 4 of 5 calls left (per 60 s)"
    )
    page.locator("#result").scroll_into_view_if_needed()
    screenshot(page, "newcomer-4-sent-with-subscription")
    problems_of(page).assert_none()
    forwarded = GatewayCall.objects.exclude(pk=refused.pk).get()
    assert (forwarded.outcome, forwarded.status_code, forwarded.subscription_id) == (
        CallOutcome.FORWARDED,
        200,
        subscription.pk,
    )
    assert Exchange.objects.count() == 1

    # 5. Analytics: the newcomer's own call, not the anonymous refused one.
    nav(page).get_by_role("link", name="Analytics").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Analytics")
    expect(page.locator("[data-scope]")).to_contain_text("Your calls")
    expect(page.locator("[data-stat=calls] [data-value]")).to_have_text("1")
    expect(page.locator("[data-stat=errors] [data-value]")).to_have_text("0")
    screenshot(page, "newcomer-5-analytics")
    problems_of(page).assert_none()
