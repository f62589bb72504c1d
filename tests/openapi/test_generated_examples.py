"""Generated examples are valid against their schema: every schema of every sample
document and of the large generated ones, checked by openapi-schema-validator with the
document as the root its $refs resolve in."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from openapi_schema_validator import OAS30Validator, OAS31Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4, DRAFT202012

from openapi.documents import load_document
from openapi.examples import EXAMPLE_MAX_CHARS, SchemaExamples
from openapi.refs import Resolver
from tests import openapi_documents
from tests import openapi_generator as generator
from tests.sample_specs import SPECS, spec_files

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# Keywords of a Swagger 2.0 parameter that are not part of its schema.
PARAMETER_ONLY = {"name", "in", "required", "description", "collectionFormat", "allowEmptyValue"}


def _deref(document: dict, node: Any) -> Any:
    resolver = Resolver(document)
    while isinstance(node, dict) and isinstance(node.get("$ref"), str):
        node, _ = resolver.lookup(node["$ref"])
    return node


def schemas_of(document: dict) -> Iterator[tuple[str, Any, bool]]:
    """(where, schema, request) for every component, body, response and parameter schema."""
    swagger = "swagger" in document
    components = document.get("definitions" if swagger else "components", {}) or {}
    section = components if swagger else components.get("schemas", {}) or {}
    for name, schema in section.items():
        for request in (True, False):
            yield f"schemas/{name}", schema, request
    for path, item in (document.get("paths") or {}).items():
        shared = item.get("parameters", [])
        for method in METHODS:
            operation = item.get(method)
            if not isinstance(operation, dict):
                continue
            where = f"{method} {path}"
            for parameter in [*shared, *operation.get("parameters", [])]:
                parameter = _deref(document, parameter)
                if "schema" in parameter:
                    request_schema = parameter["schema"]
                elif swagger:
                    request_schema = {k: v for k, v in parameter.items() if k not in PARAMETER_ONLY}
                else:
                    continue
                yield f"{where} parameter {parameter.get('name')}", request_schema, True
            body = _deref(document, operation.get("requestBody", {}))
            for media, content in (body.get("content") or {}).items():
                if "schema" in content:
                    yield f"{where} body {media}", content["schema"], True
            for status, response in (operation.get("responses") or {}).items():
                response = _deref(document, response)
                if swagger and "schema" in response:
                    yield f"{where} {status}", response["schema"], False
                for media, content in (response.get("content") or {}).items():
                    if "schema" in content:
                        yield f"{where} {status} {media}", content["schema"], False


def validator_of(document: dict) -> Any:
    oas31 = str(document.get("openapi", "")).startswith("3.1")
    specification = DRAFT202012 if oas31 else DRAFT4
    resource = Resource.from_contents(document, default_specification=specification)
    registry: Registry = Registry().with_resource("urn:root", resource)
    return (OAS31Validator if oas31 else OAS30Validator)(document, registry=registry)


def check(document: dict) -> tuple[int, list[str], dict[str, int]]:
    """How many schemas, the invalid examples, and the size of each example."""
    examples = SchemaExamples(Resolver(document))
    root = validator_of(document)
    count, invalid, sizes = 0, [], {}
    for where, schema, request in schemas_of(document):
        value = examples.generate(schema, request=request)
        count += 1
        errors = list(root.evolve(schema=schema).iter_errors(value))
        if errors:
            invalid.append(f"{where}: {json.dumps(value)[:200]}: {errors[0].message[:200]}")
        sizes[where] = len(json.dumps(value, indent=2, ensure_ascii=False))
    return count, invalid, sizes


SAMPLES = [path.name for path in spec_files()]


@pytest.mark.parametrize("name", SAMPLES)
def test_every_example_of_every_sample_document_is_valid(name: str) -> None:
    document = load_document(text=(SPECS / name).read_bytes())
    count, invalid, _ = check(document)
    print(f"{name}: {count - len(invalid)}/{count} valid")
    assert count > 0
    assert invalid == []


@pytest.mark.parametrize("text", [openapi_documents.ORDERS_V1, openapi_documents.ORDERS_V2])
def test_every_example_of_the_plan_documents_is_valid(text: str) -> None:
    count, invalid, _ = check(yaml.safe_load(text))
    assert (count > 0, invalid) == (True, [])


@pytest.mark.parametrize("version", ["3.0.3", "3.1.0"])
def test_every_example_of_the_large_documents_is_valid_and_small(version: str) -> None:
    document = generator.generate_document(operations=300, tags=12, version=version)
    count, invalid, sizes = check(document)
    print(f"generated {version}: {count - len(invalid)}/{count} valid")
    assert count > 1000
    assert invalid == []
    largest = max(sizes, key=sizes.__getitem__)
    assert sizes[largest] < EXAMPLE_MAX_CHARS, largest


def constraints(version: str) -> tuple[dict, SchemaExamples]:
    document = load_document(text=(SPECS / f"oas{version}-constraints.yaml").read_bytes())
    return document, SchemaExamples(Resolver(document))


@pytest.mark.parametrize("version", ["30", "31"])
def test_the_constraints_document_gets_the_documented_values(version: str) -> None:
    _, examples = constraints(version)
    account = examples.generate({"$ref": "#/components/schemas/Account"}, request=True)
    # Required nested objects in full, even inside an optional property.
    assert account["settings"] == {"backup": {"target": {"host": "example.com", "port": 1}}}
    # minItems: 2 of items whose own required properties are all there.
    assert account["volumes"] == [
        {"name": "aaa", "nfs": {"server": "192.0.2.1", "path": "/"}},
        {"name": "aaa", "nfs": {"server": "192.0.2.1", "path": "/"}},
    ]
    # A required recursive property: the shortest valid value (an empty array) below.
    assert account["tree"] == {"label": "stri", "children": [{"label": "stri", "children": []}]}
    assert account["limits"] == {"daily": 11, "step": 1.25, "share": -1, "count": 14}
    assert (account["kind"], account["version"], account["either"]) == ("personal", 2, 3)
    assert account["labels"] == {"additionalProp1": "str", "additionalProp2": "str"}
    # An invalid example is not used; a pattern gets a matching string.
    assert (account["code"], account["note"], account["greeting"]) == ("0", "strin", "Hello")
    assert account["merged"]["role"] == "admin"
    assert account["closed"] == {"only": True}
    # readOnly out of requests (3.0), writeOnly out of responses.
    response = examples.generate({"$ref": "#/components/schemas/Account"}, request=False)
    assert ("id" in account, "secret" in account) == (version == "31", True)
    assert ("id" in response, "secret" in response) == (True, False)
    assert response["id"] == "000000"
    assert re.search("^[0-9]{6,10}$", response["id"])
    # A oneOf with a discriminator: the first branch, its tag set.
    pet = examples.generate({"$ref": "#/components/schemas/Pet"}, request=True)
    assert pet == {"petType": "cat", "lives": 1}
    formats = examples.generate({"$ref": "#/components/schemas/Formats"}, request=True)
    assert formats["uuid"] == "3fa85f64-5717-4562-b3fc-2c963f66afa6"
    assert (formats["int64"], formats["double"], formats["byte"]) == (0, 0, "U3dhZ2dlciByb2Nrcw==")


def test_31_forms_type_lists_numeric_bounds_const_examples_and_prefix_items() -> None:
    _, examples = constraints("31")
    account = examples.generate({"$ref": "#/components/schemas/Account"}, request=True)
    assert account["maybe"] == -1  # oneOf [null, exclusiveMaximum 0]: the non-null branch
    assert account["pair"] == ["2024-01-01", 1]
    assert account["greeting"] == "Hello"  # the first of examples that is valid
    assert account["limits"]["daily"] == 11


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        (
            {"type": "array", "minItems": 3, "uniqueItems": True, "items": {"type": "integer"}},
            [0, 1, 2],
        ),
        (
            {"type": "array", "minItems": 2, "uniqueItems": True, "items": {"enum": ["a", "b"]}},
            ["a", "b"],
        ),
        ({"type": "array", "maxItems": 0, "items": {"type": "string"}}, []),
        ({"type": "string", "minLength": 10}, "stringstri"),
        ({"type": "string", "maxLength": 2}, "st"),
        ({"type": "string", "pattern": "^[0-9]{6,10}$"}, "000000"),
        ({"type": "string", "pattern": "^[A-Z]{2}-\\d{3}$"}, "AA-000"),
        ({"type": "integer", "minimum": 5, "multipleOf": 4}, 8),
        ({"type": "integer", "maximum": -3, "exclusiveMaximum": True}, -4),
        (
            {
                "type": "number",
                "minimum": 0,
                "exclusiveMinimum": True,
                "maximum": 1,
                "exclusiveMaximum": True,
            },
            0.5,
        ),
        (
            {"type": "object", "minProperties": 1, "additionalProperties": {"type": "boolean"}},
            {"additionalProp1": True},
        ),
        ({"type": "string", "nullable": True, "enum": [None, "on"]}, "on"),
        ({"type": "integer", "example": 101, "maximum": 100}, 0),
        ({"type": "integer", "default": 42}, 42),
    ],
)
def test_each_keyword_gives_a_valid_value(schema: dict, expected: Any) -> None:
    document = {"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {}}
    value = SchemaExamples(Resolver(document)).generate(schema, request=True)
    assert value == expected
    assert validator_of(document).evolve(schema=schema).is_valid(value)
