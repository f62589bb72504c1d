"""Environments in a browser: the pages, and the batch guide with {{jobid}} carried by an
environment (Submit, save jobid, Start, Status, Delete), copy buttons and Ctrl+Enter."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import BrowserContext, Page, ViewportSize, expect

from console.models import Environment
from portal.secrets import decrypt, encrypt
from tests.e2e.conftest import (
    SCREENSHOTS,
    open_operation,
    param_input,
    problems_of,
    requested_url,
    response_json,
    result_status,
    screenshot,
    send,
    sign_in,
)
from tests.factories import make_user

pytestmark = pytest.mark.django_db(transaction=True)

API_NAME = "AzureML Demo API"
SECRET = "env-secret-value-0123456789abcdef"
POLL_SECONDS = 20
WIDTHS = {
    "phone": ViewportSize(width=390, height=844),
    "desktop": ViewportSize(width=1366, height=900),
}


def wait_for_swap(page: Page) -> None:
    page.locator("#try-it:not([data-stale])").wait_for(state="attached")
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"
    )


def test_environment_pages(page: Page, live_server) -> None:
    make_user("ada")
    sign_in(page, live_server.url, "ada")
    page.get_by_role("link", name="Environments").click()
    expect(page.locator("[data-no-environments]")).to_be_visible()
    page.get_by_role("link", name="New environment").click()
    page.locator("#id_name").fill("Staging")
    page.locator("input[name='var-0-name']").fill("jobid")
    page.locator("input[name='var-0-value']").fill("abc")
    page.locator("input[name='var-1-name']").fill("token")
    page.locator("input[name='var-1-value']").fill(SECRET)
    page.locator("input[name='var-1-secret']").check()
    page.get_by_role("button", name="+ Add variable").click()
    page.locator("input[name='var-2-name']").fill("region")
    page.locator("input[name='var-2-value']").fill("westeurope")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("[data-environment='Staging']")).to_contain_text("3 variables")
    for label, viewport in WIDTHS.items():
        page.set_viewport_size(viewport)
        screenshot(page, f"environments-list-{label}")

    page.locator("[data-environment='Staging']").click()
    secret_input = page.locator("input[name='var-1-value']")
    expect(secret_input).to_have_attribute("type", "password")
    expect(secret_input).to_have_value("")
    assert SECRET not in page.content()
    for label, viewport in WIDTHS.items():
        page.set_viewport_size(viewport)
        screenshot(page, f"environments-edit-{label}")
    # Saved again with the secret left empty: it keeps its value.
    page.get_by_role("button", name="Save").click()
    environment = Environment.objects.get(name="Staging")
    assert [v["name"] for v in environment.variables] == ["jobid", "token", "region"]
    assert environment.variables[1]["secret"] is True
    assert decrypt(environment.variables[1]["value"]) == SECRET
    problems_of(page).assert_none()


def test_batch_flow_with_an_environment(
    context: BrowserContext, page: Page, live_server, live_demo_api
) -> None:
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    user = make_user("ada")
    Environment.objects.create(
        owner=user,
        name="Batch",
        variables=[{"name": "token", "value": encrypt(SECRET), "secret": True}],
    )
    sign_in(page, live_server.url, "ada")
    jobs_url = (
        f"{live_server.url}/gateway/azureml-demo/workspaces/demo-workspace/services/"
        "text-features/jobs"
    )

    # Submit, with the environment chosen; its answer is the job id, a bare JSON string.
    open_operation(page, base_url=live_server.url, api_name=API_NAME, operation_name="BES Submit")
    page.get_by_label("Environment").select_option(label="Batch")
    send(page)
    assert result_status(page) == "200 OK"
    job_id = response_json(page)
    assert re.fullmatch(r"[0-9a-f]{32}", job_id), job_id

    # Copy: the requested URL and the body reach the clipboard as shown.
    page.locator("[data-copy-url]").click()
    expect(page.locator("[data-copy-url]")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == f"{jobs_url}?api-version=2.0"
    page.locator("[data-copy-body]").click()
    assert page.evaluate("navigator.clipboard.readText()") == f'"{job_id}"'
    expect(page.locator("[data-download]")).to_have_attribute(
        "href", re.compile(r"^/history/\d+/body$")
    )

    # Save it: named jobid (what Start, Status and Delete call it), in one click.
    save = page.locator("[data-save-value='']")
    expect(save.locator("input[name=name]")).to_have_value("jobid")
    expect(save.locator("select[name=environment]")).to_have_value(
        str(Environment.objects.get(name="Batch").pk)
    )
    save.get_by_role("button", name="Save as variable").click()
    expect(save.locator("[data-saved-variable]")).to_have_text("Saved as {{jobid}} in Batch.")
    for label, viewport in WIDTHS.items():
        page.set_viewport_size(viewport)
        screenshot(page, f"environments-result-panel-{label}")
        # The panel alone, to look at closely.
        page.locator("#result").screenshot(
            path=str(SCREENSHOTS / f"environments-result-panel-{label}-only.png"),
            caret="initial",
        )
    page.set_viewport_size(WIDTHS["desktop"])
    problems_of(page).assert_none()

    # Start: {{jobid}} in the field, the environment remembered, Ctrl+Enter sends.
    open_operation(page, base_url=live_server.url, api_name=API_NAME, operation_name="BES Start")
    expect(page.get_by_label("Environment")).to_have_value(
        str(Environment.objects.get(name="Batch").pk)
    )
    param_input(page, "jobid").fill("{{jobid}}")
    page.locator("#try-it").evaluate("card => { card.dataset.stale = 'yes'; }")
    param_input(page, "jobid").press("Control+Enter")
    wait_for_swap(page)
    assert result_status(page) == "200 OK"
    assert requested_url(page) == f"{jobs_url}/{job_id}/start?api-version=2.0"
    expect(param_input(page, "jobid")).to_have_value("{{jobid}}")

    # Status until Finished, the field still {{jobid}}.
    open_operation(page, base_url=live_server.url, api_name=API_NAME, operation_name="BES Status")
    param_input(page, "jobid").fill("{{jobid}}")
    deadline = time.monotonic() + POLL_SECONDS
    while True:
        send(page)
        status = response_json(page)
        if status["StatusCode"] == "Finished" or time.monotonic() > deadline:
            break
        expect(param_input(page, "jobid")).to_have_value("{{jobid}}")
        page.wait_for_timeout(200)
    assert status["StatusCode"] == "Finished"
    assert requested_url(page) == f"{jobs_url}/{job_id}?api-version=2.0"

    # Delete; then Status says the job is gone.
    open_operation(page, base_url=live_server.url, api_name=API_NAME, operation_name="BES Delete")
    param_input(page, "jobid").fill("{{jobid}}")
    send(page)
    assert result_status(page) == "200 OK"
    assert requested_url(page) == f"{jobs_url}/{job_id}?api-version=2.0"
    open_operation(page, base_url=live_server.url, api_name=API_NAME, operation_name="BES Status")
    param_input(page, "jobid").fill("{{jobid}}")
    send(page)
    assert result_status(page) == "404 Not Found"

    # An unknown variable: refused on its field, nothing sent.
    param_input(page, "jobid").fill("{{nojob}}")
    send(page)
    expect(page.locator("#result")).to_have_count(0)
    refusal = "{{nojob}} is not a variable of the environment Batch."
    expect(page.locator("#error_1_id_param-template-jobid")).to_have_text(refusal)
    assert SECRET not in page.content()
    problems_of(page).assert_none()
