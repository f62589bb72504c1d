"""The request a Try it form would send, with its secrets marked, ready to be written as code.

One source of truth: a sample is written from the `OutboundRequest` that
`tryit.build_request` makes from the form's values, the very object `outbound.send`
sends. Its method, URL, the request's own headers (Content-Type included) and body bytes
are what Try it sends. What each client adds by itself is left to it: outbound's
User-Agent, Accept and Accept-Encoding defaults, and the framing (Host, Content-Length).
The raw HTTP sample shows Host and Content-Length as Try it sends them.

Secrets (credential headers, parameters marked secret) are read from environment
variables unless the reader asks to see them (`reveal`): `"$AUTHORIZATION"` in the
shell, `os.environ["AUTHORIZATION"]` in Python and so on, `<AUTHORIZATION>` in raw HTTP.
A secret in the URL is replaced by its variable, which then holds the value as it
appears in the URL (percent-encoded). A stored value (catalog.stored_values: the form
left a secret field empty) is a variable even when revealed: the portal never shows it.

An API on the gateway is called as a developer calls it: through the portal's gateway,
`<portal>/gateway/<URL suffix><path and query>` (gateway/public_urls.py). When it needs a
subscription key, the key goes in the API's key header, read from an environment variable
(written out only when revealed); the header is sent even when the form's key row is empty
or missing: the gateway needs it. Other APIs' samples call the service URL, as Try it does,
and so does a sample for another of the API's servers chosen in Try it's Server select
(console/servers.py), at that server, without the key.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, replace
from urllib.parse import quote, urlsplit

from catalog.models import Api, Operation
from catalog.stored_values import HEADERS, QUERY, TEMPLATE
from console.forms import TryItValues
from console.multipart_fields import documented_parts
from console.tryit import build_request
from gateway import public_urls, tryit_access
from httpcore.bodies import shown_bytes
from httpcore.cookies import cookie_pairs
from httpcore.masking import auth_scheme, is_secret
from httpcore.multipart import Part as MultipartPart
from httpcore.multipart import part_content_type
from portal.own_cookies import is_portal_cookie

# Samples are shown for bodies up to this size. Nine copies of a large body on every
# change of the form would be heavy, and javac refuses a string constant longer than
# 65,535 bytes.
MAX_BODY_BYTES = 60_000
METHODS_EXPECTING_LENGTH = frozenset({"POST", "PUT", "PATCH"})


class SampleError(ValueError):
    """The request cannot be shown as code samples; the message says why."""


@dataclass(frozen=True)
class Secret:
    """A secret value, written in samples as a reference to an environment variable."""

    env: str
    value: str
    what: str  # e.g. 'Authorization header, after "Bearer "'
    stored: bool = False  # the operation's stored value, never written out


Part = str | Secret
Text = tuple[Part, ...]


@dataclass(frozen=True)
class FormPart:
    """A part of a multipart body, for writers that let their client encode it."""

    name: str
    value: str  # the text, or a file's name
    file: bool
    content_type: str = ""  # a file's, as Try it sends it (httpcore/multipart.py)


@dataclass(frozen=True)
class SampleRequest:
    """The outbound request with its secrets marked, ready to be written as code."""

    method: str
    url: Text
    headers: tuple[tuple[str, Text], ...]
    body: str | None
    secrets: tuple[Secret, ...]
    # A multipart body as its parts, for writers that let their client encode it
    # (curl --form); the body holds it encoded too.
    form_parts: tuple[FormPart, ...] = ()
    body_file: str = ""  # a file sent as the whole body: read from it by name
    # Placeholders' text in the body (samples/placeholders.py): "{name}" stands for a
    # value the reader fills in, unencoded.
    body_placeholders: tuple[str, ...] = ()

    @property
    def origin(self) -> str:
        first = self.url[0]
        assert isinstance(first, str)  # the service URL's scheme and host are never secret
        parts = urlsplit(first)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def host(self) -> str:
        return urlsplit(self.origin).netloc

    @property
    def target(self) -> Text:
        """The request-target: the URL without scheme and host (its path starts with
        the service URL's, so the first part always holds the "/")."""
        first = self.url[0]
        assert isinstance(first, str)
        return (first[len(self.origin) :], *self.url[1:])

    def header(self, name: str) -> Text | None:
        return next((v for n, v in self.headers if n.lower() == name.lower()), None)

    def has_header(self, name: str) -> bool:
        return self.header(name) is not None

    @property
    def needs_zero_length(self) -> bool:
        """Whether Try it sends Content-Length: 0 where a client would send none."""
        # Try it (requests) sends Content-Length: 0 without a body; some servers answer 411
        # to a POST, PUT or PATCH without it, and curl would not send it.
        return self.body is None and self.method in METHODS_EXPECTING_LENGTH


@dataclass(frozen=True)
class GatewayTarget:
    """Where samples call an API on the gateway, and the header of its key."""

    url: str  # <portal>/gateway/<URL suffix>, without a trailing "/"
    key_header: str  # "" when the API needs no key


class _Variables:
    """Environment variable names for secrets: from the header or parameter name, unique."""

    def __init__(self) -> None:
        self.secrets: list[Secret] = []

    def secret(self, name: str, value: str, what: str, *, stored: bool = False) -> Secret:
        base = re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").upper() or "SECRET"
        if base[0].isdigit():
            base = f"SECRET_{base}"
        taken = {s.env for s in self.secrets}
        env, number = base, 1
        while env in taken:
            number += 1
            env = f"{base}_{number}"
        if stored:
            what = f"{what}; the stored value, which the portal does not show"
        secret = Secret(env=env, value=value, what=what, stored=stored)
        self.secrets.append(secret)
        return secret


def _plain_name(name: str) -> str:
    """A name safe to write in a comment of any of the languages."""
    return re.sub(r"[^A-Za-z0-9_.\-]", "_", name)


def plain_text(text: Text) -> str:
    return "".join(part.value if isinstance(part, Secret) else part for part in text)


def _url_text(
    *,
    operation: Operation,
    values: TryItValues,
    url: str,
    names: frozenset,
    env: _Variables,
    reveal: bool,
) -> Text:
    """The URL with secret parameter values marked: all of them, or when `reveal` only
    stored values (TryItValues.stored).

    The request is bound a second time with each secret value replaced by a token that
    encodes to itself; the tokens show where the values went. The result must give back
    the real URL exactly, or no sample is shown (a secret is never written by mistake).
    """
    tokens: dict[str, tuple[str, str, bool]] = {}

    def hide(section: str, name: str, value: str) -> str:
        stored = name in values.stored.get(section, [])
        if not value or not (stored or (not reveal and is_secret(name, value, secret_names=names))):
            return value
        token = f"secret{uuid.uuid4().hex}"
        tokens[token] = (name, value, stored)
        return token

    hidden = replace(
        values,
        template_values={k: hide(TEMPLATE, k, v) for k, v in values.template_values.items()},
        query_values=[(k, hide(QUERY, k, v)) for k, v in values.query_values],
    )
    if not tokens:
        return (url,)
    masked = build_request(operation=operation, values=hidden).url
    parts: list[Part] = []
    position = 0
    for match in re.finditer("|".join(tokens), masked):
        if match.start() > position:
            parts.append(masked[position : match.start()])
        name, value, stored = tokens[match.group()]
        what = f"the {_plain_name(name)} parameter, percent-encoded"
        parts.append(env.secret(name, quote(value, safe=""), what, stored=stored))
        position = match.end()
    if position < len(masked):
        parts.append(masked[position:])
    text = tuple(parts)
    if plain_text(text) != url or not isinstance(text[0], str):
        raise SampleError("The secret values in this URL cannot be hidden, so no sample is shown.")
    return text


def _header_text(
    name: str, value: str, *, names: frozenset, env: _Variables, stored: bool = False
) -> Text:
    if not value or not (stored or is_secret(name, value, secret_names=names)):
        return (value,)
    # As masking.mask_value does: an auth scheme word such as "Bearer" stays visible.
    scheme = auth_scheme(value)
    if scheme:
        rest = value[value.index(scheme) + len(scheme) :].lstrip(" \t")
        shown = value[: len(value) - len(rest)]
        what = f'the {_plain_name(name)} header, after "{scheme} "'
        return (shown, env.secret(name, rest, what, stored=stored))
    return (env.secret(name, value, f"the {_plain_name(name)} header", stored=stored),)


def _cookie_text(value: str, *, names: frozenset, env: _Variables) -> Text:
    """The Cookie header with each secret cookie's value as a variable; the others, and
    the names, as sent."""
    parts: list[Part] = []
    for index, (name, text) in enumerate(cookie_pairs(value)):
        parts.append(("; " if index else "") + f"{name}=")
        if text and is_secret(name, text, secret_names=names):
            parts.append(env.secret(name, text, f"the {_plain_name(name)} cookie"))
        else:
            parts.append(text)
    return tuple(parts)


def gateway_target(*, api: Api, portal_url: str) -> GatewayTarget | None:
    """Where a developer calls an API on the gateway, with the header of its key when it
    needs one; None for an API that is not on the gateway (the backend itself)."""
    url = public_urls.gateway_base(api=api, portal_url=portal_url)
    if url is None:
        return None
    key_header = api.subscription_key_header if tryit_access.key_required(api=api) else ""
    return GatewayTarget(url=url, key_header=key_header)


def _with_key_row(values: TryItValues, *, key_header: str) -> TryItValues:
    """The values with a row for the key header (empty when the form has none)."""
    if any(name.strip().lower() == key_header.lower() for name, _ in values.headers):
        return values
    return replace(values, headers=[*values.headers, (key_header, "")])


def _key_header_text(name: str, value: str, *, reveal: bool, env: _Variables) -> Text:
    # Never an empty header: without a key the gateway answers 401.
    if reveal and value:
        return (value,)
    return (env.secret(name, value, f"your subscription key, in the {_plain_name(name)} header"),)


def _through_gateway(url: Text, *, service_url: str, gateway: str) -> Text:
    """The URL with the backend's scheme, host and base path replaced by the gateway's."""
    base = urlsplit(service_url)
    backend = f"{base.scheme}://{base.netloc}{base.path.rstrip('/')}"
    first = url[0]
    # The service URL holds no placeholder, so it is all in the first, literal part.
    assert isinstance(first, str) and first.startswith(backend)
    return (gateway + first[len(backend) :], *url[1:])


def sample_request(
    *, operation: Operation, values: TryItValues, reveal: bool, portal_url: str
) -> SampleRequest:
    """The request Try it would send for these values, secrets marked unless `reveal`;
    for an API on the gateway, the call through the gateway at `portal_url` (the portal's
    base URL), with the key header when the API needs a key.

    Raises templating.BindError (a value cannot be used) or SampleError.
    """
    gateway = gateway_target(api=operation.api, portal_url=portal_url)
    return sample_request_via(operation=operation, values=values, reveal=reveal, gateway=gateway)


def sample_request_via(
    *,
    operation: Operation,
    values: TryItValues,
    reveal: bool,
    gateway: GatewayTarget | None,
    base_url: str | None = None,
) -> SampleRequest:
    """sample_request for a gateway target already looked up (gateway_target); None: the
    backend itself, at `base_url` when another of its servers was chosen."""
    key_header = gateway.key_header if gateway else ""
    if gateway is not None:
        # The gateway never forwards a cookie named as one of the portal's own
        # (gateway/forwarded_cookies.py): the sample does not pretend it would.
        values = replace(
            values, cookies=[(n, v) for n, v in values.cookies if not is_portal_cookie(n)]
        )
    if key_header:
        values = _with_key_row(values, key_header=key_header)
    elif tryit_access.key_required(api=operation.api):
        # Not on the gateway: Try it sends the call to the backend without the key.
        values = replace(
            values,
            headers=tryit_access.without_key_header(api=operation.api, headers=values.headers),
        )
    request = build_request(operation=operation, values=values, base_url=base_url)
    body = None
    sent = shown_bytes(request.body)  # the samples' form has placeholders, not files
    if sent is not None:
        if len(sent) > MAX_BODY_BYTES:
            raise SampleError(
                f"The body is {len(sent):,} bytes; code samples are shown for bodies "
                f"up to {MAX_BODY_BYTES:,} bytes."
            )
        try:
            body = sent.decode("utf-8")
        except UnicodeDecodeError as error:
            raise SampleError("The body is not UTF-8 text, so no sample is shown.") from error
    env = _Variables()
    names = request.secret_names
    stored_headers = {name.lower() for name in values.stored.get(HEADERS, [])}

    def header_text(name: str, value: str) -> Text:
        if key_header and name.strip().lower() == key_header.lower():
            return _key_header_text(name, value, reveal=reveal, env=env)
        if name.strip().lower() in stored_headers:
            return _header_text(name, value, names=names, env=env, stored=True)
        if name.lower() == "cookie" and not reveal:
            return _cookie_text(value, names=names, env=env)
        return (value,) if reveal else _header_text(name, value, names=names, env=env)

    url = _url_text(
        operation=operation, values=values, url=request.url, names=names, env=env, reveal=reveal
    )
    if gateway is not None:
        url = _through_gateway(url, service_url=request.service_url, gateway=gateway.url)
    headers = tuple((name, header_text(name, value)) for name, value in request.headers)
    return SampleRequest(
        method=request.method,
        url=url,
        headers=headers,
        body=body,
        secrets=tuple(env.secrets),
        form_parts=_form_parts(operation=operation, values=values),
        body_file=values.body_file,
    )


def _form_parts(*, operation: Operation, values: TryItValues) -> tuple[FormPart, ...]:
    """The multipart body's parts; a file's with the Content-Type Try it sends it with."""
    documented = {
        part.name: part.content_type
        for part in documented_parts(operation, values.media_type or None) or []
    }
    return tuple(
        FormPart(
            name=name,
            value=value,
            file=is_file,
            content_type=part_content_type(
                MultipartPart(name, b"", filename=value, content_type=documented.get(name, ""))
            )
            if is_file
            else "",
        )
        for name, value, is_file in values.form_parts
    )
