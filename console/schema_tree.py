"""A documented schema as a tree of nodes the operation page shows (templates/console/
_schema_tree.html), built from the schemas alone; operation_schemas() renders and caches
the trees of an operation.

Schemas are those of docs/design.md "Documented schemas": `$ref`s point into the API's
definitions (`#/components/schemas/Name`). A `$ref` met again below itself is not
expanded a second time: the node links to where it was expanded. The tree is capped in
depth and in nodes, so that a very large document gives a page of bounded size.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.template.loader import render_to_string

from catalog.documents import resolve_ref
from catalog.models import Operation

MAX_DEPTH = 8
MAX_NODES = 400
MAX_SHOWN_CHARS = 120
CHOICE_LABELS = {"oneOf": "one of", "anyOf": "any of", "allOf": "all of"}
# Constraint keywords and how each reads.
CONSTRAINTS = (
    ("minimum", "minimum"),
    ("exclusiveMinimum", "greater than"),
    ("maximum", "maximum"),
    ("exclusiveMaximum", "less than"),
    ("multipleOf", "multiple of"),
    ("minLength", "min length"),
    ("maxLength", "max length"),
    ("pattern", "pattern"),
    ("minItems", "min items"),
    ("maxItems", "max items"),
    ("uniqueItems", "unique items"),
    ("minProperties", "min properties"),
    ("maxProperties", "max properties"),
)


@dataclass
class Choice:
    label: str  # "one of", "any of", "all of"
    branches: list[SchemaNode]


@dataclass
class SchemaNode:
    name: str = ""  # the property's name; "" for a root, an item or a branch
    title: str = ""  # a branch's or item's title: its $ref name, else its title
    type_label: str = ""
    ref_name: str = ""
    required: bool = False
    nullable: bool = False
    read_only: bool = False
    write_only: bool = False
    deprecated: bool = False
    enum: list[str] = field(default_factory=list)
    default: str | None = None
    constraints: list[str] = field(default_factory=list)
    description: str = ""
    children: list[SchemaNode] = field(default_factory=list)  # properties
    items: SchemaNode | None = None
    additional: SchemaNode | None = None  # additionalProperties' schema
    choices: list[Choice] = field(default_factory=list)
    anchor: str = ""  # this node's id, where a $ref was expanded
    recursion_to: str = ""  # a $ref already expanded above: the anchor to link to
    cut: str = ""  # why deeper levels or further properties are not shown

    @property
    def expandable(self) -> bool:
        return bool(self.children or self.items or self.additional or self.choices or self.cut)


@dataclass
class _Walk:
    definitions: Mapping[str, Any]
    prefix: str
    nodes: int = 0
    anchors: dict[str, str] = field(default_factory=dict)


def build_tree(*, schema: object, definitions: Mapping[str, Any], prefix: str) -> SchemaNode:
    """The tree of `schema`; `definitions` is the API's `openapi` (the $refs' root) and
    `prefix` makes this tree's anchors unique on the page."""
    walk = _Walk(definitions=definitions, prefix=prefix)
    return _node(schema, walk=walk, depth=0, above=())


def ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1].replace("~1", "/").replace("~0", "~")


def _node(
    schema: object, *, walk: _Walk, depth: int, above: tuple[str, ...], name: str = ""
) -> SchemaNode:
    walk.nodes += 1
    node = SchemaNode(name=name)
    if not isinstance(schema, Mapping):
        node.type_label = "any"
        return node
    ref = schema.get("$ref")
    if isinstance(ref, str):
        node.ref_name = node.title = ref_name(ref)
        if ref in above:
            node.recursion_to = walk.anchors[ref]
            return node
        target = resolve_ref(ref, walk.definitions)
        if not isinstance(target, Mapping):
            node.type_label = "unresolved reference"
            return node
        anchor = f"{walk.prefix}-{len(walk.anchors) + 1}-{_slug(node.ref_name)}"
        walk.anchors[ref] = node.anchor = anchor
        above = (*above, ref)
        # Keywords beside a $ref (3.1: description, nullable) apply too.
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    elif isinstance(schema.get("title"), str):
        node.title = schema["title"]
    _describe(node, schema)
    if depth >= MAX_DEPTH or walk.nodes >= MAX_NODES:
        if _has_children(schema):
            node.cut = "Deeper levels are not shown."
        return node
    _expand(node, schema, walk=walk, depth=depth, above=above)
    return node


