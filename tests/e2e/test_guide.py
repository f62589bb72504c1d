"""The guide, in a browser: catalog -> AzureML Demo API -> RRS Execute -> Send.

Also what the Try it console does with hostile or broken input: an HTML answer is
shown as text, bad JSON and missing values are form errors (nothing is sent), a
refused header is named, and a backend that is down is an error panel, not a 500.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from catalog.models import Api, Operation
from catalog.registration import create_missing_template_parameters
from console.models import Exchange
from tests.backends import reply_with, scripted_server
from tests.e2e.conftest import (
    param_input,
    problems_of,
    requested_url,
    response_headers,
    response_json,
    response_text,
    result_status,
    screenshot,
    send,
)

pytestmark = pytest.mark.django_db(transaction=True)

RRS_PATH = "/apis/azureml-demo/operations/rrs-execute/"
HASHED_COLUMNS = [f"Col2_HashingFeature.{index}" for index in range(8)]
HOSTILE_HTML = b'<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'


def register_scripted_api(service_url: str, *, slug: str, method: str = "GET") -> Operation:
    api = Api.objects.create(name=f"Scripted {slug}", slug=slug, service_url=service_url)
    operation = Operation.objects.create(
        api=api,
        name="Fetch page",
        slug="fetch-page",
        method=method,
        url_template="/pages/{page}",
        request_content_type="application/json",
    )
    create_missing_template_parameters(operation=operation)
    return operation


def assert_hashed_table(body: dict[str, Any]) -> None:
    table = body["Results"]["output1"]["value"]
    assert table["ColumnNames"] == ["Col2", *HASHED_COLUMNS]
    [row] = table["Values"]
    assert row[0] == "This is a good day"
    counts = [int(count) for count in row[1:]]
    assert len(counts) == 8
    assert sum(counts) == 9


def test_guide_rrs_execute_shows_the_hashed_features_without_reloading(
    page: Page, live_server, live_demo_api
) -> None:
    page.goto(live_server.url + "/")
    expect(page.get_by_role("link", name="AzureML Demo API", exact=True)).to_be_visible()
    screenshot(page, "catalog")

    page.get_by_role("link", name="AzureML Demo API", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("AzureML Demo API")
    screenshot(page, "api-page")

    page.get_by_role("link", name="RRS Execute").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("RRS Execute")
    assert page.url == live_server.url + RRS_PATH
    screenshot(page, "operation-page")

    # The documented parameters are labelled with their names; required ones are starred.
    expect(page.locator("label[for=id_param-template-workspace]")).to_have_text("workspace*")
    expect(page.locator("label[for=id_param-template-details]")).to_have_text("details")
    param_input(page, "workspace").fill("ws-e2e")
    param_input(page, "service").fill("svc-e2e")
    param_input(page, "apiversion").select_option("2.0")
    param_input(page, "details").select_option("true")

    page.evaluate("window.__marker = 1")
    answer = send(page)

    assert answer.status == 200
    assert page.evaluate("window.__marker") == 1, "the page reloaded instead of an htmx swap"
    assert page.url == live_server.url + RRS_PATH
    expect(page.locator("#result")).to_be_visible()
    assert result_status(page) == "200 OK"
    assert requested_url(page) == (
        f"{live_server.url}/gateway/azureml-demo/workspaces/ws-e2e/services/svc-e2e/execute"
        "?api-version=2.0&details=true"
    )
    assert response_headers(page)["Content-Type"] == "application/json"

    highlighted = page.locator('#result [data-body-kind="json"]')
    for column in HASHED_COLUMNS:
        expect(highlighted).to_contain_text(f'"{column}"')
    assert highlighted.locator("span").count() > 0, "the JSON was not highlighted"
    assert_hashed_table(response_json(page))

    # The swapped-in form kept what was typed.
    expect(param_input(page, "workspace")).to_have_value("ws-e2e")
    expect(param_input(page, "service")).to_have_value("svc-e2e")
    expect(param_input(page, "apiversion")).to_have_value("2.0")
    expect(param_input(page, "details")).to_have_value("true")

    screenshot(page, "result-panel")
    problems_of(page).assert_none()


def test_guide_without_javascript_answers_the_whole_page(
    no_js_page: Page, live_server, live_demo_api
) -> None:
    page = no_js_page
    page.goto(live_server.url + RRS_PATH)
    param_input(page, "workspace").fill("ws-nojs")

    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Send").click()

    assert navigation.value.status == 200
    assert page.url == live_server.url + RRS_PATH + "try"
    # The whole page, not the partial: the site's navigation bar and the heading are there.
    expect(page.get_by_role("link", name="API portal")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("RRS Execute")
    assert result_status(page) == "200 OK"
    assert requested_url(page) == (
        f"{live_server.url}/gateway/azureml-demo/workspaces/ws-nojs/services/text-features/"
        "execute?api-version=2.0&details=true"
    )
    assert_hashed_table(response_json(page))
    expect(param_input(page, "workspace")).to_have_value("ws-nojs")
    screenshot(page, "result-panel-no-javascript")
    problems_of(page).assert_none()


def test_an_html_answer_is_shown_as_text_and_runs_nothing(page: Page, live_server) -> None:
    handler = reply_with(
        200, headers=[("Content-Type", "text/html; charset=utf-8")], body=HOSTILE_HTML
    )
    with scripted_server(handler) as backend:
        operation = register_scripted_api(backend.url, slug="html-backend")
        page.goto(live_server.url + operation.get_absolute_url())
        param_input(page, "page").fill("home")
        answer = send(page)
        # Give an <img onerror> the time to fire, were there one.
        page.wait_for_timeout(300)

    assert [request.target for request in backend.requests] == ["/pages/home"]
    assert result_status(page) == "200 OK"
    body = page.locator('#result [data-body-kind="text"]')
    expect(body).to_be_visible()
    expect(body).to_contain_text("<script>window.__pwned=1</script>")
    assert response_text(page) == HOSTILE_HTML.decode()
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.locator("#result img").count() == 0
    assert page.locator("#result script").count() == 0
    # The partial htmx received carried the markup as escaped text only.
    partial = answer.text()
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in partial
    assert "<script>window.__pwned" not in partial
    assert "<img src=x" not in partial
    screenshot(page, "result-panel-html-as-text")
    problems_of(page).assert_none()


def test_invalid_json_body_is_a_form_error_and_nothing_is_sent(
    page: Page, live_server, live_demo_api
) -> None:
    page.goto(live_server.url + RRS_PATH)
    page.get_by_label("Body (application/json)").fill('{\n  "Inputs": {\n    "input1": ,\n  }\n}')
    before = Exchange.objects.count()

    answer = send(page)

    assert answer.status == 200
    expect(page.locator("#div_id_body")).to_contain_text(
        "Invalid JSON: Expecting value at line 3, column 15."
    )
    expect(page.get_by_label("Body (application/json)")).to_have_class(
        "textarea form-control is-invalid"
    )
    assert page.locator("#result").count() == 0
    assert Exchange.objects.count() == before
    screenshot(page, "form-error-invalid-json")
    problems_of(page).assert_none()


def test_a_missing_required_parameter_is_an_error_on_its_field(
    page: Page, live_server, live_demo_api
) -> None:
    page.goto(live_server.url + RRS_PATH)
    param_input(page, "workspace").fill("")
    before = Exchange.objects.count()

    send(page)

    expect(page.locator("#div_id_param-template-workspace")).to_contain_text(
        "This field is required."
    )
    expect(param_input(page, "workspace")).to_have_class("textinput form-control is-invalid")
    expect(page.locator("#div_id_param-template-service .invalid-feedback")).to_have_count(0)
    assert page.locator("#result").count() == 0
    assert Exchange.objects.count() == before
    problems_of(page).assert_none()


def test_a_host_header_row_is_refused(page: Page, live_server, live_demo_api) -> None:
    page.goto(live_server.url + RRS_PATH)
    rows_before = page.locator("input[name=header_name]").count()
    page.get_by_role("button", name="+ Add header").click()
    assert page.locator("input[name=header_name]").count() == rows_before + 1
    # The new row's name input has the focus, as a user would type.
    page.keyboard.type("Host")
    page.locator("input[name=header_value]").last.fill("evil.example")
    before = Exchange.objects.count()

    send(page)

    expect(page.locator("#header-errors")).to_have_text(
        "The portal sets Host itself; it cannot be sent."
    )
    assert page.locator("#result").count() == 0
    assert Exchange.objects.count() == before
    # The refused row is still there to be fixed.
    expect(page.locator("input[name=header_name][value=Host]")).to_have_count(1)
    screenshot(page, "form-error-host-header")
    problems_of(page).assert_none()


def test_a_backend_that_is_down_is_an_error_panel(page: Page, live_server) -> None:
    operation = register_scripted_api("http://127.0.0.1:9", slug="down-backend")
    page.goto(live_server.url + operation.get_absolute_url())
    param_input(page, "page").fill("home")

    answer = send(page)

    assert answer.status == 200
    panel = page.locator('#result [data-error-kind="connect"]')
    expect(panel).to_be_visible()
    expect(panel).to_contain_text("Connection failed")
    expect(panel).to_contain_text("Could not connect to")
    expect(panel).to_contain_text("127.0.0.1:9")
    expect(panel).to_contain_text("connection refused")
    assert requested_url(page) == "http://127.0.0.1:9/pages/home"
    assert page.locator("#result [data-status]").count() == 0
    exchange = Exchange.objects.get(operation=operation)
    assert (exchange.error_kind, exchange.status_code) == ("connect", None)
    screenshot(page, "error-panel")
    problems_of(page).assert_none()
