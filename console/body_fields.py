"""The body part of the Try it form: every media type the operation's requestBody
documents, one chosen (docs/design.md, "Body types").

Each media type gets the editor its kind calls for: a text editor (JSON checked, XML
checked well-formed with defusedxml), a field list (multipart/form-data with file inputs,
application/x-www-form-urlencoded encoded as `encoding` says) or a file input whose bytes
are the body. The names of media types and fields come from the document only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from defusedxml import (  # type: ignore[import-untyped]
    DTDForbidden,
    EntitiesForbidden,
    ExternalReferenceForbidden,
)
from defusedxml import ElementTree as SafeElementTree
from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.html import escape

from catalog.documents import followed
from catalog.models import Operation
from console.form_encoding import form_body_text, value_text
from httpcore.headers import HeaderError, validate_header

CONTENT_TYPE_FIELD = "content_type"
# The import's example for a media type's editor, kept beside it (openapi/bodies.py).
EXAMPLE_KEY = "x-portal-example"
URLENCODED_PREFIX = "field-"
FILE_FIELD = "file"
MAX_MEDIA_TYPES = 20

JSON, XML, TEXT, URLENCODED, MULTIPART, BINARY = (
    "json",
    "xml",
    "text",
    "urlencoded",
    "multipart",
    "binary",
)
_BINARY_PREFIXES = ("image/", "audio/", "video/", "font/")
_BINARY_TYPES = {
    "application/octet-stream",
    "application/pdf",
    "application/zip",
    "application/gzip",
    "application/x-tar",
    "application/msword",
    "application/vnd.ms-excel",
}
_MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*\Z")


def _base(media_type: str) -> str:
    return media_type.split(";")[0].strip().lower()


def media_kind(media_type: str, schema: Mapping[str, Any] | None = None) -> str:
    """Which editor a media type gets."""
    base = _base(media_type)
    schema = schema or {}
    if base == "multipart/form-data":
        return MULTIPART
    if base == "application/x-www-form-urlencoded":
        return URLENCODED
    if schema.get("type") == "string" and schema.get("format") == "binary":
        return BINARY
    if base in _BINARY_TYPES or base.startswith(_BINARY_PREFIXES):
        return BINARY
    if base.endswith(("/xml", "+xml")):
        return XML
    if not base:
        return TEXT  # made by hand without a content type: sent as typed, unchecked
    if base == "application/json" or "json" in base or base == "*/*":
        return JSON
    return TEXT


@dataclass(frozen=True)
class FormField:
    """One field of a urlencoded body: a top-level property of its schema."""

    name: str
    required: bool
    kind: str  # the schema's type: "object" and "array" are typed as JSON
    example: str
    description: str = ""


@dataclass(frozen=True)
class BodyMedia:
    """One documented media type of the request body, with its editor's prefill."""

    media_type: str  # the document's key, sent as Content-Type (wildcards resolved)
    kind: str
    example: str = ""
    fields: tuple[FormField, ...] = ()
    encoding: Mapping[str, Any] = field(default_factory=dict)

    @property
    def field_list(self) -> bool:
        """A urlencoded body with documented properties is a field list; one without
        (a free-form object) keeps the text editor."""
        return self.kind == URLENCODED and bool(self.fields)

    @property
    def text_editor(self) -> bool:
        return self.kind in {JSON, XML, TEXT} or (self.kind == URLENCODED and not self.fields)

    def content_type(self, upload: UploadedFile | None = None) -> str:
        """The Content-Type sent: the document's media type; a wildcard one resolved."""
        base = _base(self.media_type)
        if "*" not in base:
            try:
                validate_header("Content-Type", self.media_type)
            except HeaderError:
                return base
            return self.media_type
        if self.kind == BINARY:
            claimed = _base(getattr(upload, "content_type", "") or "")
            major = base.split("/")[0]
            if _MEDIA_TYPE.match(claimed) and major in {"*", claimed.split("/")[0]}:
                return claimed
            return "application/octet-stream"
        if self.kind == XML:
            return "application/xml"
        if self.kind == TEXT:
            return "text/plain"
        return "application/json"


def _literal_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return json.dumps(value, indent=2, ensure_ascii=False)


def _example(media: Mapping[str, Any]) -> Any:
    """The import's example (EXAMPLE_KEY), else the document's own `example`."""
    if EXAMPLE_KEY in media:
        return media[EXAMPLE_KEY]
    return media.get("example")


def _typed_text(value: Any, kind: str) -> str:
    if kind in {"object", "array"} and value is not None and not isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return value_text(value)


