"""OAuth 2.0 for Authorize: client credentials, authorization code with PKCE, refresh,
revocation (RFC 7009) and OpenID Connect discovery (docs/design.md, "Authorize and
OAuth 2.0").

Every call to an authorization server (token requests, revocation, discovery) is built by
`templating.bind` and sent by the one pipeline (`httpcore.pipeline.run_call`), counted
by the pages' rate limit like a Try it call: the same checks, network policy, limits and
masked log line as any call. oauthlib builds the token request bodies.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urljoin, urlsplit, urlunsplit

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from oauthlib.oauth2.rfc6749.parameters import prepare_token_request

from catalog.models import Api
from console.authorization import (
    AUTHORIZATION_CODE,
    OPENID,
    Flow,
    Held,
    Scheme,
    held_credentials,
    hold,
)
from httpcore import outbound
from httpcore.pipeline import run_call
from httpcore.ratelimit import TooManyCalls, take_call
from httpcore.templating import BindError, OutboundRequest, bind
from portal.secrets import decrypt_json, encrypt_json

PENDING_KEY = "authorize_pending"
USED_KEY = "authorize_used_states"
# Authorizations a session may have started and not finished; the oldest go first.
MAX_PENDING = 5
MAX_USED = 20
# How long the authorization server's answer may take to come back.
PENDING_SECONDS = 600
# The body fields of token requests and their answers that are secrets.
TOKEN_SECRET_NAMES = frozenset(
    {
        "client_secret",
        "code",
        "code_verifier",
        "refresh_token",
        "access_token",
        "id_token",
        "token",
    }
)

NO_STATE = "The authorization server's answer has no state: nothing was exchanged."
UNKNOWN_STATE = (
    "The authorization server's answer does not match an authorization started in this "
    "browser: nothing was exchanged."
)
USED_STATE = "This authorization answer was already used: nothing was exchanged."
EXPIRED_STATE = "The authorization took too long; start it again: nothing was exchanged."
NO_CODE = "The authorization server's answer has no code: nothing was exchanged."
OTHER_ISSUER = (
    "The authorization answer names another issuer than the one authorized (RFC 9207): "
    "nothing was exchanged."
)


class AuthorizeError(Exception):
    """A step of Authorize that cannot go on; the message is shown as it is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def pkce_pair() -> tuple[str, str]:
    """(code_verifier, code_challenge) for PKCE S256 (RFC 7636): 64 URL-safe characters
    and the base64url SHA-256 of them, without padding."""
    verifier = secrets.token_urlsafe(48)
    return verifier, code_challenge(verifier)


def code_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


# --- Calls to the authorization server (the one path) --------------------------------


@dataclass(frozen=True)
class _AuthorizationServerPolicy:
    """A token or discovery call: counted by the pages' rate limit; nothing recorded
    (the answer holds tokens, and the call is not one of the API's operations)."""

    client_key: str

    def admit(self, request: OutboundRequest) -> None:
        limit, window = settings.PORTAL_TRY_IT_RATE_LIMIT, settings.PORTAL_TRY_IT_RATE_WINDOW
        decision = take_call(client_key=self.client_key, limit=limit, window=window)
        if not decision.allowed:
            raise TooManyCalls(retry_after=decision.retry_after, limit=limit, window=window)

    def finish(self, ticket: None, result: outbound.SendResult) -> outbound.SendResult:
        return result


