"""Reading the stored OpenAPI definitions (Api.openapi, Operation.openapi): the schema a
`$ref` names, and a schema's kind (docs/design.md, "Documented schemas")."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def resolve_ref(ref: str, definitions: Mapping[str, Any]) -> object:
    """The schema a local `$ref` names in the API's definitions, or None."""
    if not ref.startswith("#/"):
        return None
    found: object = definitions
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(found, Mapping) or part not in found:
            return None
        found = found[part]
    return found


def followed(schema: object, definitions: Mapping[str, Any]) -> Mapping[str, Any]:
    """The schema a chain of `$ref`s leads to ({} when one does not resolve, or loops)."""
    seen: set[str] = set()
    while isinstance(schema, Mapping) and isinstance(ref := schema.get("$ref"), str):
        if ref in seen:
            return {}
        seen.add(ref)
        schema = resolve_ref(ref, definitions)
    return schema if isinstance(schema, Mapping) else {}


def schema_kind(schema: Mapping[str, Any]) -> str:
    """A schema's type, "null" left out, else what its keywords imply; "" when none."""
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "")
    if not kind:
        kind = "object" if "properties" in schema else "array" if "items" in schema else ""
    return str(kind or "")
