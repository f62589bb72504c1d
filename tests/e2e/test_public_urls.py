"""One public URL, in a browser: a developer is told the gateway's URL on the operation
page and in the result panel, and only staff see the backend's, labelled."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import problems_of, requested_url, result_status, screenshot, send, sign_in
from tests.factories import make_user

pytestmark = pytest.mark.django_db(transaction=True)

RRS_PATH = "/apis/azureml-demo/operations/rrs-execute/"


@pytest.mark.parametrize("staff", [False, True], ids=["developer", "staff"])
def test_the_gateway_url_is_the_one_a_developer_is_told(
    page: Page, live_server, live_demo_api, staff
) -> None:
    username = "boss" if staff else "ada"
    make_user(username, staff=staff)
    sign_in(page, live_server.url, username)
    page.goto(live_server.url + RRS_PATH)
    gateway = f"{live_server.url}/gateway/azureml-demo/workspaces"
    backend = f"{live_server.url}/demo-backend/workspaces"
    expect(page.locator("[data-operation-url]")).to_have_text(
        f"{gateway}/{{workspace}}/services/{{service}}/execute"
        "?api-version={apiversion}&details={details}"
    )
    send(page)
    assert result_status(page) == "200 OK"
    assert requested_url(page) == (
        f"{gateway}/demo-workspace/services/text-features/execute?api-version=2.0&details=true"
    )
    backend_lines = page.locator("[data-backend-url]")
    if staff:
        expect(backend_lines).to_have_count(2)  # the operation's URL and the call's
        expect(backend_lines.nth(1)).to_have_text(
            "Backend (staff only): "
            f"{backend}/demo-workspace/services/text-features/execute"
            "?api-version=2.0&details=true"
        )
    else:
        expect(backend_lines).to_have_count(0)
        assert "/demo-backend/" not in page.content()
    screenshot(page, f"public-url-{'staff' if staff else 'developer'}")
    problems_of(page).assert_none()
