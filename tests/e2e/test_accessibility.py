"""Accessibility, judged by axe-core: every page of the README's walk at 1366 and 390 px,
in light and in dark, has no serious or critical violation; the skip link, visible focus,
and the colour modes' toggle (remembered per browser, Auto following the system)."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from playwright.sync_api import Browser, Page, expect

from tests.accessibility_walk import MODES, prepare_walk, show_mode, walk
from tests.axe import blocking_violations, report, run_axe
from tests.e2e.conftest import TIMEOUT_MS, VIEWPORT, new_page

pytestmark = pytest.mark.django_db(transaction=True)

RRS_PATH = "/apis/azureml-demo/operations/rrs-execute/"


@pytest.fixture
def walk_ready(live_server, settings) -> None:
    """`manage.py load_demo` as `make run` does, and the walker's account and data."""
    settings.PORTAL_DEMO_BACKEND_URL = f"{live_server.url}/demo-backend"
    settings.PORTAL_SITE_URL = live_server.url
    call_command("load_demo", verbosity=0)
    prepare_walk()


def test_every_page_of_the_walk_has_no_serious_or_critical_violation(
    page: Page, live_server, walk_ready
) -> None:
    failures: dict[str, str] = {}
    stops = []
    for stop in walk(page, live_server.url):
        stops.append(stop)
        for mode in MODES:
            show_mode(page, mode)
            violations = blocking_violations(page, rules=mode.rules)
            if violations:
                failures[f"{stop} at {mode.name}"] = report(violations)
    assert stops == [
        "catalog",
        "api",
        "operation",
        "sign-up",
        "sign-in",
        "operation-result",
        "products",
        "product",
        "subscriptions",
        "subscription",
        "history",
        "exchange",
        "saved-request",
        "saved-request-diff",
        "collections",
        "collection",
        "run",
        "environments",
        "environment-new",
        "analytics",
        "admin",
    ]
    assert failures == {}, "\n".join(f"{where}:\n{text}" for where, text in failures.items())


def test_axe_names_the_rule_the_element_and_why(page: Page) -> None:
    page.set_content(
        '<!doctype html><html lang="en"><head><title>t</title></head><body><main>'
        '<h1>Form</h1><p class="faint">faint text</p><input id="nameless"></main></body></html>'
    )
    page.add_style_tag(content=".faint { color: #aaaaaa; background: #ffffff; }")

    violations = {violation.rule: violation for violation in run_axe(page)}

    assert violations["color-contrast"].impact == "serious"
    assert violations["color-contrast"].targets == ("p",)
    assert violations["label"].impact == "critical"
    assert violations["label"].targets == ("#nameless",)
    assert report([violations["color-contrast"]]) == (
        "color-contrast (serious): Elements must meet minimum color contrast ratio "
        "thresholds; p (Element has insufficient color contrast of 2.32 (foreground "
        "color: #aaaaaa, background color: #ffffff, font size: 12.0pt (16px), font weight: "
        "normal). Expected contrast ratio of 4.5:1)"
    )


def test_the_skip_link_is_the_first_stop_and_leads_to_the_content(
    page: Page, live_server, live_demo_api
) -> None:
    page.goto(live_server.url + RRS_PATH)
    skip = page.get_by_role("link", name="Skip to content")
    box = skip.bounding_box()
    assert box and box["y"] + box["height"] <= 0, "the skip link shows before it is focused"

    page.keyboard.press("Tab")

    expect(skip).to_be_focused()
    box = skip.bounding_box()
    assert box and box["y"] >= 0 and box["height"] > 0, "the focused skip link is not shown"
    page.keyboard.press("Enter")
    expect(page.locator("main#content")).to_be_focused()
    page.keyboard.press("Tab")
    # The next stop is inside the content, past the navigation bar.
    assert page.evaluate("document.activeElement.closest('main') !== null")


