"""Checking a collection file's document, before anything is written.

First its shape, against the JSON Schema of `testing.collection_schema`, with
jsonschema; then what only the portal knows: that each operation exists and takes
the parameters given, that the headers may be sent, that the cookies are the operation's
and can be sent (RFC 6265), that the checks and extraction
rules parse and that every {{variable}} a request sends is defined. Every problem is
named with its place in the file (`requests[2].headers[0]: ...`), in the file's
order, and a file without problems gives the plan of the collection to create.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from catalog.models import Api, Operation, ParameterLocation
from console.kept_files import LoadedFile
from console.servers import SERVICE
from httpcore.headers import TOKEN, refusal_reason
from httpcore.multipart import safe_filename
from httpcore.templating import TemplateError, parse_template
from testing.checks import CheckSyntaxError, parse_checks, parse_extract
from testing.collection_schema import MAX_DELAY_SECONDS, NOT_BLANK, SCHEMA
from testing.cookie_values import cookie_names, cookie_value_problem, unknown_cookie
from testing.variables import NAME as VARIABLE_NAME
from testing.variables import VARIABLE

# Where a value is: the keys (YAML allows any scalar as a key) and list indexes from
# the top of the document.
Path = tuple[Any, ...]


class CollectionFileError(ValueError):
    """A file that cannot be imported; `problems` names each one with its place."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class RequestContent:
    template: dict[str, str] = field(default_factory=dict)
    query: list[list[str]] = field(default_factory=list)
    headers: list[list[str]] = field(default_factory=list)
    cookies: list[list[str]] = field(default_factory=list)
    body: str | None = None
    expected_status: int | None = None
    checks: list[dict] = field(default_factory=list)
    extract: list[dict] = field(default_factory=list)
    repeat_until: dict | None = None
    repeat_max_tries: int = 1
    repeat_delay_seconds: float = 1.0
    server: str = ""  # the Server select's value it matches (console/servers.py)
    server_url: str = ""
    content_type: str = ""
    parts: list[list[str]] = field(default_factory=list)
    files: list[LoadedFile] = field(default_factory=list)


@dataclass
class RequestPlan:
    name: str
    operation: Operation
    content: RequestContent


@dataclass
class CollectionPlan:
    name: str
    description: str = ""
    # None keeps the portal's default list.
    ignored_headers: str | None = None
    variables: list[tuple[str, str, bool]] = field(default_factory=list)
    requests: list[RequestPlan] = field(default_factory=list)


def _shown(value: Any) -> str:
    """A value as the file's reader wrote it: JSON for scalars, a kind for the rest."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _child(node: Any, part: Any) -> Any:
    if isinstance(node, list):
        return node[part] if isinstance(part, int) and 0 <= part < len(node) else None
    return node.get(part) if isinstance(node, dict) else None


def _place(document: Any, path: Path) -> str:
    """`requests[2].template.workspace`: a list's items by index, a mapping's by key."""
    place, node = "", document
    for part in path:
        place += f"[{part}]" if isinstance(node, list) else (f".{part}" if place else str(part))
        node = _child(node, part)
    return place or "the file"


def _position(document: Any, path: Path) -> tuple[int, ...]:
    """Where the value is in the file; a value that is not there sorts with its holder."""
    position: list[int] = []
    node = document
    for part in path:
        if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            position.append(part)
        elif isinstance(node, dict) and part in node:
            position.append(list(node).index(part))
        else:
            break
        node = _child(node, part)
    return tuple(position)


class _Problems:
    def __init__(self, document: Any) -> None:
        self.document = document
        self.items: list[tuple[Path, str]] = []
        self.misshapen: set[Path] = set()

    def __bool__(self) -> bool:
        return bool(self.items)

    def add(self, path: Path, message: str) -> None:
        self.items.append((path, message))

    def add_shape(self, path: Path, message: str) -> None:
        # One problem per value, as a reader fixes it: nothing inside a value of the
        # wrong shape is reported, nor a second thing wrong with the same value.
        if self.fits(path):
            self.misshapen.add(path)
            self.add(path, message)

    def fits(self, path: Path) -> bool:
        """The value and those holding it have the schema's shape."""
        return not any(path[:length] in self.misshapen for length in range(len(path) + 1))

    def place(self, path: Path) -> str:
        return _place(self.document, path)

    def messages(self) -> list[str]:
        ordered = sorted(self.items, key=lambda item: _position(self.document, item[0]))
        return [f"{self.place(path)}: {message}" for path, message in ordered]


