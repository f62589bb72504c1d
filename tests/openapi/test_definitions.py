"""The documented definition each operation keeps (docs/design.md, "Documented schemas")."""

from __future__ import annotations

from typing import Any

import pytest

from catalog.models import Api, Operation
from openapi.reader import read_document
from openapi.sync import import_openapi

V2: dict[str, Any] = {
    "swagger": "2.0",
    "info": {"title": "Old", "version": "1"},
    "host": "api.example.com",
    "schemes": ["https"],
    "consumes": ["application/json"],
    "securityDefinitions": {
        "plain": {"type": "basic"},
        "app": {
            "type": "oauth2",
            "flow": "application",
            "tokenUrl": "https://auth.example.com/token",
            "scopes": {"read": "Read"},
        },
    },
    "security": [{"plain": []}],
    "definitions": {
        "Node": {
            "type": "object",
            "required": ["id"],
            "properties": {
                "id": {"type": "string", "x-nullable": True},
                "next": {"$ref": "#/definitions/Node"},
                "default": {"$ref": "#/definitions/Node"},
            },
        }
    },
    "paths": {
        "/nodes": {
            "get": {
                "parameters": [
                    {
                        "name": "ids",
                        "in": "query",
                        "type": "array",
                        "items": {"type": "string"},
                        "collectionFormat": "multi",
                    },
                    {
                        "name": "tags",
                        "in": "query",
                        "type": "array",
                        "items": {"type": "string"},
                        "collectionFormat": "pipes",
                    },
                ],
                "responses": {
                    "200": {"description": "ok", "schema": {"$ref": "#/definitions/Node"}}
                },
            },
            "post": {
                "consumes": ["multipart/form-data"],
                "parameters": [
                    {"name": "file", "in": "formData", "type": "file", "required": True},
                    {"name": "note", "in": "formData", "type": "string"},
                ],
                "security": [],
                "responses": {"201": {"description": "made"}},
            },
        }
    },
}

V3: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "New", "version": "1"},
    "servers": [{"url": "https://api.example.com"}],
    "components": {
        "schemas": {"Pet": {"type": "object", "properties": {"name": {"type": "string"}}}},
        "parameters": {
            "Id": {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
        },
        "examples": {"Rex": {"summary": "A dog", "value": {"name": "Rex"}}},
        "requestBodies": {
            "PetBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {"$ref": "#/components/schemas/Pet"},
                        "examples": {"rex": {"$ref": "#/components/examples/Rex"}},
                    },
                    "application/x-www-form-urlencoded": {
                        "schema": {"$ref": "#/components/schemas/Pet/properties/name"},
                        "encoding": {"name": {"style": "deepObject", "explode": True}},
                    },
                },
            }
        },
    },
    "paths": {
        "/pets/{id}": {
            "parameters": [{"$ref": "#/components/parameters/Id"}],
            "put": {
                "parameters": [
                    {
                        "name": "filter",
                        "in": "query",
                        "style": "deepObject",
                        "schema": {"type": "object"},
                    },
                    {"name": "X-Trace", "in": "header", "schema": {"type": "string"}},
                ],
                "requestBody": {"$ref": "#/components/requestBodies/PetBody"},
                "responses": {"200": {"description": "ok"}},
            },
        }
    },
}


def test_a_swagger_2_document_is_kept_in_openapi_3_words() -> None:
    plan = read_document(document=V2)
    assert plan.openapi["openapi"] == "3.0.3"
    node = plan.openapi["components"]["schemas"]["Node"]
    assert node["properties"]["next"] == {"$ref": "#/components/schemas/Node"}
    # A property called "default" is a name, not the keyword.
    assert node["properties"]["default"] == {"$ref": "#/components/schemas/Node"}
    assert node["properties"]["id"]["nullable"] is True
    assert plan.openapi["components"]["securitySchemes"] == {
        "plain": {"type": "http", "scheme": "basic"},
        "app": {
            "type": "oauth2",
            "flows": {
                "clientCredentials": {
                    "scopes": {"read": "Read"},
                    "tokenUrl": "https://auth.example.com/token",
                }
            },
        },
    }
    listing, upload = plan.operations
    ids, tags = listing.openapi["parameters"]
    assert (ids["style"], ids["explode"]) == ("form", True)
    assert (tags["style"], tags["explode"]) == ("pipeDelimited", False)
    assert listing.openapi["security"] == [{"plain": []}]
    assert listing.openapi["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Node"
    }
    body = upload.openapi["requestBody"]
    assert body["required"] is True
    schema = body["content"]["multipart/form-data"]["schema"]
    assert schema["properties"]["file"] == {"type": "string", "format": "binary"}
    assert schema["required"] == ["file"]
    assert upload.openapi["security"] == []


def test_an_openapi_3_operation_is_resolved_but_for_its_schemas() -> None:
    plan = read_document(document=V3)
    (operation,) = plan.operations
    path_id, deep, header = operation.openapi["parameters"]
    assert path_id == {
        "name": "id",
        "in": "path",
        "required": True,
        "style": "simple",
        "explode": False,
        "schema": {"type": "string"},
    }
    assert (deep["style"], deep["explode"]) == ("deepObject", False)
    assert (header["style"], header["explode"]) == ("simple", False)
    content = operation.openapi["requestBody"]["content"]
    assert content["application/json"]["schema"] == {"$ref": "#/components/schemas/Pet"}
    assert content["application/json"]["examples"] == {
        "rex": {"value": {"name": "Rex"}, "summary": "A dog"}
    }
    # A pointer inside a definition is inlined: the API keeps whole definitions only.
    form = content["application/x-www-form-urlencoded"]
    assert form["schema"] == {"type": "string"}
    assert form["encoding"] == {"name": {"style": "deepObject", "explode": True}}
    assert "security" not in operation.openapi


@pytest.mark.django_db
def test_the_import_stores_and_resynchronises_the_definitions() -> None:
    summary = import_openapi(document=V3)
    api = Api.objects.get(pk=summary.api.pk)
    assert api.openapi["components"]["schemas"]["Pet"]["properties"] == {"name": {"type": "string"}}
    operation = Operation.objects.get(api=api)
    assert operation.openapi["requestBody"]["required"] is True
    pet = {"type": "object", "properties": {"name": {"type": "string", "maxLength": 20}}}
    changed = {**V3, "components": {**V3["components"], "schemas": {"Pet": pet}}}
    again = import_openapi(document=changed)
    assert "schemas or security schemes changed" in again.api_changes
    api.refresh_from_db()
    assert api.openapi["components"]["schemas"]["Pet"] == pet
