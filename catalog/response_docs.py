"""The documented responses of an operation as its page lists them.

In status order: each class's codes (200, 201), then its range if documented (2XX),
and `default` last. Codes are the operation's ResponseDoc rows; ranges and `default`
have no status code to store and are read from the imported document
(`Operation.openapi["responses"]`), where a bare `default: {description: Response}`,
what exporters add to satisfy OpenAPI, is left out as the import leaves it out.

A response is headed by its code and reason phrase ("200 OK"); its description follows
as Markdown unless it only says the status again ("200", "200 response", "OK"), as
generated documents do.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from catalog import snapshot
from catalog.models import Operation

RANGE = re.compile(r"[1-5]XX", re.IGNORECASE)
RANGE_PHRASES = {
    "1": "Informational",
    "2": "Success",
    "3": "Redirection",
    "4": "Client error",
    "5": "Server error",
}
DEFAULT = "default"
DEFAULT_PHRASE = "Any other status"
# What exporters write for a response they know nothing about.
PLACEHOLDERS = {"", "response", "default", "default response"}


@dataclass(frozen=True)
class ShownResponse:
    code: str  # "200", "4XX" or "default"
    phrase: str  # "OK", "Client error", "Any other status"; "" for an unknown code
    description: str  # Markdown, "" when it only repeats the status
    example: str
    status_class: str  # "2xx" ... "5xx", "" for default


def reason_phrase(code: str) -> str:
    if code == DEFAULT:
        return DEFAULT_PHRASE
    if RANGE.fullmatch(code):
        return RANGE_PHRASES[code[0]]
    try:
        return HTTPStatus(int(code)).phrase
    except ValueError:
        return ""


def shown_description(*, code: str, phrase: str, description: str) -> str:
    """The description without a first paragraph that says nothing but the status ("" when
    that is all it says): the import appends the response's links after it."""
    first, _, rest = description.strip().partition("\n\n")
    said = " ".join(first.split()).lower()
    repeats = {code.lower(), f"{code} response".lower(), phrase.lower(), f"{code} {phrase}".lower()}
    return rest.strip() if said in PLACEHOLDERS | repeats else description.strip()


def _order(code: str) -> tuple[int, int, str]:
    if code == DEFAULT:
        return (10, 0, code)
    return (int(code[0]), 1 if RANGE.fullmatch(code) else 0, code.upper())


def _example(response: Mapping[str, Any]) -> str:
    content = response.get("content")
    if not isinstance(content, Mapping):
        return ""
    for media in content.values():
        if isinstance(media, Mapping) and "example" in media:
            value = media["example"]
            return value if isinstance(value, str) else json.dumps(value, indent=2)
    return ""


def _shown(*, code: str, description: str, example: str) -> ShownResponse:
    phrase = reason_phrase(code)
    return ShownResponse(
        code=code,
        phrase=phrase,
        description=shown_description(code=code, phrase=phrase, description=description),
        example=example,
        status_class="" if code == DEFAULT else f"{code[0]}xx",
    )


def kept_responses(*, operation: Operation) -> tuple[ShownResponse, ...]:
    """shown_responses, kept by the process until the configuration changes
    (catalog/snapshot.py): the operation page lists them on every visit, and only it
    reads them (a Try it call or a code sample does not)."""
    return snapshot.kept(
        ("responses", operation.pk), lambda: tuple(shown_responses(operation=operation))
    )


def shown_responses(*, operation: Operation) -> list[ShownResponse]:
    shown = [
        # A code outside 100-599 (0, registered by hand) is the default, as the export has it.
        _shown(
            code=str(doc.status_code) if 100 <= doc.status_code <= 599 else DEFAULT,
            description=doc.description,
            example=doc.example,
        )
        for doc in operation.responses.all()
    ]
    kept = operation.openapi if isinstance(operation.openapi, Mapping) else {}
    documented = kept.get("responses")
    if isinstance(documented, Mapping):
        for key, response in documented.items():
            code = str(key).strip()
            if not isinstance(response, Mapping) or not (code == DEFAULT or RANGE.fullmatch(code)):
                continue
            description = str(response.get("description") or "")
            bare = not response.get("content")
            if bare and " ".join(description.split()).lower() in PLACEHOLDERS:
                continue
            shown.append(
                _shown(
                    code=code.upper() if code != DEFAULT else code,
                    description=description,
                    example=_example(response),
                )
            )
    return sorted(shown, key=lambda response: _order(response.code))