def _form_fields(
    schema: Mapping[str, Any], example: Any, definitions: Mapping[str, Any]
) -> tuple[FormField, ...]:
    properties = schema.get("properties")
    if not isinstance(properties, Mapping):
        return ()
    required = set(schema.get("required") or [])
    example = example if isinstance(example, Mapping) else {}
    fields = []
    for name, raw in list(properties.items())[:100]:
        prop = followed(raw, definitions)
        kind = str(prop.get("type") or ("object" if "properties" in prop else "string"))
        fields.append(
            FormField(
                name=str(name),
                required=name in required,
                kind=kind,
                example=_typed_text(example.get(name), kind) if name in example else "",
                description=str(prop.get("description") or ""),
            )
        )
    return tuple(fields)


def _media(*, operation: Operation, media_type: str, media: Mapping[str, Any]) -> BodyMedia:
    definitions = operation.api.openapi if isinstance(operation.api.openapi, Mapping) else {}
    schema = followed(media.get("schema"), definitions)
    kind = media_kind(media_type, schema)
    encoding = media.get("encoding")
    encoding = dict(encoding) if isinstance(encoding, Mapping) else {}
    if kind in {MULTIPART, BINARY}:
        return BodyMedia(media_type=media_type, kind=kind, encoding=encoding)
    value = _example(media)
    if kind == URLENCODED:
        return BodyMedia(
            media_type=media_type,
            kind=kind,
            example=form_body_text(dict(value), encoding=encoding)
            if isinstance(value, Mapping)
            else _literal_text(value),
            fields=_form_fields(schema, value, definitions),
            encoding=encoding,
        )
    return BodyMedia(media_type=media_type, kind=kind, example=_literal_text(value))


def documented_media(*, operation: Operation) -> list[BodyMedia]:
    """The body's media types in the document's order; for an operation made by hand
    (no documented requestBody), its one content type and example."""
    definitions = operation.api.openapi if isinstance(operation.api.openapi, Mapping) else {}
    documented = operation.openapi if isinstance(operation.openapi, Mapping) else {}
    content = followed(documented.get("requestBody"), definitions).get("content")
    fallback = BodyMedia(
        media_type=operation.request_content_type,
        kind=media_kind(operation.request_content_type),
        example=operation.body_example,
    )
    if not isinstance(content, Mapping) or not content:
        return [fallback]
    found = []
    for media_type, media in list(content.items())[:MAX_MEDIA_TYPES]:
        if not isinstance(media, Mapping):
            continue
        one = _media(operation=operation, media_type=str(media_type), media=media)
        if (
            _base(one.media_type) == _base(operation.request_content_type)
            and one.text_editor
            and operation.body_example
        ):
            # The import's example, which an admin may have edited since.
            one = BodyMedia(
                media_type=one.media_type,
                kind=one.kind,
                example=operation.body_example,
                fields=one.fields,
                encoding=one.encoding,
            )
        found.append(one)
    return found or [fallback]


def default_media(media: list[BodyMedia]) -> BodyMedia:
    """The first JSON media type, else the first (Swagger UI's and Scalar's choice)."""
    return next((m for m in media if m.kind == JSON), media[0])


@dataclass(frozen=True)
class BodyChoice:
    media: list[BodyMedia]
    chosen: BodyMedia
    required: bool = False  # requestBody.required
    error: str = ""  # a content type asked for that the document does not give

    @property
    def shown(self) -> bool:
        """Whether the form shows a Content type select."""
        return len(self.media) > 1

    @property
    def takes_files(self) -> bool:
        return any(m.kind in {MULTIPART, BINARY} for m in self.media)


def choose_media(*, operation: Operation, requested: str | None) -> BodyChoice:
    """The media type asked for (a select's value, a saved call's), else the default.
    Asked for and not documented: the default, with the error the form shows."""
    media = documented_media(operation=operation)
    default = default_media(media)
    definitions = operation.api.openapi if isinstance(operation.api.openapi, Mapping) else {}
    documented = operation.openapi if isinstance(operation.openapi, Mapping) else {}
    required = followed(documented.get("requestBody"), definitions).get("required") is True
    if requested is None or requested == "":
        return BodyChoice(media=media, chosen=default, required=required)
    chosen = next((m for m in media if m.media_type == requested), None)
    if chosen is None:
        names = ", ".join(m.media_type for m in media)
        shown = requested[:100].encode("unicode_escape").decode("ascii")
        return BodyChoice(
            media=media,
            chosen=default,
            required=required,
            error=f"The content type {shown} is not one this operation documents ({names}).",
        )
    return BodyChoice(media=media, chosen=chosen, required=required)


