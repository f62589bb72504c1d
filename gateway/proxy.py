"""The gateway: one call to /gateway/<url suffix>/<path>, from matching to recording.

    route (404, 405) -> key (401, 403) -> request checks and bind (400, 411, 413)
      -> limits (429, 403) -> outbound.send -> the backend's answer (or 502, 504)
      -> record_call

Nothing reaches the backend unless every step before sending passes, and everything
that does goes through `templating.bind` and `outbound.send` (docs/design.md, "The one
path"). What the caller sent is read, never trusted: query keys come from the
operation's definition, headers from a short list plus the operation's header
parameters, and the subscription key, wherever it came from, never goes further.

Framework-free: the view hands an IncomingCall and turns the GatewayAnswer into a
response.
"""

from __future__ import annotations

import ipaddress
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import NoReturn
from urllib.parse import parse_qsl

from django.conf import settings

from gateway import access, limits, registry
from gateway.access import forget_subscription
from gateway.limits import Admission
from gateway.models import CallOutcome, CallSource, Product, Subscription
from gateway.public_urls import backend_failure_message
from gateway.recording import record_call_later
from gateway.redirects import gateway_location
from gateway.registry import ApiEntry, OperationEntry
from gateway.routing import (
    MethodNotAllowed,
    PathValueError,
    RouteMatch,
    SuffixMatch,
    decode_values,
    masked_path,
    split_path,
)
from httpcore import outbound
from httpcore.headers import TOKEN, is_refused_name
from httpcore.masking import MASK, mask_url
from httpcore.templating import BindError, bind
from portal.database import release_while_waiting

__all__ = [
    "GatewayAnswer",
    "IncomingCall",
    "UnreadableBody",
    "forget_subscription",
    "handle_call",
]

GATEWAY_PREFIX = "/gateway/"

# Request headers a caller may always send on, besides the operation's header parameters.
FORWARDED_REQUEST_HEADERS = (
    "Accept",
    "Accept-Language",
    "Content-Type",
    "If-Match",
    "If-None-Match",
)

# Response headers that stay behind. Hop-by-hop and framing headers describe the
# backend's connection, not ours (the body is decoded, so its encoding goes too).
# The rest would act on the portal's origin, which the gateway shares: cookies, the
# page policies the portal sets itself, HSTS, Clear-Site-Data, alternative services,
# Refresh (a redirect by another name; Location is checked, see gateway/redirects.py).
# Cache-Control is replaced: a keyed answer must not be cached.
DROPPED_RESPONSE_HEADERS = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",
        "content-encoding",
        "set-cookie",
        "set-cookie2",
        "content-security-policy",
        "content-security-policy-report-only",
        "x-content-type-options",
        "x-frame-options",
        "referrer-policy",
        "permissions-policy",
        "cross-origin-opener-policy",
        "cross-origin-embedder-policy",
        "strict-transport-security",
        "clear-site-data",
        "alt-svc",
        "refresh",
        "cache-control",
        "server",
        "date",
    }
)

# The backend's body is served from the portal's origin: it may run nothing, load
# nothing, and be read as nothing but its declared type.
ANSWER_HEADERS = (
    ("Content-Security-Policy", "sandbox; default-src 'none'"),
    ("X-Content-Type-Options", "nosniff"),
    ("Cache-Control", "no-store"),
)

# The error kind of an answer whose Location points outside the backend's URL.
REDIRECT_KIND = "redirect"

MAX_QUERY_FIELDS = 200
MAX_RECORDED_PATH = 4096


@dataclass(frozen=True)
class IncomingCall:
    """A call as the gateway received it."""

    method: str
    # The path after /gateway/ as sent, still percent-encoded: "azureml/jobs/a%2Fb".
    rest: str
    query_string: str  # as sent, without "?"
    headers: Mapping[str, str]  # case-insensitive, as Django's request.headers
    content_length: int | None  # None when the body's length is not announced
    chunked: bool  # Transfer-Encoding: chunked
    # Reads at most n bytes of the body (UnreadableBody when the server cannot decode
    # it); None when a chunked body cannot be delimited.
    read_body: Callable[[int], bytes] | None
    client_address: str


class UnreadableBody(Exception):
    """Raised by IncomingCall.read_body when the server cannot decode the body it is
    reading (a malformed chunked encoding, a body cut short)."""


