"""operations.openapi: OpenAPI documents (the sample specs and generated ones) imported as APIs."""

from __future__ import annotations

import copy
import json
import socket
import time
from pathlib import Path

import pytest
from django.conf import settings

from operations import replay
from operations.models import (
    Api,
    Collection,
    Operation,
    Parameter,
    ParameterLocation,
    ResponseDoc,
    SavedRequest,
)
from operations.openapi import (
    EXAMPLE_MAX_DEPTH,
    ImportSummary,
    OpenApiError,
    import_openapi,
    load_document,
    read_document,
)
from operations.templating import parse_template
from tests import openapi_generator as generator

pytestmark = pytest.mark.django_db

SPECS = Path(settings.BASE_DIR).parent / "shared" / "specs"
SERVICE_URL = "https://api.example.com/v1"
# Sample documents without a server: imported with SERVICE_URL.
WITHOUT_SERVER = {
    "oas30-api-with-examples.yaml",
    "oas30-callback-example.yaml",
    "oas30-link-example.yaml",
    "oas31-webhook-example.yaml",
}
OPERATION_COUNTS = {
    "oas30-api-with-examples.yaml": 2,
    "oas30-callback-example.yaml": 1,
    "oas30-link-example.yaml": 6,
    "oas30-petstore-expanded.yaml": 4,
    "oas30-petstore.yaml": 3,
    "oas30-uspto.yaml": 3,
    "oas31-webhook-example.yaml": 1,
    "swagger20-petstore-expanded.json": 4,
}


def spec(name: str) -> dict:
    assert SPECS.is_dir(), f"the sample specs are expected beside the clone, in {SPECS}"
    return load_document(text=(SPECS / name).read_bytes())


def import_spec(name: str, **kwargs) -> ImportSummary:
    if name in WITHOUT_SERVER:
        kwargs.setdefault("service_url", SERVICE_URL)
    return import_openapi(document=spec(name), **kwargs)


def operation(api: Api, slug: str) -> Operation:
    return api.operations.get(slug=slug)


def parameters(op: Operation) -> dict[tuple[str, str], Parameter]:
    return {(p.location, p.name): p for p in op.parameters.all()}


def responses(op: Operation) -> dict[int, ResponseDoc]:
    return {r.status_code: r for r in op.responses.all()}


def document(paths: dict, **extra) -> dict:
    return {
        "openapi": "3.0.3",
        "info": {"title": "Test API", "version": "1.0"},
        "servers": [{"url": "https://api.example.com/v1"}],
        "paths": paths,
        **extra,
    }


def ok(description: str = "OK", **extra) -> dict:
    return {"200": {"description": description, **extra}}


def problems_of(doc: dict, **kwargs) -> list[str]:
    with pytest.raises(OpenApiError) as caught:
        import_openapi(document=doc, **kwargs)
    return caught.value.problems


def snapshot() -> list:
    """Everything an import may touch, to compare before and after a failed one."""
    return [
        list(Api.objects.order_by("pk").values()),
        list(Operation.objects.order_by("pk").values()),
        list(Parameter.objects.order_by("pk").values()),
        list(ResponseDoc.objects.order_by("pk").values()),
    ]


# --- The sample specs ----------------------------------------------------------------


def test_the_sample_specs_are_beside_the_clone():
    assert SPECS.is_dir()
    assert set(OPERATION_COUNTS) <= {path.name for path in SPECS.iterdir()}


@pytest.mark.parametrize("name", sorted(OPERATION_COUNTS))
def test_every_sample_spec_imports(name):
    summary = import_spec(name, api_slug=f"spec-{Path(name).stem}")
    api = summary.api
    assert summary.created_api
    assert len(summary.added) == OPERATION_COUNTS[name]
    assert api.operations.count() == OPERATION_COUNTS[name]
    assert summary.changed == summary.removed == []
    for op in api.operations.all():
        # Every template parses and every placeholder has its template parameter.
        names = parse_template(op.url_template).names
        template_parameters = op.parameters.filter(location=ParameterLocation.TEMPLATE)
        assert sorted(names) == sorted(p.name for p in template_parameters)
        # JSON examples, given or generated, are JSON.
        examples = [(op.request_content_type, op.body_example)]
        examples += [(r.content_type, r.example) for r in op.responses.all()]
        for content_type, text in examples:
            if text and "json" in content_type:
                json.loads(text)
    # A second import of the same document changes nothing.
    again = import_spec(name, api_slug=f"spec-{Path(name).stem}")
    assert (again.added, again.changed, again.removed) == ([], [], [])
    assert again.unchanged == OPERATION_COUNTS[name]
    assert not again.created_api


def test_petstore_30():
    summary = import_spec("oas30-petstore.yaml")
    api = summary.api
    assert (api.name, api.slug, api.url_suffix, api.version) == (
        "Swagger Petstore",
        "swagger-petstore",
        "swagger-petstore",
        "1.0.0",
    )
    assert api.service_url == "http://petstore.swagger.io/v1"
    assert summary.headline == (
        'Imported "Swagger Petstore" (swagger-petstore): 3 added, 0 changed, 0 removed.'
    )
    assert list(api.operations.values_list("slug", "name", "method", "url_template")) == [
        ("list-pets", "List all pets", "GET", "/pets"),
        ("create-pets", "Create a pet", "POST", "/pets"),
        ("show-pet-by-id", "Info for a specific pet", "GET", "/pets/{petId}"),
    ]
    list_pets = operation(api, "list-pets")
    assert (list_pets.operation_id, list_pets.tags, list_pets.request_content_type) == (
        "listPets",
        "pets",
        "",
    )
    limit = parameters(list_pets)[("query", "limit")]
    assert (limit.type, limit.required, limit.description) == (
        "integer",
        False,
        "How many items to return at one time (max 100)",
    )
    listed = responses(list_pets)
    assert set(listed) == {200}
    assert listed[200].content_type == "application/json"
    assert json.loads(listed[200].example) == [{"id": 0, "name": "string", "tag": "string"}]
    # The default response has no status code: it is described in the operation.
    assert "**Other responses**" in list_pets.description
    assert "`default`: unexpected error" in list_pets.description

    create = operation(api, "create-pets")
    assert create.request_content_type == "application/json"
    assert json.loads(create.body_example) == {"id": 0, "name": "string", "tag": "string"}
    assert create.body_example.startswith("{\n  ")  # pretty JSON
    assert (responses(create)[201].description, responses(create)[201].example) == (
        "Null response",
        "",
    )

    show = operation(api, "show-pet-by-id")
    pet_id = parameters(show)[("template", "petId")]
    assert (pet_id.required, pet_id.type, pet_id.description) == (
        True,
        "string",
        "The id of the pet to retrieve",
    )


def test_petstore_expanded_30_merges_all_of():
    api = import_spec("oas30-petstore-expanded.yaml").api
    assert api.service_url == "https://petstore.swagger.io/v2"
    assert list(api.operations.values_list("slug", flat=True)) == [
        "find-pets",
        "add-pet",
        "find-pet-by-id",  # operationId "find pet by id"
        "delete-pet",
    ]
    add = operation(api, "add-pet")
    assert json.loads(add.body_example) == {"name": "string", "tag": "string"}
    found = operation(api, "find-pet-by-id")
    # Pet = allOf [NewPet, {id}].
    assert json.loads(responses(found)[200].example) == {"name": "string", "tag": "string", "id": 0}
    assert parameters(found)[("template", "id")].type == "integer"
    tags = parameters(operation(api, "find-pets"))[("query", "tags")]
    assert tags.type == "string"  # an array is typed as text


