"""The cookies a gateway call sends on: the operation's documented names, read from the
caller's Cookie header(s), never the portal's own (docs/design.md, "Cookies").

The gateway shares the portal's origin, so a browser sends the portal's session and
CSRF cookies with every call to it; a document naming its cookie `sessionid` must not
make the gateway hand a backend the caller's session.

How a header is read, as Django and browsers read one, without their guessing: pairs
split on ";", whitespace around names and values trimmed, and a pair that cannot be
sent exactly as it came (no "=", a name that is not a token, a value outside
cookie-octets: a control character, a space, a quote, non-ASCII) is dropped on its own,
as Django's parser skips what it cannot read; the others still go. A header longer than
MAX_INCOMING_COOKIE_LENGTH is a 400, as gunicorn and nginx answer a header field too
large. Servers join repeated Cookie headers with ",", which a cookie value cannot hold
except between a form-style array's items; a comma followed by `name=` is therefore read
as the join of two headers.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from httpcore.cookies import COOKIE_LIST_VALUE, MAX_COOKIE_HEADER_LENGTH
from httpcore.headers import TOKEN
from portal.own_cookies import portal_cookie_names

# gunicorn's limit_request_field_size (8190) and nginx's large_client_header_buffers
# (8 KiB) stop longer headers before the portal sees them; runserver does not.
MAX_INCOMING_COOKIE_LENGTH = MAX_COOKIE_HEADER_LENGTH

# Between pairs: the RFC's "; ", or the "," a server put between two Cookie headers.
_PAIR_SEPARATOR = re.compile(r";|,(?=[ \t]*[!#$%&'*+.^_`|~0-9A-Za-z-]+=)")
_OWS = " \t"


class CookieHeaderTooLarge(ValueError):
    """The caller's Cookie header is longer than the gateway reads (a 400)."""


def forwardable_names(documented: Collection[str]) -> frozenset[str]:
    """The documented names the gateway may send: all but the portal's own."""
    portal = portal_cookie_names()
    return frozenset(name for name in documented if name.lower() not in portal)


def forwarded_cookies(*, header: str | None, names: frozenset[str]) -> list[tuple[str, str]]:
    """The caller's cookies whose names are in `names` (case-sensitive, as cookie names
    are), in the caller's order, repeats kept (an exploded array is `id=1; id=2`).
    Raises CookieHeaderTooLarge."""
    if not header or not names:
        return []
    if len(header) > MAX_INCOMING_COOKIE_LENGTH:
        raise CookieHeaderTooLarge(
            f"The Cookie header is longer than the gateway reads "
            f"({MAX_INCOMING_COOKIE_LENGTH} characters)."
        )
    portal = portal_cookie_names()
    forwarded = []
    for pair in _PAIR_SEPARATOR.split(header):
        name, equals, value = pair.partition("=")
        name, value = name.strip(_OWS), value.strip(_OWS)
        if not equals or name not in names or name.lower() in portal:
            continue
        if TOKEN.match(name) and COOKIE_LIST_VALUE.match(value):
            forwarded.append((name, value))
    return forwarded