def _describe(node: SchemaNode, schema: Mapping[str, Any]) -> None:
    types = schema.get("type")
    type_list = [types] if isinstance(types, str) else list(types or [])
    node.nullable = schema.get("nullable") is True or "null" in type_list
    shown_types = [str(kind) for kind in type_list if kind != "null"]
    if not shown_types and "properties" in schema:
        shown_types = ["object"]
    label = " | ".join(shown_types)
    if isinstance(schema.get("format"), str) and label:
        label += f" ({schema['format']})"
    if label == "array":
        label = f"array of {_item_label(schema.get('items'))}"
    node.type_label = label or ("" if _has_choices(schema) else "any")
    node.read_only = schema.get("readOnly") is True
    node.write_only = schema.get("writeOnly") is True
    node.deprecated = schema.get("deprecated") is True
    if isinstance(schema.get("enum"), list):
        node.enum = [_shown(value) for value in schema["enum"]]
    elif "const" in schema:
        node.enum = [_shown(schema["const"])]
    if "default" in schema:
        node.default = _shown(schema["default"])
    node.constraints = [
        f"{label} {_shown(schema[key]) if key == 'pattern' else _number(schema[key])}"
        if not isinstance(schema[key], bool)
        else label
        for key, label in CONSTRAINTS
        if key in schema and schema[key] is not False
    ]
    if isinstance(schema.get("description"), str):
        node.description = schema["description"]


def _expand(
    node: SchemaNode, schema: Mapping[str, Any], *, walk: _Walk, depth: int, above: tuple[str, ...]
) -> None:
    properties = schema.get("properties")
    listed = schema.get("required")
    required: list[Any] = listed if isinstance(listed, list) else []
    if isinstance(properties, Mapping):
        for index, (key, child) in enumerate(properties.items()):
            if walk.nodes >= MAX_NODES:
                node.cut = f"{len(properties) - index} more properties are not shown."
                break
            shown = _node(child, walk=walk, depth=depth + 1, above=above, name=str(key))
            shown.required = key in required
            node.children.append(shown)
    items = schema.get("items")
    if isinstance(items, Mapping):
        node.items = _node(items, walk=walk, depth=depth + 1, above=above)
    additional = schema.get("additionalProperties")
    if isinstance(additional, Mapping):
        node.additional = _node(additional, walk=walk, depth=depth + 1, above=above)
    for keyword, label in CHOICE_LABELS.items():
        branches = schema.get(keyword)
        if isinstance(branches, list):
            shown_branches = [
                _node(branch, walk=walk, depth=depth + 1, above=above) for branch in branches
            ]
            for number, branch in enumerate(shown_branches, start=1):
                branch.title = branch.title or f"Option {number}"
            node.choices.append(Choice(label=label, branches=shown_branches))


def _has_choices(schema: Mapping[str, Any]) -> bool:
    return any(keyword in schema for keyword in CHOICE_LABELS)


def _has_children(schema: Mapping[str, Any]) -> bool:
    return bool(schema.get("properties") or schema.get("items") or _has_choices(schema))


def _item_label(items: object) -> str:
    if not isinstance(items, Mapping):
        return "any"
    if isinstance(items.get("$ref"), str):
        return ref_name(items["$ref"])
    kind = items.get("type")
    if isinstance(kind, list):
        kind = " | ".join(str(k) for k in kind if k != "null")
    return str(kind) if kind else "any"