def test_swagger_20_petstore_expanded():
    summary = import_spec("swagger20-petstore-expanded.json")
    api = summary.api
    # "swagger": 2.0 as a number is accepted; schemes: [http] only.
    assert api.service_url == "http://petstore.swagger.wordnik.com/api"
    assert api.description.startswith("A sample API that uses a petstore")
    assert list(api.operations.values_list("slug", "method", "url_template")) == [
        ("find-pets", "GET", "/pets"),
        ("add-pet", "POST", "/pets"),
        ("find-pet-by-id", "GET", "/pets/{id}"),
        ("delete-pet", "DELETE", "/pets/{id}"),
    ]
    find = parameters(operation(api, "find-pets"))
    assert set(find) == {("query", "tags"), ("query", "limit")}
    assert find[("query", "limit")].type == "integer"
    add = operation(api, "add-pet")
    assert add.request_content_type == "application/json"
    # newPet = allOf [{"$ref": "pet"} (the old bare-name form), {required, id}].
    assert json.loads(add.body_example) == {"id": 0, "name": "string", "tag": "string"}
    assert json.loads(responses(operation(api, "find-pets"))[200].example) == [
        {"id": 0, "name": "string", "tag": "string"}
    ]
    assert parameters(operation(api, "delete-pet"))[("template", "id")].required


def test_uspto():
    api = import_spec("oas30-uspto.yaml").api
    # The server variable {scheme} takes its default.
    assert api.service_url == "https://developer.uspto.gov/ds-api"
    assert api.name == "USPTO Data Set API"
    assert list(api.operations.values_list("slug", "operation_id", "tags")) == [
        ("list-data-sets", "list-data-sets", "metadata"),
        ("list-searchable-fields", "list-searchable-fields", "metadata"),
        ("perform-search", "perform-search", "search"),
    ]
    listing = operation(api, "list-data-sets")
    assert listing.url_template == "/"
    example = json.loads(responses(listing)[200].example)
    assert example["total"] == 2
    assert example["apis"][0]["apiKey"] == "oa_citations"

    fields = operation(api, "list-searchable-fields")
    assert fields.url_template == "/{dataset}/{version}/fields"
    found = parameters(fields)
    assert (found[("template", "dataset")].default, found[("template", "version")].default) == (
        "oa_citations",
        "v1",
    )
    assert set(responses(fields)) == {200, 404}

    search = operation(api, "perform-search")
    assert search.method == "POST"
    assert search.request_content_type == "application/x-www-form-urlencoded"
    assert search.body_example == "criteria=*:*&start=0&rows=100"
    assert "**Form fields**" in search.description
    assert "`criteria` (string, required)" in search.description
    assert parameters(search)[("template", "version")].default == "v1"
    assert responses(search)[404].example == ""
    assert json.loads(responses(search)[200].example) == [{"additionalProp1": {}}]


def test_callback_example():
    summary = import_spec("oas30-callback-example.yaml")
    op = summary.api.operations.get()
    # No operationId and no summary: named after the verb and path.
    assert (op.slug, op.name, op.operation_id) == ("post-streams", "POST /streams", "")
    callback = parameters(op)[("query", "callbackUrl")]
    assert callback.required
    assert callback.default == "https://tonys-server.com"
    assert "**Callbacks**" in op.description
    assert "`onData`: POST `{$request.query.callbackUrl}/data`" in op.description
    created = responses(op)[201]
    assert json.loads(created.example) == {"subscriptionId": "2531329f-fb09-4ef7-887e-84e648214436"}
    assert any("callback" in note for note in summary.notes)


def test_link_example():
    api = import_spec("oas30-link-example.yaml").api
    assert api.service_url == SERVICE_URL
    user = operation(api, "get-user-by-name")
    assert user.url_template == "/2.0/users/{username}"
    description = responses(user)[200].description
    assert description.startswith("The User")
    assert "userRepositories → `getRepositoriesByOwner`" in description
    merge = operation(api, "merge-pull-request")
    assert merge.url_template == "/2.0/repositories/{username}/{slug}/pullrequests/{pid}/merge"
    assert [p.name for p in merge.parameters.all()] == ["username", "slug", "pid"]
    pulls = operation(api, "get-pull-requests-by-repository")
    state = parameters(pulls)[("query", "state")]
    assert state.choices == ["open", "merged", "declined"]
    repository = json.loads(responses(operation(api, "get-repository"))[200].example)
    assert repository == {"slug": "string", "owner": {"username": "string", "uuid": "string"}}


def test_webhooks_are_skipped_and_said_so():
    summary = import_spec("oas31-webhook-example.yaml")
    assert list(summary.api.operations.values_list("slug", flat=True)) == ["list-pets"]
    assert any("webhook" in note and "newPet" in note for note in summary.notes)
    assert any(line.startswith("Note: 1 webhook(s) skipped (newPet)") for line in summary.lines())


def test_examples_from_examples_maps():
    api = import_spec("oas30-api-with-examples.yaml").api
    versions = operation(api, "list-versionsv2")
    found = responses(versions)
    assert set(found) == {200, 300}
    assert json.loads(found[200].example)["versions"][0]["id"] == "v2.0"
    # A string example of a JSON media type is parsed and pretty-printed.
    assert json.loads(found[300].example)["versions"][1]["status"] == "EXPERIMENTAL"
    assert found[300].example.startswith("{\n  ")
    assert set(responses(operation(api, "get-version-detailsv2"))) == {200, 203}


def test_a_document_without_a_server_needs_a_service_url():
    problems = problems_of(spec("oas30-link-example.yaml"))
    assert problems == [
        "/servers: the document has no server; give the service URL (--service-url or the "
        "admin field)"
    ]
    assert not Api.objects.exists()


# --- Generated documents ---------------------------------------------------------------


def test_recursive_schemas_end_at_the_depth_cap():
    doc = document(
        {
            "/trees": {
                "post": {
                    "operationId": "plantTree",
                    "requestBody": {
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Node"}}
                        }
                    },
                    "responses": {
                        "200": {
                            "description": "A or B",
                            "content": {
                                "application/json": {"schema": {"$ref": "#/components/schemas/A"}}
                            },
                        }
                    },
                }
            }
        },
        components={
            "schemas": {
                "Node": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "children": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Node"},
                        },
                        "parent": {"$ref": "#/components/schemas/Node"},
                    },
                },
                "A": {"type": "object", "properties": {"b": {"$ref": "#/components/schemas/B"}}},
                "B": {
                    "type": "object",
                    "properties": {
                        "a": {"$ref": "#/components/schemas/A"},
                        "list": {"type": "array", "items": {"$ref": "#/components/schemas/B"}},
                    },
                },
                "Deep": {"$ref": "#/components/schemas/Deeper"},
                "Deeper": {"type": "array", "items": {"$ref": "#/components/schemas/Deeper"}},
            }
        },
    )
    op = import_openapi(document=doc).api.operations.get()
    assert json.loads(op.body_example) == {"name": "string", "children": [{}], "parent": {}}
    assert json.loads(responses(op)[200].example) == {"b": {"a": {}, "list": [{}]}}


