"""Importing OpenAPI documents (the sample specs and generated ones) as APIs."""

from __future__ import annotations

import copy
import json
import socket
import time
from pathlib import Path

import pytest
from openapi_spec_validator import (
    OpenAPIV2SpecValidator,
    OpenAPIV30SpecValidator,
    OpenAPIV31SpecValidator,
    validate,
)

from catalog.models import Api, Operation, Parameter, ParameterLocation, ResponseDoc
from httpcore.templating import parse_template
from openapi.documents import load_document
from openapi.examples import OPTIONAL_MAX_DEPTH
from openapi.plans import ImportSummary, OpenApiError
from openapi.reader import read_document
from openapi.sync import import_openapi
from testing import replay
from testing.models import Collection, SavedRequest
from tests import openapi_generator as generator
from tests.sample_specs import SPECS, spec_files

pytestmark = pytest.mark.django_db

SERVICE_URL = "https://api.example.com/v1"
# Sample documents without a server: imported with SERVICE_URL.
WITHOUT_SERVER = {
    "oas30-callbacks.yaml",
    "oas30-examples.yaml",
    "oas30-links.yaml",
    "oas31-webhooks.json",
}
OPERATION_COUNTS = {
    "oas30-bodies.yaml": 7,
    "oas30-bookshop.yaml": 3,
    "oas30-callbacks.yaml": 1,
    "oas30-conformance.yaml": 9,
    "oas30-constraints.yaml": 2,
    "oas30-examples.yaml": 2,
    "oas30-library.yaml": 5,
    "oas30-parameters.yaml": 10,
    "oas30-links.yaml": 6,
    "oas30-weather.yaml": 3,
    "oas31-constraints.yaml": 2,
    "oas31-scoring.yaml": 6,
    "oas31-webhooks.json": 1,
    "swagger20-catalogue.json": 4,
}


def spec(name: str) -> dict:
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


def test_the_sample_documents_are_in_the_repository():
    assert [path.name for path in spec_files()] == sorted(OPERATION_COUNTS)
    versions = {
        (str(spec(name).get("openapi") or spec(name)["swagger"])[:3], Path(name).suffix)
        for name in OPERATION_COUNTS
    }
    assert versions == {("2.0", ".json"), ("3.0", ".yaml"), ("3.1", ".yaml"), ("3.1", ".json")}


@pytest.mark.parametrize("name", sorted(OPERATION_COUNTS))
def test_each_sample_document_is_valid_per_openapi_spec_validator(name):
    document = spec(name)
    expected = {
        "2.0": OpenAPIV2SpecValidator,
        "3.0": OpenAPIV30SpecValidator,
        "3.1": OpenAPIV31SpecValidator,
    }[str(document.get("openapi") or document["swagger"])[:3]]
    validate(document, cls=expected)


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


