"""Export a registered API as an OpenAPI 3.0.3 document (JSON or YAML).

What is exported is the API as the portal knows it: its operations' URL templates,
parameters, bodies and documented responses. Secrets never leave the portal: a
credential header (Authorization, API-key headers, headers marked secret) and a
secret query key or cookie become a security scheme, never a parameter with its
default, and a secret path value is exported without a default.

How portal concepts map to OpenAPI (docs/design.md, "OpenAPI export"):

- The template's path becomes the OpenAPI path; its placeholders are path parameters.
- A query pair of the template whose value is one placeholder, ``k={x}``, becomes the
  query parameter ``k`` (the name on the wire); ``x-portal-placeholder: x`` keeps the
  placeholder's name when it differs. A re-import gives a query-string parameter
  ``k``, which the console appends as ``k=<value>``: the same URL.
- A literal pair, ``k=fixed``, becomes a required query parameter with
  ``enum: [fixed]``, ``default: fixed`` and ``x-portal-fixed: true``.
- Any other query value (``k=v{x}``) becomes the parameter ``k`` with
  ``x-portal-template`` holding the value's template.
- OpenAPI cannot hold two operations with one method and path (or paths that differ
  only in placeholder names); the later ones go under the root extension
  ``x-portal-paths``, keyed by their URL template, in the manner of AutoRest's
  ``x-ms-paths``.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import yaml

from catalog.models import Api, Operation, Parameter, ParameterLocation, ParameterType
from httpcore.masking import is_secret_name
from httpcore.templating import Placeholder, QueryItem, TemplateError, parse_template

OPENAPI_VERSION = "3.0.3"
DEFAULT_VERSION = "1.0"
# Header parameters OpenAPI says tools ignore: Authorization is a security scheme and
# Content-Type the request body's media type.
AUTHORIZATION = "authorization"
CONTENT_TYPE = "content-type"
SCHEME_NAME = re.compile(r"[^A-Za-z0-9.\-_]+")
JSON_MEDIA_TYPE = re.compile(r"(application|text)/([\w.+-]*\+)?json\b", re.IGNORECASE)
INTEGER = re.compile(r"[-+]?[0-9]+\Z")
NUMBER = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?\Z")
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


if TYPE_CHECKING:
    _FastDumper = yaml.SafeDumper  # the interface of libyaml's CSafeDumper too
else:
    _FastDumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml when available


class _Dumper(_FastDumper):
    """Writes multi-line text (descriptions, examples) as literal blocks."""


# Plain scalars that a YAML 1.2 reader takes for something other than text, though
# PyYAML (YAML 1.1) writes them unquoted: "1e3", "0o17", ".5" ...
YAML_12_NOT_TEXT = re.compile(
    r"(~|null|Null|NULL|true|True|TRUE|false|False|FALSE"
    r"|[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+"
    r"|[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?"
    r"|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN))\Z"
)


def _represent_text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else ("'" if YAML_12_NOT_TEXT.match(value) else None)
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


class _PythonDumper(yaml.SafeDumper):
    """The pure-Python emitter, which escapes what libyaml cannot write (lone surrogates)."""


_Dumper.add_representer(str, _represent_text)
_PythonDumper.add_representer(str, _represent_text)


# --- values -------------------------------------------------------------------------


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def is_json_media_type(content_type: str) -> bool:
    return bool(JSON_MEDIA_TYPE.match(content_type.strip()))


def example_value(text: str, *, content_type: str) -> Any:
    """A body example as OpenAPI holds it: parsed when it is JSON, else the text."""
    if not is_json_media_type(content_type):
        return text
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
        # A lone surrogate ("\ud800") parses but cannot be written as UTF-8.
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except (ValueError, RecursionError, UnicodeEncodeError):
        return text
    return value


def _guess_media_type(example: str) -> str:
    try:
        json.loads(example, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        return "text/plain"
    return "application/json"


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


def _parameter_object(
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
class _SecuritySchemes:
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


# --- operations -----------------------------------------------------------------------


@dataclass
class _ExportedOperation:
    path: str
    method: str
    body: dict
    # The path with placeholder names blanked: OpenAPI treats /a/{x} and /a/{y} as one.
    shape: str
    template: str


def _query_parameters(
    *,
    items: tuple[QueryItem, ...],
    template_parameters: dict[str, Parameter],
    query_rows: list[Parameter],
    secret_names: frozenset[str],
    security: _SecuritySchemes,
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
            result = _parameter_object(
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
            _parameter_object(
                name=parameter.name, where="query", parameter=parameter, required=parameter.required
            )
        )
    return exported, duplicates


def _request_body(operation: Operation, *, content_type_header: str) -> dict | None:
    if not operation.takes_body:
        return None
    media_type = operation.request_content_type.strip() or content_type_header.strip()
    example = operation.body_example
    if not media_type and not example:
        return None
    if not media_type:
        media_type = _guess_media_type(example)
    media: dict[str, Any] = {}
    if example:
        media["example"] = example_value(example, content_type=media_type)
    return {"content": {media_type: media}}


def _status_key(code: int) -> str:
    return str(code) if 100 <= code <= 599 else "default"


def _status_phrase(key: str) -> str:
    try:
        return HTTPStatus(int(key)).phrase
    except ValueError:
        return "Response"


def _responses(operation: Operation) -> dict:
    responses: dict[str, dict] = {}
    for doc in operation.responses.all():
        key = _status_key(doc.status_code)
        response = responses.setdefault(key, {"description": ""})
        if not response["description"] and doc.description.strip():
            response["description"] = doc.description
        if doc.content_type.strip() or doc.example:
            media_type = doc.content_type.strip() or _guess_media_type(doc.example)
            content = response.setdefault("content", {})
            if media_type not in content:
                content[media_type] = (
                    {"example": example_value(doc.example, content_type=media_type)}
                    if doc.example
                    else {}
                )
    for key, response in responses.items():
        # OpenAPI requires a description, and an empty one is not enough.
        if not response["description"]:
            response["description"] = _status_phrase(key)
    if not responses:
        responses["default"] = {"description": "Response"}
    return dict(sorted(responses.items(), key=lambda item: (item[0] == "default", item[0])))


def _security_requirements(requirements: list[tuple[str, bool]]) -> list[dict]:
    """All the credentials, or only the required ones (OpenAPI's alternatives)."""
    every: dict[str, list[str]] = {name: [] for name, _ in requirements}
    required: dict[str, list[str]] = {name: [] for name, needed in requirements if needed}
    if required == every:
        return [every]
    return [every, required]  # an empty requirement: no credential at all also works


def _export_operation(
    operation: Operation, *, operation_id: str, security: _SecuritySchemes
) -> _ExportedOperation:
    template = parse_template(operation.url_template)
    parameters = list(operation.parameters.all())
    secret_names = frozenset(p.name.lower() for p in parameters if p.secret)
    by_location: dict[str, list[Parameter]] = {}
    for parameter in parameters:
        by_location.setdefault(parameter.location, []).append(parameter)
    template_parameters = {p.name: p for p in by_location.get(ParameterLocation.TEMPLATE, [])}
    requirements: list[tuple[str, bool]] = []

    path = "".join(
        f"{{{part.name}}}" if isinstance(part, Placeholder) else part for part in template.path
    )
    path = path or "/"
    exported_parameters: list[dict] = []
    for name in template.path_names:
        path_parameter = template_parameters.get(name)
        exported_parameters.append(
            _parameter_object(
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
    exported_parameters.extend(query)

    content_type_header = ""
    seen_headers: set[str] = set()
    for parameter in by_location.get(ParameterLocation.HEADER, []):
        lowered = parameter.name.lower()
        if lowered in seen_headers:
            duplicates.append(parameter.name)
            continue
        seen_headers.add(lowered)
        if lowered == CONTENT_TYPE:
            content_type_header = parameter.default
            continue
        if lowered == AUTHORIZATION or is_secret_name(lowered, secret_names=secret_names):
            requirements.append((security.for_header(parameter), parameter.required))
            continue
        exported_parameters.append(
            _parameter_object(
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
        exported_parameters.append(
            _parameter_object(
                name=parameter.name,
                where="cookie",
                parameter=parameter,
                required=parameter.required,
            )
        )

    body: dict[str, Any] = {}
    if operation.tag_list:
        body["tags"] = operation.tag_list
    body["summary"] = operation.name
    if operation.description:
        body["description"] = operation.description
    body["operationId"] = operation_id
    if operation_id != operation.slug:
        # The portal's own id of the operation (its page and saved requests use it).
        body["x-portal-slug"] = operation.slug
    if exported_parameters:
        body["parameters"] = exported_parameters
    request_body = _request_body(operation, content_type_header=content_type_header)
    if request_body is not None:
        body["requestBody"] = request_body
    body["responses"] = _responses(operation)
    if operation.deprecated:
        body["deprecated"] = True
    if requirements:
        body["security"] = _security_requirements(requirements)
    if duplicates:
        # OpenAPI names a parameter once per location; the repeats are listed, not lost.
        body["x-portal-unexported-parameters"] = duplicates
    return _ExportedOperation(
        path=path,
        method=operation.method.lower(),
        body=body,
        shape=re.sub(r"\{[^}]*\}", "{}", path),
        template=operation.url_template,
    )


def _unique_operation_id(operation: Operation, *, used: set[str]) -> str:
    base = operation.operation_id.strip() or operation.slug
    candidate, number = base, 2
    while candidate in used:
        candidate, number = f"{base}-{number}", number + 1
    used.add(candidate)
    return candidate


def export_document(*, api: Api, server_url: str | None = None) -> dict:
    """The API as an OpenAPI 3.0.3 document (a dict ready for JSON or YAML), served at
    `server_url` (the service URL when None; the pages give the public URL,
    gateway.public_urls.public_base)."""
    operations = (
        api.operations.current()
        .order_by("order", "name", "id")
        .prefetch_related("parameters", "responses")
    )
    security = _SecuritySchemes()
    used_ids: set[str] = set()
    tags: list[str] = []
    paths: dict[str, dict] = {}
    shapes: dict[str, str] = {}  # path shape -> the path that holds it
    extra_paths: dict[str, dict] = {}
    unparsed: list[str] = []
    for operation in operations:
        try:
            exported = _export_operation(
                operation,
                operation_id=_unique_operation_id(operation, used=used_ids),
                security=security,
            )
        except TemplateError:
            # The admin validates templates; a row that still does not parse is named.
            unparsed.append(operation.slug)
            continue
        if exported.method not in HTTP_METHODS:
            unparsed.append(operation.slug)
            continue
        for tag in operation.tag_list:
            if tag not in tags:
                tags.append(tag)
        holder = shapes.setdefault(exported.shape, exported.path)
        if holder == exported.path and exported.method not in paths.get(exported.path, {}):
            paths.setdefault(exported.path, {})[exported.method] = exported.body
            continue
        key, number = exported.template or "/", 2
        while exported.method in extra_paths.get(key, {}):
            key, number = f"{exported.template}#{number}", number + 1
        extra_paths.setdefault(key, {})[exported.method] = exported.body

    info: dict[str, Any] = {"title": api.name}
    if api.description:
        info["description"] = api.description
    info["version"] = api.version or DEFAULT_VERSION
    document: dict[str, Any] = {
        "openapi": OPENAPI_VERSION,
        "info": info,
        "servers": [{"url": api.service_url if server_url is None else server_url}],
    }
    if tags:
        document["tags"] = [{"name": tag} for tag in tags]
    document["paths"] = paths
    if security.schemes:
        document["components"] = {"securitySchemes": security.schemes}
    if extra_paths:
        document["x-portal-paths"] = extra_paths
    if unparsed:
        document["x-portal-unexported-operations"] = unparsed
    return document


def export_json(*, api: Api) -> str:
    return dumps_json(export_document(api=api))


def export_yaml(*, api: Api) -> str:
    return dumps_yaml(export_document(api=api))


def dumps_json(document: dict) -> str:
    text = json.dumps(document, indent=2, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate in an admin's text: escaped, so the file is valid UTF-8.
        text = json.dumps(document, indent=2)
    return text + "\n"


def dumps_yaml(document: dict) -> str:
    try:
        return _dump_yaml(document, dumper=_Dumper)
    except UnicodeEncodeError:
        return _dump_yaml(document, dumper=_PythonDumper)


def _dump_yaml(document: dict, *, dumper: type[yaml.SafeDumper]) -> str:
    return yaml.dump(
        document,
        Dumper=dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )
