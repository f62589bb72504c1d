"""Mask secret values before anything is stored, shown, logged or exported (invariant 9)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from urllib.parse import unquote

from operations.headers import SECRET_HEADER_NAMES

MASK = "••••••"


def is_secret_name(name: str, *, secret_names: Iterable[str] = ()) -> bool:
    lowered = name.lower()
    return lowered in SECRET_HEADER_NAMES or lowered in {n.lower() for n in secret_names}


def mask_value(value: str) -> str:
    """Keep an auth scheme word such as "Bearer" so the reader sees what kind of secret it was."""
    scheme, space, _ = value.partition(" ")
    if space and scheme.isalpha() and len(scheme) <= 20:
        return f"{scheme} {MASK}"
    return MASK if value else ""


def mask_headers(
    headers: Sequence[tuple[str, str]] | Sequence[list[str]], *, secret_names: Iterable[str] = ()
) -> list[list[str]]:
    secret = {n.lower() for n in secret_names}
    return [
        [name, mask_value(value) if is_secret_name(name, secret_names=secret) else value]
        for name, value in headers
    ]


def mask_url(url: str, *, secret_names: Iterable[str] = ()) -> str:
    """Mask the values of secret query keys, leaving the rest of the URL as sent."""
    secret = {n.lower() for n in secret_names}
    if not secret or "?" not in url:
        return url
    base, _, query = url.partition("?")
    pairs = []
    for pair in query.split("&"):
        key, equals, _ = pair.partition("=")
        if equals and unquote(key).lower() in secret:
            pairs.append(f"{key}={MASK}")
        else:
            pairs.append(pair)
    return f"{base}?{'&'.join(pairs)}"


def mask_values(values: dict[str, str], *, secret_names: Iterable[str]) -> dict[str, str]:
    secret = {n.lower() for n in secret_names}
    return {
        key: (mask_value(value) if key.lower() in secret and value else value)
        for key, value in values.items()
    }
