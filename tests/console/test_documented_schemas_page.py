"""The operation page's schema trees and the result panel's response check."""

import json

import pytest
from bs4 import BeautifulSoup

from console import schema_tree
from tests import documented_schemas
from tests.backends import reply_with, scripted_server
from tests.console.test_operation_try import rrs_form

pytestmark = pytest.mark.django_db

URL = "/apis/azureml-demo/operations/rrs-execute/"


def page(client) -> BeautifulSoup:
    response = client.get(URL)
    assert response.status_code == 200
    return BeautifulSoup(response.content, "html.parser")


def test_the_body_and_each_response_offer_example_and_schema(client, demo_api):
    documented_schemas.document(demo_api)
    soup = page(client)
    body = soup.select_one("[data-example-or-schema=body]")
    assert body.select_one("#show-body-example").has_attr("checked")
    assert not body.select_one("#show-body-schema").has_attr("checked")
    assert '"ColumnNames"' in body.select_one(".shown-example").get_text()
    tree = body.select_one(".shown-schema [data-schema-tree]")
    names = [node["data-schema-node"] for node in tree.select("[data-schema-node]")]
    assert names[:3] == ["", "Inputs", "Table"]
    inputs = tree.select_one("[data-schema-node=Inputs]")
    assert inputs.select_one("[data-schema-required]").get_text() == "required"
    assert "The rows to score, by input name." in inputs.select_one(".markdown").get_text()
    # Markdown in descriptions is rendered.
    assert tree.select_one(".markdown strong").get_text() == "column"
    cutoff = tree.select_one("[data-schema-node=Cutoff]")
    assert cutoff.select_one("[data-schema-choice]").get_text(" ", strip=True).startswith("one of")
    assert [
        n["data-schema-node"] for n in cutoff.select("[data-schema-choice] > [data-schema-node]")
    ] == ["Threshold", "Named"]
    # The recursion links to where Filter is expanded.
    filter_node = tree.select_one("[data-schema-node=Filter]")
    link = filter_node.select_one("[data-schema-recursion]")
    assert link["href"] == f"#{filter_node['id']}"
    responses = [r["data-example-or-schema"] for r in soup.select("[data-example-or-schema]")]
    # The range and `default` follow the codes, each with its own tree.
    assert responses == ["body", "200", "4XX", "default"]


def test_an_operation_without_documented_schemas_shows_the_example_alone(client, demo_api):
    soup = page(client)
    assert soup.select("[data-example-or-schema]") == []
    assert soup.select("[data-schema-tree]") == []
    assert soup.select("#body-heading") != []


def test_the_tree_is_rendered_once_per_version_of_the_documentation(client, demo_api, monkeypatch):
    operation = documented_schemas.document(demo_api)
    rendered = []
    real = schema_tree._render_schemas

    def counting(**kwargs):
        rendered.append(kwargs["operation"].pk)
        return real(**kwargs)

    monkeypatch.setattr(schema_tree, "_render_schemas", counting)
    page(client)
    page(client)
    assert rendered == [operation.pk]
    operation.openapi["responses"]["200"]["description"] = "Changed"
    operation.save()
    page(client)
    assert len(rendered) == 2


def test_a_huge_document_gives_a_page_of_bounded_size(client, demo_api):
    operation = documented_schemas.document(demo_api)
    wide = {f"p{n}": {"type": "string", "description": "x" * 400} for n in range(20000)}
    demo_api.openapi["components"]["schemas"]["Table"]["properties"].update(wide)
    demo_api.save()
    assert len(json.dumps(demo_api.openapi)) > 5_000_000
    response = client.get(URL)
    assert len(response.content) < 2_000_000
    soup = BeautifulSoup(response.content, "html.parser")
    assert "more properties are not shown." in soup.select_one("[data-schema-cut]").get_text()
    assert operation.pk


def try_against(client, demo_api, body: bytes, *, cell=None):
    documented_schemas.document(demo_api, cell=cell)
    answer = reply_with(200, headers=[("Content-Type", "application/json")], body=body)
    with scripted_server(answer) as server:
        demo_api.service_url = server.url
        demo_api.save()
        response = client.post(URL + "try", rrs_form(), headers={"HX-Request": "true"})
    assert response.status_code == 200
    return BeautifulSoup(response.content, "html.parser")


SCORED = {
    "Results": {
        "output1": {
            "type": "table",
            "value": {"ColumnNames": ["Col2", "N"], "Values": [["good", "2"]]},
        }
    }
}


def test_a_result_that_matches_says_so(client, demo_api):
    soup = try_against(client, demo_api, json.dumps(SCORED).encode())
    check = soup.select_one("[data-response-check]")
    assert check["data-response-check"] == "matches"
    assert check.get_text(strip=True) == "Matches the documented schema."


def test_a_drifting_result_lists_each_violation(client, demo_api):
    soup = try_against(client, demo_api, json.dumps(SCORED).encode(), cell={"type": "integer"})
    check = soup.select_one("[data-response-check]")
    assert check["data-response-check"] == "violations"
    assert [li.get_text(" ", strip=True) for li in check.select("[data-violation]")] == [
        "$.Results.output1.value.Values[0][0] : expected integer, got string",
        "$.Results.output1.value.Values[0][1] : expected integer, got string",
    ]


def test_a_result_that_is_not_json_is_not_checked(client, demo_api):
    soup = try_against(client, demo_api, b"<html>")
    check = soup.select_one("[data-response-check]")
    assert check.get_text(" ", strip=True) == (
        "Not checked against the documented schema: the response is not JSON."
    )


def test_a_result_for_an_undocumented_status_says_nothing(client, demo_api):
    documented_schemas.document(demo_api, errors=False)
    answer = reply_with(503, headers=[("Content-Type", "application/json")], body=b"{}")
    with scripted_server(answer) as server:
        demo_api.service_url = server.url
        demo_api.save()
        response = client.post(URL + "try", rrs_form(), headers={"HX-Request": "true"})
    soup = BeautifulSoup(response.content, "html.parser")
    assert soup.select_one("[data-status]").get_text(strip=True).startswith("503")
    assert soup.select("[data-response-check]") == []


def test_several_named_examples_get_a_switcher_with_their_texts(client, demo_api):
    documented_schemas.document(demo_api)
    soup = page(client)
    select = soup.select_one("#body-example-choice")
    assert select["data-example-switcher"] == "#try-it textarea[name=body]"
    assert not select.has_attr("name"), "the choice is not sent with the form"
    assert [o.get_text() for o in select.select("option")] == ["A good day", "Two rows"]
    texts = json.loads(soup.select_one("#body-example-texts").string)
    assert [json.loads(text) for text in texts] == [
        example["value"] for example in documented_schemas.EXAMPLES.values()
    ]
    response = soup.select_one("#\\32 00-example-choice")
    assert response["data-example-switcher"] == "#example-200 code"
    # The first of them is shown.
    assert soup.select_one("#example-200").get_text() == '{\n  "Results": {}\n}'
    assert [o.get_text() for o in response.select("option")] == ["One row", "No output"]
    assert json.loads(soup.select_one("#example-texts-200").string) == [
        '{\n  "Results": {}\n}',
        '{\n  "Results": {\n    "output1": null\n  }\n}',
    ]


def test_one_example_needs_no_switcher(client, demo_api):
    operation = documented_schemas.document(demo_api)
    content = operation.openapi["requestBody"]["content"]["application/json"]
    content["examples"].pop("two-rows")
    operation.save()
    assert page(client).select_one("#body-example-choice") is None