@dataclass(frozen=True)
class GatewayAnswer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    reason: str = ""
    content_type: str | None = None  # None: the answer has no Content-Type


class _Refusal(Exception):
    """A call the gateway answers itself, with a JSON error."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        outcome: str,
        headers: Sequence[tuple[str, str]] = (),
        error_kind: str = "",
        **details: object,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.outcome = outcome
        self.headers = list(headers)
        self.error_kind = error_kind
        self.details = details


@dataclass
class _Record:
    """What the call's record holds, filled in as the call goes."""

    method: str
    path: str
    client_address: str | None
    api_id: int | None = None
    operation_id: int | None = None
    subscription: Subscription | None = None
    request_bytes: int = 0
    backend_duration_ms: float | None = None


def handle_call(*, call: IncomingCall) -> GatewayAnswer:
    """Answer one gateway call and record it, whatever happens."""
    started = time.perf_counter()
    record = _Record(
        method=call.method[:10],
        path=_recorded_path(f"{GATEWAY_PREFIX}{call.rest}", call.query_string, secret=None),
        client_address=_address(call.client_address),
    )
    try:
        answer, outcome, error_kind = _forward(call=call, record=record)
    except _Refusal as refusal:
        answer = _error_answer(refusal)
        outcome, error_kind = refusal.outcome, refusal.error_kind
    subscription = record.subscription
    record_call_later(
        source=CallSource.GATEWAY,
        api_id=record.api_id,
        operation_id=record.operation_id,
        subscription_id=subscription.pk if subscription else None,
        product_id=subscription.product_id if subscription else None,
        user_id=subscription.user_id if subscription else None,
        method=record.method,
        path=record.path[:MAX_RECORDED_PATH],
        outcome=outcome,
        status_code=answer.status,
        error_kind=error_kind,
        duration_ms=(time.perf_counter() - started) * 1000,
        backend_duration_ms=record.backend_duration_ms,
        request_bytes=record.request_bytes,
        response_bytes=len(answer.body),
        client_address=record.client_address,
    )
    return answer


def _forward(*, call: IncomingCall, record: _Record) -> tuple[GatewayAnswer, str, str]:
    """The backend's answer with its outcome and error kind; raises _Refusal otherwise."""
    api, found, matched = _route(call=call, record=record)
    operation = api.operations[matched.route.key]
    record.operation_id = operation.id
    record.path = _recorded_path(
        GATEWAY_PREFIX
        + masked_path(
            suffix=found.suffix,
            match=matched,
            segments=found.remaining,
            secret=operation.secret_names,
        ),
        call.query_string,
        secret={api.subscription_key_query} | operation.secret_names,
    )
    query = _parse_query(call.query_string)

    decision = access.check_key(api=api, key=_key_of(call=call, api=api, query=query))
    record.subscription = decision.subscription
    if not decision.allowed:
        raise _Refusal(
            decision.status,
            decision.code,
            decision.message,
            outcome=decision.outcome,
            headers=_usage_headers(decision.subscription, decision.product),
        )
    try:
        request = _build_request(
            call=call, api=api, operation=operation, matched=matched, query=query, record=record
        )
    except _Refusal as refusal:
        refusal.headers += _usage_headers(decision.subscription, decision.product)
        raise

    usage: list[tuple[str, str]] = []
    if decision.subscription is not None and decision.product is not None:
        admission = limits.admit(subscription=decision.subscription, product=decision.product)
        if not admission.allowed:
            _refuse_by_limits(admission=admission, product=decision.product)
        usage = admission.headers()

    release_while_waiting()
    result = outbound.send(request)
    record.backend_duration_ms = result.duration_ms
    return _backend_answer(result=result, api=api, usage=usage), CallOutcome.FORWARDED, ""