def test_deep_schemas_stop_at_the_depth_cap():
    schema: dict = {"type": "string"}
    for _ in range(EXAMPLE_MAX_DEPTH + 5):
        schema = {"type": "object", "properties": {"next": schema}}
    doc = document(
        {
            "/deep": {
                "post": {
                    "requestBody": {"content": {"application/json": {"schema": schema}}},
                    "responses": ok(),
                }
            }
        }
    )
    body = json.loads(import_openapi(document=doc).api.operations.get().body_example)
    depth = 0
    while body:
        body = body["next"]
        depth += 1
    assert body == {}
    assert depth == EXAMPLE_MAX_DEPTH


def test_generated_examples_follow_the_schema():
    doc = document(
        {
            "/things": {
                "post": {
                    "requestBody": {
                        "content": {
                            "application/xml": {"schema": {"type": "object"}},
                            "application/json": {"schema": {"$ref": "#/components/schemas/Thing"}},
                        }
                    },
                    "responses": {
                        "201": {
                            "description": "Created",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Thing"}
                                }
                            },
                        }
                    },
                }
            }
        },
        components={
            "schemas": {
                "Thing": {
                    "type": "object",
                    "required": ["id"],
                    "properties": {
                        "id": {"type": "string", "format": "uuid", "readOnly": True},
                        "created": {"type": "string", "format": "date-time"},
                        "email": {"type": "string", "format": "email"},
                        "kind": {"type": "string", "enum": ["big", "small"]},
                        "count": {"type": "integer", "minimum": 3},
                        "ratio": {"type": "number"},
                        "ok": {"type": "boolean"},
                        "label": {"type": "string", "example": "A label"},
                        "password": {"type": "string", "format": "password", "writeOnly": True},
                        "owner": {
                            "oneOf": [
                                {"type": "null"},
                                {"type": "object", "properties": {"name": {"type": "string"}}},
                            ]
                        },
                        "tags": {"type": "array", "items": {"type": "string"}},
                        "extra": {"type": "object", "additionalProperties": {"type": "integer"}},
                        "nullable": {"type": ["string", "null"], "default": "x"},
                    },
                }
            }
        },
    )
    op = import_openapi(document=doc).api.operations.get()
    assert op.request_content_type == "application/json"  # preferred over XML
    request = json.loads(op.body_example)
    assert "id" not in request  # read-only
    assert request["password"] == "********"
    assert request == {
        "created": "2024-01-01T12:00:00Z",
        "email": "user@example.com",
        "kind": "big",
        "count": 3,
        "ratio": 0,
        "ok": True,
        "label": "A label",
        "password": "********",
        "owner": {"name": "string"},
        "tags": ["string"],
        "extra": {"additionalProp1": 0},
        "nullable": "x",
    }
    response = json.loads(responses(op)[201].example)
    assert response["id"] == "3fa85f64-5717-4562-b3fc-2c963f66afa6"
    assert "password" not in response  # write-only


def test_every_parameter_location():
    doc = document(
        {
            "/items/{itemId}": {
                "get": {
                    "operationId": "getItem",
                    "parameters": [
                        {
                            "name": "itemId",
                            "in": "path",
                            "required": True,
                            "description": "The item.",
                            "schema": {"type": "integer", "example": 42},
                        },
                        {
                            "name": "fields",
                            "in": "query",
                            "required": True,
                            "schema": {"type": "string", "enum": ["all", "some"], "default": "all"},
                        },
                        {"name": "verbose", "in": "query", "schema": {"type": "boolean"}},
                        {
                            "name": "ids",
                            "in": "query",
                            "schema": {"type": "array", "items": {"type": "integer"}},
                            "example": [1, 2],
                        },
                        {"name": "ratio", "in": "query", "schema": {"type": "number"}},
                        {"name": "api_key", "in": "query", "schema": {"type": "string"}},
                        {
                            "name": "X-Request-Id",
                            "in": "header",
                            "schema": {"type": "string", "format": "uuid"},
                            "examples": {"one": {"value": "abc-123"}},
                        },
                        {"name": "Accept", "in": "header", "schema": {"type": "string"}},
                        {"name": "Content-Type", "in": "header", "schema": {"type": "string"}},
                        {"name": "Host", "in": "header", "schema": {"type": "string"}},
                        {"name": "session", "in": "cookie", "schema": {"type": "string"}},
                        {
                            "name": "old",
                            "in": "query",
                            "deprecated": True,
                            "description": "Use fields.",
                            "schema": {"type": "string"},
                        },
                    ],
                    "responses": ok(),
                }
            }
        }
    )
    summary = import_openapi(document=doc)
    op = summary.api.operations.get()
    assert op.url_template == "/items/{itemId}"
    found = parameters(op)
    assert list(found) == [
        ("template", "itemId"),
        ("query", "fields"),
        ("query", "verbose"),
        ("query", "ids"),
        ("query", "ratio"),
        ("query", "api_key"),
        ("header", "X-Request-Id"),
        ("cookie", "session"),
        ("query", "old"),
    ]
    item = found[("template", "itemId")]
    assert (item.required, item.type, item.default, item.description) == (
        True,
        "integer",
        "42",
        "The item.",
    )
    fields = found[("query", "fields")]
    assert (fields.required, fields.default, fields.choices) == (True, "all", ["all", "some"])
    assert found[("query", "verbose")].type == "boolean"
    assert (found[("query", "ids")].type, found[("query", "ids")].default) == ("string", "1,2")
    assert found[("query", "ratio")].type == "number"
    assert found[("query", "api_key")].secret  # a credential by its name
    assert found[("header", "X-Request-Id")].default == "abc-123"
    assert not found[("header", "X-Request-Id")].secret
    assert found[("query", "old")].description == "Deprecated. Use fields."
    # Accept and Content-Type are ignored (OpenAPI says so); Host is the portal's business.
    assert any("'Host'" in note for note in summary.notes)
    assert [p.order for p in op.parameters.all()] == list(range(9))


def test_shared_and_path_level_parameters():
    doc = document(
        {
            "/shops/{shopId}/orders": {
                "parameters": [
                    {"$ref": "#/components/parameters/ShopId"},
                    {"$ref": "#/components/parameters/Limit"},
                    {"name": "trace", "in": "header", "schema": {"type": "string"}},
                ],
                "get": {
                    "operationId": "listOrders",
                    "parameters": [
                        # The operation's own definition wins on name + in.
                        {
                            "name": "limit",
                            "in": "query",
                            "description": "At most 10 here.",
                            "schema": {"type": "integer", "default": 10},
                        },
                        {"$ref": "#/components/parameters/Page"},
                    ],
                    "responses": {"200": {"$ref": "#/components/responses/Orders"}},
                },
                "post": {
                    "operationId": "addOrder",
                    "requestBody": {"$ref": "#/components/requestBodies/Order"},
                    "responses": {"201": {"description": "Created"}},
                },
            }
        },
        components={
            "parameters": {
                "ShopId": {"name": "shopId", "in": "path", "required": True, "schema": {}},
                "Limit": {
                    "name": "limit",
                    "in": "query",
                    "description": "Page size.",
                    "schema": {"type": "integer", "default": 50},
                },
                "Page": {"name": "page", "in": "query", "schema": {"type": "integer"}},
            },
            "responses": {
                "Orders": {
                    "description": "The orders.",
                    "content": {
                        "application/json": {
                            "schema": {"type": "array", "items": {"type": "string"}},
                            "example": ["o-1"],
                        }
                    },
                }
            },
            "requestBodies": {
                "Order": {
                    "content": {
                        "application/json": {
                            "schema": {"type": "object"},
                            "examples": {"first": {"$ref": "#/components/examples/Order"}},
                        }
                    }
                }
            },
            "examples": {"Order": {"value": {"item": "pen", "count": 2}}},
        },
    )
    api = import_openapi(document=doc).api
    listing = parameters(operation(api, "list-orders"))
    assert list(listing) == [
        ("template", "shopId"),
        ("query", "limit"),
        ("header", "trace"),
        ("query", "page"),
    ]
    assert (listing[("query", "limit")].default, listing[("query", "limit")].description) == (
        "10",
        "At most 10 here.",
    )
    assert json.loads(responses(operation(api, "list-orders"))[200].example) == ["o-1"]
    adding = operation(api, "add-order")
    assert list(parameters(adding)) == [
        ("template", "shopId"),
        ("query", "limit"),
        ("header", "trace"),
    ]
    assert parameters(adding)[("query", "limit")].default == "50"
    assert json.loads(adding.body_example) == {"item": "pen", "count": 2}


