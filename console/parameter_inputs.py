"""Try it inputs typed by each parameter's documented schema, and the checks the form
makes of what they hold (docs/design.md, "Typed parameter inputs").

The form keeps one text per parameter (history, Try again and saved requests keep it
so); the inputs only change how it is typed. An array is one input per item, or a
multi-select for an enum; the items come back under one name and are joined into a JSON
array text, which `parameter_styles.items_of` reads.

A value holding `{{` is an environment reference (console/environments.py), substituted
after the form: it is not checked here, and an input that may hold one is a text input
(with `inputmode`), since a browser empties a number or date input holding text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.template.loader import render_to_string
from django.utils.datastructures import MultiValueDict
from django.utils.safestring import SafeString

from catalog.documents import followed, schema_kind
from catalog.models import Operation, Parameter, ParameterLocation
from console.parameter_styles import item_text, items_of
from httpcore.cookies import value_problem

# ASCII digits only: int() and float() also take "1_000", " 7 ", "nan" and other
# scripts' digits, which a backend reading the value as a number would not.
INTEGER = re.compile(r"[-+]?[0-9]+\Z")
NUMBER = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?\Z")
REFERENCE = "{{"
MAX_ITEMS = 100
DATE_TIME_PLACEHOLDER = "2026-01-31T12:00:00Z"
# Only checked when the value is not longer: a document's pattern runs on at most this.
MAX_PATTERN_INPUT = 1000


@dataclass(frozen=True)
class Documented:
    """A parameter as its document describes it ($refs followed)."""

    schema: Mapping[str, Any]
    items: Mapping[str, Any]  # the item schema of an array, else {}

    @property
    def kind(self) -> str:
        return schema_kind(self.schema)

    @property
    def item_kind(self) -> str:
        return schema_kind(self.items)

    @property
    def item_choices(self) -> list[str]:
        enum = self.items.get("enum")
        return [item_text(v) for v in enum] if isinstance(enum, list) else []


_WHERE = {
    ParameterLocation.QUERY: ("query",),
    ParameterLocation.TEMPLATE: ("path", "query"),
    ParameterLocation.HEADER: ("header",),
    ParameterLocation.COOKIE: ("cookie",),
}


def documented_parameters(operation: Operation) -> dict[tuple[str, str], Documented]:
    """(in, name) -> the documented parameter, for an imported operation."""
    definitions = operation.api.openapi or {}
    result = {}
    for raw in (operation.openapi or {}).get("parameters") or []:
        parameter = followed(raw, definitions)
        schema = followed(parameter.get("schema") or {}, definitions)
        items = (
            followed(schema.get("items") or {}, definitions) if isinstance(schema, Mapping) else {}
        )
        result[(str(parameter.get("in")), str(parameter.get("name")))] = Documented(
            schema=schema, items=items
        )
    return result


def documented_of(
    parameter: Parameter, documented: Mapping[tuple[str, str], Documented]
) -> Documented | None:
    for where in _WHERE.get(ParameterLocation(parameter.location), ()):
        found = documented.get((where, parameter.name))
        if found is not None:
            return found
    return None


# --- Checks --------------------------------------------------------------------------


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _shown(number: Decimal) -> str:
    text = format(number, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _bound_errors(schema: Mapping[str, Any], number: Decimal) -> list[str]:
    errors = []
    minimum, maximum = _number(schema.get("minimum")), _number(schema.get("maximum"))
    # OpenAPI 3.0: exclusiveMinimum is a flag on minimum; 3.1: a number of its own.
    low_flag, high_flag = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    exclusive_low = _number(low_flag) if not isinstance(low_flag, bool) else None
    exclusive_high = _number(high_flag) if not isinstance(high_flag, bool) else None
    if low_flag is True and minimum is not None:
        exclusive_low, minimum = minimum, None
    if high_flag is True and maximum is not None:
        exclusive_high, maximum = maximum, None
    if minimum is not None and number < minimum:
        errors.append(f"Enter a number no less than {_shown(minimum)}.")
    if exclusive_low is not None and number <= exclusive_low:
        errors.append(f"Enter a number greater than {_shown(exclusive_low)}.")
    if maximum is not None and number > maximum:
        errors.append(f"Enter a number no greater than {_shown(maximum)}.")
    if exclusive_high is not None and number >= exclusive_high:
        errors.append(f"Enter a number less than {_shown(exclusive_high)}.")
    step = _number(schema.get("multipleOf"))
    if step is not None and step > 0 and number % step != 0:
        errors.append(f"Enter a multiple of {_shown(step)}.")
    return errors


def _string_errors(schema: Mapping[str, Any], value: str) -> list[str]:
    errors = []
    shortest, longest = schema.get("minLength"), schema.get("maxLength")
    if isinstance(shortest, int) and len(value) < shortest:
        errors.append(f"Enter at least {shortest} characters.")
    if isinstance(longest, int) and len(value) > longest:
        errors.append(f"Enter at most {longest} characters.")
    pattern = schema.get("pattern")
    if isinstance(pattern, str) and len(value) <= MAX_PATTERN_INPUT:
        try:
            matched = re.search(pattern, value) is not None
        except re.error:
            matched = True  # a pattern Python cannot read is left to the backend
        if not matched:
            errors.append(f"Enter a value matching the pattern {pattern}.")
    return errors


def value_errors(schema: Mapping[str, Any], value: str) -> list[str]:
    """What is wrong with one typed primitive value for its schema; [] when fine."""
    if value == "" or REFERENCE in value:
        return []
    enum = schema.get("enum")
    if isinstance(enum, list) and enum and value not in {item_text(v) for v in enum}:
        return ["Choose one of " + ", ".join(item_text(v) for v in enum) + "."]
    kind = schema_kind(schema)
    if kind in {"integer", "number"}:
        if not (INTEGER if kind == "integer" else NUMBER).match(value):
            return ["Enter a whole number." if kind == "integer" else "Enter a number."]
        number = _number(value)
        return _bound_errors(schema, number) if number is not None else ["Enter a number."]
    if kind == "boolean":
        return [] if value in {"true", "false"} else ["Enter true or false."]
    return _string_errors(schema, value)


def array_errors(documented: Documented, text: str) -> list[str]:
    """What is wrong with an array parameter's text: its count, uniqueness and items."""
    if text == "" or REFERENCE in text:
        return []
    items = items_of(text)
    schema = documented.schema
    errors = []
    fewest, most = schema.get("minItems"), schema.get("maxItems")
    if isinstance(fewest, int) and len(items) < fewest:
        errors.append(f"Give at least {fewest} item{'s' if fewest != 1 else ''}.")
    if isinstance(most, int) and len(items) > most:
        errors.append(f"Give at most {most} item{'s' if most != 1 else ''}.")
    if len(items) > MAX_ITEMS:
        errors.append(f"Give at most {MAX_ITEMS} items.")
    if schema.get("uniqueItems") is True:
        repeated = next((item for i, item in enumerate(items) if item in items[:i]), None)
        if repeated is not None:
            errors.append(f"Each item must be different: {repeated} is given twice.")
    for index, item in enumerate(items, start=1):
        errors.extend(f"Item {index}: {error}" for error in value_errors(documented.items, item))
    return errors


