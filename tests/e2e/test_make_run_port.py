"""The quick start on a portal served the way `make run PORT=<port>` serves it, on a port
other than 8000 (tests/demo_server.py): the settings come from the .env the Makefile
writes, the confirmation mail is read from the server's output as a newcomer reads it
from the terminal, and RRS Execute reaches the demo backend on the portal's own port.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.demo_server import DemoPortal, demo_portal
from tests.e2e.conftest import problems_of, response_json, result_status, send

USERNAME = "newcomer"
PASSWORD = "a long passphrase for the quick start"
HASHED_COLUMNS = [f"Col2_HashingFeature.{index}" for index in range(8)]


@pytest.fixture(scope="module")
def portal(tmp_path_factory) -> Iterator[DemoPortal]:
    with demo_portal(tmp_path_factory.mktemp("make-run")) as served:
        yield served


def nav(page: Page):
    return page.locator("nav.navbar")


def sign_up_and_confirm(page: Page, portal: DemoPortal) -> None:
    page.goto(portal.url + "/")
    nav(page).get_by_role("link", name="Sign up").click()
    page.locator("input[name=username]").fill(USERNAME)
    page.locator("input[name=email]").fill(f"{USERNAME}@example.com")
    page.locator("input[name=password1]").fill(PASSWORD)
    page.locator("input[name=password2]").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    # The console email backend prints the mail where `make run` runs.
    link = re.compile(rf"{re.escape(portal.url)}/accounts/confirm/[^/\s]+/")
    page.goto(portal.output.wait_for(link).group(0))
    page.get_by_role("button", name="Confirm").click()
    expect(page).to_have_url(portal.url + "/accounts/profile/")
    expect(nav(page).locator(".navbar-text")).to_have_text(USERNAME)


def subscribe_to_starter(page: Page) -> str:
    nav(page).get_by_role("link", name="Products").click()
    page.get_by_role("link", name="Starter", exact=True).click()
    page.get_by_label("I accept the terms of use").check()
    page.get_by_role("button", name="Subscribe").click()
    expect(page.locator(".subscription-message")).to_have_text(
        "You are subscribed to Starter: your keys work now."
    )
    return f"Starter for {USERNAME} (Starter)"


def expect_selected(page: Page, subscription: str) -> None:
    """The Try it form opens with the newcomer's only subscription chosen."""
    select = page.locator("[data-subscription-choice]").get_by_role("combobox")
    expect(select.locator("option:checked")).to_have_text(subscription)


def test_the_quick_start_on_another_port_scores_a_row(page: Page, portal: DemoPortal) -> None:
    sign_up_and_confirm(page, portal)
    subscription = subscribe_to_starter(page)

    nav(page).get_by_role("link", name="APIs").click()
    page.get_by_role("link", name="AzureML Demo API", exact=True).click()
    page.get_by_role("link", name=re.compile(r"\bRRS Execute\b")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("RRS Execute")
    expect_selected(page, subscription)
    send(page)

    assert result_status(page) == "200 OK"
    # The demo API called the demo backend on the portal's own port, which development
    # allows backends to use.
    backend = f"{portal.url}/demo-backend/workspaces/demo-workspace/services/text-features"
    portal.output.wait_for(
        re.compile(
            rf"outbound POST {re.escape(backend)}/execute\?api-version=2\.0&details=true -> 200 "
        )
    )
    table = response_json(page)["Results"]["output1"]["value"]
    assert table["ColumnNames"] == ["Col2", *HASHED_COLUMNS]
    assert table["Values"] == [["This is a good day", "2", "1", "1", "1", "0", "0", "1", "3"]]
    expect(page.locator("#result [data-gateway-usage]")).to_contain_text(
        "Rate limit: 4 of 5 calls left (per 60 s)"
    )
    problems_of(page).assert_none()
