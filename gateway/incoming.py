"""What the gateway reads of an incoming call, and the request it builds from it.

What the caller sent is read, never trusted: query keys come from the operation's
definition, headers from a short list plus the operation's header parameters, cookies
from the operation's documented names less the portal's own (gateway/forwarded_cookies.py),
and the subscription key, wherever it came from, never goes further. Every fault is a Refusal
(gateway/answers.py) the caller gets as a 400, 411 or 413.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl

from django.conf import settings

from gateway.answers import Refusal, bad_request
from gateway.forwarded_cookies import CookieHeaderTooLarge, forwarded_cookies
from gateway.models import CallOutcome
from gateway.registry import ApiEntry, OperationEntry
from gateway.routing import (
    PathValueError,
    RouteMatch,
    decode_values,
)
from httpcore.headers import is_refused_name
from httpcore.outbound import format_size
from httpcore.templating import BindError, OutboundRequest, bind

MAX_QUERY_FIELDS = 200

# Request headers a caller may always send on, besides the operation's header parameters.
FORWARDED_REQUEST_HEADERS = (
    "Accept",
    "Accept-Language",
    "Content-Type",
    "If-Match",
    "If-None-Match",
)


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


# --- The request ------------------------------------------------------------------------


def parse_query(query_string: str) -> list[tuple[str, str]]:
    try:
        return parse_qsl(query_string, keep_blank_values=True, max_num_fields=MAX_QUERY_FIELDS)
    except ValueError as error:
        raise Refusal(
            400,
            "TooManyQueryParameters",
            f"The query string has more than {MAX_QUERY_FIELDS} parameters.",
            outcome=CallOutcome.BAD_REQUEST,
        ) from error


def key_of(*, call: IncomingCall, api: ApiEntry, query: list[tuple[str, str]]) -> str:
    """The subscription key: the header's when both the header and the query carry one."""
    header = (call.headers.get(api.subscription_key_header) or "").strip()
    if header or not api.subscription_key_query:
        return header
    return next((value for key, value in query if key == api.subscription_key_query), "")


def build_forwarded_request(
    *,
    call: IncomingCall,
    api: ApiEntry,
    operation: OperationEntry,
    matched: RouteMatch,
    query: list[tuple[str, str]],
    on_body_read: Callable[[int], None],
) -> OutboundRequest:
    """The request the call asks for, bound under the API's service URL; raises Refusal.
    on_body_read hears the body's size once it is read, whatever happens after."""
    method = operation.method
    has_body = bool(call.content_length) or call.chunked
    if has_body and method in {"GET", "HEAD"}:
        raise bad_request("BodyNotAllowed", f"A {method} call cannot carry a body.")
    try:
        template_values = decode_values(matched)
    except PathValueError as error:
        raise bad_request("InvalidParameter", str(error), parameter=error.name) from error
    query_values = _read_query(
        operation=operation, query=query, key_name=api.subscription_key_query
    )
    template_values.update(query_values.template_values)
    headers = _forwarded_headers(call=call, api=api, operation=operation, has_body=has_body)
    try:
        cookies = forwarded_cookies(header=call.headers.get("Cookie"), names=operation.cookie_names)
    except CookieHeaderTooLarge as error:
        raise bad_request("CookieTooLarge", str(error)) from error
    missing = [name for name in operation.required_query_names if not template_values.get(name)]
    sent_query = {key for key, value in query_values.extra if value}
    missing += [name for name in operation.required_query_parameters if name not in sent_query]
    sent_headers = {name.lower() for name, _ in headers}
    missing += [name for name in operation.required_headers if name.lower() not in sent_headers]
    sent_cookies = {name for name, _ in cookies}
    missing += [name for name, sent_as in operation.required_cookies if not sent_as & sent_cookies]
    if missing:
        raise bad_request(
            "MissingParameter",
            f"Missing required parameter{'s' if len(missing) > 1 else ''}: {', '.join(missing)}.",
            parameters=missing,
        )
    for name in operation.template.query_names:
        template_values.setdefault(name, "")
    body = _read_body(call) if has_body else None
    on_body_read(len(body or b""))
    try:
        return bind(
            service_url=api.service_url,
            method=method,
            template=operation.template,
            template_values=template_values,
            query_values=query_values.extra,
            headers=headers,
            cookies=cookies,
            body=body,
            secret_names=operation.secret_names | {api.subscription_key_query.lower()},
        )
    except BindError as error:
        raise bad_request(
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
                    raise bad_request(
                        "InvalidParameter",
                        f"The query parameter {key} is fixed to {item.literal!r} by the operation.",
                        parameter=key,
                    )
                continue
            read = item.read(value)
            if read is None:
                raise bad_request(
                    "InvalidParameter",
                    f"The query parameter {key} must look like {item.shape}.",
                    parameter=key,
                )
            if any(name in template_values for name in read):
                raise bad_request(
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
        raise bad_request(
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
    too_large = Refusal(
        413,
        "RequestBodyTooLarge",
        f"The request body is larger than the gateway takes ({format_size(limit)}).",
        outcome=CallOutcome.BAD_REQUEST,
    )
    if call.content_length is not None and call.content_length > limit:
        raise too_large
    if call.read_body is None:
        raise Refusal(
            411,
            "LengthRequired",
            "Send the request body with a Content-Length.",
            outcome=CallOutcome.BAD_REQUEST,
        )
    try:
        body = call.read_body(limit + 1)
    except UnreadableBody as error:
        raise bad_request(
            "InvalidRequest",
            "The request body could not be read: its chunked encoding is malformed "
            "or it ends early.",
        ) from error
    if len(body) > limit:
        raise too_large
    return body
