"""The pages cost a fixed number of SQL queries, whatever the size of an API or catalog.

A generated API of 1,000 operations (tests/openapi_generator.py) is stored through the
ORM with bulk_create, beside one of 10 operations; each page must make the same number
of queries for both, and at most MAX_QUERIES.
"""

from __future__ import annotations

import functools
import json

import openapi_spec_validator as validator
import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Api, Operation
from catalog.selectors import UNTAGGED
from tests.backends import reply_with, scripted_server
from tests.openapi_generator import (
    SERVER_URL,
    bulk_create_api,
    generate_document,
    write_document,
)

pytestmark = pytest.mark.django_db

MAX_QUERIES = 10


@functools.cache
def document(operations: int) -> dict:
    """Generated once per size for the whole module; bulk_create_api does not change it."""
    return generate_document(operations=operations, tags=min(40, operations), seed=7)


@pytest.fixture
def small_api() -> Api:
    return bulk_create_api(document=document(10), slug="small", name="Small API")


@pytest.fixture
def big_api() -> Api:
    return bulk_create_api(document=document(1000), slug="big", name="Big API")


def queries(client, url: str) -> int:
    """The queries of a page once the process has loaded what it keeps (the gateway's
    registry answers whether an API needs a key), as in a portal that has been running."""
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured.captured_queries)


def tags_in_order(document: dict) -> list[str]:
    """The document's tags as the API page orders them: by their first operation."""
    tags: dict[str, None] = {}
    for item in document["paths"].values():
        for method, operation in item.items():
            if method != "parameters":
                tags.update(dict.fromkeys(operation.get("tags") or [UNTAGGED]))
    return list(tags)


def first_operation(api: Api) -> Operation:
    operation = api.operations.order_by("order").first()
    assert operation is not None
    return operation


def a_later_page(api: Api) -> int:
    return 2 if api.operations.count() <= 100 else 7


PAGES = {
    "catalog": lambda api: "/",
    "catalog search": lambda api: "/?q=account",
    "API page": lambda api: f"/apis/{api.slug}/",
    "API page, later page": lambda api: f"/apis/{api.slug}/?page={a_later_page(api)}",
    "API page, search": lambda api: f"/apis/{api.slug}/?q=account",
    "API page, search, page 2": lambda api: f"/apis/{api.slug}/?q=e&page=2",
    "operation page": lambda api: first_operation(api).get_absolute_url(),
}


@pytest.mark.parametrize("page", PAGES)
def test_query_count_is_small_and_does_not_grow_with_the_api(client, small_api, big_api, page):
    url = PAGES[page]
    small, big = queries(client, url(small_api)), queries(client, url(big_api))
    assert big <= MAX_QUERIES
    assert small == big


def test_signed_in_staff_pay_only_for_their_session(client, admin_client, small_api, big_api):
    """The user costs a query more, and so does the session unless it is read from Redis
    (REDIS_URL), on every page alike; the operation page also lists the user's own
    environments for its Try it form."""
    extra = 2 if settings.SESSION_ENGINE == "django.contrib.sessions.backends.db" else 1
    per_page = {page: extra for page in PAGES} | {"operation page": extra + 1}
    counts = {
        page: (queries(client, url(big_api)), queries(admin_client, url(big_api)))
        for page, url in PAGES.items()
    }
    assert {
        page: signed_in - anonymous for page, (anonymous, signed_in) in counts.items()
    } == per_page
    assert max(signed_in for _, signed_in in counts.values()) <= MAX_QUERIES
    for page, url in PAGES.items():
        assert queries(admin_client, url(small_api)) == counts[page][1], page


def test_the_big_api_is_really_big(client, big_api):
    assert big_api.operations.count() == 1000
    response = client.get(f"/apis/{big_api.slug}/")
    listing = response.context["listing"]
    assert listing.operation_count == 1000
    assert [entry.tag for entry in listing.tags] == tags_in_order(document(1000))
    assert UNTAGGED in tags_in_order(document(1000))  # a few operations have no tag
    assert len(listing.tags) == 41
    assert listing.page.paginator.num_pages >= 10
    assert sum(len(group.operations) for group in listing.groups) == 100


