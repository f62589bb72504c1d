"""Array and object parameters serialised as their document's `style` and `explode` say.

The form keeps one text per parameter, as typed (the history and Try again keep it so):
an array as comma-separated items, one item per line, or a JSON array; an object as a
JSON object. Just before binding, the text becomes what the style sends:

- query `form`: `ids=1,2` (explode false) or `ids=1&ids=2`; an exploded object spreads
  its properties into keys, only those its schema declares (docs/design.md, "Outbound:
  query keys from the operation");
- query `spaceDelimited` / `pipeDelimited`: `ids=1 2` / `ids=1|2`;
- query `deepObject`: `filter[status]=active`, keys under the declared name;
- path and header `simple`: `1,2`, an object `k,v` or, exploded, `k=v`;
- path `label`: `.5`, `.1,2` (explode `.1.2`), an object `.k,v` (explode `.k=v.k2=v2`);
- path `matrix`: `;id=5`, `;id=1,2` (explode `;id=1;id=2`), an object `;id=k,v`
  (explode `;k=v;k2=v2`); the OpenAPI 3.0.3 "Style Examples" table;
- cookie `form`: `id=1,2` (explode false) or `id=1; id=2`, an exploded object's
  declared properties as cookies of their own.

Each value is then encoded by `templating.bind` as any other; a label or matrix value
goes as a `templating.StyledValue`, whose delimiters are not encoded.
"""

from __future__ import annotations

import json
from typing import Any

from catalog.documents import followed, schema_kind
from catalog.models import Operation
from httpcore.templating import StyledValue

DELIMITERS = {"spaceDelimited": " ", "pipeDelimited": "|"}


def _documented(operation: Operation, where: str, *, primitives: bool = False) -> dict[str, dict]:
    definitions = operation.api.openapi or {}
    result = {}
    for parameter in (operation.openapi or {}).get("parameters") or []:
        parameter = followed(parameter, definitions)
        if parameter.get("in") != where or "schema" not in parameter:
            continue
        schema = dict(followed(parameter["schema"], definitions))
        kind = schema_kind(schema)
        if primitives or kind in {"array", "object"}:
            result[str(parameter.get("name"))] = {**parameter, "schema": schema, "kind": kind}
    return result


