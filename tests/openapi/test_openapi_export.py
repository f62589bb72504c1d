import json

import pytest
import yaml
from django.conf import settings
from django.contrib.auth.models import User
from openapi_spec_validator import OpenAPIV30SpecValidator, validate

from catalog.models import Api, Operation, Parameter, ParameterLocation, ResponseDoc
from demo.registration import SCORING_INPUT
from openapi.export import export_document, export_json, export_yaml

pytestmark = pytest.mark.django_db

QUERY = ParameterLocation.QUERY
SECRETS = ["s3cr3t-header-key", "s3cr3t-query-code", "s3cr3t-cookie", "s3cr3t-path", "dXNlcjpwdw"]


def validated(api: Api) -> dict:
    """The exported document, checked against OpenAPI 3.0 in all three forms."""
    document = export_document(api=api)
    validate(document, cls=OpenAPIV30SpecValidator)
    as_json = export_json(api=api)
    as_yaml = export_yaml(api=api)
    assert json.loads(as_json) == document
    assert yaml.safe_load(as_yaml) == document
    return document


def texts(api: Api) -> list[str]:
    return [export_json(api=api), export_yaml(api=api)]


def make_api(slug: str = "everything", **fields) -> Api:
    defaults = {"name": "Everything", "service_url": "https://api.example.com/v1"}
    return Api.objects.create(slug=slug, **{**defaults, **fields})


def add_operation(api: Api, slug: str, template: str, *, parameters=(), responses=(), **fields):
    fields.setdefault("name", slug.replace("-", " ").title())
    fields.setdefault("method", "GET")
    fields.setdefault("order", api.operations.count())
    operation = Operation.objects.create(api=api, slug=slug, url_template=template, **fields)
    for order, spec in enumerate(parameters):
        Parameter.objects.create(operation=operation, order=order, **spec)
    for status_code, description, content_type, example in responses:
        ResponseDoc.objects.create(
            operation=operation,
            status_code=status_code,
            description=description,
            content_type=content_type,
            example=example,
        )
    return operation


def parameters_of(document: dict, path: str, method: str) -> dict[tuple[str, str], dict]:
    operation = document["paths"][path][method]
    return {(p["in"], p["name"]): p for p in operation.get("parameters", [])}


# --- the demo API ------------------------------------------------------------------------


def test_demo_api_exports_a_valid_document_without_its_key(demo_api):
    document = validated(demo_api)
    assert document["openapi"] == "3.0.3"
    assert document["info"]["title"] == "AzureML Demo API"
    assert document["info"]["version"] == "2.0"
    assert document["servers"] == [{"url": "http://127.0.0.1:9/demo-backend"}]
    assert [tag["name"] for tag in document["tags"]] == ["Request-Response", "Batch Execution"]
    for text in texts(demo_api):
        assert settings.PORTAL_DEMO_API_KEY not in text
    assert document["components"]["securitySchemes"] == {
        "bearerAuth": {
            "type": "http",
            "scheme": "bearer",
            "description": "The service's API key as a bearer token.",
        }
    }


def test_demo_operations_map_template_parts_to_openapi(demo_api):
    document = validated(demo_api)
    base = "/workspaces/{workspace}/services/{service}"
    assert sorted(document["paths"]) == sorted(
        [
            f"{base}/execute",
            f"{base}/jobs",
            f"{base}/jobs/{{jobid}}/start",
            f"{base}/jobs/{{jobid}}",
        ]
    )
    execute = document["paths"][f"{base}/execute"]["post"]
    assert execute["operationId"] == "rrs-execute"
    assert execute["summary"] == "RRS Execute"
    assert execute["tags"] == ["Request-Response"]
    assert execute["security"] == [{"bearerAuth": []}]
    parameters = parameters_of(document, f"{base}/execute", "post")
    # Authorization is a security scheme, Content-Type the body's media type.
    assert list(parameters) == [
        ("path", "workspace"),
        ("path", "service"),
        ("query", "api-version"),
        ("query", "details"),
    ]
    assert parameters[("path", "workspace")] == {
        "name": "workspace",
        "in": "path",
        "description": "The workspace id.",
        "required": True,
        "schema": {"type": "string", "default": "demo-workspace"},
    }
    # The OpenAPI name is the query key; the placeholder's name is kept beside it.
    assert parameters[("query", "api-version")]["x-portal-placeholder"] == "apiversion"
    assert parameters[("query", "api-version")]["schema"] == {
        "type": "string",
        "enum": ["2.0"],
        "default": "2.0",
    }
    details = parameters[("query", "details")]
    assert "required" not in details
    assert "x-portal-placeholder" not in details
    assert details["schema"] == {"type": "boolean", "enum": [True, False], "default": True}
    assert execute["requestBody"]["content"]["application/json"]["example"] == SCORING_INPUT
    response = execute["responses"]["200"]
    assert response["description"] == "The scored table."
    assert "Results" in response["content"]["application/json"]["example"]

    status = document["paths"][f"{base}/jobs/{{jobid}}"]
    assert sorted(status) == ["delete", "get"]
    assert "requestBody" not in status["get"]
    start = document["paths"][f"{base}/jobs/{{jobid}}/start"]["post"]
    # POST without a body example: the media type alone.
    assert start["requestBody"] == {"content": {"application/json": {}}}
    assert start["responses"]["200"]["content"]["application/json"] == {"example": None}


