"""Export a registered API as an OpenAPI 3.0.3 document (JSON or YAML).

What is exported is the API as the portal knows it: its operations' URL templates,
parameters, bodies and documented responses. Secrets never leave the portal: the
parameters and credentials are translated by openapi.export_parameters, which turns
every credential into a security scheme without its value.

How portal concepts map to OpenAPI (docs/design.md, "OpenAPI export"):

- The template's path becomes the OpenAPI path; its placeholders are path parameters
  and its query pairs query parameters (openapi.export_parameters says how).
- OpenAPI cannot hold two operations with one method and path (or paths that differ
  only in placeholder names); the later ones go under the root extension
  ``x-portal-paths``, keyed by their URL template, in the manner of AutoRest's
  ``x-ms-paths``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from catalog.models import Api, Operation
from httpcore.templating import Placeholder, TemplateError, parse_template
from openapi.export_parameters import SecuritySchemes, operation_parameters, security_requirements
from openapi.export_text import dumps_json, dumps_yaml

OPENAPI_VERSION = "3.0.3"
DEFAULT_VERSION = "1.0"
JSON_MEDIA_TYPE = re.compile(r"(application|text)/([\w.+-]*\+)?json\b", re.IGNORECASE)
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


# --- bodies and responses -------------------------------------------------------------


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


# --- operations -----------------------------------------------------------------------


@dataclass
class _ExportedOperation:
    path: str
    method: str
    body: dict
    # The path with placeholder names blanked: OpenAPI treats /a/{x} and /a/{y} as one.
    shape: str
    template: str


def _export_operation(
    operation: Operation, *, operation_id: str, security: SecuritySchemes
) -> _ExportedOperation:
    template = parse_template(operation.url_template)
    exported = operation_parameters(
        template=template, parameters=list(operation.parameters.all()), security=security
    )
    path = "".join(
        f"{{{part.name}}}" if isinstance(part, Placeholder) else part for part in template.path
    )
    path = path or "/"

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
    if exported.parameters:
        body["parameters"] = exported.parameters
    request_body = _request_body(operation, content_type_header=exported.content_type)
    if request_body is not None:
        body["requestBody"] = request_body
    body["responses"] = _responses(operation)
    if operation.deprecated:
        body["deprecated"] = True
    if exported.requirements:
        body["security"] = security_requirements(exported.requirements)
    if exported.duplicates:
        # OpenAPI names a parameter once per location; the repeats are listed, not lost.
        body["x-portal-unexported-parameters"] = exported.duplicates
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


def _other_servers(api: Api) -> list[dict[str, str]]:
    """The API's other servers (README "Servers"), listed to every developer already."""
    return [
        {"url": server.url, **({"description": server.description} if server.description else {})}
        for server in api.servers.all()
    ]


def export_document(*, api: Api, server_url: str | None = None) -> dict:
    """The API as an OpenAPI 3.0.3 document (a dict ready for JSON or YAML), served at
    `server_url` (the service URL when None; the pages give the public URL,
    gateway.public_urls.public_base)."""
    operations = (
        api.operations.current()
        .order_by("order", "name", "id")
        .prefetch_related("parameters", "responses")
    )
    security = SecuritySchemes()
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
        "servers": [
            {"url": api.service_url if server_url is None else server_url},
            *_other_servers(api),
        ],
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
