"""The analytics page in a browser, with a week of seeded calls: a developer's own
numbers and charts, the range filter and its errors, the CSV download, an admin's
filters and top lists, and the page on a 400-pixel phone screen."""

from __future__ import annotations

import random
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from gateway.models import CallOutcome, CallSource, GatewayCall
from tests.e2e.conftest import SCREENSHOTS, new_page, problems_of, screenshot
from tests.factories import PASSWORD, make_product, make_subscription, make_user

pytestmark = pytest.mark.django_db(transaction=True)

API_NAME = "AzureML Demo API"
CHARTS = ("chart-calls", "chart-status", "chart-latency", "chart-bandwidth")


def sign_in(page: Page, base_url: str, username: str) -> None:
    page.goto(base_url + "/analytics/")
    # Signing in is asked first, and leads back to the page.
    page.locator("input[name=login]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Analytics")


def seed_calls(*, subscription, api, operations, count: int, seed: int) -> int:
    """A week of calls, busier in the last day and in working hours, with the status
    mix and latency spread of a real client. Returns how many fall in the last 24 h."""
    rng = random.Random(seed)
    now = timezone.now()
    calls, recent = [], 0
    for _ in range(count):
        # Two thirds in the last day, the rest over the week before.
        hours_ago = rng.uniform(0, 24) if rng.random() < 0.66 else rng.uniform(24, 7 * 24)
        recent += hours_ago < 24
        operation = rng.choice(operations)
        roll = rng.random()
        if roll < 0.06:
            outcome, status, duration = CallOutcome.RATE_LIMITED, 429, rng.uniform(0.3, 1.5)
        elif roll < 0.08:
            outcome, status, duration = CallOutcome.BACKEND_ERROR, 502, rng.uniform(200, 900)
        else:
            outcome = CallOutcome.FORWARDED
            status = rng.choices([200, 201, 304, 400, 404, 500], [80, 6, 3, 4, 4, 3])[0]
            duration = rng.lognormvariate(4.2, 0.6)  # median about 65 ms, a long tail
        calls.append(
            GatewayCall(
                created_at=now - timedelta(hours=hours_ago),
                source=rng.choice([CallSource.GATEWAY, CallSource.TRY_IT]),
                api=api,
                operation=operation,
                product_id=subscription.product_id,
                subscription=subscription,
                user_id=subscription.user_id,
                method=operation.method,
                path=f"/gateway/demo/{operation.slug}",
                outcome=outcome,
                status_code=status,
                duration_ms=duration,
                backend_duration_ms=duration * 0.9 if outcome == CallOutcome.FORWARDED else None,
                request_bytes=rng.randint(200, 2500) if operation.method == "POST" else 0,
                response_bytes=rng.randint(300, 12_000) if status < 400 else 120,
            )
        )
    GatewayCall.objects.bulk_create(calls)
    return recent


@pytest.fixture
def seeded(live_demo_api):
    operations = list(live_demo_api.operations.order_by("pk")[:5])
    starter = make_product(live_demo_api, slug="starter", name="Starter")
    unlimited = make_product(live_demo_api, slug="unlimited", name="Unlimited")
    ada, bob = make_user("ada"), make_user("bob")
    make_user("root", staff=True)
    make_user("newcomer")
    ada_sub = make_subscription(user=ada, product=starter, name="Ada's dashboard")
    bob_sub = make_subscription(user=bob, product=unlimited, name="Bob's batch job")
    ada_recent = seed_calls(
        subscription=ada_sub, api=live_demo_api, operations=operations, count=900, seed=1
    )
    bob_recent = seed_calls(
        subscription=bob_sub, api=live_demo_api, operations=operations[:2], count=400, seed=2
    )
    return {"ada": ada_recent, "bob": bob_recent, "operations": operations}


def stat(page: Page, name: str) -> str:
    return page.locator(f"[data-stat={name}] [data-value]").first.inner_text().strip()


def chart(page: Page, chart_id: str):
    return page.locator(f'svg[data-chart="{chart_id}"]')


