"""openapi.plan: what an import would change, and whether the document looks
like a new version of the API it would update."""

from __future__ import annotations

import pytest

from catalog.models import Api, Operation
from openapi.documents import load_document
from openapi.plan import apply_plan, free_slug, plan_import
from openapi.sync import PlanChanged, import_openapi
from tests.openapi_documents import ORDERS_V1, ORDERS_V2, OTHER_ORDERS

pytestmark = pytest.mark.django_db

OPERATIONS_REASON = (
    "{kept} of the API's {current} operations are in the document under the same "
    "operationId (or verb and path)"
)


def doc(text: str) -> dict:
    return load_document(text=text)


def with_server(text: str, url: str) -> dict:
    document = doc(text)
    document["servers"] = [{"url": url}]
    return document


@pytest.fixture
def orders() -> Api:
    return import_openapi(document=doc(ORDERS_V1)).api


def test_a_new_api_has_no_mismatch_and_writes_nothing():
    plan = plan_import(document=doc(ORDERS_V1))
    assert plan.creates_api and plan.same_identity
    assert plan.summary.added == ["list-orders", "create-order", "get-order", "delete-order"]
    assert plan.summary.api.pk is None
    assert not Api.objects.exists()


def test_the_plan_is_what_the_import_then_does(orders):
    plan = plan_import(document=doc(ORDERS_V2))
    assert plan.same_identity
    assert plan.existing_name == "Orders"
    expected = plan.lines()[1:]
    assert Operation.objects.get(slug="delete-order").removed is False  # nothing written
    summary = apply_plan(plan=plan)
    assert summary.lines()[1:] == expected
    assert Operation.objects.get(slug="delete-order").removed is True


def test_a_document_from_another_origin_and_other_operations(orders):
    plan = plan_import(document=doc(OTHER_ORDERS))
    assert plan.mismatches == [
        "the document's service URL https://shop.example.net/api is not on the origin of the "
        "API's https://orders.example.com/v1",
        OPERATIONS_REASON.format(kept=0, current=4),
    ]
    assert (plan.summary.changed, plan.summary.removed) == (
        ["list-orders", "create-order", "get-order"],
        ["delete-order"],
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://orders.example.com/v2",  # another base path: a new version
        "https://ORDERS.example.com:443/v1",  # the default port, the host in capitals
        "https://orders.example.com",
    ],
)
def test_the_same_origin_matches(orders, url):
    assert plan_import(document=with_server(ORDERS_V1, url)).mismatches == []


@pytest.mark.parametrize(
    "url",
    [
        "http://orders.example.com/v1",  # another scheme
        "https://orders.example.com:8443/v1",  # another port
        "https://staging.orders.example.com/v1",  # another host
    ],
)
def test_another_origin_is_a_mismatch(orders, url):
    plan = plan_import(document=with_server(ORDERS_V1, url))
    assert plan.mismatches == [
        f"the document's service URL {url} is not on the origin of the API's "
        "https://orders.example.com/v1"
    ]


def test_the_service_url_override_is_what_is_compared(orders):
    plan = plan_import(document=doc(ORDERS_V1), service_url="https://elsewhere.example.com")
    assert len(plan.mismatches) == 1
    assert plan.mismatches[0].startswith(
        "the document's service URL https://elsewhere.example.com is not on the origin"
    )


def test_a_document_without_servers_keeps_the_api_s_and_matches(orders):
    document = doc(ORDERS_V1)
    del document["servers"]
    plan = plan_import(document=document)
    assert plan.mismatches == []
    assert plan.reading.service_url == "https://orders.example.com/v1"


def test_half_of_the_operations_kept_is_enough(orders):
    document = doc(ORDERS_V1)
    document["paths"]["/orders"]["get"]["operationId"] = "findOrders"
    document["paths"]["/orders"]["post"]["operationId"] = "addOrder"
    assert plan_import(document=document).mismatches == []  # 2 of 4
    document["paths"]["/orders/{id}"]["get"]["operationId"] = "orderById"
    assert plan_import(document=document).mismatches == [
        OPERATIONS_REASON.format(kept=1, current=4)
    ]


def test_without_an_operation_id_the_verb_and_path_count(orders):
    document = doc(ORDERS_V1)
    for item in document["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict):
                operation.pop("operationId", None)
    # The path parameter's name aside, as the sync matches.
    document["paths"]["/orders/{orderId}"] = document["paths"].pop("/orders/{id}")
    document["paths"]["/orders/{orderId}"]["parameters"][0]["name"] = "orderId"
    assert plan_import(document=document).mismatches == []


def test_an_api_without_operations_only_compares_origins():
    Api.objects.create(name="Orders", slug="orders", service_url="https://orders.example.com")
    assert plan_import(document=doc(ORDERS_V1)).mismatches == []
    Api.objects.filter(slug="orders").update(service_url="https://other.example.com")
    assert len(plan_import(document=doc(ORDERS_V1)).mismatches) == 1


def test_removed_operations_do_not_count(orders):
    import_openapi(document=doc(ORDERS_V2))  # delete-order is now removed
    document = doc(ORDERS_V2)
    del document["paths"]["/orders/{id}/cancel"]
    document["paths"]["/orders"]["get"]["operationId"] = "findOrders"
    # Of the four current operations, two stay (createOrder, getOrder).
    assert plan_import(document=document).mismatches == []


def test_a_plan_made_stale_by_another_import_is_refused(orders):
    plan = plan_import(document=doc(ORDERS_V2))
    import_openapi(document=doc(OTHER_ORDERS))
    after_other = list(Operation.objects.values_list("slug", "operation_id", "removed"))
    with pytest.raises(PlanChanged) as caught:
        apply_plan(plan=plan)
    assert caught.value.problems == [
        "api: the API 'orders' changed since the preview; nothing was imported, review the new plan"
    ]
    assert list(Operation.objects.values_list("slug", "operation_id", "removed")) == after_other


def test_free_slug():
    assert free_slug(base="orders") == "orders-2"
    Api.objects.create(name="A", slug="orders-2", service_url="https://a.example.com")
    Api.objects.create(name="B", slug="orders-3", service_url="https://b.example.com")
    assert free_slug(base="orders") == "orders-4"
    assert free_slug(base="x" * 100) == "x" * 96 + "-2"
