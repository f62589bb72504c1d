"""Replays and code samples through the gateway, in a browser: the samples of a keyed API
name the gateway's URL, and a collection run past the product's rate limit shows the
gateway's refusal on the step it refused."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import override_settings
from playwright.sync_api import Page, expect

from gateway.models import CallSource, GatewayCall
from portal import secrets
from testing.models import Collection, SavedRequest
from tests.e2e.conftest import open_operation, problems_of, screenshot, sign_in
from tests.factories import make_product, make_subscription, make_user

pytestmark = pytest.mark.django_db(transaction=True)

API_NAME = "AzureML Demo API"
KEY_HEADER = "Ocp-Apim-Subscription-Key"


def test_a_keyed_apis_samples_call_the_gateway(page: Page, live_server, live_demo_api) -> None:
    developer = make_user("ada")
    product = make_product(live_demo_api, slug="starter")
    subscription = make_subscription(user=developer, product=product, name="My app")
    key = subscription.key("primary")
    base = live_server.url

    sign_in(page, base, "ada")
    open_operation(page, base_url=base, api_name=API_NAME, operation_name="RRS Execute")
    page.get_by_label("Call through the gateway with").select_option(label="My app (Starter)")
    note = page.locator("#samples [data-samples-gateway]")
    expect(note).to_contain_text(f"{base}/gateway/azureml-demo/")
    curl = page.locator("#sample-curl pre")
    expect(curl).to_contain_text(f"curl --request POST '{base}/gateway/azureml-demo/workspaces/")
    expect(curl).to_contain_text(f"--header '{KEY_HEADER}: '\"$OCP_APIM_SUBSCRIPTION_KEY\"")
    assert key not in page.locator("#samples").inner_html()
    page.locator("#samples").scroll_into_view_if_needed()
    screenshot(page, "samples-through-the-gateway")
    problems_of(page).assert_none()


# A refusal's Retry-After here is 30 s or more: over this limit, so the step fails at once.
@override_settings(PORTAL_RUN_RETRY_AFTER_MAX_SECONDS=10)
def test_a_run_past_the_rate_limit_shows_the_refused_step(
    page: Page, live_server, live_demo_api
) -> None:
    tester = make_user("tess")
    product = make_product(live_demo_api, slug="two", rate=2, rate_period=60)
    key = make_subscription(user=tester, product=product, name="CI").key("primary")
    collection = Collection.objects.create(owner=tester, name="Keyed scoring")
    operation = live_demo_api.operations.get(slug="bes-status")
    for order in range(3):
        SavedRequest.objects.create(
            collection=collection,
            name=f"Status {order + 1}",
            order=order,
            operation=operation,
            operation_label=f"{API_NAME}: {operation.name}",
            values={
                "template": {
                    "workspace": "w",
                    "service": "s",
                    "jobid": "no-such-job",
                    "apiversion": "2.0",
                },
                "query": [],
                "headers": [
                    ["Authorization", secrets.encrypt(f"Bearer {settings.PORTAL_DEMO_API_KEY}")],
                    [KEY_HEADER, secrets.encrypt(key)],
                ],
                "body": None,
            },
            expected_status=404,
        )
    base = live_server.url

    sign_in(page, base, "tess")
    page.goto(f"{base}/collections/{collection.pk}/")
    page.get_by_role("button", name="Run collection").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Run of Keyed scoring")
    expect(page.locator("[data-run-status]")).to_have_text("Failed")
    steps = page.locator("[data-step]")
    expect(steps).to_have_count(3)
    expect(steps.nth(0)).to_have_attribute("data-passed", "true")
    expect(steps.nth(1)).to_have_attribute("data-passed", "true")
    third = steps.nth(2)
    expect(third).to_have_attribute("data-passed", "false")
    error = third.locator("[data-step-error]")
    expect(error).to_contain_text(
        "The gateway refused the call: 429 RateLimitExceeded: Rate limit exceeded: at most "
        "2 calls every 60 seconds. Retry-After:"
    )
    expect(error).to_contain_text(re.compile(r"Retry-After \d+ s is over the 10 s limit"))
    screenshot(page, "replay-run-refused-by-the-gateway")
    problems_of(page).assert_none()
    assert list(GatewayCall.objects.values_list("source", flat=True)) == [CallSource.REPLAY] * 3