def test_the_api_page_loads_only_the_listed_columns(client, big_api):
    """Descriptions and examples (most of a 10 MB document) stay in the database."""
    with CaptureQueriesContext(connection) as captured:
        client.get(f"/apis/{big_api.slug}/?page=3")
    operation_queries = [q["sql"] for q in captured if 'FROM "operations_operation"' in q["sql"]]
    assert operation_queries
    for sql in operation_queries:
        assert '"body_example"' not in sql
        assert '"operations_operation"."description"' not in sql


def make_apis(count: int) -> None:
    apis = Api.objects.bulk_create(
        Api(
            name=f"API {n:03d}",
            slug=f"api-{n:03d}",
            service_url="https://api.example.com",
            description=f"API number {n}, with **Markdown**.",
            version="1.0",
        )
        for n in range(count)
    )
    Operation.objects.bulk_create(
        Operation(api=api, name=f"Op {k}", slug=f"op-{k}", url_template=f"/op/{k}", order=k)
        for api in apis
        for k in range(int(api.slug[-3:]) % 4)
    )


@pytest.mark.parametrize("search", ["", "api", "Op 2"])
def test_catalog_query_count_does_not_grow_with_the_number_of_apis(client, search):
    make_apis(10)
    few = queries(client, f"/?q={search}")
    Api.objects.all().delete()
    make_apis(200)
    many = queries(client, f"/?q={search}")
    assert many == few
    assert many <= MAX_QUERIES


def test_catalog_with_200_apis_counts_each_apis_operations(client):
    make_apis(200)
    response = client.get("/")
    apis = list(response.context["page"])  # the cards rendered (catalog/catalog_cards.py)
    assert len(apis) == 24
    assert response.context["page_links"][-1] == 9  # 200 APIs, 24 a page
    assert [api.operation_count for api in apis[:5]] == [0, 1, 2, 3, 0]
    assert b"3 operations" in response.content
    last = client.get("/", {"page": 9})
    assert [api.name for api in last.context["page"]][-1] == "API 199"


def test_imported_api_pages_cost_the_same(client, small_api):
    """Through the real importer too: what it stores lays out in the same few queries."""
    from openapi.sync import import_openapi

    import_openapi(document=document(1000), api_slug="imported")
    imported = Api.objects.get(slug="imported")
    assert imported.operations.count() == 1000
    for page in ("API page", "API page, later page", "API page, search", "operation page"):
        url = PAGES[page]
        assert queries(client, url(imported)) == queries(client, url(small_api)) <= MAX_QUERIES
    listing = client.get(f"/apis/{imported.slug}/").context["listing"]
    assert listing.operation_count == 1000
    assert [entry.tag for entry in listing.tags] == tags_in_order(document(1000))


# --- The generator itself -------------------------------------------------------------


def test_the_default_document_is_over_10_mb_with_1000_operations_in_40_tags():
    generated = generate_document()
    assert len(json.dumps(generated)) >= 10_000_000
    operations = [
        operation
        for item in generated["paths"].values()
        for method, operation in item.items()
        if method != "parameters"
    ]
    assert len(operations) == 1000
    assert len({operation["operationId"] for operation in operations}) == 1000
    assert len(generated["tags"]) == 40
    assert {
        len([m for m in item if m != "parameters"]) for item in generated["paths"].values()
    } == {
        1,
        2,
        3,
    }
    assert generated["servers"] == [{"url": SERVER_URL, "description": "Production"}]
    node = generated["components"]["schemas"]["Node"]["properties"]
    assert node["children"]["items"] == {"$ref": "#/components/schemas/Node"}
    shared = generated["components"]["parameters"]
    kinds = {
        shared[p["$ref"].rpartition("/")[2]]["in"] if "$ref" in p else p["in"]
        for op in operations
        for p in op["parameters"]
    }
    assert kinds == {"path", "query", "header"}
    assert any("$ref" in p for op in operations for p in op["parameters"])


def test_the_generator_is_deterministic():
    assert generate_document(operations=120, seed=3) == generate_document(operations=120, seed=3)
    assert generate_document(operations=120, seed=3) != generate_document(operations=120, seed=4)


