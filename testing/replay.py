"""Replay saved requests and run collections: one step is prepare, send, judge.

A replay takes the same path as a Try it call (docs/design.md, "The one path"): the saved
values, with {{variables}} filled in, are bound by tryit.build_request
(testing/preparation.py), sent through the call pipeline and recorded by
tryit.record_exchange (testing/sending.py), so every try is in the user's history with
its secrets masked. The secrets are the collection owner's: anyone else's try keeps the
masked values only, never an encrypted copy for Save and Try again. Then the checks
decide whether the step passed; the comparison with the baseline is shown but decides
nothing, since responses legitimately change (new data, a new header) and only the
tester knows which changes matter.

For an API whose calls need a subscription key, every try goes through the gateway's
step first, as Try it does (gateway/tryit_access.py): the key from the saved request's key
header row is checked and counted against the subscription's limits, the header is
taken out before binding so the backend never sees it, and the try is a GatewayCall with
source "replay". A refusal sends nothing and fails the step with the gateway's status,
code, message and Retry-After; a repeat-until loop stops there.

An answer that asks to wait (429 or 503 with Retry-After, from the backend or the
gateway's rate limit) is waited out and the try sent again, once per step, when the
wait is within PORTAL_RUN_RETRY_AFTER_MAX_SECONDS (testing/retry_after.py); the
step's check results say so.

This package never imports requests, and never raises for anything a backend or a saved
request's values do: such faults become a failed step with a plain message.
"""

from __future__ import annotations

import dataclasses
import time
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone

from console.models import Exchange
from console.tryit import PendingExchange, record_exchanges
from gateway.tryit_access import GatewayRefusal
from httpcore import outbound
from httpcore.errors import ErrorKind
from httpcore.variables import scrub
from testing import checks
from testing.checks import CheckResult
from testing.diffing import ResponseDiff, diff_responses
from testing.models import Collection, Run, RunStatus, RunStep, SavedRequest
from testing.preparation import Caller, Prepared, StepFailed, Variables, load_variables, prepare
from testing.retry_after import STORED_MARK, RetryNote
from testing.sending import (
    Sent,
    Sleep,
    Try,
    check_result,
    record_try,
    record_try_later,
    send_tries,
)

MAX_CONCURRENCY = 16
# How a step's error begins when the gateway refused a try (see is_gateway_refusal).
GATEWAY_REFUSED = "The gateway refused the call"


@dataclass
class StepOutcome:
    saved: SavedRequest
    exchange: Exchange | None
    passed: bool
    check_results: list[CheckResult] = field(default_factory=list)
    diff: ResponseDiff | None = None
    error: str = ""
    tries: int = 0
    extracted: dict[str, str] = field(default_factory=dict)
    duration_ms: float = 0.0


def is_gateway_refusal(error: str) -> bool:
    """Whether a step's error is a gateway's refusal (an answer from the API's gateway,
    401/403/429) rather than a fault of the request or the backend."""
    return error.startswith(GATEWAY_REFUSED)


def _transport_error(result: outbound.SendResult) -> str:
    kind = result.error_kind.value if result.error_kind else ErrorKind.PROTOCOL.value
    return f"{ErrorKind(kind).label}: {result.error_message}"


def _refusal_error(refusal: GatewayRefusal, *, tries: int) -> str:
    """ "The gateway refused the call (try 3): 429 RateLimitExceeded: ... Retry-After: 42 s." """
    which = f" (try {tries})" if tries > 1 else ""
    return f"{GATEWAY_REFUSED}{which}: {refusal.summary}"


# --- Judging a response -----------------------------------------------------------


def _checks_of(saved: SavedRequest) -> list[dict]:
    expected = (
        [{"kind": "status", "target": "", "value": str(saved.expected_status)}]
        if saved.expected_status
        else []
    )
    return expected + list(saved.checks if isinstance(saved.checks, list) else [])


def _repeat_result(until: CheckResult, tries: int) -> CheckResult:
    label = f"Repeat until {until.label}"
    after = f"after {tries} {'try' if tries == 1 else 'tries'}"
    if until.passed:
        return CheckResult(label=label, passed=True, detail=f"held {after}")
    return CheckResult(label=label, passed=False, detail=f"still not true {after}: {until.detail}")