def test_removed_operations_are_left_out_and_deprecated_ones_marked(demo_api):
    demo_api.operations.filter(slug="bes-delete").update(removed=True)
    demo_api.operations.filter(slug="bes-start").update(deprecated=True)
    document = validated(demo_api)
    operation_ids = [
        operation["operationId"]
        for item in document["paths"].values()
        for operation in item.values()
    ]
    assert "bes-delete" not in operation_ids
    start = document["paths"]["/workspaces/{workspace}/services/{service}/jobs/{jobid}/start"]
    assert start["post"]["deprecated"] is True
    assert (
        "deprecated"
        not in document["paths"]["/workspaces/{workspace}/services/{service}/jobs"]["post"]
    )


# --- every kind of parameter -------------------------------------------------------------


@pytest.fixture
def everything_api() -> Api:
    api = make_api(description="All the locations.", version="")
    add_operation(
        api,
        "search",
        "/tenants/{tenant}/items/{item}.json?api-version={apiversion}&format=json&q={q}"
        "&filter=name:{name}&flag=&label=a%20b",
        parameters=[
            {"name": "tenant", "required": True, "description": "The tenant."},
            {"name": "item", "secret": True, "default": "s3cr3t-path"},
            {"name": "apiversion", "required": True, "default": "2024-01-01"},
            {"name": "q", "default": "text"},
            {"name": "name", "default": "bob"},
            {
                "name": "limit",
                "location": ParameterLocation.QUERY,
                "type": "integer",
                "allowed_values": "10\n20",
                "default": "10",
            },
            {"name": "ratio", "location": ParameterLocation.QUERY, "type": "number"},
            {
                "name": "code",
                "location": ParameterLocation.QUERY,
                "secret": True,
                "default": "s3cr3t-query-code",
            },
            {
                "name": "X-Trace",
                "location": ParameterLocation.HEADER,
                "default": "on",
                "description": "Trace the call.",
            },
            {
                "name": "X-Api-Key",
                "location": ParameterLocation.HEADER,
                "required": True,
                "default": "s3cr3t-header-key",
                "description": "Your key.",
            },
            {
                "name": "Authorization",
                "location": ParameterLocation.HEADER,
                "required": True,
                "default": "Basic dXNlcjpwdw==",
                "secret": True,
            },
            {"name": "theme", "location": ParameterLocation.COOKIE, "default": "dark"},
            {
                "name": "session",
                "location": ParameterLocation.COOKIE,
                "secret": True,
                "default": "s3cr3t-cookie",
            },
        ],
        responses=[(200, "Found.", "application/json", '{"items": []}'), (404, "", "", "")],
    )
    add_operation(
        api,
        "optional-key",
        "/ping",
        parameters=[
            {
                "name": "Ocp-Apim-Subscription-Key",
                "location": ParameterLocation.HEADER,
                "default": "s3cr3t-header-key",
            }
        ],
    )
    return api


