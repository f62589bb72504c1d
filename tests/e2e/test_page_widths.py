"""Every page of the README's walk from a 360-pixel phone to a 1920-pixel screen: none
scrolls sideways, the main actions are big enough to touch, rows that lead somewhere
open it wherever they are clicked, and the API page shows operation paths whole.

The data is made to be wide: long unbroken words and URLs in descriptions, names and
variable values, a Try it result whose requested URL is one long word, a long path.
One browser; one context signed in as staff and one anonymous, each page loaded once
and measured at each width by resizing the viewport.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, BrowserContext, Locator, Page, ViewportSize, expect

from catalog.models import Api, Operation, Parameter, ParameterLocation
from console.models import Environment, Exchange
from demo.collection import create_demo_collection
from gateway.models import CallOutcome, CallSource, GatewayCall
from testing.models import Collection, Run, SavedRequest
from testing.replay import run_collection
from tests.e2e.conftest import new_page, param_input, problems_of, screenshot, send, sign_in
from tests.factories import make_product, make_subscription, make_user

pytestmark = pytest.mark.django_db(transaction=True)

API_NAME = "AzureML Demo API"
WIDTHS = (360, 390, 1366, 1920)
SCREENSHOT_WIDTHS = (390, 1366)
HEIGHT = 800
PHONE = 390
# WCAG 2.5.5 (AAA) and Apple's guidelines: 44 by 44 CSS pixels.
TOUCH = 44
LONG_WORD = "Supercalifragilisticexpialidocious" * 4
LONG_URL = (
    "https://docs.example.com/azureml/reference/web-services/request-response/"
    "workspaces-and-services/the-scoring-endpoint-and-its-long-query?"
    "version=2.0&section=hashing-features-and-their-column-names-explained-at-length"
)
LONG_JOB_ID = "job" + "0123456789abcdef" * 12
LONG_PATH = (
    "/workspaces/{workspace}/services/{service}/jobs/{jobid}/outputs/"
    "scored-results-with-hashed-features/blobs/{blobname}?api-version={apiversion}"
)
LONG_DESCRIPTION = (
    f"The job's status, documented at length. See <{LONG_URL}> for the whole reference, "
    f"and mind the {LONG_WORD} that some services answer with.\n\n"
    "| Status | Meaning |\n|---|---|\n"
    f"| NotStarted | Submitted, not started: {LONG_WORD} |\n"
    "| Finished | The results are in the answer |\n"
)

# The right edge of the element that sticks out furthest, among those not clipped by
# a box that scrolls or hides its overflow: what makes the page scroll sideways.
WIDEST_ELEMENT_JS = """
() => {
  const viewport = window.innerWidth;
  const clipped = (start) => {
    let node = start.parentElement;
    for (; node && node !== document.body; node = node.parentElement) {
      if (getComputedStyle(node).overflowX !== 'visible') return true;
    }
    return false;
  };
  let widest = null, right = viewport;
  const consider = (node, box) => {
    if (box.width === 0 || box.right + window.scrollX <= right || clipped(node)) return;
    widest = node.nodeType === Node.TEXT_NODE ? node.parentElement : node;
    right = box.right + window.scrollX;
  };
  for (const element of document.body.querySelectorAll('*')) {
    consider(element, element.getBoundingClientRect());
  }
  // A word longer than its box sticks out of it: the text's own box, named by its parent.
  const texts = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  for (let text = texts.nextNode(); text; text = texts.nextNode()) {
    if (!text.parentElement || !text.textContent.trim()) continue;
    range.selectNodeContents(text);
    consider(text, range.getBoundingClientRect());
  }
  if (!widest) return null;
  const classes = [...widest.classList].map((name) => '.' + name).join('');
  const id = widest.id ? '#' + widest.id : '';
  const text = (widest.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 60);
  const tag = widest.tagName.toLowerCase();
  return `<${tag}${id}${classes}> right edge ${Math.round(right)} px: "${text}"`;
}
"""


@dataclass
class Seeded:
    user_pk: int
    api: Api
    operation: Operation
    long_operation: Operation
    saved: SavedRequest
    collection: Collection
    run: Run
    product_slug: str
    subscription_pk: int
    environment_pk: int


def seed(*, api: Api) -> Seeded:
    """A staff tester with a subscription, calls, a collection and its run, an
    environment, analytics data, and long words wherever a user or a document writes."""
    user = make_user("wide", staff=True)
    api.description = f"Scoring web services. Reference: {LONG_URL}\n\n{LONG_WORD}"
    api.save()
    status = api.operations.get(slug="bes-status")
    status.description = LONG_DESCRIPTION
    status.save()
    status.parameters.filter(name="jobid").update(
        description=f"The job id that BES Submit returned, such as {LONG_JOB_ID}."
    )
    long_operation = Operation.objects.create(
        api=api,
        slug="bes-output-blob",
        name="BES Output Blob",
        method="GET",
        tags="Batch Execution",
        url_template=LONG_PATH,
        description=f"One output blob of a finished job ({LONG_URL}).",
        order=10,
    )
    Parameter.objects.bulk_create(
        Parameter(operation=long_operation, name=name, location=ParameterLocation.TEMPLATE)
        for name in ("workspace", "service", "jobid", "blobname", "apiversion")
    )
    # More APIs than a catalog page holds (24): its pagination shows.
    Api.objects.bulk_create(
        Api(
            name=f"Partner API {number:02d}",
            slug=f"partner-{number:02d}",
            service_url="http://127.0.0.1:9/partner",
            published=True,
            description=f"A partner's API. {LONG_URL}",
        )
        for number in range(24)
    )
    product = make_product(
        api, slug="starter", name="Starter", description=f"Five calls a minute. {LONG_URL}"
    )
    subscription = make_subscription(user=user, product=product, name=f"Starter {LONG_WORD}")
    environment = Environment.objects.create(
        owner=user,
        name="Staging",
        variables=[
            {"name": "workspace", "value": "demo-workspace", "secret": False},
            {"name": "long_value", "value": LONG_URL, "secret": False},
        ],
    )
    create_demo_collection(owner=user, api=api)
    collection = Collection.objects.get(owner=user, name="AzureML scoring")
    collection.description = f"Scoring checks; see {LONG_URL}."
    collection.save()
    run = run_collection(collection=collection, user=user)
    now = timezone.now()
    GatewayCall.objects.bulk_create(
        GatewayCall(
            created_at=now - timedelta(minutes=5 * index),
            source=CallSource.GATEWAY if index % 2 else CallSource.TRY_IT,
            api=api,
            operation=operation,
            product_id=product.pk,
            subscription=subscription,
            user_id=user.pk,
            method=operation.method,
            path=f"/gateway/azureml-demo{operation.url_template.split('?')[0]}",
            outcome=CallOutcome.FORWARDED,
            status_code=(200, 404, 500)[index % 3],
            duration_ms=40.0 + index,
            backend_duration_ms=35.0 + index,
            request_bytes=300,
            response_bytes=2000,
        )
        for index, operation in enumerate(list(api.operations.all()) * 4)
    )
    return Seeded(
        user_pk=user.pk,
        api=api,
        operation=status,
        long_operation=long_operation,
        saved=collection.requests.get(),
        collection=collection,
        run=run,
        product_slug=product.slug,
        subscription_pk=subscription.pk,
        environment_pk=environment.pk,
    )


def signed_in_context(browser: Browser, base_url: str) -> tuple[BrowserContext, Page]:
    context = browser.new_context(viewport=ViewportSize(width=1366, height=HEIGHT))
    page = new_page(context)
    sign_in(page, base_url, "wide")
    return context, page


def send_long_status(page: Page, *, base_url: str, seeded: Seeded) -> None:
    """BES Status with a job id that is one long word: the requested URL is too."""
    page.goto(base_url + seeded.operation.get_absolute_url())
    param_input(page, "jobid").fill(LONG_JOB_ID)
    send(page)
    expect(page.locator("#result [data-requested-url]")).to_contain_text(LONG_JOB_ID)


def widest(page: Page) -> str | None:
    return page.evaluate(WIDEST_ELEMENT_JS)


def measure(page: Page, *, name: str, failures: list[str]) -> None:
    """The page at every width; its screenshots at the phone's and the laptop's."""
    for width in WIDTHS:
        page.set_viewport_size(ViewportSize(width=width, height=HEIGHT))
        page.evaluate("() => new Promise((done) => requestAnimationFrame(() => done(null)))")
        scroll_width, inner_width = page.evaluate(
            "[document.documentElement.scrollWidth, window.innerWidth]"
        )
        if scroll_width > inner_width:
            failures.append(
                f"{name} at {width} px is {scroll_width} px wide; widest: {widest(page)}"
            )
        # Within the page too: a long URL in a description must not run under the
        # column beside it (the Try it card), which the page's width would not show.
        sticking_out = page.locator(".markdown").evaluate_all(
            "(blocks) => blocks.filter((block) => block.scrollWidth > block.clientWidth + 1)"
            ".map((block) => block.textContent.trim().slice(0, 60))"
        )
        if sticking_out:
            failures.append(f"{name} at {width} px: Markdown wider than its box: {sticking_out}")
        if width in SCREENSHOT_WIDTHS:
            screenshot(page, f"widths-{name}-{width}")


def test_no_page_scrolls_sideways_from_360_to_1920_px(
    browser: Browser, live_server, live_demo_api
) -> None:
    base = live_server.url
    seeded = seed(api=live_demo_api)
    failures: list[str] = []

    anonymous = browser.new_context(viewport=ViewportSize(width=1366, height=HEIGHT))
    try:
        page = new_page(anonymous)
        for name, path in (("sign-in", "/accounts/login/"), ("sign-up", "/accounts/signup/")):
            page.goto(base + path)
            measure(page, name=name, failures=failures)
        problems_of(page).assert_none()
    finally:
        anonymous.close()

    context, page = signed_in_context(browser, base)
    try:
        send_long_status(page, base_url=base, seeded=seeded)
        measure(page, name="operation-with-result", failures=failures)
        exchange = Exchange.objects.get(operation=seeded.operation)
        walk = {
            "catalog": "/",
            "api": seeded.api.get_absolute_url(),
            "operation-long-path": seeded.long_operation.get_absolute_url(),
            "products": "/products/",
            "product": f"/products/{seeded.product_slug}/",
            "subscriptions": "/subscriptions/",
            "subscription": f"/subscriptions/{seeded.subscription_pk}/",
            "history": "/history/",
            "exchange": f"/history/{exchange.pk}/",
            "saved-request": seeded.saved.get_absolute_url(),
            "collections": "/saved/",
            "collection": seeded.collection.get_absolute_url(),
            "run": f"/runs/{seeded.run.pk}/",
            "environments": "/environments/",
            "environment": f"/environments/{seeded.environment_pk}/edit",
            "analytics": "/analytics/",
            "admin": "/admin/",
            "admin-api": f"/admin/operations/api/{seeded.api.pk}/change/",
            "admin-operation": f"/admin/operations/operation/{seeded.operation.pk}/change/",
        }
        for name, path in walk.items():
            page.set_viewport_size(ViewportSize(width=1366, height=HEIGHT))
            response = page.goto(base + path)
            assert response is not None and response.status == 200, (name, path)
            measure(page, name=name, failures=failures)
        problems_of(page).assert_none()
    finally:
        context.close()
    assert failures == [], "\n".join(failures)


# --- Touch targets ----------------------------------------------------------------------

# The main actions of each page, as a phone user taps them. A stretched link's target
# is its row (the link's ::after covers it), so the row is what is measured.
TOUCH_TARGETS = {
    "catalog": (
        "nav .navbar-brand, nav .navbar-toggler, form[role=search] button, .pagination .page-link"
    ),
    "menu": "#portal-nav .nav-link",
    "operation": (
        "#try-it button[type=submit], #try-it [data-add-header], #result .copy-button, "
        "#result a.btn, #result button.btn, [data-header-rows] .btn"
    ),
    "history": "table.history tr.row-link",
    "subscription": "[data-key-row] .btn-group .btn",
    "collections": ".row-link",
}


def small_targets(page: Page, selector: str) -> tuple[int, list[str]]:
    """How many visible elements `selector` finds, and those smaller than TOUCH."""
    boxes: list[dict[str, Any]] = page.locator(selector).evaluate_all(
        """(elements) => elements.filter((element) => element.getClientRects().length)
            .map((element) => {
              const box = element.getBoundingClientRect();
              const text = (element.textContent || element.getAttribute('aria-label') || '')
                .trim().replace(/\\s+/g, ' ').slice(0, 40);
              const tag = element.tagName.toLowerCase();
              return {text, tag, width: box.width, height: box.height};
            })"""
    )
    small = [
        f"<{box['tag']}> {box['text']!r} {box['width']:.0f}x{box['height']:.0f}"
        for box in boxes
        if box["width"] < TOUCH or box["height"] < TOUCH
    ]
    return len(boxes), small


def test_the_main_actions_are_big_enough_to_touch_on_a_phone(
    browser: Browser, live_server, live_demo_api
) -> None:
    base = live_server.url
    seeded = seed(api=live_demo_api)
    context, page = signed_in_context(browser, base)
    try:
        send_long_status(page, base_url=base, seeded=seeded)
        page.set_viewport_size(ViewportSize(width=PHONE, height=HEIGHT))
        found: dict[str, int] = {}
        small: list[str] = []

        def check(name: str) -> None:
            found[name], too_small = small_targets(page, TOUCH_TARGETS[name])
            small.extend(f"{name}: {target}" for target in too_small)

        check("operation")
        page.goto(base + "/")
        check("catalog")
        # Beside the search box, on one line, a gap away from the screen's edge.
        search = page.locator("form[role=search] button").bounding_box()
        assert search is not None
        assert search["height"] < 60, search  # one line of text: 46 px
        assert PHONE - (search["x"] + search["width"]) >= 12, search
        page.get_by_role("button", name="Menu").click()
        expect(page.get_by_role("link", name="Products")).to_be_visible()
        check("menu")
        page.goto(base + "/history/")
        check("history")
        page.goto(base + "/saved/")
        check("collections")
        page.goto(f"{base}/subscriptions/{seeded.subscription_pk}/")
        check("subscription")
        problems_of(page).assert_none()
    finally:
        context.close()
    # Each kind was there to measure: Send, Add header, two Copy buttons, Open in history
    # and Save, four header buttons; the brand, the menu button, Search, four page links;
    # the menu's nine links, the colour mode menu and Sign out; two calls; the demo's two
    # collections (their headers) and their five requests; Show, Copy and Regenerate of
    # both keys.
    assert found == {
        "operation": 10,
        "catalog": 7,
        "menu": 11,
        "history": 2,
        "collections": 7,
        "subscription": 6,
    }
    assert small == []


# --- Rows that lead somewhere -------------------------------------------------------------


def click_on(page: Page, locator: Locator) -> None:
    """A click where `locator` shows, as a user's pointer lands: on whatever is on top
    there (a stretched link's area), not on the element itself."""
    locator.scroll_into_view_if_needed()
    box = locator.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def test_a_row_opens_its_item_wherever_it_is_clicked(
    browser: Browser, live_server, live_demo_api
) -> None:
    base = live_server.url
    seeded = seed(api=live_demo_api)
    context, page = signed_in_context(browser, base)
    try:
        send_long_status(page, base_url=base, seeded=seeded)
        exchange = Exchange.objects.get(operation=seeded.operation)
        for width in (1366, PHONE):
            page.set_viewport_size(ViewportSize(width=width, height=HEIGHT))
            # History: the duration cell, on the desktop's table and the phone's card.
            page.goto(base + "/history/")
            row = page.locator("table.history tbody tr").filter(has_text="BES Status")
            click_on(page, row.locator("td[data-label=Duration]"))
            expect(page).to_have_url(f"{base}/history/{exchange.pk}/")
            # Collections: a saved request's operation label, and the collection's header
            # beside its name.
            page.goto(base + "/saved/")
            click_on(
                page,
                page.locator(".list-group-item.row-link").get_by_text(f"{API_NAME}: RRS Execute"),
            )
            expect(page).to_have_url(base + seeded.saved.get_absolute_url())
            page.goto(base + "/saved/")
            header = page.locator(".card-header.row-link", has_text="AzureML scoring")
            box = header.bounding_box()
            assert box is not None
            page.mouse.click(box["x"] + box["width"] - 10, box["y"] + box["height"] / 2)
            expect(page).to_have_url(base + seeded.collection.get_absolute_url())
            # The collection's page: a request's label, and a run's status badge.
            click_on(page, page.locator("ol .row-link").get_by_text(f"{API_NAME}: RRS Execute"))
            expect(page).to_have_url(base + seeded.saved.get_absolute_url())
            page.go_back()
            click_on(page, page.locator(".runs .row-link .badge"))
            expect(page).to_have_url(f"{base}/runs/{seeded.run.pk}/")
        # From the keyboard, the row's link is an ordinary one.
        page.goto(base + "/history/")
        page.locator("table.history tbody tr").filter(has_text="BES Status").get_by_role(
            "link", name="Open"
        ).focus()
        page.keyboard.press("Enter")
        expect(page).to_have_url(f"{base}/history/{exchange.pk}/")
        problems_of(page).assert_none()
    finally:
        context.close()


# --- Operation paths on the API page -----------------------------------------------------------


def test_the_api_page_shows_operation_paths_whole(
    browser: Browser, live_server, live_demo_api
) -> None:
    base = live_server.url
    seeded = seed(api=live_demo_api)
    templates = list(
        Operation.objects.filter(api=seeded.api)
        .order_by("order", "name")
        .values_list("url_template", flat=True)
    )
    context = browser.new_context(viewport=ViewportSize(width=1366, height=HEIGHT))
    try:
        page = new_page(context)
        page.goto(base + seeded.api.get_absolute_url())
        paths = page.locator("[data-operation-path]")
        for width in (1920, 1366, PHONE, 360):
            page.set_viewport_size(ViewportSize(width=width, height=HEIGHT))
            expect(paths).to_have_count(len(templates))
            assert sorted(paths.all_inner_texts()) == sorted(templates), width
            for path in paths.all():
                expect(path).to_be_visible()
                # Nothing cut off: the text fits its box, and the box the screen.
                clipped = path.evaluate(
                    "(code) => code.scrollWidth > code.clientWidth"
                    " || code.getBoundingClientRect().right > window.innerWidth"
                )
                assert not clipped, (width, path.inner_text())
            long_path = page.locator("[data-operation-path]", has_text="blobs/{blobname}")
            box = long_path.bounding_box()
            name_box = (
                page.locator(".operation-row", has=long_path)
                .locator(".operation-name")
                .bounding_box()
            )
            assert box is not None and name_box is not None
            if width >= 768:
                # Beside the name, wrapped onto lines of its own half of the row.
                assert box["x"] > name_box["x"] + name_box["width"], width
                assert box["height"] > name_box["height"], width
            else:
                assert box["y"] >= name_box["y"] + name_box["height"], width
        screenshot(page, "widths-api-paths-360")
        problems_of(page).assert_none()
    finally:
        context.close()
