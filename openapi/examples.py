"""Body examples: literal ones as body text, else generated from the schema.

Generated values are valid against their schema by construction: required properties
always, optional ones near the top only, enum/const/pattern/length/bounds/multipleOf/
item and property counts honoured, allOf merged, the first valid oneOf/anyOf branch,
readOnly properties out of requests and writeOnly ones out of responses. A recursive
$ref stops at the nearest optional property; a required one gets its shortest value.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import exrex  # type: ignore[import-untyped]

from console.form_encoding import value_text
from openapi.refs import RefError, Resolver

# Generated examples: optional properties are filled down to this depth only (0: the top
# object's own properties), and an example larger than this is generated again with the
# required properties only.
OPTIONAL_MAX_DEPTH = 1
EXAMPLE_MAX_CHARS = 8_000
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


class _Recursive(Exception):
    """A $ref met again inside an optional property: the property is left out."""


@dataclass
class _GenerationState:
    request: bool
    minimal: bool = False
    optional: int = 0
    variant: int = 0


class SchemaExamples:
    """Examples generated from one document's schemas, valid against them by construction."""

    def __init__(self, resolver: Resolver) -> None:
        self.resolver = resolver
        self._texts: dict[tuple, str] = {}
        self._validator: Any = None
        document = resolver.document if isinstance(resolver.document, dict) else {}
        self.oas31 = str(document.get("openapi", "")).startswith("3.1")

    # -- validity -------------------------------------------------------------------

    def is_valid(self, value: Any, schema: Any) -> bool:
        """Whether value is valid against schema, the document resolving its $refs."""
        if self._validator is None:
            self._validator = document_validator(self.resolver.document)
        try:
            return bool(self._validator.evolve(schema=schema).is_valid(value))
        except Exception:
            return False

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
        """An example of schema: required properties always, optional ones near the top."""
        try:
            value = self._generate(schema, 0, (), _GenerationState(request=request))
        except (RecursionError, _Recursive):
            return {}
        if len(_pretty(value)) > EXAMPLE_MAX_CHARS:
            try:
                value = self._generate(schema, 0, (), _GenerationState(request, minimal=True))
            except (RecursionError, _Recursive):
                return {}
        return value

    # -- generation -----------------------------------------------------------------

    def _deref(self, schema: Any, stack: tuple, state: _GenerationState) -> tuple[Any, tuple]:
        """The schema behind $refs, with the refs followed added to the stack."""
        seen = 0
        while isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
            ref = schema["$ref"]
            seen += 1
            if seen > 20:
                return {}, stack
            try:
                target, _ = self.resolver.lookup(ref)
            except RefError:
                return {}, stack
            if ref in stack:
                if state.optional:
                    raise _Recursive(ref)
                state.minimal = True
                if stack.count(ref) > 3:
                    raise _Recursive(ref)
            stack = (*stack, ref)
            schema = target
        return schema, stack

    def _generate(self, schema: Any, depth: int, stack: tuple, state: _GenerationState) -> Any:
        schema, stack = self._deref(schema, stack, state)
        if not isinstance(schema, dict):
            return {}
        if "allOf" in schema and isinstance(schema["allOf"], list):
            schema = self._merge_all_of(schema, stack, state)
        if "const" in schema:
            return schema["const"]
        literal = self._literal(schema)
        if literal is not _NONE:
            return literal
        enum = schema.get("enum")
        if isinstance(enum, list) and enum:
            values = [value for value in enum if value is not None] or enum
            return values[state.variant % len(values)]
        for key in ("oneOf", "anyOf"):
            options = schema.get(key)
            if isinstance(options, list) and options:
                return self._generate_choice(schema, key, options, depth, stack, state)
        kind = schema_type(schema)
        if not kind and (
            "required" in schema or isinstance(schema.get("additionalProperties"), dict)
        ):
            kind = "object"
        if kind == "object":
            return self._generate_object(schema, depth, stack, state)
        if kind == "array":
            return self._generate_array(schema, depth, stack, state)
        if kind == "string" or (not kind and "format" in schema):
            return self._generate_string(schema, state)
        if kind in {"integer", "number"}:
            return _number(schema, integer=kind == "integer", variant=state.variant)
        if kind == "boolean":
            return state.variant % 2 == 0
        if kind == "null":
            return None
        if kind == "file":
            return ""
        return {}

    def _literal(self, schema: dict) -> Any:
        """The schema's own example, examples or default, when valid against it."""
        candidates: list = []
        for key in ("example", "x-example"):
            if key in schema:
                candidates.append(schema[key])
        examples = schema.get("examples")
        if isinstance(examples, list):
            candidates.extend(examples[:3])
        if "default" in schema:
            candidates.append(schema["default"])
        kind = schema.get("type")
        if isinstance(kind, list) and not self.oas31:
            # A 3.1 type list in an older document: checked as its 3.0 equivalent.
            others = [k for k in kind if k != "null"]
            schema = {**schema, "type": others[0] if others else "object", "nullable": True}
        for candidate in candidates:
            if self.is_valid(candidate, schema) is not False:
                return candidate
        return _NONE

    def _merge_all_of(self, schema: dict, stack: tuple, state: _GenerationState) -> dict:
        """One schema holding the keywords of schema and of each allOf part, recursively."""
        merged: dict = {key: value for key, value in schema.items() if key != "allOf"}
        parts = [part for part in schema["allOf"] if isinstance(part, dict)]
        for part in parts:
            target, _ = self._deref(part, stack, _GenerationState(state.request))
            if not isinstance(target, dict):
                continue
            if isinstance(target.get("allOf"), list):
                target = self._merge_all_of(target, stack, state)
            for key, value in target.items():
                if key == "properties" and isinstance(value, dict):
                    own = merged.setdefault("properties", {})
                    merged["properties"] = dict(own)
                    for name, prop in value.items():
                        if name in own and own[name] != prop:
                            merged["properties"][name] = {"allOf": [own[name], prop]}
                        else:
                            merged["properties"][name] = prop
                elif key == "required" and isinstance(value, list):
                    merged["required"] = list(dict.fromkeys([*merged.get("required", []), *value]))
                elif key not in merged:
                    merged[key] = value
        return merged

    def _generate_choice(
        self,
        schema: dict,
        key: str,
        options: list,
        depth: int,
        stack: tuple,
        state: _GenerationState,
    ) -> Any:
        """The first branch (not null) whose value is valid against the whole schema."""
        rest = {name: value for name, value in schema.items() if name not in (key, "discriminator")}
        discriminator = schema.get("discriminator")
        first: Any = _NONE
        for option in options:
            try:
                target, _ = self._deref(option, stack, _GenerationState(state.request, optional=1))
            except _Recursive:
                target = None
            if isinstance(target, dict) and target.get("type") == "null" and len(options) > 1:
                continue
            branch = {"allOf": [rest, option]} if rest else option
            try:
                value = self._generate(branch, depth, stack, state)
            except _Recursive:
                continue
            if isinstance(discriminator, dict) and isinstance(value, dict):
                value = self._discriminated(value, option, discriminator)
            if first is _NONE:
                first = value
            if self.is_valid(value, schema) is not False:
                return value
        if first is _NONE:
            raise _Recursive(key)
        return first

    def _discriminated(self, value: dict, option: Any, discriminator: dict) -> dict:
        name = discriminator.get("propertyName")
        ref = option.get("$ref") if isinstance(option, dict) else None
        if not isinstance(name, str) or not isinstance(ref, str):
            return value
        mapping = discriminator.get("mapping")
        tag = ref.rsplit("/", 1)[-1]
        if isinstance(mapping, dict):
            tag = next((key for key, target in mapping.items() if target == ref), tag)
        if name in value and value[name] == tag:
            return value
        return {**value, name: tag}

    def _generate_object(
        self, schema: dict, depth: int, stack: tuple, state: _GenerationState
    ) -> dict:
        properties = schema.get("properties")
        properties = properties if isinstance(properties, dict) else {}
        required = schema.get("required")
        required = (
            [name for name in required if isinstance(name, str)]
            if isinstance(required, list)
            else []
        )
        minimum = _count(schema.get("minProperties"), 0)
        maximum = _count(schema.get("maxProperties"), None)
        with_optional = depth <= OPTIONAL_MAX_DEPTH and not state.minimal
        result: dict = {}
        names = [*required, *(name for name in properties if name not in required)]
        for name in names:
            is_required = name in required
            if not is_required and not with_optional and len(result) >= minimum:
                continue
            if maximum is not None and len(result) >= maximum:
                break
            prop = properties.get(name, {})
            try:
                target, _ = self._deref(prop, stack, _GenerationState(state.request, optional=1))
            except _Recursive:
                target = None
            if isinstance(target, dict) and not (is_required and self.oas31):
                if state.request and target.get("readOnly") is True:
                    continue
                if not state.request and target.get("writeOnly") is True:
                    continue
            child = _GenerationState(
                state.request, state.minimal, state.optional + (0 if is_required else 1)
            )
            try:
                result[str(name)] = self._generate(prop, depth + 1, stack, child)
            except _Recursive:
                if is_required:
                    raise
        extra = schema.get("additionalProperties")
        wanted = max(minimum, 1 if not result and isinstance(extra, dict) and extra else 0)
        number = 1
        while len(result) < wanted and extra is not False:
            name = f"additionalProp{number}"
            number += 1
            if name in result:
                continue
            value = (
                self._generate(extra, depth + 1, stack, state) if isinstance(extra, dict) else ""
            )
            result[name] = value
        return result

    def _generate_array(
        self, schema: dict, depth: int, stack: tuple, state: _GenerationState
    ) -> list:
        minimum = _count(schema.get("minItems"), 0)
        maximum = _count(schema.get("maxItems"), None)
        wanted = minimum if state.minimal else max(minimum, 1)
        if maximum is not None:
            wanted = min(wanted, maximum)
        prefix = schema.get("prefixItems")
        items = schema.get("items")
        if isinstance(items, list):
            prefix, items = items, schema.get("additionalItems", {})
        prefix = prefix if isinstance(prefix, list) else []
        result: list = []
        unique = schema.get("uniqueItems") is True
        attempts = 0
        while len(result) < wanted and attempts < wanted + 10:
            index = len(result)
            item = prefix[index] if index < len(prefix) else items
            if item is None or item is True:
                item = {}
            if item is False:
                break
            child = _GenerationState(
                state.request, state.minimal, state.optional, attempts if unique else 0
            )
            attempts += 1
            try:
                value = self._generate(item, depth + 1, stack, child)
            except _Recursive:
                if index < minimum:
                    raise
                break
            if unique and value in result:
                continue
            result.append(value)
        return result

    def _generate_string(self, schema: dict, state: _GenerationState) -> str:
        low = _count(schema.get("minLength"), 0)
        high = _count(schema.get("maxLength"), None)
        pattern = schema.get("pattern")
        text_format = schema.get("format")
        candidates: list[str] = []
        if isinstance(text_format, str) and text_format in STRING_FORMATS:
            candidates.append(STRING_FORMATS[text_format])
        if isinstance(pattern, str):
            # The format's value when it matches, else the pattern's first strings.
            found = [
                text
                for text in (*candidates, *_pattern_strings(pattern, limit=state.variant + 20))
                if self._string_fits(text, low, high, pattern)
            ]
            if found:
                return found[min(state.variant, len(found) - 1)]
        variants = [_fit(text, low, high, state.variant) for text in (*candidates, "string")]
        return next(
            (text for text in variants if self._string_fits(text, low, high, pattern)), variants[0]
        )

    @staticmethod
    def _string_fits(text: str, low: int, high: int | None, pattern: Any) -> bool:
        if len(text) < low or (high is not None and len(text) > high):
            return False
        if isinstance(pattern, str):
            try:
                return re.search(pattern, text) is not None
            except re.error:
                return True
        return True