# --- The shape ------------------------------------------------------------------------

_KINDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "boolean": "true or false",
    "integer": "a whole number",
    "number": "a number",
}
# Errors answered with the value the schema asks for: its `title`, its `const`, or its
# `type` and bounds ("expected a whole number from 100 to 599, got 99").
_EXPECTED_VALUE = frozenset({"type", "const", "minimum", "maximum", "minItems", "maxItems"})
_MISSING_HINTS: dict[tuple[Any, ...], str] = {
    ("portal_collection",): "is this a collection file from the portal?",
    ("requests", int, "operation"): "write it as {api: <API slug>, operation: <operation slug>}",
}


@functools.cache
def _validator() -> Draft202012Validator:
    Draft202012Validator.check_schema(SCHEMA)
    return Draft202012Validator(SCHEMA)


def _kind(schema: Mapping[str, Any]) -> str:
    """The type a value should have; where null is allowed too, it means "none"."""
    types = schema.get("type", [])
    kinds = [types] if isinstance(types, str) else [kind for kind in types if kind != "null"]
    return kinds[0] if kinds else ""


def _expected(schema: Mapping[str, Any]) -> str:
    if "title" in schema:
        return str(schema["title"])
    if "const" in schema:
        return _shown(schema["const"])
    kind = _kind(schema)
    expected = _KINDS.get(kind, kind)
    if "minimum" in schema and "maximum" in schema:
        expected += f" from {schema['minimum']:g} to {schema['maximum']:g}"
    return expected


def _missing(path: Path) -> str:
    hint = _MISSING_HINTS.get(tuple(int if isinstance(part, int) else part for part in path))
    return f"missing; {hint}" if hint else "missing"


def _is_required_field(error: ValidationError) -> bool:
    """Whether the value is a field that the mapping holding it requires, found by
    walking the error's schema path to that mapping's schema."""
    steps = list(error.relative_schema_path)
    if len(steps) < 3 or steps[-3] != "properties":
        return False
    holder: Any = SCHEMA
    for step in steps[:-3]:
        holder = holder[step]
    return steps[-2] in holder.get("required", ())


def _schema(error: ValidationError) -> Mapping[str, Any]:
    return error.schema if isinstance(error.schema, Mapping) else {}


def _message(error: ValidationError) -> str:
    if error.validator == "maxLength":
        return f"longer than {error.validator_value} characters"
    if error.validator == "pattern" and error.validator_value == NOT_BLANK:
        return "must not be empty"
    if error.validator in _EXPECTED_VALUE:
        hint = ""
        if _kind(_schema(error)) == "string" and isinstance(error.instance, int | float | bool):
            hint = " (put it in quotes)"
        return f"expected {_expected(_schema(error))}, got {_shown(error.instance)}{hint}"
    return error.message


def _shape_problems(document: Any, *, optional: frozenset[Path]) -> list[tuple[Path, str]]:
    """What the schema finds wrong; `optional` names required fields this file may omit."""
    found: list[tuple[Path, str]] = []
    for error in _validator().iter_errors(document):
        path = tuple(error.absolute_path)
        if error.validator == "additionalProperties":
            known = _schema(error).get("properties", {})
            found += [((*path, key), "unknown field") for key in error.instance if key not in known]
        elif error.validator == "required":
            missing = [(*path, key) for key in error.validator_value if key not in error.instance]
            found += [(where, _missing(where)) for where in missing if where not in optional]
        elif error.instance is None and _is_required_field(error):
            # An empty YAML field (`name:`) where one is required.
            found.append((path, _missing(path)))
        else:
            found.append((path, _message(error)))
    return found


# --- What the portal knows ------------------------------------------------------------