FOCUS_STYLE = """() => {
  const style = getComputedStyle(document.activeElement);
  const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2;
  return {tag: document.activeElement.outerHTML.slice(0, 80),
          end: document.activeElement === document.body,
          shown: outline || style.boxShadow !== 'none'};
}"""


def test_every_element_the_keyboard_reaches_shows_its_focus(
    page: Page, live_server, live_demo_api
) -> None:
    page.goto(live_server.url + RRS_PATH)
    unmarked = []
    reached = 0
    for _ in range(200):
        page.keyboard.press("Tab")
        focus = page.evaluate(FOCUS_STYLE)
        if focus["end"]:
            break
        reached += 1
        if not focus["shown"]:
            unmarked.append(focus["tag"])
    # The navigation bar, the documentation's boxes, the whole Try it form, the samples.
    assert reached > 40
    assert unmarked == []


def theme(page: Page) -> str | None:
    return page.locator("html").get_attribute("data-bs-theme")


def choose_theme(page: Page, name: str) -> None:
    page.get_by_role("button", name="Theme").click()
    page.get_by_role("button", name=name, exact=True).click()


def test_the_theme_choice_is_remembered_across_a_reload(
    browser: Browser, live_server, live_demo_api
) -> None:
    context = browser.new_context(viewport=VIEWPORT, color_scheme="light")
    try:
        page = new_page(context)
        page.goto(live_server.url + "/")
        assert theme(page) == "light"
        expect(page.get_by_role("button", name="Theme")).to_have_accessible_name("Theme: Auto")

        choose_theme(page, "Dark")

        assert theme(page) == "dark"
        expect(page.get_by_role("button", name="Theme")).to_have_accessible_name("Theme: Dark")
        page.reload()
        assert theme(page) == "dark"
        page.goto(live_server.url + RRS_PATH)
        assert theme(page) == "dark"
        page.get_by_role("button", name="Theme").click()
        expect(page.get_by_role("button", name="Dark", exact=True)).to_have_attribute(
            "aria-pressed", "true"
        )
        expect(page.get_by_role("button", name="Light", exact=True)).to_have_attribute(
            "aria-pressed", "false"
        )
        # The page's own background follows: Bootstrap's dark body, not the light grey.
        assert page.evaluate("getComputedStyle(document.body).backgroundColor") == (
            "rgb(22, 25, 29)"
        )
    finally:
        context.close()


def test_auto_follows_the_system_colour_scheme(
    browser: Browser, live_server, live_demo_api
) -> None:
    context = browser.new_context(viewport=VIEWPORT, color_scheme="dark")
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = new_page(context)
        page.goto(live_server.url + "/")
        assert theme(page) == "dark"
        assert page.locator("html").get_attribute("data-theme-choice") == "auto"

        page.emulate_media(color_scheme="light")
        expect(page.locator("html")).to_have_attribute("data-bs-theme", "light")
        page.emulate_media(color_scheme="dark")
        expect(page.locator("html")).to_have_attribute("data-bs-theme", "dark")

        # A choice of Light holds whatever the system says.
        choose_theme(page, "Light")
        page.emulate_media(color_scheme="dark")
        page.reload()
        assert theme(page) == "light"
        # Auto again: the system's dark.
        choose_theme(page, "Auto (follow the system)")
        assert theme(page) == "dark"
    finally:
        context.close()


def test_the_mode_is_set_before_the_first_paint(page: Page, live_server) -> None:
    """theme.js runs in <head>, before the stylesheets, neither deferred nor async."""
    page.goto(live_server.url + "/")
    first = page.evaluate(
        """() => {
          const head = [...document.head.children];
          const script = head.find(el => el.src && el.src.endsWith('/js/theme.js'));
          const sheet = head.findIndex(el => el.rel === 'stylesheet');
          return {index: head.indexOf(script), sheet, defer: script.defer, async: script.async};
        }"""
    )
    assert first["index"] >= 0
    assert first["index"] < first["sheet"]
    assert (first["defer"], first["async"]) == (False, False)
