"""A replay step's tries: each one through the call pipeline (httpcore/pipeline.py),
repeated while the repeat condition does not hold, and once more after a Retry-After
within the limit; then each try recorded, as its GatewayCall and Exchange.

Sending writes nothing to the database (the gateway's key check may read), so that a
parallel run can send in worker threads and record in its own.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings

from catalog.models import Operation
from console import tryit
from console.models import Exchange
from gateway.tryit_access import GatewayPass, GatewayRefusal, PortalGateway
from httpcore import outbound
from httpcore.pipeline import release_while_waiting, run_call
from httpcore.templating import OutboundRequest
from httpcore.variables import scrub
from testing import checks
from testing.checks import CheckResult
from testing.models import SavedRequest
from testing.preparation import Caller, Prepared, scrubbed_for_storage
from testing.retry_after import RetryVerdict, decide

# Bounds on what a saved request may ask for, whatever its fields say: a poll loop
# must end, and a run must not hold a worker for hours.
MAX_REPEAT_TRIES = 100
MAX_REPEAT_DELAY_SECONDS = 60.0


@dataclass(frozen=True)
class Try:
    """One try of a step: sent (result, admitted by gateway_pass when the API needs a
    key) or refused by the gateway before anything was sent (refusal)."""

    result: outbound.SendResult | None = None
    gateway_pass: GatewayPass | None = None
    refusal: GatewayRefusal | None = None
    # time.perf_counter() when the answer was back: a parallel run records tries later.
    finished: float = 0.0


def _unsaved(
    *, prepared: Prepared, result: outbound.SendResult, user: Caller
) -> tryit.PendingExchange:
    values, stored = scrubbed_for_storage(prepared, result)
    # The secrets are the collection owner's: only the owner's exchange keeps them for
    # Save and Try again, a group runner's keeps the masked values only.
    return tryit.unsaved_exchange(
        operation=prepared.operation,
        values=values,
        result=stored,
        user=user,
        session_key="",
        kept_secrets=prepared.values if prepared.owns_secrets else None,
        server=prepared.server,
    )


def record_try(*, prepared: Prepared, attempt: Try, user: Caller) -> Exchange | None:
    """The try's GatewayCall (for an API behind a key) and Exchange (when it was sent)."""
    pending = record_try_later(prepared=prepared, attempt=attempt, user=user)
    if pending is None:
        return None
    tryit.record_exchanges([pending])
    return pending.exchange


def record_try_later(
    *, prepared: Prepared, attempt: Try, user: Caller
) -> tryit.PendingExchange | None:
    """The try's GatewayCall, recorded, and its Exchange when it was sent, built for
    tryit.record_exchanges to save with others."""
    texts, gateway = prepared.secret_texts, prepared.gateway
    if attempt.refusal is not None:
        if gateway is not None:
            refusal = dataclasses.replace(attempt.refusal, path=scrub(attempt.refusal.path, texts))
            gateway.record_refused(refusal=refusal, request=prepared.request)
        return None
    assert attempt.result is not None
    if gateway is not None and attempt.gateway_pass is not None:
        gateway_pass = attempt.gateway_pass
        gateway_pass = dataclasses.replace(gateway_pass, path=scrub(gateway_pass.path, texts))
        gateway.record_sent(
            gateway_pass=gateway_pass, result=attempt.result, finished=attempt.finished
        )
    return _unsaved(prepared=prepared, result=attempt.result, user=user)


class _Refused(Exception):
    def __init__(self, refusal: GatewayRefusal) -> None:
        super().__init__(refusal.message)
        self.refusal = refusal


@dataclass(frozen=True)
class _TryPolicy:
    """A replay's try around the send: the gateway's step before, when the API needs a
    key; nothing recorded after (record_try does, in the run's own thread)."""

    gateway: PortalGateway | None

    def admit(self, request: OutboundRequest) -> GatewayPass | None:
        if self.gateway is None:
            return None
        decision = self.gateway.check(request)
        if isinstance(decision, GatewayRefusal):
            raise _Refused(decision)
        return decision

    def finish(self, gateway_pass: GatewayPass | None, result: outbound.SendResult) -> Try:
        return Try(result=result, gateway_pass=gateway_pass, finished=time.perf_counter())


