"""Whether a response matches the schema documented for its status and media type.

Used by the result panel (computed when it is rendered, never stored) and by the
`schema` check of saved requests and collection runs (testing/checks.py). Validation
uses openapi-schema-validator, OAS 3.0 or 3.1 rules by `Api.openapi["openapi"]`, with
the API's definitions as the referencing root so that `$ref`s resolve, formats checked.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from jsonschema.exceptions import ValidationError
from openapi_schema_validator import (
    OAS30Validator,
    OAS31Validator,
    oas30_format_checker,
    oas31_format_checker,
)
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4, DRAFT202012

from catalog.models import Operation
from console.models import Exchange
from console.rendering import decode_text, parse_content_type

# Larger bodies are not checked: validating megabytes would hold the page.
MAX_CHECKED_BYTES = 2 * 1024 * 1024
# At most this many violations are listed.
MAX_VIOLATIONS = 20
ROOT_URI = "urn:portal:api-definitions"
CHECKED_KEY = "x-portal-checked-schema"
_JSON_TYPES = {
    dict: "object",
    list: "array",
    str: "string",
    bool: "boolean",
    int: "integer",
    float: "number",
    type(None): "null",
}


@dataclass(frozen=True)
class Violation:
    path: str  # "$.Results.output1.value.Values[0][3]"
    message: str  # "expected integer, got string"


@dataclass(frozen=True)
class ResponseCheck:
    """outcome: "matches", "violations", "not_checked" (reason says why) or "undocumented"
    (no schema for the status: nothing to say)."""

    outcome: str
    violations: list[Violation] = field(default_factory=list)
    reason: str = ""
    more: int = 0  # violations found beyond those listed

    @property
    def passed(self) -> bool:
        return self.outcome == "matches"


def check_response_of(*, operation: Operation, exchange: Exchange | None) -> ResponseCheck | None:
    """The check of a recorded call; None when it got no response."""
    if exchange is None or exchange.failed or exchange.status_code is None:
        return None
    if exchange.truncated:
        return ResponseCheck(
            outcome="not_checked", reason="the response was truncated at the portal's limit."
        )
    return check_response(
        operation=operation,
        status_code=exchange.status_code,
        content_type=exchange.response_content_type,
        body=bytes(exchange.response_body),
    )


def check_response(
    *, operation: Operation, status_code: int, content_type: str, body: bytes
) -> ResponseCheck:
    response = documented_response(operation=operation, status_code=status_code)
    if response is None:
        return ResponseCheck(outcome="undocumented")
    content = response.get("content")
    if not isinstance(content, Mapping) or not content:
        return ResponseCheck(outcome="undocumented")
    media_type = parse_content_type(content_type)[0]
    schema = _schema_for(content, media_type)
    if schema is None:
        documented = ", ".join(str(key) for key in content)
        return ResponseCheck(
            outcome="not_checked",
            reason=f"no schema is documented for {media_type or 'a response without a type'} "
            f"(documented: {documented}).",
        )
    if len(body) > MAX_CHECKED_BYTES:
        return ResponseCheck(
            outcome="not_checked", reason="the response is too large (over 2 MiB)."
        )
    text, _ = decode_text(body, charset=parse_content_type(content_type)[1])
    try:
        document = json.loads(text)
    except ValueError:
        return ResponseCheck(outcome="not_checked", reason="the response is not JSON.")
    violations = validate(operation=operation, schema=schema, instance=document)
    if not violations:
        return ResponseCheck(outcome="matches")
    return ResponseCheck(
        outcome="violations",
        violations=violations[:MAX_VIOLATIONS],
        more=max(len(violations) - MAX_VIOLATIONS, 0),
    )


def documented_response(*, operation: Operation, status_code: int) -> Mapping[str, Any] | None:
    """The response documented for the status: its exact code, else its range ("2XX"),
    else "default"."""
    documented = operation.openapi if isinstance(operation.openapi, Mapping) else {}
    responses = documented.get("responses")
    if not isinstance(responses, Mapping):
        return None
    by_key = {str(key).upper(): value for key, value in responses.items()}
    code = str(status_code)
    for key in (code, f"{code[:1]}XX", "DEFAULT"):
        if isinstance(by_key.get(key), Mapping):
            return by_key[key]
    return None


def _schema_for(content: Mapping[str, Any], media_type: str) -> object:
    candidates = {
        str(key).split(";", 1)[0].strip().lower(): value for key, value in content.items()
    }
    major = media_type.split("/", 1)[0]
    for key in (media_type, f"{major}/*", "*/*"):
        chosen = candidates.get(key)
        if isinstance(chosen, Mapping) and "schema" in chosen:
            return chosen["schema"]
    return None


def validate(*, operation: Operation, schema: object, instance: object) -> list[Violation]:
    """Every violation of `schema` by `instance`, in document order of their paths."""
    definitions = operation.api.openapi if isinstance(operation.api.openapi, Mapping) else {}
    version = str(definitions.get("openapi", "3.0.3"))
    is_31 = version.startswith("3.1")
    validator_class = OAS31Validator if is_31 else OAS30Validator
    checker = oas31_format_checker if is_31 else oas30_format_checker
    # The schema is placed in the definitions' document, so that its "#/components/..."
    # references resolve there (a shallow copy: the definitions are not copied).
    document = {**definitions, CHECKED_KEY: schema}
    specification = DRAFT202012 if is_31 else DRAFT4
    root = Resource.from_contents(document, default_specification=specification)
    registry: Registry = Registry().with_resource(ROOT_URI, root)
    pointer = {"$ref": f"{ROOT_URI}#/{CHECKED_KEY}"}
    validator = validator_class(pointer, registry=registry, format_checker=checker)
    errors = sorted(validator.iter_errors(instance), key=_path_order)
    violations: list[Violation] = []
    for error in errors:
        violation = Violation(path=json_path(error.absolute_path), message=_message(error))
        if violation not in violations:  # OAS 3.0 reports a null twice (type, nullable)
            violations.append(violation)
    return violations


def _path_order(error: ValidationError) -> list[tuple[int, str]]:
    # Indexes in numeric order: [2] before [10].
    return [(0, f"{p:012d}") if isinstance(p, int) else (1, p) for p in error.absolute_path]


def json_path(parts: object) -> str:
    path = "$"
    for part in parts:  # type: ignore[attr-defined]
        if isinstance(part, int):
            path += f"[{part}]"
        elif isinstance(part, str) and part.isidentifier():
            path += f".{part}"
        else:
            path += f"[{json.dumps(part)}]"
    return path


def _type_of(value: object) -> str:
    return _JSON_TYPES.get(type(value), type(value).__name__)


def _shown(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:60] + "…"


def _message(error: ValidationError) -> str:
    keyword = str(error.validator)
    expected: Any = error.validator_value
    value: Any = error.instance
    if keyword == "type":
        kinds = [expected] if isinstance(expected, str) else list(expected)
        return f"expected {' or '.join(str(kind) for kind in kinds)}, got {_type_of(value)}"
    if keyword == "nullable":
        return "expected a value, got null"
    if keyword == "required":
        missing = error.message.split("'")[1] if "'" in error.message else ""
        return f"required property {missing!r} is missing"
    if keyword == "enum":
        allowed = ", ".join(_shown(item) for item in expected)
        return f"expected one of {allowed}, got {_shown(value)}"
    if keyword == "const":
        return f"expected {_shown(expected)}, got {_shown(value)}"
    if keyword == "format":
        return f"expected a {expected} string, got {_shown(value)}"
    if keyword == "additionalProperties":
        return error.message.replace("Additional properties are not allowed", "unexpected property")
    bounds = {
        "minimum": "at least",
        "maximum": "at most",
        "exclusiveMinimum": "greater than",
        "exclusiveMaximum": "less than",
        "minLength": "at least {} characters",
        "maxLength": "at most {} characters",
        "minItems": "at least {} items",
        "maxItems": "at most {} items",
    }
    if keyword in bounds:
        wording = bounds[keyword]
        shown = wording.format(expected) if "{}" in wording else f"{wording} {expected}"
        got = f"{len(value)}" if isinstance(value, str | list) else _shown(value)
        return f"expected {shown}, got {got}"
    if keyword == "pattern":
        return f"expected a string matching {expected}, got {_shown(value)}"
    if keyword in ("oneOf", "anyOf"):
        choice = "one of" if keyword == "oneOf" else "any of"
        return f"matches none of the documented choices ({choice})"
    return error.message