def _route(
    *, call: IncomingCall, record: _Record
) -> tuple[ApiEntry, SuffixMatch[ApiEntry], RouteMatch]:
    """The API and the operation the path and method name (404, 405)."""
    found = registry.find_api(split_path(call.rest))
    if found is None:
        raise _Refusal(
            404,
            "ApiNotFound",
            "No API is published under this path.",
            outcome=CallOutcome.NOT_FOUND,
        )
    api = found.target
    record.api_id = api.pk
    record.path = _recorded_path(
        f"{GATEWAY_PREFIX}{call.rest}", call.query_string, secret={api.subscription_key_query}
    )
    matched = api.routes.match(method=call.method, segments=found.remaining)
    if matched is None:
        raise _Refusal(
            404,
            "OperationNotFound",
            f"{api.name} has no operation at this path.",
            outcome=CallOutcome.NOT_FOUND,
        )
    if isinstance(matched, MethodNotAllowed):
        raise _Refusal(
            405,
            "MethodNotAllowed",
            f"This path of {api.name} does not take {call.method[:20]}; it takes "
            f"{', '.join(matched.allowed)}.",
            outcome=CallOutcome.NOT_FOUND,
            headers=[("Allow", ", ".join(matched.allowed))],
        )
    return api, found, matched


def _backend_answer(
    *, result: outbound.SendResult, api: ApiEntry, usage: list[tuple[str, str]]
) -> GatewayAnswer:
    response = result.response
    if result.error_kind is not None or response is None:
        raise _backend_failure(result, usage=usage)
    if response.truncated:
        raise _Refusal(
            502,
            "BackendResponseTooLarge",
            f"The backend's answer is larger than the gateway passes on "
            f"({outbound.format_size(response.size)}).",
            outcome=CallOutcome.BACKEND_ERROR,
            headers=usage,
            error_kind=outbound.ErrorKind.TOO_LARGE.value,
        )
    location = _location(result=result, api=api, usage=usage)
    return GatewayAnswer(
        status=response.status_code,
        reason=response.reason,
        headers=_merge(
            _answer_headers(response.headers, location=location), [*usage, *ANSWER_HEADERS]
        ),
        body=response.body,
        content_type=response.header("Content-Type"),
    )


# --- The request ------------------------------------------------------------------------


def _parse_query(query_string: str) -> list[tuple[str, str]]:
    try:
        return parse_qsl(query_string, keep_blank_values=True, max_num_fields=MAX_QUERY_FIELDS)
    except ValueError as error:
        raise _Refusal(
            400,
            "TooManyQueryParameters",
            f"The query string has more than {MAX_QUERY_FIELDS} parameters.",
            outcome=CallOutcome.BAD_REQUEST,
        ) from error


def _key_of(*, call: IncomingCall, api: ApiEntry, query: list[tuple[str, str]]) -> str:
    """The subscription key: the header's when both the header and the query carry one."""
    header = (call.headers.get(api.subscription_key_header) or "").strip()
    if header or not api.subscription_key_query:
        return header
    return next((value for key, value in query if key == api.subscription_key_query), "")


def _build_request(
    *,
    call: IncomingCall,
    api: ApiEntry,
    operation: OperationEntry,
    matched: RouteMatch,
    query: list[tuple[str, str]],
    record: _Record,
) -> outbound.OutboundRequest:
    method = operation.method
    has_body = bool(call.content_length) or call.chunked
    if has_body and method in {"GET", "HEAD"}:
        raise _bad_request("BodyNotAllowed", f"A {method} call cannot carry a body.")
    try:
        template_values = decode_values(matched)
    except PathValueError as error:
        raise _bad_request("InvalidParameter", str(error), parameter=error.name) from error
    query_values = _read_query(
        operation=operation, query=query, key_name=api.subscription_key_query
    )
    template_values.update(query_values.template_values)
    headers = _forwarded_headers(call=call, api=api, operation=operation, has_body=has_body)
    missing = [name for name in operation.required_query_names if not template_values.get(name)]
    sent_query = {key for key, value in query_values.extra if value}
    missing += [name for name in operation.required_query_parameters if name not in sent_query]
    sent_headers = {name.lower() for name, _ in headers}
    missing += [name for name in operation.required_headers if name.lower() not in sent_headers]
    if missing:
        raise _bad_request(
            "MissingParameter",
            f"Missing required parameter{'s' if len(missing) > 1 else ''}: {', '.join(missing)}.",
            parameters=missing,
        )
    for name in operation.template.query_names:
        template_values.setdefault(name, "")
    body = _read_body(call) if has_body else None
    record.request_bytes = len(body or b"")
    try:
        return bind(
            service_url=api.service_url,
            method=method,
            template=operation.template,
            template_values=template_values,
            query_values=query_values.extra,
            headers=headers,
            body=body,
            secret_names=operation.secret_names | {api.subscription_key_query.lower()},
        )
    except BindError as error:
        raise _bad_request(
            "InvalidParameter", f"{error.field}: {error.message}", parameter=error.field
        ) from error


