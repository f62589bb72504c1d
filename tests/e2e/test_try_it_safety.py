"""The outbound path's promises, seen from the browser (docs/design.md, "Security invariants").

A path value cannot climb out of its segment, the API key never reaches the page
outside the password input that holds it, and every page carries a CSP without
inline script.
"""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from django.conf import settings
from playwright.sync_api import Page, expect

from console.models import Exchange
from tests.e2e.conftest import (
    param_input,
    problems_of,
    requested_url,
    response_headers,
    response_json,
    result_status,
    screenshot,
    send,
)

pytestmark = pytest.mark.django_db(transaction=True)

RRS_PATH = "/apis/azureml-demo/operations/rrs-execute/"
MASK = "••••••"


def places_holding(html: str, secret: str) -> list[str]:
    """Where `secret` occurs in a page: text as "text", attributes as "tag[attr type=..]"."""
    soup = BeautifulSoup(html, "html.parser")
    found = []
    for text in soup.find_all(string=True):
        if secret in text:
            assert text.parent is not None
            found.append(f"text in <{text.parent.name}>")
    for element in soup.find_all(True):
        for attribute, value in element.attrs.items():
            values = value if isinstance(value, list) else [value]
            if any(secret in item for item in values):
                found.append(f"{element.name}[{attribute} type={element.get('type')}]")
    return found


def test_a_path_value_stays_in_its_segment(page: Page, live_server, live_demo_api) -> None:
    service_path = f"{live_server.url}/gateway/azureml-demo/workspaces"  # the public URL
    page.goto(live_server.url + RRS_PATH)

    # A value with dot segments is refused before anything is sent: a backend that
    # decodes %2F (as Django's own server does) would see "../../admin" as a traversal.
    before = Exchange.objects.count()
    param_input(page, "workspace").fill("../../admin")
    send(page)
    workspace = page.locator("#div_id_param-template-workspace")
    expect(workspace.locator(".invalid-feedback")).to_have_text(
        "'.' and '..' are not allowed as path segments."
    )
    expect(workspace.locator(".invalid-feedback")).to_be_visible()
    assert page.locator("#result").count() == 0
    assert Exchange.objects.count() == before
    expect(page.locator("body")).not_to_contain_text("Django administration")
    screenshot(page, "form-error-dot-segments")

    # A backend that decodes twice would read "..%2F..%2Fadmin" as "../../admin": refused
    # like the dots themselves, nothing sent.
    param_input(page, "workspace").fill("..%2F..%2Fadmin")
    send(page)
    expect(workspace.locator(".invalid-feedback")).to_have_text(
        "'.' and '..' are not allowed as path segments."
    )
    assert page.locator("#result").count() == 0
    assert Exchange.objects.count() == before

    # Slashes and the other delimiters are encoded into the one segment; the sample
    # backend answers in JSON (the encoded slashes match none of its routes).
    param_input(page, "workspace").fill("admin/x?y#z@w")
    send(page)
    assert requested_url(page) == (
        f"{service_path}/admin%2Fx%3Fy%23z%40w/services/text-features/execute"
        "?api-version=2.0&details=true"
    )
    assert result_status(page) == "404 Not Found"
    assert response_headers(page)["Content-Type"] == "application/json"
    assert response_json(page)["error"]["code"] == "NotFound"

    # Typed percent-escapes are themselves encoded, once: "%41%2Fadmin" arrives as that
    # literal text in the workspace segment, and the scoring service answers as usual.
    param_input(page, "workspace").fill("%41%2Fadmin")
    send(page)
    assert requested_url(page) == (
        f"{service_path}/%2541%252Fadmin/services/text-features/execute"
        "?api-version=2.0&details=true"
    )
    assert result_status(page) == "200 OK"
    assert response_headers(page)["Content-Type"] == "application/json"
    assert "Results" in response_json(page)

    # Never the portal's admin.
    result = page.locator("#result")
    expect(result).not_to_contain_text("Django administration")
    assert "/admin/login" not in result.inner_html()
    problems_of(page).assert_none()


def test_the_stored_api_key_is_never_in_the_page(page: Page, live_server, live_demo_api) -> None:
    key = settings.PORTAL_DEMO_API_KEY
    page.goto(live_server.url + RRS_PATH)
    # The Authorization row is empty: the server sends the stored key for it.
    authorization = page.get_by_label("Authorization value")
    expect(authorization).to_have_value("")
    expect(authorization).to_have_attribute("placeholder", "Stored value will be used")
    assert places_holding(page.content(), key) == []

    answer = send(page)

    assert result_status(page) == "200 OK"
    request_headers = page.locator("#result details").first
    request_headers.locator("summary").click()
    expect(request_headers.locator("pre").first).to_contain_text(f"Authorization: Bearer {MASK}")
    # Neither the partial htmx swapped in nor the page after the swap holds the key.
    assert places_holding(answer.text(), key) == []
    assert places_holding(page.content(), key) == []
    expect(authorization).to_have_value("")
    expect(page.get_by_label("Authorization value")).to_have_attribute("type", "password")
    screenshot(page, "result-panel-masked-request-headers")
    problems_of(page).assert_none()


def test_pages_carry_a_csp_without_inline_script(page: Page, live_server, live_demo_api) -> None:
    visited = page.goto(live_server.url + RRS_PATH)
    assert visited is not None
    assert visited.status == 200

    answer = send(page)
    assert result_status(page) == "200 OK"

    for response in (visited, answer):
        policy = response.headers["content-security-policy"]
        directives = {
            name: value
            for name, _, value in (part.strip().partition(" ") for part in policy.split(";"))
        }
        assert "'unsafe-inline'" not in policy, policy
        assert "'unsafe-eval'" not in policy, policy
        assert directives["script-src"] == "'self'"
        assert directives["frame-ancestors"] == "'none'"
        assert response.headers["x-frame-options"] == "DENY"
    problems_of(page).assert_none()