def test_every_location_exports_valid_openapi_without_secrets(everything_api):
    document = validated(everything_api)
    for text in texts(everything_api):
        for secret in SECRETS:
            assert secret not in text
    assert document["info"] == {
        "title": "Everything",
        "description": "All the locations.",
        "version": "1.0",
    }
    path = "/tenants/{tenant}/items/{item}.json"
    operation = document["paths"][path]["get"]
    parameters = parameters_of(document, path, "get")
    assert list(parameters) == [
        ("path", "tenant"),
        ("path", "item"),
        ("query", "api-version"),
        ("query", "format"),
        ("query", "q"),
        ("query", "filter"),
        ("query", "flag"),
        ("query", "label"),
        ("query", "limit"),
        ("query", "ratio"),
        ("header", "X-Trace"),
        ("cookie", "theme"),
    ]
    assert parameters[("path", "tenant")]["required"] is True
    # A secret path value: marked as a password, its default never written.
    assert parameters[("path", "item")]["schema"] == {"type": "string", "format": "password"}
    assert parameters[("path", "item")]["required"] is True
    assert parameters[("query", "api-version")]["x-portal-placeholder"] == "apiversion"
    assert "x-portal-placeholder" not in parameters[("query", "q")]
    assert parameters[("query", "format")] == {
        "name": "format",
        "in": "query",
        "required": True,
        "schema": {"type": "string", "enum": ["json"], "default": "json"},
        "x-portal-fixed": True,
    }
    assert parameters[("query", "filter")]["x-portal-template"] == "name:{name}"
    assert parameters[("query", "filter")]["schema"] == {"type": "string", "default": "name:bob"}
    assert parameters[("query", "flag")]["allowEmptyValue"] is True
    assert parameters[("query", "label")]["schema"]["enum"] == ["a b"]
    assert parameters[("query", "limit")]["schema"] == {
        "type": "integer",
        "enum": [10, 20],
        "default": 10,
    }
    assert parameters[("query", "ratio")]["schema"] == {"type": "number"}
    assert parameters[("header", "X-Trace")] == {
        "name": "X-Trace",
        "in": "header",
        "description": "Trace the call.",
        "schema": {"type": "string", "default": "on"},
    }
    assert parameters[("cookie", "theme")]["schema"] == {"type": "string", "default": "dark"}

    schemes = document["components"]["securitySchemes"]
    assert schemes == {
        "apiKey-query-code": {"type": "apiKey", "in": "query", "name": "code"},
        "apiKey-header-X-Api-Key": {
            "type": "apiKey",
            "in": "header",
            "name": "X-Api-Key",
            "description": "Your key.",
        },
        "basicAuth": {"type": "http", "scheme": "basic"},
        "apiKey-cookie-session": {"type": "apiKey", "in": "cookie", "name": "session"},
        "apiKey-header-Ocp-Apim-Subscription-Key": {
            "type": "apiKey",
            "in": "header",
            "name": "Ocp-Apim-Subscription-Key",
        },
    }
    # The optional credentials (code, session) are in the first alternative only.
    assert operation["security"] == [
        {
            "apiKey-query-code": [],
            "apiKey-header-X-Api-Key": [],
            "basicAuth": [],
            "apiKey-cookie-session": [],
        },
        {"apiKey-header-X-Api-Key": [], "basicAuth": []},
    ]
    # A credential nobody must send: with it, or without any.
    ping = document["paths"]["/ping"]["get"]
    assert ping["security"] == [{"apiKey-header-Ocp-Apim-Subscription-Key": []}, {}]
    assert "parameters" not in ping
    assert operation["responses"] == {
        "200": {
            "description": "Found.",
            "content": {"application/json": {"example": {"items": []}}},
        },
        # An empty description is invalid OpenAPI: the status phrase stands in.
        "404": {"description": "Not Found"},
    }
    assert ping["responses"] == {"default": {"description": "Response"}}


def test_secret_marked_header_with_any_name_is_a_security_scheme():
    api = make_api()
    add_operation(
        api,
        "custom",
        "/x",
        parameters=[
            {
                "name": "X-Signature",
                "location": ParameterLocation.HEADER,
                "secret": True,
                "required": True,
                "default": "s3cr3t-header-key",
            },
            {
                "name": "Authorization",
                "location": ParameterLocation.HEADER,
                "default": "SharedKey s3cr3t-path",
            },
        ],
    )
    document = validated(api)
    for text in texts(api):
        assert "s3cr3t" not in text
    assert document["paths"]["/x"]["get"]["security"] == [
        {"apiKey-header-X-Signature": [], "apiKey-header-Authorization": []},
        {"apiKey-header-X-Signature": []},
    ]


