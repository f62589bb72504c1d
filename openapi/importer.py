"""Import OpenAPI documents (Swagger 2.0, OpenAPI 3.0, 3.1 and 3.2) as an API and its operations.

Two steps. Reading (pure: one query to find an existing API's service URL) turns the
document into a plan and collects every problem with its JSON pointer; a document with
problems raises OpenApiError before the database is touched. Writing applies the plan in
one transaction: a new API, or the existing one synchronised.

Decisions (where OpenAPI and the portal's model differ):

- Loading: JSON, or YAML read from the parser's events under the YAML 1.2 core schema
  (`yes` and `2024-01-01` stay text, mapping keys are text: `200:` is "200"); aliases and
  merge keys work within MAX_ALIAS_EXPANSION, custom tags and several documents do not.
- References: only `#/...` pointers inside the document, followed lazily with cycle
  detection; a bare name (`$ref: Pet`, old Swagger tools) means the definition of that
  name. Every other reference is external and refused where it is written: nothing is
  ever fetched (openapi.refs).
- Validation is our own, for the fields the import reads: openapi-spec-validator takes
  ~7 s on a 10 MB document (the whole import takes ~1.5 s) and refuses documents real
  tools accept (`swagger: 2.0` as a number).
- Service URL: the override, else servers[0] with its variables' defaults (3.x), else
  https (when listed, or no schemes) + host + basePath (2.0). A relative or missing one is
  an error, except when updating an API, which keeps its own. It must pass the network
  policy (validators.service_url_problems).
- Slugs: operationId (or `x-portal-slug`, which the portal's export writes), else verb and
  path, split at camel case: getUserByName → get-user-by-name; unique within the API; an
  existing operation keeps its slug, so links and saved requests stay valid.
- Path parameter names that are not placeholder names (templating.PLACEHOLDER_NAME) are
  renamed (`$filter` → `filter`, `1st` → `p_1st`) in the template and the parameter, whose
  description gives the original. Undeclared placeholders get a parameter.
- Header parameters Accept and Content-Type are ignored (as OpenAPI says); headers the
  portal refuses (Host, Cookie...) are skipped with a note. Names that carry credentials
  and `format: password` make a parameter secret.
- Security: the first requirement of `security` (the operation's, else the document's)
  becomes secret parameters; a credential is required when every alternative asks for it.
- Bodies: the preferred media type is application/json, then another JSON type, then the
  first. Forms are documented as a field list; urlencoded ones get an a=1&b=2 example.
- Responses: numeric codes become documented responses. `default` and ranges (4XX) have no
  status code: they are listed under "Other responses" in the operation's description (a
  bare `default: {description: Response}`, what exporters add to satisfy OpenAPI, is not).
  Links are listed in the response's description; callbacks in the operation's.
- Examples: given ones first; else generated from the schema (allOf merged, oneOf/anyOf
  first, formats given plausible values, readOnly left out of requests and writeOnly out of
  responses), cut at EXAMPLE_MAX_DEPTH levels or EXAMPLE_MAX_NODES values, recursion
  written as {} or [].
- Skipped, each said in the summary's notes: webhooks, TRACE and QUERY operations,
  `x-ms-paths`, mutual TLS. The export's `x-portal-paths` are read like `paths`.
- Sync: operations are matched by operationId, else by verb and path (placeholder names
  aside); a changed one has its parameters and responses replaced; one gone from the
  document is marked removed (kept, so saved requests can say so) and comes back
  un-removed (listed as added and restored). Order alone does not count as a change.
- Preview: preview_import computes the changes the write would make, from the same code,
  and writes nothing; write_plan(expected=...) recomputes them under a row lock and
  refuses (PlanChanged) when they are not the previewed ones.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import yaml
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.text import slugify

from catalog.models import Api, Operation, Parameter, ParameterLocation, ParameterType, ResponseDoc
from catalog.validators import service_url_problems
from httpcore.headers import TOKEN as HEADER_TOKEN
from httpcore.headers import refusal_reason
from httpcore.masking import is_secret_name
from httpcore.templating import PLACEHOLDER_NAME, TemplateError, parse_template
from openapi.refs import RefError, Resolver, join, ref_problems

MAX_DOCUMENT_BYTES = 50 * 1024 * 1024
MAX_NESTING = 500
# Nodes that YAML aliases may add on top of the document's own (a "billion laughs"
# document adds billions).
MAX_ALIAS_EXPANSION = 1_000_000
MAX_PROBLEMS = 200
MAX_NOTES = 30
# Generated examples: how deep objects nest and how many values one example holds.
EXAMPLE_MAX_DEPTH = 6
EXAMPLE_MAX_NODES = 400
# A literal example larger than this is replaced by a generated one.
MAX_EXAMPLE_CHARS = 100_000
BATCH_SIZE = 500

METHODS = {"get", "put", "post", "delete", "options", "head", "patch"}
UNSUPPORTED_METHODS = {"trace", "query"}
PATH_ITEM_FIELDS = {"$ref", "summary", "description", "servers", "parameters"}
# OpenAPI: header parameters with these names are ignored (the body's media type and
# the security schemes say them).
IGNORED_HEADER_PARAMETERS = {"accept", "content-type"}
FORM_MEDIA_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
TYPES = {
    "integer": ParameterType.INTEGER,
    "number": ParameterType.NUMBER,
    "boolean": ParameterType.BOOLEAN,
}
STRING_FORMATS = {
    "date-time": "2024-01-01T12:00:00Z",
    "date": "2024-01-01",
    "time": "12:00:00",
    "duration": "P1D",
    "uuid": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "email": "user@example.com",
    "idn-email": "user@example.com",
    "uri": "https://example.com",
    "url": "https://example.com",
    "uriref": "https://example.com",
    "uri-reference": "https://example.com",
    "iri": "https://example.com",
    "hostname": "example.com",
    "idn-hostname": "example.com",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
    "byte": "U3dhZ2dlciByb2Nrcw==",
    "binary": "",
    "password": "********",
    "int32": "0",
    "int64": "0",
}
# Parameter names that carry credentials, besides those httpcore.masking knows.
SECRET_NAME = re.compile(
    r"api[-_]?key|access[-_]?token|auth[-_]?token|secret|password|passwd|subscription[-_]?key",
    re.IGNORECASE,
)
SLUG = re.compile(r"[-a-zA-Z0-9_]{1,100}")
# What exporters write for the response OpenAPI requires when none is documented.
PLACEHOLDER_DESCRIPTIONS = {"", "response", "default", "default response"}
FIELD_LIMITS = {"name": 200, "tags": 200, "content_type": 100, "version": 50}


class OpenApiError(ValueError):
    """The document cannot be imported; problems are "JSON pointer: message" strings."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass
class ImportSummary:
    api: Api
    created_api: bool
    added: list[str]
    changed: list[str]
    removed: list[str]
    unchanged: int
    # Operations that were removed by an earlier import and came back (also in added).
    restored: list[str] = field(default_factory=list)
    # What was skipped or adapted (webhooks, renamed path parameters ...).
    notes: list[str] = field(default_factory=list)
    # slug → "GET /pets", for the lines.
    labels: dict[str, str] = field(default_factory=dict)
    # The API's own fields that change ('version: 1.0 → 2.0'); none for a new API.
    api_changes: list[str] = field(default_factory=list)

    @property
    def headline(self) -> str:
        return (
            f'Imported "{self.api.name}" ({self.api.slug}): {len(self.added)} added, '
            f"{len(self.changed)} changed, {len(self.removed)} removed."
        )

    def lines(self) -> list[str]:
        return [self.headline, *self.change_lines()]

    def change_lines(self) -> list[str]:
        """One line per change of the API and of each operation, then the notes."""
        lines = [f"  {'api':<8} {change}" for change in self.api_changes]
        restored = set(self.restored)
        for kind, slugs in (("added", self.added), ("changed", self.changed)):
            for slug in slugs:
                extra = " (restored)" if slug in restored else ""
                lines.append(f"  {kind:<8} {slug}  {self.labels.get(slug, '')}{extra}".rstrip())
        for slug in self.removed:
            lines.append(f"  {'removed':<8} {slug}  {self.labels.get(slug, '')}".rstrip())
        if self.unchanged:
            lines.append(f"  {self.unchanged} unchanged.")
        lines.extend(f"Note: {note}" for note in self.notes)
        return lines

    def fingerprint(self) -> str:
        """Equal for two summaries that make the same changes to the same API."""
        text = json.dumps([self.api.slug, self.created_api, self.lines()], ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()


# --- Loading ---------------------------------------------------------------------------


def max_document_bytes() -> int:
    """The largest document accepted: settings.PORTAL_OPENAPI_MAX_BYTES, else 50 MB."""
    return getattr(settings, "PORTAL_OPENAPI_MAX_BYTES", MAX_DOCUMENT_BYTES)


def load_document(*, text: str | bytes) -> dict:
    """Parse a JSON or YAML document into plain dicts, lists and scalars.

    YAML follows the 1.2 core schema (`yes` and `2024-01-01` stay strings; mapping keys
    are always strings, so `200:` is "200"); aliases are allowed within limits, custom
    tags and several documents in one stream are not. Raises OpenApiError.
    """
    limit = max_document_bytes()
    if len(text) > limit:
        raise OpenApiError(
            [f"/: the document is larger than the limit of {limit // (1024 * 1024)} MB."]
        )
    if isinstance(text, bytes):
        try:
            if text.startswith((b"\xff\xfe", b"\xfe\xff")):
                text = text.decode("utf-16")
            else:
                text = text.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise OpenApiError(
                [f"/: the document is not UTF-8 text (byte {error.start + 1})."]
            ) from None
    text = text.removeprefix("\ufeff")
    stripped = text.lstrip()
    if not stripped:
        raise OpenApiError(["/: the document is empty."])
    document: Any
    if stripped[0] in "{[":
        try:
            document = json.loads(text)
        except RecursionError:
            raise OpenApiError([f"/: the document nests more than {MAX_NESTING} levels."]) from None
        except ValueError as json_error:
            # JSON is (nearly) YAML: a document in YAML flow style still loads.
            try:
                document = _load_yaml(text)
            except OpenApiError:
                if not isinstance(json_error, json.JSONDecodeError):  # e.g. too many digits
                    raise OpenApiError(
                        [f"/: the document is not valid JSON: {json_error}."]
                    ) from None
                raise OpenApiError(
                    [
                        f"/: the document is not valid JSON: {json_error.msg} at line "
                        f"{json_error.lineno}, column {json_error.colno}."
                    ]
                ) from None
    else:
        document = _load_yaml(text)
    if not isinstance(document, dict):
        raise OpenApiError(["/: the document must be an object (a mapping), not a list or value."])
    return document


_YAML_NULL = {"", "~", "null", "Null", "NULL"}
_YAML_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False}
_YAML_BOOL["FALSE"] = False
_YAML_INT = re.compile(r"[-+]?[0-9]+\Z")
_YAML_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z")
_YAML_SPECIAL_FLOATS = {
    ".inf": float("inf"),
    ".Inf": float("inf"),
    ".INF": float("inf"),
    "+.inf": float("inf"),
    "+.Inf": float("inf"),
    "+.INF": float("inf"),
    "-.inf": float("-inf"),
    "-.Inf": float("-inf"),
    "-.INF": float("-inf"),
}
_YAML_MAYBE_NOT_STRING = frozenset("0123456789+-.~nNtTfF")
_STR_TAGS = {"tag:yaml.org,2002:str", "!"}
_SCALAR_TAGS = {
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
}