def _baseline_diff(saved: SavedRequest, exchange: Exchange) -> ResponseDiff | None:
    if saved.baseline_captured_at is None:
        return None
    # Both sides as stored (secret headers masked), so that they compare like with like.
    return diff_responses(
        old_status=saved.baseline_status,
        old_headers=saved.baseline_headers or [],
        old_body=bytes(saved.baseline_body or b""),
        old_content_type=saved.baseline_content_type,
        new_status=exchange.status_code,
        new_headers=exchange.response_headers,
        new_body=bytes(exchange.response_body),
        new_content_type=exchange.response_content_type,
        ignored_headers=saved.collection.ignored_header_names,
    )


def _extract(saved: SavedRequest, result: outbound.SendResult) -> tuple[dict[str, str], list[str]]:
    response = result.response
    assert response is not None
    extracted: dict[str, str] = {}
    problems: list[str] = []
    for rule in saved.extract if isinstance(saved.extract, list) else []:
        if not isinstance(rule, dict):
            problems.append(f"Extraction rule {rule!r} is not valid")
            continue
        value, problem = checks.extract_value(
            rule, headers=response.headers, body=response.body, content_type=response.content_type
        )
        if value is None:
            problems.append(problem)
        else:
            extracted[str(rule.get("variable"))] = value
    return extracted, problems


# --- One step: prepare, send, judge ----------------------------------------------


@dataclass
class _Step:
    """A step between preparing and judging; prepared is None when it failed to prepare."""

    outcome: StepOutcome
    prepared: Prepared | None
    started: float


def _begin(
    *,
    saved: SavedRequest,
    chained: Mapping[str, str],
    user: Caller,
    variables: Variables | None = None,
) -> _Step:
    step = _Step(
        outcome=StepOutcome(saved=saved, exchange=None, passed=False),
        prepared=None,
        started=time.monotonic(),
    )
    try:
        step.prepared = prepare(saved=saved, chained=chained, user=user, variables=variables)
    except StepFailed as failure:
        step.outcome.error = failure.message
    return step


def _judge(step: _Step, *, sent: Sent) -> None:
    """Checks, diff and extraction on the last try (its exchange already recorded).

    What the step did about a Retry-After comes first among the check results; when the
    gateway refused the last try, it ends the error instead."""
    outcome, saved = step.outcome, step.outcome.saved
    results, until, retry = sent.results, sent.until, sent.retry
    outcome.tries = len(results)
    if results[-1].refusal is not None:
        outcome.error = _refusal_error(results[-1].refusal, tries=outcome.tries)
        if retry is not None:
            outcome.error += f" {retry.note.label}."
        return
    if retry is not None:
        outcome.check_results.append(retry.note)
    last = results[-1].result
    assert last is not None
    if not last.ok:
        outcome.error = _transport_error(last)
        return
    if until is not None:
        outcome.check_results.append(_repeat_result(until, outcome.tries))
    # The operation the step was prepared with (kept by the process), not another read.
    operation = step.prepared.operation if step.prepared is not None else saved.operation
    outcome.check_results += [
        check_result(check, last, operation=operation) for check in _checks_of(saved)
    ]
    if outcome.exchange is not None:
        outcome.diff = _baseline_diff(saved, outcome.exchange)
    outcome.extracted, problems = _extract(saved, last)
    if problems:
        outcome.error = "; ".join(problems) + "."


def _finish(step: _Step) -> StepOutcome:
    outcome = step.outcome
    outcome.passed = not outcome.error and all(r.passed for r in outcome.check_results)
    # Details quote the response and errors may quote values: keep secrets out of reports.
    texts = step.prepared.secret_texts if step.prepared else frozenset()
    outcome.error = scrub(outcome.error, texts)
    outcome.check_results = [
        dataclasses.replace(result, detail=scrub(result.detail, texts))
        for result in outcome.check_results
    ]
    outcome.duration_ms = (time.monotonic() - step.started) * 1000
    return outcome


# --- Public entry points ------------------------------------------------------------


def replay_saved_request(
    *,
    saved: SavedRequest,
    user: Caller,
    variables: Mapping[str, str] | None = None,
    sleep: Sleep = time.sleep,
    collection_variables: Variables | None = None,
) -> StepOutcome:
    """Send a saved request (repeating it while its repeat condition does not hold, and
    once more after a Retry-After within the limit), judge the last answer by its
    checks, compare it with the baseline and extract variables. `variables` (values
    extracted by earlier steps) override the collection's (read now unless a run passes
    them as collection_variables); `sleep` does every wait. Never raises for a backend
    fault or bad saved values."""
    step = _begin(
        saved=saved, chained=dict(variables or {}), user=user, variables=collection_variables
    )
    prepared = step.prepared
    if prepared is not None:

        def record(attempt: Try) -> None:
            # Each try is in the history (and the gateway's calls) as soon as it is back.
            exchange = record_try(prepared=prepared, attempt=attempt, user=user)
            if exchange is not None:
                step.outcome.exchange = exchange

        sent = send_tries(saved=saved, prepared=prepared, on_try=record, sleep=sleep)
        _judge(step, sent=sent)
    return _finish(step)


