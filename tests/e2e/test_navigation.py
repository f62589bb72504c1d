"""The site's menu on a phone: it folds behind a button instead of widening the page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_menu_folds_on_a_narrow_screen(browser: Browser, live_server):
    context = browser.new_context(viewport={"width": 400, "height": 800})
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/")
        assert page.evaluate("document.documentElement.scrollWidth") <= 400
        products = page.get_by_role("link", name="Products")
        expect(products).to_be_hidden()

        page.get_by_role("button", name="Menu").click()
        expect(products).to_be_visible()
        screenshot(page, "navigation-phone-open")
        products.click()
        expect(page).to_have_url(f"{live_server.url}/products/")
    finally:
        context.close()


def test_the_menu_is_open_on_a_wide_screen(page, live_server):
    page.goto(f"{live_server.url}/")
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
    expect(page.get_by_role("link", name="Products")).to_be_visible()
