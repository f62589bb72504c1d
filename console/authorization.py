"""Authorize: an API's security schemes, the credentials a user holds for them and how
they are applied to a Try it call (docs/design.md, "Authorize and OAuth 2.0").

Credentials live in the user's session, encrypted (portal.secrets), one entry per API
and scheme. Before a call the first security requirement of the operation that the held
credentials satisfy fully is applied; a credential field filled by hand wins.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from django.contrib.sessions.backends.base import SessionBase

from catalog.models import Api, Operation
from catalog.stored_values import HEADERS, QUERY
from console.forms import TryItValues
from httpcore.masking import MASK, holds_no_credential
from portal.secrets import decrypt_json, encrypt_json

SESSION_KEY = "authorize"
# An OAuth token this close to its expiry is refreshed (or no longer used) before a call.
EXPIRY_MARGIN_SECONDS = 30

API_KEY = "apiKey"
BASIC = "basic"
BEARER = "bearer"
OAUTH2 = "oauth2"
OPENID = "openIdConnect"
CLIENT_CREDENTIALS = "clientCredentials"
AUTHORIZATION_CODE = "authorizationCode"


@dataclass(frozen=True)
class Flow:
    """An OAuth 2.0 flow the portal can run."""

    kind: str  # CLIENT_CREDENTIALS or AUTHORIZATION_CODE
    token_url: str
    authorization_url: str = ""
    refresh_url: str = ""
    scopes: tuple[tuple[str, str], ...] = ()  # (scope, description)
    # OpenID Connect's issuer: an answer naming another (RFC 9207 `iss`) is refused.
    issuer: str = ""
    # RFC 7009 token revocation, where logging out revokes the token too: OpenID
    # Connect discovery's `revocation_endpoint`, else the document's `x-revocationUrl`
    # (on the flow, else on the scheme); "" when the provider has none.
    revocation_url: str = ""

    @property
    def label(self) -> str:
        if self.kind == CLIENT_CREDENTIALS:
            return "Client credentials"
        return "Authorization code with PKCE"


@dataclass(frozen=True)
class Scheme:
    """One entry of the API's components.securitySchemes, as the dialog uses it."""

    name: str
    kind: str  # API_KEY, BASIC, BEARER, OAUTH2, OPENID, or "" (not usable)
    description: str = ""
    key_name: str = ""
    key_in: str = ""  # header, query or cookie
    http_scheme: str = ""  # for other http schemes, as documented
    flows: tuple[Flow, ...] = ()
    openid_url: str = ""

    @property
    def sendable(self) -> bool:
        """Whether the console can send this credential."""
        if self.kind == API_KEY:
            return self.key_in in {"header", "query", "cookie"}
        return self.kind in {BASIC, BEARER, OAUTH2, OPENID}

    @property
    def label(self) -> str:
        if self.kind == API_KEY:
            return f"API key ({self.key_in}: {self.key_name})"
        if self.kind == BASIC:
            return "HTTP basic"
        if self.kind == BEARER:
            return "HTTP bearer"
        if self.kind == OAUTH2:
            return "OAuth 2.0"
        if self.kind == OPENID:
            return "OpenID Connect"
        return f"{self.http_scheme or 'Unsupported'} (not supported by the console)"

    def flow(self, kind: str) -> Flow | None:
        return next((f for f in self.flows if f.kind == kind), None)


@dataclass(frozen=True)
class Held:
    """A credential the user holds for one scheme (decrypted from the session)."""

    scheme: str
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def access_token(self) -> str:
        return str(self.data.get("access_token", ""))

    @property
    def expires_at(self) -> float | None:
        value = self.data.get("expires_at")
        return float(value) if isinstance(value, int | float) else None

    def expired(self, *, now: float) -> bool:
        expires = self.expires_at
        return expires is not None and now >= expires - EXPIRY_MARGIN_SECONDS


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


REVOCATION_URL = "x-revocationUrl"


def _flows(scheme: Mapping[str, Any]) -> tuple[Flow, ...]:
    flows = scheme.get("flows")
    if not isinstance(flows, Mapping):
        return ()
    found = []
    for kind in (AUTHORIZATION_CODE, CLIENT_CREDENTIALS):
        flow = flows.get(kind)
        if not isinstance(flow, Mapping) or not _text(flow.get("tokenUrl")):
            continue
        if kind == AUTHORIZATION_CODE and not _text(flow.get("authorizationUrl")):
            continue
        scopes = flow.get("scopes")
        found.append(
            Flow(
                kind=kind,
                token_url=_text(flow.get("tokenUrl")),
                authorization_url=_text(flow.get("authorizationUrl")),
                refresh_url=_text(flow.get("refreshUrl")),
                revocation_url=_text(flow.get(REVOCATION_URL)) or _text(scheme.get(REVOCATION_URL)),
                scopes=tuple((str(k), _text(v)) for k, v in scopes.items())
                if isinstance(scopes, Mapping)
                else (),
            )
        )
    return tuple(found)