def item_text(value: Any) -> str:
    """A JSON value as the form types it: strings as they are, others as JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def items_of(text: str) -> list[str]:
    """An array as typed: a JSON array, one item per line, or comma-separated."""
    stripped = text.strip()
    if stripped.startswith("["):
        try:
            parsed = json.loads(stripped)
        except ValueError:
            parsed = None
        if isinstance(parsed, list):
            return [item_text(item) for item in parsed]
    if "\n" in stripped:
        return [line.strip() for line in stripped.splitlines() if line.strip()]
    return [item.strip() for item in stripped.split(",")] if stripped else []


def object_of(text: str) -> dict[str, str] | None:
    """An object as typed: a JSON object; None when the text is not one."""
    try:
        parsed = json.loads(text)
    except ValueError:
        return None
    if not isinstance(parsed, dict):
        return None
    return {str(key): item_text(value) for key, value in parsed.items()}


def _simple(text: str, parameter: dict) -> str:
    if parameter["kind"] == "array":
        return ",".join(items_of(text))
    found = object_of(text)
    if found is None:
        return text
    if parameter.get("explode"):
        return ",".join(f"{key}={value}" for key, value in found.items())
    return ",".join(part for pair in found.items() for part in pair)


def styled_query(*, operation: Operation, pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    documented = _documented(operation, "query")
    result: list[tuple[str, str]] = []
    for name, text in pairs:
        parameter = documented.get(name)
        if parameter is None or text == "":
            result.append((name, text))
            continue
        style, explode = parameter.get("style", "form"), parameter.get("explode", True)
        if parameter["kind"] == "array":
            items = items_of(text)
            if style == "form" and explode:
                result.extend((name, item) for item in items)
            else:
                result.append((name, DELIMITERS.get(style, ",").join(items)))
            continue
        found = object_of(text)
        if found is None:
            result.append((name, text))
        elif style == "deepObject":
            result.extend((f"{name}[{key}]", value) for key, value in found.items())
        elif explode:
            declared = set((parameter["schema"].get("properties") or {}).keys())
            # Keys come from the document: an undeclared property stays inside the value.
            spread = {k: v for k, v in found.items() if k in declared}
            rest = {k: v for k, v in found.items() if k not in declared}
            result.extend(spread.items())
            if rest:
                result.append((name, ",".join(part for pair in rest.items() for part in pair)))
        else:
            result.append((name, ",".join(part for pair in found.items() for part in pair)))
    return result


def _delimited(items: list[str], delimiter: str) -> list[tuple[str, bool]]:
    parts: list[tuple[str, bool]] = []
    for index, item in enumerate(items):
        if index:
            parts.append((delimiter, True))
        parts.append((item, False))
    return parts


def _label(text: str, parameter: dict) -> StyledValue:
    explode = bool(parameter.get("explode", False))
    parts: list[tuple[str, bool]] = [(".", True)]
    found = object_of(text) if parameter["kind"] == "object" else None
    if parameter["kind"] == "array":
        parts += _delimited(items_of(text), "." if explode else ",")
    elif found is not None and explode:
        for index, (key, value) in enumerate(found.items()):
            parts += [*([(".", True)] if index else []), (key, False), ("=", True), (value, False)]
    elif found is not None:
        parts += _delimited([part for pair in found.items() for part in pair], ",")
    else:
        parts.append((text, False))
    return StyledValue(tuple(parts))


def _matrix(name: str, text: str, parameter: dict) -> StyledValue:
    explode = bool(parameter.get("explode", False))
    named: list[tuple[str, bool]] = [(";", True), (name, False), ("=", True)]
    found = object_of(text) if parameter["kind"] == "object" else None
    if parameter["kind"] == "array" and explode:
        parts: list[tuple[str, bool]] = []
        for item in items_of(text):
            parts += [*named, (item, False)]
        return StyledValue(tuple(parts) or ((";", True), (name, False)))
    if parameter["kind"] == "array":
        return StyledValue((*named, *_delimited(items_of(text), ",")))
    if found is not None and explode:
        parts = []
        for key, value in found.items():
            parts += [(";", True), (key, False), ("=", True), (value, False)]
        return StyledValue(tuple(parts) or ((";", True),))
    if found is not None:
        pieces = [part for pair in found.items() for part in pair]
        return StyledValue((*named, *_delimited(pieces, ",")))
    return StyledValue((*named, (text, False)))


def styled_path(*, operation: Operation, values: dict[str, str]) -> dict[str, str | StyledValue]:
    documented = _documented(operation, "path", primitives=True)
    result: dict[str, str | StyledValue] = {}
    for name, text in values.items():
        parameter = documented.get(name)
        style = parameter.get("style", "simple") if parameter else "simple"
        if parameter is None or text == "":
            result[name] = text
        elif style == "label":
            result[name] = _label(text, parameter)
        elif style == "matrix":
            result[name] = _matrix(name, text, parameter)
        elif parameter["kind"] in {"array", "object"}:
            result[name] = _simple(text, parameter)
        else:
            result[name] = text
    return result


def styled_cookies(*, operation: Operation, pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Cookie parameters as `form` says; an empty optional one is not sent."""
    documented = _documented(operation, "cookie")
    result: list[tuple[str, str]] = []
    for name, text in pairs:
        parameter = documented.get(name)
        if text == "":
            continue
        if parameter is None:
            result.append((name, text))
            continue
        explode = bool(parameter.get("explode", True))
        if parameter["kind"] == "array":
            items = items_of(text)
            if explode:
                result.extend((name, item) for item in items)
            else:
                result.append((name, ",".join(items)))
            continue
        found = object_of(text)
        if found is None:
            result.append((name, text))
        elif explode:
            declared = set((parameter["schema"].get("properties") or {}).keys())
            # Names come from the document: an undeclared property stays in the value.
            result.extend((k, v) for k, v in found.items() if k in declared)
            rest = [part for k, v in found.items() if k not in declared for part in (k, v)]
            if rest:
                result.append((name, ",".join(rest)))
        else:
            result.append((name, ",".join(part for pair in found.items() for part in pair)))
    return result


def styled_headers(
    *, operation: Operation, headers: list[tuple[str, str]]
) -> list[tuple[str, str]]:
    documented = {name.lower(): p for name, p in _documented(operation, "header").items()}
    return [
        (name, _simple(text, documented[name.lower()]) if name.lower() in documented else text)
        for name, text in headers
    ]
