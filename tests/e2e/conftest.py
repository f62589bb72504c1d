"""Browser tests: the real pages in Debian's Chromium through Playwright (sync API).

`playwright install` cannot download browsers here, so the session's browser is
`/usr/bin/chromium` (or $CHROMIUM). Each test gets a fresh context and page; the
page records console errors (CSP violations arrive as console errors) and uncaught
page errors, so tests can assert that the pages they visit had none.
"""

from __future__ import annotations

import json
import re
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Locator,
    Page,
    Playwright,
    Response,
    ViewportSize,
    expect,
    sync_playwright,
)

from tests.chromium import launch_chromium
from tests.factories import PASSWORD

E2E_DIR = Path(__file__).resolve().parent
SCREENSHOTS = E2E_DIR.parent.parent / "test-artifacts" / "screenshots"
VIEWPORT = ViewportSize(width=1400, height=1000)
# Playwright waits this long (ms) for an element or a navigation before failing.
TIMEOUT_MS = 10_000


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.path)).resolve().is_relative_to(E2E_DIR):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    playwright = sync_playwright().start()
    try:
        yield playwright
    finally:
        playwright.stop()


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    browser = launch_chromium(playwright_instance)
    try:
        yield browser
    finally:
        browser.close()


class PageProblems:
    """Console errors and uncaught exceptions seen by one page."""

    def __init__(self) -> None:
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []

    def watch(self, page: Page) -> None:
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console_errors.append(f"{message.text} [{message.location.get('url', '')}]")

    def clear(self) -> None:
        self.console_errors.clear()
        self.page_errors.clear()

    @property
    def all(self) -> list[str]:
        return [*self.console_errors, *self.page_errors]

    def assert_none(self) -> None:
        assert self.all == [], f"console or page errors: {self.all}"


# Beside the pages rather than on them: a Page has no attribute for them in its types.
_PROBLEMS: weakref.WeakKeyDictionary[Page, PageProblems] = weakref.WeakKeyDictionary()


def new_page(context: BrowserContext) -> Page:
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    problems = PageProblems()
    problems.watch(page)
    _PROBLEMS[page] = problems
    return page


def problems_of(page: Page) -> PageProblems:
    """The console and page errors of a page made by new_page (or the page fixtures)."""
    return _PROBLEMS[page]


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport=VIEWPORT)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    """A fresh page; `problems_of(page)` holds its console and page errors."""
    return new_page(context)


@pytest.fixture
def no_js_page(browser: Browser) -> Iterator[Page]:
    """A page whose context runs no JavaScript: forms post and whole pages come back."""
    context = browser.new_context(viewport=VIEWPORT, java_script_enabled=False)
    try:
        yield new_page(context)
    finally:
        context.close()


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page screenshot to test-artifacts/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
    # caret="initial": the text caret as the reader sees it (Playwright's default hides it
    # with a style sheet of its own).
    page.screenshot(path=str(path), full_page=True, caret="initial")
    return path


# --- Try it helpers shared by the test modules ----------------------------------------


def param_input(page: Page, name: str) -> Locator:
    """The Try it input of a URL parameter. Its label is the parameter's name, which
    crispy-forms follows with an asterisk when the parameter is required."""
    return page.get_by_label(re.compile(rf"^\s*{re.escape(name)}\*?\s*$"))


def send(page: Page) -> Response:
    """Press Send on an htmx page and wait until the Try it card has been swapped.

    The old card is marked first, so the wait ends only when htmx has put in the new
    one. Returns the response to the htmx POST.
    """
    page.locator("#try-it").evaluate("card => { card.dataset.stale = 'yes'; }")
    with page.expect_response(
        lambda response: response.request.method == "POST" and response.url.endswith("/try")
    ) as answer:
        page.get_by_role("button", name="Send").click()
    response = answer.value
    # Bad input is a form error and a backend fault an error panel: never anything but 200.
    assert response.status == 200, f"POST {response.url} answered {response.status}"
    page.locator("#try-it:not([data-stale])").wait_for(state="attached")
    # htmx gives swapped-in elements their old attributes until it settles; wait for that.
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"
    )
    return response


def result_status(page: Page) -> str:
    return page.locator("#result [data-status]").inner_text().strip()


def requested_url(page: Page) -> str:
    return page.locator("#result [data-requested-url]").inner_text().strip()


def response_headers(page: Page) -> dict[str, str]:
    rows = page.locator("#result table.response-headers tr").all()
    return {
        row.locator("th").inner_text().strip(): row.locator("td").inner_text().strip()
        for row in rows
    }


def response_text(page: Page) -> str:
    return page.locator("#result .response-body").text_content() or ""


def response_json(page: Page) -> Any:
    return json.loads(response_text(page))


def mailed_link(pattern: re.Pattern[str]) -> str:
    """The link `pattern` finds in the first mail sent (Django's locmem mail.outbox)."""
    body = str(mail.outbox[0].body)
    found = pattern.search(body)
    assert found, body
    return found.group(0)


def sign_in(page: Page, base_url: str, username: str) -> None:
    """Through the portal's sign-in page, as a user made by tests.factories.make_user."""
    page.goto(base_url + "/")
    page.get_by_role("link", name="Sign in").click()
    page.locator("input[name=login]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("nav .navbar-text")).to_have_text(username)


def admin_log_in(page: Page, base_url: str, *, username: str, password: str) -> None:
    """Through the admin's login page, to the site administration."""
    page.goto(base_url + "/admin/login/?next=/admin/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()


def open_operation(page: Page, *, base_url: str, api_name: str, operation_name: str) -> None:
    """From the catalog to an operation's page, by clicking as a reader would."""
    page.goto(base_url + "/")
    page.get_by_role("link", name=api_name, exact=True).click()
    page.get_by_role("heading", level=1, name=api_name).wait_for()
    page.get_by_role("link", name=re.compile(rf"\b{re.escape(operation_name)}\b")).click()
    page.get_by_role("heading", level=1, name=operation_name).wait_for()