def test_bookshop_30():
    summary = import_spec("oas30-bookshop.yaml")
    api = summary.api
    assert (api.name, api.slug, api.url_suffix, api.version) == (
        "Corner Bookshop",
        "corner-bookshop",
        "corner-bookshop",
        "1.2.0",
    )
    assert api.service_url == "https://shop.example.com/api/v1"
    assert summary.headline == (
        'Imported "Corner Bookshop" (corner-bookshop): 3 added, 0 changed, 0 removed.'
    )
    assert list(api.operations.values_list("slug", "name", "method", "url_template")) == [
        ("list-books", "List the books on the shelves", "GET", "/books"),
        ("shelve-book", "Put a book on the shelves", "POST", "/books"),
        ("show-book-by-isbn", "One book by its ISBN", "GET", "/books/{isbn}"),
    ]
    list_books = operation(api, "list-books")
    assert (list_books.operation_id, list_books.tags, list_books.request_content_type) == (
        "listBooks",
        "books",
        "",
    )
    assert list(parameters(list_books)) == [("query", "pageSize")]
    page_size = parameters(list_books)[("query", "pageSize")]
    assert (page_size.type, page_size.required, page_size.default, page_size.description) == (
        "integer",
        False,
        "",
        "How many books a page holds (at most 50)",
    )
    listed = responses(list_books)
    assert set(listed) == {200}
    assert (listed[200].description, listed[200].content_type) == (
        "One page of books",
        "application/json",
    )
    assert json.loads(listed[200].example) == [{"isbn": "string", "title": "string", "pages": 0}]
    # The default response has no status code: the page lists it from the kept document
    # (tests/catalog/test_documentation_rendering.py), not the operation's description.
    assert list_books.description == ""
    assert list_books.openapi["responses"]["default"]["description"] == (
        "the shop could not answer"
    )

    shelve = operation(api, "shelve-book")
    assert shelve.request_content_type == "application/json"
    assert json.loads(shelve.body_example) == {"isbn": "string", "title": "string", "pages": 0}
    assert shelve.body_example.startswith("{\n  ")  # pretty JSON
    assert list(parameters(shelve)) == []
    assert (responses(shelve)[201].description, responses(shelve)[201].example) == (
        "On the shelf",
        "",
    )

    show = operation(api, "show-book-by-isbn")
    assert list(parameters(show)) == [("template", "isbn")]
    isbn = parameters(show)[("template", "isbn")]
    assert (isbn.required, isbn.type, isbn.description) == (
        True,
        "string",
        "The book's ISBN-13, digits only",
    )


def test_library_30_references_path_parameters_all_of_and_recursion():
    api = import_spec("oas30-library.yaml").api
    # The first of two servers.
    assert api.service_url == "https://library.example.org/v2"
    assert list(api.operations.values_list("slug", "method", "url_template")) == [
        ("find-loans", "GET", "/members/{memberId}/loans"),
        ("borrow-book", "POST", "/members/{memberId}/loans"),
        ("find-loan-by-id", "GET", "/members/{memberId}/loans/{loanId}"),  # "find loan by id"
        ("return-book", "DELETE", "/members/{memberId}/loans/{loanId}"),
        ("get-shelves", "GET", "/branches/{branch}/shelves"),
    ]
    # A path-level parameter ($ref to components/parameters) comes first.
    find = operation(api, "find-loans")
    assert list(parameters(find)) == [
        ("template", "memberId"),
        ("query", "branches"),
        ("query", "limit"),
    ]
    found = parameters(find)
    assert (found[("template", "memberId")].description, found[("template", "memberId")].type) == (
        "The member's card number",
        "string",
    )
    assert found[("query", "branches")].type == "string"  # an array is typed as text
    limit = found[("query", "limit")]
    assert (limit.type, limit.default, limit.required) == ("integer", "20", False)
    # A response given by $ref to components/responses.
    assert "Other responses" not in find.description
    assert find.openapi["responses"]["default"]["description"] == "the library could not do it"
    # Loan = allOf [NewLoan, {id}].
    assert json.loads(responses(find)[200].example) == [
        {"isbn": "string", "due": "2024-01-01", "id": 0}
    ]

    # A request body given by $ref to components/requestBodies.
    borrow = operation(api, "borrow-book")
    assert borrow.request_content_type == "application/json"
    assert json.loads(borrow.body_example) == {"isbn": "string", "due": "2024-01-01"}
    assert list(parameters(borrow)) == [("template", "memberId")]
    assert json.loads(responses(borrow)[201].example) == {
        "isbn": "string",
        "due": "2024-01-01",
        "id": 0,
    }

    loan = operation(api, "find-loan-by-id")
    assert loan.operation_id == "find loan by id"
    assert [(p.name, p.type, p.description) for p in loan.parameters.all()] == [
        ("memberId", "string", "The member's card number"),
        ("loanId", "integer", "The loan's number"),
    ]
    not_found = responses(loan)[404]
    assert (not_found.description, json.loads(not_found.example)) == (
        "no such loan",
        {"code": 0, "message": "string"},
    )

    # The operation's loanId replaces the path's, in the path's place.
    returned = operation(api, "return-book")
    assert [(p.name, p.description) for p in returned.parameters.all()] == [
        ("memberId", "The member's card number"),
        ("loanId", "The loan to close"),
    ]
    assert (responses(returned)[204].description, responses(returned)[204].example) == (
        "returned",
        "",
    )

    # Shelf holds shelves: the recursion is written as {}.
    shelves = operation(api, "get-shelves")
    assert json.loads(responses(shelves)[200].example) == {"label": "string", "shelves": []}
    assert parameters(shelves)[("template", "branch")].choices == ["central", "harbour"]