def check_document(document: Any, *, name: str | None = None) -> CollectionPlan:
    """The collection a file's document describes, or CollectionFileError naming every
    problem. `name`, when given, names the collection instead of the file."""
    problems = _Problems(document)
    optional: frozenset[Path] = frozenset({("name",)} if name is not None else ())
    for path, message in _shape_problems(document, optional=optional):
        problems.add_shape(path, message)
    if not isinstance(document, dict):
        raise CollectionFileError(problems.messages())
    plan = CollectionPlan(name=_collection_name(document, name=name))
    description = document.get("description")
    plan.description = description if isinstance(description, str) else ""
    if "ignored_headers" in document:
        plan.ignored_headers = _ignored_headers(document["ignored_headers"], problems)
    plan.variables = _variables(document.get("variables"), problems)
    for index, item in _items(document.get("requests")):
        request = _request(item, ("requests", index), problems)
        if request is not None:
            plan.requests.append(request)
    _check_references(document, plan=plan, problems=problems)
    if problems:
        raise CollectionFileError(problems.messages())
    return plan


def _items(value: Any) -> list[tuple[int, Any]]:
    return list(enumerate(value)) if isinstance(value, list) else []


def _strings(value: Any) -> list[tuple[int, str]]:
    return [(index, item) for index, item in _items(value) if isinstance(item, str)]


def _pairs(value: Any) -> list[tuple[int, str, str]]:
    return [
        (index, item[0], item[1])
        for index, item in _items(value)
        if isinstance(item, list)
        and len(item) == 2
        and isinstance(item[0], str)
        and isinstance(item[1], str)
    ]


def _name(mapping: dict, key: str, path: Path, problems: _Problems) -> str | None:
    value = mapping.get(key)
    if isinstance(value, str) and problems.fits((*path, key)):
        return value.strip()
    return None


def _collection_name(document: dict, *, name: str | None) -> str:
    if name is not None:
        return name.strip()[:200] or "Imported collection"
    named = document.get("name")
    return named.strip() if isinstance(named, str) else ""


def _ignored_headers(value: Any, problems: _Problems) -> str:
    names = []
    for index, item in _strings(value):
        header = item.strip()
        names.append(header)
        if not TOKEN.match(header):
            problems.add(("ignored_headers", index), f"not a header name: {_shown(header)}")
    joined = ", ".join(names)
    if len(joined) > 500:
        problems.add(("ignored_headers",), "longer than 500 characters in all")
    return joined


def _variables(value: Any, problems: _Problems) -> list[tuple[str, str, bool]]:
    found: list[tuple[str, str, bool]] = []
    seen: dict[str, Path] = {}
    for index, item in _items(value):
        path: Path = ("variables", index)
        if not isinstance(item, dict):
            continue
        name = _name(item, "name", path, problems)
        if name is not None and not VARIABLE_NAME.match(name):
            problems.add((*path, "name"), f"{_shown(name)} cannot be written as {{{{{name}}}}}")
            name = None
        if name is not None and name in seen:
            problems.add(
                (*path, "name"), f'"{name}" is already defined in {problems.place(seen[name])}'
            )
            name = None
        if name is None:
            continue
        seen[name] = path
        text, secret = item.get("value", ""), item.get("secret", False)
        if isinstance(text, str) and isinstance(secret, bool):
            found.append((name, text, secret))
    return found


def _operation(request: dict, path: Path, problems: _Problems) -> Operation | None:
    reference = request.get("operation")
    if not isinstance(reference, dict) or not problems.fits(path):
        return None
    api_slug = _name(reference, "api", path, problems)
    slug = _name(reference, "operation", path, problems)
    if api_slug is None or slug is None:
        return None
    api = Api.objects.filter(slug=api_slug).first()
    if api is None:
        problems.add(path, f'no API "{api_slug}" in the portal')
        return None
    operation = Operation.objects.filter(api=api, slug=slug).prefetch_related("parameters").first()
    if operation is None:
        problems.add(path, f'no operation "{slug}" in API "{api_slug}"')
    return operation


def _parse_one(
    parser: Callable[[str], list[dict]], text: str, path: Path, problems: _Problems
) -> dict | None:
    """One check or extraction rule from one line of the file."""
    try:
        parsed = parser(text)
    except CheckSyntaxError as error:
        problems.add(path, error.message)
        return None
    if len(parsed) != 1:
        problems.add(path, f"expected one line, got {_shown(text)}")
        return None
    return parsed[0]


