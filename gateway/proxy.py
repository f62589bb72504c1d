"""The gateway: one call to /gateway/<url suffix>/<path>, from matching to recording.

    route (404, 405) -> key (401, 403) -> request checks and bind (400, 411, 413)
      -> limits (429, 403) -> outbound.send -> the backend's answer (or 502, 504)
      -> record_call

Nothing reaches the backend unless every step before sending passes, and everything
that does goes through `templating.bind` and `outbound.send` (docs/design.md, "The one
path"). What the caller sent is read, never trusted: query keys come from the
operation's definition, headers from a short list plus the operation's header
parameters, cookies from the operation's documented names less the portal's own, and
the subscription key, wherever it came from, never goes further.

Framework-free: the view hands an IncomingCall and turns the GatewayAnswer into a
response.
"""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass

from gateway import access, limits, registry
from gateway.answers import (
    GatewayAnswer,
    Refusal,
    backend_answer,
    error_answer,
    refuse_by_limits,
    usage_headers,
)
from gateway.incoming import (
    IncomingCall,
    UnreadableBody,
    build_forwarded_request,
    key_of,
    parse_query,
)
from gateway.models import CallOutcome, CallSource, Product, Subscription
from gateway.recording import record_call_later
from gateway.registry import ApiEntry
from gateway.routing import (
    GATEWAY_PREFIX,
    MethodNotAllowed,
    RouteMatch,
    SuffixMatch,
    masked_path,
    split_path,
)
from httpcore.masking import MASK, mask_url
from httpcore.outbound import SendResult
from httpcore.pipeline import run_call
from httpcore.templating import OutboundRequest

__all__ = ["GATEWAY_PREFIX", "GatewayAnswer", "IncomingCall", "UnreadableBody", "handle_call"]


MAX_RECORDED_PATH = 4096


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
    except Refusal as refusal:
        answer = error_answer(refusal)
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


@dataclass(frozen=True)
class _ForwardPolicy:
    """The gateway around the send: the product's limits before (the key was checked
    before the request was read, so that a caller without one learns nothing more), the
    backend's answer made safe after."""

    api: ApiEntry
    subscription: Subscription | None
    product: Product | None
    record: _Record

    def admit(self, request: OutboundRequest) -> list[tuple[str, str]]:
        """The usage headers of the answer; raises Refusal (429, 403) past a limit."""
        if self.subscription is None or self.product is None:
            return []
        admission = limits.admit(subscription=self.subscription, product=self.product)
        if not admission.allowed:
            refuse_by_limits(admission=admission, product=self.product)
        return admission.headers()

    def finish(self, usage: list[tuple[str, str]], result: SendResult) -> GatewayAnswer:
        self.record.backend_duration_ms = result.duration_ms
        return backend_answer(result=result, api=self.api, usage=usage)


def _forward(*, call: IncomingCall, record: _Record) -> tuple[GatewayAnswer, str, str]:
    """The backend's answer with its outcome and error kind; raises Refusal otherwise."""
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
    query = parse_query(call.query_string)

    decision = access.check_key(api=api, key=key_of(call=call, api=api, query=query))
    record.subscription = decision.subscription
    if not decision.allowed:
        raise Refusal(
            decision.status,
            decision.code,
            decision.message,
            outcome=decision.outcome,
            headers=usage_headers(decision.subscription, decision.product),
        )

    def read(size: int) -> None:
        record.request_bytes = size

    try:
        request = build_forwarded_request(
            call=call, api=api, operation=operation, matched=matched, query=query, on_body_read=read
        )
    except Refusal as refusal:
        refusal.headers += usage_headers(decision.subscription, decision.product)
        raise
    policy = _ForwardPolicy(
        api=api, subscription=decision.subscription, product=decision.product, record=record
    )
    return run_call(request=request, policy=policy), CallOutcome.FORWARDED, ""


def _route(
    *, call: IncomingCall, record: _Record
) -> tuple[ApiEntry, SuffixMatch[ApiEntry], RouteMatch]:
    """The API and the operation the path and method name (404, 405)."""
    found = registry.find_api(split_path(call.rest))
    if found is None:
        raise Refusal(
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
        raise Refusal(
            404,
            "OperationNotFound",
            f"{api.name} has no operation at this path.",
            outcome=CallOutcome.NOT_FOUND,
        )
    if isinstance(matched, MethodNotAllowed):
        raise Refusal(
            405,
            "MethodNotAllowed",
            f"This path of {api.name} does not take {call.method[:20]}; it takes "
            f"{', '.join(matched.allowed)}.",
            outcome=CallOutcome.NOT_FOUND,
            headers=[("Allow", ", ".join(matched.allowed))],
        )
    return api, found, matched


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