@pytest.mark.parametrize("version", ["3.0.3", "3.1.0"])
def test_generated_documents_are_valid_openapi(version, tmp_path):
    path = write_document(tmp_path / "doc.json", operations=60, tags=6, version=version)
    validator.validate(json.loads(path.read_text()))


def test_the_catalog_counts_the_operations_of_its_page_only(client):
    """No join and GROUP BY over every operation: a subquery per listed API, and the
    paginator's count is a plain count of APIs. Only what a card shows is read."""
    make_apis(200)
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/")
    assert response.status_code == 200
    sql = [q["sql"] for q in captured]
    assert not [q for q in sql if "GROUP BY" in q]
    count, listing = [q for q in sql if 'FROM "operations_api"' in q]
    assert count.startswith("SELECT COUNT(*)")
    assert "operations_operation" not in count
    for column in ("service_url", "created_at", "updated_at", "url_suffix"):
        assert f'"operations_api"."{column}"' not in listing


def test_try_it_and_code_samples_do_not_read_documented_responses(client, demo_api):
    """Only the operation page lists the responses; a call or a sample does not load them."""
    operation = demo_api.operations.get(slug="bes-status")
    assert operation.responses.exists()
    base = operation.get_absolute_url()
    for url in (f"{base}try", f"{base}samples"):
        with CaptureQueriesContext(connection) as captured:
            response = client.post(url, {}, headers={"HX-Request": "true"})
        assert response.status_code == 200, url
        assert not [q for q in captured if "operations_responsedoc" in q["sql"]], url
    with CaptureQueriesContext(connection) as captured:
        page = client.get(base)
    assert [q for q in captured if "operations_responsedoc" in q["sql"]]
    assert b"The job&#x27;s status." in page.content or b"The job's status." in page.content


def test_a_try_it_call_costs_the_session_and_the_record(client):
    """The process keeps the operation with its parameters and which APIs need a key, so a
    call after the first one reads only the session (unless Redis has it) and writes the
    exchange."""
    with scripted_server(reply_with(200, body=b"ok")) as backend:
        api = Api.objects.create(name="Plain", slug="plain", service_url=backend.url)
        operation = Operation.objects.create(
            api=api, name="Ping", slug="ping", method="GET", url_template="/ping"
        )
        url = operation.get_absolute_url() + "try"
        client.post(url, {}, headers={"HX-Request": "true"})  # starts the session
        with CaptureQueriesContext(connection) as captured:
            response = client.post(url, {}, headers={"HX-Request": "true"})
        assert response.status_code == 200
        assert b"data-status>200 " in response.content
        assert len(backend.requests) == 2
    tables = [q["sql"].split('"')[1] for q in captured.captured_queries]
    expected = ["operations_exchange"]
    if settings.SESSION_ENGINE == "django.contrib.sessions.backends.db":
        expected.append("django_session")  # with REDIS_URL the session is read from Redis
    assert sorted(tables) == sorted(expected)


def test_a_second_visit_of_an_operation_page_runs_no_query(
    client, demo_api, django_assert_num_queries
):
    """The operation with its parameters and its documented responses are kept by the
    process (catalog/snapshot.py): rendering the page reads nothing."""
    operation = demo_api.operations.get(slug="bes-status")
    client.get(operation.get_absolute_url())
    with django_assert_num_queries(0):
        page = client.get(operation.get_absolute_url())
    assert page.status_code == 200
    assert b'data-response="200"' in page.content


def test_a_changed_documented_response_shows_at_once(client, demo_api):
    operation = demo_api.operations.get(slug="bes-status")
    assert b"Answered from the kept copy" not in client.get(operation.get_absolute_url()).content
    response = operation.responses.get(status_code=200)
    response.description = "Answered from the kept copy, or not."
    response.save()
    assert b"Answered from the kept copy" in client.get(operation.get_absolute_url()).content
    operation.responses.create(status_code=418, description="Brewing.")
    assert b'data-response="418"' in client.get(operation.get_absolute_url()).content
