"""Try it: form values -> bind -> the call pipeline (httpcore/pipeline.py) -> exchange
(docs/design.md, "The one path")."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from urllib.parse import unquote

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db import connection

from catalog.models import Operation
from catalog.stored_values import HEADERS, QUERY, TEMPLATE
from console import environments
from console.authorization import Held, apply_credentials
from console.forms import TryItValues
from console.kept_files import keep_files
from console.models import Exchange
from console.parameter_styles import styled_cookies, styled_headers, styled_path, styled_query
from console.uploads import FormFile
from gateway import tryit_access
from gateway.models import CallSource
from httpcore import outbound
from httpcore.bodies import StreamedBody, shown_bytes
from httpcore.masking import (
    MASK,
    is_secret,
    is_secret_name,
    mask_headers,
    mask_request_url,
    mask_value,
    mask_values,
)
from httpcore.pipeline import run_call
from httpcore.ratelimit import TooManyCalls, take_call
from httpcore.templating import (
    OutboundRequest,
    Placeholder,
    TemplateError,
    bind,
    parse_template,
)
from portal.secrets import decrypt_json, encrypt_json

# The exchange's form values and kept secrets name their cookie parameters so.
COOKIES = "cookies"


def secret_names_of(operation: Operation) -> frozenset[str]:
    """Secret parameter names, plus the template's query keys that carry one
    (`?api_key={apikey}` masks the value of api_key when apikey is secret) and the
    placeholders under a query key that names a credential (`?token={t}` masks t)."""
    names = {p.name.lower() for p in operation.parameters.all() if p.secret}
    # The gateway's key, whatever its header or query name is called for this API.
    names |= {
        operation.api.subscription_key_header.lower(),
        operation.api.subscription_key_query.lower(),
    }
    try:
        query = parse_template(operation.url_template).query
    except TemplateError:
        query = ()
    for item in query:
        placeholders = {part.name.lower() for part in item.value if isinstance(part, Placeholder)}
        if placeholders & names:
            names.add(item.key.lower())
        if is_secret_name(unquote(item.key)):
            names |= placeholders
    return frozenset(names)


def _body_bytes(values: TryItValues) -> bytes | StreamedBody | None:
    if values.raw_body is not None:
        return values.raw_body  # encoded by the form (multipart/form-data)
    return values.body.encode("utf-8", "surrogatepass") if values.body is not None else None


def build_request(
    *, operation: Operation, values: TryItValues, base_url: str | None = None
) -> OutboundRequest:
    """Raises templating.BindError naming the field when a value cannot be used.

    `base_url`: another of the API's registered servers (console/servers.py) instead of
    its service URL."""
    return bind(
        service_url=base_url or operation.api.service_url,
        method=operation.method,
        template=operation.url_template,
        # Arrays and objects as their style says (console/parameter_styles.py).
        template_values=styled_path(operation=operation, values=values.template_values),
        query_values=styled_query(operation=operation, pairs=list(values.query_values)),
        headers=styled_headers(operation=operation, headers=list(values.headers)),
        body=_body_bytes(values),
        content_type=values.content_type or operation.request_content_type,
        secret_names=secret_names_of(operation),
        cookies=styled_cookies(operation=operation, pairs=list(values.cookies)),
    )


def secret_values_of(values: TryItValues, *, secret_names: frozenset[str]) -> dict:
    """The values that masking hides, kept (encrypted) so that Save and Try again work,
    and which fields were sent with a stored value, so that Try again does not show it."""
    return {
        "stored": values.stored,
        "template": {
            k: v
            for k, v in values.template_values.items()
            if is_secret(k, v, secret_names=secret_names)
        },
        "query": {
            k: v for k, v in values.query_values if is_secret(k, v, secret_names=secret_names)
        },
        "headers": {n: v for n, v in values.headers if is_secret(n, v, secret_names=secret_names)},
        COOKIES: {n: v for n, v in values.cookies if is_secret(n, v, secret_names=secret_names)},
    }


def _form_fields(exchange: Exchange) -> list[tuple[str, str, str]]:
    values = exchange.values or {}
    return [
        *((TEMPLATE, name, value) for name, value in (values.get("template") or {}).items()),
        *((QUERY, name, value) for name, value in values.get("query") or []),
        *((HEADERS, name, value) for name, value in values.get("headers") or []),
        *((COOKIES, name, value) for name, value in values.get(COOKIES) or []),
    ]


def withheld_names(exchange: Exchange) -> list[str]:
    """The fields whose secret values a call made with another user's secrets does not
    keep (a replay of someone else's saved request): they come back empty."""
    if not exchange.secrets_withheld:
        return []
    names = [name for _, name, value in _form_fields(exchange) if MASK in str(value)]
    return list(dict.fromkeys(names))


def _kept_secrets(exchange: Exchange) -> dict:
    """The exchange's secret_values decrypted: empty when withheld or no longer readable
    (after a key change)."""
    if exchange.secrets_withheld:
        return {}
    kept = decrypt_json(exchange.secret_values, default={})
    return kept if isinstance(kept, dict) else {}


def _field_key(section: str, name: str) -> tuple[str, str]:
    # Header names match in any case; parameter names exactly.
    return (section, name.strip().lower() if section == HEADERS else name)


def restore_values(exchange: Exchange, *, empty_stored: bool = False) -> dict:
    """The exchange's form values with the masked secrets put back.

    A field comes back empty, never as its mask, when the exchange does not keep its
    secret (withheld, or no longer readable): the user fills in their own. With
    empty_stored, so does a field sent with a stored value, as the form shows it (the
    stored value is sent again, never shown)."""
    kept = _kept_secrets(exchange)
    stored = (kept.get("stored") or {}) if empty_stored else {}
    emptied = {_field_key(section, name) for section in stored for name in stored[section]}

    def restored(section: str, name: str, value: str) -> str:
        if _field_key(section, name) in emptied:
            return ""
        secret = (kept.get(section) or {}).get(name)
        if isinstance(secret, str):
            return secret
        return "" if MASK in value else value

    values = exchange.values or {}
    template = {
        name: restored(TEMPLATE, name, value)
        for name, value in (values.get("template") or {}).items()
    }
    query = [[k, restored(QUERY, k, v)] for k, v in values.get("query") or []]
    headers = [[n, restored(HEADERS, n, v)] for n, v in values.get("headers") or []]
    cookies = [[n, restored(COOKIES, n, v)] for n, v in values.get(COOKIES) or []]
    return {
        "template": template,
        "query": query,
        "headers": headers,
        COOKIES: cookies,
        "body": values.get("body"),
        "content_type": values.get("content_type") or "",
        **({"parts": values["parts"]} if values.get("parts") else {}),
    }


def retry_values(exchange: Exchange) -> dict:
    """ "Try again"'s form values: restore_values, a field sent with a stored value
    empty."""
    return restore_values(exchange, empty_stored=True)


def record_exchange(
    *,
    operation: Operation,
    values: TryItValues,
    result: outbound.SendResult,
    user: User | AnonymousUser | None,
    session_key: str,
    kept_secrets: TryItValues | None,
    server: tuple[str, str] = ("", ""),
) -> Exchange:
    """Keep the call in the history with its secrets masked (see unsaved_exchange)."""
    pending = unsaved_exchange(
        operation=operation,
        values=values,
        result=result,
        user=user,
        session_key=session_key,
        kept_secrets=kept_secrets,
        server=server,
    )
    pending.exchange.save()
    pending.keep_files()
    return pending.exchange


@dataclass(frozen=True)
class PendingExchange:
    """An exchange built and not yet saved, with the files it keeps once saved."""

    exchange: Exchange
    files: Sequence[FormFile]

    def keep_files(self) -> None:
        if self.files:
            keep_files(files=self.files, exchange=self.exchange)


def record_exchanges(pending: Sequence[PendingExchange]) -> None:
    """Save exchanges built together in one insert (a replay's answers back at once),
    then the files they keep."""
    if connection.features.can_return_rows_from_bulk_insert:
        Exchange.objects.bulk_create([one.exchange for one in pending])
    else:  # without the new rows' ids, the files and steps could not point at them
        for one in pending:
            one.exchange.save()
    for one in pending:
        one.keep_files()


def unsaved_exchange(
    *,
    operation: Operation,
    values: TryItValues,
    result: outbound.SendResult,
    user: User | AnonymousUser | None,
    session_key: str,
    kept_secrets: TryItValues | None,
    server: tuple[str, str] = ("", ""),
) -> PendingExchange:
    """The call as the history keeps it, with its secrets masked, not yet saved.

    kept_secrets are the values whose secrets the exchange keeps, encrypted, for Save and
    Try again: the caller's own. None for a call made with another user's secrets (a
    replay of a collection shared with them): the exchange then keeps the masked values
    only, and says so (secrets_withheld). server: the Server select's choice and its URL
    (console/servers.py), which Try again and the replays send to again."""
    request = result.request
    secret = request.secret_names
    response = result.response
    stored_values = {
        "template": mask_values(values.template_values, secret_names=secret),
        "query": [
            [key, value]
            for key, value in mask_values(dict(values.query_values), secret_names=secret).items()
        ],
        "headers": mask_headers(values.headers, secret_names=secret),
        COOKIES: [
            [name, mask_value(value) if is_secret(name, value, secret_names=secret) else value]
            for name, value in values.cookies
        ],
        "body": values.body,
        "content_type": values.media_type,
    }
    texts = [[name, text] for name, text, is_file in values.form_parts if not is_file]
    if values.uploads or texts:
        # A multipart body's text parts, which a replay sends beside the kept files.
        stored_values["parts"] = texts
    exchange = Exchange(
        secret_values=""
        if kept_secrets is None
        else encrypt_json(secret_values_of(kept_secrets, secret_names=secret)),
        secrets_withheld=kept_secrets is None,
        owner=user if user is not None and user.is_authenticated else None,
        session_key="" if user is not None and user.is_authenticated else session_key,
        operation=operation,
        operation_name=f"{operation.api.name}: {operation.name}",
        server=server[0][:20],
        server_url=server[1][:500],
        values=stored_values,
        method=request.method,
        url=mask_request_url(request),
        request_headers=mask_headers(request.headers, secret_names=secret, request=True),
        request_body=shown_request_body(shown_bytes(request.body)),
        duration_ms=result.duration_ms,
        error_kind=result.error_kind.value if result.error_kind else "",
        error_message=result.error_message,
    )
    if response is not None:
        exchange.status_code = response.status_code
        exchange.reason = response.reason[:200]
        exchange.response_headers = mask_headers(response.headers, secret_names=secret)
        exchange.response_body = response.body
        exchange.response_content_type = response.content_type[:200]
        exchange.response_size = response.size
        exchange.truncated = response.truncated
    # A call made with another user's saved request keeps none of its files either:
    # they stay with that saved request ("Uploads").
    return PendingExchange(
        exchange=exchange, files=values.uploads if kept_secrets is not None else ()
    )


def shown_request_body(body: bytes | None) -> str:
    """The sent body as the history shows it: text, undecodable bytes and NULs (a file's
    bytes; PostgreSQL's text refuses NUL) as U+FFFD."""
    return (body or b"").decode("utf-8", "replace").replace("\x00", "\ufffd")


def client_key(*, user: User | AnonymousUser | None, address: str) -> str:
    """Whom a call is counted against: the user when signed in, else the address."""
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"address:{address}"


@dataclass(frozen=True)
class TryItResult:
    exchange: Exchange
    # Set when the call went through the gateway: the subscription and what is left.
    gateway: tryit_access.GatewayPass | None = None


@dataclass(frozen=True)
class _TryItPolicy:
    """Try it around the send: the pages' rate limit and, for an API behind a key, the
    gateway's step before; the GatewayCall and the Exchange after."""

    operation: Operation
    values: TryItValues
    gateway: tryit_access.PortalGateway | None
    user: User | AnonymousUser | None
    session_key: str
    address: str
    server: tuple[str, str] = ("", "")

    def admit(self, request: OutboundRequest) -> tryit_access.GatewayPass | None:
        limit, window = settings.PORTAL_TRY_IT_RATE_LIMIT, settings.PORTAL_TRY_IT_RATE_WINDOW
        decision = take_call(
            client_key=client_key(user=self.user, address=self.address),
            limit=limit,
            window=window,
        )
        if not decision.allowed:
            raise TooManyCalls(retry_after=decision.retry_after, limit=limit, window=window)
        return self.gateway.enter(request) if self.gateway is not None else None

    def finish(
        self, gateway_pass: tryit_access.GatewayPass | None, result: outbound.SendResult
    ) -> TryItResult:
        if self.gateway is not None and gateway_pass is not None:
            self.gateway.record_sent(gateway_pass=gateway_pass, result=result)
        exchange = record_exchange(
            operation=self.operation,
            values=self.values,
            result=result,
            user=self.user,
            session_key=self.session_key,
            kept_secrets=self.values,
            server=self.server,
        )
        return TryItResult(exchange=exchange, gateway=gateway_pass)


def try_operation(
    *,
    operation: Operation,
    values: TryItValues,
    user: User | AnonymousUser | None,
    session_key: str,
    address: str,
    base_url: str | None = None,
    environment: environments.EnvironmentVariables | None = None,
    credentials: Mapping[str, Held] | None = None,
    server: tuple[str, str] = ("", ""),
) -> TryItResult:
    """Send one Try it call and keep it in the history.

    `base_url`: one of the API's other registered servers (console/servers.py): a call
    there is not a gateway call, and the key header is taken out all the same.
    `server`: the choice it is (value and URL), kept with the exchange.
    With an environment, its variables replace the {{name}}s of the values sent; the
    history keeps the values as typed (console/environments.py).
    credentials: what the Authorize dialog holds for the API; the operation's security
    requirement they satisfy is sent with the call, masked, never kept in the history's
    form values.

    Raises BindError for a value that cannot be used, TooManyCalls when the client has
    used up its calls for the window and, for an API behind the gateway, GatewayRefused
    when the gateway would refuse the call (gateway.tryit_access); none sends anything.
    """
    resolution = environments.resolve(values=values, environment=environment)
    gateway = tryit_access.portal_gateway(
        operation=operation,
        key=tryit_access.key_from_headers(api=operation.api, headers=resolution.sent.headers),
        user=user,
        address=address,
        source=CallSource.TRY_IT,
    )
    if base_url is not None:
        gateway = None  # another registered server: not a gateway call
    sent_values = resolution.sent
    if gateway is not None:
        # The gateway strips the key: the backend never sees it. The history keeps it
        # among the form's values, masked, so that Try again fills it in.
        sent_values = replace(sent_values, headers=gateway.without_key(sent_values.headers))
    elif base_url is not None:
        # Nor does another server see it.
        headers = tryit_access.without_key_header(api=operation.api, headers=sent_values.headers)
        sent_values = replace(sent_values, headers=headers)
    authorized = apply_credentials(operation=operation, values=sent_values, held=credentials or {})
    request = build_request(operation=operation, values=authorized.values, base_url=base_url)
    request = replace(request, secret_names=request.secret_names | authorized.secret_names)
    request = resolution.request(request)
    policy = _TryItPolicy(
        operation=operation,
        values=values,
        gateway=gateway,
        user=user,
        session_key=session_key,
        address=address,
        server=server,
    )
    return run_call(request=request, policy=resolution.policy(policy))