def _try_once(prepared: Prepared) -> Try:
    """One try: refused by the gateway (nothing sent), or sent."""
    try:
        return run_call(request=prepared.request, policy=_TryPolicy(gateway=prepared.gateway))
    except _Refused as refused:
        return Try(refusal=refused.refusal)


Sleep = Callable[[float], None]


@dataclass(frozen=True)
class Sent:
    """The tries of a step, the repeat condition on the last answer, and what the step
    did about a Retry-After (None when no answer asked it to wait)."""

    results: list[Try]
    until: CheckResult | None
    retry: RetryVerdict | None


def _retry_verdict(
    *, saved: SavedRequest, status: int, retry_after: str | None, waited: int | None
) -> RetryVerdict | None:
    return decide(
        status=status,
        retry_after=retry_after,
        limit=settings.PORTAL_RUN_RETRY_AFTER_MAX_SECONDS,
        expected_status=saved.expected_status,
        waited=waited,
        now=time.time(),
    )


def _refusal_retry_after(refusal: GatewayRefusal) -> str | None:
    return str(refusal.retry_after) if refusal.retry_after else None


def send_tries(
    *,
    saved: SavedRequest,
    prepared: Prepared,
    on_try: Callable[[Try], None],
    sleep: Sleep,
) -> Sent:
    """Send, and again while the repeat condition does not hold, each try through the
    gateway's step when the API needs a key. An answer asking to wait within the limit
    (testing/retry_after.py) is waited out with `sleep` and the same try sent again,
    once per step, without using up one of the repeat's tries. No database writes
    (the key check may read), so that it can run in a worker thread; on_try sees each
    try as it comes."""
    until = saved.repeat_until or None
    tries, delay = bounded_tries(saved), bounded_delay(saved)
    results: list[Try] = []
    until_result: CheckResult | None = None
    retry: RetryVerdict | None = None
    waited: int | None = None
    attempt = 1
    while True:
        sent = _try_once(prepared)
        results.append(sent)
        on_try(sent)
        if sent.refusal is not None:
            # Refused: nothing was sent. The step fails with the gateway's answer unless it
            # asks for a wait within the limit (a quota's 403 never does).
            status, retry_after = sent.refusal.status, _refusal_retry_after(sent.refusal)
        else:
            assert sent.result is not None
            if not sent.result.ok:
                break
            response = sent.result.response
            assert response is not None
            status, retry_after = response.status_code, response.header("Retry-After")
            until_result = (
                check_result(until, sent.result, operation=saved.operation) if until else None
            )
        verdict = _retry_verdict(saved=saved, status=status, retry_after=retry_after, waited=waited)
        if verdict is not None:
            retry = verdict
            if verdict.wait is None:  # past the limit, unreadable, or asked again: done
                break
            waited = verdict.wait
            release_while_waiting()
            sleep(verdict.wait)
            continue
        if sent.refusal is not None or until_result is None or until_result.passed:
            break
        if attempt == tries:
            break
        attempt += 1
        sleep(delay)
    return Sent(results=results, until=until_result, retry=retry)


def bounded_tries(saved: SavedRequest) -> int:
    if not saved.repeat_until:
        return 1
    return min(max(saved.repeat_max_tries or 1, 1), MAX_REPEAT_TRIES)


def bounded_delay(saved: SavedRequest) -> float:
    return min(max(saved.repeat_delay_seconds or 0.0, 0.0), MAX_REPEAT_DELAY_SECONDS)


def check_result(
    check: dict, result: outbound.SendResult, *, operation: Operation | None = None
) -> CheckResult:
    response = result.response
    assert response is not None
    return checks.evaluate(
        check,
        status=response.status_code,
        headers=response.headers,
        body=response.body,
        content_type=response.content_type,
        duration_ms=result.duration_ms,
        operation=operation,
    )