def _endpoint(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc or parts.fragment:
        raise AuthorizeError(f"The URL {url!r} cannot be used: it is not an http(s) URL.")
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", "", ""))


def _send(
    *,
    method: str,
    url: str,
    client_key: str,
    body: str | None = None,
    headers: Sequence[tuple[str, str]] = (),
) -> outbound.SendResult:
    """Send one call to the authorization server through the one path; its answer, or
    AuthorizeError when it got none."""
    try:
        endpoint = _endpoint(url)
        request = bind(
            service_url=endpoint,
            method=method,
            # bind joins the template under the service URL's path without its last "/".
            template="/" if endpoint.endswith("/") else "",
            template_values={},
            headers=[("Accept", "application/json"), *headers],
            body=body.encode("ascii") if body is not None else None,
            content_type="application/x-www-form-urlencoded" if body is not None else "",
            secret_names=TOKEN_SECRET_NAMES,
        )
    except BindError as error:
        raise AuthorizeError(f"The call to {url} cannot be built: {error.message}") from error
    try:
        result = run_call(request=request, policy=_AuthorizationServerPolicy(client_key=client_key))
    except TooManyCalls as error:
        raise AuthorizeError(str(error)) from error
    if result.response is None:
        raise AuthorizeError(
            f"The authorization server could not be reached: {result.error_message}"
        )
    return result


def _call(
    *,
    method: str,
    url: str,
    client_key: str,
    body: str | None = None,
    headers: Sequence[tuple[str, str]] = (),
) -> dict[str, Any]:
    """Send one call to the authorization server and read its JSON object answer."""
    result = _send(method=method, url=url, client_key=client_key, body=body, headers=headers)
    assert result.response is not None
    try:
        answer = json.loads(result.response.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        answer = None
    if not isinstance(answer, dict):
        raise AuthorizeError(
            f"The authorization server answered {result.response.status_code} without a JSON "
            "object."
        )
    if result.response.status_code >= 400 or "error" in answer:
        code = str(answer.get("error", result.response.status_code))
        description = answer.get("error_description")
        detail = f": {description}" if isinstance(description, str) and description else ""
        raise AuthorizeError(f"The authorization server refused ({code}{detail}).")
    return answer


def _client_headers(client_id: str, client_secret: str) -> list[tuple[str, str]]:
    # RFC 6749 2.3.1: id and secret form-encoded, then HTTP Basic.
    if not client_secret:
        return []
    raw = f"{quote(client_id, safe='')}:{quote(client_secret, safe='')}".encode()
    return [("Authorization", "Basic " + base64.b64encode(raw).decode("ascii"))]


def _token_call(
    *,
    token_url: str,
    grant_type: str,
    client_id: str,
    client_secret: str,
    client_key: str,
    revocation_url: str = "",
    **fields: str,
) -> dict[str, Any]:
    """A token request; the answer as the session keeps it (expires_at, not expires_in),
    with where to revoke it (revocation_url, "" when the provider has none)."""
    # A public client names itself in the body; a confidential one in the header.
    body = prepare_token_request(
        grant_type,
        include_client_id=not client_secret,
        client_id=client_id,
        **{k: v for k, v in fields.items() if v},
    )
    answer = _call(
        method="POST",
        url=token_url,
        client_key=client_key,
        body=body,
        headers=_client_headers(client_id, client_secret),
    )
    token = answer.get("access_token")
    if not isinstance(token, str) or not token:
        raise AuthorizeError("The authorization server's answer has no access token.")
    token_type = str(answer.get("token_type", "Bearer"))
    if token_type.lower() != "bearer":
        raise AuthorizeError(f"The token type {token_type!r} is not supported (only Bearer).")
    expires_in = answer.get("expires_in")
    held: dict[str, Any] = {
        "access_token": token,
        "client_id": client_id,
        "client_secret": client_secret,
        "token_url": token_url,
        "scope": str(answer.get("scope") or fields.get("scope", "")),
    }
    if revocation_url:
        held["revocation_url"] = revocation_url
    if isinstance(expires_in, int | float) and not isinstance(expires_in, bool):
        held["expires_at"] = time.time() + float(expires_in)
    if isinstance(answer.get("refresh_token"), str):
        held["refresh_token"] = answer["refresh_token"]
    return held


def resolve_url(api: Api, url: str) -> str:
    """A flow's URL as documented; a relative one is under the API's service URL."""
    return urljoin(api.service_url.rstrip("/") + "/", url)


def client_credentials(
    *,
    api: Api,
    flow: Flow,
    client_id: str,
    client_secret: str,
    scopes: Sequence[str],
    client_key: str,
) -> dict[str, Any]:
    """Ask the token endpoint for a token with the client's own credentials."""
    return _token_call(
        token_url=resolve_url(api, flow.token_url),
        grant_type="client_credentials",
        client_id=client_id,
        client_secret=client_secret,
        client_key=client_key,
        revocation_url=resolve_url(api, flow.revocation_url) if flow.revocation_url else "",
        scope=" ".join(scopes),
    )


def refreshed(*, held: Held, client_key: str) -> dict[str, Any] | None:
    """A new token for an expired one, with its refresh token; None when it has none or
    the server refuses (the user authorizes again)."""
    refresh_token = held.data.get("refresh_token")
    token_url = held.data.get("token_url")
    if not isinstance(refresh_token, str) or not isinstance(token_url, str):
        return None
    try:
        data = _token_call(
            token_url=token_url,
            grant_type="refresh_token",
            client_id=str(held.data.get("client_id", "")),
            client_secret=str(held.data.get("client_secret", "")),
            client_key=client_key,
            revocation_url=str(held.data.get("revocation_url", "")),
            refresh_token=refresh_token,
        )
    except AuthorizeError:
        return None
    data.setdefault("refresh_token", refresh_token)
    if not data.get("scope"):
        data["scope"] = held.data.get("scope", "")
    return data


def credentials_for_call(*, session: SessionBase, api: Api, client_key: str) -> dict[str, Held]:
    """What the session holds for the API, usable now (console/authorization.py)."""
    held = held_credentials(session=session, api=api)
    return usable_credentials(session=session, api=api, held=held, client_key=client_key)


def usable_credentials(
    *, session: SessionBase, api: Api, held: Mapping[str, Held], client_key: str
) -> dict[str, Held]:
    """The held credentials with every expired OAuth token refreshed first (and kept so);
    one that cannot be refreshed is left out."""
    usable = {}
    now = time.time()
    for name, credential in held.items():
        if credential.expired(now=now):
            data = refreshed(held=credential, client_key=client_key)
            if data is None:
                continue
            hold(session=session, api=api, scheme=name, data=data)
            credential = Held(scheme=name, data=data)
        usable[name] = credential
    return usable


# --- Revocation (RFC 7009) -----------------------------------------------------------


def revoke(*, held: Held, client_key: str) -> bool:
    """Revoke a held OAuth token at its provider, the refresh token first (which ends
    the access tokens it gave at most servers), then the access token. False when the
    provider has no revocation endpoint (nothing is sent). Raises AuthorizeError when a
    revocation is refused or cannot be sent; the caller has forgotten the token anyway.

    RFC 7009 2.1: the client authenticates as it does at the token endpoint (HTTP Basic
    for a confidential client; a public one names itself); 2.2: a 200 means revoked,
    also for a token the server no longer knows, and the answer's body is not read."""
    url = held.data.get("revocation_url")
    if not isinstance(url, str) or not url:
        return False
    client_id = str(held.data.get("client_id", ""))
    client_secret = str(held.data.get("client_secret", ""))
    tokens = [
        (hint, value)
        for hint in ("refresh_token", "access_token")
        if isinstance(value := held.data.get(hint), str) and value
    ]
    for hint, value in tokens:
        fields = {"token": value, "token_type_hint": hint}
        if not client_secret:
            fields["client_id"] = client_id
        result = _send(
            method="POST",
            url=url,
            client_key=client_key,
            body=urlencode(fields),
            headers=_client_headers(client_id, client_secret),
        )
        assert result.response is not None
        if result.response.status_code != 200:
            raise AuthorizeError(_revocation_refusal(result.response))
    return True


def _revocation_refusal(response: outbound.Response) -> str:
    try:
        answer = json.loads(response.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        answer = None
    code = answer.get("error") if isinstance(answer, dict) else None
    detail = f" ({code})" if isinstance(code, str) and code else ""
    return f"The authorization server answered {response.status_code}{detail} to the revocation."


# --- Authorization code with PKCE ----------------------------------------------------


def start_authorization(
    *,
    session: SessionBase,
    api: Api,
    scheme: Scheme,
    flow: Flow,
    client_id: str,
    client_secret: str,
    scopes: Sequence[str],
    redirect_uri: str,
    return_to: str,
) -> str:
    """Remember a new authorization in the session and give the URL the browser goes to:
    the flow's authorizationUrl with the code request, its state and PKCE challenge."""
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(32)
    pending = _pending(session)
    pending[state] = {
        "api": api.pk,
        "scheme": scheme.name,
        "client_id": client_id,
        "client_secret": client_secret,
        "token_url": resolve_url(api, flow.token_url),
        "verifier": verifier,
        "redirect_uri": redirect_uri,
        "scope": " ".join(scopes),
        "return_to": return_to,
        "issuer": flow.issuer,
        "revocation_url": resolve_url(api, flow.revocation_url) if flow.revocation_url else "",
        "started": time.time(),
    }
    while len(pending) > MAX_PENDING:
        pending.pop(next(iter(pending)))
    _keep_pending(session, pending)
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    if scopes:
        query["scope"] = " ".join(scopes)
    url = resolve_url(api, flow.authorization_url)
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise AuthorizeError(f"The authorization URL {url!r} is not an http(s) URL.")
    joined = "&".join(filter(None, [parts.query, urlencode(query)]))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, joined, ""))


def _pending(session: SessionBase) -> dict[str, dict[str, Any]]:
    pending = decrypt_json(session.get(PENDING_KEY, ""), default={})
    return pending if isinstance(pending, dict) else {}


def _keep_pending(session: SessionBase, pending: Mapping[str, Any]) -> None:
    session[PENDING_KEY] = encrypt_json(dict(pending))


@dataclass(frozen=True)
class Finished:
    api_pk: int
    scheme: str
    return_to: str


def finish_authorization(
    *, session: SessionBase, answer: Mapping[str, str], client_key: str
) -> Finished:
    """The callback: check the state against the session (once), then exchange the code
    server-side and keep the token. Raises AuthorizeError with the exact reason; for a
    missing, unknown or used state nothing is sent."""
    state = answer.get("state", "")
    if not state:
        raise AuthorizeError(NO_STATE)
    used = session.get(USED_KEY, [])
    used = used if isinstance(used, list) else []
    pending = _pending(session)
    started = pending.pop(state, None)
    if started is None:
        raise AuthorizeError(USED_STATE if _state_digest(state) in used else UNKNOWN_STATE)
    # Used once, whatever happens next.
    _keep_pending(session, pending)
    session[USED_KEY] = [*used, _state_digest(state)][-MAX_USED:]
    if time.time() - float(started.get("started", 0)) > PENDING_SECONDS:
        raise AuthorizeError(EXPIRED_STATE)
    issuer = str(started.get("issuer") or "")
    if issuer and "iss" in answer and answer["iss"] != issuer:
        raise AuthorizeError(OTHER_ISSUER)
    if answer.get("error"):
        description = answer.get("error_description", "")
        detail = f": {description}" if description else ""
        raise AuthorizeError(f"The authorization server refused ({answer['error']}{detail}).")
    code = answer.get("code", "")
    if not code:
        raise AuthorizeError(NO_CODE)
    data = _token_call(
        token_url=started["token_url"],
        grant_type="authorization_code",
        client_id=started["client_id"],
        client_secret=started["client_secret"],
        client_key=client_key,
        revocation_url=str(started.get("revocation_url") or ""),
        code=code,
        redirect_uri=started["redirect_uri"],
        code_verifier=started["verifier"],
        scope=started["scope"],
    )
    api = Api.objects.get(pk=started["api"])
    hold(session=session, api=api, scheme=started["scheme"], data=data)
    return Finished(api_pk=api.pk, scheme=started["scheme"], return_to=started["return_to"])


def _state_digest(state: str) -> str:
    return hashlib.sha256(state.encode("utf-8")).hexdigest()


# --- OpenID Connect discovery --------------------------------------------------------


def registered_issuer(url: str) -> bool:
    """Whether the URL's origin is one an admin registered (PORTAL_OIDC_ISSUERS)."""
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}".lower()
    allowed = {o.strip().rstrip("/").lower() for o in settings.PORTAL_OIDC_ISSUERS if o.strip()}
    return parts.scheme in {"http", "https"} and origin in allowed