_NONE: Any = object()


def document_validator(document: Any) -> Any:
    """A validator of the document's version whose $refs resolve in the document."""
    from openapi_schema_validator import OAS30Validator, OAS31Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4, DRAFT202012

    oas31 = isinstance(document, dict) and str(document.get("openapi", "")).startswith("3.1")
    specification = DRAFT202012 if oas31 else DRAFT4
    registry: Registry = Registry().with_resource(
        "urn:document", Resource.from_contents(document, default_specification=specification)
    )
    cls = OAS31Validator if oas31 else OAS30Validator
    return cls(document, registry=registry)


def _count(value: Any, default: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return default


def _fit(text: str, low: int, high: int | None, variant: int) -> str:
    """text made long enough, short enough and different for each variant."""
    if variant:
        text = f"{text}{variant}"
    if len(text) < low:
        text = (text * (low // max(len(text), 1) + 1))[:low] if text else "s" * low
    if high is not None and len(text) > high:
        text = text[len(text) - high :] if variant else text[:high]
    return text


def _pattern_strings(pattern: str, *, limit: int) -> list[str]:
    """The first strings matching the pattern (shortest repeats first)."""
    try:
        return list(itertools.islice(exrex.generate(pattern, limit=10), limit))
    except Exception:
        return []


def _number(schema: dict, *, integer: bool, variant: int) -> int | float:
    """The number nearest 0 within the bounds, a multiple of multipleOf."""
    low, high = schema.get("minimum"), schema.get("maximum")
    low = low if isinstance(low, int | float) and not isinstance(low, bool) else None
    high = high if isinstance(high, int | float) and not isinstance(high, bool) else None
    low_open = schema.get("exclusiveMinimum") is True
    high_open = schema.get("exclusiveMaximum") is True
    for key, is_low in (("exclusiveMinimum", True), ("exclusiveMaximum", False)):
        bound = schema.get(key)
        if isinstance(bound, int | float) and not isinstance(bound, bool):
            if is_low and (low is None or bound >= low):
                low, low_open = bound, True
            if not is_low and (high is None or bound <= high):
                high, high_open = bound, True
    step = schema.get("multipleOf")
    step = (
        step if isinstance(step, int | float) and not isinstance(step, bool) and step > 0 else None
    )
    if integer:
        step = step if step is not None else 1
        if step != int(step):
            step = 1
    unit: int | float = step if step is not None else 1

    def above(bound: float, open_: bool) -> int | float:
        value = math.ceil(bound / unit) * unit
        if open_ and value <= bound:
            value += unit
        return value

    def below(bound: float, open_: bool) -> int | float:
        value = math.floor(bound / unit) * unit
        if open_ and value >= bound:
            value -= unit
        return value

    value: int | float = 0
    if low is not None and (value < low or (low_open and value <= low)):
        value = above(low, low_open)
    if high is not None and (value > high or (high_open and value >= high)):
        value = below(high, high_open)
    if variant:
        moved = value + variant * unit
        if high is None or moved < high or (moved == high and not high_open):
            value = moved
    between = low is not None and high is not None and low < value < high
    if not integer and step is None and high is not None and low is not None and not between:
        # Open bounds around a gap narrower than 1: the middle of it.
        value = (low + high) / 2 if low_open or high_open else value
    if integer or (
        isinstance(value, float) and value.is_integer() and step is not None and int(step) == step
    ):
        return int(value)
    return value


def _pretty(value: Any) -> str:
    try:
        text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    except (TypeError, ValueError, RecursionError):
        return ""
    return text if len(text) <= MAX_EXAMPLE_CHARS else ""