def _request(item: Any, path: Path, problems: _Problems) -> RequestPlan | None:
    if not isinstance(item, dict):
        return None
    name = _name(item, "name", path, problems)
    operation = _operation(item, (*path, "operation"), problems)
    content = RequestContent()
    _read_values(item, path, operation, content, problems)
    expect = item.get("expect")
    if isinstance(expect, dict):
        _read_expect(expect, (*path, "expect"), content, problems)
    for index, line in _strings(item.get("extract")):
        rule = _parse_one(parse_extract, line, (*path, "extract", index), problems)
        if rule is not None:
            content.extract.append(rule)
    repeat = item.get("repeat")
    if isinstance(repeat, dict):
        _read_repeat(repeat, (*path, "repeat"), content, problems)
    server = item.get("server")
    if isinstance(server, str) and operation is not None and problems.fits((*path, "server")):
        _read_server(server, (*path, "server"), operation, content, problems)
    if name is None or operation is None:
        return None
    return RequestPlan(name=name, operation=operation, content=content)


def _read_server(
    url: str, path: Path, operation: Operation, content: RequestContent, problems: _Problems
) -> None:
    """A server written as its URL is one of the API's, or the file imports nothing."""
    api = operation.api
    wanted = url.strip().rstrip("/")
    if wanted == api.service_url.rstrip("/"):
        content.server, content.server_url = SERVICE, api.service_url
        return
    for server in api.servers.all():
        if server.url.rstrip("/") == wanted:
            content.server, content.server_url = str(server.pk), server.url
            return
    problems.add(path, f'{_shown(url)} is not one of the servers of API "{api.slug}"')


def _read_values(
    request: dict,
    path: Path,
    operation: Operation | None,
    content: RequestContent,
    problems: _Problems,
) -> None:
    parameters = list(operation.parameters.all()) if operation else []
    in_template = {p.name for p in parameters if p.location == ParameterLocation.TEMPLATE}
    in_query = {p.name for p in parameters if p.location == ParameterLocation.QUERY}
    template = request.get("template")
    template = template if isinstance(template, dict) else {}
    for key, value in template.items():
        if operation is not None and key not in in_template:
            problems.add(
                (*path, "template", key),
                f'operation "{operation.slug}" has no URL template parameter',
            )
        elif isinstance(value, str):
            content.template[str(key)] = value
    if operation is not None:
        _check_template_complete(operation, template, (*path, "template"), problems)
    for index, key, value in _pairs(request.get("query")):
        if operation is not None and key not in in_query:
            problems.add(
                (*path, "query", index),
                f'operation "{operation.slug}" has no query parameter "{key}"',
            )
        else:
            content.query.append([key, value])
    for index, header, value in _pairs(request.get("headers")):
        if not TOKEN.match(header):
            problems.add((*path, "headers", index), f"not a header name: {_shown(header)}")
        elif (reason := refusal_reason(header)) is not None:
            problems.add((*path, "headers", index), f"{reason}; it cannot be sent")
        else:
            content.headers.append([header, value])
    for index, name, value in _pairs(request.get("cookies")):
        _read_cookie(name, value, (*path, "cookies", index), operation, content, problems)
    body = request.get("body")
    if isinstance(body, str):
        content.body = body
    if isinstance(request.get("content_type"), str):
        content.content_type = request["content_type"]
    content.parts = [[name, value] for _, name, value in _pairs(request.get("parts"))]
    _read_files(request.get("files"), (*path, "files"), content, problems)


def _read_files(files: Any, path: Path, content: RequestContent, problems: _Problems) -> None:
    limit = settings.PORTAL_OUTBOUND_MAX_REQUEST_BODY_BYTES
    for index, item in enumerate(files if isinstance(files, list) else []):
        if not isinstance(item, dict) or not isinstance(item.get("base64"), str):
            continue  # the schema's problem
        encoded = item["base64"]
        # Four characters a three bytes: a text far over the cap is not decoded.
        if len(encoded) > (limit + 2) // 3 * 4 + 4:
            problems.add((*path, index), f"the file is larger than the limit of {limit} bytes")
            continue
        try:
            data = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            problems.add((*path, index, "base64"), "not base64")
            continue
        if len(data) > limit:
            problems.add((*path, index), f"the file is larger than the limit of {limit} bytes")
            continue
        content.files.append(
            LoadedFile(
                field=str(item.get("field")),
                name=safe_filename(str(item.get("name"))),
                content_type=str(item.get("content_type") or ""),
                data=data,
            )
        )


