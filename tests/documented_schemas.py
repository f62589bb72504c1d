"""The demo API's documented definitions (docs/design.md "Documented schemas"), as an
import would store them, for tests of schema trees and response checks."""

from __future__ import annotations

import copy
from typing import Any

from catalog.models import Api, Operation

RRS = "rrs-execute"


def definitions(*, version: str = "3.0.3", cell: dict | None = None) -> dict[str, Any]:
    """`cell` is the schema of each value of the scored table (a string, as the backend
    answers; an integer makes the documentation drift from it)."""
    return {
        "openapi": version,
        "components": {
            "schemas": {
                "Table": {
                    "type": "object",
                    "description": "A table of rows, each with a value per **column**.",
                    "required": ["ColumnNames", "Values"],
                    "properties": {
                        "ColumnNames": {
                            "type": "array",
                            "items": {"type": "string"},
                            "minItems": 1,
                        },
                        "ColumnTypes": {
                            "type": "array",
                            "items": {"type": "string", "enum": ["String", "Int32"]},
                        },
                        "Values": {
                            "type": "array",
                            "items": {"type": "array", "items": cell or {"type": "string"}},
                        },
                    },
                },
                "Output": {
                    "type": "object",
                    "required": ["type", "value"],
                    "properties": {
                        "type": {"type": "string", "enum": ["table"]},
                        "value": {"$ref": "#/components/schemas/Table"},
                    },
                },
                "Filter": {
                    "title": "Filter",
                    "type": "object",
                    "properties": {
                        "column": {"type": "string"},
                        "and": {"type": "array", "items": {"$ref": "#/components/schemas/Filter"}},
                    },
                },
                "Threshold": {
                    "type": "number",
                    "minimum": 0,
                    "maximum": 1,
                    "default": 0.5,
                },
            }
        },
    }


SCORING_BODY_SCHEMA = {
    "type": "object",
    "required": ["Inputs"],
    "properties": {
        "Inputs": {
            "type": "object",
            "description": "The rows to score, by input name.",
            "additionalProperties": {"$ref": "#/components/schemas/Table"},
        },
        "GlobalParameters": {"type": "object"},
        "Filter": {"$ref": "#/components/schemas/Filter"},
        "Cutoff": {
            "oneOf": [
                {"$ref": "#/components/schemas/Threshold"},
                {"type": "string", "title": "Named", "enum": ["low", "high"]},
            ]
        },
        "RequestId": {"type": "string", "format": "uuid", "readOnly": True, "nullable": True},
    },
}

EXAMPLES = {
    "good": {
        "summary": "A good day",
        "value": {
            "Inputs": {"input1": {"ColumnNames": ["Col2"], "Values": [["This is a good day"]]}},
            "GlobalParameters": {},
        },
    },
    "two-rows": {
        "summary": "Two rows",
        "value": {
            "Inputs": {
                "input1": {"ColumnNames": ["Col2"], "Values": [["first row"], ["second row"]]}
            },
            "GlobalParameters": {},
        },
    },
}


def scoring_operation(*, errors: bool = True) -> dict[str, Any]:
    responses: dict[str, Any] = {
        "200": {
            "description": "Scored",
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["Results"],
                        "properties": {
                            "Results": {
                                "type": "object",
                                "properties": {"output1": {"$ref": "#/components/schemas/Output"}},
                            }
                        },
                    },
                    "examples": {
                        "one": {"summary": "One row", "value": {"Results": {}}},
                        "none": {"summary": "No output", "value": {"Results": {"output1": None}}},
                    },
                }
            },
        }
    }
    if errors:
        responses["4XX"] = {
            "description": "Refused",
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["error"],
                        "properties": {"error": {"type": "object"}},
                    }
                }
            },
        }
        responses["default"] = {
            "description": "Anything else",
            "content": {"application/json": {"schema": {"type": "object", "required": ["x"]}}},
        }
    return {
        "parameters": [],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": SCORING_BODY_SCHEMA,
                    "examples": copy.deepcopy(EXAMPLES),
                }
            },
        },
        "responses": responses,
        "security": [],
    }


def document(
    api: Api, *, version: str = "3.0.3", cell: dict | None = None, errors: bool = True
) -> Operation:
    """Store the documentation on the API and on its scoring operation; returns it."""
    api.openapi = definitions(version=version, cell=cell)
    api.save()
    operation = api.operations.get(slug=RRS)
    operation.openapi = scoring_operation(errors=errors)
    operation.save()
    return operation
