"""Calls the portal makes for a user go through the gateway: Try it and replay.

An API in a product that needs a subscription is called from the portal the way the
gateway would call it. The key comes from the request's subscription key header row (the
Try it form's, or a saved request's); `access.check_key` decides, `limits.admit` counts,
and the key header is taken out of the request before it is bound and sent, so the
backend never sees it. Every call, refused or sent, is a GatewayCall with its source
("tryit" or "replay"); refused calls send nothing and leave no Exchange.

A sender holds one `PortalGateway` per call (`portal_gateway`, None when the API needs
no key): `check` decides without writing anything (a replay may decide in a worker
thread and record in the calling one), `enter` decides and records a refusal at once,
and `record_sent` records an admitted call once it is answered.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import urlsplit

from django.contrib.auth.models import AnonymousUser, User
from django.http import Http404
from django.urls import reverse

from catalog.models import Api, Operation
from gateway import access, registry
from gateway.limits import Admission, admit, limit_refusal
from gateway.models import (
    CallOutcome,
    CallSource,
    Product,
    QuotaPeriod,
    Subscription,
    SubscriptionState,
)
from gateway.recording import record_call
from gateway.selectors import products_requiring_key, subscriptions_for_api
from gateway.tryit_choice import opening_choice
from gateway.wording import calls_in_words, format_duration
from httpcore.errors import ErrorKind
from httpcore.masking import mask_request_url
from httpcore.outbound import SendResult
from httpcore.templating import OutboundRequest

# What the gateway would answer when the backend cannot be reached.
_BACKEND_FAILURE_STATUS = {ErrorKind.TIMEOUT: 504}
_QUOTA_WORDS: dict[int, str] = {
    QuotaPeriod.HOUR: "this hour",
    QuotaPeriod.DAY: "today",
    QuotaPeriod.WEEK: "this week",
    QuotaPeriod.MONTH: "in this 30-day period",
}


# --- The console: the subscription select above the headers --------------------------


@dataclass(frozen=True)
class TryItConsole:
    """What the Try it form shows about the gateway for one API and user."""

    required: bool  # False: the API is in no product that needs a key; Try it as ever
    key_header: str = ""  # the header row the chosen subscription's key fills
    subscriptions: list[Subscription] = field(default_factory=list)
    selected: str = ""  # the chosen subscription's id, as posted


def try_it_console(
    *, api: Api, user: User | AnonymousUser, selected: str | None = None
) -> TryItConsole:
    """`selected` is the select's posted value after a Send, kept when it is one of the
    listed subscriptions; None when the page opens, which then selects the user's
    remembered or only subscription (gateway.tryit_choice)."""
    if not key_required(api=api):
        return TryItConsole(required=False)
    subscriptions = subscriptions_for_api(user=user, api=api)
    if selected is None:
        chosen = opening_choice(user=user, api=api, subscriptions=subscriptions)
    else:
        chosen = selected if any(str(s.pk) == selected for s in subscriptions) else ""
    return TryItConsole(
        required=True,
        key_header=api.subscription_key_header,
        subscriptions=subscriptions,
        selected=chosen,
    )


def key_for_try_it(*, user: User | AnonymousUser, subscription_id: int) -> str:
    """The primary key of the user's own active subscription; Http404 for any other.

    Anyone else's subscription, one that is not active and an anonymous caller get the
    same 404, so the answer does not even tell whether the subscription exists.
    """
    if not user.is_authenticated:
        raise Http404("No such subscription.")
    subscription = (
        Subscription.objects.owned_by(user)
        .filter(pk=subscription_id, state=SubscriptionState.ACTIVE)
        .first()
    )
    if subscription is None:
        raise Http404("No such subscription.")
    return subscription.key("primary")


# --- The key header ---------------------------------------------------------------------


def key_from_headers(*, api: Api, headers: list[tuple[str, str]]) -> str:
    """The value of the subscription key header row, "" when there is none."""
    wanted = api.subscription_key_header.lower()
    return next((value for name, value in headers if name.lower() == wanted), "")


def own_key(*, user: User | AnonymousUser | None, api: Api) -> str:
    """The primary key of the user's first active subscription through which the API
    needs a key, in the order Try it lists them; "" when there is none. A replayed
    request that holds no key is sent with it, counted against the runner's own limits."""
    if user is None:
        return ""
    required = {product.pk for product in products_requiring_key(api=api)}
    for subscription in subscriptions_for_api(user=user, api=api):
        if subscription.product_id in required:
            return subscription.key("primary")
    return ""


def key_required(*, api: Api) -> bool:
    """Whether calls from the portal (Try it, replay) go through the gateway for this API.

    Every operation page and Try it call asks, twice for a call: the process's gateway
    registry answers without a query, as it does for the gateway itself.
    """
    return registry.requires_key(api.pk)


