"""An operation's parameters and credentials as OpenAPI parameter objects and security
schemes, for the export (openapi.export).

Secrets never leave the portal: a credential header (Authorization, API-key headers,
headers marked secret) and a secret query key or cookie become a security scheme, never
a parameter with its default, and a secret path value is exported without a default.

How the template's query maps to OpenAPI (docs/design.md, "OpenAPI export"):

- A query pair of the template whose value is one placeholder, ``k={x}``, becomes the
  query parameter ``k`` (the name on the wire); ``x-portal-placeholder: x`` keeps the
  placeholder's name when it differs. A re-import gives a query-string parameter
  ``k``, which the console appends as ``k=<value>``: the same URL.
- A literal pair, ``k=fixed``, becomes a required query parameter with
  ``enum: [fixed]``, ``default: fixed`` and ``x-portal-fixed: true``.
- Any other query value (``k=v{x}``) becomes the parameter ``k`` with
  ``x-portal-template`` holding the value's template.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from catalog.models import Parameter, ParameterLocation, ParameterType
from httpcore.masking import is_secret_name
from httpcore.templating import ParsedTemplate, Placeholder, QueryItem

# Header parameters OpenAPI says tools ignore: Authorization is a security scheme and
# Content-Type the request body's media type.
AUTHORIZATION = "authorization"
CONTENT_TYPE = "content-type"
SCHEME_NAME = re.compile(r"[^A-Za-z0-9.\-_]+")
INTEGER = re.compile(r"[-+]?[0-9]+\Z")
NUMBER = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?\Z")


# --- values -------------------------------------------------------------------------


def _typed(value: str, type_: str) -> Any:
    """A parameter value as the schema type reads it; ValueError when it does not fit."""
    if type_ == ParameterType.INTEGER:
        if not INTEGER.match(value):
            raise ValueError(value)
        return int(value)
    if type_ == ParameterType.NUMBER:
        if not NUMBER.match(value):
            raise ValueError(value)
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(value)
        return int(number) if number.is_integer() and INTEGER.match(value) else number
    if type_ == ParameterType.BOOLEAN:
        lowered = value.lower()
        if lowered not in {"true", "false"}:
            raise ValueError(value)
        return lowered == "true"
    return value


def parameter_schema(parameter: Parameter | None, *, secret: bool = False) -> dict:
    """{type, enum, default} of a parameter; a secret never carries its default."""
    if parameter is None:
        return {"type": "string"}
    type_ = parameter.type or ParameterType.STRING
    choices = parameter.choices
    default = "" if secret else parameter.default
    try:
        enum = [_typed(value, type_) for value in choices]
        typed_default = _typed(default, type_) if default != "" else None
    except ValueError:
        # A value the type does not read (an admin's "1.5" for an integer): export the
        # parameter as a string rather than an invalid schema.
        type_ = ParameterType.STRING
        enum = list(choices)
        typed_default = default if default != "" else None
    schema: dict[str, Any] = {"type": str(type_)}
    if secret:
        schema["format"] = "password"
    if enum:
        schema["enum"] = enum
    if typed_default is not None and (not enum or typed_default in enum):
        schema["default"] = typed_default
    return schema


def parameter_object(
    *, name: str, where: str, parameter: Parameter | None, required: bool, secret: bool = False
) -> dict:
    result: dict[str, Any] = {"name": name, "in": where}
    if parameter is not None and parameter.description:
        result["description"] = parameter.description
    if required or where == "path":
        result["required"] = True
    result["schema"] = parameter_schema(parameter, secret=secret)
    return result


# --- security -------------------------------------------------------------------------


@dataclass
class SecuritySchemes:
    """The document's security schemes, shared by the operations that use them."""

    schemes: dict[str, dict] = field(default_factory=dict)
    _by_definition: dict[tuple, str] = field(default_factory=dict)

    def add(self, *, definition: dict, base_name: str, description: str = "") -> str:
        # Header names are case-insensitive: X-Api-Key and x-api-key are one scheme.
        key = tuple(
            (field, value.lower() if definition.get("in") == "header" else value)
            for field, value in sorted(definition.items())
        )
        if key in self._by_definition:
            return self._by_definition[key]
        name = SCHEME_NAME.sub("_", base_name) or "apiKey"
        candidate, number = name, 2
        while candidate in self.schemes:
            candidate, number = f"{name}-{number}", number + 1
        scheme = dict(definition)
        if description:
            scheme["description"] = description
        self.schemes[candidate] = scheme
        self._by_definition[key] = candidate
        return candidate

    def for_header(self, parameter: Parameter) -> str:
        description = parameter.description
        if parameter.name.lower() == AUTHORIZATION:
            scheme_word = parameter.default.partition(" ")[0].lower()
            if scheme_word == "bearer":
                return self.add(
                    definition={"type": "http", "scheme": "bearer"},
                    base_name="bearerAuth",
                    description=description,
                )
            if scheme_word == "basic":
                return self.add(
                    definition={"type": "http", "scheme": "basic"},
                    base_name="basicAuth",
                    description=description,
                )
        return self.api_key(name=parameter.name, where="header", description=description)

    def api_key(self, *, name: str, where: str, description: str = "") -> str:
        return self.add(
            definition={"type": "apiKey", "in": where, "name": name},
            base_name=f"apiKey-{where}-{name}",
            description=description,
        )


