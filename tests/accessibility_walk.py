"""The README's walk, page after page, for the accessibility test and bench.

`prepare_walk()` adds what the walk needs to a database where `manage.py load_demo` has
run: a staff account that signs in (WALKER, tests.factories.PASSWORD), subscribed to
Starter, with an environment and the demo collections. `walk()` then goes through the
pages in a browser, as a reader would (anonymous first, then signed in), and yields at
each stop with the page ready, for the caller to check it; `show_mode()` sets the width
and the system colour scheme in place, without reloading.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from playwright.sync_api import Page, ViewportSize, expect

from tests.axe import COLOUR_RULES

WALKER = "walker"
API_NAME = "AzureML Demo API"
OPERATION_NAME = "RRS Execute"
RUN_TIMEOUT_MS = 30_000


@dataclass(frozen=True)
class Mode:
    """A width and a system colour scheme."""

    width: int
    scheme: str

    @property
    def name(self) -> str:
        return f"{self.width}-{self.scheme}"

    @property
    def rules(self) -> tuple[str, ...]:
        """The axe rules to run: all of them in light; in dark, the colour rules (the
        markup and the layout are those of light at the same width)."""
        return COLOUR_RULES if self.scheme == "dark" else ()


WIDTHS = (1366, 390)
HEIGHT = {1366: 900, 390: 844}
MODES = tuple(Mode(width, scheme) for width in WIDTHS for scheme in ("light", "dark"))


def prepare_walk() -> None:
    """The walker's account, subscription, environment and collections."""
    from catalog.models import Api
    from console.models import Environment
    from demo.collection import create_demo_collection
    from gateway.models import Product
    from tests.factories import make_subscription, make_user

    walker = make_user(WALKER, staff=True)
    api = Api.objects.get(name=API_NAME)
    make_subscription(
        user=walker, product=Product.objects.get(slug="starter"), name="Starter for walker"
    )
    Environment.objects.create(
        owner=walker,
        name="Staging",
        variables=[
            {"name": "workspace", "value": "ws-staging", "secret": False},
            {"name": "region", "value": "westeurope", "secret": False},
        ],
    )
    create_demo_collection(owner=walker, api=api)


def show_mode(page: Page, mode: Mode) -> None:
    """The page at the mode's width, the system set to its colour scheme; where the page
    follows the system (the theme toggle on Auto), wait until it has, and until its
    transitions have ended."""
    page.set_viewport_size(ViewportSize(width=mode.width, height=HEIGHT[mode.width]))
    page.emulate_media(color_scheme=mode.scheme, reduced_motion="reduce")  # type: ignore[arg-type]
    page.wait_for_function(
        "scheme => !document.documentElement.hasAttribute('data-bs-theme')"
        " || document.documentElement.getAttribute('data-bs-theme') === scheme",
        arg=mode.scheme,
    )
    # Colours change through CSS transitions (the admin's links): measure once they end.
    page.wait_for_function(
        "() => document.getAnimations().every(animation => animation.playState !== 'running')"
    )


def _heading(page: Page, text: str | re.Pattern[str]) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(text)


def _htmx_settled(page: Page) -> None:
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"
    )


def _nav(page: Page, base_url: str, name: str) -> None:
    """A link of the navigation bar, followed whatever the width (a phone folds the menu)."""
    link = page.locator("nav.navbar a", has_text=re.compile(rf"^\s*{re.escape(name)}\s*$"))
    href = link.get_attribute("href")
    assert href, f"no {name} link in the navigation bar"
    page.goto(base_url + href)


def walk(page: Page, base_url: str) -> Iterator[str]:
    """Visit the walk's pages; yield each stop's name with its page shown."""
    from tests.factories import PASSWORD

    page.goto(base_url + "/")
    expect(page.get_by_role("link", name=API_NAME, exact=True)).to_be_visible()
    yield "catalog"

    page.get_by_role("link", name=API_NAME, exact=True).click()
    _heading(page, API_NAME)
    yield "api"

    page.get_by_role("link", name=re.compile(rf"\b{OPERATION_NAME}\b")).click()
    _heading(page, OPERATION_NAME)
    yield "operation"

    page.goto(base_url + "/accounts/signup/")
    _heading(page, "Create your account")
    yield "sign-up"

    page.goto(base_url + "/accounts/login/")
    page.locator("input[name=login]").fill(WALKER)
    page.locator("input[name=password]").fill(PASSWORD)
    yield "sign-in"
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("nav .navbar-text")).to_have_text(WALKER)

    page.goto(base_url + "/")
    page.get_by_role("link", name=API_NAME, exact=True).click()
    page.get_by_role("link", name=re.compile(rf"\b{OPERATION_NAME}\b")).click()
    _heading(page, OPERATION_NAME)
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#result [data-status]")).to_have_text("200 OK")
    _htmx_settled(page)
    yield "operation-result"

    _nav(page, base_url, "Products")
    _heading(page, "Products")
    yield "products"
    page.get_by_role("link", name="Starter", exact=True).click()
    _heading(page, "Starter")
    yield "product"

    _nav(page, base_url, "Subscriptions")
    yield "subscriptions"
    page.get_by_role("link", name="Starter for walker").first.click()
    _heading(page, "Starter for walker")
    yield "subscription"

    _nav(page, base_url, "History")
    expect(page.locator("table.history tbody tr")).to_have_count(1)
    yield "history"
    page.locator("table.history tbody tr").first.get_by_role("link", name="Open").click()
    _heading(page, f"{API_NAME}: {OPERATION_NAME}")
    yield "exchange"

    page.get_by_role("link", name="Save", exact=True).click()
    _heading(page, "Save request")
    page.get_by_label("New collection name").fill("Smoke")
    page.get_by_role("button", name="Save").click()
    _heading(page, OPERATION_NAME)
    yield "saved-request"

    # A replay whose body was changed: the diff lists what changed.
    page.get_by_role("link", name="Edit", exact=True).click()
    body = page.locator("textarea[name=body_text]")
    body.fill(body.input_value().replace("This is a good day", "This is a bad day"))
    page.get_by_role("button", name="Save").click()
    page.get_by_role("button", name="Replay").click()
    expect(page.locator("#replay-outcome [data-json-change]").first).to_be_visible()
    _htmx_settled(page)
    yield "saved-request-diff"

    _nav(page, base_url, "Collections")
    yield "collections"
    page.get_by_role("link", name="AzureML scoring").click()
    _heading(page, "AzureML scoring")
    yield "collection"
    page.get_by_role("button", name="Run collection").click()
    _heading(page, "Run of AzureML scoring")
    expect(page.locator("[data-run-status]")).to_have_attribute(
        "data-run-status", re.compile("passed|failed"), timeout=RUN_TIMEOUT_MS
    )
    _htmx_settled(page)
    yield "run"

    _nav(page, base_url, "Environments")
    yield "environments"
    page.goto(base_url + "/environments/new")
    yield "environment-new"

    _nav(page, base_url, "Analytics")
    _heading(page, "Analytics")
    yield "analytics"

    _nav(page, base_url, "Admin")
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    yield "admin"
