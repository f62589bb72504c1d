"""{{name}} variables in saved requests. Pure.

Substitution is one pass: a value is inserted as it is and never scanned again, so a
value holding "{{x}}" (from a backend's answer, say) cannot pull in another variable.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

VARIABLE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}")
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*\Z")
_SCHEME_WORD = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,19}\Z")


def refers_only(value: str) -> bool:
    """True when a value is variable references, perhaps after a scheme word
    ("Bearer {{api_key}}"): it names where a secret comes from and holds none."""
    if not VARIABLE.search(value):
        return False
    rest = VARIABLE.sub(" ", value).split()
    return not rest or (len(rest) == 1 and bool(_SCHEME_WORD.match(rest[0])))


class UndefinedVariable(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(f"Variable {{{{{name}}}}} is not defined.")
        self.name = name


def substitute(text: str, variables: Mapping[str, str]) -> str:
    """The text with every {{name}} replaced; raises UndefinedVariable for an unknown name."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in variables:
            raise UndefinedVariable(name)
        return variables[name]

    return VARIABLE.sub(replace, text)


def substitute_values(values: dict, variables: Mapping[str, str]) -> dict:
    """SavedRequest.values with variables substituted in every field.

    Template and query parameter names are the operation's and stay as they are;
    header names are the tester's and may use variables too.
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
        "body": substitute(body, variables) if isinstance(body, str) else None,
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
    body = values.get("body")
    if isinstance(body, str):
        yield body
