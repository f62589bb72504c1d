"""The Try it form's fields, one for each parameter and multipart part, and the check
of a JSON body: what TryItForm (console/forms.py) is built from."""

from __future__ import annotations

import json
from typing import TypedDict

from django import forms
from django.utils.html import escape

from catalog import stored_values
from catalog.models import Parameter, ParameterLocation
from console.multipart_fields import DocumentedPart
from console.parameter_inputs import (
    Documented,
    ItemChoices,
    ItemInputs,
    ReferenceChoiceField,
    bounds_help,
    input_attrs,
    items_help,
)
from portal.markdown_text import markdown_plain

FIELD_PREFIX = "param-"
MAX_JSON_DEPTH = 200
BYTE_ORDER_MARK = "\ufeff"


def field_name(parameter: Parameter) -> str:
    return f"{FIELD_PREFIX}{parameter.location}-{parameter.name}"


class _FieldOptions(TypedDict):
    label: str
    required: bool
    initial: str
    help_text: str


def parameter_field(
    parameter: Parameter, *, withheld: bool, documented: Documented | None, references: bool
) -> forms.Field:
    """withheld: the default is a stored secret (catalog.stored_values), never put in
    the page; the field starts empty, and empty sends the stored value.
    documented: the parameter's schema, which types the input (console/parameter_inputs).
    references: the user may type `{{variable}}`s (an environment)."""
    schema = documented.schema if documented is not None else {}
    kind = documented.kind if documented is not None else str(parameter.type)
    constraints = items_help(schema) if kind == "array" else bounds_help(schema) if schema else ""
    # The description's words without its Markdown: the help line of a field is short text.
    said = markdown_plain(text=parameter.description)
    description = " ".join(
        filter(None, [said, constraints, stored_values.HELP if withheld else ""])
    )
    # A secret cookie's default is never put in the page (stored values cover the URL
    # and headers only).
    hidden_default = withheld or (
        parameter.location == ParameterLocation.COOKIE and parameter.secret
    )
    common: _FieldOptions = {
        "label": parameter.name,
        "required": parameter.required and not withheld,
        "initial": "" if hidden_default else parameter.default,
        # Django renders help_text as HTML; what the description says is text.
        "help_text": escape(description),
    }
    if parameter.choices:
        choices = [(value, value) for value in parameter.choices]
        if withheld:
            choices.insert(0, ("", stored_values.CHOICE_LABEL))
        elif not parameter.required:
            choices.insert(0, ("", "(none)"))
        return ReferenceChoiceField(choices=choices, **common)
    if withheld:
        attrs = {"placeholder": stored_values.PLACEHOLDER, "autocomplete": "off"}
        widget: forms.Widget = forms.PasswordInput(render_value=True, attrs=attrs)
    elif parameter.secret:
        widget = forms.PasswordInput(render_value=True)
    elif kind == "boolean":
        booleans = [("true", "true"), ("false", "false")]
        if not parameter.required:
            booleans.insert(0, ("", "(none)"))
        return ReferenceChoiceField(choices=booleans, **common)
    elif kind == "array" and documented is not None and documented.item_choices:
        options = [(value, value) for value in documented.item_choices]
        widget = ItemChoices(choices=options, attrs={"size": str(min(len(options), 6))})
    elif kind == "array" and documented is not None:
        widget = ItemInputs(
            label=parameter.name, item_attrs=input_attrs(documented.items, references=references)
        )
    else:
        widget = forms.TextInput(attrs=input_attrs(schema, references=references))
    return forms.CharField(strip=False, widget=widget, **common)


def part_field(part: DocumentedPart) -> forms.Field:
    if part.file:
        return forms.FileField(
            label=part.name,
            required=part.required,
            help_text=escape(markdown_plain(text=part.description)),
        )
    return forms.CharField(
        label=part.name,
        required=part.required,
        strip=False,
        initial=part.example,
        help_text=escape(markdown_plain(text=part.description)),
    )


def _json_depth(text: str) -> int:
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def json_body_error(text: str) -> str | None:
    """The problem with a JSON body, naming line and column, or None when it parses."""
    # RFC 8259 8.1 forbids a byte order mark in JSON sent over a network. It is refused
    # rather than removed, so that what is sent is what the form holds.
    if text.startswith(BYTE_ORDER_MARK):
        return (
            "Invalid JSON: the body starts with an invisible byte order mark (U+FEFF), "
            "which JSON does not allow; delete it."
        )
    if _json_depth(text) > MAX_JSON_DEPTH:
        return f"Invalid JSON: nested deeper than {MAX_JSON_DEPTH} levels."
    try:
        # Numbers are only checked, never converted: the body is sent as typed, and
        # int() refuses more than 4300 digits, which JSON allows.
        json.loads(text, parse_constant=_refuse_constant, parse_int=str, parse_float=str)
    except json.JSONDecodeError as error:
        # Some of json's messages end in "at" ("Unterminated string starting at"),
        # written to be followed by a position: avoid "at at line 1".
        message = error.msg.removesuffix(" at")
        return f"Invalid JSON: {message} at line {error.lineno}, column {error.colno}."
    except ValueError as error:
        return f"Invalid JSON: {error}."
    return None