def test_schemes_are_shared_between_operations():
    api = make_api()
    bearer = {
        "name": "Authorization",
        "location": ParameterLocation.HEADER,
        "required": True,
        "default": "Bearer s3cr3t-header-key",
    }
    add_operation(api, "one", "/one", parameters=[bearer])
    add_operation(api, "two", "/two", parameters=[bearer])
    for number, name in enumerate(["X-Api-Key", "x-api-key"]):
        key = {"name": name, "location": ParameterLocation.HEADER, "required": True}
        add_operation(api, f"key-{number}", f"/key/{number}", parameters=[key])
    document = validated(api)
    assert list(document["components"]["securitySchemes"]) == [
        "bearerAuth",
        "apiKey-header-X-Api-Key",
    ]
    assert document["paths"]["/key/1"]["get"]["security"] == [{"apiKey-header-X-Api-Key": []}]
    assert document["paths"]["/two"]["get"]["security"] == [{"bearerAuth": []}]


# --- bodies and responses ----------------------------------------------------------------


def test_bodies_that_are_not_json_are_strings():
    api = make_api()
    add_operation(
        api, "xml", "/xml", method="POST", request_content_type="application/xml",
        body_example="<a>1</a>",
        responses=[(200, "XML.", "application/xml", "<b/>"), (201, "Text.", "text/plain", "ok")],
    )  # fmt: skip
    add_operation(
        api, "broken", "/broken", method="PUT", request_content_type="application/json",
        body_example="{not json", responses=[(500, "", "application/json", "oops")],
    )  # fmt: skip
    add_operation(
        api, "nan", "/nan", method="PATCH", request_content_type="application/problem+json",
        body_example='{"a": NaN}', responses=[(200, "", "", '"\\ud800"')],
    )  # fmt: skip
    add_operation(api, "guess", "/guess", method="POST", request_content_type="", body_example="hi")
    add_operation(api, "nothing", "/nothing", method="POST", request_content_type="")
    add_operation(api, "get", "/get", request_content_type="application/json", body_example="{}")
    document = validated(api)
    paths = document["paths"]
    assert paths["/xml"]["post"]["requestBody"] == {
        "content": {"application/xml": {"example": "<a>1</a>"}}
    }
    assert paths["/xml"]["post"]["responses"]["201"]["content"] == {"text/plain": {"example": "ok"}}
    # Declared JSON that does not parse is kept as it is written.
    assert paths["/broken"]["put"]["requestBody"]["content"]["application/json"] == {
        "example": "{not json"
    }
    assert paths["/broken"]["put"]["responses"]["500"] == {
        "description": "Internal Server Error",
        "content": {"application/json": {"example": "oops"}},
    }
    assert paths["/nan"]["patch"]["requestBody"]["content"]["application/problem+json"] == {
        "example": '{"a": NaN}'
    }
    # A lone surrogate cannot be written as UTF-8: the example stays JSON text.
    assert paths["/nan"]["patch"]["responses"]["200"]["content"] == {
        "application/json": {"example": '"\\ud800"'}
    }
    assert paths["/guess"]["post"]["requestBody"] == {"content": {"text/plain": {"example": "hi"}}}
    assert "requestBody" not in paths["/nothing"]["post"]
    # The console sends no body with GET, so none is documented.
    assert "requestBody" not in paths["/get"]["get"]
    for text in texts(api):
        text.encode("utf-8")


def test_unusual_status_codes_and_repeated_responses():
    api = make_api()
    add_operation(
        api,
        "odd",
        "/odd",
        responses=[
            (299, "", "", ""),
            (999, "Whatever.", "", ""),
            (200, "", "application/json", '{"a": 1}'),
            (200, "Second row.", "text/csv", "a,b"),
        ],
    )
    responses = validated(api)["paths"]["/odd"]["get"]["responses"]
    assert list(responses) == ["200", "299", "default"]
    assert responses["200"] == {
        "description": "Second row.",
        "content": {
            "application/json": {"example": {"a": 1}},
            "text/csv": {"example": "a,b"},
        },
    }
    assert responses["299"] == {"description": "Response"}
    assert responses["default"] == {"description": "Whatever."}


# --- names, types and clashes ------------------------------------------------------------


def test_operation_ids_are_unique():
    api = make_api()
    add_operation(api, "list-a", "/a", operation_id="list")
    add_operation(api, "list-b", "/b", operation_id="list")
    add_operation(api, "list-2", "/c")
    add_operation(api, "plain", "/d", operation_id="")
    paths = validated(api)["paths"]
    assert [paths[p]["get"]["operationId"] for p in ["/a", "/b", "/c", "/d"]] == [
        "list",
        "list-2",
        "list-2-2",
        "plain",
    ]


