"""An uploaded OpenAPI document's text (JSON or YAML, bytes or str) as plain Python values."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings

from openapi.plans import OpenApiError
from openapi.yaml12 import MAX_NESTING, load_yaml

MAX_DOCUMENT_BYTES = 50 * 1024 * 1024


def max_document_bytes() -> int:
    """The largest document accepted: settings.PORTAL_OPENAPI_MAX_BYTES, else 50 MB."""
    return getattr(settings, "PORTAL_OPENAPI_MAX_BYTES", MAX_DOCUMENT_BYTES)


def load_document(*, text: str | bytes) -> dict:
    """Parse a JSON or YAML document into plain dicts, lists and scalars.

    YAML follows the 1.2 core schema (`yes` and `2024-01-01` stay strings; mapping keys
    are always strings, so `200:` is "200"); aliases are allowed within limits, custom
    tags and several documents in one stream are not. Raises OpenApiError.
    """
    limit = max_document_bytes()
    if len(text) > limit:
        raise OpenApiError(
            [f"/: the document is larger than the limit of {limit // (1024 * 1024)} MB."]
        )
    if isinstance(text, bytes):
        try:
            if text.startswith((b"\xff\xfe", b"\xfe\xff")):
                text = text.decode("utf-16")
            else:
                text = text.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise OpenApiError(
                [f"/: the document is not UTF-8 text (byte {error.start + 1})."]
            ) from None
    text = text.removeprefix("\ufeff")
    stripped = text.lstrip()
    if not stripped:
        raise OpenApiError(["/: the document is empty."])
    document: Any
    if stripped[0] in "{[":
        try:
            document = json.loads(text)
        except RecursionError:
            raise OpenApiError([f"/: the document nests more than {MAX_NESTING} levels."]) from None
        except ValueError as json_error:
            # JSON is (nearly) YAML: a document in YAML flow style still loads.
            try:
                document = load_yaml(text)
            except OpenApiError:
                if not isinstance(json_error, json.JSONDecodeError):  # e.g. too many digits
                    raise OpenApiError(
                        [f"/: the document is not valid JSON: {json_error}."]
                    ) from None
                raise OpenApiError(
                    [
                        f"/: the document is not valid JSON: {json_error.msg} at line "
                        f"{json_error.lineno}, column {json_error.colno}."
                    ]
                ) from None
    else:
        document = load_yaml(text)
    if not isinstance(document, dict):
        raise OpenApiError(["/: the document must be an object (a mapping), not a list or value."])
    return document