def test_swagger_20_catalogue():
    summary = import_spec("swagger20-catalogue.json")
    api = summary.api
    # schemes: [http] only.
    assert api.service_url == "http://catalogue.example.org/api"
    assert api.description.startswith("The catalogue of a lending library")
    assert list(api.operations.values_list("slug", "method", "url_template")) == [
        ("find-titles", "GET", "/titles"),
        ("add-title", "POST", "/titles"),
        ("find-title-by-id", "GET", "/titles/{id}"),
        ("withdraw-title", "DELETE", "/titles/{id}"),
    ]
    # The document's security: an API key in the query string.
    find = parameters(operation(api, "find-titles"))
    assert list(find) == [("query", "subjects"), ("query", "limit"), ("query", "key")]
    assert (find[("query", "subjects")].type, find[("query", "limit")].type) == (
        "string",
        "integer",
    )
    key = find[("query", "key")]
    assert (key.required, key.secret, key.default, key.description) == (
        True,
        True,
        "",
        "API key. The reader's key, from the library's web site.",
    )
    assert json.loads(responses(operation(api, "find-titles"))[200].example) == [
        {"id": 0, "name": "string", "subject": "string"}
    ]
    # The operation's security (basic) replaces the document's.
    add = operation(api, "add-title")
    assert add.request_content_type == "application/json"
    # newTitle = allOf [title, {required, id}].
    assert json.loads(add.body_example) == {"id": 0, "name": "string", "subject": "string"}
    assert list(parameters(add)) == [("header", "Authorization")]
    login = parameters(add)[("header", "Authorization")]
    assert (login.required, login.secret, login.default) == (True, True, "Basic ")
    assert login.description == (
        "HTTP Basic credentials: Basic base64(user:password). A librarian's login."
    )
    # A parameter from #/parameters and a response from #/responses.
    by_id = operation(api, "find-title-by-id")
    title_id = parameters(by_id)[("template", "id")]
    assert (title_id.required, title_id.type, title_id.description) == (
        True,
        "integer",
        "The title's catalogue number",
    )
    assert list(parameters(by_id)) == [("template", "id"), ("query", "key")]
    not_found = responses(by_id)[404]
    assert (not_found.description, json.loads(not_found.example)) == (
        "no title has that number",
        {"code": 0, "message": "string"},
    )
    withdraw = operation(api, "withdraw-title")
    assert list(parameters(withdraw)) == [("template", "id"), ("header", "Authorization")]
    assert withdraw.description == "Withdraws a title from the catalogue"
    assert withdraw.openapi["responses"]["default"]["description"] == (
        "the catalogue could not do it"
    )


def test_swagger_20_version_as_a_number_and_bare_definition_names():
    strict = import_spec("swagger20-catalogue.json", api_slug="strict").api
    loose = spec("swagger20-catalogue.json")
    # What older tools write, and openapi-spec-validator refuses.
    loose["swagger"] = 2.0
    loose["definitions"]["newTitle"]["allOf"][0] = {"$ref": "title"}
    loose["paths"]["/titles"]["get"]["responses"]["200"]["schema"]["items"] = {"$ref": "title"}
    loose_api = import_openapi(document=loose, api_slug="loose").api
    fields = ("slug", "method", "url_template", "body_example", "description")
    assert list(loose_api.operations.values_list(*fields)) == list(
        strict.operations.values_list(*fields)
    )
    assert [
        (r.status_code, r.example)
        for r in ResponseDoc.objects.filter(operation__api=loose_api).order_by("pk")
    ] == [
        (r.status_code, r.example)
        for r in ResponseDoc.objects.filter(operation__api=strict).order_by("pk")
    ]
    assert json.loads(operation(loose_api, "add-title").body_example) == {
        "id": 0,
        "name": "string",
        "subject": "string",
    }