def test_path_parameter_names_become_valid_placeholders():
    doc = document(
        {
            "/files/{file name}/v/{1st}/{$filter}/{ok.name-2}": {
                "get": {
                    "operationId": "getFile",
                    "parameters": [
                        {"name": "file name", "in": "path", "required": True, "schema": {}},
                        {"name": "1st", "in": "path", "required": True, "schema": {}},
                        {
                            "name": "$filter",
                            "in": "path",
                            "required": True,
                            "description": "OData.",
                            "schema": {},
                        },
                        {"name": "ok.name-2", "in": "path", "required": True, "schema": {}},
                    ],
                    "responses": ok(),
                }
            },
            "/spaces and ünïcode/{id}": {
                "get": {
                    "operationId": "odd",
                    "parameters": [{"name": "id", "in": "path", "required": True}],
                    "responses": ok(),
                }
            },
        }
    )
    summary = import_openapi(document=doc)
    op = operation(summary.api, "get-file")
    assert op.url_template == "/files/{file_name}/v/{p_1st}/{filter}/{ok.name-2}"
    assert parse_template(op.url_template).names == ["file_name", "p_1st", "filter", "ok.name-2"]
    found = parameters(op)
    assert set(found) == {
        ("template", "file_name"),
        ("template", "p_1st"),
        ("template", "filter"),
        ("template", "ok.name-2"),
    }
    assert (
        found[("template", "filter")].description == "OData. (`$filter` in the OpenAPI document.)"
    )
    assert found[("template", "file_name")].description == (
        "(`file name` in the OpenAPI document.)"
    )
    assert any("renamed" in note for note in summary.notes)
    odd = operation(summary.api, "odd")
    assert odd.url_template == "/spaces%20and%20%C3%BCn%C3%AFcode/{id}"


def test_security_schemes_become_secret_parameters():
    def op(operation_id: str, **extra) -> dict:
        return {"operationId": operation_id, "responses": ok(), **extra}

    doc = document(
        {
            "/a": {"get": op("globalKey")},
            "/b": {"get": op("queryKey", security=[{"queryKey": []}])},
            "/c": {"get": op("bearer", security=[{"bearer": []}])},
            "/d": {"get": op("basic", security=[{"basic": []}])},
            "/e": {"get": op("oauth", security=[{"oauth": ["read"]}])},
            "/f": {"get": op("oidc", security=[{"oidc": []}])},
            "/g": {"get": op("public", security=[])},
            "/h": {"get": op("optional", security=[{}, {"bearer": []}])},
            "/i": {"get": op("both", security=[{"headerKey": [], "queryKey": []}])},
            "/j": {"get": op("either", security=[{"bearer": []}, {"headerKey": []}])},
            "/k": {"get": op("cookieKey", security=[{"cookieKey": []}])},
        },
        security=[{"headerKey": []}],
        components={
            "securitySchemes": {
                "headerKey": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-API-Key",
                    "description": "Your key.",
                },
                "queryKey": {"type": "apiKey", "in": "query", "name": "code"},
                "cookieKey": {"type": "apiKey", "in": "cookie", "name": "sid"},
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "basic": {"type": "http", "scheme": "basic"},
                "oauth": {
                    "type": "oauth2",
                    "flows": {
                        "clientCredentials": {
                            "tokenUrl": "https://auth.example.com/token",
                            "scopes": {"read": "Read"},
                        }
                    },
                },
                "oidc": {
                    "type": "openIdConnect",
                    "openIdConnectUrl": "https://auth.example.com/.well-known/openid-configuration",
                },
            }
        },
    )
    api = import_openapi(document=doc).api

    def only(slug: str) -> Parameter:
        (parameter,) = operation(api, slug).parameters.all()
        return parameter

    key = only("global-key")
    assert (key.location, key.name, key.secret, key.required) == ("header", "X-API-Key", True, True)
    assert "Your key." in key.description
    code = only("query-key")
    assert (code.location, code.name, code.secret, code.required) == ("query", "code", True, True)
    bearer = only("bearer")
    assert (bearer.location, bearer.name, bearer.default, bearer.secret) == (
        "header",
        "Authorization",
        "Bearer ",
        True,
    )
    assert "JWT" in bearer.description
    basic = only("basic")
    assert (basic.name, basic.default, basic.secret) == ("Authorization", "Basic ", True)
    oauth = only("oauth")
    assert (oauth.name, oauth.default, oauth.secret) == ("Authorization", "Bearer ", True)
    assert "obtain the token elsewhere" in oauth.description
    assert "https://auth.example.com/token" in oauth.description
    oidc = only("oidc")
    assert (oidc.default, oidc.secret) == ("Bearer ", True)
    assert "openid-configuration" in oidc.description
    assert not operation(api, "public").parameters.exists()
    optional = only("optional")
    assert (optional.name, optional.required) == ("Authorization", False)
    assert {(p.location, p.name) for p in operation(api, "both").parameters.all()} == {
        ("header", "X-API-Key"),
        ("query", "code"),
    }
    # Either credential will do: neither is required.
    either = only("either")
    assert (either.name, either.required) == ("Authorization", False)
    assert "Alternatives: headerKey." in either.description
    cookie = only("cookie-key")
    assert (cookie.location, cookie.name, cookie.secret) == ("cookie", "sid", True)


