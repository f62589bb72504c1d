"""Try it's Server select in Chromium: two local backends as two servers of one API."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, ViewportSize, expect

from catalog.models import Api, ApiServer, Operation
from catalog.registration import create_missing_template_parameters
from console.models import Exchange
from tests.backends import ScriptedServer, reply_with, scripted_server
from tests.e2e.conftest import (
    admin_log_in,
    param_input,
    problems_of,
    requested_url,
    response_text,
    result_status,
    screenshot,
    send,
)

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = ViewportSize(width=390, height=844)
LAPTOP = ViewportSize(width=1366, height=768)


def backend(text: str) -> Iterator[ScriptedServer]:
    answer = reply_with(200, headers=[("Content-Type", "text/plain")], body=text.encode())
    with scripted_server(answer) as server:
        yield server


@pytest.fixture
def production() -> Iterator[ScriptedServer]:
    yield from backend("answer from production")


@pytest.fixture
def sandbox() -> Iterator[ScriptedServer]:
    yield from backend("answer from the sandbox")


@pytest.fixture
def operation(production, sandbox) -> Operation:
    api = Api.objects.create(name="Regions", slug="regions", service_url=f"{production.url}/v1")
    ApiServer.objects.create(api=api, url=f"{sandbox.url}/v2", description="Sandbox")
    operation = Operation.objects.create(
        api=api, name="Get item", slug="get-item", method="GET", url_template="/items/{item}"
    )
    create_missing_template_parameters(operation=operation)
    return operation


def screenshots(page: Page, name: str) -> None:
    for label, viewport in (("1366", LAPTOP), ("390", PHONE)):
        page.set_viewport_size(viewport)
        screenshot(page, f"{name}-{label}")
    page.set_viewport_size(LAPTOP)


def test_pick_the_second_server_and_send(
    page: Page, live_server, operation, production, sandbox
) -> None:
    page.set_viewport_size(LAPTOP)
    page.goto(f"{live_server.url}/apis/regions/operations/get-item/")
    select = page.get_by_label("Server")
    expect(select.locator("option")).to_have_text(
        [f"{production.url}/v1", f"{sandbox.url}/v2 (Sandbox)"]
    )
    param_input(page, "item").fill("42")
    curl = page.locator("#sample-curl pre")
    expect(curl).to_contain_text(f"{production.url}/v1/items/42")

    select.select_option(label=f"{sandbox.url}/v2 (Sandbox)")
    # The samples follow the choice.
    expect(curl).to_contain_text(f"{sandbox.url}/v2/items/42")
    expect(curl).not_to_contain_text(production.url)
    send(page)
    assert result_status(page).startswith("200")
    assert requested_url(page) == f"{sandbox.url}/v2/items/42"
    assert "answer from the sandbox" in response_text(page)
    assert [r.target for r in sandbox.requests] == ["/v2/items/42"]
    assert production.connections == 0
    expect(page.get_by_label("Server")).to_have_value(str(operation.api.servers.get().pk))
    screenshots(page, "servers-second-chosen")

    # The next visit opens on the same server.
    page.reload()
    expect(page.get_by_label("Server")).to_have_value(str(operation.api.servers.get().pk))
    problems_of(page).assert_none()


def test_a_server_removed_while_the_page_is_open_is_refused(
    page: Page, live_server, operation, production, sandbox
) -> None:
    page.set_viewport_size(LAPTOP)
    page.goto(f"{live_server.url}/apis/regions/operations/get-item/")
    param_input(page, "item").fill("42")
    page.get_by_label("Server").select_option(label=f"{sandbox.url}/v2 (Sandbox)")
    operation.api.servers.all().delete()
    send(page)
    expect(page.locator("[data-server-error]")).to_contain_text("Nothing was sent.")
    expect(page.locator("[data-server-error]")).to_be_visible()
    assert page.locator("#result").count() == 0
    assert (production.connections, sandbox.connections) == (0, 0)
    assert Exchange.objects.count() == 0
    screenshots(page, "servers-removed-refused")


def test_try_again_sends_to_the_recorded_server_or_says_it_is_gone(
    page: Page, live_server, operation, production, sandbox
) -> None:
    page.set_viewport_size(LAPTOP)
    page.goto(f"{live_server.url}/apis/regions/operations/get-item/")
    param_input(page, "item").fill("42")
    page.get_by_label("Server").select_option(label=f"{sandbox.url}/v2 (Sandbox)")
    send(page)
    to_sandbox = Exchange.objects.get()
    # The session now remembers the service URL; Try again still opens on the sandbox.
    page.get_by_label("Server").select_option(label=f"{production.url}/v1")
    send(page)
    page.goto(f"{live_server.url}/history/{to_sandbox.pk}/")
    page.get_by_role("link", name="Try again").click()
    expect(page.get_by_label("Server")).to_have_value(str(operation.api.servers.get().pk))
    expect(page.locator("#sample-curl pre")).to_contain_text(f"{sandbox.url}/v2/items/42")
    send(page)
    assert [r.target for r in sandbox.requests] == ["/v2/items/42", "/v2/items/42"]

    # Removed since: said, none chosen, and a Send sends nothing.
    operation.api.servers.all().delete()
    page.goto(f"{live_server.url}/history/{to_sandbox.pk}/")
    page.get_by_role("link", name="Try again").click()
    expect(page.locator("[data-server-error]")).to_have_text(
        f"This request's server {sandbox.url}/v2 is no longer one of the API's servers."
    )
    expect(page.get_by_label("Server")).to_have_value("")
    screenshots(page, "servers-try-again-gone")
    send(page)
    expect(page.locator("[data-server-error]")).to_contain_text("Nothing was sent.")
    assert len(sandbox.requests) == 2 and len(production.requests) == 1
    problems_of(page).assert_none()


ADMIN = "servers-admin"
ADMIN_PASSWORD = "e2e-Servers-password-4711"


def test_the_admin_refuses_a_server_the_rules_refuse(
    page: Page, live_server, django_user_model, operation, sandbox
) -> None:
    django_user_model.objects.create_superuser(ADMIN, "admin@example.com", ADMIN_PASSWORD)
    admin_log_in(page, live_server.url, username=ADMIN, password=ADMIN_PASSWORD)
    page.set_viewport_size(LAPTOP)
    page.goto(f"{live_server.url}/admin/operations/api/{operation.api.pk}/change/")
    expect(page.locator("#id_servers-0-url")).to_have_value(f"{sandbox.url}/v2")
    page.locator("#servers-group").get_by_role(
        "button", name=re.compile("Add another server", re.I)
    ).click()
    page.locator("#id_servers-1-url").fill("http://169.254.169.254/latest")
    page.locator("#id_servers-1-description").fill("Metadata")
    page.locator("input[name=_save]").click()
    expect(page.locator(".errornote")).to_be_visible()
    expect(page.locator("#servers-group .errorlist")).to_have_text(
        "169.254.169.254 is a link-local or cloud metadata address and cannot be a backend."
    )
    assert list(operation.api.servers.values_list("url", flat=True)) == [f"{sandbox.url}/v2"]
    screenshots(page, "servers-admin-refused")