@dataclass(frozen=True)
class _QueryValues:
    template_values: dict[str, str]
    extra: list[tuple[str, str]]


def _read_query(
    *, operation: OperationEntry, query: list[tuple[str, str]], key_name: str
) -> _QueryValues:
    """Template placeholders from the template's query keys, declared query parameters
    as they come; any other key is refused (docs/design.md, "Outbound: query keys from the
    operation")."""
    template_values: dict[str, str] = {}
    extra: list[tuple[str, str]] = []
    undeclared: list[str] = []
    for key, value in query:
        if key_name and key == key_name:
            continue  # the subscription key goes no further
        item = operation.query_items.get(key)
        if item is not None:
            if item.literal is not None:
                if value != item.literal:
                    raise _bad_request(
                        "InvalidParameter",
                        f"The query parameter {key} is fixed to {item.literal!r} by the operation.",
                        parameter=key,
                    )
                continue
            read = item.read(value)
            if read is None:
                raise _bad_request(
                    "InvalidParameter",
                    f"The query parameter {key} must look like {item.shape}.",
                    parameter=key,
                )
            if any(name in template_values for name in read):
                raise _bad_request(
                    "InvalidParameter",
                    f"The query parameter {key} is given twice.",
                    parameter=key,
                )
            template_values.update(read)
        elif key in operation.query_parameters:
            extra.append((key, value))
        elif key not in undeclared:
            undeclared.append(key)
    if undeclared:
        raise _bad_request(
            "UnknownQueryParameter",
            f"The operation has no query parameter {', '.join(undeclared)}.",
            parameters=undeclared,
        )
    return _QueryValues(template_values=template_values, extra=extra)


def _forwarded_headers(
    *, call: IncomingCall, api: ApiEntry, operation: OperationEntry, has_body: bool
) -> list[tuple[str, str]]:
    key_header = api.subscription_key_header.lower()
    names = [*operation.header_parameters.values(), *FORWARDED_REQUEST_HEADERS]
    headers: list[tuple[str, str]] = []
    seen: set[str] = set()
    for name in names:
        lowered = name.lower()
        if lowered in seen or lowered == key_header or is_refused_name(name):
            continue
        seen.add(lowered)
        if lowered == "content-type" and not has_body:
            continue
        value = call.headers.get(name)
        if value is not None:
            headers.append((name, value))
    return headers


def _read_body(call: IncomingCall) -> bytes:
    limit = settings.PORTAL_OUTBOUND_MAX_REQUEST_BODY_BYTES
    too_large = _Refusal(
        413,
        "RequestBodyTooLarge",
        f"The request body is larger than the gateway takes ({outbound.format_size(limit)}).",
        outcome=CallOutcome.BAD_REQUEST,
    )
    if call.content_length is not None and call.content_length > limit:
        raise too_large
    if call.read_body is None:
        raise _Refusal(
            411,
            "LengthRequired",
            "Send the request body with a Content-Length.",
            outcome=CallOutcome.BAD_REQUEST,
        )
    try:
        body = call.read_body(limit + 1)
    except UnreadableBody as error:
        raise _bad_request(
            "InvalidRequest",
            "The request body could not be read: its chunked encoding is malformed "
            "or it ends early.",
        ) from error
    if len(body) > limit:
        raise too_large
    return body


# --- The answer -------------------------------------------------------------------------


def _refuse_by_limits(*, admission: Admission, product: Product) -> NoReturn:
    refusal = limits.limit_refusal(admission=admission, product=product)
    wait = "Try again in" if admission.refused_by == "rate" else "The quota renews in"
    raise _Refusal(
        refusal.status,
        refusal.code,
        f"{refusal.message} {wait} {admission.retry_after} seconds.",
        outcome=refusal.outcome,
        headers=admission.headers(),
    )


