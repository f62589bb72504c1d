"""The Try it form, built from an operation's parameters."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TypedDict, cast

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.http import QueryDict
from django.utils.html import escape

from catalog import stored_values
from catalog.models import Operation, Parameter, ParameterLocation, ParameterType
from catalog.stored_values import StoredValues, shown_value, stored_values_of
from console import body_fields
from console.body_fields import CONTENT_TYPE_FIELD, FILE_FIELD, URLENCODED_PREFIX
from console.multipart_fields import PART_PREFIX, DocumentedPart, documented_parts
from console.parameter_inputs import (
    INTEGER,
    NUMBER,
    Documented,
    ItemChoices,
    ItemInputs,
    ReferenceChoiceField,
    array_errors,
    bounds_help,
    cookie_errors,
    documented_of,
    documented_parameters,
    input_attrs,
    items_help,
    value_errors,
)
from httpcore.headers import HeaderError, validate_headers
from httpcore.masking import holds_no_credential, is_secret
from httpcore.multipart import Part, encode_multipart, safe_filename
from httpcore.templating import BindError
from portal.markdown_text import markdown_plain

FIELD_PREFIX = "param-"
MAX_JSON_DEPTH = 200
BYTE_ORDER_MARK = "\ufeff"


@dataclass
class TryItValues:
    """What the form hands to the pipeline: plain strings, not yet encoded."""

    template_values: dict[str, str] = field(default_factory=dict)
    query_values: list[tuple[str, str]] = field(default_factory=list)
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: str | None = None
    # Documented cookie parameters, as typed: one Cookie header (httpcore/cookies.py).
    cookies: list[tuple[str, str]] = field(default_factory=list)
    # A body the form encoded itself (multipart/form-data), sent as is with its own
    # Content-Type; `body` then describes it for the history.
    raw_body: bytes | None = None
    content_type: str = ""
    # The documented media type chosen in the form (its Content type select), which the
    # history keeps for Try again; content_type is the header sent (with a boundary).
    media_type: str = ""
    # For code samples: a multipart body's parts as (name, text or file name, is a
    # file), and the name of a file sent as the whole body.
    form_parts: list[tuple[str, str, bool]] = field(default_factory=list)
    body_file: str = ""
    # The fields sent with a stored secret value (catalog.stored_values), by section
    # ("template", "query", "headers"): never shown, not even in revealed code samples.
    stored: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class HeaderRow:
    name: str
    value: str
    secret: bool = False
    fixed: bool = False  # a documented header parameter: its name is not edited
    stored: bool = False  # left empty, the parameter's stored value is sent

    @property
    def placeholder(self) -> str:
        return stored_values.PLACEHOLDER if self.stored else "Value"

    @property
    def help(self) -> str:
        return stored_values.HELP if self.stored else ""


def field_name(parameter: Parameter) -> str:
    return f"{FIELD_PREFIX}{parameter.location}-{parameter.name}"


class _FieldOptions(TypedDict):
    label: str
    required: bool
    initial: str
    help_text: str


def _parameter_field(
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


def _part_field(part: DocumentedPart) -> forms.Field:
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


class TryItForm(forms.Form):
    def __init__(
        self,
        *args,
        operation: Operation,
        prefill: dict | None = None,
        key_header: str = "",
        supplied: frozenset[str] = frozenset(),
        references: bool = False,
        content_type: str | None = None,
        for_samples: bool = False,
        **kwargs,
    ) -> None:
        """prefill: values of an earlier call ({"template", "query", "headers", "cookies",
        "body"}).
        key_header: for an API behind the gateway, the subscription key header, which
        gets a masked row of its own (gateway.tryit_access).
        supplied: lower-cased names the Authorize dialog's credentials fill in
        (console/authorization.py): never required here.
        references: the user has environments, so a field may hold `{{name}}`: number
        and date inputs are then text inputs (console/parameter_inputs.py).
        content_type: the media type to show the body editor of (the page's
        ?content_type=); a bound form takes the posted one.
        for_samples: the code samples' form, posted without files: a file left out is
        written as a placeholder, never refused."""
        super().__init__(*args, **kwargs)
        # A `{{name}}` kept from an earlier call must come back as it was typed.
        references = references or (prefill is not None and "{{" in json.dumps(prefill))
        self.supplied = supplied
        self.operation = operation
        self.prefill = prefill
        self.key_header = key_header
        parameters = list(operation.parameters.all())
        self.url_parameters = [
            p
            for p in parameters
            if p.location in (ParameterLocation.TEMPLATE, ParameterLocation.QUERY)
        ]
        self.header_parameters = [p for p in parameters if p.location == ParameterLocation.HEADER]
        self.cookie_parameters = [p for p in parameters if p.location == ParameterLocation.COOKIE]
        self.stored: StoredValues = stored_values_of(operation=operation)
        self.documented = documented_parameters(operation)
        for parameter in [*self.url_parameters, *self.cookie_parameters]:
            self.fields[field_name(parameter)] = _parameter_field(
                parameter,
                withheld=self._stored_value(parameter) is not None,
                documented=documented_of(parameter, self.documented),
                references=references,
            )
            if parameter.name.lower() in supplied:
                self.fields[field_name(parameter)].required = False
        self.for_samples = for_samples
        self.body_choice = self._choose_body(content_type)
        self._add_body_fields()
        self.urlencoded_text: str | None = None
        self.header_errors: list[str] = []
        self.cleaned_headers: list[tuple[str, str]] = []
        self.stored_headers: list[str] = []  # header rows sent with their stored value
        if prefill is not None:
            self._apply_prefill(prefill)

    def _choose_body(self, content_type: str | None) -> body_fields.BodyChoice | None:
        if not self.operation.takes_body:
            return None
        if self.is_bound:
            requested = cast(QueryDict, self.data).get(CONTENT_TYPE_FIELD)
        else:
            requested = content_type or (self.prefill or {}).get("content_type")
        choice = body_fields.choose_media(operation=self.operation, requested=requested)
        if not self.is_bound and choice.error:
            # A link or an earlier call naming a type the document no longer gives.
            choice = body_fields.choose_media(operation=self.operation, requested=None)
        return choice

    def _add_body_fields(self) -> None:
        chosen = self.body_choice.chosen if self.body_choice else None
        self.parts = (
            documented_parts(self.operation, chosen.media_type)
            if chosen is not None and chosen.kind == body_fields.MULTIPART
            else None
        )
        if chosen is None:
            return
        if self.parts is not None:
            for part in self.parts:
                self.fields[PART_PREFIX + part.name] = _part_field(part)
                if part.file and self.for_samples:
                    self.fields[PART_PREFIX + part.name].required = False
        elif chosen.field_list:
            for form_field in chosen.fields:
                self.fields[URLENCODED_PREFIX + form_field.name] = body_fields.urlencoded_field(
                    form_field
                )
        elif chosen.kind == body_fields.BINARY:
            self.fields[FILE_FIELD] = forms.FileField(
                label=f"File ({chosen.media_type})",
                required=bool(self.body_choice and self.body_choice.required)
                and not self.for_samples,
                help_text="Its bytes are sent as the body.",
            )
        else:
            self.fields["body"] = forms.CharField(
                label=f"Body ({chosen.media_type or 'text'})",
                required=False,
                strip=False,
                initial=chosen.example,
                widget=forms.Textarea(attrs={"rows": 10, "spellcheck": "false"}),
            )

    def _stored_value(self, parameter: Parameter) -> str | None:
        if parameter.location == ParameterLocation.COOKIE:
            return None
        return self.stored.url_value(location=parameter.location, name=parameter.name)

    def _apply_prefill(self, prefill: dict) -> None:
        query = dict(prefill.get("query", []))
        for parameter in self.url_parameters:
            source = (
                prefill.get("template", {})
                if parameter.location == ParameterLocation.TEMPLATE
                else query
            )
            if parameter.name in source:
                value = shown_value(
                    value=source[parameter.name], stored=self._stored_value(parameter)
                )
                self.initial[field_name(parameter)] = value
        cookies = dict(prefill.get("cookies") or [])
        for parameter in self.cookie_parameters:
            if parameter.name in cookies:
                self.initial[field_name(parameter)] = cookies[parameter.name]
        if "body" in self.fields and prefill.get("body") is not None:
            self.initial["body"] = prefill["body"]
        chosen = self.body_choice.chosen if self.body_choice else None
        if chosen is not None and chosen.field_list and prefill.get("body") is not None:
            self.initial.update(body_fields.urlencoded_prefill(media=chosen, body=prefill["body"]))

    # Header rows are a repeated pair of inputs rather than form fields, so that
    # a user can add any number of them.
    def header_rows(self) -> list[HeaderRow]:
        secret_names = {p.name.lower() for p in self.header_parameters if p.secret}
        fixed_names = {p.name.lower() for p in self.header_parameters}
        if self.key_header:
            secret_names.add(self.key_header.lower())
            fixed_names.add(self.key_header.lower())
        secret_names |= set(self.stored.headers)

        def row(name: str, value: str) -> HeaderRow:
            stored = self.stored.header(name)
            return HeaderRow(
                name=name,
                # Never a stored value, whatever the rows came from.
                value=shown_value(value=value, stored=stored),
                secret=is_secret(name, value, secret_names=secret_names),
                fixed=name.lower() in fixed_names,
                stored=stored is not None,
            )

        if self.is_bound:
            names = cast(QueryDict, self.data).getlist("header_name")
            values = cast(QueryDict, self.data).getlist("header_value")
            rows = [
                row(name, value)
                for name, value in zip(names, values, strict=False)
                if name.strip() or value.strip()
            ]
        elif self.prefill is not None:
            rows = [row(name, value) for name, value in self.prefill.get("headers", [])]
        else:
            rows = [row(p.name, p.default) for p in self.header_parameters]
        if self.key_header and not any(r.name.lower() == self.key_header.lower() for r in rows):
            # First, under the subscription select that fills it.
            rows.insert(0, HeaderRow(name=self.key_header, value="", secret=True, fixed=True))
        return [*rows, HeaderRow(name="", value="")]

    def _clean_typed(self, parameter: Parameter, value: str) -> None:
        name = field_name(parameter)
        if value == "" or parameter.choices:
            return
        documented = documented_of(parameter, self.documented)
        is_array = documented is not None and documented.kind == "array"
        # An object's text is JSON: its values are checked as the Cookie header is built.
        is_object = documented is not None and documented.kind == "object"
        if parameter.location == ParameterLocation.COOKIE and not is_object:
            for error in cookie_errors(value, items=is_array):
                self.add_error(name, error)
        if documented is not None:
            errors = array_errors(documented, value) if is_array else []
            if not is_array and documented.kind != "object":
                errors = value_errors(documented.schema, value)
            for error in errors:
                self.add_error(name, error)
            return
        if "{{" in value:
            return  # an environment reference, substituted later
        if parameter.type == ParameterType.INTEGER and not INTEGER.match(value):
            self.add_error(name, "Enter a whole number.")
        elif parameter.type == ParameterType.NUMBER and not NUMBER.match(value):
            self.add_error(name, "Enter a number.")
        elif parameter.type == ParameterType.BOOLEAN and value not in {"true", "false"}:
            self.add_error(name, "Enter true or false.")

    def clean_body(self) -> str:
        body = self.cleaned_data.get("body", "")
        limit = settings.PORTAL_OUTBOUND_MAX_REQUEST_BODY_BYTES
        # Every character is at least one byte: a body longer than the limit in
        # characters is refused without encoding (copying) megabytes first.
        if len(body) > limit or len(body.encode("utf-8", "surrogatepass")) > limit:
            raise forms.ValidationError(f"The body is larger than the limit of {limit} bytes.")
        kind = self.body_choice.chosen.kind if self.body_choice else ""
        if body.strip() and kind == body_fields.JSON:
            error = json_body_error(body)
            if error:
                raise forms.ValidationError(error)
        if body.strip() and kind == body_fields.XML:
            error = body_fields.xml_body_error(body)
            if error:
                raise forms.ValidationError(error)
        return body

    def body_editor_fields(self) -> list[forms.BoundField]:
        """The chosen media type's editor: its field list, file input or text."""
        prefixes = (PART_PREFIX, URLENCODED_PREFIX)
        return [
            self[name]
            for name in self.fields
            if name.startswith(prefixes) or name in {FILE_FIELD, "body"}
        ]

    @property
    def takes_files(self) -> bool:
        return self.body_choice is not None and self.body_choice.takes_files

    def _clean_chosen_body(self) -> None:
        choice = self.body_choice
        if choice is None:
            return
        if choice.error:
            self.add_error(None, choice.error)
            return
        limit = settings.PORTAL_OUTBOUND_MAX_REQUEST_BODY_BYTES
        upload = self.cleaned_data.get(FILE_FIELD)
        if isinstance(upload, UploadedFile) and (upload.size or 0) > limit:
            self.add_error(FILE_FIELD, f"The file is larger than the limit of {limit} bytes.")
        if choice.chosen.field_list:
            typed = {
                f.name: str(self.cleaned_data.get(URLENCODED_PREFIX + f.name) or "")
                for f in choice.chosen.fields
            }
            text, errors = body_fields.urlencoded_body(media=choice.chosen, typed=typed)
            for name, message in errors.items():
                self.add_error(URLENCODED_PREFIX + name, message)
            if text is not None and len(text.encode("utf-8", "surrogatepass")) > limit:
                self.add_error(None, f"The body is larger than the limit of {limit} bytes.")
            self.urlencoded_text = text

    def parameter_fields(self) -> list[forms.BoundField]:
        return [self[field_name(p)] for p in self.url_parameters]

    def cookie_fields(self) -> list[forms.BoundField]:
        return [self[field_name(p)] for p in self.cookie_parameters]

    def part_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name.startswith(PART_PREFIX)]

    def _clean_parts(self) -> None:
        limit = settings.PORTAL_OUTBOUND_MAX_REQUEST_BODY_BYTES
        total = 0
        for part in self.parts or []:
            value = self.cleaned_data.get(PART_PREFIX + part.name)
            if isinstance(value, UploadedFile):
                total += value.size or 0
            else:
                total += len(str(value or "").encode("utf-8", "surrogatepass"))
        if total > limit:
            self.add_error(
                None, f"The form's files and fields are larger than the limit of {limit} bytes."
            )

    def clean(self) -> dict:
        super().clean()
        cleaned = self.cleaned_data
        if self.parts:
            self._clean_parts()
        self._clean_chosen_body()
        for parameter in [*self.url_parameters, *self.cookie_parameters]:
            value = cleaned.get(field_name(parameter))
            if isinstance(value, str):
                self._clean_typed(parameter, value)
        self._clean_headers()
        if self.header_errors:
            raise forms.ValidationError("Check the headers.", code="headers")
        return cleaned

    def _clean_headers(self) -> None:
        names = cast(QueryDict, self.data).getlist("header_name")
        values = cast(QueryDict, self.data).getlist("header_value")
        if len(names) != len(values):
            # Rows cannot be paired safely; the form is refused, never sent without them.
            self.header_errors.append("Every header row needs a name and a value field.")
            return
        rows = []
        for name, value in zip(names, values, strict=True):
            stored = self.stored.header(name)
            if stored is not None and value.strip(" \t") == "":
                if holds_no_credential(stored):
                    # The stored "value" is only the scheme word an import starts a
                    # credential with ("Bearer "): nothing to send.
                    continue
                # Left as the form shows it: the stored value goes, read here on the server.
                self.stored_headers.append(name.strip())
                value = stored
            elif holds_no_credential(value):
                # Swagger UI's rule: a header left empty is not sent. A bare "Authorization:"
                # (or "Bearer " with no token) is an invalid credential, where no header
                # at all is what an optional security requirement accepts.
                continue
            rows.append((name, value))
        missing = [
            p.name
            for p in self.header_parameters
            if p.required
            and p.name.lower() not in self.supplied
            and not any(n.strip().lower() == p.name.lower() and v.strip(" \t") for n, v in rows)
        ]
        for name in missing:
            self.header_errors.append(f"The header {name} is required.")
        try:
            self.cleaned_headers = validate_headers(rows)
        except HeaderError as error:
            self.header_errors.append(error.message)

    def add_bind_error(self, error: BindError) -> None:
        """Put an error found while building the request on the field it came from."""
        if error.field == "headers":
            self.header_errors.append(error.message)
            self.add_error(None, "Check the headers.")
            return
        if error.field == "body" and "body" in self.fields:
            self.add_error("body", error.message)
            return
        for parameter in [*self.url_parameters, *self.cookie_parameters]:
            if parameter.name == error.field:
                self.add_error(field_name(parameter), error.message)
                return
        self.add_error(None, f"{error.field}: {error.message}")

    def values(self) -> TryItValues:
        """The cleaned values, split by where they go in the request."""
        data = self.cleaned_data
        result = TryItValues(headers=list(self.cleaned_headers))
        stored: dict[str, list[str]] = {}
        if self.stored_headers:
            stored[stored_values.HEADERS] = list(self.stored_headers)
        for parameter in self.url_parameters:
            value = data.get(field_name(parameter), "")
            stored_value = self._stored_value(parameter)
            if value == "" and stored_value is not None:
                value = stored_value
                section = (
                    stored_values.TEMPLATE
                    if parameter.location == ParameterLocation.TEMPLATE
                    else stored_values.QUERY
                )
                stored.setdefault(section, []).append(parameter.name)
            if parameter.location == ParameterLocation.TEMPLATE:
                result.template_values[parameter.name] = value
            else:
                result.query_values.append((parameter.name, value))
        result.stored = stored
        result.cookies = [(p.name, data.get(field_name(p), "")) for p in self.cookie_parameters]
        chosen = self.body_choice.chosen if self.body_choice else None
        result.media_type = chosen.media_type if chosen is not None else ""
        if self.parts is not None:
            parts, described = [], []
            for part in self.parts:
                value = data.get(PART_PREFIX + part.name)
                if part.file and self.for_samples and not isinstance(value, UploadedFile):
                    # The samples' form has no files: a placeholder a reader replaces.
                    name = f"{part.name}.bin"
                    parts.append(Part(part.name, b"<file contents>", filename=name))
                    described.append(f"{part.name}: file {name}")
                    result.form_parts.append((part.name, name, True))
                    continue
                if value is None or value == "":
                    continue  # an optional field left empty is not sent
                if isinstance(value, UploadedFile):
                    filename = safe_filename(value.name or "")
                    content = value.read()
                    parts.append(
                        Part(part.name, content, filename=filename, content_type=part.content_type)
                    )
                    described.append(f"{part.name}: file {filename} ({len(content)} bytes)")
                    result.form_parts.append((part.name, filename, True))
                else:
                    text = str(value)
                    parts.append(
                        Part(part.name, text.encode("utf-8"), content_type=part.content_type)
                    )
                    described.append(f"{part.name}: {text}")
                    result.form_parts.append((part.name, text, False))
            result.raw_body, result.content_type = encode_multipart(parts)
            result.body = "\n".join(described)
        elif chosen is not None and chosen.field_list:
            result.body = self.urlencoded_text or None
            result.content_type = chosen.content_type()
        elif chosen is not None and chosen.kind == body_fields.BINARY:
            upload = data.get(FILE_FIELD)
            result.content_type = chosen.content_type(upload)
            if isinstance(upload, UploadedFile):
                filename = safe_filename(upload.name or "")
                result.raw_body = upload.read()
                result.body = f"file {filename} ({len(result.raw_body)} bytes)"
                result.body_file = filename
            elif self.for_samples:
                result.raw_body = b"<file contents>"
                result.body_file = "file.bin"
        elif self.operation.takes_body:
            body = data.get("body", "")
            result.body = body if body.strip() else None
            result.content_type = chosen.content_type() if chosen is not None else ""
        return result