def _plain_scalar(value: str) -> Any:
    """A plain (unquoted) YAML scalar under the YAML 1.2 core schema."""
    if value and value[0] not in _YAML_MAYBE_NOT_STRING:
        return value
    if value in _YAML_NULL:
        return None
    if value in _YAML_BOOL:
        return _YAML_BOOL[value]
    if _YAML_INT.match(value):
        return int(value)
    if value.startswith("0x") and len(value) > 2:
        try:
            return int(value[2:], 16)
        except ValueError:
            return value
    if value.startswith("0o") and len(value) > 2:
        try:
            return int(value[2:], 8)
        except ValueError:
            return value
    if _YAML_FLOAT.match(value):
        return float(value)
    if value in _YAML_SPECIAL_FLOATS:
        return _YAML_SPECIAL_FLOATS[value]
    if value in {".nan", ".NaN", ".NAN"}:
        return float("nan")
    return value


def _tagged_scalar(tag: str, value: str, where: str) -> Any:
    if tag in _STR_TAGS:
        return value
    if tag in _SCALAR_TAGS:
        converted = _plain_scalar(value)
        return converted
    raise OpenApiError([f"/: the YAML tag {tag} ({where}) is not supported."])


class _Frame:
    __slots__ = ("anchor", "container", "key", "merges", "size")

    def __init__(self, container: dict | list, anchor: str | None) -> None:
        self.container = container
        self.anchor = anchor
        self.key: Any = _NO_KEY
        self.merges: list = []
        self.size = 1


_NO_KEY = object()
_MERGE = object()