def read_scheme(name: str, scheme: Any) -> Scheme:
    """One security scheme object as the dialog uses it; one the console cannot use has
    an empty kind."""
    if not isinstance(scheme, Mapping):
        return Scheme(name=name, kind="")
    kind = _text(scheme.get("type"))
    description = _text(scheme.get("description"))
    if kind == API_KEY:
        key_name, key_in = _text(scheme.get("name")), _text(scheme.get("in"))
        if key_name and key_in in {"header", "query", "cookie"}:
            return Scheme(
                name=name, kind=API_KEY, description=description, key_name=key_name, key_in=key_in
            )
    elif kind == "http":
        word = _text(scheme.get("scheme")).lower()
        if word in {BASIC, BEARER}:
            return Scheme(name=name, kind=word, description=description)
        return Scheme(name=name, kind="", description=description, http_scheme=word)
    elif kind == OAUTH2:
        return Scheme(name=name, kind=OAUTH2, description=description, flows=_flows(scheme))
    elif kind == OPENID:
        return Scheme(
            name=name,
            kind=OPENID,
            description=description,
            openid_url=_text(scheme.get("openIdConnectUrl")),
        )
    return Scheme(name=name, kind="", description=description, http_scheme=kind)


def schemes_of(api: Api) -> list[Scheme]:
    """The API's documented security schemes (Api.openapi, "Documented schemas")."""
    document = api.openapi if isinstance(api.openapi, Mapping) else {}
    components = document.get("components")
    schemes = components.get("securitySchemes") if isinstance(components, Mapping) else None
    if not isinstance(schemes, Mapping):
        return []
    return [read_scheme(str(name), scheme) for name, scheme in schemes.items()]


def scheme_of(api: Api, name: str) -> Scheme | None:
    return next((s for s in schemes_of(api) if s.name == name), None)


# --- The session's store ------------------------------------------------------------


def held_credentials(*, session: SessionBase, api: Api) -> dict[str, Held]:
    """The credentials this session holds for the API, decrypted, by scheme name."""
    stored = session.get(SESSION_KEY, {})
    entries = stored.get(str(api.pk), {}) if isinstance(stored, dict) else {}
    held = {}
    for name, token in entries.items() if isinstance(entries, dict) else ():
        data = decrypt_json(token, default=None) if isinstance(token, str) else None
        if isinstance(data, dict):
            held[name] = Held(scheme=name, data=data)
    return held


def hold(*, session: SessionBase, api: Api, scheme: str, data: Mapping[str, Any]) -> None:
    """Keep a credential for the API's scheme in the session, encrypted."""
    stored = session.get(SESSION_KEY, {})
    stored = stored if isinstance(stored, dict) else {}
    entries = stored.get(str(api.pk), {})
    entries = entries if isinstance(entries, dict) else {}
    entries[scheme] = encrypt_json(dict(data))
    stored[str(api.pk)] = entries
    session[SESSION_KEY] = stored


def forget(*, session: SessionBase, api: Api, scheme: str) -> None:
    """Log out of one scheme: the session no longer holds its credential."""
    stored = session.get(SESSION_KEY, {})
    if isinstance(stored, dict) and isinstance(stored.get(str(api.pk)), dict):
        stored[str(api.pk)].pop(scheme, None)
        session[SESSION_KEY] = stored


# --- What is shown -------------------------------------------------------------------


def shown(*, scheme: Scheme, held: Held | None) -> str:
    """The held credential, masked, as the dialog says it; "" when none is held."""
    if held is None:
        return ""
    data = held.data
    if scheme.kind == API_KEY:
        return f"{scheme.key_name}: {MASK}"
    if scheme.kind == BASIC:
        return f"Basic {MASK} ({_text(data.get('username'))})"
    if scheme.kind == BEARER:
        return f"Bearer {MASK}"
    client = _text(data.get("client_id"))
    text = f"Authorized as {client}" if client else f"Bearer {MASK}"
    scope = _text(data.get("scope"))
    if scope:
        text += f", scopes {scope}"
    expires = held.expires_at
    if expires is not None:
        text += time.strftime(", expires %H:%M:%S UTC", time.gmtime(expires))
        if held.expired(now=time.time()):
            again = ", refreshed before the next call" if data.get("refresh_token") else ""
            text += f" (expired{again})"
    return text


# --- Applying them to a call ----------------------------------------------------------