def test_a_declared_authorization_header_is_merged_with_the_scheme():
    doc = document(
        {
            "/a": {
                "get": {
                    "parameters": [
                        {
                            "name": "authorization",
                            "in": "header",
                            "description": "Your token.",
                            "schema": {"type": "string"},
                        }
                    ],
                    "security": [{"bearer": []}],
                    "responses": ok(),
                }
            }
        },
        components={"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    )
    (parameter,) = import_openapi(document=doc).api.operations.get().parameters.all()
    assert (parameter.name, parameter.secret, parameter.required, parameter.default) == (
        "authorization",
        True,
        True,
        "Bearer ",
    )
    assert parameter.description == "Your token."


def test_swagger_20_security_body_and_form_data():
    doc = {
        "swagger": "2.0",
        "info": {"title": "Old API", "version": "2"},
        "host": "old.example.com:8443",
        "basePath": "/api/",
        "schemes": ["http", "https"],
        "consumes": ["application/json"],
        "produces": ["application/xml", "application/json"],
        "securityDefinitions": {
            "basic": {"type": "basic"},
            "key": {"type": "apiKey", "in": "header", "name": "api-key"},
            "oauth": {
                "type": "oauth2",
                "flow": "implicit",
                "authorizationUrl": "https://old.example.com/oauth",
                "scopes": {},
            },
        },
        "security": [{"key": []}],
        "parameters": {"Limit": {"name": "limit", "in": "query", "type": "integer", "default": 5}},
        "definitions": {
            "Order": {
                "type": "object",
                "properties": {"id": {"type": "integer"}, "when": {"type": "string"}},
                "example": {"id": 7, "when": "now"},
            }
        },
        "paths": {
            "/orders": {
                "get": {
                    "operationId": "listOrders",
                    "parameters": [{"$ref": "#/parameters/Limit"}],
                    "security": [{"oauth": []}],
                    "responses": {
                        "200": {
                            "description": "Orders",
                            "schema": {"type": "array", "items": {"$ref": "#/definitions/Order"}},
                        }
                    },
                },
                "post": {
                    "operationId": "addOrder",
                    "parameters": [
                        {
                            "name": "body",
                            "in": "body",
                            "required": True,
                            "schema": {"$ref": "#/definitions/Order"},
                        }
                    ],
                    "security": [{"basic": []}],
                    "responses": {
                        "201": {
                            "description": "Created",
                            "examples": {"application/json": {"id": 8}},
                        }
                    },
                },
            },
            "/forms": {
                "post": {
                    "operationId": "sendForm",
                    "consumes": ["application/x-www-form-urlencoded"],
                    "parameters": [
                        {"name": "name", "in": "formData", "type": "string", "required": True},
                        {"name": "age", "in": "formData", "type": "integer", "default": 30},
                    ],
                    "responses": {"204": {"description": "Sent"}},
                }
            },
            "/uploads": {
                "post": {
                    "operationId": "upload",
                    "parameters": [{"name": "file", "in": "formData", "type": "file"}],
                    "responses": {"204": {"description": "Stored"}},
                }
            },
        },
    }
    api = import_openapi(document=doc).api
    assert api.service_url == "https://old.example.com:8443/api"
    listing = operation(api, "list-orders")
    assert {(p.location, p.name, p.default) for p in listing.parameters.all()} == {
        ("query", "limit", "5"),
        ("header", "Authorization", "Bearer "),
    }
    listed = responses(listing)[200]
    assert listed.content_type == "application/json"  # JSON preferred among produces
    assert json.loads(listed.example) == [{"id": 7, "when": "now"}]
    adding = operation(api, "add-order")
    assert adding.request_content_type == "application/json"
    assert json.loads(adding.body_example) == {"id": 7, "when": "now"}
    assert parameters(adding)[("header", "Authorization")].default == "Basic "
    assert json.loads(responses(adding)[201].example) == {"id": 8}
    form = operation(api, "send-form")
    assert form.request_content_type == "application/x-www-form-urlencoded"
    assert form.body_example == "name=string&age=30"
    assert "`name` (string, required)" in form.description
    assert parameters(form)[("header", "api-key")].secret
    upload = operation(api, "upload")
    assert (upload.request_content_type, upload.body_example) == ("multipart/form-data", "")


def test_external_references_are_refused_without_fetching(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("the importer tried to connect")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    doc = document(
        {
            "/a": {
                "get": {
                    "parameters": [{"$ref": "common.yaml#/parameters/Limit"}],
                    "responses": {
                        "200": {
                            "description": "OK",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "https://schemas.example.com/pet.json"}
                                }
                            },
                        }
                    },
                }
            },
            "/b": {"$ref": "paths/b.yaml"},
        },
        components={
            "schemas": {
                "Local": {"type": "object", "properties": {"x": {"$ref": "./x.json"}}},
                # A "$ref" in an example is data, not a reference.
                "Data": {"type": "object", "example": {"$ref": "https://not-a-ref.example.com"}},
            }
        },
    )
    problems = problems_of(doc)
    assert len(problems) == 4
    expected = {
        "/paths/~1a/get/parameters/0/$ref": "common.yaml#/parameters/Limit",
        "/paths/~1a/get/responses/200/content/application~1json/schema/$ref": (
            "https://schemas.example.com/pet.json"
        ),
        "/paths/~1b/$ref": "paths/b.yaml",
        "/components/schemas/Local/properties/x/$ref": "./x.json",
    }
    for place, ref in expected.items():
        assert any(
            p.startswith(f"{place}: external reference {ref!r} is not supported") for p in problems
        ), (place, problems)
    assert not Api.objects.exists()


def test_errors_are_collected_with_json_pointers():
    doc = {
        "openapi": "3.0.3",
        "info": {"version": "1"},
        "servers": [{"url": "https://api.example.com"}],
        "paths": {
            "/pets/{petId}": {
                "get": {
                    "operationId": "getPet",
                    "parameters": [
                        {"in": "query", "schema": {"type": "string"}},
                        {"name": "x", "schema": {"type": "string"}},
                        {"name": "y", "in": "body"},
                        {"name": "other", "in": "path", "required": True},
                        {"$ref": "#/components/parameters/Missing"},
                    ],
                }
            },
            "/pets": {
                "get": {"operationId": "getPet", "responses": ok()},
                "post": {"responses": {"200": {"$ref": "#/components/responses/Loop"}}},
                "put": {"responses": {"600": {"description": "?"}}},
            },
            "pets": {"get": {"responses": ok()}},
            "/odd/{a": {"get": {"responses": ok()}},
        },
        "components": {
            "responses": {
                "Loop": {"$ref": "#/components/responses/Loop2"},
                "Loop2": {"$ref": "#/components/responses/Loop"},
            }
        },
    }
    problems = problems_of(doc)
    expected = [
        "/info/title: required",
        "/paths/~1pets~1{petId}/get/parameters/0/name: required",
        "/paths/~1pets~1{petId}/get/parameters/1/in: required",
        "/paths/~1pets~1{petId}/get/parameters/2/in: must be one of cookie, header, path, query, "
        "querystring",
        "/paths/~1pets~1{petId}/get/parameters/3/name: path parameter 'other' is not in the path "
        "'/pets/{petId}'",
        "/paths/~1pets~1{petId}/get/parameters/4/$ref: $ref '#/components/parameters/Missing' "
        "does not resolve: no 'parameters' there",
        "/paths/~1pets~1{petId}/get/responses: required",
        "/paths/~1pets/put/responses/600: a response code must be a status code (100-599), a "
        "range such as 4XX, or default",
        "/paths/pets: a path must start with '/'",
        "/paths/~1odd~1{a/get: the path '/odd/{a' has an unmatched '{' or '}'",
        "/paths/~1pets/get/operationId: duplicate operationId 'getPet' (also at "
        "/paths/~1pets~1{petId}/get/operationId)",
    ]
    for text in expected:
        assert text in problems, (text, problems)
    assert any(p.startswith("/components/responses/Loop/$ref: circular $ref") for p in problems), (
        problems
    )
    assert not Api.objects.exists()


