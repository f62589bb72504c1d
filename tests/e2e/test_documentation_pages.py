"""An imported operation with Markdown-rich descriptions, in a browser at a phone's and
a laptop's width: the Markdown rendered, a long URL wrapped inside its box, the
responses in status order after the parameters."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from openapi.sync import import_openapi
from tests.catalog.test_documentation_rendering import DOCUMENT, LONG_URL
from tests.e2e.conftest import problems_of, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

# Every Markdown box whose content is wider than the box itself (it would push the page).
OVERFLOWING = """() => [...document.querySelectorAll('.markdown')]
    .filter(box => box.scrollWidth > box.clientWidth + 1)
    .map(box => box.className)"""


@pytest.mark.parametrize("width", [390, 1366])
def test_markdown_rich_operation_page(page: Page, live_server, width: int) -> None:
    api = import_openapi(document=DOCUMENT).api
    api.published = True
    api.save()
    operation = api.operations.get(operation_id="getOrder")
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(live_server.url + operation.get_absolute_url())

    description = page.locator(".col-xl-6 > .markdown").first
    expect(description.locator("em")).to_have_text("one")
    guide = description.get_by_role("link", name="the guide")
    expect(guide).to_have_attribute("href", LONG_URL)
    expect(guide).to_have_attribute("rel", "nofollow noopener")
    # The long URL, shown as it is, wraps inside the description's box.
    expect(description.get_by_role("link", name=LONG_URL)).to_be_visible()
    box = description.bounding_box()
    assert box is not None and box["x"] + box["width"] <= width
    assert page.evaluate(OVERFLOWING) == []

    expect(page.locator("[data-parameter-location]")).to_have_text(
        ["path", "query", "header", "cookie"]
    )
    expect(page.locator("[data-response] h3")).to_have_text(
        ["200 OK", "201 Created", "404 Not Found", "4XX Client error", "default Any other status"]
    )
    parameters = page.locator("#parameters-heading").bounding_box()
    default = page.locator("[data-response=default]").bounding_box()
    assert parameters and default and parameters["y"] < default["y"]
    screenshot(page, f"documentation-markdown-{width}")
    problems_of(page).assert_none()