def capture_baseline(*, saved: SavedRequest, exchange: Exchange) -> None:
    """Keep this exchange's response as the one later replays are compared with.

    Raises ValueError for an exchange that got no response (a transport error).
    """
    if exchange.status_code is None:
        raise ValueError("A call that got no response cannot be a baseline.")
    saved.baseline_status = exchange.status_code
    saved.baseline_reason = exchange.reason
    # As stored in the history: secret response headers are already masked.
    saved.baseline_headers = [list(pair) for pair in exchange.response_headers]
    saved.baseline_body = bytes(exchange.response_body)
    saved.baseline_content_type = exchange.response_content_type
    saved.baseline_duration_ms = exchange.duration_ms
    saved.baseline_captured_at = timezone.now()
    saved.save(
        update_fields=[
            "baseline_status",
            "baseline_reason",
            "baseline_headers",
            "baseline_body",
            "baseline_content_type",
            "baseline_duration_ms",
            "baseline_captured_at",
            "updated_at",
        ]
    )


def _user_or_none(user: Caller) -> User | None:
    return user if user is not None and user.is_authenticated else None


def _start_run(*, run: Run | None, collection: Collection | None, user: Caller, total: int) -> Run:
    if run is None:
        return Run.objects.create(
            collection=collection,
            started_by=_user_or_none(user),
            status=RunStatus.RUNNING,
            total_steps=total,
        )
    run.status, run.total_steps = RunStatus.RUNNING, total
    run.save(update_fields=["status", "total_steps"])
    return run


def _finish_run(run: Run, *, passed: bool) -> None:
    run.status = RunStatus.PASSED if passed else RunStatus.FAILED
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "finished_at"])


def _stored_result(result: CheckResult) -> dict:
    stored = dataclasses.asdict(result)
    return {**stored, STORED_MARK: True} if isinstance(result, RetryNote) else stored


def _record_step(*, run: Run, order: int, outcome: StepOutcome) -> RunStep:
    step = _step_row(run=run, order=order, outcome=outcome)
    step.save()
    return step


def _step_row(*, run: Run, order: int, outcome: StepOutcome) -> RunStep:
    return RunStep(
        run=run,
        saved_request=outcome.saved,
        name=outcome.saved.name[:200],
        order=order,
        exchange=outcome.exchange,
        passed=outcome.passed,
        check_results=[_stored_result(result) for result in outcome.check_results],
        diff=outcome.diff.as_dict() if outcome.diff else {},
        error=outcome.error,
        tries=outcome.tries,
        duration_ms=outcome.duration_ms,
    )


def run_collection(
    *,
    collection: Collection,
    user: Caller,
    concurrency: int = 1,
    fail_fast: bool = False,
    run: Run | None = None,
    on_step: Callable[[StepOutcome], None] | None = None,
    sleep: Sleep = time.sleep,
) -> Run:
    """Run the collection's saved requests in order and record each step as it ends.

    Values extracted by a step are variables for the steps after it. A failed step
    does not stop the run unless fail_fast. With concurrency > 1 and no extraction
    rules, up to that many steps run at once (clamped to MAX_CONCURRENCY); with
    extraction rules the order matters, so they run one after the other. `sleep` does
    the waits between a repeat's tries and for a Retry-After.
    """
    steps = list(collection.requests.select_related("collection"))
    run = _start_run(run=run, collection=collection, user=user, total=len(steps))
    passed = False
    try:
        parallel = concurrency > 1 and not any(saved.extract for saved in steps)
        runner = _run_parallel if parallel else _run_in_order
        passed = runner(
            steps=steps,
            user=user,
            run=run,
            # Read once for the run: every step uses the same values.
            variables=load_variables(collection),
            concurrency=min(concurrency, MAX_CONCURRENCY),
            fail_fast=fail_fast,
            on_step=on_step,
            sleep=sleep,
        )
    finally:
        # Also after a bug: a page polling the run must see it end.
        _finish_run(run, passed=passed)
    return run


