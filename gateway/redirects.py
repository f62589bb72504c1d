"""Where a backend's Location points once the gateway passes it on. Pure.

The gateway answers from the portal's origin, so a Location it passes on sends the
caller (a browser, maybe) wherever the backend chose. Only a Location under the
backend's own URL is passed on, moved under the gateway; any other is refused.

A Location is resolved against the URL the gateway called, as a client would resolve
it (`x` and `/x` are relative to the backend, not to the gateway), then compared with the
service URL by scheme, host and port, and its path by whole segments. Spellings that
browsers and Python's parser read differently are refused before that: a backslash
(`\\host`, `http:/\\host` read as `//host` by browsers), control characters and spaces
(browsers drop tabs and newlines), and dot segments, plain or percent-encoded (`%2e%2e`
climbs out of the gateway path in a browser). What comes back is always a path
starting with `/gateway/<url suffix>`, built from the parsed parts, never the backend's
text as it came.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urljoin, urlsplit

__all__ = ["gateway_location"]

_DEFAULT_PORTS = {"http": 80, "https": 443}
_UNSAFE = re.compile(r"[\x00-\x20\x7f\\]")


def gateway_location(*, location: str, request_url: str, service_url: str, base: str) -> str | None:
    """`location` moved under `base` (`/gateway/<url suffix>`) when it resolves under
    `service_url`; None when it points anywhere else or cannot be read safely."""
    if _UNSAFE.search(location):
        return None
    try:
        target = urlsplit(urljoin(request_url, location))
        service = urlsplit(service_url)
        if target.username is not None or target.password is not None:
            return None
        origin = _origin(target.scheme, target.hostname, target.port)
        if origin is None or origin != _origin(service.scheme, service.hostname, service.port):
            return None
    except ValueError:  # a port that is not a number, a bracketed host that is not IPv6
        return None
    if any(unquote(segment) in {".", ".."} for segment in target.path.split("/")):
        return None
    prefix = service.path.rstrip("/")
    if target.path != prefix and not target.path.startswith(prefix + "/"):
        return None
    moved = base + target.path[len(prefix) :]
    if target.query:
        moved += f"?{target.query}"
    if target.fragment:
        moved += f"#{target.fragment}"
    return moved


def _origin(scheme: str, host: str | None, port: int | None) -> tuple[str, str, int] | None:
    scheme = scheme.lower()
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    return scheme, host, port if port is not None else _DEFAULT_PORTS[scheme]
