"""Browser tests: the real pages in Debian's Chromium through Playwright (sync API).

`playwright install` cannot download browsers here, so the session's browser is
`/usr/bin/chromium` (or $CHROMIUM). Each test gets a fresh context and page; the
page records console errors (CSP violations arrive as console errors) and uncaught
page errors, so tests can assert that the pages they visit had none.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

E2E_DIR = Path(__file__).resolve().parent
SCREENSHOTS = E2E_DIR.parent.parent / "test-artifacts" / "screenshots"
VIEWPORT = {"width": 1400, "height": 1000}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
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
    browser = playwright_instance.chromium.launch(
        executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"), args=CHROMIUM_ARGS
    )
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
        page.on(
            "console",
            lambda message: (
                self.console_errors.append(message.text) if message.type == "error" else None
            ),
        )
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))

    @property
    def all(self) -> list[str]:
        return [*self.console_errors, *self.page_errors]

    def assert_none(self) -> None:
        assert self.all == [], f"console or page errors: {self.all}"


def new_page(context: BrowserContext) -> Page:
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    problems = PageProblems()
    problems.watch(page)
    page.problems = problems  # type: ignore[attr-defined]
    return page


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport=VIEWPORT)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    """A fresh page; `page.problems` holds its console and page errors."""
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
    page.screenshot(path=str(path), full_page=True)
    return path
