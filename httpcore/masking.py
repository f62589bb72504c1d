"""Mask secret values before anything is stored, shown, logged or exported (docs/design.md,
"Secrets: masked wherever they go").

A value is secret when its name says so, or when it carries an auth scheme:

- the name is a known credential header (httpcore.headers.SECRET_HEADER_NAMES), a
  parameter marked secret (`secret_names`), or holds a credential word anywhere
  (CREDENTIAL_WORD: `X-Api-Token`, `client_secret`, `X-Session-Id`...), whatever the
  header or query key is called. A few standard names hold such a word and never a
  credential (PUBLIC_NAMES: challenges and CORS flags), and `author` and `keyword` are
  words of their own;
- the value starts with an auth scheme followed by a space (`Bearer ...`,
  `Basic ...`, `AWS4-HMAC-SHA256 ...`, any case), in whichever header or query key.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING
from urllib.parse import unquote_plus, urlsplit, urlunsplit

from httpcore.headers import SECRET_HEADER_NAMES

if TYPE_CHECKING:
    from httpcore.templating import OutboundRequest

MASK = "••••••"

# Searched for in lower-cased names. "auth" not in "author"/"authority" (but in
# "authorization"), "key" not in "keyword".
CREDENTIAL_WORD = re.compile(
    r"token|key(?!word)|secret|passw(?:or)?d|auth(?!or(?!i[sz]))|credential|signature"
    r"|session|cookie"
)
# Names of credentials that hold no credential word: Azure's shared access signature.
SECRET_NAMES = SECRET_HEADER_NAMES | {"sig"}
# Standard names with a credential word whose values are never credentials: a
# challenge names schemes and parameters, the CORS flag is true or absent.
PUBLIC_NAMES = frozenset(
    {"www-authenticate", "proxy-authenticate", "access-control-allow-credentials"}
)
# HTTP authentication schemes (IANA's registry, plus the common vendor ones).
AUTH_SCHEMES = frozenset(
    {
        "basic",
        "bearer",
        "digest",
        "token",
        "negotiate",
        "ntlm",
        "hoba",
        "mutual",
        "vapid",
        "dpop",
        "gnap",
        "privatetoken",
        "concealed",
        "scram-sha-1",
        "scram-sha-256",
        "aws4-hmac-sha256",
        "hmac-sha256",
        "oauth",
        "apikey",
        "sharedkey",
        "sharedkeylite",
        "sharedaccesssignature",
        "signature",
        "sso-key",
    }
)
_SCHEME = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._~+/-]*)[ \t]+\S")


def holds_no_credential(value: str) -> bool:
    """Empty, or only an auth scheme word ("Bearer "): what an import starts a credential
    row with, which carries no credential."""
    text = value.strip(" \t")
    return text == "" or text.lower() in AUTH_SCHEMES


def auth_scheme(value: str) -> str:
    """The auth scheme word a value starts with, as written ("Bearer"), or ""."""
    match = _SCHEME.match(value)
    if match is None or match.group(1).lower() not in AUTH_SCHEMES:
        return ""
    return match.group(1)


def is_secret_name(name: str, *, secret_names: Iterable[str] = ()) -> bool:
    """Whether values under this header, query key or parameter name are secret."""
    lowered = name.strip().lower()
    if lowered in {n.lower() for n in secret_names}:
        return True
    if lowered in PUBLIC_NAMES:
        return False
    return lowered in SECRET_NAMES or bool(CREDENTIAL_WORD.search(lowered))


def is_secret(name: str, value: str, *, secret_names: Iterable[str] = ()) -> bool:
    """Whether this value is secret: by its name, or because it carries an auth scheme."""
    if is_secret_name(name, secret_names=secret_names):
        return True
    return name.strip().lower() not in PUBLIC_NAMES and bool(auth_scheme(value))


# Said instead of MASK where a secret holds no value: "••••••" would say it has one.
NOT_SET = "not set"


def mask_value(value: str) -> str:
    """Keep an auth scheme word such as "Bearer" so the reader sees what kind of secret it
    was; any other value is masked whole."""
    scheme = auth_scheme(value)
    if scheme:
        return f"{scheme} {MASK}"
    return MASK if value else ""


def mask_cookie_header(value: str, *, secret_names: Iterable[str] = ()) -> str:
    """A request's Cookie header with the values of secret cookies masked: by the
    cookie's name (a credential word, a name in `secret_names`) or its value."""
    secret = {n.lower() for n in secret_names}
    pairs = []
    for pair in value.split("; ") if value else []:
        name, equals, text = pair.partition("=")
        if not equals:
            return mask_value(value)  # not as the portal writes one: hidden whole
        hidden = text and is_secret(name, text, secret_names=secret)
        pairs.append(f"{name}={MASK}" if hidden else pair)
    return "; ".join(pairs)


def mask_headers(
    headers: Sequence[tuple[str, str]] | Sequence[list[str]],
    *,
    secret_names: Iterable[str] = (),
    request: bool = False,
) -> list[list[str]]:
    """request: these are a request's headers, whose one Cookie header (built from the
    documented cookies, httpcore/cookies.py) is masked cookie by cookie; a response's
    Set-Cookie, and a Cookie anywhere else, are masked whole."""
    secret = {n.lower() for n in secret_names}
    masked = []
    for name, value in headers:
        if request and name.strip().lower() == "cookie":
            masked.append([name, mask_cookie_header(value, secret_names=secret)])
        elif is_secret(name, value, secret_names=secret):
            masked.append([name, mask_value(value)])
        else:
            masked.append([name, value])
    return masked


def mask_url(url: str, *, secret_names: Iterable[str] = ()) -> str:
    """Mask user info and the secret query values, leaving the rest as sent."""
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
        key, equals, value = pair.partition("=")
        hidden = equals and is_secret(unquote_plus(key), unquote_plus(value), secret_names=secret)
        pairs.append(f"{key}={MASK}" if hidden else pair)
    return urlunsplit((parts.scheme, netloc, parts.path, "&".join(pairs), parts.fragment))


def mask_request_url(request: OutboundRequest) -> str:
    """The request's URL as it may be stored or shown: secret path values (masked by
    templating.bind) and secret query values masked."""
    return mask_url(request.masked_url or request.url, secret_names=request.secret_names)


def mask_values(values: dict[str, str], *, secret_names: Iterable[str]) -> dict[str, str]:
    secret = {n.lower() for n in secret_names}
    return {
        key: (mask_value(value) if value and is_secret(key, value, secret_names=secret) else value)
        for key, value in values.items()
    }
