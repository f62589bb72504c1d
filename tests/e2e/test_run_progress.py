"""A collection run's progress bar, in a browser: red with the failures counted when the
run fails (green when it passes: tests/e2e/test_testers.py)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from demo.collection import create_demo_collection
from tests.e2e.conftest import problems_of, screenshot, sign_in
from tests.factories import make_user

pytestmark = pytest.mark.django_db(transaction=True)

RUN_TIMEOUT_MS = 30_000
RED = "rgb(220, 53, 69)"  # Bootstrap's danger


def test_a_failing_run_turns_the_bar_red(page: Page, live_server, demo_api, settings) -> None:
    # demo_api's backend is an address nothing listens on: every call fails.
    settings.PORTAL_RUNS_IN_BACKGROUND = True
    create_demo_collection(owner=make_user("tess"), api=demo_api)
    sign_in(page, live_server.url, "tess")
    page.locator("nav.navbar").get_by_role("link", name="Collections").click()
    page.get_by_role("link", name="AzureML batch flow").click()
    page.get_by_role("button", name="Run collection").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Run of AzureML batch flow")

    status = page.locator("[data-run-status]")
    expect(status).to_have_attribute("data-run-status", "failed", timeout=RUN_TIMEOUT_MS)
    expect(status).to_have_text("Failed")
    bar = page.locator("[data-run-bar]")
    expect(bar).to_have_attribute("data-run-bar", "failed")
    expect(bar).to_have_css("background-color", RED)
    failed = page.locator("[data-step][data-passed=false]").count()
    done = page.locator("[data-step]").count()
    assert failed >= 1
    expect(page.locator("[data-run-progress]")).to_have_text(
        f"{done} of 4 requests done, {failed} failed"
    )
    expect(page.locator("[role=progressbar]")).to_have_attribute(
        "aria-valuetext", f"{done} of 4 requests done, {failed} failed"
    )
    screenshot(page, "run-failed")
    problems_of(page).assert_none()
