"""The operation page's documented schemas, named examples and response check, in a browser."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page, expect

from tests import documented_schemas
from tests.e2e.conftest import problems_of, result_status, screenshot, send

pytestmark = pytest.mark.django_db(transaction=True)

RRS_PATH = "/apis/azureml-demo/operations/rrs-execute/"


def test_the_schema_tree_examples_and_the_response_check(
    page: Page, live_server, live_demo_api
) -> None:
    # The documentation says the scored values are numbers; the demo backend sends text.
    documented_schemas.document(live_demo_api, cell={"type": "integer"})
    page.goto(live_server.url + RRS_PATH)

    body_docs = page.locator("[data-example-or-schema=body]")
    tree = body_docs.locator("[data-schema-tree]")
    expect(body_docs.locator(".shown-example pre")).to_be_visible()
    expect(tree).to_be_hidden()
    body_docs.get_by_text("Schema", exact=True).click()
    expect(tree).to_be_visible()
    expect(body_docs.locator(".shown-example")).to_be_hidden()

    # A nested property opens; its description and required marker show.
    inputs = tree.locator("details[data-schema-node=Inputs]")
    expect(inputs).not_to_have_attribute("open", "")
    inputs.locator("> summary").click()
    table = inputs.locator("details[data-schema-node=Table]")
    expect(table).to_be_visible()
    table.locator("> summary").click()
    expect(table.locator("[data-schema-node=ColumnNames]")).to_contain_text("min items 1")
    expect(table.locator("[data-schema-node=Values] [data-schema-required]").first).to_be_visible()

    # Following the recursion goes back to where Filter is expanded.
    filter_node = tree.locator("details[data-schema-node=Filter]")
    filter_node.locator("> summary").click()
    nested_and = filter_node.locator("details[data-schema-node=and]")
    nested_and.locator("> summary").click()
    link = nested_and.locator("[data-schema-recursion]")
    expect(link).to_have_text("recursive: Filter, shown above")
    link.click()
    anchor = filter_node.get_attribute("id")
    assert page.url.endswith(f"#{anchor}")
    expect(filter_node).to_be_in_viewport()

    page.set_viewport_size({"width": 1366, "height": 900})
    screenshot(page, "schemas-tree-1366")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "schemas-tree-390")
    page.set_viewport_size({"width": 1366, "height": 900})

    # The examples switcher fills the body.
    body = page.locator("#try-it textarea[name=body]")
    page.locator("#body-example-choice").select_option(label="Two rows")
    assert json.loads(body.input_value()) == documented_schemas.EXAMPLES["two-rows"]["value"]
    page.locator("#body-example-choice").select_option(label="A good day")
    assert json.loads(body.input_value()) == documented_schemas.EXAMPLES["good"]["value"]

    # A response's examples switch the shown example.
    page.locator("#show-200-example").check()
    page.locator("[id='200-example-choice']").select_option(label="No output")
    expect(page.locator("#example-200 code")).to_contain_text('"output1": null')

    send(page)
    assert result_status(page) == "200 OK"
    check = page.locator("#result [data-response-check=violations]")
    expect(check).to_contain_text("Does not match the documented schema")
    expect(check.locator("[data-violation]").first).to_have_text(
        "$.Results.output1.value.Values[0][0]: expected integer, got string"
    )
    check.scroll_into_view_if_needed()
    screenshot(page, "schemas-violations-1366")
    page.set_viewport_size({"width": 390, "height": 844})
    check.scroll_into_view_if_needed()
    screenshot(page, "schemas-violations-390")
    problems_of(page).assert_none()


def test_a_response_as_documented_matches(page: Page, live_server, live_demo_api) -> None:
    documented_schemas.document(live_demo_api)
    page.goto(live_server.url + RRS_PATH)
    send(page)
    expect(page.locator("#result [data-response-check=matches]")).to_have_text(
        "Matches the documented schema."
    )
    problems_of(page).assert_none()
