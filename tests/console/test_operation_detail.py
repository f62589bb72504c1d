import pytest
from bs4 import BeautifulSoup

from catalog.models import Parameter, ParameterLocation

pytestmark = pytest.mark.django_db

URL = "/apis/azureml-demo/operations/rrs-execute/"


def page(client, url: str = URL) -> BeautifulSoup:
    response = client.get(url)
    assert response.status_code == 200
    return BeautifulSoup(response.content, "html.parser")


def test_try_it_form_has_a_labelled_input_per_parameter_with_defaults(client, demo_api):
    soup = page(client)
    form = soup.select_one("#try-it form")
    labels = {
        label.get_text(strip=True).rstrip("*"): label["for"] for label in form.select("label")
    }
    assert {"workspace", "service", "apiversion", "details"} <= set(labels)
    workspace = form.select_one(f"#{labels['workspace']}")
    assert workspace["value"] == "demo-workspace"
    assert workspace.has_attr("required")
    # Allowed values become a select, with the default chosen.
    details = form.select_one(f"#{labels['details']}")
    assert details.name == "select"
    assert [o["value"] for o in details.select("option")] == ["", "true", "false"]
    assert details.select_one("option[selected]")["value"] == "true"


def test_header_rows_come_from_header_parameters_with_secret_masked_input(client, demo_api):
    soup = page(client)
    names = [i["value"] for i in soup.select("#try-it input[name=header_name]") if i.get("value")]
    assert names == ["Content-Type", "Authorization"]
    values = soup.select("#try-it input[name=header_value]")
    assert values[1]["type"] == "password"
    assert soup.select_one("[data-add-header]").get_text(strip=True) == "+ Add header"


def test_body_field_is_filled_with_the_example(client, demo_api):
    soup = page(client)
    body = soup.select_one("#try-it textarea[name=body]")
    assert '"ColumnNames"' in body.get_text()


def test_get_operation_has_no_body_field(client, demo_api):
    soup = page(client, "/apis/azureml-demo/operations/bes-status/")
    assert soup.select_one("#try-it textarea[name=body]") is None
    assert soup.select_one("#try-it label[for$=jobid]") is not None


def test_documentation_lists_parameters_body_example_and_responses(client, demo_api):
    soup = page(client)
    rows = [
        tr.select("td")[0].get_text(" ", strip=True)
        for tr in soup.select("table.parameters tbody tr")
    ]
    assert rows == [
        "workspace",
        "service",
        "apiversion",
        "details",
        "Content-Type",
        "Authorization secret",
    ]
    assert "Bearer" not in soup.select_one("table.parameters").get_text()
    assert soup.select_one("#responses-heading") is not None
    assert "Results" in soup.select_one("#responses-heading").find_next("pre").get_text()


def test_unknown_operation_is_404(client, demo_api):
    assert client.get("/apis/azureml-demo/operations/nope/").status_code == 404


def test_cookie_parameters_are_fields_of_the_form(client, demo_api):
    operation = demo_api.operations.get(slug="bes-status")
    operation.parameters.create(name="session", location="cookie", description="A session.")
    soup = page(client, "/apis/azureml-demo/operations/bes-status/")
    assert "cookie" in soup.select_one("table.parameters").get_text()
    assert "not sendable" not in soup.select_one("table.parameters").get_text()
    assert soup.select_one("#try-it input[name=param-cookie-session]") is not None
    assert soup.select_one("table.parameters [data-kept-from-gateway]") is None


def test_a_cookie_parameter_named_as_a_portal_cookie_says_the_gateway_keeps_it(client, demo_api):
    operation = demo_api.operations.get(slug="bes-status")
    operation.parameters.create(name="sessionid", location="cookie")
    operation.parameters.create(name="csrftoken", location="header")
    soup = page(client, "/apis/azureml-demo/operations/bes-status/")
    [note] = soup.select("table.parameters [data-kept-from-gateway]")
    assert note.find_parent("tr").select_one("code").get_text() == "sessionid"
    assert note.get_text() == (
        "Not sent through the gateway: the portal's own cookie has this name, and browsers "
        "send it with every call to the gateway, so the gateway forwards no cookie of this name."
    )


def test_removed_operations_are_gone_from_pages(client, demo_api):
    demo_api.operations.filter(slug="bes-status").update(removed=True)
    assert client.get("/apis/azureml-demo/operations/bes-status/").status_code == 404
    api_page = client.get("/apis/azureml-demo/").content.decode()
    assert "BES Status" not in api_page
    assert client.get("/").context["page"][0].operation_count == 4


def test_deprecated_operations_are_marked(client, demo_api):
    demo_api.operations.filter(slug="bes-status").update(deprecated=True)
    soup = page(client, "/apis/azureml-demo/operations/bes-status/")
    assert soup.select_one("h1 .badge").get_text() == "deprecated"


# --- The process keeps the operation until the configuration changes -----------------


def test_an_added_or_deleted_parameter_shows_at_once(client, demo_api):
    assert page(client).select_one("#try-it label[for$=verbose]") is None
    operation = demo_api.operations.get(slug="rrs-execute")
    parameter = Parameter.objects.create(
        operation=operation, name="verbose", location=ParameterLocation.QUERY
    )
    assert page(client).select_one("#try-it label[for$=verbose]") is not None
    parameter.delete()
    assert page(client).select_one("#try-it label[for$=verbose]") is None