def _number(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _shown(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= MAX_SHOWN_CHARS else text[:MAX_SHOWN_CHARS] + "…"


def _slug(text: str) -> str:
    return "".join(char if char.isalnum() or char in "-_" else "-" for char in text)


# --- The operation page -----------------------------------------------------------------

CACHE_SECONDS = 24 * 3600


# Named examples beyond these, or longer, are not offered by the switcher.
MAX_EXAMPLES = 20
MAX_EXAMPLE_CHARS = 100_000


@dataclass(frozen=True)
class NamedExample:
    name: str
    label: str  # its summary, else its name
    text: str


@dataclass(frozen=True)
class OperationSchemas:
    """Rendered trees (HTML) of an operation's body schema and of its responses' schemas
    by status code ("200", "2XX", "default"); "" where none is documented. With them,
    the named examples of the body and of each response, where there are several."""

    body: str = ""
    responses: dict[str, str] = field(default_factory=dict)
    body_examples: list[NamedExample] = field(default_factory=list)
    response_examples: dict[str, list[NamedExample]] = field(default_factory=dict)
    # The body Try it starts with is a file's bytes (console.body_fields BINARY).
    body_file: bool = False
    # The request body's other media types, after the one Try it starts with.
    other_bodies: list[MediaBody] = field(default_factory=list)
    # Each documented parameter's type as the schema tree labels it ("array of integer",
    # "string (date)"), by (`in`, name): the catalog stores arrays as strings.
    parameter_types: dict[tuple[str, str], str] = field(default_factory=dict)

    def parameter_type(self, *, location: str, name: str) -> str:
        where = "path" if location == "template" else location
        return self.parameter_types.get((where, name), "")


@dataclass(frozen=True)
class MediaBody:
    media_type: str
    tree: str  # rendered, "" when the media type documents no schema
    example: str
    file: bool = False  # a file's bytes are the body (console.body_fields BINARY)


def named_examples(content: object, *, content_type: str = "") -> list[NamedExample]:
    """The named examples of a media type (`examples`), as texts to put in a body; none
    unless there are at least two (one example is the one the page already shows)."""
    if not isinstance(content, Mapping) or not content:
        return []
    wanted = content_type.split(";", 1)[0].strip().lower()
    media_type = next((key for key in content if key.lower() == wanted), next(iter(content)))
    chosen = content[media_type]
    examples = chosen.get("examples") if isinstance(chosen, Mapping) else None
    if not isinstance(examples, Mapping):
        return []
    found: list[NamedExample] = []
    for name, example in list(examples.items())[:MAX_EXAMPLES]:
        if not isinstance(example, Mapping) or "value" not in example:
            continue  # an externalValue is not fetched
        value = example["value"]
        is_json = "json" in str(media_type).lower() or not isinstance(value, str)
        text = json.dumps(value, indent=2, ensure_ascii=False) if is_json else value
        if len(text) > MAX_EXAMPLE_CHARS:
            continue
        summary = example.get("summary")
        label = summary if isinstance(summary, str) and summary.strip() else str(name)
        found.append(NamedExample(name=str(name), label=label, text=text))
    return found if len(found) > 1 else []


def media_schema(content: object, *, content_type: str = "") -> object:
    """The schema of `content` (a `content` object by media type) for `content_type`,
    else for its first media type; None when none is documented."""
    if not isinstance(content, Mapping) or not content:
        return None
    wanted = content_type.split(";", 1)[0].strip().lower()
    chosen = next((value for key, value in content.items() if key.lower() == wanted), None)
    if chosen is None:
        chosen = next(iter(content.values()))
    return chosen.get("schema") if isinstance(chosen, Mapping) else None


def operation_schemas(*, operation: Operation) -> OperationSchemas:
    """The trees the operation page shows, rendered once per version of the operation's
    and its API's documentation and kept in the cache."""
    documented = operation.openapi if isinstance(operation.openapi, Mapping) else {}
    if not documented:
        return OperationSchemas()
    digest = hashlib.sha256(
        json.dumps(documented, sort_keys=True, default=str).encode()
    ).hexdigest()[:16]
    updated = operation.api.updated_at.timestamp() if operation.api.updated_at else 0
    key = f"schema-tree:{operation.pk}:{updated}:{digest}"
    kept = cache.get(key)
    if isinstance(kept, OperationSchemas):
        return kept
    schemas = _render_schemas(documented=documented, operation=operation)
    cache.set(key, schemas, timeout=CACHE_SECONDS)
    return schemas


def _render_schemas(*, documented: Mapping[str, Any], operation: Operation) -> OperationSchemas:
    definitions = operation.api.openapi if isinstance(operation.api.openapi, Mapping) else {}
    body = ""
    body_examples: list[NamedExample] = []
    response_examples: dict[str, list[NamedExample]] = {}
    request_body = documented.get("requestBody")
    if isinstance(request_body, Mapping):
        content_type = operation.request_content_type
        body_examples = named_examples(request_body.get("content"), content_type=content_type)
        schema = media_schema(request_body.get("content"), content_type=content_type)
        if schema is not None:
            body = _render(build_tree(schema=schema, definitions=definitions, prefix="schema-body"))
    responses: dict[str, str] = {}
    documented_responses = documented.get("responses")
    if isinstance(documented_responses, Mapping):
        for status, response in documented_responses.items():
            if not isinstance(response, Mapping):
                continue
            examples = named_examples(response.get("content"))
            if examples:
                response_examples[str(status)] = examples
            schema = media_schema(response.get("content"))
            if schema is not None:
                tree = build_tree(
                    schema=schema, definitions=definitions, prefix=f"schema-{_slug(str(status))}"
                )
                responses[str(status)] = _render(tree)
    return OperationSchemas(
        body=body,
        responses=responses,
        body_examples=body_examples,
        response_examples=response_examples,
        body_file=_is_file_body(request_body, operation=operation),
        other_bodies=_other_bodies(request_body, operation=operation, definitions=definitions),
        parameter_types=_parameter_types(documented, definitions=definitions),
    )


def _is_file_body(request_body: object, *, operation: Operation) -> bool:
    if not isinstance(request_body, Mapping):
        return False
    from console.body_fields import BINARY, media_kind

    schema = media_schema(request_body.get("content"), content_type=operation.request_content_type)
    return (
        media_kind(operation.request_content_type, schema if isinstance(schema, Mapping) else None)
        == BINARY
    )


def _other_bodies(
    request_body: object, *, operation: Operation, definitions: Mapping[str, Any]
) -> list[MediaBody]:
    content = request_body.get("content") if isinstance(request_body, Mapping) else None
    if not isinstance(content, Mapping) or len(content) < 2:
        return []
    # Imported here: console.body_fields follows $refs with this module.
    from console.body_fields import BINARY, documented_media

    documented = {media.media_type: media for media in documented_media(operation=operation)}
    first = operation.request_content_type.split(";", 1)[0].strip().lower()
    found = []
    for number, (media_type, media) in enumerate(content.items()):
        if str(media_type).lower() == first or not isinstance(media, Mapping):
            continue
        schema = media.get("schema")
        tree = (
            _render(
                build_tree(schema=schema, definitions=definitions, prefix=f"schema-body-{number}")
            )
            if schema is not None
            else ""
        )
        shown = documented.get(str(media_type))
        found.append(
            MediaBody(
                media_type=str(media_type),
                tree=tree,
                example=shown.example if shown is not None else "",
                file=shown is not None and shown.kind == BINARY,
            )
        )
    return found


def _parameter_types(
    documented: Mapping[str, Any], *, definitions: Mapping[str, Any]
) -> dict[tuple[str, str], str]:
    found = {}
    for parameter in documented.get("parameters") or []:
        if not isinstance(parameter, Mapping) or "schema" not in parameter:
            continue
        node = build_tree(schema=parameter["schema"], definitions=definitions, prefix="parameter")
        found[(str(parameter.get("in")), str(parameter.get("name")))] = (
            node.type_label or node.ref_name
        )
    return found


def _render(tree: SchemaNode) -> str:
    return render_to_string("console/_schema_tree.html", {"node": tree, "root": True})
