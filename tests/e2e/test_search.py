"""Search in the browser: the results page on a phone and a desktop, `/` to search, `?`
for the list of shortcuts."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from catalog.models import Api, Operation, Parameter
from tests.e2e.conftest import new_page, param_input, problems_of, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def pets(live_server) -> Api:
    api = Api.objects.create(
        name="Pet Store", slug="petstore", service_url="https://api.example.com"
    )
    found = Operation.objects.create(
        api=api,
        slug="get-pet",
        name="Find pet by ID",
        operation_id="getPetById",
        url_template="/pets/{petId}/vaccinations/history/records?include=veterinarians,clinics",
        tags="pets",
        order=1,
    )
    Parameter.objects.create(operation=found, name="petId", location="template", required=True)
    Operation.objects.create(
        api=api,
        slug="list-orders",
        name="List orders",
        method="POST",
        url_template="/orders",
        description="Orders placed for a pet.",
        order=2,
    )
    return api


@pytest.mark.parametrize("width", [390, 1366])
def test_results_show_api_method_and_path_without_widening_the_page(
    browser: Browser, live_server, pets: Api, width: int
) -> None:
    context = browser.new_context(viewport={"width": width, "height": 900})
    try:
        page = new_page(context)
        page.goto(f"{live_server.url}/")
        page.get_by_role("searchbox", name="Search APIs and operations").fill("pet")
        page.get_by_role("button", name="Search").click()
        results = page.locator(".operation-result")
        expect(results).to_have_count(2)
        first = results.first
        expect(first.locator(".method")).to_have_text("GET")
        expect(first.locator(".operation-result-path")).to_be_visible()
        expect(first.locator(".operation-result-path")).to_have_text(
            "/pets/{petId}/vaccinations/history/records?include=veterinarians,clinics"
        )
        expect(first.locator(".operation-result-api")).to_have_text("Pet Store · pets")
        expect(results.nth(1).locator(".operation-name")).to_have_text("List orders")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        screenshot(page, f"search-results-{width}")
        first.locator(".operation-name").click()
        expect(page).to_have_url(f"{live_server.url}/apis/petstore/operations/get-pet/")
        problems_of(page).assert_none()
    finally:
        context.close()


def test_slash_focuses_the_search_box_except_while_typing(
    page: Page, live_server, pets: Api
) -> None:
    page.goto(f"{live_server.url}/")
    box = page.get_by_role("searchbox", name="Search APIs and operations")
    page.keyboard.press("/")
    expect(box).to_be_focused()
    expect(box).to_have_value("")  # the key focuses, it is not typed
    page.keyboard.type("a/b")
    expect(box).to_have_value("a/b")  # in the box, "/" is a character

    # The API page's own search box.
    page.goto(f"{live_server.url}/apis/petstore/")
    page.keyboard.press("/")
    expect(page.get_by_role("searchbox", name="Filter operations by name or path")).to_be_focused()

    # A page without one: the catalog's, focused.
    page.goto(f"{live_server.url}/products/")
    page.keyboard.press("/")
    expect(page).to_have_url(f"{live_server.url}/#search")
    expect(page.get_by_role("searchbox", name="Search APIs and operations")).to_be_focused()

    # In a form field of the operation page, "/" is typed.
    page.goto(f"{live_server.url}/apis/petstore/operations/get-pet/")
    field = param_input(page, "petId")
    field.fill("")
    field.press("/")
    expect(field).to_have_value("/")
    assert page.url == f"{live_server.url}/apis/petstore/operations/get-pet/"
    problems_of(page).assert_none()


def test_question_mark_lists_the_shortcuts_and_escape_closes_them(
    page: Page, live_server, pets: Api
) -> None:
    page.goto(f"{live_server.url}/apis/petstore/")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_hidden()
    page.keyboard.press("?")
    expect(dialog).to_be_visible()
    expect(dialog.locator("dt")).to_have_text(["/", "Ctrl + Enter or ⌘ + Enter", "?", "Esc"])
    expect(dialog.locator("dd").first).to_have_text(
        "Search (the page's search box, else the catalog's)"
    )
    screenshot(page, "shortcuts-dialog")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    page.keyboard.press("?")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()

    # Typed in a field, "?" is a character.
    box = page.get_by_role("searchbox", name="Filter operations by name or path")
    box.click()
    page.keyboard.type("?")
    expect(box).to_have_value("?")
    expect(dialog).to_be_hidden()
    problems_of(page).assert_none()