def security_requirements(requirements: list[tuple[str, bool]]) -> list[dict]:
    """All the credentials, or only the required ones (OpenAPI's alternatives)."""
    every: dict[str, list[str]] = {name: [] for name, _ in requirements}
    required: dict[str, list[str]] = {name: [] for name, needed in requirements if needed}
    if required == every:
        return [every]
    return [every, required]  # an empty requirement: no credential at all also works


# --- an operation's parameters -------------------------------------------------------


@dataclass
class ExportedParameters:
    parameters: list[dict]
    # A security scheme's name, and whether the operation cannot be called without it.
    requirements: list[tuple[str, bool]]
    # Parameters named again in their location, which OpenAPI cannot hold.
    duplicates: list[str]
    # The Content-Type header's default: the request body's media type.
    content_type: str


def operation_parameters(
    *, template: ParsedTemplate, parameters: list[Parameter], security: SecuritySchemes
) -> ExportedParameters:
    """Path, query, header and cookie parameters, in that order; credentials go to
    `security` and are named in the requirements."""
    secret_names = frozenset(p.name.lower() for p in parameters if p.secret)
    by_location: dict[str, list[Parameter]] = {}
    for parameter in parameters:
        by_location.setdefault(parameter.location, []).append(parameter)
    template_parameters = {p.name: p for p in by_location.get(ParameterLocation.TEMPLATE, [])}
    requirements: list[tuple[str, bool]] = []

    exported: list[dict] = []
    for name in template.path_names:
        path_parameter = template_parameters.get(name)
        exported.append(
            parameter_object(
                name=name,
                where="path",
                parameter=path_parameter,
                required=True,
                secret=path_parameter is not None and path_parameter.secret,
            )
        )
    query, duplicates = _query_parameters(
        items=template.query,
        template_parameters=template_parameters,
        query_rows=by_location.get(ParameterLocation.QUERY, []),
        secret_names=secret_names,
        security=security,
        requirements=requirements,
    )
    exported.extend(query)

    content_type = ""
    seen_headers: set[str] = set()
    for parameter in by_location.get(ParameterLocation.HEADER, []):
        lowered = parameter.name.lower()
        if lowered in seen_headers:
            duplicates.append(parameter.name)
            continue
        seen_headers.add(lowered)
        if lowered == CONTENT_TYPE:
            content_type = parameter.default
            continue
        if lowered == AUTHORIZATION or is_secret_name(lowered, secret_names=secret_names):
            requirements.append((security.for_header(parameter), parameter.required))
            continue
        exported.append(
            parameter_object(
                name=parameter.name,
                where="header",
                parameter=parameter,
                required=parameter.required,
            )
        )
    seen_cookies: set[str] = set()
    for parameter in by_location.get(ParameterLocation.COOKIE, []):
        if parameter.name in seen_cookies:
            duplicates.append(parameter.name)
            continue
        seen_cookies.add(parameter.name)
        if parameter.secret:
            requirements.append(
                (
                    security.api_key(
                        name=parameter.name, where="cookie", description=parameter.description
                    ),
                    parameter.required,
                )
            )
            continue
        exported.append(
            parameter_object(
                name=parameter.name,
                where="cookie",
                parameter=parameter,
                required=parameter.required,
            )
        )
    return ExportedParameters(
        parameters=exported,
        requirements=requirements,
        duplicates=duplicates,
        content_type=content_type,
    )


