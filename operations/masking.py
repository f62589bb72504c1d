"""Mask secret values before anything is stored, shown, logged or exported (invariant 9)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING
from urllib.parse import unquote_plus, urlsplit, urlunsplit

from operations.headers import SECRET_HEADER_NAMES

if TYPE_CHECKING:
    from operations.templating import OutboundRequest

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
    """Mask user info and the values of secret query keys, leaving the rest as sent."""
    secret = {n.lower() for n in secret_names}
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(unparseable URL)"
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{MASK}@{netloc.rpartition('@')[2]}"
    pairs = []
    for pair in parts.query.split("&") if parts.query else []:
        key, equals, _ = pair.partition("=")
        pairs.append(f"{key}={MASK}" if equals and unquote_plus(key).lower() in secret else pair)
    return urlunsplit((parts.scheme, netloc, parts.path, "&".join(pairs), parts.fragment))


def mask_request_url(request: OutboundRequest) -> str:
    """The request's URL as it may be stored or shown: secret path values (masked by
    templating.bind) and secret query values masked."""
    return mask_url(request.masked_url or request.url, secret_names=request.secret_names)


def mask_values(values: dict[str, str], *, secret_names: Iterable[str]) -> dict[str, str]:
    secret = {n.lower() for n in secret_names}
    return {
        key: (mask_value(value) if key.lower() in secret and value else value)
        for key, value in values.items()
    }
