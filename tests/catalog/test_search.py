"""The catalog's search of operations: fields, ranking, visibility, plain-text queries,
pagination, and the PostgreSQL index kept in step with imports (run on both databases)."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from catalog import search
from catalog import snapshot as catalog_snapshot
from catalog.models import Api, Operation
from catalog.search import MAX_QUERY_CHARS, RESULTS_PER_PAGE, parse_query, search_operations
from catalog.selectors import RowsInOrder
from openapi.sync import import_openapi
from tests.factories import make_user
from tests.markup import attr, one

pytestmark = pytest.mark.django_db


def _api(slug: str, name: str, *, published: bool = True) -> Api:
    return Api.objects.create(
        name=name, slug=slug, service_url="https://api.example.com", published=published
    )


def _operation(api: Api, slug: str, **fields: object) -> Operation:
    defaults: dict[str, object] = {"name": slug, "url_template": f"/{slug}"}
    return Operation.objects.create(api=api, slug=slug, **{**defaults, **fields})


def _found(client: Client, query: str) -> list[str]:
    response = client.get("/", {"q": query})
    assert response.status_code == 200
    return [operation.slug for operation in response.context["results"]]


@pytest.fixture
def pets() -> Api:
    api = _api("petstore", "Pet Store")
    _operation(
        api,
        "get-pet",
        name="Find pet by ID",
        operation_id="getPetById",
        url_template="/pets/{petId}",
        description="Returns one animal.",
        order=1,
    )
    _operation(
        api,
        "list-orders",
        name="List orders",
        operation_id="listOrders",
        url_template="/orders",
        description="Orders placed for a pet.",
        order=2,
    )
    _operation(
        api,
        "upload-photo",
        name="Upload photo",
        operation_id="uploadPhoto",
        url_template="/photos",
        tags="pets",
        order=3,
    )
    return api


def test_ranked_name_and_path_hits_then_tags_then_descriptions(client: Client, pets: Api) -> None:
    assert _found(client, "pet") == ["get-pet", "upload-photo", "list-orders"]


def test_an_exact_operation_id_ranks_above_a_name_holding_it_and_a_description(
    client: Client, pets: Api
) -> None:
    _operation(pets, "mentions", name="Audit", description="Call listOrders first.", order=0)
    _operation(pets, "list-orders-v2", name="listOrdersV2", url_template="/v2/orders", order=0)
    assert _found(client, "listOrders") == ["list-orders", "list-orders-v2", "mentions"]
    assert _found(client, "/orders") == ["list-orders", "list-orders-v2"]


@pytest.mark.parametrize(
    "query",
    [
        *("zebra", "Zebra Summary"),  # name
        *("quaggaOperation", "quagga"),  # operationId
        *("/okapi/{id}", "okapi"),  # URL template
        "giraffe",  # tags
        *("narwhal", "NARWHAL description"),  # description
    ],
)
def test_each_field_is_searched(client: Client, query: str) -> None:
    api = _api("zoo", "Zoo")
    _operation(
        api,
        "animal",
        name="Zebra summary",
        operation_id="quaggaOperation",
        url_template="/okapi/{id}",
        tags="giraffe",
        description="A narwhal description.",
    )
    _operation(api, "other", name="Other", description="Nothing to see.")
    assert _found(client, query) == ["animal"]


def test_every_word_must_match(client: Client, pets: Api) -> None:
    assert _found(client, "photo pets") == ["upload-photo"]
    assert _found(client, "photo orders") == []


def test_a_result_shows_its_api_method_path_and_links_to_the_operation(
    client: Client, pets: Api
) -> None:
    response = client.get("/", {"q": "getPetById"})
    soup = BeautifulSoup(response.content, "html.parser")
    result = one(soup, ".operation-result")
    assert one(result, ".method").get_text() == "GET"
    assert attr(one(result, "a.operation-name"), "href") == "/apis/petstore/operations/get-pet/"
    assert one(result, "a.operation-name").get_text() == "Find pet by ID"
    assert one(result, ".operation-result-path").get_text() == "/pets/{petId}"
    assert one(result, ".operation-result-api").get_text(strip=True) == "Pet Store"
    assert (
        one(soup, "#search-summary")
        .get_text()
        .startswith("1 API and 1 operation matching “getPetById”.")
    )  # the API of a matching operation is found too


def test_an_api_is_found_by_any_field_of_its_operations(client: Client, pets: Api) -> None:
    _api("zoo", "Zoo")
    response = client.get("/", {"q": "animal"})  # the description of get-pet only
    assert [api.slug for api in response.context["page"]] == ["petstore"]
    assert _found(client, "animal") == ["get-pet"]


def test_apis_are_still_found_by_their_own_fields(client: Client, pets: Api) -> None:
    response = client.get("/", {"q": "Pet Store"})
    assert [api.slug for api in response.context["page"]] == ["petstore"]
    assert [operation.slug for operation in response.context["results"]] == []
    assert "No operation matches “Pet Store”." in response.content.decode()


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("anonymous", ["get-pet"]),
        ("user", ["get-pet"]),
        ("staff", ["get-pet", "lab-pet"]),
    ],
)
def test_unpublished_apis_operations_for_staff_only(
    client: Client, pets: Api, persona: str, expected: list[str]
) -> None:
    hidden = _api("lab", "Lab", published=False)
    _operation(hidden, "lab-pet", name="Find pet by ID in the lab", url_template="/lab")
    _operation(pets, "gone-pet", name="Find pet by ID, old", removed=True)
    if persona != "anonymous":
        client.force_login(make_user(persona, staff=persona == "staff"))
    assert _found(client, "Find pet by ID") == expected
    page = client.get("/", {"q": "Find pet by ID"}).content.decode()
    assert ("in the lab" in page) is (persona == "staff")
    assert "Find pet by ID, old" not in page


@pytest.fixture
def punctuated() -> Api:
    api = _api("marks", "Marks")
    _operation(api, "cats", name="Cats & dogs (beta)!", url_template="/cats")
    _operation(api, "sure", name="Rate 100% sure", url_template="/sure")
    _operation(api, "thousand", name="Rate 1000 sure", url_template="/thousand")
    _operation(api, "underscore", name="Underscore", url_template="/a_b")
    _operation(api, "axb", name="Letter", url_template="/axb")
    return api


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Cats & dogs (beta)!", ["cats"]),
        ("100%", ["sure"]),
        ("%", ["sure"]),
        ("a_b", ["underscore"]),
        ("_", ["underscore"]),
        ("&|!:*'()", []),
        ("cats:*", []),
        ("!cats", []),
        ("cats | dogs", []),
        ("'); DROP TABLE operations_operation; --", []),
    ],
)
def test_special_characters_are_plain_text(
    client: Client, punctuated: Api, query: str, expected: list[str]
) -> None:
    assert _found(client, query) == expected
    assert Operation.objects.count() == 5  # nothing the query held ran as SQL


def test_a_word_without_letters_or_digits_is_not_looked_for_in_descriptions(
    client: Client, punctuated: Api
) -> None:
    _operation(punctuated, "described", name="Described", description="Costs 5 % & more.")
    assert _found(client, "%") == ["sure"]
    assert _found(client, "&") == ["cats"]
    assert _found(client, "costs") == ["described"]
    assert _found(client, "costs %") == []  # "%" is in its description only


def test_a_query_with_no_hits_says_so(client: Client, punctuated: Api) -> None:
    response = client.get("/", {"q": "&|!:*'()"})
    soup = BeautifulSoup(response.content, "html.parser")
    assert one(soup, "#search-nothing").get_text() == "No API and no operation match “&|!:*'()”."


def test_query_length_is_capped(client: Client, pets: Api) -> None:
    response = client.get("/", {"q": "pet " + "x" * 200})
    assert response.context["search"] == ("pet " + "x" * 200)[:MAX_QUERY_CHARS]
    soup = BeautifulSoup(response.content, "html.parser")
    assert one(soup, "#search-truncated").get_text() == (
        f"Only the first {MAX_QUERY_CHARS} characters were searched."
    )
    assert attr(one(soup, "input[name=q]"), "maxlength") == str(MAX_QUERY_CHARS)
    assert client.get("/", {"q": "pet"}).context["search_truncated"] is False


def test_results_are_paginated(client: Client) -> None:
    api = _api("bulk", "Bulk")
    for number in range(RESULTS_PER_PAGE + 5):
        _operation(api, f"op-{number:02d}", name=f"Bulk {number:02d}", order=number)
    first = client.get("/", {"q": "bulk"})
    assert [op.slug for op in first.context["results"]] == [
        f"op-{number:02d}" for number in range(RESULTS_PER_PAGE)
    ]
    soup = BeautifulSoup(first.content, "html.parser")
    pages = one(soup, "nav[aria-label='Pages of matching operations']")
    assert attr(one(pages, "a[rel=next]"), "href") == "?q=bulk&ops=2"
    second = client.get("/", {"q": "bulk", "ops": "2"})
    assert [op.slug for op in second.context["results"]] == [
        f"op-{number:02d}" for number in range(RESULTS_PER_PAGE, RESULTS_PER_PAGE + 5)
    ]
    # Past the end: the last page.
    assert client.get("/", {"q": "bulk", "ops": "99"}).context["results"].number == 2


def test_an_empty_query_shows_the_catalog(client: Client, pets: Api) -> None:
    response = client.get("/", {"q": "   "})
    assert response.context["results"] is None
    assert [api.slug for api in response.context["page"]] == ["petstore"]
    assert "operation-results-heading" not in response.content.decode()


def _spec(summary: str, tag: str) -> dict:
    operation = {
        "operationId": "fetchKiwi",
        "summary": summary,
        "tags": [tag],
        "parameters": [
            {"name": "kiwiId", "in": "path", "required": True, "schema": {"type": "string"}}
        ],
        "responses": {"200": {"description": "The kiwi."}},
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": "Imported", "version": "1"},
        "paths": {"/kiwis/{kiwiId}": {"get": operation}},
    }


def test_imports_and_edits_are_found_at_once(client: Client) -> None:
    service_url = "https://api.example.com"
    import_openapi(
        document=_spec("Fetch a kiwi", "birds"), api_slug="imported", service_url=service_url
    )
    assert _found(client, "kiwi") == ["fetch-kiwi"]
    import_openapi(
        document=_spec("Fetch a takahe", "rare"), api_slug="imported", service_url=service_url
    )
    assert _found(client, "takahe") == ["fetch-kiwi"]
    assert _found(client, "birds") == []
    operation = Operation.objects.get(slug="fetch-kiwi")
    operation.description = "Now with a moa."
    operation.save()
    assert _found(client, "moa") == ["fetch-kiwi"]


def test_postgresql_searches_through_its_full_text_index(client: Client) -> None:
    columns = [
        column.name
        for column in connection.introspection.get_table_description(
            connection.cursor(), "operations_operation"
        )
    ]
    if connection.vendor != "postgresql":
        _sqlite_searches_through_its_fts5_table(client, columns)
        return
    assert "search_vector" in columns
    indexes = connection.introspection.get_constraints(connection.cursor(), "operations_operation")
    assert indexes["operations_operation_search"]["type"] == "gin"
    api = _api("many", "Many")
    Operation.objects.bulk_create(
        Operation(api=api, slug=f"op-{n}", name=f"Operation {n}", url_template=f"/o/{n}")
        for n in range(200)
    )
    Operation.objects.filter(slug="op-7").update(name="Needle here")
    with CaptureQueriesContext(connection) as queries:
        search_operations(user=AnonymousUser(), query=parse_query(raw="needle"))
    # The index's best matches are read by one statement, a function told not to read the
    # table whole (the planner would, at 20,000 operations: docs/design.md "Search"), then
    # the rows found.
    best, rows = (query["sql"] for query in queries.captured_queries)
    assert best.startswith("SELECT hit_id FROM operations_operation_best_matches(")
    assert "LIKE" not in rows
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT proconfig FROM pg_proc WHERE proname = 'operations_operation_best_matches'"
        )
        assert cursor.fetchone() == (["enable_seqscan=off"],)
        cursor.execute("SET LOCAL enable_seqscan = off")  # as the function's SET clause
        cursor.execute(
            "EXPLAIN SELECT id FROM operations_operation "
            "WHERE search_naming @@ to_tsquery('simple', 'needle:*') LIMIT 201"
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "operations_operation_search_naming" in plan
    assert _found(client, "needle") == ["op-7"]


def _sqlite_searches_through_its_fts5_table(client: Client, columns: list[str]) -> None:
    assert "search_vector" not in columns
    api = _api("many", "Many")
    Operation.objects.bulk_create(
        Operation(api=api, slug=f"op-{n}", name=f"Operation {n}", url_template=f"/o/{n}")
        for n in range(200)
    )
    Operation.objects.filter(slug="op-7").update(name="Needle here")
    Operation.objects.filter(slug="op-8").update(operation_id="findHaystackNeedles")
    Operation.objects.filter(slug="op-9").delete()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rowid FROM operations_operation_search "
            "WHERE operations_operation_search MATCH 'operation'"
        )
        indexed = {row[0] for row in cursor.fetchall()}
    assert indexed == set(Operation.objects.exclude(slug="op-7").values_list("id", flat=True))
    with CaptureQueriesContext(connection) as queries:
        search_operations(user=AnonymousUser(), query=parse_query(raw="needle"))
    # Field by field, each unordered and limited, until enough are found; then the rows.
    statements = [query["sql"] for query in queries.captured_queries]
    select = "SELECT rowid FROM operations_operation_search WHERE operations_operation_search"
    assert statements[:3] == [
        f"{select} MATCH '{{naming}} : (\"needle\"*)' LIMIT 201",
        f"{select} MATCH '{{tags}} : (\"needle\"*)' LIMIT 201",
        f"{select} MATCH '\"needle\"*' LIMIT 201",
    ]
    taken = f"({Operation.objects.get(slug='op-7').pk}, {Operation.objects.get(slug='op-8').pk})"
    assert len(statements) == 4
    assert f'"operations_operation"."id" IN {taken}' in statements[3]
    assert "LIKE" not in statements[3]
    assert _found(client, "needle") == ["op-7", "op-8"]
    assert _found(client, "Needles haystack") == ["op-8"]  # camel-case pieces, any order
    assert _found(client, "eedle") == []  # the start of a word, as on PostgreSQL


def test_words_past_the_start_of_a_description_are_not_indexed(client: Client, pets: Api) -> None:
    _operation(pets, "long", name="Long", description="x " * 600 + "albatross " + "y " * 20)
    _operation(pets, "early", name="Early", description="An albatross, early on.")
    assert _found(client, "albatross") == ["early"]


def test_the_index_ranks_its_best_matches_only_and_says_more(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search, "MAX_RANKED", 3)
    api = _api("bulk", "Bulk")
    for number in range(6):
        _operation(api, f"op-{number}", name=f"Item {number}", description="A wombat.")
    _operation(api, "named", name="Wombat", order=9)
    response = client.get("/", {"q": "wombat"})
    # The best by the index's rank (a name hit) among the four it ranks, first.
    assert response.context["results"][0].slug == "named"
    assert len(response.context["results"]) == 4
    summary = one(BeautifulSoup(response.content, "html.parser"), "#search-summary")
    assert summary.get_text().startswith("1 API and more than 3 operations matching “wombat”.")
    assert _found(client, "item wombat") == ["op-0", "op-1", "op-2", "op-3"]


def test_past_the_cap_naming_hits_are_taken_before_tags_and_descriptions(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search, "MAX_RANKED", 2)
    api = _api("bulk", "Bulk")
    for number in range(4):  # first in the index, but hits in the description only
        _operation(api, f"told-{number}", name=f"Told {number}", description="About a quokka.")
    _operation(api, "tagged", name="Tagged", tags="quokka")
    _operation(api, "named", name="Quokka", order=9)
    _operation(api, "path", name="Path", url_template="/quokkas", order=8)
    assert _found(client, "quokka") == ["named", "path", "tagged"]
    monkeypatch.setattr(search, "MAX_RANKED", 3)
    assert _found(client, "quokka") == ["named", "path", "tagged", "told-0"]


def test_a_query_without_letters_or_digits_reads_what_the_process_keeps(
    client: Client, punctuated: Api
) -> None:
    anonymous = AnonymousUser()
    assert search_operations(user=anonymous, query=parse_query(raw="&")).count == 1
    with CaptureQueriesContext(connection) as queries:
        matches = search_operations(user=anonymous, query=parse_query(raw="( !"))
    assert len(queries) == 0
    assert [Operation.objects.get(pk=pk).slug for pk in matches.ids] == ["cats"]
    # A change is seen at once: the kept fields go with the catalog's generation.
    _operation(punctuated, "pipes", name="Pipes | and ( brackets !", url_template="/p")
    assert _found(client, "( !") == ["cats", "pipes"]
    operation = Operation.objects.get(slug="cats")
    operation.name = "Cats and dogs"
    operation.save()
    assert _found(client, "( !") == ["pipes"]
    Operation.objects.filter(slug="pipes").update(removed=True)  # a bulk statement: no signal
    catalog_snapshot.forget_local()  # as PORTAL_GATEWAY_ROUTE_CACHE_SECONDS later
    assert _found(client, "( !") == []


def test_a_found_apis_card_counts_its_current_operations(client: Client, pets: Api) -> None:
    _operation(pets, "old", name="Old pet", removed=True)

    def card_count() -> int:
        response = client.get("/", {"q": "orders"})
        [card] = response.context["page"]
        return card.operation_count

    assert card_count() == 3
    _operation(pets, "new", name="New")
    assert card_count() == 4


def test_rows_in_order_load_only_the_slice_asked_for() -> None:
    loaded: list[list[int]] = []

    def load(ids: list[int]) -> dict[int, str]:
        loaded.append(ids)
        return {row_id: f"row {row_id}" for row_id in ids if row_id != 7}  # 7 is gone

    rows = RowsInOrder([9, 3, 7, 5], load)
    assert len(rows) == 4
    assert rows[1:4] == ["row 3", "row 5"]
    assert rows[0] == "row 9"
    assert rows[-1] == "row 5"
    assert rows[10:] == []
    assert loaded == [[3, 7, 5], [9], [5]]  # an empty slice loads nothing
    with pytest.raises(IndexError):
        rows[10]