def _read_cookie(
    name: str,
    value: str,
    path: Path,
    operation: Operation | None,
    content: RequestContent,
    problems: _Problems,
) -> None:
    if operation is None:
        return
    if name not in cookie_names(operation):
        problems.add(path, f'operation "{operation.slug}" has no cookie parameter "{name}"')
        return
    problem = unknown_cookie(operation=operation, name=name) or cookie_value_problem(
        operation=operation, name=name, value=value
    )
    if problem is not None:
        problems.add(path, f"{problem.rstrip('.')}; it cannot be sent")
    else:
        content.cookies.append([name, value])


def _check_template_complete(
    operation: Operation, template: dict, path: Path, problems: _Problems
) -> None:
    # Binding needs a value for every placeholder; say so now rather than at the first run.
    try:
        names = parse_template(operation.url_template).names
    except TemplateError:
        return
    missing = [name for name in names if name not in template]
    if missing:
        listed = ", ".join(f'"{name}"' for name in missing)
        problems.add(
            path,
            f"missing {listed} of the URL template {operation.url_template} "
            "(write '' to leave an optional query value empty)",
        )


def _read_expect(expect: dict, path: Path, content: RequestContent, problems: _Problems) -> None:
    status = expect.get("status")
    if status is not None and problems.fits((*path, "status")):
        # JSON Schema counts 200.0 as a whole number too; the column holds an int.
        content.expected_status = int(status)
    for index, line in _strings(expect.get("checks")):
        check = _parse_one(parse_checks, line, (*path, "checks", index), problems)
        if check is not None:
            content.checks.append(check)


def _read_repeat(repeat: dict, path: Path, content: RequestContent, problems: _Problems) -> None:
    until = repeat.get("until")
    if isinstance(until, str):
        content.repeat_until = _parse_one(parse_checks, until, (*path, "until"), problems)
    if problems.fits((*path, "max_tries")):
        content.repeat_max_tries = int(repeat.get("max_tries", 1))
    delay = repeat.get("delay_seconds", 1.0)
    if isinstance(delay, float) and math.isnan(delay):
        # YAML's .nan is no JSON value, so JSON Schema has no word for refusing it.
        problems.add(
            (*path, "delay_seconds"),
            f"expected a number from 0 to {MAX_DELAY_SECONDS:g}, got {_shown(delay)}",
        )
    elif problems.fits((*path, "delay_seconds")):
        content.repeat_delay_seconds = float(delay)


def _check_references(document: dict, *, plan: CollectionPlan, problems: _Problems) -> None:
    """Every {{name}} in a request is a variable of the file or extracted by a request."""
    known = {name for name, _, _ in plan.variables}
    known |= {rule["variable"] for request in plan.requests for rule in request.content.extract}
    for index, request in _items(document.get("requests")):
        if not isinstance(request, dict):
            continue
        for path, text in _sent_texts(request, ("requests", index)):
            for match in VARIABLE.finditer(text):
                if match.group(1) not in known:
                    problems.add(
                        path,
                        f'unknown variable "{match.group(1)}": define it under variables or '
                        "extract it from a request",
                    )


def _sent_texts(request: dict, path: Path) -> list[tuple[Path, str]]:
    """The strings of a request that are sent, each with its place."""
    found: list[tuple[Path, str]] = []
    template = request.get("template")
    if isinstance(template, dict):
        found += [((*path, "template", k), v) for k, v in template.items() if isinstance(v, str)]
    for key in ("query", "headers", "cookies"):
        for index, pair in _items(request.get(key)):
            if isinstance(pair, list) and len(pair) == 2 and isinstance(pair[1], str):
                found.append(((*path, key, index, 1), pair[1]))
    if isinstance(request.get("body"), str):
        found.append(((*path, "body"), request["body"]))
    return found