def test_weather_30():
    api = import_spec("oas30-weather.yaml").api
    # The server variable {scheme} takes its default.
    assert api.service_url == "https://weather.example.net/stations-api"
    assert api.name == "Weather Stations API"
    assert list(api.operations.values_list("slug", "operation_id", "tags")) == [
        ("list-networks", "list-networks", "networks"),
        ("list-reading-fields", "list-reading-fields", "networks"),
        ("search-readings", "search-readings", "readings"),
    ]
    listing = operation(api, "list-networks")
    assert listing.url_template == "/"
    # The media type's literal example, not one generated from the schema.
    example = json.loads(responses(listing)[200].example)
    assert example["total"] == 2
    assert [network["networkKey"] for network in example["networks"]] == ["coastal", "alpine"]

    fields = operation(api, "list-reading-fields")
    assert fields.url_template == "/{network}/{version}/fields"
    found = parameters(fields)
    # The parameters' examples become their defaults.
    assert (found[("template", "network")].default, found[("template", "version")].default) == (
        "coastal",
        "v1",
    )
    assert set(responses(fields)) == {200, 404}
    assert responses(fields)[404].example == '"string"'

    search = operation(api, "search-readings")
    assert (search.method, search.url_template) == ("POST", "/{network}/{version}/readings")
    assert search.request_content_type == "application/x-www-form-urlencoded"
    assert search.body_example == "criteria=station:*&offset=0&rows=50"
    assert search.description == (
        "The readings that match the criteria, as objects keyed by field name.\n\n"
        "**Form fields** (`application/x-www-form-urlencoded`)\n\n"
        "- `criteria` (string, required): field:value pairs; station:* matches every station\n"
        "- `offset` (integer): The first reading to return, from 0.\n"
        "- `rows` (integer): How many readings to return."
    )
    # Declared version before network; the template's order wins.
    assert [(p.name, p.default) for p in search.parameters.all()] == [
        ("network", "coastal"),
        ("version", "v1"),
    ]
    assert responses(search)[404].example == ""
    assert json.loads(responses(search)[200].example) == [{"additionalProp1": {}}]


def test_callbacks_30():
    summary = import_spec("oas30-callbacks.yaml")
    op = summary.api.operations.get()
    # No operationId and no summary: named after the verb and path.
    assert (op.slug, op.name, op.operation_id) == ("post-subscriptions", "POST /subscriptions", "")
    assert list(parameters(op)) == [("query", "notifyUrl")]
    notify = parameters(op)[("query", "notifyUrl")]
    assert notify.required
    assert notify.default == "https://listener.example.com/scores"
    # One callback inline, one by $ref to components/callbacks.
    assert op.description == (
        "subscribes a listener to the events of the matches it follows\n\n"
        "**Callbacks** (requests the API sends; not imported)\n\n"
        "- `onGoal`: POST `{$request.query.notifyUrl}/goals`\n"
        "- `onFinalWhistle`: PUT `{$request.query.notifyUrl}/final`"
    )
    created = responses(op)[201]
    assert json.loads(created.example) == {"subscriptionId": "7c1e4b2a-90d3-4f6e-b8a5-1d2c3e4f5a6b"}
    assert summary.notes == [
        "2 callback(s) are described in their operations' descriptions and not imported: they "
        "are requests the API sends, not operations to try."
    ]