def _query_parameters(
    *,
    items: tuple[QueryItem, ...],
    template_parameters: dict[str, Parameter],
    query_rows: list[Parameter],
    secret_names: frozenset[str],
    security: SecuritySchemes,
    requirements: list[tuple[str, bool]],
) -> tuple[list[dict], list[str]]:
    """Query parameters from the template's query and the query-string rows."""
    exported: list[dict] = []
    seen: set[str] = set()
    duplicates: list[str] = []

    def claim(name: str) -> bool:
        if name in seen:
            duplicates.append(name)
            return False
        seen.add(name)
        return True

    for item in items:
        key = unquote(item.key)
        placeholders = [part for part in item.value if isinstance(part, Placeholder)]
        parameters = [template_parameters.get(part.name) for part in placeholders]
        secret = is_secret_name(key, secret_names=secret_names) or any(
            parameter is not None and parameter.secret for parameter in parameters
        )
        required = bool(placeholders) and all(
            parameter is not None and parameter.required for parameter in parameters
        )
        if not claim(key):
            continue
        if secret:
            # A key in the query: a security scheme, and the value is never exported.
            description = next((p.description for p in parameters if p and p.description), "")
            requirements.append(
                (security.api_key(name=key, where="query", description=description), required)
            )
            continue
        if not placeholders:
            fixed = unquote("".join(str(part) for part in item.value))
            result: dict[str, Any] = {
                "name": key,
                "in": "query",
                "required": True,
                "schema": {"type": "string", "enum": [fixed], "default": fixed},
                "x-portal-fixed": True,
            }
            if fixed == "":
                result["allowEmptyValue"] = True
            exported.append(result)
            continue
        if len(item.value) == 1:
            parameter = parameters[0]
            result = parameter_object(
                name=key, where="query", parameter=parameter, required=required
            )
            if placeholders[0].name != key:
                result["x-portal-placeholder"] = placeholders[0].name
            exported.append(result)
            continue
        # A value mixing literals and placeholders: documented as one string.
        value_template = "".join(
            f"{{{part.name}}}" if isinstance(part, Placeholder) else part for part in item.value
        )
        descriptions = [
            f"{{{part.name}}}: {p.description}"
            for part, p in zip(placeholders, parameters, strict=True)
            if p is not None and p.description
        ]
        result = {"name": key, "in": "query"}
        result["description"] = " ".join([f"Sent as {value_template!r}.", *descriptions])
        if required:
            result["required"] = True
        result["schema"] = {"type": "string"}
        if all(p is not None and p.default for p in parameters):
            defaults = {
                part.name: p.default
                for part, p in zip(placeholders, parameters, strict=True)
                if p is not None
            }
            result["schema"]["default"] = "".join(
                defaults[part.name] if isinstance(part, Placeholder) else unquote(part)
                for part in item.value
            )
        result["x-portal-template"] = value_template
        exported.append(result)

    for parameter in query_rows:
        if not claim(parameter.name):
            continue
        if is_secret_name(parameter.name, secret_names=secret_names):
            requirements.append(
                (
                    security.api_key(
                        name=parameter.name, where="query", description=parameter.description
                    ),
                    parameter.required,
                )
            )
            continue
        exported.append(
            parameter_object(
                name=parameter.name, where="query", parameter=parameter, required=parameter.required
            )
        )
    return exported, duplicates
