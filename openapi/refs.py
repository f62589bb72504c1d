"""JSON pointers and `$ref` resolution inside one OpenAPI document. Pure: never fetches.

Only references into the document itself (`#/components/...`, `#/definitions/...`) are
followed. Anything else (`other.yaml#/x`, `https://...`) is an external reference: it is
reported, never resolved, so an import cannot be made to read files or call URLs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

# A bare name such as "Pet": old Swagger tools read it as "#/definitions/Pet".
LEGACY_NAME = re.compile(r"[A-Za-z0-9_\-]+\Z")

# Keys whose value is a map from names chosen by the author to objects: inside such a
# map every key is a name (a property called "example", a header called "x-id").
NAME_MAP_KEYS = frozenset(
    {
        "properties",
        "patternProperties",
        "definitions",
        "$defs",
        "dependentSchemas",
        "schemas",
        "parameters",
        "requestBodies",
        "responses",
        "headers",
        "securitySchemes",
        "securityDefinitions",
        "links",
        "callbacks",
        "pathItems",
        "examples",
        "content",
        "encoding",
        "paths",
        "webhooks",
        "variables",
        "scopes",
    }
)
# Keys whose value is literal data, where a "$ref" is just text.
LITERAL_KEYS = frozenset({"example", "default", "enum", "const", "value"})


class RefError(ValueError):
    """A reference that cannot be followed; message says why."""


def escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def pointer(*tokens: object) -> str:
    """The JSON pointer of a place: pointer("paths", "/pets", "get") == "/paths/~1pets/get"."""
    return "".join("/" + escape(str(token)) for token in tokens)


def join(base: str, *tokens: object) -> str:
    return base + pointer(*tokens)


def is_external(ref: str) -> bool:
    return not ref.startswith("#")


def external_ref_message(ref: str) -> str:
    return (
        f"external reference {ref!r} is not supported: the importer never fetches files or "
        "URLs. Bundle the document into one file first (e.g. `redocly bundle` or "
        "`swagger-cli bundle`)."
    )


class Resolver:
    """Follows `$ref`s within one document, lazily, with a cache and cycle detection."""

    def __init__(self, document: Any, *, legacy_section: tuple[str, ...] = ()) -> None:
        self.document = document
        # Where a bare name points: ("definitions",) for Swagger 2.0,
        # ("components", "schemas") for OpenAPI 3.
        self.legacy_section = legacy_section
        self._targets: dict[str, tuple[Any, str]] = {}

    def normalise(self, ref: str) -> str:
        """The ref as a "#/..." pointer, when it is a legacy bare name of a definition."""
        if self.legacy_section and LEGACY_NAME.match(ref):
            section = self.document
            for token in self.legacy_section:
                section = section.get(token) if isinstance(section, dict) else None
            if isinstance(section, dict) and ref in section:
                return "#" + pointer(*self.legacy_section, ref)
        return ref

    def _walk(self, ref: str) -> Any:
        fragment = unquote(ref[1:])
        if fragment == "":
            return self.document
        if not fragment.startswith("/"):
            raise RefError(f"$ref {ref!r} is not a JSON pointer (it must start with '#/')")
        node = self.document
        for raw in fragment[1:].split("/"):
            token = unescape(raw)
            if isinstance(node, dict):
                if token not in node:
                    raise RefError(f"$ref {ref!r} does not resolve: no {token!r} there")
                node = node[token]
            elif isinstance(node, list):
                if not token.isdigit() or int(token) >= len(node):
                    raise RefError(f"$ref {ref!r} does not resolve: no item {token!r} there")
                node = node[int(token)]
            else:
                raise RefError(f"$ref {ref!r} does not resolve: {token!r} is inside a value")
        return node

    def lookup(self, ref: str) -> tuple[Any, str]:
        """The node a ref leads to (following chains of refs) and its pointer.

        Raises RefError for an external, missing or circular reference.
        """
        cached = self._targets.get(ref)
        if cached is not None:
            return cached
        seen = [ref]
        current = self.normalise(ref)
        while True:
            if is_external(current):
                raise RefError(external_ref_message(current))
            node = self._walk(current)
            if isinstance(node, dict) and isinstance(node.get("$ref"), str):
                following = self.normalise(node["$ref"])
                if following in seen or following == current:
                    chain = " → ".join([*seen, following])
                    raise RefError(f"circular $ref: {chain}")
                seen.append(following)
                current = following
                continue
            result = (node, current[1:] or "/")
            self._targets[ref] = result
            return result

    def deref(self, node: Any, place: str) -> tuple[Any, str]:
        """The node itself, or what its $ref leads to; with the pointer of the result."""
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                return self.lookup(ref)
        return node, place


def find_refs(document: Any, *, literal_examples_map: bool = False) -> Iterator[tuple[str, str]]:
    """Every `$ref` string in the document, with the pointer of the object holding it.

    Literal values (examples, defaults, enums, extensions) are not searched: a "$ref"
    there is data. literal_examples_map: "examples" maps hold literal values (Swagger
    2.0 responses) rather than Example Objects.
    """
    # Each entry: the node, whether it is a map of names, and a linked list of the
    # tokens leading to it (parent entry, token), turned into a pointer only when needed.
    stack: list[tuple[Any, bool, tuple | None]] = [(document, False, None)]

    def place(chain: tuple | None) -> str:
        tokens = []
        while chain is not None:
            chain, token = chain
            tokens.append(token)
        return pointer(*reversed(tokens))

    while stack:
        node, name_map, chain = stack.pop()
        if isinstance(node, dict):
            if not name_map:
                ref = node.get("$ref")
                if isinstance(ref, str):
                    yield ref, place(chain)
            for key, value in node.items():
                if not isinstance(value, dict | list):
                    continue
                if not name_map:
                    if not isinstance(key, str):
                        continue
                    if key in LITERAL_KEYS or key.startswith("x-"):
                        continue
                    if key == "examples" and (literal_examples_map or isinstance(value, list)):
                        continue
                    child_is_map = key in NAME_MAP_KEYS and isinstance(value, dict)
                else:
                    child_is_map = False
                stack.append((value, child_is_map, (chain, key)))
        elif isinstance(node, list):
            for index in range(len(node) - 1, -1, -1):
                value = node[index]
                if isinstance(value, dict | list):
                    stack.append((value, False, (chain, index)))


def ref_problems(
    document: Any, resolver: Resolver, *, literal_examples_map: bool
) -> list[tuple[str, str, str]]:
    """Every external, missing or circular reference: (pointer of the $ref, ref, message)."""
    problems = []
    for ref, place in find_refs(document, literal_examples_map=literal_examples_map):
        try:
            resolver.lookup(ref)
        except RefError as error:
            problems.append((f"{place}/$ref", ref, str(error)))
    return problems