def test_links_30():
    api = import_spec("oas30-links.yaml").api
    assert api.service_url == SERVICE_URL
    reader = operation(api, "get-reader-by-handle")
    assert reader.url_template == "/readers/{handle}"
    # Links by $ref to components/links.
    assert responses(reader)[200].description == (
        "The reader\n\nLinks:\n- readerLists → `getListsByReader`"
    )
    # And one written in place, by operationRef.
    assert responses(operation(api, "get-list"))[200].description == (
        "The list\n\nLinks:\n- listEntries → `getEntriesByList`\n"
        "- listOwner → `#/paths/~1readers~1{handle}/get`"
    )
    finish = operation(api, "finish-entry")
    assert finish.url_template == "/readers/{handle}/lists/{listId}/entries/{entryId}/finish"
    assert [p.name for p in finish.parameters.all()] == ["handle", "listId", "entryId"]
    entries = operation(api, "get-entries-by-list")
    progress = parameters(entries)[("query", "progress")]
    assert progress.choices == ["to-read", "reading", "finished"]
    reading_list = json.loads(responses(operation(api, "get-list"))[200].example)
    assert reading_list == {
        "listId": "string",
        "owner": {"handle": "string", "joined": "2024-01-01"},
    }


def test_webhooks_are_skipped_and_said_so():
    summary = import_spec("oas31-webhooks.json")
    assert list(summary.api.operations.values_list("slug", flat=True)) == ["list-matches"]
    assert any(
        "webhook" in note and "goalScored" in note and "matchFinished" in note
        for note in summary.notes
    )
    assert any(
        line.startswith("Note: 2 webhook(s) skipped (goalScored, matchFinished)")
        for line in summary.lines()
    )
    # 3.1 schemas: a type list with null, and examples as a list.
    matches = responses(operation(summary.api, "list-matches"))[200]
    assert json.loads(matches.example) == [
        {"id": 0, "home": "string", "away": "string", "score": "0-0"}
    ]


def test_examples_from_examples_maps():
    api = import_spec("oas30-examples.yaml").api
    models = operation(api, "list-modelsv3")
    found = responses(models)
    assert set(found) == {200, 300}
    assert [model["id"] for model in json.loads(found[200].example)["models"]] == [
        "coast-3",
        "coast-4",
    ]
    # A string example of a JSON media type is parsed and pretty-printed.
    assert json.loads(found[300].example)["models"][1]["status"] == "TRIAL"
    assert found[300].example.startswith("{\n  ")
    details = operation(api, "get-model-detailsv3")
    assert set(responses(details)) == {200, 203}
    # An example by $ref to components/examples.
    outputs = json.loads(responses(details)[200].example)["model"]["outputs"]
    assert [output["base"] for output in outputs] == ["application/json", "text/csv"]
    assert json.loads(responses(details)[203].example)["model"]["mirror"] == (
        "https://mirror.forecast.example.net/v3/"
    )
    # A parameter's first example becomes its default.
    assert parameters(details)[("query", "region")].default == "north-sea"


def _wire(op: Operation) -> list[tuple[str, str, bool, bool, str]]:
    return [(p.location, p.name, p.required, p.secret, p.default) for p in op.parameters.all()]