def _backend_failure(result: outbound.SendResult, *, usage: list[tuple[str, str]]) -> _Refusal:
    kind = result.error_kind or outbound.ErrorKind.PROTOCOL
    if kind is outbound.ErrorKind.INVALID_INPUT:
        # The re-check refused the built request: nothing was sent.
        return _Refusal(
            400,
            "InvalidRequest",
            "The request fails the gateway's checks and was not sent.",
            outcome=CallOutcome.BAD_REQUEST,
            headers=usage,
            error_kind=kind.value,
        )
    timeout = kind is outbound.ErrorKind.TIMEOUT
    # The kind, not outbound's message: that names the backend's address.
    return _Refusal(
        504 if timeout else 502,
        "BackendTimeout" if timeout else "BackendError",
        backend_failure_message(kind.value),
        outcome=CallOutcome.BACKEND_ERROR,
        headers=usage,
        error_kind=kind.value,
        kind=kind.value,
    )


def _usage_headers(subscription: Subscription | None, product: Product | None) -> list:
    if subscription is None or product is None:
        return []
    return limits.current_usage(subscription=subscription, product=product).headers()


def _bad_request(code: str, message: str, **details: object) -> _Refusal:
    # `details` are the error's fields only: a bad request sends no extra headers.
    return _Refusal(
        400, code, message, outcome=CallOutcome.BAD_REQUEST, headers=(), error_kind="", **details
    )


def _error_answer(refusal: _Refusal) -> GatewayAnswer:
    error = {"code": refusal.code, "message": refusal.message, **refusal.details}
    return GatewayAnswer(
        status=refusal.status,
        headers=_merge([], [*refusal.headers, *ANSWER_HEADERS]),
        body=json.dumps({"error": error}).encode(),
        content_type="application/json",
    )


def _location(
    *, result: outbound.SendResult, api: ApiEntry, usage: list[tuple[str, str]]
) -> str | None:
    """The answer's Location under the gateway, None without one; an answer pointing
    anywhere else is refused (gateway/redirects.py)."""
    assert result.response is not None
    found = [value for name, value in result.response.headers if name.lower() == "location"]
    if not found:
        return None
    moved = None
    if len(found) == 1:
        moved = gateway_location(
            location=found[0],
            request_url=result.request.url,
            service_url=api.service_url,
            base=GATEWAY_PREFIX + "/".join(api.suffix),
        )
    if moved is None:
        raise _Refusal(
            502,
            "BackendError",
            "The backend answered with a Location outside its own URL; the gateway does "
            "not pass it on.",
            outcome=CallOutcome.BACKEND_ERROR,
            headers=usage,
            error_kind=REDIRECT_KIND,
            kind=REDIRECT_KIND,
        )
    return moved


def _answer_headers(received: Sequence[tuple[str, str]], *, location: str | None) -> list:
    """The backend's headers a caller gets: one line per name (repeated ones joined, as
    RFC 9110 allows for every header but Set-Cookie, which stays behind anyway), with
    `location` for the backend's Location."""
    # Connection may name more hop-by-hop headers.
    named = {
        token.strip().lower()
        for name, value in received
        if name.lower() == "connection"
        for token in value.split(",")
    }
    combined: dict[str, tuple[str, str]] = {}
    for name, value in received:
        lowered = name.lower()
        if lowered in DROPPED_RESPONSE_HEADERS or lowered in named or lowered == "content-type":
            continue
        if not TOKEN.match(name):
            continue
        if lowered == "location" and location is not None:
            value = location
        if lowered in combined:
            first, previous = combined[lowered]
            combined[lowered] = (first, f"{previous}, {value}")
        else:
            combined[lowered] = (name, value)
    return list(combined.values())


def _merge(
    headers: list[tuple[str, str]], overrides: Sequence[tuple[str, str]]
) -> list[tuple[str, str]]:
    names = {name.lower() for name, _ in overrides}
    return [(n, v) for n, v in headers if n.lower() not in names] + list(overrides)


# --- Recording --------------------------------------------------------------------------


def _recorded_path(path: str, query_string: str, *, secret: set[str] | frozenset | None) -> str:
    """The path as called, query included; the key's and secret values masked. Before the
    API is known (secret None) every query value is masked: any might be a key."""
    if not query_string:
        return path
    if secret is None:
        masked = "&".join(
            f"{pair.partition('=')[0]}={MASK}" if "=" in pair else pair
            for pair in query_string.split("&")
        )
        return f"{path}?{masked}"
    return mask_url(f"{path}?{query_string}", secret_names=secret)


def _address(address: str) -> str | None:
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None