def test_an_edited_operation_and_an_unpublished_api_show_at_once(client, admin_client, demo_api):
    assert page(client).select_one("h1").get_text(strip=True).startswith("RRS Execute")
    operation = demo_api.operations.get(slug="rrs-execute")
    operation.name = "Score rows"
    operation.save()
    assert page(client).select_one("h1").get_text(strip=True).startswith("Score rows")
    demo_api.published = False
    demo_api.save()
    assert client.get(URL).status_code == 404
    assert admin_client.get(URL).status_code == 200  # staff keep seeing it
    assert client.get(URL).status_code == 404  # and visitors still do not


def test_the_try_it_fields_are_rendered_without_crispy_forms(client, demo_api):
    """crispy-forms' field templates were a third of the page's server time: the form
    writes Bootstrap's markup itself (templates/console/_field.html)."""
    response = client.get(URL)
    rendered = [template.name for template in response.templates]
    assert "console/_field.html" in rendered
    assert not [name for name in rendered if name and name.startswith("bootstrap5/")]


def test_a_field_is_labelled_described_and_styled_as_bootstrap_wants(client, demo_api):
    soup = page(client)
    block = soup.select_one("#div_id_param-template-workspace")
    label = block.select_one("label.form-label.requiredField")
    assert label["for"] == "id_param-template-workspace"
    assert label.select_one(".asteriskField").get_text() == "*"
    field = block.select_one("input")
    assert field["class"] == ["textinput", "form-control"]
    assert field["aria-describedby"] == "id_param-template-workspace_helptext"
    assert block.select_one("#id_param-template-workspace_helptext.form-text")
    assert soup.select_one("#id_param-template-details")["class"] == ["select", "form-select"]
    assert soup.select_one("textarea[name=body]")["class"] == ["textarea", "form-control"]


def test_a_field_in_error_says_so_beside_it(client, demo_api):
    response = client.post(URL + "try", {"body": "{}"}, headers={"HX-Request": "true"})
    soup = BeautifulSoup(response.content, "html.parser")
    field = soup.select_one("#id_param-template-workspace")
    assert field["class"] == ["textinput", "form-control", "is-invalid"]
    assert field["aria-invalid"] == "true"
    errors = soup.select_one("#id_param-template-workspace_error.invalid-feedback")
    assert errors.select_one("#error_1_id_param-template-workspace").get_text(strip=True) == (
        "This field is required."
    )


def test_the_documentation_column_is_rendered_once_until_the_operation_changes(client, demo_api):
    def rendered(response) -> list[str]:
        return [template.name for template in response.templates]

    assert "catalog/_operation_docs.html" in rendered(client.get(URL))
    again = client.get(URL)
    assert "catalog/_operation_docs.html" not in rendered(again)
    assert b'id="parameters-heading"' in again.content
    parameter = demo_api.operations.get(slug="rrs-execute").parameters.get(name="workspace")
    parameter.description = "Where the **service** lives."
    parameter.save()
    changed = client.get(URL)
    assert "catalog/_operation_docs.html" in rendered(changed)
    assert b"Where the <strong>service</strong> lives." in changed.content


def test_a_first_visits_fields_are_rendered_once_until_the_operation_changes(client, demo_api):
    def rendered(response) -> list[str]:
        return [template.name for template in response.templates]

    assert "console/_tryit_fields.html" in rendered(client.get(URL))
    again = client.get(URL)
    assert "console/_tryit_fields.html" not in rendered(again)
    soup = BeautifulSoup(again.content, "html.parser")
    assert soup.select_one("#id_param-template-workspace")["value"] == "demo-workspace"
    parameter = demo_api.operations.get(slug="rrs-execute").parameters.get(name="workspace")
    parameter.default = "another-workspace"
    parameter.save()
    soup = page(client)
    assert soup.select_one("#id_param-template-workspace")["value"] == "another-workspace"


def test_a_share_link_is_never_answered_with_the_kept_fields(client, demo_api):
    client.get(URL)
    linked = client.get(URL, {"p.workspace": "linked-workspace"})
    assert "console/_tryit_fields.html" in [template.name for template in linked.templates]
    soup = BeautifulSoup(linked.content, "html.parser")
    assert soup.select_one("#id_param-template-workspace")["value"] == "linked-workspace"
    assert page(client).select_one("#id_param-template-workspace")["value"] == "demo-workspace"


def test_a_first_visits_header_rows_and_body_editor_are_kept_too(client, demo_api):
    client.get(URL)
    again = client.get(URL)
    rendered = [template.name for template in again.templates]
    assert "console/_header_rows.html" not in rendered
    assert "console/_body_editor.html" not in rendered
    soup = BeautifulSoup(again.content, "html.parser")
    assert soup.select_one("#header-row-template")
    assert soup.select_one("textarea[name=body]").get_text().strip().startswith("{")
    assert soup.select_one("input[name=csrfmiddlewaretoken]")["value"]  # the visitor's own
    other = client.get(URL, {"content_type": "application/json"})  # another editor: rendered
    assert "console/_body_editor.html" in [template.name for template in other.templates]