def test_security_schemes_of_the_31_sample():
    api = import_spec("oas31-scoring.yaml").api
    assert api.service_url == "https://scoring.example.com/v3"
    # The document's security: a header key, or the same key in the query string.
    listing = operation(api, "list-scores")
    assert _wire(listing) == [
        ("query", "round", False, False, ""),
        ("header", "X-Request-Id", False, False, ""),
        ("header", "X-Club-Key", False, True, ""),
    ]
    assert parameters(listing)[("query", "round")].type == "integer"  # [integer, "null"]
    assert parameters(listing)[("header", "X-Club-Key")].description == (
        "API key. The club's key, from the league office. Alternatives: clubKeyQuery."
    )
    # http bearer; the body by $ref, readOnly left out of the request, writeOnly out of
    # the response (given by $ref to components/responses).
    record = operation(api, "record-score")
    assert _wire(record) == [("header", "Authorization", True, True, "Bearer ")]
    assert parameters(record)[("header", "Authorization")].description == (
        "Bearer token (JWT). The scorers' app's token."
    )
    assert json.loads(record.body_example) == {
        "matchId": 0,
        "home": 0,
        "away": 0,
        "note": "after extra time",
        "scorerPin": "string",
    }
    stored = responses(record)[201]
    assert stored.description == "The score as stored"
    assert json.loads(stored.example) == {
        "id": "string",
        "matchId": 0,
        "home": 0,
        "away": 0,
        "note": "after extra time",
    }
    # apiKey in the query string; the path parameter from the path item, by $ref.
    assert _wire(operation(api, "get-score")) == [
        ("template", "scoreId", True, False, "a"),
        ("query", "club_key", True, True, ""),
    ]
    # oauth2: a bearer token, with where to get it.
    correct = operation(api, "correct-score")
    assert _wire(correct) == [
        ("template", "scoreId", True, False, "a"),
        ("header", "Authorization", True, True, "Bearer "),
    ]
    assert parameters(correct)[("header", "Authorization")].description == (
        "Bearer access token (oauth2): obtain the token elsewhere "
        "(https://login.example.com/oauth2/token) and paste it after 'Bearer '. "
        "The league office's sign-in."
    )
    # One requirement of two schemes: http basic and the header key, both required.
    strike = operation(api, "strike-score")
    assert (strike.deprecated, strike.tags) == (True, "referees")
    assert _wire(strike) == [
        ("template", "scoreId", True, False, "a"),
        ("header", "Authorization", True, True, "Basic "),
        ("header", "X-Club-Key", True, True, ""),
    ]
    # security: [] asks for nothing; 3.1 allows an operation without responses.
    health = operation(api, "health")
    assert (_wire(health), list(responses(health))) == ([], [])


def test_a_document_without_a_server_needs_a_service_url():
    problems = problems_of(spec("oas30-links.yaml"))
    assert problems == [
        "/servers: the document has no server; give the service URL (--service-url or the "
        "admin field)"
    ]
    assert not Api.objects.exists()


# --- Generated documents ---------------------------------------------------------------


def test_recursive_schemas_stop_at_optional_properties():
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
    # A recursive $ref stops at the optional property (an array of them stays empty).
    assert json.loads(op.body_example) == {"name": "string", "children": []}
    assert json.loads(responses(op)[200].example) == {"b": {"list": []}}


def test_deep_optional_properties_stop_near_the_top_required_ones_do_not() -> None:
    optional: dict = {"type": "string"}
    required: dict = {"type": "string"}
    for _ in range(OPTIONAL_MAX_DEPTH + 5):
        optional = {"type": "object", "properties": {"next": optional}}
        required = {"type": "object", "required": ["next"], "properties": {"next": required}}
    schema = {"type": "object", "properties": {"optional": optional, "required": required}}
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
    # Optional properties: down to OPTIONAL_MAX_DEPTH, then an empty (valid) object.
    assert body["optional"] == {"next": {}}
    # Required ones: all the way down, to the string at the bottom.
    value, depth = body["required"], 0
    while isinstance(value, dict):
        value, depth = value["next"], depth + 1
    assert (value, depth) == ("string", OPTIONAL_MAX_DEPTH + 5)


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
    from_yaml = spec("oas30-bookshop.yaml")
    text = json.dumps(from_yaml)
    assert load_document(text=text) == from_yaml
    assert load_document(text=text.encode()) == from_yaml
    assert load_document(text=b"\xef\xbb\xbf" + text.encode()) == from_yaml
    assert load_document(text=text.encode("utf-16")) == from_yaml
    # A JSON sample reads as json reads it.
    as_json = (SPECS / "oas31-webhooks.json").read_bytes()
    assert load_document(text=as_json) == json.loads(as_json)
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