@dataclass(frozen=True)
class Applied:
    """The values a call sends, with the held credentials in, and the names whose values
    are masked (a key name such as X-Client holds no credential word)."""

    values: TryItValues
    secret_names: frozenset[str] = frozenset()
    schemes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Parts:
    """Where a credential goes: headers, query pairs, cookies."""

    headers: list[tuple[str, str]] = field(default_factory=list)
    query: list[tuple[str, str]] = field(default_factory=list)
    cookies: list[tuple[str, str]] = field(default_factory=list)


def credential_parts(*, scheme: Scheme, held: Held) -> Parts | None:
    """What sends this credential; None when it cannot be sent (an expired token, an
    unusable scheme)."""
    data = held.data
    if scheme.kind == API_KEY and scheme.sendable:
        value = _text(data.get("value"))
        if not value:
            return None
        pair = [(scheme.key_name, value)]
        if scheme.key_in == "cookie":
            return Parts(cookies=pair)
        return Parts(headers=pair) if scheme.key_in == "header" else Parts(query=pair)
    if scheme.kind == BASIC:
        raw = f"{_text(data.get('username'))}:{_text(data.get('password'))}".encode()
        return Parts(headers=[("Authorization", "Basic " + base64.b64encode(raw).decode("ascii"))])
    if scheme.kind in {BEARER, OAUTH2, OPENID}:
        token = _text(data.get("token")) if scheme.kind == BEARER else held.access_token
        if not token or held.expired(now=time.time()):
            return None
        return Parts(headers=[("Authorization", f"Bearer {token}")])
    return None


def requirements_of(operation: Operation) -> list[dict[str, Any]]:
    """The operation's security requirements (Operation.openapi["security"])."""
    document = operation.openapi if isinstance(operation.openapi, Mapping) else {}
    security = document.get("security")
    if not isinstance(security, list):
        return []
    return [r for r in security if isinstance(r, dict)]


def _filled_by_hand(value: str) -> bool:
    return not holds_no_credential(value)


def _merge(
    existing: Sequence[tuple[str, str]],
    added: Sequence[tuple[str, str]],
    *,
    stored: Sequence[str],
    fold_case: bool,
) -> list[tuple[str, str]]:
    def key(name: str) -> str:
        return name.strip().lower() if fold_case else name

    stored_keys = {key(n) for n in stored}
    result = list(existing)
    for name, value in added:
        matching = [i for i, (n, _) in enumerate(result) if key(n) == key(name)]
        if any(_filled_by_hand(result[i][1]) and key(name) not in stored_keys for i in matching):
            continue  # filled by hand: it wins over the held credential
        if matching:
            result[matching[0]] = (result[matching[0]][0], value)
            for i in reversed(matching[1:]):
                del result[i]
        else:
            result.append((name, value))
    return result


def apply_credentials(
    *, operation: Operation, values: TryItValues, held: Mapping[str, Held]
) -> Applied:
    """Put in the credentials of the first requirement the held ones satisfy fully.

    Alternatives are the list's items; the schemes of one item are all needed. An empty
    item (no credential needed) satisfies with nothing. A header or query value the
    user filled by hand (not empty, not only "Bearer", not a stored value) is kept."""
    if not held:
        return Applied(values=values)
    schemes = {s.name: s for s in schemes_of(operation.api)}
    for requirement in requirements_of(operation):
        parts: list[tuple[Scheme, Parts]] = []
        for name in requirement:
            scheme, credential = schemes.get(name), held.get(name)
            found = None
            if scheme is not None and credential is not None:
                found = credential_parts(scheme=scheme, held=credential)
            if scheme is None or found is None:
                break
            parts.append((scheme, found))
        else:
            if not parts:
                return Applied(values=values)
            headers = [h for _, found in parts for h in found.headers]
            query = [q for _, found in parts for q in found.query]
            cookies = [c for _, found in parts for c in found.cookies]
            stored = values.stored or {}
            merged = _merge(values.headers, headers, stored=stored.get(HEADERS, []), fold_case=True)
            sent = replace(
                values,
                # An imported credential row left as "Bearer " is no credential: the
                # requirement met without it, it is not sent.
                headers=[(n, v) for n, v in merged if v.strip() == "" or _filled_by_hand(v)],
                query_values=_merge(
                    values.query_values, query, stored=stored.get(QUERY, []), fold_case=False
                ),
                cookies=_merge(values.cookies, cookies, stored=[], fold_case=False),
            )
            names = frozenset(n.lower() for n, _ in [*headers, *query, *cookies])
            return Applied(values=sent, secret_names=names, schemes=tuple(s.name for s, _ in parts))
    return Applied(values=values)


def supplied_names(*, operation: Operation, held: Mapping[str, Held]) -> frozenset[str]:
    """Lower-cased header names and query keys the held credentials fill in for this
    operation: the form does not ask for them."""
    if not held:
        return frozenset()
    applied = apply_credentials(operation=operation, values=TryItValues(), held=held)
    return applied.secret_names
