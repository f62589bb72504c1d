"""Array parameters in Chromium: items added with "Add item", one removed, options
chosen in a multi-select, then Send; the requested URL shows them as the style says."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from playwright.sync_api import Page, ViewportSize, expect

from openapi.sync import import_openapi
from tests.backends import ScriptedServer, reply_with, scripted_server
from tests.e2e.conftest import problems_of, requested_url, result_status, screenshot, send

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = ViewportSize(width=390, height=844)
LAPTOP = ViewportSize(width=1366, height=768)
SPEC = Path(__file__).resolve().parent.parent / "specs" / "oas30-parameters.yaml"


@pytest.fixture
def backend(settings) -> Iterator[ScriptedServer]:
    settings.PORTAL_OUTBOUND_ALLOWED_PORTS = ["*"]
    with scripted_server(reply_with(200, body=b"{}")) as server:
        import_openapi(
            document=yaml.safe_load(SPEC.read_text()), api_slug="params", service_url=server.url
        )
        yield server


def test_items_added_and_options_chosen_are_sent(page: Page, live_server, backend) -> None:
    page.set_viewport_size(LAPTOP)
    page.goto(f"{live_server.url}/apis/params/operations/arrays/")
    ids = page.locator("[data-items]:has(input[name=param-query-ids])")
    expect(ids.locator("input")).to_have_count(2)
    ids.get_by_role("button", name="+ Add item").click()
    expect(ids.locator("input")).to_have_count(3)
    expect(ids.locator("input").nth(2)).to_be_focused()
    page.keyboard.type("9")
    ids.get_by_role("button", name="Remove item").first.click()
    expect(ids.locator("input")).to_have_count(2)
    each = page.locator("[data-items]:has(input[name=param-query-each])")
    each.locator("input").fill("5")
    each.get_by_role("button", name="+ Add item").click()
    page.keyboard.type("6")
    page.locator("select[name=param-query-colours]").select_option(["red", "blue"])
    screenshot(page, "params-arrays-1366")
    page.set_viewport_size(PHONE)
    screenshot(page, "params-arrays-390")
    page.set_viewport_size(LAPTOP)
    send(page)
    assert result_status(page).startswith("200")
    expected = "/arrays?colours=red&colours=blue&ids=2%2C9&each=5&each=6"
    assert requested_url(page).endswith(expected)
    (request,) = backend.requests
    assert request.target == expected
    screenshot(page, "params-arrays-sent-1366")
    problems_of(page).assert_none()
