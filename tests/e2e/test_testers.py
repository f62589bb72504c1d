"""A tester's day, in a browser: send a call, find it in the history, save it into a
collection, replay it against its baseline, change it and see what changed, then run
the shipped batch collection and watch its progress."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from demo.collection import create_demo_collection
from tests.e2e.conftest import open_operation, problems_of, result_status, screenshot, send
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db(transaction=True)

API_NAME = "AzureML Demo API"
CHANGED_CELL = "$.Results.output1.value.Values[0][0]"
# A run's Status step polls the demo job (0.3 s) a second apart: a few seconds in all.
RUN_TIMEOUT_MS = 30_000


@pytest.fixture
def tester():
    return make_user("tess")


def sign_in(page: Page, base_url: str) -> None:
    """Through the portal's own sign-in page, as a tester who is not staff would."""
    page.goto(base_url + "/")
    page.get_by_role("link", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    page.locator("input[name=login]").fill("tess")
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("nav .navbar-text")).to_have_text("tess")
    problems_of(page).assert_none()


def replay(page: Page) -> None:
    page.get_by_role("button", name="Replay").click()
    page.locator("#replay-outcome").wait_for()


def test_save_replay_and_run(page: Page, live_server, live_demo_api, tester, settings) -> None:
    base = live_server.url
    sign_in(page, base)

    # Send a call from the operation's page.
    open_operation(page, base_url=base, api_name=API_NAME, operation_name="RRS Execute")
    send(page)
    assert result_status(page) == "200 OK"
    problems_of(page).assert_none()

    # It is in the history: operation, status, duration.
    page.locator("nav.navbar").get_by_role("link", name="History").click()
    rows = page.locator("table.history tbody tr")
    expect(rows).to_have_count(1)
    cells = rows.first.locator("td")
    expect(cells.nth(1)).to_contain_text(f"{API_NAME}: RRS Execute")
    expect(cells.nth(1)).to_contain_text("POST")
    expect(cells.nth(2)).to_have_text("200")
    expect(cells.nth(3)).to_have_text(re.compile(r"^\d+ ms$"))
    screenshot(page, "testers-history")
    problems_of(page).assert_none()

    # Open it and save it into a new collection.
    rows.first.get_by_role("link", name="Open").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{API_NAME}: RRS Execute")
    page.get_by_role("link", name="Save", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Save request")
    page.get_by_label("New collection name").fill("Smoke")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("RRS Execute")
    expect(page.locator("nav.breadcrumb, nav[aria-label=breadcrumb]")).to_contain_text("Smoke")
    expect(page.locator("table.saved-values")).to_contain_text("Bearer ••••••")
    problems_of(page).assert_none()

    # Replay: the new response beside the baseline, nothing changed, the status check held.
    replay(page)
    outcome = page.locator("#replay-outcome")
    expect(outcome.locator("[data-outcome]")).to_have_text("PASS")
    expect(outcome.locator("[data-diff-unchanged]")).to_contain_text("Nothing changed")
    expect(outcome.locator(".check-results li")).to_have_text(["✓ Status is 200"])
    expect(outcome.locator(".baseline")).to_contain_text("This is a good day")
    expect(outcome.locator("#result [data-status]")).to_have_text("200 OK")
    baseline_box = outcome.locator(".baseline").bounding_box()
    response_box = outcome.locator("#result").bounding_box()
    assert baseline_box and response_box
    assert response_box["x"] > baseline_box["x"] + baseline_box["width"] - 1, "not side by side"
    screenshot(page, "testers-saved-unchanged")
    problems_of(page).assert_none()

    # Change the body through Edit, replay: the diff names the JSON paths that changed.
    page.get_by_role("link", name="Edit", exact=True).click()
    body = page.locator("textarea[name=body_text]")
    screenshot(page, "testers-saved-edit")
    body.fill(body.input_value().replace("This is a good day", "This is a bad day"))
    page.get_by_role("button", name="Save").click()
    expect(page.locator("main pre").first).to_contain_text("This is a bad day")
    replay(page)
    expect(outcome.locator("[data-outcome]")).to_have_text("PASS")
    changes = outcome.locator("[data-json-change]")
    expect(changes.first).to_be_visible()
    paths = [item.get_attribute("data-json-change") or "" for item in changes.all()]
    assert CHANGED_CELL in paths
    assert all(path.startswith("$.Results.output1.value.Values[0][") for path in paths), paths
    expect(outcome.locator(f"[data-json-change='{CHANGED_CELL}']")).to_contain_text(
        "This is a good day → This is a bad day"
    )
    screenshot(page, "testers-saved-diff")
    problems_of(page).assert_none()

    # The shipped batch collection, run from its page in the background.
    settings.PORTAL_DEMO_JOB_SECONDS = 0.3
    settings.PORTAL_RUNS_IN_BACKGROUND = True
    create_demo_collection(owner=tester, api=live_demo_api)
    page.locator("nav.navbar").get_by_role("link", name="Collections").click()
    page.get_by_role("link", name="AzureML batch flow").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("AzureML batch flow")
    expect(page.locator("table.variables tr").first).to_contain_text(
        re.compile(r"\{\{api_key\}\}\s*•••••• secret")
    )
    screenshot(page, "testers-collection")
    problems_of(page).assert_none()
    page.get_by_role("button", name="Run collection").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Run of AzureML batch flow")
    status = page.locator("[data-run-status]")
    # htmx polls every second until the run has ended; the first look is mid-run.
    expect(status).to_have_attribute("data-run-status", re.compile("pending|running|passed"))
    screenshot(page, "testers-run-progress")
    expect(status).to_have_attribute("data-run-status", "passed", timeout=RUN_TIMEOUT_MS)
    expect(status).to_have_text("Passed")
    steps = page.locator("[data-step]")
    expect(steps).to_have_count(4)
    assert [step.get_attribute("data-step") for step in steps.all()] == [
        "BES Submit",
        "BES Start",
        "BES Status",
        "BES Delete",
    ]
    expect(steps.locator(".badge").filter(has_text=re.compile("^(PASS|FAIL)$"))).to_have_text(
        ["PASS"] * 4
    )
    expect(page.locator("[data-run-progress]")).to_have_text("4 of 4 requests done, all passed")
    expect(page.locator("[data-run-bar]")).to_have_css("background-color", "rgb(25, 135, 84)")
    # Polling stopped with the run.
    expect(page.locator("#run-progress[hx-get]")).to_have_count(0)
    page.wait_for_timeout(1500)
    expect(page.locator("#run-progress")).to_have_count(1)
    screenshot(page, "testers-run-passed")
    problems_of(page).assert_none()

    # The collection's edit page: variables (the secret one empty) and sharing.
    page.get_by_role("link", name="AzureML batch flow").click()
    page.get_by_role("link", name="Edit, variables and sharing").click()
    secret = page.locator(".variable-row input[type=password]")
    expect(secret).to_have_count(1)
    expect(secret).to_have_value("")
    screenshot(page, "testers-collection-edit")
    problems_of(page).assert_none()
