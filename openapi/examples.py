"""Body examples: literal ones as body text, else generated from the schema.

Generated values merge allOf, take the first of oneOf/anyOf, give formats plausible
values, and leave readOnly properties out of requests and writeOnly ones out of
responses. They stop at EXAMPLE_MAX_DEPTH levels or EXAMPLE_MAX_NODES values, and a
recursive schema is cut as {} or [].
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from openapi.refs import RefError, Resolver

# Generated examples: how deep objects nest and how many values one example holds.
EXAMPLE_MAX_DEPTH = 6
EXAMPLE_MAX_NODES = 400
# A literal example larger than this is replaced by a generated one.
MAX_EXAMPLE_CHARS = 100_000

FORM_MEDIA_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
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


def value_text(value: Any) -> str:
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
        return ",".join(value_text(item) for item in value)
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    except (TypeError, ValueError, RecursionError):
        return ""


def is_json_media(media_type: str) -> bool:
    base = media_type.split(";")[0].strip().lower()
    return base == "application/json" or base.endswith("+json") or "json" in base


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


def example_text(value: Any, *, media: str) -> str:
    """A literal example as the body text of the media type."""
    base = media.split(";")[0].strip().lower()
    if base == "application/x-www-form-urlencoded" and isinstance(value, dict):
        return form_text(value)
    if isinstance(value, str):
        if is_json_media(media) or "*" in media:
            try:
                parsed = json.loads(value)
            except ValueError:
                return _pretty(value)
            return _pretty(parsed) or value
        return value if len(value) <= MAX_EXAMPLE_CHARS else ""
    return _pretty(value)


def form_text(value: dict) -> str:
    pairs = [(str(name), value_text(item)) for name, item in value.items()]
    return urlencode(pairs, quote_via=quote, safe="*:,/@")


class SchemaExamples:
    """Examples generated from one document's schemas, each reference's worked out once."""

    def __init__(self, resolver: Resolver) -> None:
        self.resolver = resolver
        self._values: dict[tuple, tuple[Any, int]] = {}
        self._texts: dict[tuple, str] = {}

    def schema_example_text(self, schema: Any, *, media: str, request: bool) -> str:
        """The schema's own example, else one generated from it, as body text."""
        base = media.split(";")[0].strip().lower()
        generated = is_json_media(media) or "*" in media or base in FORM_MEDIA_TYPES
        if not generated and not base.startswith("text/"):
            return ""
        ref = schema.get("$ref") if isinstance(schema, dict) else None
        key = (ref, base, request) if isinstance(ref, str) else None
        if key is not None and key in self._texts:
            return self._texts[key]
        value = self.generate(schema, request=request)
        if base == "multipart/form-data":
            text = ""
        elif base == "application/x-www-form-urlencoded":
            text = form_text(value) if isinstance(value, dict) else ""
        elif generated:
            text = _pretty(value)
        else:
            text = "" if isinstance(value, dict | list) else value_text(value)
        if key is not None:
            self._texts[key] = text
        return text

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
                return [] if schema_type(target) == "array" else {}
            cache_key = (ref, depth, state.request)
            cached = self._values.get(cache_key)
            if cached is not None:
                state.nodes += cached[1]
                return cached[0]
            nodes, cuts = state.nodes, state.cuts
            value = self._generate(target, depth, (*stack, ref), state)
            if state.cuts == cuts:
                self._values[cache_key] = (value, state.nodes - nodes)
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
        kind = schema_type(schema)
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