def test_operations_openapi_cannot_hold_together_go_to_x_portal_paths():
    api = make_api()
    add_operation(api, "list-xml", "/items?format=xml")
    add_operation(api, "list-json", "/items?format=json")
    add_operation(api, "get-by-id", "/items/{id}", parameters=[{"name": "id"}])
    add_operation(
        api, "delete-by-key", "/items/{key}", method="DELETE", parameters=[{"name": "key"}]
    )
    add_operation(api, "same-again", "/items?format=json")
    document = validated(api)
    assert document["paths"]["/items"]["get"]["operationId"] == "list-xml"
    assert document["paths"]["/items/{id}"]["get"]["operationId"] == "get-by-id"
    extra = document["x-portal-paths"]
    assert list(extra) == ["/items?format=json", "/items/{key}", "/items?format=json#2"]
    assert extra["/items?format=json"]["get"]["operationId"] == "list-json"
    assert extra["/items/{key}"]["delete"]["operationId"] == "delete-by-key"
    assert extra["/items?format=json#2"]["get"]["operationId"] == "same-again"


def test_repeated_query_names_are_listed_not_exported_twice():
    api = make_api()
    add_operation(
        api,
        "dup",
        "/dup?a={x}&a=2",
        parameters=[
            {"name": "x"},
            {"name": "a", "location": ParameterLocation.QUERY},
            {"name": "H", "location": ParameterLocation.HEADER},
            {"name": "h", "location": ParameterLocation.HEADER},
        ],
    )
    operation = validated(api)["paths"]["/dup"]["get"]
    assert [(p["in"], p["name"]) for p in operation["parameters"]] == [
        ("query", "a"),
        ("header", "H"),
    ]
    assert operation["x-portal-unexported-parameters"] == ["a", "a", "h"]


def test_values_the_type_cannot_read_make_a_string_schema():
    api = make_api()
    add_operation(
        api,
        "types",
        "/types/{n}?flag={flag}",
        parameters=[
            {"name": "n", "type": "integer", "allowed_values": "1\nmany", "default": "1"},
            {"name": "flag", "type": "boolean", "default": "yes"},
            {"name": "big", "location": QUERY, "type": "number", "default": "1e999"},
            {"name": "off", "location": QUERY, "allowed_values": "a", "default": "b"},
        ],
    )
    parameters = parameters_of(validated(api), "/types/{n}", "get")
    assert parameters[("path", "n")]["schema"] == {
        "type": "string",
        "enum": ["1", "many"],
        "default": "1",
    }
    assert parameters[("query", "flag")]["schema"] == {"type": "string", "default": "yes"}
    assert parameters[("query", "big")]["schema"] == {"type": "string", "default": "1e999"}
    # A default outside the allowed values would make the schema invalid: it is left out.
    assert parameters[("query", "off")]["schema"] == {"type": "string", "enum": ["a"]}


def test_yaml_quotes_text_that_yaml_1_2_reads_as_numbers():
    api = make_api(version="1e3")
    add_operation(
        api,
        "codes",
        "/codes?code={code}",
        parameters=[{"name": "code", "allowed_values": "0o17\n1e5\n.5\nyes", "default": "1e5"}],
    )
    text = export_yaml(api=api)
    assert "version: '1e3'" in text
    assert "- '0o17'\n" in text
    assert "default: '1e5'" in text
    assert yaml.safe_load(text) == validated(api)


def test_an_api_without_operations_is_still_a_document():
    document = validated(make_api(description=""))
    assert document["paths"] == {}
    assert "description" not in document["info"]
    assert "tags" not in document
    assert "components" not in document


def test_export_reads_the_database_a_fixed_number_of_times(django_assert_max_num_queries):
    api = make_api()
    for number in range(60):
        add_operation(
            api,
            f"op-{number}",
            f"/things/{number}/{{id}}",
            parameters=[{"name": "id"}, {"name": "q", "location": ParameterLocation.QUERY}],
            responses=[(200, "OK.", "application/json", "{}")],
        )
    with django_assert_max_num_queries(4):
        document = export_document(api=api)
    assert len(document["paths"]) == 60


# --- the pages ---------------------------------------------------------------------------