def _yaml_problem(error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    return f"/: the document is not valid YAML: {problem}{where}."


def _load_yaml(text: str) -> Any:
    """Build the document from the parser's events: iterative, no node graph kept."""
    loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loader = loader_class(text)
    try:
        return _build_from_events(loader)
    except yaml.YAMLError as error:
        raise OpenApiError([_yaml_problem(error)]) from None
    finally:
        loader.dispose()


def _where(event: yaml.Event) -> str:
    mark = event.start_mark
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark else "somewhere"


def _build_from_events(loader: Any) -> Any:
    get_event = loader.get_event
    anchors: dict[str, tuple[Any, int]] = {}
    stack: list[_Frame] = []
    result: Any = None
    done = False
    expansion = 0
    documents = 0

    def add(value: Any, size: int, *, plain_key: str | None = None) -> None:
        nonlocal result, done
        if not stack:
            result = value
            done = True
            return
        frame = stack[-1]
        frame.size += size
        container = frame.container
        if isinstance(container, list):
            container.append(value)
        elif frame.key is _NO_KEY:
            if isinstance(value, dict | list):
                raise OpenApiError(
                    ["/: a YAML mapping key must be a plain value, not a collection."]
                )
            frame.key = _MERGE if plain_key == "<<" else _key_text(value, plain_key)
        else:
            if frame.key is _MERGE:
                frame.merges.append(value)
            else:
                container[frame.key] = value
            frame.key = _NO_KEY

    while True:
        event = get_event()
        kind = type(event)
        if kind is yaml.ScalarEvent:
            tag = event.tag
            # implicit[0]: a plain scalar without a tag, typed by its text.
            plain = bool(event.implicit[0]) and tag is None
            if plain:
                value = _plain_scalar(event.value)
            elif tag is None or event.implicit[1] or tag in _STR_TAGS:
                value = event.value
            else:
                value = _tagged_scalar(tag, event.value, _where(event))
            if event.anchor is not None:
                anchors[event.anchor] = (value, 1)
            add(value, 1, plain_key=event.value if plain else None)
        elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
            if event.tag not in (None, "!", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"):
                raise OpenApiError(
                    [f"/: the YAML tag {event.tag} ({_where(event)}) is not supported."]
                )
            if len(stack) >= MAX_NESTING:
                raise OpenApiError([f"/: the document nests more than {MAX_NESTING} levels."])
            container: dict | list = {} if kind is yaml.MappingStartEvent else []
            stack.append(_Frame(container, event.anchor))
        elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
            frame = stack.pop()
            container = frame.container
            if frame.merges and isinstance(container, dict):  # merge keys are a mapping's
                container = _apply_merges(container, frame.merges)
            if frame.anchor is not None:
                anchors[frame.anchor] = (container, frame.size)
            add(container, frame.size)
        elif kind is yaml.AliasEvent:
            if event.anchor not in anchors:
                if any(frame.anchor == event.anchor for frame in stack):
                    raise OpenApiError(
                        [f"/: the YAML alias *{event.anchor} ({_where(event)}) contains itself."]
                    )
                raise OpenApiError(
                    [f"/: the YAML alias *{event.anchor} ({_where(event)}) has no anchor."]
                )
            value, size = anchors[event.anchor]
            expansion += size
            if expansion > MAX_ALIAS_EXPANSION:
                raise OpenApiError(
                    [
                        "/: YAML aliases expand the document to more than "
                        f"{MAX_ALIAS_EXPANSION:,} extra values; refused."
                    ]
                )
            add(value, size, plain_key=None)
        elif kind is yaml.DocumentStartEvent:
            documents += 1
            if documents > 1:
                raise OpenApiError(
                    [f"/: the file holds several YAML documents ({_where(event)}); give one."]
                )
        elif kind is yaml.StreamEndEvent:
            break
    if not done:
        raise OpenApiError(["/: the document is empty."])
    return result


def _key_text(value: Any, plain: str | None) -> str:
    """Mapping keys are strings, as in JSON: 200 is "200", as written."""
    if isinstance(value, str):
        return value
    if plain is not None:
        return plain
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _apply_merges(container: dict, merges: list) -> dict:
    """YAML merge keys (`<<: *base`): keys written in the mapping win."""
    sources: list = []
    for merge in merges:
        sources.extend(merge if isinstance(merge, list) else [merge])
    merged: dict = {}
    for source in reversed(sources):
        if not isinstance(source, dict):
            raise OpenApiError(["/: a YAML merge key (<<) must merge mappings."])
        merged.update(source)
    merged.update(container)
    return merged


# --- Reading: the document → a plan ----------------------------------------------------


@dataclass
class ParameterPlan:
    name: str
    location: str
    required: bool = False
    type: str = ParameterType.STRING
    default: str = ""
    allowed_values: str = ""
    description: str = ""
    secret: bool = False
    order: int = 0

    def key(self) -> tuple:
        return (
            self.name,
            self.location,
            self.required,
            self.default,
            self.allowed_values,
            self.type,
            self.description,
            self.secret,
            self.order,
        )


@dataclass
class ResponsePlan:
    status_code: int
    description: str
    content_type: str
    example: str

    def key(self) -> tuple:
        return (self.status_code, self.description, self.content_type, self.example)


@dataclass
class OperationPlan:
    method: str
    path: str
    url_template: str
    operation_id: str
    name: str
    description: str
    tags: str
    deprecated: bool
    request_content_type: str
    body_example: str
    parameters: list[ParameterPlan]
    responses: list[ResponsePlan]
    order: int
    pointer: str
    # The slug the portal exported the operation with (x-portal-slug), if any.
    slug_hint: str = ""

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    def fields(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "method": self.method,
            "url_template": self.url_template,
            "description": self.description,
            "tags": self.tags,
            "operation_id": self.operation_id,
            "deprecated": self.deprecated,
            "request_content_type": self.request_content_type,
            "body_example": self.body_example,
        }


@dataclass
class ApiPlan:
    slug: str
    name: str
    description: str
    version: str
    service_url: str
    operations: list[OperationPlan]
    notes: list[str]


def _text(value: Any) -> str:
    """A parameter value as the form shows it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, list):
        return ",".join(_text(item) for item in value)
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    except (TypeError, ValueError, RecursionError):
        return ""


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _is_json_media(media_type: str) -> bool:
    base = media_type.split(";")[0].strip().lower()
    return base == "application/json" or base.endswith("+json") or "json" in base


# Where an apiKey security scheme's key goes ("in").
_KEY_LOCATIONS = {
    "header": ParameterLocation.HEADER,
    "query": ParameterLocation.QUERY,
    "cookie": ParameterLocation.COOKIE,
}


def _pick_media(media_types: Iterable[str]) -> str | None:
    """application/json first, then another JSON type, then the first one."""
    names = [name for name in media_types if isinstance(name, str)]
    if not names:
        return None
    for name in names:
        if name.split(";")[0].strip().lower() == "application/json":
            return name
    for name in names:
        if _is_json_media(name):
            return name
    return names[0]


def _content_type(media_type: str) -> str:
    if "*" in media_type:
        return "application/json"
    if len(media_type) > FIELD_LIMITS["content_type"]:
        media_type = media_type.split(";")[0].strip()
    return media_type[: FIELD_LIMITS["content_type"]]


def _camel_words(text: str) -> str:
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", text)
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", text)
    return re.sub(r"[^A-Za-z0-9]+", " ", text)


def slug_base(text: str) -> str:
    """getUserByName → get-user-by-name; "GET /pets/{petId}" → get-pets-pet-id."""
    return slugify(_camel_words(text))[:100].strip("-")


def _placeholder(name: str, used: set[str]) -> str:
    """A valid, unused URL template placeholder name for a path parameter."""
    if PLACEHOLDER_NAME.match(name) and name not in used:
        return name
    candidate = re.sub(r"[^A-Za-z0-9_.\-]", "_", name).strip("_") or "param"
    if not re.match(r"[A-Za-z_]", candidate):
        candidate = f"p_{candidate}"
    candidate = candidate[:190]
    unique, counter = candidate, 2
    while unique in used:
        unique, counter = f"{candidate}_{counter}", counter + 1
    return unique


_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_LITERAL_SAFE = "/-._~!$&'()*+,;=:@%?"


def _service_url_problems(url: str) -> list[str]:
    if len(url) > 500:
        return ["The service URL is longer than 500 characters."]
    return service_url_problems(url)


def _encode_literal(text: str) -> str:
    return quote(text, safe=_LITERAL_SAFE)


class _Reader:
    """Reads one document; problems and notes accumulate, nothing touches the database."""

    def __init__(self, document: dict) -> None:
        self.document = document
        self.problems: list[str] = []
        self._problem_set: set[str] = set()
        self.notes: list[str] = []
        self.v2 = False
        self.resolver: Resolver
        self._example_values: dict[tuple, tuple[Any, int]] = {}
        self._example_texts: dict[tuple, str] = {}
        self.callbacks = 0
        self.renamed = 0
        # Refs already reported where they are written: not reported again where used.
        self.bad_refs: set[str] = set()
        # operationId → the pointer of the operation that has it.
        self.operation_ids: dict[str, str] = {}
        # (name, in) → where the current operation lists the parameter.
        self.used_at: dict[tuple[str, str], str] = {}

    # -- helpers

    def problem(self, place: str, message: str) -> None:
        text = f"{place or '/'}: {message}"
        if text not in self._problem_set:
            self._problem_set.add(text)
            self.problems.append(text)

    def note(self, message: str) -> None:
        if message not in self.notes:
            self.notes.append(message)

    def deref(self, node: Any, place: str) -> tuple[Any, str] | None:
        """Follow a $ref; None (the problem recorded) when it cannot be followed."""
        try:
            return self.resolver.deref(node, place)
        except RefError as error:
            if node.get("$ref") not in self.bad_refs:
                self.problem(f"{place}/$ref", str(error))
            return None

    def string(self, node: dict, key: str, place: str) -> str:
        value = node.get(key)
        if value is None:
            return ""
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        self.problem(join(place, key), "must be a string")
        return ""

    def mapping(self, node: dict, key: str, place: str) -> dict:
        value = node.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.problem(join(place, key), "must be an object")
            return {}
        return value

    def sequence(self, node: dict, key: str, place: str) -> list:
        value = node.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem(join(place, key), "must be an array")
            return []
        return value

    # -- the document

    def read(
        self,
        *,
        api_slug: str | None,
        service_url: str | None,
        existing_service_url: Callable[[str], str | None] = lambda slug: None,
    ) -> ApiPlan:
        document = self.document
        self.read_version()
        if self.problems:
            raise OpenApiError(self.problems)
        self.resolver = Resolver(
            document,
            legacy_section=("definitions",) if self.v2 else ("components", "schemas"),
        )
        for place, ref, message in ref_problems(
            document, self.resolver, literal_examples_map=self.v2
        ):
            self.bad_refs.add(ref)
            self.problem(place, message)
        info = document.get("info")
        name = description = version = ""
        if not isinstance(info, dict):
            self.problem("/info", "required (an object with the API's title and version)")
        else:
            name = _one_line(self.string(info, "title", "/info"))
            if not name:
                self.problem("/info/title", "required")
            description = self.string(info, "description", "/info")
            version = self.string(info, "version", "/info")[: FIELD_LIMITS["version"]]
        slug = api_slug.strip() if api_slug else slugify(name)[:100].strip("-")
        if api_slug is not None and not SLUG.fullmatch(slug):
            self.problem("api", f"the API slug {api_slug!r} is not a valid slug")
        elif not slug and name:
            self.problem("/info/title", "gives no slug; give one (--api or the admin field)")
        url, missing = self.read_service_url(service_url)
        if url is None and missing is not None:
            # An API being updated keeps its service URL when the document names none.
            url = existing_service_url(slug) if slug else None
            if url is None:
                self.problem(*missing)
        self.security_schemes = self.read_security_schemes()
        self.global_security = document.get("security")
        operations = self.read_paths()
        self.read_webhooks()
        self.read_other_paths()
        if self.callbacks:
            self.note(
                f"{self.callbacks} callback(s) are described in their operations' descriptions "
                "and not imported: they are requests the API sends, not operations to try."
            )
        if self.renamed:
            self.note(
                f"{self.renamed} path parameter name(s) are not valid URL template names and "
                "were renamed; their descriptions give the original names."
            )
        if self.problems:
            problems = self.problems
            if len(problems) > MAX_PROBLEMS:
                hidden = len(problems) - MAX_PROBLEMS
                problems = [*problems[:MAX_PROBLEMS], f"… and {hidden} more problems."]
            raise OpenApiError(problems)
        notes = self.notes
        if len(notes) > MAX_NOTES:
            notes = [*notes[:MAX_NOTES], f"… and {len(notes) - MAX_NOTES} more notes."]
        return ApiPlan(
            slug=slug,
            name=_truncate(name, FIELD_LIMITS["name"]),
            description=description,
            version=version,
            service_url=url or "",
            operations=operations,
            notes=notes,
        )

    def read_version(self) -> None:
        document = self.document
        if "swaggerVersion" in document and "openapi" not in document:
            self.problem(
                "/swaggerVersion",
                "Swagger 1.x documents are not supported; convert the document to OpenAPI 3 "
                "(or Swagger 2.0) first",
            )
            return
        if "openapi" in document:
            raw = document["openapi"]
            text = str(raw) if isinstance(raw, str | int | float) else ""
            match = re.fullmatch(r"3\.(\d+)(\.\d+)?(-[0-9A-Za-z.\-]+)?", text)
            if not match:
                self.problem(
                    "/openapi",
                    f"unsupported version {raw!r}: this portal imports Swagger 2.0 and "
                    "OpenAPI 3.0, 3.1 and 3.2",
                )
            elif int(match.group(1)) > 2:
                self.problem(
                    "/openapi",
                    f"unsupported version {text}: this portal imports Swagger 2.0 and OpenAPI "
                    "3.0, 3.1 and 3.2",
                )
            return
        if "swagger" in document:
            raw = document["swagger"]
            if str(raw) not in {"2.0", "2"}:
                self.problem(
                    "/swagger",
                    f"unsupported version {raw!r}: this portal imports Swagger 2.0 and "
                    "OpenAPI 3.0, 3.1 and 3.2",
                )
            self.v2 = True
            return
        self.problem(
            "/openapi",
            "required: the document has no openapi (or swagger) version field, so it is not "
            "an OpenAPI document",
        )

    @property
    def responses_required(self) -> bool:
        """OpenAPI 3.1 made an operation's responses optional."""
        return self.v2 or str(self.document.get("openapi", "")).startswith("3.0")

    # -- the service URL

    def read_service_url(self, override: str | None) -> tuple[str | None, tuple | None]:
        """(URL, (pointer, message) when the document names no usable server).

        The URL is checked against the network policy.
        """
        if override:
            given = override.strip().rstrip("/")
            for message in _service_url_problems(given):
                self.problem("service URL", message)
            return given, None
        url, place, missing = self.document_server_url()
        if url is None:
            return None, missing
        for message in _service_url_problems(url):
            self.problem(
                place, f"{message} Give another service URL (--service-url or the admin field)."
            )
        return url, None

    def document_server_url(self) -> tuple[str | None, str, tuple | None]:
        """(URL, its pointer, (pointer, message) when there is none to use)."""
        document = self.document
        hint = "give the service URL (--service-url or the admin field)"
        if self.v2:
            host = document.get("host")
            if not host:
                return None, "/host", ("/host", f"the document has no host; {hint}")
            if not isinstance(host, str):
                self.problem("/host", "must be a string")
                return None, "/host", None
            base_path = document.get("basePath") or "/"
            if not isinstance(base_path, str):
                self.problem("/basePath", "must be a string")
                base_path = "/"
            schemes = [s for s in self.sequence(document, "schemes", "") if isinstance(s, str)]
            scheme = "https" if "https" in schemes or not schemes else schemes[0]
            if not base_path.startswith("/"):
                base_path = "/" + base_path
            return f"{scheme}://{host}{base_path}".rstrip("/"), "/host", None
        servers = document.get("servers")
        if servers is not None and not isinstance(servers, list):
            self.problem("/servers", "must be an array")
            return None, "/servers", None
        if not servers:
            return None, "/servers", ("/servers", f"the document has no server; {hint}")
        server = servers[0]
        if not isinstance(server, dict) or not isinstance(server.get("url"), str):
            self.problem("/servers/0/url", "required (a string)")
            return None, "/servers/0/url", None
        url = server["url"]
        variables = found if isinstance(found := server.get("variables"), dict) else {}
        for name in _PLACEHOLDER.findall(url):
            variable = variables.get(name)
            if not isinstance(variable, dict) or "default" not in variable:
                self.problem(
                    "/servers/0/variables",
                    f"the server URL uses {{{name}}} but gives it no default value",
                )
                return None, "/servers/0/url", None
            url = url.replace(f"{{{name}}}", str(variable["default"]))
        if not urlsplit(url).scheme:
            return (
                None,
                "/servers/0/url",
                ("/servers/0/url", f"the server URL {url!r} is relative; {hint}"),
            )
        return url.rstrip("/"), "/servers/0/url", None

    # -- security

    def read_security_schemes(self) -> dict[str, tuple[dict, str]]:
        if self.v2:
            schemes = self.mapping(self.document, "securityDefinitions", "")
            base = "/securityDefinitions"
        else:
            components = self.mapping(self.document, "components", "")
            schemes = self.mapping(components, "securitySchemes", "/components")
            base = "/components/securitySchemes"
        result = {}
        for name, scheme in schemes.items():
            resolved = self.deref(scheme, join(base, name))
            if resolved is None:
                continue
            if not isinstance(resolved[0], dict):
                self.problem(join(base, name), "must be an object")
                continue
            result[name] = resolved
        return result

    def security_parameters(self, security: Any, place: str) -> list[ParameterPlan]:
        """The credentials of the first security requirement that asks for any.

        A credential is required when every alternative asks for it; the schemes of the
        other alternatives are named in the description.
        """
        if not isinstance(security, list):
            if security is not None:
                self.problem(place, "must be an array of security requirements")
            return []
        requirements = [r for r in security if isinstance(r, dict)]
        chosen = next((r for r in requirements if r), None)
        if chosen is None:
            return []
        others = [name for r in requirements if r is not chosen for name in r if name not in chosen]
        parameters: list[ParameterPlan] = []
        for name in chosen:
            if name not in self.security_schemes:
                self.note(f"{place}: unknown security scheme {name!r} ignored.")
                continue
            scheme, _ = self.security_schemes[name]
            parameter = self.scheme_parameter(name, scheme)
            if parameter is None:
                continue
            parameter.required = all(name in r for r in requirements)
            if others:
                alternatives = ", ".join(sorted(set(others)))
                parameter.description += f" Alternatives: {alternatives}."
            parameters.append(parameter)
        return parameters

    def scheme_parameter(self, name: str, scheme: dict) -> ParameterPlan | None:
        kind = scheme.get("type")
        text = found if isinstance(found := scheme.get("description"), str) else ""
        described = _one_line(text) or f"Security scheme {name}."
        if kind == "apiKey":
            key_name = scheme.get("name")
            where = scheme.get("in")
            if not isinstance(key_name, str) or not key_name or len(key_name) > 200:
                self.note(f"security scheme {name!r} has no usable key name; ignored.")
                return None
            location = _KEY_LOCATIONS.get(where) if isinstance(where, str) else None
            if location is None:
                self.note(f"security scheme {name!r}: unknown key location {where!r}; ignored.")
                return None
            if location == ParameterLocation.HEADER and not self.sendable_header(key_name):
                return None
            return ParameterPlan(
                name=key_name, location=location, secret=True, description=f"API key. {described}"
            )
        if kind == "basic" or (kind == "http" and str(scheme.get("scheme", "")).lower() == "basic"):
            return ParameterPlan(
                name="Authorization",
                location=ParameterLocation.HEADER,
                secret=True,
                default="Basic ",
                description=f"HTTP Basic credentials: Basic base64(user:password). {described}",
            )
        if kind == "http":
            word = str(scheme.get("scheme") or "Bearer")
            word = "Bearer" if word.lower() == "bearer" else word.capitalize()
            detail = f" ({scheme['bearerFormat']})" if scheme.get("bearerFormat") else ""
            return ParameterPlan(
                name="Authorization",
                location=ParameterLocation.HEADER,
                secret=True,
                default=f"{word} ",
                description=f"{word} token{detail}. {described}",
            )
        if kind in {"oauth2", "openIdConnect"}:
            where = self.token_source(scheme)
            return ParameterPlan(
                name="Authorization",
                location=ParameterLocation.HEADER,
                secret=True,
                default="Bearer ",
                description=f"Bearer access token ({kind}): obtain the token elsewhere{where} "
                f"and paste it after 'Bearer '. {described}",
            )
        if kind == "mutualTLS":
            self.note(f"security scheme {name!r} (mutual TLS) cannot be used from the console.")
            return None
        self.note(f"security scheme {name!r} of type {kind!r} is not supported; ignored.")
        return None

    @staticmethod
    def token_source(scheme: dict) -> str:
        if isinstance(scheme.get("openIdConnectUrl"), str):
            return f" (OpenID Connect: {scheme['openIdConnectUrl']})"
        urls: list[str] = []
        flows = scheme.get("flows")
        if isinstance(flows, dict):
            for flow in flows.values():
                if isinstance(flow, dict):
                    urls.extend(
                        flow[key]
                        for key in ("tokenUrl", "authorizationUrl")
                        if isinstance(flow.get(key), str)
                    )
        for key in ("tokenUrl", "authorizationUrl"):
            if isinstance(scheme.get(key), str):
                urls.append(scheme[key])
        return f" ({', '.join(dict.fromkeys(urls))})" if urls else ""

    def sendable_header(self, name: str) -> bool:
        if not HEADER_TOKEN.match(name) or len(name) > 100:
            self.note(f"header {name!r} is not a valid header name; not imported.")
            return False
        reason = refusal_reason(name)
        if reason is not None:
            self.note(f"header {name!r} cannot be sent ({reason}); not imported.")
            return False
        return True

    # -- paths and operations

    def read_paths(self) -> list[OperationPlan]:
        document = self.document
        paths = document.get("paths")
        if paths is None:
            if self.v2 or str(document.get("openapi", "")).startswith("3.0"):
                self.problem("/paths", "required")
            return []
        if not isinstance(paths, dict):
            self.problem("/paths", "must be an object")
            return []
        operations: list[OperationPlan] = []
        self.read_path_items(paths, root="/paths", operations=operations)
        # The export's place for operations `paths` cannot hold beside another (the same
        # method and path): keyed by URL template, "#2" told apart.
        extra = document.get("x-portal-paths")
        if isinstance(extra, dict):
            self.read_path_items(extra, root="/x-portal-paths", operations=operations)
        return operations

    def read_path_items(self, paths: dict, *, root: str, operations: list[OperationPlan]) -> None:
        for key, item in paths.items():
            place = join(root, key)
            if not isinstance(key, str) or key.startswith("x-"):
                continue
            # The query and "#n" of an x-portal-paths key are also in the operation's
            # parameters, which rebuild them.
            path = key.partition("#")[0].partition("?")[0] if root != "/paths" else key
            if not path.startswith("/"):
                self.problem(place, "a path must start with '/'")
                continue
            resolved = self.deref(item, place)
            if resolved is None:
                continue
            item, item_place = resolved
            if not isinstance(item, dict):
                self.problem(place, "must be an object (a path item)")
                continue
            for key, operation in item.items():
                if not isinstance(key, str) or key in PATH_ITEM_FIELDS or key.startswith("x-"):
                    continue
                method = key.lower()
                if method in UNSUPPORTED_METHODS:
                    self.note(f"{method.upper()} {path} skipped: the console cannot send {key}.")
                    continue
                if key == "additionalOperations":
                    self.note(f"{path}: additionalOperations skipped.")
                    continue
                if method not in METHODS:
                    continue
                op_place = join(item_place, key)
                if not isinstance(operation, dict):
                    self.problem(op_place, "must be an object (an operation)")
                    continue
                plan = self.read_operation(
                    path=path, method=method, operation=operation, item=item, place=op_place
                )
                if plan is not None:
                    plan.order = len(operations)
                    operations.append(plan)

    def read_other_paths(self) -> None:
        extra = self.document.get("x-ms-paths")
        if isinstance(extra, dict) and extra:
            self.note(f"the {len(extra)} path(s) under x-ms-paths are not imported.")

    def read_webhooks(self) -> None:
        webhooks = self.document.get("webhooks")
        if isinstance(webhooks, dict) and webhooks:
            names = ", ".join(str(name) for name in list(webhooks)[:10])
            more = "…" if len(webhooks) > 10 else ""
            self.note(
                f"{len(webhooks)} webhook(s) skipped ({names}{more}): webhooks are requests "
                "the API sends to you, not operations to try."
            )

    def read_operation(
        self, *, path: str, method: str, operation: dict, item: dict, place: str
    ) -> OperationPlan | None:
        problems_before = len(self.problems)
        operation_id = self.string(operation, "operationId", place).strip()
        if len(operation_id) > 200:
            self.problem(join(place, "operationId"), "longer than 200 characters")
        if operation_id in self.operation_ids:
            self.problem(
                join(place, "operationId"),
                f"duplicate operationId {operation_id!r} (also at "
                f"{self.operation_ids[operation_id]}/operationId)",
            )
        elif operation_id:
            self.operation_ids[operation_id] = place
        slug_hint = operation.get("x-portal-slug")
        slug_hint = slug_hint if isinstance(slug_hint, str) and SLUG.fullmatch(slug_hint) else ""
        summary = _one_line(self.string(operation, "summary", place))
        name = summary or operation_id or f"{method.upper()} {path}"
        description = self.string(operation, "description", place) or self.string(
            item, "description", place
        )
        tags = [
            tag.replace(",", " ").strip()
            for tag in self.sequence(operation, "tags", place)
            if isinstance(tag, str) and tag.strip()
        ]
        joined = ""
        for tag in tags:
            candidate = f"{joined}, {tag}" if joined else tag
            if len(candidate) > FIELD_LIMITS["tags"]:
                break
            joined = candidate
        deprecated = operation.get("deprecated") is True
        responses = operation.get("responses")
        if responses is None and self.responses_required:
            self.problem(join(place, "responses"), "required")
        elif responses is not None and not isinstance(responses, dict):
            self.problem(join(place, "responses"), "must be an object")
            responses = None

        parameters = self.merged_parameters(item=item, operation=operation, place=place)
        template, template_parameters = self.url_template(
            path=path, declared=parameters, place=place
        )
        sections: list[str] = []
        plans: list[ParameterPlan] = list(template_parameters)
        content_type, body_example = "", ""
        form_parameters: list[tuple[dict, str]] = []
        body: tuple[dict, str] | None = None
        for parameter, parameter_place in parameters:
            where = parameter.get("in")
            if where == "path":
                continue
            if where == "body":
                body = (parameter, parameter_place)
                continue
            if where == "formData":
                form_parameters.append((parameter, parameter_place))
                continue
            plan = self.parameter_plan(parameter, parameter_place)
            if plan is not None:
                plans.append(plan)
        if self.v2:
            content_type, body_example = self.v2_body(operation, body, form_parameters, sections)
        elif "requestBody" in operation:
            content_type, body_example = self.v3_body(
                operation["requestBody"], join(place, "requestBody"), sections
            )
        security = operation.get("security", self.global_security)
        security_place = join(place, "security") if "security" in operation else "/security"
        self.merge_security(plans, self.security_parameters(security, security_place))
        response_plans = self.response_plans(
            responses or {}, join(place, "responses"), operation, sections
        )
        callbacks = operation.get("callbacks")
        if isinstance(callbacks, dict) and callbacks:
            sections.append(self.callback_section(callbacks))
        if len(self.problems) > problems_before:
            return None
        for index, plan in enumerate(plans):
            plan.order = index
        if sections:
            description = "\n\n".join(part for part in [description.strip(), *sections] if part)
        return OperationPlan(
            method=method.upper(),
            path=path,
            url_template=template,
            operation_id=operation_id,
            name=_truncate(name, FIELD_LIMITS["name"]),
            description=description,
            tags=joined,
            deprecated=deprecated,
            request_content_type=content_type,
            body_example=body_example,
            parameters=plans,
            responses=response_plans,
            order=0,
            pointer=place,
            slug_hint=slug_hint,
        )

    def merged_parameters(
        self, *, item: dict, operation: dict, place: str
    ) -> list[tuple[dict, str]]:
        """Path-level and operation-level parameters, the operation's winning on name+in."""
        item_place = place.rsplit("/", 1)[0]
        merged: dict[tuple[str, str], tuple[dict, str]] = {}
        self.used_at = {}
        for owner, owner_place in ((item, item_place), (operation, place)):
            for index, raw in enumerate(self.sequence(owner, "parameters", owner_place)):
                raw_place = join(owner_place, "parameters", index)
                resolved = self.deref(raw, raw_place)
                if resolved is None:
                    continue
                parameter, parameter_place = resolved
                if not isinstance(parameter, dict):
                    self.problem(raw_place, "a parameter must be an object")
                    continue
                name, where = parameter.get("name"), parameter.get("in")
                if not isinstance(name, str) or not name:
                    self.problem(join(parameter_place, "name"), "required")
                    continue
                allowed = (
                    {"path", "query", "header", "body", "formData"}
                    if self.v2
                    else {"path", "query", "header", "cookie", "querystring"}
                )
                if where not in allowed:
                    listed = ", ".join(sorted(allowed))
                    message = "required" if where is None else f"must be one of {listed}"
                    self.problem(join(parameter_place, "in"), message)
                    continue
                if where == "querystring":
                    self.note(f"{parameter_place}: querystring parameter {name!r} not imported.")
                    continue
                if len(name) > 200:
                    self.problem(join(parameter_place, "name"), "longer than 200 characters")
                    continue
                # The operation's definition replaces the path's, in the path's place.
                merged[(name, where)] = (parameter, parameter_place)
                # Where it is used: a shared parameter's definition serves many paths.
                self.used_at[(name, where)] = raw_place
        return list(merged.values())

    def url_template(
        self, *, path: str, declared: list[tuple[dict, str]], place: str
    ) -> tuple[str, list[ParameterPlan]]:
        """The operation's URL template, with a required parameter per path placeholder."""
        path_parameters = {
            parameter["name"]: (parameter, parameter_place)
            for parameter, parameter_place in declared
            if parameter.get("in") == "path"
        }
        used: set[str] = set()
        pieces: list[str] = []
        plans: list[ParameterPlan] = []
        position = 0
        written: set[str] = set()
        for match in _PLACEHOLDER.finditer(path):
            pieces.append(_encode_literal(path[position : match.start()]))
            position = match.end()
            original = match.group(1)
            if original in written:
                self.problem(place, f"the path {path!r} uses {{{original}}} twice")
                continue
            written.add(original)
            mapped = _placeholder(original, used)
            used.add(mapped)
            pieces.append("{" + mapped + "}")
            found = path_parameters.get(original)
            if found is not None:
                plan = self.parameter_plan(found[0], found[1]) or ParameterPlan(
                    name=original, location=ParameterLocation.TEMPLATE
                )
            else:
                plan = ParameterPlan(name=original, location=ParameterLocation.TEMPLATE)
            plan.name = mapped
            plan.location = ParameterLocation.TEMPLATE
            plan.required = True
            if mapped != original:
                self.renamed += 1
                plan.description = (
                    f"{plan.description} (`{original}` in the OpenAPI document.)".strip()
                )
            plans.append(plan)
        pieces.append(_encode_literal(path[position:]))
        if "{" in _PLACEHOLDER.sub("", path) or "}" in _PLACEHOLDER.sub("", path):
            self.problem(place, f"the path {path!r} has an unmatched '{{' or '}}'")
        template = "".join(pieces)
        for name, (_, parameter_place) in path_parameters.items():
            if name not in written:
                self.problem(
                    join(self.used_at.get((name, "path"), parameter_place), "name"),
                    f"path parameter {name!r} is not in the path {path!r}",
                )
        if len(template) > 1000:
            self.problem(place, "the path is longer than 1000 characters")
        else:
            try:
                parse_template(template)
            except TemplateError as error:
                self.problem(place, f"the path {path!r} cannot be a URL template: {error}")
        return template, plans

    def parameter_schema(self, parameter: dict, place: str) -> tuple[dict, str]:
        """The parameter's schema (2.0: the parameter itself), resolved."""
        if self.v2:
            return parameter, place
        schema, schema_place = parameter.get("schema"), join(place, "schema")
        if schema is None and isinstance(parameter.get("content"), dict):
            content = parameter["content"]
            media = _pick_media(content)
            if media is not None and isinstance(content[media], dict):
                schema = content[media].get("schema")
                schema_place = join(place, "content", media, "schema")
        resolved = self.deref(schema, schema_place) if schema is not None else None
        if resolved is None or not isinstance(resolved[0], dict):
            return {}, schema_place
        return resolved

    def parameter_plan(self, parameter: dict, place: str) -> ParameterPlan | None:
        name = parameter["name"]
        where = parameter["in"]
        location = {
            "path": ParameterLocation.TEMPLATE,
            "query": ParameterLocation.QUERY,
            "header": ParameterLocation.HEADER,
            "cookie": ParameterLocation.COOKIE,
        }[where]
        if location == ParameterLocation.HEADER:
            if name.lower() in IGNORED_HEADER_PARAMETERS:
                return None
            if not self.sendable_header(name):
                return None
        schema, _ = self.parameter_schema(parameter, place)
        kind = self.schema_type(schema)
        default: Any = None
        for source in (schema, parameter):
            if "default" in source:
                default = source["default"]
                break
        else:
            default = self.parameter_example(parameter, schema)
        enum = schema.get("enum") if kind not in {"array", "object"} else None
        allowed = []
        if isinstance(enum, list):
            allowed = list(dict.fromkeys(v for v in (_text(x) for x in enum) if v.strip()))
        description = self.string(parameter, "description", place)
        if parameter.get("deprecated") is True:
            description = f"Deprecated. {description}".strip()
        default_text = _text(default)
        if len(default_text) > 2000:
            default_text = ""
        return ParameterPlan(
            name=name,
            location=location,
            required=parameter.get("required") is True or where == "path",
            type=TYPES.get(kind, ParameterType.STRING),
            default=default_text,
            allowed_values="\n".join(allowed),
            description=description,
            secret=schema.get("format") == "password"
            or (
                location != ParameterLocation.TEMPLATE
                and (is_secret_name(name) or bool(SECRET_NAME.search(name)))
            ),
        )

    def parameter_example(self, parameter: dict, schema: dict) -> Any:
        for source in (parameter, schema):
            if "example" in source:
                return source["example"]
            if "x-example" in source:
                return source["x-example"]
        examples = parameter.get("examples")
        if isinstance(examples, dict):
            for example in examples.values():
                resolved = self.deref(example, "")
                if resolved and isinstance(resolved[0], dict) and "value" in resolved[0]:
                    return resolved[0]["value"]
        if isinstance(schema.get("examples"), list) and schema["examples"]:
            return schema["examples"][0]
        return None

    @staticmethod
    def schema_type(schema: Any) -> str:
        if not isinstance(schema, dict):
            return ""
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "")
        if isinstance(kind, str):
            return kind
        if "properties" in schema:
            return "object"
        if "items" in schema:
            return "array"
        return ""

    def merge_security(self, plans: list[ParameterPlan], security: list[ParameterPlan]) -> None:
        """Security parameters join the operation's; a declared one of that name turns secret."""
        for extra in security:
            same = next(
                (
                    plan
                    for plan in plans
                    if plan.location == extra.location
                    and (
                        plan.name.lower() == extra.name.lower()
                        if extra.location == ParameterLocation.HEADER
                        else plan.name == extra.name
                    )
                ),
                None,
            )
            if same is None:
                plans.append(extra)
            else:
                same.secret = True
                same.required = same.required or extra.required
                same.default = same.default or extra.default
                same.description = same.description or extra.description

    # -- bodies

    def v3_body(self, raw: Any, place: str, sections: list[str]) -> tuple[str, str]:
        resolved = self.deref(raw, place)
        if resolved is None:
            return "", ""
        body, body_place = resolved
        if not isinstance(body, dict):
            self.problem(place, "must be an object")
            return "", ""
        content = self.mapping(body, "content", body_place)
        media = _pick_media(content)
        if media is None:
            return "", ""
        media_object = content[media]
        media_place = join(body_place, "content", media)
        if not isinstance(media_object, dict):
            self.problem(media_place, "must be an object")
            return "", ""
        schema_node = media_object.get("schema")
        schema_place = join(media_place, "schema")
        if media.split(";")[0].strip().lower() in FORM_MEDIA_TYPES:
            schema = self.deref(schema_node, schema_place) if schema_node is not None else None
            if schema is not None and isinstance(schema[0], dict):
                sections.append(self.form_section(media, schema[0]))
        example = self.media_example(
            media_object, media=media, schema=schema_node, place=schema_place, request=True
        )
        return _content_type(media), example

    def v2_body(
        self,
        operation: dict,
        body: tuple[dict, str] | None,
        form: list[tuple[dict, str]],
        sections: list[str],
    ) -> tuple[str, str]:
        consumes = operation.get("consumes", self.document.get("consumes"))
        consumes = [c for c in consumes if isinstance(c, str)] if isinstance(consumes, list) else []
        if body is not None:
            parameter, place = body
            media = _pick_media(consumes) or "application/json"
            schema = parameter.get("schema")
            example = None
            if "x-example" in parameter:
                example = parameter["x-example"]
            if example is not None:
                text = self.example_text(example, media=media)
            else:
                text = self.schema_example_text(
                    schema, media=media, place=join(place, "schema"), request=True
                )
            return _content_type(media), text
        if form:
            multipart = any(p.get("type") == "file" for p, _ in form) or (
                "multipart/form-data" in consumes
                and "application/x-www-form-urlencoded" not in consumes
            )
            media = "multipart/form-data" if multipart else "application/x-www-form-urlencoded"
            properties = {p["name"]: p for p, _ in form}
            required = [p["name"] for p, _ in form if p.get("required") is True]
            schema = {"type": "object", "properties": properties, "required": required}
            sections.append(self.form_section(media, schema))
            value = self.generate(schema, request=True)
            return media, "" if multipart else self.form_text(value)
        return "", ""

    def form_section(self, media: str, schema: dict) -> str:
        required = found if isinstance(found := schema.get("required"), list) else []
        lines = [f"**Form fields** (`{media}`)", ""]
        properties = schema.get("properties")
        if not isinstance(properties, dict) or not properties:
            return ""
        for name, prop in list(properties.items())[:100]:
            resolved = self.deref(prop, "") or ({}, "")
            prop = resolved[0] if isinstance(resolved[0], dict) else {}
            kind = self.schema_type(prop) or "string"
            flags = ", required" if name in required else ""
            text = _one_line(prop.get("description", "")) if isinstance(prop, dict) else ""
            lines.append(f"- `{name}` ({kind}{flags})" + (f": {text}" if text else ""))
        return "\n".join(lines)

    # -- responses

    def response_plans(
        self, responses: dict, place: str, operation: dict, sections: list[str]
    ) -> list[ResponsePlan]:
        plans: list[ResponsePlan] = []
        others: list[str] = []
        produces = operation.get("produces", self.document.get("produces"))
        produces = [p for p in produces if isinstance(p, str)] if isinstance(produces, list) else []
        for code, raw in responses.items():
            code_text = str(code).strip()
            response_place = join(place, code_text)
            if code_text.startswith("x-"):
                continue
            resolved = self.deref(raw, response_place)
            if resolved is None:
                continue
            response, resolved_place = resolved
            if not isinstance(response, dict):
                self.problem(response_place, "a response must be an object")
                continue
            description = self.string(response, "description", resolved_place).strip()
            if code_text == "default" or re.fullmatch(r"[1-5]XX", code_text, re.IGNORECASE):
                bare = not response.get("content") and not response.get("schema")
                if bare and description.lower() in PLACEHOLDER_DESCRIPTIONS:
                    continue
                others.append(f"- `{code_text}`: {_one_line(description) or 'no description'}")
                continue
            if not re.fullmatch(r"[1-5][0-9][0-9]", code_text):
                self.problem(
                    response_place,
                    "a response code must be a status code (100-599), a range such as 4XX, "
                    "or default",
                )
                continue
            links = response.get("links")
            if isinstance(links, dict) and links:
                description += "\n\n" + self.links_text(links)
            content_type, example = self.response_example(response, resolved_place, produces)
            plans.append(
                ResponsePlan(
                    status_code=int(code_text),
                    description=description,
                    content_type=content_type,
                    example=example,
                )
            )
        if others:
            sections.append("\n".join(["**Other responses**", "", *others]))
        return plans

    def response_example(self, response: dict, place: str, produces: list[str]) -> tuple[str, str]:
        media: str | None
        if self.v2:
            schema = response.get("schema")
            examples = response.get("examples")
            if isinstance(examples, dict) and examples:
                media = _pick_media(examples) or "application/json"
                return _content_type(media), self.example_text(examples[media], media=media)
            if schema is None:
                return "", ""
            media = _pick_media(produces) or "application/json"
            text = self.schema_example_text(
                schema, media=media, place=join(place, "schema"), request=False
            )
            return _content_type(media), text
        content = self.mapping(response, "content", place)
        media = _pick_media(content)
        if media is None:
            return "", ""
        media_object = content[media]
        media_place = join(place, "content", media)
        if not isinstance(media_object, dict):
            self.problem(media_place, "must be an object")
            return "", ""
        example = self.media_example(
            media_object,
            media=media,
            schema=media_object.get("schema"),
            place=join(media_place, "schema"),
            request=False,
        )
        return _content_type(media), example

    def links_text(self, links: dict) -> str:
        lines = ["Links:"]
        for name, raw in links.items():
            link = (self.deref(raw, "") or ({}, ""))[0]
            target = ""
            if isinstance(link, dict):
                target = link.get("operationId") or link.get("operationRef") or ""
            lines.append(f"- {name}" + (f" → `{target}`" if target else ""))
        return "\n".join(lines)

    def callback_section(self, callbacks: dict) -> str:
        lines = ["**Callbacks** (requests the API sends; not imported)", ""]
        for name, raw in callbacks.items():
            self.callbacks += 1
            callback = (self.deref(raw, "") or ({}, ""))[0]
            if not isinstance(callback, dict):
                continue
            for expression, item in callback.items():
                item = (self.deref(item, "") or ({}, ""))[0]
                methods = (
                    [m.upper() for m in item if m in METHODS] if isinstance(item, dict) else []
                )
                lines.append(f"- `{name}`: {' '.join(methods) or '?'} `{expression}`")
        return "\n".join(lines)

    # -- examples

    def media_example(
        self, media_object: dict, *, media: str, schema: Any, place: str, request: bool
    ) -> str:
        """The media type's example, else the first of its examples, else the schema's."""
        if "example" in media_object:
            return self.example_text(media_object["example"], media=media)
        examples = media_object.get("examples")
        if isinstance(examples, dict):
            for example in examples.values():
                resolved = self.deref(example, place)
                if resolved and isinstance(resolved[0], dict) and "value" in resolved[0]:
                    return self.example_text(resolved[0]["value"], media=media)
        if schema is None:
            return ""
        return self.schema_example_text(schema, media=media, place=place, request=request)

    def example_text(self, value: Any, *, media: str) -> str:
        """A literal example as the body text of the media type."""
        base = media.split(";")[0].strip().lower()
        if base == "application/x-www-form-urlencoded" and isinstance(value, dict):
            return self.form_text(value)
        if isinstance(value, str):
            if _is_json_media(media) or "*" in media:
                try:
                    parsed = json.loads(value)
                except ValueError:
                    return _pretty(value)
                return _pretty(parsed) or value
            return value if len(value) <= MAX_EXAMPLE_CHARS else ""
        return _pretty(value)

    def schema_example_text(self, schema: Any, *, media: str, place: str, request: bool) -> str:
        """The schema's own example, else one generated from it, as body text."""
        base = media.split(";")[0].strip().lower()
        generated = _is_json_media(media) or "*" in media or base in FORM_MEDIA_TYPES
        if not generated and not base.startswith("text/"):
            return ""
        ref = schema.get("$ref") if isinstance(schema, dict) else None
        key = (ref, base, request) if isinstance(ref, str) else None
        if key is not None and key in self._example_texts:
            return self._example_texts[key]
        value = self.generate(schema, request=request)
        if base == "multipart/form-data":
            text = ""
        elif base == "application/x-www-form-urlencoded":
            text = self.form_text(value) if isinstance(value, dict) else ""
        elif generated:
            text = _pretty(value)
        else:
            text = "" if isinstance(value, dict | list) else _text(value)
        if key is not None:
            self._example_texts[key] = text
        return text

    @staticmethod
    def form_text(value: dict) -> str:
        pairs = [(str(name), _text(item)) for name, item in value.items()]
        return urlencode(pairs, quote_via=quote, safe="*:,/@")

    def generate(self, schema: Any, *, request: bool) -> Any:
        state = _GenerationState(request=request)
        try:
            return self._generate(schema, 0, (), state)
        except RecursionError:
            return {}

    def _generate(self, schema: Any, depth: int, stack: tuple, state: _GenerationState) -> Any:
        state.nodes += 1
        if isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
            ref = schema["$ref"]
            try:
                target, _ = self.resolver.lookup(ref)
            except RefError:
                return {}
            if ref in stack:
                state.cuts += 1
                return [] if self.schema_type(target) == "array" else {}
            cache_key = (ref, depth, state.request)
            cached = self._example_values.get(cache_key)
            if cached is not None:
                state.nodes += cached[1]
                return cached[0]
            nodes, cuts = state.nodes, state.cuts
            value = self._generate(target, depth, (*stack, ref), state)
            if state.cuts == cuts:
                self._example_values[cache_key] = (value, state.nodes - nodes)
            return value
        if not isinstance(schema, dict):
            return {}
        for key in ("example", "x-example", "const", "default"):
            if key in schema:
                return schema[key]
        examples = schema.get("examples")
        if isinstance(examples, list) and examples:
            return examples[0]
        enum = schema.get("enum")
        if isinstance(enum, list) and enum:
            return next((value for value in enum if value is not None), enum[0])
        all_of = schema.get("allOf")
        if isinstance(all_of, list) and all_of:
            return self._generate_all_of(schema, all_of, depth, stack, state)
        for key in ("oneOf", "anyOf"):
            options = schema.get(key)
            if isinstance(options, list) and options:
                chosen = next(
                    (o for o in options if not (isinstance(o, dict) and o.get("type") == "null")),
                    options[0],
                )
                return self._generate(chosen, depth, stack, state)
        kind = self.schema_type(schema)
        if kind == "object" or (not kind and isinstance(schema.get("additionalProperties"), dict)):
            return self._generate_object(schema, depth, stack, state)
        if kind == "array":
            if depth >= EXAMPLE_MAX_DEPTH or state.nodes >= EXAMPLE_MAX_NODES:
                state.cuts += 1
                return []
            items = schema.get("items")
            if isinstance(items, list):
                items = items[0] if items else None
            if items is None or items is True:
                return []
            return [self._generate(items, depth + 1, stack, state)]
        if kind == "string" or (not kind and "format" in schema):
            text_format = schema.get("format")
            if isinstance(text_format, str) and text_format in STRING_FORMATS:
                return STRING_FORMATS[text_format]
            return "string"
        if kind in {"integer", "number"}:
            minimum = schema.get("minimum")
            if isinstance(minimum, int | float) and not isinstance(minimum, bool):
                return minimum
            return 0
        if kind == "boolean":
            return True
        if kind == "null":
            return None
        if kind == "file":
            return ""
        return {}

    def _generate_object(
        self, schema: dict, depth: int, stack: tuple, state: _GenerationState
    ) -> dict:
        if depth >= EXAMPLE_MAX_DEPTH:
            state.cuts += 1
            return {}
        result: dict = {}
        properties = schema.get("properties")
        if isinstance(properties, dict):
            for name, prop in properties.items():
                if state.nodes >= EXAMPLE_MAX_NODES:
                    state.cuts += 1
                    break
                target = prop
                if isinstance(prop, dict) and isinstance(prop.get("$ref"), str):
                    try:
                        target, _ = self.resolver.lookup(prop["$ref"])
                    except RefError:
                        target = {}
                if isinstance(target, dict):
                    if state.request and target.get("readOnly") is True:
                        continue
                    if not state.request and target.get("writeOnly") is True:
                        continue
                result[str(name)] = self._generate(prop, depth + 1, stack, state)
        extra = schema.get("additionalProperties")
        if not result and isinstance(extra, dict) and extra:
            result["additionalProp1"] = self._generate(extra, depth + 1, stack, state)
        return result

    def _generate_all_of(
        self, schema: dict, parts: list, depth: int, stack: tuple, state: _GenerationState
    ) -> Any:
        merged: dict = {}
        other: Any = None
        for part in parts:
            value = self._generate(part, depth, stack, state)
            if isinstance(value, dict):
                merged.update(value)
            else:
                other = value
        if isinstance(schema.get("properties"), dict):
            own = {key: value for key, value in schema.items() if key != "allOf"}
            merged.update(self._generate_object(own, depth, stack, state))
        if not merged and other is not None:
            return other
        return merged


@dataclass
class _GenerationState:
    request: bool
    nodes: int = 0
    cuts: int = 0


def _pretty(value: Any) -> str:
    try:
        text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    except (TypeError, ValueError, RecursionError):
        return ""
    return text if len(text) <= MAX_EXAMPLE_CHARS else ""


# --- Writing: the plan → the database --------------------------------------------------


def normalised_path(template: str) -> str:
    return _PLACEHOLDER.sub("{}", template.partition("?")[0])


def _unique_slug(base: str, taken: set[str]) -> str:
    base = base or "operation"
    slug, counter = base, 2
    while slug in taken:
        suffix = f"-{counter}"
        slug = base[: 100 - len(suffix)].rstrip("-") + suffix
        counter += 1
    taken.add(slug)
    return slug


OPERATION_FIELDS = (
    "name",
    "method",
    "url_template",
    "description",
    "tags",
    "operation_id",
    "deprecated",
    "request_content_type",
    "body_example",
)
PARAMETER_FIELDS = (
    "name",
    "location",
    "required",
    "default",
    "allowed_values",
    "type",
    "description",
    "secret",
    "order",
)
RESPONSE_FIELDS = ("status_code", "description", "content_type", "example")


def _chunks(items: list, size: int = BATCH_SIZE) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass
class _Sync:
    """What writing a plan changes, computed from the database without writing."""

    api: Api
    summary: ImportSummary
    to_create: list[Operation] = field(default_factory=list)
    to_update: list[Operation] = field(default_factory=list)
    to_reorder: list[Operation] = field(default_factory=list)
    gone: list[Operation] = field(default_factory=list)
    replaced: list[int] = field(default_factory=list)
    detail_owners: list[tuple[Operation, OperationPlan]] = field(default_factory=list)


def _api_changes(api: Api, plan: ApiPlan) -> list[str]:
    def shown(value: str) -> str:
        return value or "(none)"

    changes = []
    if api.name != plan.name:
        changes.append(f'name: "{api.name}" → "{plan.name}"')
    if api.version != plan.version:
        changes.append(f"version: {shown(api.version)} → {shown(plan.version)}")
    if api.service_url != plan.service_url:
        changes.append(f"service URL: {shown(api.service_url)} → {plan.service_url}")
    if api.description != plan.description:
        changes.append("description changed")
    return changes


def _sync(plan: ApiPlan, api: Api | None) -> _Sync:
    created_api = api is None
    if api is None:
        api = Api(slug=plan.slug, url_suffix=plan.slug)
    api_changes = [] if created_api else _api_changes(api, plan)
    api.name = plan.name
    api.description = plan.description
    api.version = plan.version
    api.service_url = plan.service_url
    if not api.url_suffix:
        api.url_suffix = plan.slug

    existing: list[Operation] = []
    parameters: dict[int, list[tuple]] = {}
    responses: dict[int, list[tuple]] = {}
    if not created_api:
        existing = list(
            Operation.objects.filter(api=api).only(
                "id", "slug", "removed", "order", *OPERATION_FIELDS
            )
        )
        parameter_rows = (
            Parameter.objects.filter(operation__api=api)
            .order_by("operation", "order", "id")
            .values_list("operation_id", *PARAMETER_FIELDS)
        )
        for operation_id, *values in parameter_rows:
            parameters.setdefault(operation_id, []).append(tuple(values))
        response_rows = (
            ResponseDoc.objects.filter(operation__api=api)
            .order_by("operation", "id")
            .values_list("operation_id", *RESPONSE_FIELDS)
        )
        for operation_id, *values in response_rows:
            responses.setdefault(operation_id, []).append(tuple(values))

    matches = _match(plan.operations, existing)
    taken = {operation.slug for operation in existing}
    summary = ImportSummary(
        api=api,
        created_api=created_api,
        added=[],
        changed=[],
        removed=[],
        unchanged=0,
        api_changes=api_changes,
    )
    summary.notes = list(plan.notes)
    sync = _Sync(api=api, summary=summary)
    for operation_plan in plan.operations:
        fields = operation_plan.fields()
        operation = matches.get(id(operation_plan))
        if operation is None:
            base = (
                operation_plan.slug_hint
                or slug_base(operation_plan.operation_id)
                or slug_base(operation_plan.label)
            )
            operation = Operation(
                api=api,
                slug=_unique_slug(base, taken),
                order=operation_plan.order,
                **fields,
            )
            sync.to_create.append(operation)
            sync.detail_owners.append((operation, operation_plan))
            summary.added.append(operation.slug)
            summary.labels[operation.slug] = operation_plan.label
            continue
        summary.labels[operation.slug] = operation_plan.label
        same = (
            all(getattr(operation, name) == value for name, value in fields.items())
            and parameters.get(operation.pk, []) == [p.key() for p in operation_plan.parameters]
            and responses.get(operation.pk, []) == [r.key() for r in operation_plan.responses]
        )
        if same and not operation.removed:
            summary.unchanged += 1
            if operation.order != operation_plan.order:
                operation.order = operation_plan.order
                sync.to_reorder.append(operation)
            continue
        if operation.removed:
            summary.added.append(operation.slug)
            summary.restored.append(operation.slug)
        else:
            summary.changed.append(operation.slug)
        for name, value in fields.items():
            setattr(operation, name, value)
        operation.order = operation_plan.order
        operation.removed = False
        sync.to_update.append(operation)
        if not same:
            sync.replaced.append(operation.pk)
            sync.detail_owners.append((operation, operation_plan))

    matched_ids = {operation.pk for operation in matches.values()}
    sync.gone = [op for op in existing if op.pk not in matched_ids and not op.removed]
    for operation in sync.gone:
        summary.removed.append(operation.slug)
        summary.labels[operation.slug] = f"{operation.method} {operation.url_template}"
    return sync


def _write(sync: _Sync) -> ImportSummary:
    sync.api.save()
    Operation.objects.bulk_create(sync.to_create, batch_size=BATCH_SIZE)
    if sync.to_update:
        Operation.objects.bulk_update(
            sync.to_update, [*OPERATION_FIELDS, "order", "removed"], batch_size=BATCH_SIZE
        )
    if sync.to_reorder:
        Operation.objects.bulk_update(sync.to_reorder, ["order"], batch_size=BATCH_SIZE)
    for chunk in _chunks([operation.pk for operation in sync.gone]):
        Operation.objects.filter(pk__in=chunk).update(removed=True)
    for chunk in _chunks(sync.replaced):
        Parameter.objects.filter(operation_id__in=chunk).delete()
        ResponseDoc.objects.filter(operation_id__in=chunk).delete()
    Parameter.objects.bulk_create(
        (
            Parameter(operation=operation, **{name: getattr(p, name) for name in PARAMETER_FIELDS})
            for operation, operation_plan in sync.detail_owners
            for p in operation_plan.parameters
        ),
        batch_size=BATCH_SIZE * 2,
    )
    ResponseDoc.objects.bulk_create(
        (
            ResponseDoc(operation=operation, **{name: getattr(r, name) for name in RESPONSE_FIELDS})
            for operation, operation_plan in sync.detail_owners
            for r in operation_plan.responses
        ),
        batch_size=BATCH_SIZE * 2,
    )
    return sync.summary


def _match(plans: list[OperationPlan], existing: list[Operation]) -> dict[int, Operation]:
    """Existing operations for the plans: by operationId, else by verb and path."""
    by_id: dict[str, Operation] = {}
    by_path: dict[tuple[str, str], list[Operation]] = {}
    # Current operations first, so that they win over removed ones of the same id or path.
    for operation in sorted(existing, key=lambda op: (op.removed, op.order, op.pk)):
        if operation.operation_id:
            by_id.setdefault(operation.operation_id, operation)
        key = (operation.method, normalised_path(operation.url_template))
        by_path.setdefault(key, []).append(operation)
    matches: dict[int, Operation] = {}
    used: set[int] = set()
    for plan in plans:
        by_operation_id = by_id.get(plan.operation_id) if plan.operation_id else None
        if by_operation_id is not None and by_operation_id.pk not in used:
            matches[id(plan)] = by_operation_id
            used.add(by_operation_id.pk)
    for plan in plans:
        if id(plan) in matches:
            continue
        candidates = by_path.get((plan.method, normalised_path(plan.url_template)), [])
        by_path_match = next((op for op in candidates if op.pk not in used), None)
        if by_path_match is not None:
            matches[id(plan)] = by_path_match
            used.add(by_path_match.pk)
    return matches


def read_document(
    *, document: dict, api_slug: str | None = None, service_url: str | None = None
) -> ApiPlan:
    """The plan for a document, without touching the database; raises OpenApiError."""
    if not isinstance(document, dict):
        raise OpenApiError(["/: the document must be an object."])
    return _Reader(document).read(
        api_slug=api_slug,
        service_url=service_url,
        existing_service_url=lambda slug: (
            Api.objects.filter(slug=slug).values_list("service_url", flat=True).first()
        ),
    )


def preview_import(*, plan: ApiPlan) -> ImportSummary:
    """What writing the plan would change (its api unsaved when new); writes nothing."""
    return _sync(plan, Api.objects.filter(slug=plan.slug).first()).summary


class PlanChanged(OpenApiError):
    """The API changed between a preview and the write; nothing was written."""


def write_plan(*, plan: ApiPlan, expected: str | None = None) -> ImportSummary:
    """Create or synchronise the API a read document describes, in one transaction.

    With `expected` (a previewed summary's fingerprint), raises PlanChanged instead of
    writing when the changes differ from the preview's. Raises OpenApiError when another
    import wrote the API at the same moment; then nothing has changed.
    """
    try:
        with transaction.atomic():
            sync = _sync(plan, Api.objects.select_for_update().filter(slug=plan.slug).first())
            if expected is not None and sync.summary.fingerprint() != expected:
                raise PlanChanged(
                    [
                        f"api: the API {plan.slug!r} changed since the preview; nothing was "
                        "imported, review the new plan"
                    ]
                )
            return _write(sync)
    except IntegrityError:
        # Another import created the API (or its operations) at the same moment.
        raise OpenApiError(
            [
                f"api: the API {plan.slug!r} changed during the import; nothing was imported, "
                "import again"
            ]
        ) from None


def import_openapi(
    *, document: dict, api_slug: str | None = None, service_url: str | None = None
) -> ImportSummary:
    """Create or synchronise the API a document describes, in one transaction.

    Raises OpenApiError listing every problem found; then nothing has changed.
    """
    return write_plan(
        plan=read_document(document=document, api_slug=api_slug, service_url=service_url)
    )