def _step_done(
    *, run: Run, order: int, outcome: StepOutcome, on_step: Callable[[StepOutcome], None] | None
) -> None:
    _record_step(run=run, order=order, outcome=outcome)
    if on_step is not None:
        on_step(outcome)


def _run_in_order(
    *,
    steps: list[SavedRequest],
    user: Caller,
    run: Run,
    variables: Variables,
    concurrency: int,
    fail_fast: bool,
    on_step: Callable[[StepOutcome], None] | None,
    sleep: Sleep,
) -> bool:
    chained: dict[str, str] = {}
    passed = True
    for order, saved in enumerate(steps):
        outcome = replay_saved_request(
            saved=saved, user=user, variables=chained, sleep=sleep, collection_variables=variables
        )
        chained.update(outcome.extracted)
        _step_done(run=run, order=order, outcome=outcome, on_step=on_step)
        passed = passed and outcome.passed
        if fail_fast and not outcome.passed:
            break
    return passed


def _send_in_worker(*, saved: SavedRequest, prepared: Prepared, sleep: Sleep) -> Sent:
    try:
        return send_tries(saved=saved, prepared=prepared, on_try=lambda attempt: None, sleep=sleep)
    finally:
        # The gateway's key check may read the database: leave no connection open.
        connection.close()


def _run_parallel(
    *,
    steps: list[SavedRequest],
    user: Caller,
    run: Run,
    variables: Variables,
    concurrency: int,
    fail_fast: bool,
    on_step: Callable[[StepOutcome], None] | None,
    sleep: Sleep,
) -> bool:
    """Only the sending runs in worker threads; preparing, recording and judging stay
    in this thread. Several threads writing at once is what SQLite (the default
    database) handles worst, and the exchanges of a step are still recorded in order.
    Steps are handed out as workers free up, so that fail_fast stops the rest. The
    steps whose answers are back together are recorded together: their exchanges and
    gateway calls in one transaction, their steps in one insert."""
    queue = deque(enumerate(steps))
    pending: dict[Future, tuple[int, _Step]] = {}
    passed, stopping = True, False

    def judged(order: int, outcome: StepOutcome) -> None:
        nonlocal passed, stopping
        passed = passed and outcome.passed
        stopping = stopping or (fail_fast and not outcome.passed)

    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="replay") as pool:
        while pending or (queue and not stopping):
            while queue and not stopping and len(pending) < concurrency:
                order, saved = queue.popleft()
                step = _begin(saved=saved, chained={}, user=user, variables=variables)
                if step.prepared is None:
                    outcome = _finish(step)
                    _step_done(run=run, order=order, outcome=outcome, on_step=on_step)
                    judged(order, outcome)
                    continue
                future = pool.submit(
                    _send_in_worker, saved=saved, prepared=step.prepared, sleep=sleep
                )
                pending[future] = (order, step)
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            finished = [(*pending.pop(future), future.result()) for future in done]
            outcomes = _record_batch(run=run, finished=finished, user=user)
            for order, outcome in outcomes:
                if on_step is not None:
                    on_step(outcome)
                judged(order, outcome)
    return passed


def _record_batch(
    *, run: Run, finished: list[tuple[int, _Step, Sent]], user: Caller
) -> list[tuple[int, StepOutcome]]:
    """Record the tries (their exchanges in one insert), judge and record the steps of
    answers back together."""
    outcomes: list[tuple[int, StepOutcome]] = []
    finished = sorted(finished, key=lambda item: item[0])
    pending: list[PendingExchange] = []
    with transaction.atomic():
        for _order, step, sent in finished:
            assert step.prepared is not None
            for attempt in sent.results:
                one = record_try_later(prepared=step.prepared, attempt=attempt, user=user)
                if one is not None:
                    pending.append(one)
                    step.outcome.exchange = one.exchange
        record_exchanges(pending)
        for order, step, sent in finished:
            _judge(step, sent=sent)
            outcomes.append((order, _finish(step)))
        RunStep.objects.bulk_create(
            [_step_row(run=run, order=order, outcome=outcome) for order, outcome in outcomes]
        )
    return outcomes


def run_saved_request(*, saved: SavedRequest, user: Caller) -> tuple[Run, StepOutcome]:
    """Replay one saved request as a one-step run (the page's Replay button)."""
    run = _start_run(run=None, collection=saved.collection, user=user, total=1)
    passed = False
    try:
        outcome = replay_saved_request(saved=saved, user=user)
        _record_step(run=run, order=0, outcome=outcome)
        passed = outcome.passed
    finally:
        _finish_run(run, passed=passed)
    return run, outcome
