"""What the gateway answers: the backend's answer made safe to serve from the portal's
origin, or the gateway's own JSON error (a Refusal)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NoReturn

from gateway import limits
from gateway.limits import Admission
from gateway.models import CallOutcome, Product, Subscription
from gateway.public_urls import backend_failure_message
from gateway.redirects import gateway_location
from gateway.registry import ApiEntry
from gateway.routing import (
    GATEWAY_PREFIX,
)
from httpcore.errors import ErrorKind
from httpcore.headers import TOKEN
from httpcore.outbound import SendResult, format_size

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


@dataclass(frozen=True)
class GatewayAnswer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    reason: str = ""
    content_type: str | None = None  # None: the answer has no Content-Type


class Refusal(Exception):
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


def backend_answer(
    *, result: SendResult, api: ApiEntry, usage: list[tuple[str, str]]
) -> GatewayAnswer:
    response = result.response
    if result.error_kind is not None or response is None:
        raise _backend_failure(result, usage=usage)
    if response.truncated:
        raise Refusal(
            502,
            "BackendResponseTooLarge",
            f"The backend's answer is larger than the gateway passes on "
            f"({format_size(response.size)}).",
            outcome=CallOutcome.BACKEND_ERROR,
            headers=usage,
            error_kind=ErrorKind.TOO_LARGE.value,
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


# --- The answer -------------------------------------------------------------------------


def refuse_by_limits(*, admission: Admission, product: Product) -> NoReturn:
    refusal = limits.limit_refusal(admission=admission, product=product)
    wait = "Try again in" if admission.refused_by == "rate" else "The quota renews in"
    raise Refusal(
        refusal.status,
        refusal.code,
        f"{refusal.message} {wait} {admission.retry_after} seconds.",
        outcome=refusal.outcome,
        headers=admission.headers(),
    )


def _backend_failure(result: SendResult, *, usage: list[tuple[str, str]]) -> Refusal:
    kind = result.error_kind or ErrorKind.PROTOCOL
    if kind is ErrorKind.INVALID_INPUT:
        # The re-check refused the built request: nothing was sent.
        return Refusal(
            400,
            "InvalidRequest",
            "The request fails the gateway's checks and was not sent.",
            outcome=CallOutcome.BAD_REQUEST,
            headers=usage,
            error_kind=kind.value,
        )
    timeout = kind is ErrorKind.TIMEOUT
    # The kind, not outbound's message: that names the backend's address.
    return Refusal(
        504 if timeout else 502,
        "BackendTimeout" if timeout else "BackendError",
        backend_failure_message(kind.value),
        outcome=CallOutcome.BACKEND_ERROR,
        headers=usage,
        error_kind=kind.value,
        kind=kind.value,
    )


def usage_headers(subscription: Subscription | None, product: Product | None) -> list:
    if subscription is None or product is None:
        return []
    return limits.current_usage(subscription=subscription, product=product).headers()


def bad_request(code: str, message: str, **details: object) -> Refusal:
    # `details` are the error's fields only: a bad request sends no extra headers.
    return Refusal(
        400, code, message, outcome=CallOutcome.BAD_REQUEST, headers=(), error_kind="", **details
    )


def error_answer(refusal: Refusal) -> GatewayAnswer:
    error = {"code": refusal.code, "message": refusal.message, **refusal.details}
    return GatewayAnswer(
        status=refusal.status,
        headers=_merge([], [*refusal.headers, *ANSWER_HEADERS]),
        body=json.dumps({"error": error}).encode(),
        content_type="application/json",
    )


def _location(*, result: SendResult, api: ApiEntry, usage: list[tuple[str, str]]) -> str | None:
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
        raise Refusal(
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