def test_a_developer_reads_their_analytics(page: Page, live_server, seeded) -> None:
    base = live_server.url
    sign_in(page, base, "ada")
    expect(page.locator("[data-scope]")).to_contain_text("Your calls")
    expect(page.locator("[data-stat=calls] [data-value]")).to_have_text(f"{seeded['ada']:,}")
    expect(page.locator("[data-range-summary]")).to_contain_text("Last 24 hours")
    for chart_id in CHARTS:
        expect(chart(page, chart_id)).to_be_visible()
        expect(chart(page, f"{chart_id}-narrow")).to_be_hidden()
    # Ada's calls only: Bob's subscription is nowhere, nor the admins' tables.
    expect(page.locator("[data-top=subscriptions]")).to_have_count(0)
    assert "Bob's batch job" not in page.content()
    expect(page.locator("[data-top=operations] tbody tr")).to_have_count(5)
    # The calls chart has its legend, y labels and x labels.
    calls_chart = chart(page, "chart-calls")
    expect(calls_chart.locator(".chart-legend text")).to_have_text(
        ["2xx success", "3xx redirect", "4xx client error", "5xx server error",
         "Refused by the gateway"]
    )  # fmt: skip
    assert calls_chart.locator(".chart-x-axis text").count() >= 3
    assert calls_chart.locator(".chart-grid text").count() >= 3
    problems_of(page).assert_none()
    screenshot(page, "analytics-developer")

    # A week.
    page.get_by_label("Time range", exact=True).select_option("7d")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"range=7d"))
    expect(page.locator("[data-stat=calls] [data-value]")).to_have_text("900")
    expect(page.locator("[data-range-summary]")).to_contain_text("in 1 hour intervals")
    problems_of(page).assert_none()
    screenshot(page, "analytics-developer-week")

    # Another one of Ada's subscriptions... and an operation from the top table.
    page.locator("[data-top=operations] tbody tr a").first.click()
    expect(page.locator("[data-active-filters]")).to_contain_text("operation")
    expect(page.get_by_label("Operation", exact=True)).to_be_visible()

    # The CSV download holds the calls of the page.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download CSV").click()
    download = download_info.value
    assert re.fullmatch(r"gateway-calls-\d{8}-\d{4}-\d{8}-\d{4}\.csv", download.suggested_filename)
    lines = Path(download.path()).read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("created_at,source,api,operation,product")
    shown = int(stat(page, "calls").replace(",", ""))
    assert len(lines) == shown + 1
    assert all(",ada," in line for line in lines[1:])


def test_a_bad_custom_range_is_a_form_error(page: Page, live_server, seeded) -> None:
    sign_in(page, live_server.url, "ada")
    page.get_by_label("Time range", exact=True).select_option("custom")
    page.get_by_label("From", exact=True).fill("2025-03-05T10:00")
    page.get_by_label("To", exact=True).fill("2025-03-04T10:00")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("[data-analytics-filters]")).to_contain_text(
        "The end of the range must come after its start."
    )
    expect(page.locator("[data-no-report]")).to_be_visible()
    expect(page.locator("svg[data-chart]")).to_have_count(0)
    screenshot(page, "analytics-bad-range")


def test_an_admin_filters_every_call(page: Page, live_server, seeded) -> None:
    sign_in(page, live_server.url, "root")
    expect(page.locator("[data-scope]")).to_contain_text("All calls")
    total = seeded["ada"] + seeded["bob"]
    expect(page.locator("[data-stat=calls] [data-value]")).to_have_text(f"{total:,}")
    subscriptions = page.locator("[data-top=subscriptions] tbody tr")
    expect(subscriptions).to_have_count(2)
    expect(subscriptions.first).to_contain_text("Ada's dashboard")
    expect(page.locator("[data-top=users] tbody tr")).to_have_count(2)
    problems_of(page).assert_none()
    screenshot(page, "analytics-admin")

    page.get_by_label("API", exact=True).select_option(label=API_NAME)
    page.get_by_label("Product", exact=True).select_option(label="Unlimited")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("[data-stat=calls] [data-value]")).to_have_text(f"{seeded['bob']:,}")
    expect(page.locator("[data-active-filters]")).to_contain_text(
        "API AzureML Demo API, product Unlimited."
    )
    # An API chosen, its operations are offered.
    operation = seeded["operations"][0]
    page.get_by_label("Operation", exact=True).select_option(
        label=f"{operation.name} ({operation.method})"
    )
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("[data-active-filters]")).to_contain_text(operation.name)
    problems_of(page).assert_none()
    screenshot(page, "analytics-admin-filtered")


def test_no_calls_in_the_range(page: Page, live_server, seeded) -> None:
    sign_in(page, live_server.url, "newcomer")
    expect(page.locator("[data-stat=calls] [data-value]")).to_have_text("0")
    for chart_id in CHARTS:
        expect(chart(page, chart_id).locator("[data-empty]")).to_have_text("No calls in this range")
    expect(page.locator("[data-top=operations] [data-empty]")).to_be_visible()
    problems_of(page).assert_none()
    screenshot(page, "analytics-empty")


def test_the_page_on_a_phone(browser: Browser, live_server, seeded) -> None:
    context = browser.new_context(viewport={"width": 400, "height": 900})
    try:
        page = new_page(context)
        sign_in(page, live_server.url, "ada")
        for chart_id in CHARTS:
            expect(chart(page, f"{chart_id}-narrow")).to_be_visible()
            expect(chart(page, chart_id)).to_be_hidden()
            box = chart(page, f"{chart_id}-narrow").bounding_box()
            assert box is not None
            assert 300 <= box["width"] <= 400
        # Nothing in the page sticks out sideways (wide tables scroll in their box).
        overflow = page.evaluate("""() => {
            const main = document.querySelector("main");
            return main.scrollWidth - main.clientWidth;
        }""")
        assert overflow == 0
        problems_of(page).assert_none()
        screenshot(page, "analytics-phone")
        for chart_id in ("chart-calls", "chart-latency"):
            chart(page, f"{chart_id}-narrow").screenshot(
                path=str(SCREENSHOTS / f"analytics-phone-{chart_id}.png")
            )
    finally:
        context.close()
