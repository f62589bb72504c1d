"""A 2 MiB JSON answer in Try it and the history (docs/design.md, "Rendering"): its first
part is shown highlighted and says so; Show more, Show all and Show less fetch parts of
the kept call, Download saves it whole; at 390 and 1366 px, with no CSP violation, no
serious or critical axe violation, and the body's markup never markup. Another visitor
gets a 404 for the parts' URL. A saved request's baseline does the same on its page."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from catalog.models import Api, Operation
from testing.models import Collection, SavedRequest
from tests.axe import blocking_violations, report
from tests.backends import reply_with, scripted_server
from tests.e2e.conftest import new_page, problems_of, screenshot, send, sign_in
from tests.factories import make_user

pytestmark = pytest.mark.django_db(transaction=True)

HOSTILE = "<img src=x onerror=\"document.title='OWNED'\">"
# 1.9 MiB as received (under PORTAL_HIGHLIGHT_MAX_CHARS), 2.4 MB formatted: 13 parts.
VALUE = [
    {"id": n, "name": f"order {n}", "note": HOSTILE, "total": n * 1.5, "paid": n % 2 == 0}
    for n in range(16_000)
]
BODY = json.dumps(VALUE).encode()
PRETTY = json.dumps(VALUE, indent=2)
WIDTHS = [390, 1366]
# A part is 200 KB of markup to make, send and swap in: on a busy machine, more than the
# 5 s expect() waits by default.
SLOW_MS = 30_000


@pytest.fixture
def large_api(live_server) -> Iterator[Operation]:
    headers = [("Content-Type", "application/json")]
    with scripted_server(reply_with(200, headers=headers, body=BODY)) as backend:
        api = Api.objects.create(name="Orders", slug="orders", service_url=backend.url)
        yield Operation.objects.create(
            api=api, name="List orders", slug="list-orders", method="GET", url_template="/orders"
        )


def at_width(browser: Browser, width: int) -> Page:
    context = browser.new_context(viewport=ViewportSize(width=width, height=900))
    context.set_default_timeout(30_000)
    return new_page(context)


def code_text(page: Page) -> str:
    return page.locator("#result .response-body code").text_content() or ""


def assert_clean(page: Page, name: str) -> None:
    # Blocks of the body far from the view are not painted (content-visibility: auto):
    # the body is brought into view first, as a reader scrolls to it.
    body = page.locator("#result .response-body")
    body.scroll_into_view_if_needed()
    expect(body.locator(".code-part").first).to_be_visible(timeout=SLOW_MS)
    page.wait_for_timeout(200)  # a frame or two for the blocks brought near the view
    screenshot(page, name)
    violations = blocking_violations(page)
    assert violations == [], report(violations)
    assert page.locator("#result img").count() == 0
    assert page.title() != "OWNED"
    problems_of(page).assert_none()


@pytest.mark.parametrize("width", WIDTHS)
def test_try_it_shows_the_first_part_then_more_all_less_and_downloads(
    browser: Browser, live_server, large_api, width
) -> None:
    page = at_width(browser, width)
    page.goto(live_server.url + large_api.get_absolute_url())
    send(page)
    bar = page.locator("#result [data-body-part]")
    expect(bar).to_contain_text(
        "Showing the first 195.3 KB of the formatted content", timeout=SLOW_MS
    )
    expect(bar).to_contain_text("the response is 1.9 MB", timeout=SLOW_MS)
    first = code_text(page)
    assert PRETTY.startswith(first.removesuffix("\n")) and len(first) <= 200_001
    assert page.locator("#result *").count() < 20_000
    assert_clean(page, f"large-result-first-part-{width}")

    bar.get_by_role("link", name="Show more").click()
    expect(page.locator("#result [data-show-less]")).to_be_visible(timeout=SLOW_MS)
    second = code_text(page)
    assert second.startswith(first.removesuffix("\n")) and len(second) > 300_000
    assert_clean(page, f"large-result-two-parts-{width}")

    page.locator("#result [data-show-all]").click()
    expect(page.locator("#result [data-body-kind=text]")).to_be_visible(timeout=SLOW_MS)
    expect(bar).to_contain_text("Showing all the formatted content", timeout=SLOW_MS)
    assert code_text(page) == PRETTY
    assert_clean(page, f"large-result-all-{width}")

    page.locator("#result [data-show-less]").click()
    expect(page.locator("#result [data-show-more]")).to_be_visible(timeout=SLOW_MS)
    assert code_text(page) == first

    with page.expect_download() as download_info:
        page.locator("#result [data-download-whole]").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".json")
    path = download.path()
    assert path is not None and path.read_bytes() == BODY
    page.context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_history_page_shows_the_part_and_only_its_visitor_gets_more(
    browser: Browser, live_server, large_api, width
) -> None:
    page = at_width(browser, width)
    page.goto(live_server.url + large_api.get_absolute_url())
    send(page)
    code_id = page.locator("#result .response-body code").get_attribute("id") or ""
    exchange = code_id.removeprefix("response-body-")
    history = f"{live_server.url}/history/{exchange}/"
    page.goto(history)
    expect(page.locator("#result [data-body-part]")).to_contain_text(
        "Showing the first", timeout=SLOW_MS
    )
    page.locator("#result [data-show-more]").click()
    expect(page.locator("#result [data-show-less]")).to_be_visible(timeout=SLOW_MS)
    assert len(code_text(page)) > 300_000
    assert_clean(page, f"large-result-history-{width}")

    stranger = at_width(browser, width)
    for parts in ("2", "all"):
        answer = stranger.request.get(f"{live_server.url}/history/{exchange}/content?parts={parts}")
        assert answer.status == 404
    assert stranger.request.get(f"{live_server.url}/history/{exchange}/body").status == 404
    stranger.context.close()
    page.context.close()


def test_without_script_show_more_opens_the_history_page_with_two_parts(
    no_js_page: Page, browser: Browser, live_server, large_api
) -> None:
    page = at_width(browser, 1366)
    page.goto(live_server.url + large_api.get_absolute_url())
    send(page)
    href = page.locator("#result [data-show-more]").get_attribute("href") or ""
    assert "/history/" in href and "parts=2" in href
    page.goto(live_server.url + href)
    assert len(code_text(page)) > 300_000
    page.context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_a_saved_requests_large_baseline_shows_more_and_downloads(
    browser: Browser, live_server, large_api, width
) -> None:
    owner = make_user("ada")
    collection = Collection.objects.create(owner=owner, name="Orders")
    saved = SavedRequest.objects.create(
        collection=collection,
        name="List orders",
        operation=large_api,
        operation_label="Orders: List orders",
        baseline_status=200,
        baseline_reason="OK",
        baseline_body=BODY,
        baseline_content_type="application/json",
    )
    page = at_width(browser, 1366)
    sign_in(page, live_server.url, "ada")  # from the navigation bar, not collapsed at 1366
    page.set_viewport_size(ViewportSize(width=width, height=900))
    page.goto(f"{live_server.url}/saved/{saved.pk}/")
    block = page.locator(f"#response-content-baseline-{saved.pk}")
    expect(block.locator("[data-body-part]")).to_contain_text("Showing the first", timeout=SLOW_MS)
    block.locator("[data-show-more]").click()
    expect(block.locator("[data-show-less]")).to_be_visible(timeout=SLOW_MS)
    text = block.locator("code").text_content() or ""
    assert len(text) > 300_000 and PRETTY.startswith(text.removesuffix("\n"))
    block.locator("code").scroll_into_view_if_needed()
    page.wait_for_timeout(200)
    screenshot(page, f"large-baseline-two-parts-{width}")
    violations = blocking_violations(page)
    assert violations == [], report(violations)
    with page.expect_download() as download_info:
        block.locator("[data-download-whole]").click()
    path = download_info.value.path()
    assert path is not None and path.read_bytes() == BODY
    assert page.locator("img[src=x]").count() == 0
    problems_of(page).assert_none()
    page.context.close()
