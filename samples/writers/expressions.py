"""What every writer builds its code from: expressions joining literals and environment
variables, a body written one literal a line, the comment naming the secrets' variables."""

from __future__ import annotations

import re
from collections.abc import Callable

from samples.request import Part, SampleRequest, Secret, Text


def lines_of(text: str) -> list[str]:
    """The text cut after each line feed, for literals written one line each."""
    return re.findall(r"[^\n]*\n|[^\n]+", text) or [""]


def merged(text: Text) -> Text:
    """Adjacent literal parts joined, empty ones dropped (one literal for "Name: value")."""
    parts: list[Part] = []
    for part in text:
        if isinstance(part, str) and parts and isinstance(parts[-1], str):
            parts[-1] += part
        elif part != "":
            parts.append(part)
    return tuple(parts)


def concat(text: Text, *, literal: Callable[[str], str], env: Callable[[str], str], op: str) -> str:
    """An expression for `text`: literals and environment variables joined by `op`
    (" + " or, as gofmt writes it in a call's arguments, "+")."""
    pieces = [env(p.env) if isinstance(p, Secret) else literal(p) for p in merged(text)]
    return op.join(pieces) if pieces else literal("")


def multiline(body: str, *, literal: Callable[[str], str], op: str, indent: str) -> str:
    """A body as one literal a line, joined by `op` at line ends."""
    return f" {op}\n{indent}".join(literal(line) for line in lines_of(body))


def secrets_comment(request: SampleRequest, prefix: str) -> list[str]:
    if not request.secrets:
        return []
    lines = [f"{prefix} Secrets are read from environment variables:"]
    lines += [f"{prefix}   {s.env}: {s.what}" for s in request.secrets]
    return lines