def test_a_shared_parameter_is_reported_where_it_is_used():
    doc = document(
        {
            "/a": {
                "get": {"parameters": [{"$ref": "#/components/parameters/Id"}], "responses": ok()}
            },
            "/b/{id}": {
                "get": {"parameters": [{"$ref": "#/components/parameters/Id"}], "responses": ok()}
            },
        },
        components={"parameters": {"Id": {"name": "id", "in": "path", "required": True}}},
    )
    assert problems_of(doc) == [
        "/paths/~1a/get/parameters/0/name: path parameter 'id' is not in the path '/a'"
    ]


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ({"info": {"title": "x"}, "paths": {}}, "/openapi: required"),
        ({"openapi": "4.0.0", "info": {"title": "x"}, "paths": {}}, "/openapi: unsupported"),
        ({"openapi": "2.0", "info": {"title": "x"}, "paths": {}}, "/openapi: unsupported"),
        ({"swagger": "1.2", "info": {"title": "x"}, "paths": {}}, "/swagger: unsupported"),
        ({"swaggerVersion": "1.2", "apis": []}, "/swaggerVersion: Swagger 1.x documents"),
        ({"openapi": "3.0.0", "info": {"title": "x"}, "paths": []}, "/paths: must be an object"),
        ({"openapi": "3.0.0", "info": {"title": "x"}}, "/paths: required"),
        ({"openapi": "3.0.0", "info": "x", "paths": {}}, "/info: required"),
    ],
)
def test_documents_that_are_not_openapi_are_refused(doc, expected):
    doc.setdefault("servers", [{"url": "https://api.example.com"}])
    problems = problems_of(doc)
    assert any(p.startswith(expected) for p in problems), problems


@pytest.mark.parametrize("version", ["3.0.0", "3.0.3", "3.1.0", "3.1.1", "3.2.0"])
def test_supported_versions(version):
    doc = document({"/a": {"get": {"responses": ok()}}}, openapi=version)
    assert import_openapi(document=doc).api.operations.count() == 1


def test_openapi_31_allows_no_paths_and_no_responses():
    doc = document({"/a": {"get": {"operationId": "a"}}}, openapi="3.1.0")
    assert import_openapi(document=doc).api.operations.get().slug == "a"
    del doc["paths"]
    doc["webhooks"] = {}
    assert import_openapi(document=doc, api_slug="empty").api.operations.count() == 0


def test_trace_and_query_operations_are_skipped():
    doc = document(
        {"/a": {"get": {"responses": ok()}, "trace": {"responses": ok()}}}, openapi="3.2.0"
    )
    doc["paths"]["/a"]["query"] = {"responses": ok()}
    summary = import_openapi(document=doc)
    assert summary.api.operations.count() == 1
    assert any(note.startswith("TRACE /a skipped") for note in summary.notes)
    assert any(note.startswith("QUERY /a skipped") for note in summary.notes)


def test_the_service_url_comes_from_the_document_or_the_override():
    relative = document({"/a": {"get": {"responses": ok()}}})
    relative["servers"] = [{"url": "/v2"}]
    assert problems_of(relative) == [
        "/servers/0/url: the server URL '/v2' is relative; give the service URL (--service-url "
        "or the admin field)"
    ]
    api = import_openapi(document=relative, service_url="https://backend.example.com/v2/").api
    assert api.service_url == "https://backend.example.com/v2"
    # Updating that API: a document without a usable server keeps the API's service URL.
    assert import_openapi(document=relative).api.service_url == "https://backend.example.com/v2"

    templated = document({"/a": {"get": {"responses": ok()}}})
    templated["servers"] = [
        {
            "url": "https://{region}.example.com:{port}/{base}",
            "variables": {
                "region": {"default": "eu", "enum": ["eu", "us"]},
                "port": {"default": "8443"},
                "base": {"default": "v3"},
            },
        },
        {"url": "https://second.example.com"},
    ]
    assert import_openapi(document=templated, api_slug="t").api.service_url == (
        "https://eu.example.com:8443/v3"
    )
    templated["servers"][0]["variables"].pop("base")
    assert problems_of(templated, api_slug="t2") == [
        "/servers/0/variables: the server URL uses {base} but gives it no default value"
    ]


def test_the_service_url_must_pass_the_network_policy():
    doc = document({"/a": {"get": {"responses": ok()}}})
    doc["servers"] = [{"url": "http://169.254.169.254/latest"}]
    problems = problems_of(doc)
    assert len(problems) == 1
    assert problems[0].startswith("/servers/0/url: 169.254.169.254 is a link-local")
    assert "--service-url" in problems[0]
    problems = problems_of(doc, service_url="http://10.1.2.3/api")
    assert problems == [
        "service URL: 10.1.2.3 is not allowed by the portal's network policy: only public "
        "addresses and the networks in PORTAL_OUTBOUND_ALLOWED_NETWORKS."
    ]
    assert problems_of(doc, service_url="ftp://example.com") == [
        "service URL: The service URL must start with http:// or https://."
    ]


def test_slugs_names_and_uniqueness():
    doc = document(
        {
            "/a": {
                "get": {"operationId": "getUserByName", "responses": ok()},
                "post": {"operationId": "get-user-by-name", "responses": ok()},
                "put": {"operationId": "GetUserByName", "responses": ok()},
                "delete": {"summary": "  Remove\n  it  ", "responses": ok()},
                "patch": {"operationId": "日本", "responses": ok(), "deprecated": True},
            },
            "/very/long/{path}": {
                "get": {
                    "operationId": "x" * 150,
                    "tags": ["one", "two, three", 7],
                    "parameters": [{"name": "path", "in": "path", "required": True}],
                    "responses": ok(),
                }
            },
        }
    )
    api = import_openapi(document=doc, api_slug="my-api").api
    assert api.slug == "my-api"
    rows = list(api.operations.values_list("slug", "name", "operation_id", "deprecated"))
    assert rows[:5] == [
        ("get-user-by-name", "getUserByName", "getUserByName", False),
        ("get-user-by-name-2", "get-user-by-name", "get-user-by-name", False),
        ("get-user-by-name-3", "GetUserByName", "GetUserByName", False),
        ("delete-a", "Remove it", "", False),
        ("patch-a", "日本", "日本", True),
    ]
    long = api.operations.get(url_template="/very/long/{path}")
    assert long.slug == "x" * 100
    assert long.tags == "one, two  three"


def test_what_the_portal_export_writes_comes_back():
    doc = document(
        {
            "/keys/{key}": {
                "get": {
                    "operationId": "listThings",
                    "x-portal-slug": "list",
                    "parameters": [
                        {
                            "name": "key",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string", "format": "password"},
                        }
                    ],
                    # OpenAPI requires a response; exporters write a bare default one.
                    "responses": {"default": {"description": "Response"}},
                }
            }
        }
    )
    op = import_openapi(document=doc).api.operations.get()
    assert (op.slug, op.operation_id, op.description) == ("list", "listThings", "")
    assert parameters(op)[("template", "key")].secret
    assert not op.responses.exists()


def test_an_invalid_api_slug_is_refused():
    doc = document({"/a": {"get": {"responses": ok()}}})
    assert problems_of(doc, api_slug="not a slug") == [
        "api: the API slug 'not a slug' is not a valid slug"
    ]


# --- Synchronising an existing API -------------------------------------------------------


