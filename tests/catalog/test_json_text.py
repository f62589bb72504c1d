"""The imported definitions come back in the document's key order, on either database."""

from __future__ import annotations

import pytest

from catalog.models import Api, Operation

# Longest key first: PostgreSQL's jsonb would give them back shortest first.
DEFINITIONS = {
    "openapi": "3.0.3",
    "components": {
        "securitySchemes": {"oauth_client": {"type": "oauth2"}, "key": {"type": "apiKey"}},
        "schemas": {
            "Order": {"properties": {"shipping_address": {}, "quantity": {}, "id": {}}},
        },
    },
}


@pytest.mark.django_db
def test_definitions_and_operations_keep_the_documents_key_order():
    api = Api.objects.create(
        name="Shop", slug="shop", service_url="https://shop.example.com", openapi=DEFINITIONS
    )
    operation = Operation.objects.create(
        api=api,
        name="Create order",
        slug="create-order",
        method="POST",
        url_template="/orders",
        openapi={"responses": {"201": {}, "200": {}}, "parameters": []},
    )
    api.refresh_from_db()
    operation.refresh_from_db()
    schemes = api.openapi["components"]["securitySchemes"]
    assert list(schemes) == ["oauth_client", "key"]
    order = api.openapi["components"]["schemas"]["Order"]["properties"]
    assert list(order) == ["shipping_address", "quantity", "id"]
    assert list(operation.openapi) == ["responses", "parameters"]
    assert list(operation.openapi["responses"]) == ["201", "200"]


@pytest.mark.django_db
def test_a_nul_or_lone_surrogate_in_a_document_is_stored_and_read_back():
    text = "a\x00b\ud800c é"
    api = Api.objects.create(
        name="Odd", slug="odd", service_url="https://odd.example.com", openapi={"x": text}
    )
    api.refresh_from_db()
    assert api.openapi == {"x": text}
