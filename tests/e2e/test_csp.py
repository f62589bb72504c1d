"""No page breaks the portal's Content-Security-Policy: every page of the README's walk,
with its htmx swaps (Send answered and failed, the samples panel, a replay, a collection
run's progress), reports no `securitypolicyviolation` event and no console error.

The events are collected by a listener Playwright adds before any of the page's own
scripts run; console errors by the page fixture (tests/e2e/conftest.py).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from demo.collection import create_demo_collection
from tests.e2e.conftest import (
    open_operation,
    param_input,
    problems_of,
    result_status,
    screenshot,
    send,
    sign_in,
)
from tests.e2e.test_guide import register_scripted_api
from tests.factories import make_product, make_subscription, make_user

pytestmark = pytest.mark.django_db(transaction=True)

API_NAME = "AzureML Demo API"
RUN_TIMEOUT_MS = 30_000
REPORT = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__reportViolation(
    [event.violatedDirective, event.blockedURI, event.sourceFile + ":" + event.lineNumber,
     event.sample].join(" ")
  );
});
"""


class Violations:
    def __init__(self, page: Page) -> None:
        self.seen: list[str] = []
        page.expose_function("__reportViolation", self._add)
        page.add_init_script(REPORT)
        self.page = page

    def _add(self, text: str) -> None:
        self.seen.append(f"{text} [{self.page.url}]")

    def assert_none(self, where: str) -> None:
        # Reports are delivered asynchronously: give the last ones the time to arrive.
        self.page.wait_for_timeout(100)
        assert self.seen == [], f"CSP violations on {where}: {self.seen}"
        problems_of(self.page).assert_none()


def visit(page: Page, violations: Violations, url: str, heading: str | re.Pattern[str]) -> None:
    page.goto(url)
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    violations.assert_none(url)


@pytest.mark.parametrize("debug", [False, True], ids=["production", "make run"])
def test_no_page_of_the_walk_violates_the_content_security_policy(
    page: Page, live_server, live_demo_api, settings, debug
) -> None:
    # `make run` serves with DEBUG on, which adds django-htmx's debug script.
    settings.DEBUG = debug
    settings.PORTAL_DEMO_JOB_SECONDS = 0.3
    settings.PORTAL_RUNS_IN_BACKGROUND = True
    base = live_server.url
    violations = Violations(page)
    tester = make_user("tess")
    make_subscription(user=tester, product=make_product(live_demo_api))
    create_demo_collection(owner=tester, api=live_demo_api)
    down = register_scripted_api("http://127.0.0.1:9", slug="down-backend")

    visit(page, violations, base + "/accounts/login/", "Sign in")
    sign_in(page, base, "tess")
    violations.assert_none("signing in")

    visit(page, violations, base + "/", "APIs")
    open_operation(page, base_url=base, api_name=API_NAME, operation_name="RRS Execute")
    violations.assert_none("the API page and the operation page")
    # A reader who drags the body editor's corner gives it a style attribute (the
    # CSSOM, which the policy allows); htmx's swap must not copy it as an attribute.
    editor = page.get_by_label("Body (application/json)")
    editor.evaluate("box => { box.style.height = '20rem'; }")
    send(page)
    assert result_status(page) == "200 OK"
    # The samples panel follows the form: its swap too.
    param_input(page, "workspace").fill("")
    expect(page.locator("#samples [data-samples-placeholders]")).to_be_visible()
    violations.assert_none("a successful Send")
    screenshot(page, "csp-send-success")

    page.goto(base + down.get_absolute_url())
    param_input(page, "page").fill("home")
    send(page)
    expect(page.locator('#result [data-error-kind="connect"]')).to_be_visible()
    violations.assert_none("a failed Send")

    page.locator("nav.navbar").get_by_role("link", name="History").click()
    expect(page.locator("table.history tbody tr")).to_have_count(2)
    violations.assert_none("the history")
    page.locator("table.history tbody tr").last.get_by_role("link", name="Open").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{API_NAME}: RRS Execute")
    violations.assert_none("a call of the history")
    page.get_by_role("link", name="Save", exact=True).click()
    page.get_by_label("New collection name").fill("Smoke")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("RRS Execute")
    page.get_by_role("button", name="Replay").click()
    expect(page.locator("#replay-outcome [data-outcome]")).to_have_text("PASS")
    violations.assert_none("a saved request and its replay")

    page.locator("nav.navbar").get_by_role("link", name="Collections").click()
    page.get_by_role("link", name="AzureML batch flow").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("AzureML batch flow")
    violations.assert_none("a collection")
    page.get_by_role("button", name="Run collection").click()
    status = page.locator("[data-run-status]")
    expect(status).to_have_attribute("data-run-status", "passed", timeout=RUN_TIMEOUT_MS)
    violations.assert_none("a collection run")

    page.locator("nav.navbar").get_by_role("link", name="Environments").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Environments")
    violations.assert_none("the environments")
    page.locator("nav.navbar").get_by_role("link", name="Analytics").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Analytics")
    violations.assert_none("analytics")
    page.locator("nav.navbar").get_by_role("link", name="Subscriptions").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("subscriptions", re.I))
    violations.assert_none("the subscriptions")
    page.locator("nav.navbar").get_by_role("link", name="Products").click()
    violations.assert_none("the products")


def test_the_listener_reports_an_inline_style(page: Page, live_server) -> None:
    """The walk's detector sees what the policy blocks: a style attribute set by script."""
    violations = Violations(page)
    page.goto(live_server.url + "/")
    page.evaluate("document.body.setAttribute('style', 'color: red')")
    expect(page.locator("body")).to_have_attribute("style", "color: red")
    page.wait_for_timeout(100)
    assert [text.split(" ")[0] for text in violations.seen] == ["style-src-attr"]
    # The page keeps the policy's colour: the attribute was refused.
    assert page.evaluate("getComputedStyle(document.body).color") != "rgb(255, 0, 0)"