def pets_v1() -> dict:
    pet_id = {"name": "petId", "in": "path", "required": True, "schema": {"type": "integer"}}
    return document(
        {
            "/pets": {
                "get": {"operationId": "listPets", "summary": "List pets", "responses": ok()},
                "post": {"operationId": "createPet", "summary": "Create", "responses": ok()},
            },
            "/pets/{petId}": {
                "parameters": [pet_id],
                "get": {"operationId": "getPet", "summary": "Get", "responses": ok()},
                "delete": {"operationId": "deletePet", "summary": "Delete", "responses": ok()},
            },
        }
    )


def pets_v2() -> dict:
    doc = pets_v1()
    paths = doc["paths"]
    paths["/pets"]["get"]["summary"] = "List all pets"
    paths["/pets"]["get"]["parameters"] = [
        {"name": "limit", "in": "query", "schema": {"type": "integer"}}
    ]
    # Renamed operationId: matched by verb and path.
    paths["/pets/{id}"] = paths.pop("/pets/{petId}")
    item = paths["/pets/{id}"]
    item["parameters"] = [{"name": "id", "in": "path", "required": True}]
    item["get"]["operationId"] = "showPet"
    del item["delete"]
    item["put"] = {"operationId": "updatePet", "summary": "Update", "responses": ok()}
    return doc


def test_sync_adds_changes_removes_and_restores(django_user_model):
    first = import_openapi(document=pets_v1())
    api = first.api
    assert first.added == ["list-pets", "create-pet", "get-pet", "delete-pet"]
    ids = dict(api.operations.values_list("slug", "pk"))

    second = import_openapi(document=pets_v2())
    assert second.api.pk == api.pk
    assert not second.created_api
    assert second.added == ["update-pet"]
    assert second.changed == ["list-pets", "get-pet"]
    assert second.removed == ["delete-pet"]
    assert second.unchanged == 1
    assert second.headline == 'Imported "Test API" (test-api): 1 added, 2 changed, 1 removed.'
    lines = second.lines()
    assert "  added    update-pet  PUT /pets/{id}" in lines
    assert "  changed  get-pet  GET /pets/{id}" in lines
    assert "  removed  delete-pet  DELETE /pets/{petId}" in lines
    assert "  1 unchanged." in lines
    get = operation(api, "get-pet")
    assert get.pk == ids["get-pet"]  # the same row, so saved requests keep pointing at it
    assert (get.operation_id, get.url_template) == ("showPet", "/pets/{id}")
    assert list(get.parameters.values_list("name", flat=True)) == ["id"]
    assert list(parameters(operation(api, "list-pets"))) == [("query", "limit")]
    deleted = operation(api, "delete-pet")
    assert deleted.removed
    assert deleted.pk == ids["delete-pet"]
    assert list(api.operations.current().values_list("slug", flat=True)) == [
        "list-pets",
        "create-pet",
        "get-pet",
        "update-pet",
    ]

    third = import_openapi(document=pets_v1())
    assert third.added == ["delete-pet"]
    assert third.restored == ["delete-pet"]
    assert "  added    delete-pet  DELETE /pets/{petId} (restored)" in third.lines()
    assert third.changed == ["list-pets", "get-pet"]
    assert third.removed == ["update-pet"]
    assert not operation(api, "delete-pet").removed
    assert operation(api, "delete-pet").pk == ids["delete-pet"]
    assert operation(api, "get-pet").operation_id == "getPet"
    # A removed operation's slug stays taken.
    fourth = import_openapi(document=pets_v2())
    assert fourth.added == ["update-pet"]
    assert Operation.objects.filter(api=api, slug__startswith="update-pet").count() == 1


def test_reordering_alone_changes_nothing():
    import_openapi(document=pets_v1())
    doc = pets_v1()
    doc["paths"] = dict(reversed(list(doc["paths"].items())))
    summary = import_openapi(document=doc)
    assert (summary.added, summary.changed, summary.removed, summary.unchanged) == ([], [], [], 4)
    assert list(summary.api.operations.values_list("slug", flat=True)) == [
        "get-pet",
        "delete-pet",
        "list-pets",
        "create-pet",
    ]


def test_import_updates_the_api_itself():
    api = import_openapi(document=pets_v1()).api
    api.url_suffix = "custom"
    api.published = False
    api.save()
    doc = pets_v1()
    doc["info"] = {"title": "Test API", "version": "2.0", "description": "Now *with* text."}
    doc["servers"] = [{"url": "https://v2.example.com"}]
    api = import_openapi(document=doc).api
    api.refresh_from_db()
    assert (api.version, api.description, api.service_url) == (
        "2.0",
        "Now *with* text.",
        "https://v2.example.com",
    )
    # What the admin chose is kept.
    assert (api.url_suffix, api.published) == ("custom", False)


def test_a_saved_request_of_a_removed_operation_says_so(django_user_model):
    api = import_openapi(document=pets_v1()).api
    user = django_user_model.objects.create_user("tester", password="x-unused-password")
    collection = Collection.objects.create(owner=user, name="Pets")
    deleted = operation(api, "delete-pet")
    saved = SavedRequest.objects.create(
        collection=collection,
        operation=deleted,
        operation_label=f"{api.name}: {deleted.name}",
        name="Delete a pet",
        values={"template": {"petId": "1"}, "query": [], "headers": [], "body": None},
        expected_status=204,
    )
    import_openapi(document=pets_v2())
    outcome = replay.replay_saved_request(saved=saved, user=user)
    assert outcome.error == "The operation Test API: Delete no longer exists."
    assert outcome.exchange is None
    assert not outcome.passed


# --- One transaction -------------------------------------------------------------------


def many_operations(count: int) -> dict:
    paths = {}
    for index in range(count):
        paths[f"/things{index}/{{id}}"] = {
            "get": {
                "operationId": f"getThing{index}",
                "summary": f"Get thing {index}",
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}},
                    {"name": "expand", "in": "query", "schema": {"type": "boolean"}},
                ],
                "responses": {
                    "200": {
                        "description": "The thing",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}
                        },
                    },
                    "404": {"description": "Not found"},
                },
            }
        }
    return document(
        paths,
        components={
            "schemas": {
                "Thing": {
                    "type": "object",
                    "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
                }
            }
        },
    )


def test_an_error_in_the_500th_operation_changes_nothing():
    import_openapi(document=many_operations(20))
    before = snapshot()
    doc = many_operations(600)
    broken = doc["paths"]["/things499/{id}"]["get"]
    broken["parameters"].append({"name": "ghost", "in": "path", "required": True})
    problems = problems_of(doc)
    assert problems == [
        "/paths/~1things499~1{id}/get/parameters/2/name: path parameter 'ghost' is not in the "
        "path '/things499/{id}'"
    ]
    assert snapshot() == before