def cookie_errors(text: str, *, items: bool) -> list[str]:
    """A cookie value (or each of a cookie array's items) outside RFC 6265 cookie-octets."""
    if REFERENCE in text:
        return []
    for value in items_of(text) if items else [text]:
        problem = value_problem(value)
        if problem:
            return [problem]
    return []


# --- Widgets -------------------------------------------------------------------------


def joined_items(values: list[str]) -> str:
    """Repeated inputs back to the one text the form keeps: a single input as typed
    (comma or line separated without JavaScript), several as a JSON array."""
    filled = [value for value in values if value.strip() != ""]
    if len(values) <= 1:
        return values[0] if values else ""
    if len(filled) == 1 and not any(c in filled[0] for c in ",\n["):
        return filled[0]
    return json.dumps(filled, ensure_ascii=False) if filled else ""


class ItemInputs(forms.Widget):
    """An array as one typed input per item, with Add item and remove buttons
    (static/js/parameter-items.js)."""

    def __init__(
        self, *, label: str, item_attrs: dict[str, str], attrs: dict | None = None
    ) -> None:
        super().__init__(attrs)
        self.label = label
        self.item_attrs = item_attrs

    def value_from_datadict(self, data: Any, files: Any, name: str) -> str:
        if isinstance(data, MultiValueDict):
            return joined_items(data.getlist(name))
        value = data.get(name, "")
        return joined_items(value) if isinstance(value, list) else str(value)

    def render(
        self, name: str, value: Any, attrs: dict | None = None, renderer: Any = None
    ) -> SafeString:
        attrs = {**(attrs or {}), **self.attrs}
        items = items_of(str(value or "")) or [""]
        # A template's output is a SafeString: the engine escaped every value.
        return render_to_string(
            "console/_parameter_items.html",
            {
                "name": name,
                "label": self.label,
                "items": items,
                "id": attrs.get("id", ""),
                "required": bool(attrs.get("required")),
                "described_by": attrs.get("aria-describedby", ""),
                "invalid": bool(attrs.get("aria-invalid")),
                "item_attrs": self.item_attrs,
            },
        )


