"""Registering an API in the admin, then trying it from the catalog, in a browser.

The README's path for admins: add an API (name, slug, service URL), add an operation
with a URL template and "Create missing parameters from the template" ticked, describe
the parameters, and the operation can be tried from the catalog at once.
"""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from catalog.models import Api, Operation, ParameterLocation
from demo.registration import SCORING_INPUT
from tests.e2e.conftest import (
    admin_log_in,
    open_operation,
    param_input,
    problems_of,
    requested_url,
    response_json,
    result_status,
    screenshot,
    send,
)

pytestmark = pytest.mark.django_db(transaction=True)

USERNAME = "portal-admin"
PASSWORD = "e2e-Admin-password-4711"
TEMPLATE = "/workspaces/{workspace}/services/{service}/execute?api-version={apiversion}"
HASHED_COLUMNS = [f"Col2_HashingFeature.{index}" for index in range(8)]


def error_list(page: Page) -> str:
    return " ".join(page.locator(".errorlist").all_inner_texts())


def test_register_an_api_in_the_admin_and_try_it(
    page: Page, live_server, django_user_model
) -> None:
    django_user_model.objects.create_superuser(USERNAME, "admin@example.com", PASSWORD)
    admin_log_in(page, live_server.url, username=USERNAME, password=PASSWORD)

    # --- the API: a service URL with a user name and password is refused ---------------
    page.goto(live_server.url + "/admin/operations/api/add/")
    page.locator("#id_name").fill("Scoring copy")
    # Leaving the name fills the slug in (the admin's prepopulated field).
    page.locator("#id_name").press("Tab")
    expect(page.locator("#id_slug")).to_have_value("scoring-copy")
    page.locator("#id_service_url").fill("http://user:pw@127.0.0.1/x")
    page.locator("input[name=_save]").click()
    expect(page.locator(".errornote")).to_be_visible()
    assert "The service URL cannot contain a user name or password." in error_list(page)
    assert not Api.objects.filter(slug="scoring-copy").exists()
    screenshot(page, "admin-api-error-user-info")

    page.locator("#id_service_url").fill(f"{live_server.url}/demo-backend")
    page.locator("input[name=_save]").click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    api = Api.objects.get(slug="scoring-copy")
    assert (api.name, api.service_url, api.published) == (
        "Scoring copy",
        f"{live_server.url}/demo-backend",
        True,
    )

    # --- the operation: a template that does not parse names the position --------------
    page.goto(live_server.url + "/admin/operations/operation/add/")
    page.locator("#id_api").select_option(label="Scoring copy")
    page.locator("#id_name").fill("Execute copy")
    page.locator("#id_name").press("Tab")
    expect(page.locator("#id_slug")).to_have_value("execute-copy")
    page.locator("#id_method").select_option("POST")
    page.locator("#id_url_template").fill("/a/{x")
    expect(page.locator("#id_create_missing_parameters")).to_be_checked()
    # The Authorization header, added in the inline before the first save.
    page.get_by_role("button", name="Add another Parameter").click()
    page.locator("#id_parameters-0-name").fill("Authorization")
    page.locator("#id_parameters-0-location").select_option(ParameterLocation.HEADER.value)
    page.locator("#id_parameters-0-required").check()
    page.locator("#id_parameters-0-default").fill(f"Bearer {settings.PORTAL_DEMO_API_KEY}")
    page.locator("#id_parameters-0-secret").check()
    page.locator("input[name=_save]").click()

    expect(page.locator(".errornote")).to_be_visible()
    template_errors = page.locator(".field-url_template .errorlist").inner_text()
    assert template_errors.startswith("The URL template does not parse:"), template_errors
    assert "at position" in template_errors
    assert not Operation.objects.filter(slug="execute-copy").exists()
    screenshot(page, "admin-operation-error-template")

    # Fixed, saved with "Create missing parameters from the template" still ticked.
    page.locator("#id_url_template").fill(TEMPLATE)
    expect(page.locator("#id_create_missing_parameters")).to_be_checked()
    expect(page.locator("#id_parameters-0-name")).to_have_value("Authorization")
    page.locator("input[name=_continue]").click()
    expect(page.locator(".messagelist")).to_contain_text(
        "Created parameters from the template: workspace, service, apiversion."
    )
    operation = Operation.objects.get(api=api, slug="execute-copy")
    assert (operation.method, operation.url_template) == ("POST", TEMPLATE)
    assert [(p.name, p.location, p.required, p.secret) for p in operation.parameters.all()] == [
        ("Authorization", "header", True, True),
        ("workspace", "template", True, False),
        ("service", "template", True, False),
        ("apiversion", "template", False, False),
    ]

    # The created parameters are described in the inline: apiversion defaults to 2.0.
    apiversion_row = page.locator(
        "tr.form-row", has=page.locator("input[name$='-name'][value=apiversion]")
    )
    apiversion_row.locator("input[name$='-default']").fill("2.0")
    page.locator("input[name=_save]").click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    assert operation.parameters.get(name="apiversion").default == "2.0"
    screenshot(page, "admin-operation-list")
    # The admin's pages ran without CSP violations, script errors or missing files.
    assert problems_of(page).page_errors == []
    assert problems_of(page).console_errors == []
    problems_of(page).clear()

    # --- the catalog: the new API is there and its operation answers --------------------
    open_operation(
        page, base_url=live_server.url, api_name="Scoring copy", operation_name="Execute copy"
    )
    expect(param_input(page, "apiversion")).to_have_value("2.0")
    # The secret header's default is in a password input, not shown in the docs.
    expect(page.get_by_label("Authorization value")).to_have_attribute("type", "password")
    param_input(page, "workspace").fill("copy-ws")
    param_input(page, "service").fill("copy-svc")
    page.get_by_label("Body (application/json)").fill(json.dumps(SCORING_INPUT))
    send(page)

    assert result_status(page) == "200 OK"
    assert requested_url(page) == (
        f"{live_server.url}/demo-backend/workspaces/copy-ws/services/copy-svc/execute"
        "?api-version=2.0"
    )
    table = response_json(page)["Results"]["output1"]["value"]
    assert table["ColumnNames"] == ["Col2", *HASHED_COLUMNS]
    [row] = table["Values"]
    assert row[0] == "This is a good day"
    assert sum(int(count) for count in row[1:]) == 9
    screenshot(page, "admin-registered-api-result")
    problems_of(page).assert_none()