def test_json_and_yaml_are_served_inline(client, demo_api):
    response = client.get("/apis/azureml-demo/openapi.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == 'inline; filename="azureml-demo-openapi.json"'
    document = json.loads(response.content)
    # The page's document is served at the gateway, where developers call the API.
    gateway = "http://testserver/gateway/azureml-demo"
    assert document == export_document(api=demo_api, server_url=gateway)

    response = client.get("/apis/azureml-demo/openapi.yaml")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/yaml; charset=utf-8"
    assert response["Content-Disposition"] == 'inline; filename="azureml-demo-openapi.yaml"'
    assert yaml.safe_load(response.content.decode("utf-8")) == document
    assert settings.PORTAL_DEMO_API_KEY.encode() not in response.content


@pytest.mark.parametrize("viewer", ["anonymous", "developer", "staff"])
@pytest.mark.parametrize("suffix", ["yaml", "json"])
def test_the_exported_server_is_the_gateway_for_everyone(client, demo_api, viewer, suffix):
    """The export is a public document: the gateway's URL, never the backend's, staff
    included."""
    if viewer != "anonymous":
        user = User.objects.create_user(viewer, password="pw", is_staff=viewer == "staff")
        client.force_login(user)
    response = client.get(f"/apis/azureml-demo/openapi.{suffix}", HTTP_HOST="localhost:8000")
    assert response.status_code == 200
    document = yaml.safe_load(response.content.decode("utf-8"))
    assert document["servers"] == [{"url": "http://localhost:8000/gateway/azureml-demo"}]
    assert b"127.0.0.1:9" not in response.content
    assert b"demo-backend" not in response.content


@pytest.mark.parametrize(
    ("fields", "server"),
    [
        ({"url_suffix": ""}, "https://api.example.com/v1"),
        ({"url_suffix": "  /  "}, "https://api.example.com/v1"),
        ({"url_suffix": "shop/v1"}, "http://testserver/gateway/shop/v1"),
        ({"url_suffix": "/shop/v1/"}, "http://testserver/gateway/shop/v1"),
    ],
    ids=["no suffix", "blank suffix", "suffix", "suffix with slashes"],
)
def test_an_api_off_the_gateway_is_exported_at_its_service_url(client, fields, server):
    make_api(**fields)
    response = client.get("/apis/everything/openapi.json")
    assert json.loads(response.content)["servers"] == [{"url": server}]


def test_an_api_whose_suffix_an_older_api_holds_is_exported_at_its_service_url(client):
    make_api(slug="older", url_suffix="shop", service_url="https://older.example.com")
    make_api(slug="newer", url_suffix="shop", service_url="https://newer.example.com")
    older = json.loads(client.get("/apis/older/openapi.json").content)
    newer = json.loads(client.get("/apis/newer/openapi.json").content)
    assert older["servers"] == [{"url": "http://testserver/gateway/shop"}]
    assert newer["servers"] == [{"url": "https://newer.example.com"}]


def test_unpublished_api_is_exported_to_staff_only(client, demo_api):
    demo_api.published = False
    demo_api.save()
    assert client.get("/apis/azureml-demo/openapi.json").status_code == 404
    assert client.get("/apis/azureml-demo/openapi.yaml").status_code == 404
    assert client.get("/apis/nope/openapi.json").status_code == 404
    staff = User.objects.create_user("staff", password="pw", is_staff=True)
    client.force_login(staff)
    response = client.get("/apis/azureml-demo/openapi.json")
    assert response.status_code == 200
    # Unpublished, it is not on the gateway: its only URL is the service URL.
    assert json.loads(response.content)["servers"] == [{"url": "http://127.0.0.1:9/demo-backend"}]
    assert client.get("/apis/azureml-demo/openapi.yaml").status_code == 200


def test_only_get_is_answered(client, demo_api):
    assert client.post("/apis/azureml-demo/openapi.json").status_code == 405


def test_api_page_links_to_both_documents(client, demo_api):
    content = client.get("/apis/azureml-demo/").content.decode()
    assert 'href="/apis/azureml-demo/openapi.json"' in content
    assert 'href="/apis/azureml-demo/openapi.yaml"' in content


def test_responses_are_exported_in_status_order_with_default_last():
    """The export writes the responses as the operation page lists them: codes in order,
    `default` (a code outside 100-599) last, whatever order they were added in."""
    api = make_api(slug="ordered")
    add_operation(
        api,
        "get-thing",
        "/thing",
        responses=[
            (0, "Anything else", "", ""),
            (404, "", "", ""),
            (200, "The thing", "", ""),
            (201, "", "", ""),
        ],
    )
    document = export_document(api=api)
    responses = document["paths"]["/thing"]["get"]["responses"]
    assert list(responses) == ["200", "201", "404", "default"]
    assert [response["description"] for response in responses.values()] == [
        "The thing",
        "Created",
        "Not Found",
        "Anything else",
    ]
