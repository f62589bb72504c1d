"""YAML read from the parser's events under the YAML 1.2 core schema.

`yes` and `2024-01-01` stay text and mapping keys are text (`200:` is "200"), as in JSON.
Aliases and merge keys work within MAX_ALIAS_EXPANSION; custom tags and several
documents in one stream are refused. Building from the event stream keeps no node graph,
and loops instead of recursing, so nesting is bounded by MAX_NESTING, not by the stack.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from openapi.plans import OpenApiError

MAX_NESTING = 500
# Nodes that YAML aliases may add on top of the document's own (a "billion laughs"
# document adds billions).
MAX_ALIAS_EXPANSION = 1_000_000

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


def load_yaml(text: str) -> Any:
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
