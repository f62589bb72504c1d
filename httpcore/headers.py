"""Rules for request headers a user may send (docs/design.md, "Outbound: checked headers
only"). Pure."""

from __future__ import annotations

import re
from collections.abc import Sequence

# RFC 9110 token characters.
TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
# Visible ASCII, space and tab: what every server and proxy reads the same way.
PRINTABLE_VALUE = re.compile(r"[\t\x20-\x7e]*\Z")
MAX_NAME_LENGTH = 100
MAX_VALUE_LENGTH = 8192
MAX_HEADER_COUNT = 50
MAX_TOTAL_BYTES = 32 * 1024

# Headers that decide where or how the message travels are the portal's business.
REFUSED_NAMES = frozenset(
    {
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "te",
        "trailer",
        "upgrade",
        "expect",
        "forwarded",
        "via",
        "cookie",
        "x-real-ip",
    }
)
REFUSED_PREFIXES = ("proxy-", "x-forwarded-", "sec-")
# Headers that would have the backend, or a proxy before it, handle the call otherwise than
# the operation says: a documented GET turned into a DELETE, a hop limit cutting it short.
OVERRIDING_NAMES = {
    "x-http-method-override": "would have the backend treat the call as another method",
    "x-http-method": "would have the backend treat the call as another method",
    "x-method-override": "would have the backend treat the call as another method",
    "max-forwards": "would limit how far proxies forward the call",
}

# Values of these headers are credentials wherever they appear.
SECRET_HEADER_NAMES = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-api-key",
        "api-key",
        "apikey",
        "ocp-apim-subscription-key",
        "x-functions-key",
    }
)


class HeaderError(ValueError):
    def __init__(self, message: str, *, name: str) -> None:
        super().__init__(message)
        self.message = message
        self.name = name


def is_refused_name(name: str) -> bool:
    return refusal_reason(name) is not None


def refusal_reason(name: str) -> str | None:
    """Why a header cannot be sent, as a clause naming it ("the portal sets Host
    itself"); None when it can."""
    lowered = name.lower()
    if lowered in OVERRIDING_NAMES:
        return f"sending {name} {OVERRIDING_NAMES[lowered]}"
    if lowered in REFUSED_NAMES or lowered.startswith(REFUSED_PREFIXES):
        return f"the portal sets {name} itself"
    return None


def validate_header(name: str, value: str) -> None:
    shown = name if len(name) <= 40 else name[:40] + "…"
    if not TOKEN.match(name):
        raise HeaderError(
            f"Header name {shown!r} is not valid: use letters, digits and !#$%&'*+-.^_`|~ "
            "without spaces or colons.",
            name=name,
        )
    if len(name) > MAX_NAME_LENGTH:
        raise HeaderError(f"Header name {shown!r} is too long.", name=name)
    reason = refusal_reason(name)
    if reason is not None:
        raise HeaderError(f"{reason[0].upper()}{reason[1:]}; it cannot be sent.", name=name)
    # The length first: a value of megabytes is refused without scanning it.
    if len(value) > MAX_VALUE_LENGTH:
        raise HeaderError(
            f"The value of {name} is too long ({len(value)} characters, at most "
            f"{MAX_VALUE_LENGTH}).",
            name=name,
        )
    if any(char in value for char in "\r\n\x00"):
        raise HeaderError(f"The value of {name} contains a line break or NUL.", name=name)
    if not PRINTABLE_VALUE.match(value):
        raise HeaderError(
            f"The value of {name} has characters other than printable ASCII.", name=name
        )


def validate_headers(headers: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """Check headers as a whole; rows with neither name nor value are skipped."""
    checked: list[tuple[str, str]] = []
    seen: set[str] = set()
    total = 0
    for raw_name, raw_value in headers:
        name, value = raw_name.strip(), raw_value.strip(" \t")
        if not name and not value:
            continue
        if not name:
            raise HeaderError("A header value has no name.", name="")
        validate_header(name, value)
        if name.lower() in seen:
            raise HeaderError(f"Header {name} is given twice.", name=name)
        seen.add(name.lower())
        total += len(name) + len(value) + 4
        checked.append((name, value))
    if len(checked) > MAX_HEADER_COUNT:
        raise HeaderError(
            f"Too many headers ({len(checked)}, at most {MAX_HEADER_COUNT}).", name=""
        )
    if total > MAX_TOTAL_BYTES:
        raise HeaderError(f"The headers are too large (at most {MAX_TOTAL_BYTES} bytes).", name="")
    return checked
