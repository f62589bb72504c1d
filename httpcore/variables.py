"""{{name}} variables: substitution and the scrubbing of secret values. Pure.

Substitution is one pass: a value is inserted as it is and never scanned again, so a
value holding "{{x}}" (from a backend's answer, say) cannot pull in another variable.
Used by collections (testing/variables.py) and environments (console/environments.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from urllib.parse import quote

from httpcore.masking import MASK

VARIABLE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}")
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*\Z")


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


def uses(text: str, names: Iterable[str]) -> bool:
    """Whether the text refers to any of the named variables."""
    wanted = set(names)
    return any(match.group(1) in wanted for match in VARIABLE.finditer(text))


def scrub(text: str, secret_texts: Iterable[str]) -> str:
    """The text with every secret value, as is or percent-encoded, replaced by MASK."""
    # Longest first, so that a secret holding another one is replaced whole.
    for secret in sorted(secret_texts, key=len, reverse=True):
        text = text.replace(secret, MASK).replace(quote(secret, safe=""), MASK)
    return text


def scrub_bytes(data: bytes, secret_texts: Iterable[str]) -> bytes:
    for secret in sorted(secret_texts, key=len, reverse=True):
        data = data.replace(secret.encode("utf-8"), MASK.encode("utf-8"))
    return data