def test_a_failure_while_writing_rolls_everything_back(monkeypatch):
    import_openapi(document=many_operations(20))
    before = snapshot()
    doc = many_operations(30)
    doc["info"]["version"] = "2"
    doc["paths"]["/things3/{id}"]["get"]["summary"] = "Changed"

    def broken_bulk_create(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(ResponseDoc.objects, "bulk_create", broken_bulk_create)
    with pytest.raises(RuntimeError):
        import_openapi(document=doc)
    assert snapshot() == before


def test_reading_a_document_never_writes(django_assert_num_queries):
    with django_assert_num_queries(1):  # does an API with this slug exist (for its URL)?
        doc = pets_v1()
        del doc["servers"]
        with pytest.raises(OpenApiError):
            read_document(document=doc)


# --- Size ------------------------------------------------------------------------------


def big_document(operations: int) -> dict:
    """About 3 KB an operation, with shared schemas, parameters and security."""
    doc = many_operations(operations)
    doc["components"]["parameters"] = {
        "Page": {"name": "page", "in": "query", "schema": {"type": "integer", "default": 1}}
    }
    doc["components"]["securitySchemes"] = {
        "key": {"type": "apiKey", "in": "header", "name": "Key"}
    }
    doc["security"] = [{"key": []}]
    for index, item in enumerate(doc["paths"].values()):
        get = item["get"]
        get["description"] = f"Operation {index}. " + "Lorem ipsum dolor sit amet. " * 40
        get["tags"] = [f"group{index % 20}"]
        get["parameters"].append({"$ref": "#/components/parameters/Page"})
        item["post"] = {
            "operationId": f"updateThing{index}",
            "parameters": copy.deepcopy(get["parameters"][:1]),
            "requestBody": {
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                f"field{n}": {"type": "string", "description": "A field. " * 5}
                                for n in range(8)
                            },
                        }
                    }
                }
            },
            "responses": {"204": {"description": "Updated"}},
        }
    return doc


def test_a_thousand_operations_import_quickly_with_few_queries(django_assert_max_num_queries):
    # Bulk inserts: SQLite takes at most 999 values a statement, so about 60 statements
    # for 1,000 operations, 3,000 parameters and 1,500 responses; never one per operation.
    doc = big_document(500)
    text = json.dumps(doc)
    started = time.perf_counter()
    with django_assert_max_num_queries(80):
        summary = import_openapi(document=load_document(text=text))
    first = time.perf_counter() - started
    assert len(summary.added) == 1000
    assert Parameter.objects.count() == 500 * 4 + 500 * 2
    assert ResponseDoc.objects.count() == 500 * 3
    started = time.perf_counter()
    with django_assert_max_num_queries(20):
        again = import_openapi(document=load_document(text=text))
    assert again.unchanged == 1000
    # Generous bounds: the goal is 15 s for a 10 MB document; these take about a second.
    assert first < 10
    assert time.perf_counter() - started < 10


def test_the_shared_generator_document_imports():
    doc = generator.generate_document(operations=1000)
    methods = {"get", "put", "post", "delete", "options", "head", "patch"}
    expected = sum(
        1
        for path, item in doc.get("paths", {}).items()
        if not path.startswith("x-")
        for method in item
        if method in methods
    )
    started = time.perf_counter()
    summary = import_openapi(document=doc, service_url=SERVICE_URL)
    assert len(summary.added) == expected >= 1000
    assert time.perf_counter() - started < 15


# --- Loading JSON and YAML ---------------------------------------------------------------


def test_json_and_yaml_load_the_same():
    from_yaml = spec("oas30-petstore.yaml")
    text = json.dumps(from_yaml)
    assert load_document(text=text) == from_yaml
    assert load_document(text=text.encode()) == from_yaml
    assert load_document(text=b"\xef\xbb\xbf" + text.encode()) == from_yaml
    assert load_document(text=text.encode("utf-16")) == from_yaml
    # JSON that json refuses but YAML reads (a trailing comma is not one of those).
    assert load_document(text="{openapi: 3.0.0, info: {title: x}}") == {
        "openapi": "3.0.0",
        "info": {"title": "x"},
    }


def test_yaml_follows_the_core_schema():
    text = """
openapi: 3.0.0
values: [yes, no, on, off, true, False, ~, null, 12, -3, 0x1F, 0o17, 1.5, 1e3, .inf,
  2024-01-01, 1.0.0]
quoted: ["12", 'true']
tagged: [!!str 5, !!int "7", !!float "2"]
responses:
  200: {description: OK}
  default: {description: other}
"""
    loaded = load_document(text=text)
    assert loaded["values"] == [
        "yes",
        "no",
        "on",
        "off",
        True,
        False,
        None,
        None,
        12,
        -3,
        31,
        15,
        1.5,
        1000.0,
        float("inf"),
        "2024-01-01",
        "1.0.0",
    ]
    assert loaded["quoted"] == ["12", "true"]
    assert loaded["tagged"] == ["5", 7, 2.0]
    assert list(loaded["responses"]) == ["200", "default"]


def test_yaml_aliases_and_merge_keys():
    text = """
base: &base {description: Shared, type: string}
list: &list [1, 2]
merged:
  <<: *base
  type: integer
both: {<<: [*base, {extra: 1}]}
again: *list
"""
    loaded = load_document(text=text)
    assert loaded["merged"] == {"description": "Shared", "type": "integer"}
    assert loaded["both"] == {"description": "Shared", "type": "string", "extra": 1}
    assert loaded["again"] == [1, 2]


def test_an_alias_bomb_is_refused_quickly():
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, 12):
        previous = f"*a{level - 1}"
        lines.append(f"a{level}: &a{level} [{', '.join([previous] * 9)}]")
    started = time.perf_counter()
    with pytest.raises(OpenApiError) as caught:
        load_document(text="\n".join(lines))
    assert time.perf_counter() - started < 2
    assert caught.value.problems == [
        "/: YAML aliases expand the document to more than 1,000,000 extra values; refused."
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: &a [1, *a]", "/: the YAML alias *a (line 1, column 11) contains itself."),
        ("a: *nowhere", "/: the YAML alias *nowhere (line 1, column 4) has no anchor."),
        ("a: !include other.yaml", "/: the YAML tag !include (line 1, column 4) is not supported."),
        ("a: !!binary aGVsbG8=", "/: the YAML tag tag:yaml.org,2002:binary"),
        ("a: !!python/object:os.system {}", "/: the YAML tag tag:yaml.org,2002:python/object"),
        ("a: 1\n---\nb: 2\n", "/: the file holds several YAML documents (line 2, column 1)"),
        ("a: [1, 2\n", "/: the document is not valid YAML:"),
        (
            '{"a": 1,\n "b": [1, 2}',
            "/: the document is not valid JSON: Expecting ',' delimiter at line 2",
        ),
        ("- 1\n- 2\n", "/: the document must be an object (a mapping)"),
        ("just text", "/: the document must be an object"),
        ("", "/: the document is empty."),
        ("   \n", "/: the document is empty."),
        ("? [a, b]\n: c\n", "/: a YAML mapping key must be a plain value, not a collection."),
        ("a: " + "[" * 600 + "]" * 600, "/: the document nests more than 500 levels."),
        ("[" * 100_000 + "]" * 100_000, "/: the document"),
    ],
)
def test_documents_that_do_not_load(text, message):
    with pytest.raises(OpenApiError) as caught:
        load_document(text=text)
    assert len(caught.value.problems) == 1
    assert caught.value.problems[0].startswith(message), caught.value.problems


def test_bytes_that_are_not_text_are_refused():
    with pytest.raises(OpenApiError) as caught:
        load_document(text=b"openapi: 3.0.0\ninfo: \xff\xfe\xfa")
    assert caught.value.problems == ["/: the document is not UTF-8 text (byte 22)."]


def test_a_document_over_the_size_limit_is_refused(settings):
    settings.PORTAL_OPENAPI_MAX_BYTES = 2 * 1024 * 1024
    with pytest.raises(OpenApiError) as caught:
        load_document(text=b" " * (2 * 1024 * 1024 + 1))
    assert caught.value.problems == ["/: the document is larger than the limit of 2 MB."]