def without_key_header(*, api: Api, headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    wanted = api.subscription_key_header.lower()
    return [(name, value) for name, value in headers if name.lower() != wanted]


Caller = User | AnonymousUser | None


# --- Remaining calls, as the result panel says them -------------------------------------


def usage_lines(*, admission: Admission, product: Product) -> list[str]:
    """ "Rate limit: 4 of 5 calls left (per 60 s)", "Quota: 99 of 100 calls left this
    week, renews in 6 d 23 h"; nothing for a product without limits."""
    lines = []
    if admission.rate_limit:
        lines.append(
            f"Rate limit: {admission.rate_remaining} of "
            f"{calls_in_words(admission.rate_limit)} left (per {admission.rate_period} s)"
        )
    if admission.quota_limit:
        period = product.quota_period_seconds
        words = _QUOTA_WORDS.get(period, f"in this period of {format_duration(period)}")
        lines.append(
            f"Quota: {admission.quota_remaining} of {calls_in_words(admission.quota_limit)} left "
            f"{words}, renews in {format_duration(admission.quota_reset)}"
        )
    return lines


# --- Deciding, and recording what was decided -------------------------------------------


@dataclass(frozen=True)
class GatewayRefusal:
    """The gateway's answer to a call it refused, for the result panel."""

    status: int
    code: str
    message: str
    retry_after: int = 0
    usage: list[str] = field(default_factory=list)
    # The request as it would have gone out, masked: shown, never sent. `path` is the
    # gateway's (recorded), `url` the backend's (shown as public_urls.call_address says).
    method: str = ""
    path: str = ""
    url: str = ""
    # For the GatewayCall that records the refusal.
    outcome: str = ""
    subscription: Subscription | None = field(default=None, compare=False)
    duration_ms: float = 0.0

    @property
    def reason(self) -> str:
        return HTTPStatus(self.status).phrase

    @property
    def summary(self) -> str:
        """ "429 RateLimitExceeded: Rate limit exceeded: ... Retry-After: 42 s." """
        text = f"{self.status} {self.code}: {self.message}"
        return f"{text} Retry-After: {self.retry_after} s." if self.retry_after else text


class GatewayRefused(Exception):
    def __init__(self, refusal: GatewayRefusal) -> None:
        super().__init__(refusal.message)
        self.refusal = refusal


@dataclass(frozen=True)
class GatewayPass:
    """An admitted call: what the result panel says about it, and what recording needs."""

    subscription: Subscription
    product: Product
    admission: Admission
    usage: list[str]
    path: str
    started: float  # time.perf_counter() when the gateway step began


def gateway_path(*, api: Api, request: OutboundRequest) -> str:
    """The call as a gateway caller would write it, secrets masked:
    /gateway/<url suffix>/<path under the service URL>?<query>."""
    masked = urlsplit(mask_request_url(request))
    service_path = urlsplit(request.service_url).path.rstrip("/")
    path = masked.path[len(service_path) :] if masked.path.startswith(service_path) else ""
    suffix = api.url_suffix.strip("/")
    prefix = reverse("gateway:gateway", kwargs={"rest": ""}) + (f"{suffix}" if suffix else "")
    query = f"?{masked.query}" if masked.query else ""
    return f"{prefix.rstrip('/')}/{path.lstrip('/')}{query}"


def _caller(user: User | AnonymousUser | None) -> dict:
    """The signed-in user made the call; without one the key's owner is counted."""
    if user is not None and user.is_authenticated:
        return {"user": user}
    return {}


def record_refused(
    *,
    refusal: GatewayRefusal,
    operation: Operation,
    request: OutboundRequest,
    user: User | AnonymousUser | None,
    address: str,
    source: str = CallSource.TRY_IT,
) -> None:
    record_call(
        source=source,
        api=operation.api,
        operation=operation,
        subscription=refusal.subscription,
        **_caller(user),
        method=request.method,
        path=refusal.path,
        outcome=refusal.outcome,
        status_code=refusal.status,
        duration_ms=refusal.duration_ms,
        request_bytes=len(request.body or b""),
        client_address=address or None,
    )


def check_call(
    *, operation: Operation, request: OutboundRequest, key: str
) -> GatewayPass | GatewayRefusal | None:
    """Check the key and count the call as the gateway does, recording nothing.

    A GatewayRefusal when the key is missing, wrong or of a subscription that is not
    active (401/403), or when the rate limit (429) or the quota (403) is used up; None
    when the API needs no key after all (its last product stopped requiring one since
    the request was read). `request` is the one that will be sent, without the key.
    """
    started = time.perf_counter()
    api = operation.api
    path = gateway_path(api=api, request=request)

    def refused(
        *,
        status: int,
        code: str,
        message: str,
        outcome: str,
        subscription: Subscription | None,
        retry_after: int = 0,
        usage: list[str] | None = None,
    ) -> GatewayRefusal:
        duration_ms = (time.perf_counter() - started) * 1000
        return GatewayRefusal(
            status=status,
            code=code,
            message=message,
            retry_after=retry_after,
            usage=[] if usage is None else usage,
            method=request.method,
            path=path,
            url=mask_request_url(request),
            outcome=outcome,
            subscription=subscription,
            duration_ms=duration_ms,
        )

    # Looked up on the module, so that a test watching access.check_key sees every key.
    decision = access.check_key(api=api, key=key)
    if decision.allowed and decision.subscription is None:
        return None
    if not decision.allowed or decision.subscription is None or decision.product is None:
        return refused(
            status=decision.status,
            code=decision.code,
            message=decision.message,
            outcome=decision.outcome,
            subscription=decision.subscription,
        )
    subscription, product = decision.subscription, decision.product
    admission = admit(subscription=subscription, product=product)
    usage = usage_lines(admission=admission, product=product)
    if not admission.allowed:
        limit = limit_refusal(admission=admission, product=product)
        return refused(
            status=limit.status,
            code=limit.code,
            message=limit.message,
            retry_after=admission.retry_after,
            usage=usage,
            outcome=limit.outcome,
            subscription=subscription,
        )
    return GatewayPass(
        subscription=subscription,
        product=product,
        admission=admission,
        usage=usage,
        path=path,
        started=started,
    )


def record_sent(
    *,
    gateway_pass: GatewayPass,
    operation: Operation,
    result: SendResult,
    user: User | AnonymousUser | None,
    address: str,
    source: str = CallSource.TRY_IT,
    finished: float | None = None,
) -> None:
    """Record an admitted call once the backend answered (or failed to); `finished` is
    time.perf_counter() when the answer was back, when it is recorded later than that."""
    response = result.response
    fields: dict = {
        "outcome": CallOutcome.FORWARDED,
        "status_code": response.status_code if response is not None else None,
    }
    if not result.ok:
        kind = result.error_kind
        fields = {
            "outcome": CallOutcome.BACKEND_ERROR,
            "status_code": _BACKEND_FAILURE_STATUS.get(kind, 502) if kind else 502,
            "error_kind": kind.value if kind else "",
        }
    record_call(
        source=source,
        api=operation.api,
        operation=operation,
        subscription=gateway_pass.subscription,
        **_caller(user),
        method=result.request.method,
        path=gateway_pass.path,
        duration_ms=((finished or time.perf_counter()) - gateway_pass.started) * 1000,
        backend_duration_ms=result.duration_ms,
        request_bytes=len(result.request.body or b""),
        response_bytes=response.size if response is not None else 0,
        client_address=address or None,
        **fields,
    )


@dataclass(frozen=True)
class PortalGateway:
    """The gateway's step for one call the portal makes for a user (Try it, a replay's
    tries): the key it is checked with, and who and what each GatewayCall names."""

    operation: Operation
    key: str
    user: Caller
    address: str
    source: str

    def without_key(self, headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
        return without_key_header(api=self.operation.api, headers=headers)

    def check(self, request: OutboundRequest) -> GatewayPass | GatewayRefusal | None:
        return check_call(operation=self.operation, request=request, key=self.key)

    def enter(self, request: OutboundRequest) -> GatewayPass | None:
        """check, recording a refusal: raises GatewayRefused after recording it."""
        decision = self.check(request)
        if isinstance(decision, GatewayRefusal):
            self.record_refused(refusal=decision, request=request)
            raise GatewayRefused(decision)
        return decision

    def record_refused(self, *, refusal: GatewayRefusal, request: OutboundRequest) -> None:
        record_refused(
            refusal=refusal,
            operation=self.operation,
            request=request,
            user=self.user,
            address=self.address,
            source=self.source,
        )

    def record_sent(
        self, *, gateway_pass: GatewayPass, result: SendResult, finished: float | None = None
    ) -> None:
        record_sent(
            gateway_pass=gateway_pass,
            operation=self.operation,
            result=result,
            user=self.user,
            address=self.address,
            source=self.source,
            finished=finished,
        )


def portal_gateway(
    *, operation: Operation, key: str, user: Caller, address: str, source: str
) -> PortalGateway | None:
    """The gateway's step for a call to the operation, None when its API needs no key."""
    if not key_required(api=operation.api):
        return None
    return PortalGateway(operation=operation, key=key, user=user, address=address, source=source)
