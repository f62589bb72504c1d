"""A developer subscribes to a product in the browser and manages the keys: the key is
masked, Show reveals it, Hide masks it again, Copy copies it, Regenerate (confirmed)
replaces it, and a product that needs approval shows no keys until it is approved."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from demo.products import register_demo_products
from gateway.models import KeySlot, Subscription, SubscriptionState
from tests.e2e.conftest import problems_of, screenshot
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db(transaction=True)

MASKED = re.compile(r"^•{28}[0-9a-f]{4}$")


@pytest.fixture
def developer():
    return make_user("dana")


def sign_in(page: Page, base_url: str) -> None:
    page.goto(base_url + "/products/")
    page.get_by_role("link", name="Sign in", exact=True).click()
    page.locator("input[name=login]").fill("dana")
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("nav .navbar-text")).to_have_text("dana")


def key_row(page: Page, slot: str):
    return page.locator(f"[data-key-row][data-key-slot={slot}]")


def test_subscribe_and_manage_keys(
    page: Page, context: BrowserContext, live_server, live_demo_api, developer
) -> None:
    register_demo_products(api=live_demo_api)
    base = live_server.url

    # The product list, as a visitor.
    page.goto(base + "/")
    page.locator("nav.navbar").get_by_role("link", name="Products").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Products")
    starter_card = page.locator("[data-product=starter]")
    expect(starter_card.locator("[data-limits]")).to_have_text(
        "5 calls per minute, 100 calls per week"
    )
    expect(page.locator("[data-product=unlimited] [data-limits]")).to_have_text("No limits")
    expect(page.locator("[data-product=unlimited]")).to_contain_text("approval required")
    expect(starter_card.locator("[data-apis]")).to_have_text("AzureML Demo API")
    problems_of(page).assert_none()

    # A visitor is asked to sign in, and comes back to the product.
    page.get_by_role("link", name="Starter", exact=True).click()
    page.get_by_role("link", name="Sign in to subscribe").click()
    page.locator("input[name=login]").fill("dana")
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(base + "/products/starter/")
    expect(page.get_by_label("Subscription name")).to_have_value("Starter for dana")
    screenshot(page, "product-starter")
    problems_of(page).assert_none()

    # The terms must be accepted.
    page.get_by_role("button", name="Subscribe").click()
    expect(page.locator("#subscribe")).to_contain_text("Accept the terms of use to subscribe.")
    assert not Subscription.objects.exists()
    page.get_by_label("I accept the terms of use").check()
    page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Starter for dana")
    expect(page.locator(".subscription-message")).to_have_text(
        "You are subscribed to Starter: your keys work now."
    )
    subscription = Subscription.objects.get()
    assert subscription.state == SubscriptionState.ACTIVE
    expect(page.locator("[data-key-row]")).to_have_count(2)
    screenshot(page, "subscription-detail")

    # The subscriptions page: keys masked, the usage of the limits.
    page.locator("nav.navbar").get_by_role("link", name="Subscriptions").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Subscriptions")
    primary = key_row(page, "primary")
    value = primary.locator("[data-key-value]")
    expect(value).to_have_text(MASKED)
    old_key = subscription.key(KeySlot.PRIMARY)
    expect(value).to_have_text(subscription.masked_key(KeySlot.PRIMARY))
    assert old_key not in page.content()
    expect(page.locator("[data-usage-rate]")).to_contain_text("5 of 5 calls left per minute")
    expect(page.locator("[data-usage-quota]")).to_contain_text("100 of 100 calls left this week")
    screenshot(page, "subscriptions")
    problems_of(page).assert_none()

    # Show reveals the key, Hide masks it and takes it out of the page.
    primary.get_by_role("button", name="Show").click()
    expect(value).to_have_text(old_key)
    expect(primary.get_by_role("button", name="Hide")).to_have_attribute("aria-pressed", "true")
    screenshot(page, "subscriptions-key-shown")
    primary.get_by_role("button", name="Hide").click()
    expect(value).to_have_text(MASKED)
    assert old_key not in page.content()

    # Copy puts the key on the clipboard without showing it.
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    primary.get_by_role("button", name="Copy").click()
    expect(primary.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == old_key
    expect(value).to_have_text(MASKED)

    # Regenerate asks first; "Keep the current key" changes nothing.
    primary.get_by_role("button", name="Regenerate…").click()
    confirm = primary.locator(".collapse")
    expect(confirm).to_be_visible()
    expect(confirm).to_contain_text("the current key stops working at once")
    confirm.get_by_role("button", name="Keep the current key").click()
    expect(confirm).to_be_hidden()
    expect(confirm).to_have_class("collapse")  # Bootstrap ignores clicks while it slides
    assert Subscription.objects.get().key(KeySlot.PRIMARY) == old_key
    primary.get_by_role("button", name="Regenerate…").click()
    expect(confirm).to_have_class("collapse show")
    screenshot(page, "subscriptions-regenerate-confirm")
    confirm.get_by_role("button", name="Regenerate primary key").click()
    expect(page.locator(".subscription-message")).to_have_text(
        "The primary key of “Starter for dana” is new: the old one no longer works."
    )
    expect(page).to_have_url(base + "/subscriptions/")
    new_key = Subscription.objects.get().key(KeySlot.PRIMARY)
    assert new_key != old_key
    primary = key_row(page, "primary")
    primary.get_by_role("button", name="Show").click()
    expect(primary.locator("[data-key-value]")).to_have_text(new_key)
    problems_of(page).assert_none()

    # A product that needs approval: no keys until an admin approves it.
    page.goto(base + "/products/unlimited/")
    page.get_by_role("button", name="Subscribe").click()
    expect(page.locator(".subscription-message")).to_contain_text(
        "awaits approval by an administrator"
    )
    expect(page.locator("[data-state-reason]")).to_contain_text(
        "Awaiting an administrator's approval."
    )
    expect(page.locator("[data-key-row]")).to_have_count(0)
    page.goto(base + "/products/")
    expect(page.locator("[data-product=starter] [data-my-state]")).to_have_text("Subscribed")
    expect(page.locator("[data-product=unlimited] [data-my-state]")).to_have_text(
        "Awaiting approval"
    )
    screenshot(page, "products")
    page.goto(base + "/subscriptions/")
    screenshot(page, "subscriptions-with-pending")
    problems_of(page).assert_none()


def test_cancel_from_the_subscriptions_page(
    page: Page, live_server, live_demo_api, developer
) -> None:
    starter, _ = register_demo_products(api=live_demo_api)
    Subscription.objects.create(user=developer, product=starter, name="Old app", state="active")
    sign_in(page, live_server.url)
    page.goto(live_server.url + "/subscriptions/")
    page.get_by_role("button", name="Cancel subscription…").click()
    page.get_by_role("button", name="Cancel subscription", exact=True).click()
    expect(page.locator(".subscription-message")).to_have_text(
        "“Old app” is cancelled: its keys no longer work."
    )
    expect(page.locator("[data-state]")).to_have_text("cancelled")
    expect(page.locator("[data-key-row]")).to_have_count(0)
    assert Subscription.objects.get().state == SubscriptionState.CANCELLED
    problems_of(page).assert_none()
