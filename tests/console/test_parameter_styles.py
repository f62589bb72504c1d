"""Array and object parameters sent as their style says: the exact request-target."""

from __future__ import annotations

import pytest
from django.test import Client

from catalog.models import Operation
from console.parameter_styles import items_of, object_of
from openapi.sync import import_openapi
from tests.backends import scripted_server


def _document(parameters: list[dict]) -> dict:
    return {
        "openapi": "3.0.3",
        "info": {"title": "Styles", "version": "1"},
        "paths": {
            "/r/{ids}": {
                "get": {
                    "operationId": "r",
                    "parameters": [
                        {
                            "name": "ids",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "array", "items": {"type": "integer"}},
                        },
                        *parameters,
                    ],
                    "responses": {"200": {"description": "ok"}},
                }
            }
        },
    }


def _array(name: str, style: str, explode: bool) -> dict:
    return {
        "name": name,
        "in": "query",
        "style": style,
        "explode": explode,
        "schema": {"type": "array", "items": {"type": "string"}},
    }


@pytest.fixture
def sent(settings):
    settings.PORTAL_OUTBOUND_ALLOWED_PORTS = ["*"]

    def send(parameters: list[dict], values: dict) -> str:
        with scripted_server() as server:
            summary = import_openapi(document=_document(parameters), service_url=server.url)
            operation = Operation.objects.get(api=summary.api)
            fields = {f"param-{where}-{name}": value for (where, name), value in values.items()}
            Client().post(f"/apis/{summary.api.slug}/operations/{operation.slug}/try", fields)
            (request,) = server.requests
            return request.target

    return send


@pytest.mark.django_db
def test_query_arrays_by_style(sent) -> None:
    target = sent(
        [
            _array("a", "form", True),
            _array("b", "form", False),
            _array("c", "spaceDelimited", False),
            _array("d", "pipeDelimited", False),
        ],
        {
            ("template", "ids"): "5,6",
            ("query", "a"): "x,y",
            ("query", "b"): '["x", "y,z"]',
            ("query", "c"): "x\ny",
            ("query", "d"): "x,y",
        },
    )
    assert target == "/r/5%2C6?a=x&a=y&b=x%2Cy%2Cz&c=x%20y&d=x%7Cy"


@pytest.mark.django_db
def test_query_objects_by_style(sent) -> None:
    obj = {"type": "object", "properties": {"status": {"type": "string"}}}
    target = sent(
        [
            {"name": "f", "in": "query", "style": "deepObject", "explode": True, "schema": obj},
            {"name": "g", "in": "query", "style": "form", "explode": True, "schema": obj},
            {"name": "h", "in": "query", "style": "form", "explode": False, "schema": obj},
        ],
        {
            ("template", "ids"): "1",
            ("query", "f"): '{"status": "active", "x[y]": "1"}',
            # Only a declared property becomes a key: "limit" stays inside g's value.
            ("query", "g"): '{"status": "new", "limit": 3}',
            ("query", "h"): '{"status": "old"}',
        },
    )
    assert target == (
        "/r/1?f%5Bstatus%5D=active&f%5Bx%5By%5D%5D=1&status=new&g=limit%2C3&h=status%2Cold"
    )


def test_typed_arrays_and_objects_are_read_as_a_user_means_them() -> None:
    assert items_of("a, b") == ["a", "b"]
    assert items_of("a,b\nc") == ["a,b", "c"]
    assert items_of("[1, true, null]") == ["1", "true", ""]
    assert items_of("") == []
    assert object_of('{"a": 1}') == {"a": "1"}
    assert object_of("[1]") is None
    assert object_of("a=1") is None