def sent_content_type(*, operation: Operation, media_type: str | None) -> str:
    """The Content-Type a saved request's text body is sent with: its media type's, ""
    (the operation's own) when it names none, or one the document no longer gives."""
    if not media_type:
        return ""
    choice = choose_media(operation=operation, requested=media_type)
    return "" if choice.error else choice.chosen.content_type()


def holds_files(*, operation: Operation, media_type: str | None) -> bool:
    """Whether a saved request's body was files (multipart, a file body): a replay
    sends its kept files (console/kept_files.py), never their description."""
    if not media_type:
        return media_kind(operation.request_content_type) in {MULTIPART, BINARY}
    choice = choose_media(operation=operation, requested=media_type)
    return not choice.error and choice.chosen.kind in {MULTIPART, BINARY}


def xml_body_error(text: str) -> str | None:
    """The problem with an XML body, naming line and column, or None when it is
    well-formed. defusedxml refuses entity declarations and external references."""
    try:
        SafeElementTree.fromstring(text)
    except SafeElementTree.ParseError as error:
        line, column = getattr(error, "position", (0, 0))
        message = str(error).split(":")[0]
        return f"Invalid XML: {message} at line {line}, column {column + 1}."
    except DTDForbidden:
        return "Invalid XML: a document type declaration is not allowed."
    except EntitiesForbidden:
        return "Invalid XML: entity declarations (<!ENTITY>) are not allowed."
    except ExternalReferenceForbidden:
        return "Invalid XML: external references are not allowed."
    return None


def urlencoded_field(form_field: FormField) -> forms.Field:
    hint = {
        "object": "A JSON object.",
        "array": "Items one a line, comma-separated, or a JSON array.",
    }.get(form_field.kind, "")
    widget: forms.Widget = (
        forms.Textarea(attrs={"rows": 2, "spellcheck": "false"})
        if form_field.kind in {"object", "array"}
        else forms.TextInput()
    )
    return forms.CharField(
        label=form_field.name,
        required=form_field.required,
        strip=False,
        initial=form_field.example,
        widget=widget,
        help_text=escape(" ".join(filter(None, [form_field.description, hint]))),
    )


def urlencoded_prefill(*, media: BodyMedia, body: str) -> dict[str, str]:
    """A field list's values from a body sent earlier (Try again): the fields sent as
    plain name=value pairs; one sent with brackets (deepObject) keeps its example."""
    pairs = parse_qsl(body, keep_blank_values=True)
    prefill = {}
    for form_field in media.fields:
        found = [value for key, value in pairs if key == form_field.name]
        nested = any(key.startswith(form_field.name + "[") for key, _ in pairs)
        if nested:
            continue
        text = "\n".join(found) if form_field.kind == "array" else next(iter(found), "")
        prefill[URLENCODED_PREFIX + form_field.name] = text
    return prefill


def _typed_value(text: str, kind: str) -> Any:
    """A urlencoded field as typed: JSON for an object; a JSON array, else items
    one a line or comma-separated, for an array."""
    if kind == "object":
        return json.loads(text)
    if kind == "array":
        stripped = text.strip()
        if stripped.startswith("["):
            return json.loads(stripped)
        separator = "\n" if "\n" in stripped else ","
        return [item.strip() for item in stripped.split(separator) if item.strip()]
    return text


def urlencoded_body(
    *, media: BodyMedia, typed: Mapping[str, str]
) -> tuple[str | None, dict[str, str]]:
    """The encoded body of a urlencoded field list, and the fields' errors by name.
    A field left empty is not sent."""
    value: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for form_field in media.fields:
        text = typed.get(form_field.name, "")
        if text == "":
            continue
        try:
            value[form_field.name] = _typed_value(text, form_field.kind)
        except ValueError:
            errors[form_field.name] = f"Enter a JSON {form_field.kind}."
            continue
        if form_field.kind == "object" and not isinstance(value[form_field.name], dict):
            errors[form_field.name] = "Enter a JSON object."
        elif form_field.kind == "array" and not isinstance(value[form_field.name], list):
            errors[form_field.name] = "Enter a JSON array."
    if errors:
        return None, errors
    return form_body_text(value, encoding=dict(media.encoding), safe=""), {}


__all__ = [
    "BodyChoice",
    "BodyMedia",
    "FormField",
    "choose_media",
    "default_media",
    "documented_media",
    "media_kind",
    "urlencoded_body",
    "xml_body_error",
]