class ReferenceChoiceField(forms.ChoiceField):
    """A select whose value may also be an environment reference (`{{flag}}`), kept
    from an earlier call and substituted later."""

    def valid_value(self, value: Any) -> bool:
        return REFERENCE in str(value) or super().valid_value(value)


class ItemChoices(forms.SelectMultiple):
    """An array of an enum: a multi-select; the chosen items join into one text."""

    def value_from_datadict(self, data: Any, files: Any, name: str) -> str:
        chosen = data.getlist(name) if isinstance(data, MultiValueDict) else data.get(name, [])
        chosen = [chosen] if isinstance(chosen, str) else list(chosen)
        return json.dumps(chosen, ensure_ascii=False) if chosen else ""

    def format_value(self, value: Any) -> list[str]:  # type: ignore[override]
        # SelectMultiple compares each option with a list of the chosen values.
        return items_of(str(value or ""))

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return False


def input_attrs(schema: Mapping[str, Any], *, references: bool) -> dict[str, str]:
    """The attributes of the input for one primitive value: its type and bounds.

    references: the input may hold a `{{variable}}`; a number or date input would
    be emptied by the browser, so it is a text input with the keyboard of its kind."""
    kind = schema_kind(schema)
    attrs: dict[str, str] = {}
    if kind in {"integer", "number"}:
        if references:
            attrs["inputmode"] = "numeric" if kind == "integer" else "decimal"
        else:
            attrs["type"] = "number"
            attrs["step"] = item_text(
                schema.get("multipleOf") or (1 if kind == "integer" else "any")
            )
            for key in ("minimum", "maximum"):
                bound = _number(schema.get(key))
                if bound is not None and schema.get(f"exclusive{key.title()}") is not True:
                    attrs["min" if key == "minimum" else "max"] = _shown(bound)
    elif schema.get("format") == "date":
        if references:
            attrs["placeholder"] = "YYYY-MM-DD"
        else:
            attrs["type"] = "date"
    elif schema.get("format") == "date-time":
        attrs["placeholder"] = DATE_TIME_PLACEHOLDER
    elif schema.get("format") == "email":
        # Not type=email: a browser trims it and may rewrite an international domain,
        # and what is sent must be what was typed.
        attrs["inputmode"] = "email"
    elif schema.get("format") in {"uri", "url"}:
        attrs["inputmode"] = "url"  # not type=url, which a browser trims
    return attrs


def bounds_help(schema: Mapping[str, Any]) -> str:
    """The constraints of a value in words, for the field's help."""
    parts = []
    minimum, maximum = _number(schema.get("minimum")), _number(schema.get("maximum"))
    if minimum is not None:
        more = "more than" if schema.get("exclusiveMinimum") is True else "at least"
        parts.append(f"{more} {_shown(minimum)}")
    if maximum is not None:
        less = "less than" if schema.get("exclusiveMaximum") is True else "at most"
        parts.append(f"{less} {_shown(maximum)}")
    for key, word in (("exclusiveMinimum", "more than"), ("exclusiveMaximum", "less than")):
        bound = schema.get(key)
        if not isinstance(bound, bool) and _number(bound) is not None:
            parts.append(f"{word} {_shown(_number(bound) or Decimal(0))}")
    if isinstance(schema.get("minLength"), int):
        parts.append(f"at least {schema['minLength']} characters")
    if isinstance(schema.get("maxLength"), int):
        parts.append(f"at most {schema['maxLength']} characters")
    if isinstance(schema.get("pattern"), str):
        parts.append(f"matching {schema['pattern']}")
    return ("Value " + ", ".join(parts) + ".") if parts else ""


def items_help(schema: Mapping[str, Any]) -> str:
    parts = []
    if isinstance(schema.get("minItems"), int):
        parts.append(f"at least {schema['minItems']}")
    if isinstance(schema.get("maxItems"), int):
        parts.append(f"at most {schema['maxItems']}")
    text = ("Items: " + ", ".join(parts) + ".") if parts else ""
    if schema.get("uniqueItems") is True:
        text = f"{text} Each item different.".strip()
    return text
