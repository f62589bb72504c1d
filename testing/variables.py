"""{{name}} variables in saved requests. Pure.

The substitution itself is httpcore.variables', shared with the console's environments.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from httpcore.variables import NAME, VARIABLE, UndefinedVariable, substitute

__all__ = ["NAME", "VARIABLE", "UndefinedVariable", "names_used", "refers_only", "substitute"]

_SCHEME_WORD = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,19}\Z")


def refers_only(value: str) -> bool:
    """True when a value is variable references, perhaps after a scheme word
    ("Bearer {{api_key}}"): it names where a secret comes from and holds none."""
    if not VARIABLE.search(value):
        return False
    rest = VARIABLE.sub(" ", value).split()
    return not rest or (len(rest) == 1 and bool(_SCHEME_WORD.match(rest[0])))


def substitute_values(values: dict, variables: Mapping[str, str]) -> dict:
    """SavedRequest.values with variables substituted in every field.

    Template, query and cookie parameter names are the operation's and stay as they
    are; header names are the tester's and may use variables too.
    """
    body = values.get("body")
    return {
        "template": {
            name: substitute(value, variables)
            for name, value in (values.get("template") or {}).items()
        },
        "query": [[key, substitute(value, variables)] for key, value in values.get("query") or []],
        "headers": [
            [substitute(name, variables), substitute(value, variables)]
            for name, value in values.get("headers") or []
        ],
        "cookies": [
            [name, substitute(value, variables)] for name, value in values.get("cookies") or []
        ],
        "body": substitute(body, variables) if isinstance(body, str) else None,
        # A media type from the document: not a place for variables.
        "content_type": str(values.get("content_type") or ""),
        # A multipart body's text parts, sent beside its kept files.
        **(
            {"parts": [[name, substitute(text, variables)] for name, text in values["parts"]]}
            if values.get("parts")
            else {}
        ),
    }


def names_used(values: dict) -> set[str]:
    """Every variable name the values refer to.

    Give it decrypted values (preparation.saved_values): an encrypted header value hides
    the names inside it.
    """
    return {match.group(1) for text in _texts(values) for match in VARIABLE.finditer(text)}


def _texts(values: dict) -> Iterator[str]:
    yield from (values.get("template") or {}).values()
    for _key, value in values.get("query") or []:
        yield value
    for pair in values.get("headers") or []:
        yield from pair
    for _name, value in values.get("cookies") or []:
        yield value
    body = values.get("body")
    if isinstance(body, str):
        yield body
