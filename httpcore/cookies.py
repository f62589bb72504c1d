"""The one Cookie header a call may carry, built from documented cookie names only
(docs/design.md, "Cookies"). Pure.

RFC 6265 4.1.1: a name is a token; a value is cookie-octets (visible ASCII without
DQUOTE, comma, semicolon and backslash), optionally in double quotes. A value outside
that is refused, never percent-encoded: backends disagree on whether they decode a
cookie (Express does, Python's http.cookies and most Java containers do not), so an
encoded value would reach some of them changed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from httpcore.headers import TOKEN

COOKIE_HEADER = "Cookie"
# What the portal writes: cookie-octets (visible ASCII less DQUOTE, comma, semicolon and
# backslash) and the commas a form-style array puts between its items (value_problem
# refuses a comma inside a typed value).
COOKIE_LIST_VALUE = re.compile(r"[\x21\x23-\x3a\x3c-\x5b\x5d-\x7e]*\Z")
MAX_COOKIE_HEADER_LENGTH = 8192


class CookieError(ValueError):
    def __init__(self, message: str, *, name: str) -> None:
        super().__init__(message)
        self.message = message
        self.name = name


def value_problem(value: str) -> str | None:
    """Why a typed value cannot be a cookie value, as a sentence; None when it can."""
    for char in value:
        if char in " \t":
            return "A cookie value cannot contain spaces."
        if ord(char) < 0x20 or ord(char) == 0x7F:
            return f"A cookie value cannot contain control characters (U+{ord(char):04X})."
        if ord(char) > 0x7E:
            return "A cookie value must be ASCII."
        if char in '",;\\':
            return f"A cookie value cannot contain {char!r} (RFC 6265 cookie-octets)."
    return None


def cookie_header(pairs: Sequence[tuple[str, str]]) -> str:
    """`name=value; name2=value2`, or "" without pairs. Raises CookieError naming the
    cookie whose name or value cannot be sent."""
    rendered = []
    for name, value in pairs:
        if not TOKEN.match(name):
            raise CookieError(f"The cookie name {name[:40]!r} is not a token.", name=name)
        if not COOKIE_LIST_VALUE.match(value):
            raise CookieError(value_problem(value) or "Not a cookie value.", name=name)
        rendered.append(f"{name}={value}")
    header = "; ".join(rendered)
    if len(header) > MAX_COOKIE_HEADER_LENGTH:
        raise CookieError(
            f"The cookies are too long ({len(header)} characters, at most "
            f"{MAX_COOKIE_HEADER_LENGTH}).",
            name="",
        )
    return header


def check_cookie_header(value: str) -> None:
    """The re-check of a built Cookie header: pairs of a token and cookie-octets."""
    if len(value) > MAX_COOKIE_HEADER_LENGTH:
        raise CookieError("The Cookie header is too long.", name="")
    for pair in value.split("; "):
        name, equals, text = pair.partition("=")
        if not equals or not TOKEN.match(name) or not COOKIE_LIST_VALUE.match(text):
            raise CookieError("The Cookie header is not name=value pairs.", name=name)


def cookie_pairs(value: str) -> list[tuple[str, str]]:
    """A Cookie header read back into its pairs (for masking and samples)."""
    pairs = []
    for pair in value.split("; ") if value else []:
        name, _, text = pair.partition("=")
        pairs.append((name, text))
    return pairs