def discovered_flow(*, api: Api, scheme: Scheme, client_key: str) -> Flow:
    """OpenID Connect: the provider's configuration, fetched when its origin is
    registered, as an authorization code flow. Nothing is fetched otherwise."""
    if scheme.kind != OPENID or not scheme.openid_url:
        raise AuthorizeError("This scheme has no OpenID Connect URL.")
    url = resolve_url(api, scheme.openid_url)
    if not url.rstrip("/").endswith("/.well-known/openid-configuration"):
        url = url.rstrip("/") + "/.well-known/openid-configuration"
    if not registered_issuer(url):
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
        raise AuthorizeError(
            f"The OpenID Connect provider {origin} is not registered with the portal "
            "(PORTAL_OIDC_ISSUERS): nothing was fetched."
        )
    configuration = _call(method="GET", url=url, client_key=client_key)
    authorization_url = configuration.get("authorization_endpoint")
    token_url = configuration.get("token_endpoint")
    if not isinstance(authorization_url, str) or not isinstance(token_url, str):
        raise AuthorizeError(
            "The OpenID Connect configuration has no authorization or token endpoint."
        )
    scopes = configuration.get("scopes_supported")
    names = [s for s in scopes if isinstance(s, str)] if isinstance(scopes, list) else ["openid"]
    issuer = configuration.get("issuer")
    revocation_url = configuration.get("revocation_endpoint")
    return Flow(
        kind=AUTHORIZATION_CODE,
        token_url=token_url,
        authorization_url=authorization_url,
        scopes=tuple((s, "") for s in names),
        issuer=issuer if isinstance(issuer, str) else "",
        revocation_url=revocation_url if isinstance(revocation_url, str) else "",
    )
