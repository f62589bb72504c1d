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
from collections.abc import Collection, Mapping
from typing import Any

from catalog.documents import followed, schema_kind
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


def exploded_properties(
    *, operation: Mapping[str, Any], definitions: Mapping[str, Any]
) -> dict[str, frozenset[str]]:
    """The cookie parameters sent as one cookie per property (an object, `style: form`,
    `explode: true`, the defaults for a cookie), each with its schema's declared
    properties: `color` of {R, G} arrives as `R=100; G=200`. `operation` is
    Operation.openapi, `definitions` Api.openapi."""
    found: dict[str, frozenset[str]] = {}
    for parameter in operation.get("parameters") or []:
        parameter = followed(parameter, definitions)
        name = parameter.get("name")
        if parameter.get("in") != "cookie" or not isinstance(name, str):
            continue
        if parameter.get("style", "form") != "form" or parameter.get("explode", True) is not True:
            continue
        schema = followed(parameter.get("schema"), definitions)
        properties = schema.get("properties")
        if schema_kind(schema) == "object" and isinstance(properties, Mapping):
            found[name] = frozenset(str(key) for key in properties)
    return found


def security_cookie_names(
    *, operation: Mapping[str, Any], definitions: Mapping[str, Any]
) -> frozenset[str]:
    """The key names of the apiKey `in: cookie` schemes any of the operation's security
    requirements names, whichever alternative (the import made parameters of the first's
    only). `operation` is Operation.openapi, `definitions` Api.openapi."""
    components = definitions.get("components")
    schemes = components.get("securitySchemes") if isinstance(components, Mapping) else None
    requirements = operation.get("security")
    if not isinstance(schemes, Mapping) or not isinstance(requirements, list):
        return frozenset()
    names = set()
    for requirement in requirements:
        for scheme_name in requirement if isinstance(requirement, Mapping) else ():
            scheme = followed(schemes.get(scheme_name), definitions)
            key_name = scheme.get("name")
            is_cookie_key = scheme.get("type") == "apiKey" and scheme.get("in") == "cookie"
            if is_cookie_key and isinstance(key_name, str) and key_name:
                names.add(key_name)
    return frozenset(names)


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
