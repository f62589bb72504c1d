"""Replay saved requests and run collections.

A replay takes the same path as a Try it call (docs/design.md, "The one path"): the saved
values, with {{variables}} filled in, are bound by tryit.build_request, sent by
outbound.send and recorded by tryit.record_exchange, so every try is in the user's
history with its secrets masked. The secrets are the collection owner's: anyone else's
try keeps the masked values only, never an encrypted copy for Save and Try again. Then
the checks decide whether the step passed; the comparison with the baseline is shown but
decides nothing, since responses legitimately change (new data, a new header) and only
the tester knows which changes matter.

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

This module never imports requests, and never raises for anything a backend or a saved
request's values do: such faults become a failed step with a plain message.
"""

from __future__ import annotations

import dataclasses
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import TypedDict
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db import connection
from django.utils import timezone

from catalog import selectors
from catalog.models import Operation, ParameterLocation
from console import tryit
from console.forms import TryItValues
from console.models import Exchange
from gateway import tryit_access
from gateway.models import CallSource
from gateway.tryit_access import GatewayPass, GatewayRefusal
from httpcore import outbound
from httpcore.errors import ErrorKind
from httpcore.masking import MASK
from httpcore.templating import BindError, OutboundRequest
from portal import secrets
from portal.database import release_while_waiting
from testing import checks
from testing.checks import CheckResult
from testing.diffing import ResponseDiff, diff_responses
from testing.models import Collection, Run, RunStatus, RunStep, SavedRequest
from testing.retry_after import STORED_MARK, RetryNote, RetryVerdict, decide
from testing.variables import VARIABLE, UndefinedVariable, names_used, substitute_values

# Bounds on what a saved request may ask for, whatever its fields say: a poll loop
# must end, and a run must not hold a worker for hours.
MAX_REPEAT_TRIES = 100
MAX_REPEAT_DELAY_SECONDS = 60.0
MAX_CONCURRENCY = 16
# Secret values shorter than this are not searched for in what is stored: they would
# match by chance (real keys are longer) and mangle the history.
MIN_SCRUBBED_SECRET_LENGTH = 4
# How a step's error begins when the gateway refused a try (see is_gateway_refusal).
GATEWAY_REFUSED = "The gateway refused the call"

Caller = User | AnonymousUser | None


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


def gone_message(saved: SavedRequest) -> str:
    """What a saved request's page and its replays say when its operation cannot be
    called: removed, deleted, or its API unpublished (for anyone but staff)."""
    return f"The operation {saved.operation_label} no longer exists."


def is_gateway_refusal(error: str) -> bool:
    """Whether a step's error is a gateway's refusal (an answer from the API's gateway,
    401/403/429) rather than a fault of the request or the backend."""
    return error.startswith(GATEWAY_REFUSED)


class StepFailed(Exception):
    """A reason not to send (or to fail after sending); the message is for the tester."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class _Variables:
    values: dict[str, str]
    secret: frozenset[str]  # names of secret variables
    unreadable: frozenset[str]  # secret variables whose value no longer decrypts


@dataclass(frozen=True)
class _Prepared:
    operation: Operation
    values: TryItValues
    request: OutboundRequest  # what is sent: without the subscription key header
    # Secret values that went into this request, to be kept out of what is stored.
    secret_texts: frozenset[str]
    # The key from the subscription key header row when each try goes through the
    # gateway's step first ("" for none given); None when the API needs no key.
    gateway_key: str | None = None
    # Whether the caller owns the saved request's secrets (the collection is theirs).
    owns_secrets: bool = False


@dataclass(frozen=True)
class _Try:
    """One try of a step: sent (result, admitted by gateway_pass when the API needs a
    key) or refused by the gateway before anything was sent (refusal)."""

    result: outbound.SendResult | None = None
    gateway_pass: GatewayPass | None = None
    refusal: GatewayRefusal | None = None
    # time.perf_counter() when the answer was back: a parallel run records tries later.
    finished: float = 0.0


# --- Values and variables ---------------------------------------------------------


def _load_variables(collection: Collection) -> _Variables:
    values: dict[str, str] = {}
    secret: set[str] = set()
    unreadable: set[str] = set()
    for variable in collection.variables.all():
        value = variable.value
        if variable.secret:
            secret.add(variable.name)
            value = secrets.decrypt(variable.value)
            # encrypt("") is "", so an empty plain value from a token means it did not decrypt.
            if variable.value.startswith(secrets.PREFIX) and not value:
                unreadable.add(variable.name)
        values[variable.name] = value
    return _Variables(values=values, secret=frozenset(secret), unreadable=frozenset(unreadable))


def collection_variables(collection: Collection) -> dict[str, str]:
    """The collection's variables by name, secret ones decrypted."""
    return _load_variables(collection).values


def _decrypted(value: object) -> object:
    return secrets.decrypt(value) if isinstance(value, str) else value


def _decrypted_pairs(pairs: object) -> object:
    if not isinstance(pairs, list):
        return pairs
    return [
        [pair[0], _decrypted(pair[1])]
        if isinstance(pair, list | tuple) and len(pair) == 2
        else pair
        for pair in pairs
    ]


def saved_values(saved: SavedRequest) -> dict:
    """SavedRequest.values with encrypted values ("enc:...") decrypted.

    Secret header values are stored encrypted; template and query values are decrypted
    the same way in case a secret parameter was stored so. Values of another shape are
    passed through as they are (the replay refuses them with a message).
    """
    values = saved.values if isinstance(saved.values, dict) else {}
    result = dict(values)
    if isinstance(values.get("template"), dict):
        result["template"] = {name: _decrypted(value) for name, value in values["template"].items()}
    for key in ("query", "headers"):
        if key in values:
            result[key] = _decrypted_pairs(values[key])
    return result


def _is_pair_list(value: object) -> bool:
    return isinstance(value, list) and all(
        isinstance(pair, list | tuple)
        and len(pair) == 2
        and all(isinstance(item, str) for item in pair)
        for pair in value
    )


def _check_shape(values: object) -> None:
    # Saved values come from the pages and from imported files: check before use.
    # A missing or null field is an empty one.
    problem = ""
    if not isinstance(values, dict):
        problem = "they are not an object"
    elif not isinstance(values.get("template") or {}, dict) or not all(
        isinstance(name, str) and isinstance(value, str)
        for name, value in (values.get("template") or {}).items()
    ):
        problem = "template must map names to strings"
    elif not _is_pair_list(values.get("query") or []):
        problem = "query must be a list of [name, value] strings"
    elif not _is_pair_list(values.get("headers") or []):
        problem = "headers must be a list of [name, value] strings"
    elif not isinstance(values.get("body"), str | None):
        problem = "body must be a string or null"
    if problem:
        raise StepFailed(f"The saved values are not valid: {problem}.")


def _unreadable_fields(values: dict) -> Iterator[str]:
    """Fields stored encrypted that no longer decrypt (encrypt("") is "", so a token
    that decrypts to "" did not decrypt)."""
    fields = [
        *(("parameter", name, value) for name, value in (values.get("template") or {}).items()),
        *(("parameter", name, value) for name, value in values.get("query") or []),
        *(("header", name, value) for name, value in values.get("headers") or []),
    ]
    for kind, name, value in fields:
        if value.startswith(secrets.PREFIX) and not secrets.decrypt(value):
            yield f"{kind} {name}"


def _uses(text: str, names: Iterable[str]) -> bool:
    wanted = set(names)
    return any(match.group(1) in wanted for match in VARIABLE.finditer(text))


def _extra_secret_names(
    *, stored: dict, raw: dict, sent: dict, secret_variables: frozenset[str]
) -> set[str]:
    """Names whose values must be masked besides the operation's secret parameters:
    fields stored encrypted, and any field whose value uses a secret variable.

    stored, raw and sent are the values as saved, decrypted, and substituted; header
    names may hold variables, so a header is named as it was sent.
    """
    names = {
        name.lower()
        for name, value in [*(raw.get("template") or {}).items(), *(raw.get("query") or [])]
        if _uses(value, secret_variables)
    }
    names |= {
        name.lower()
        for name, value in [*(stored.get("template") or {}).items(), *(stored.get("query") or [])]
        if value.startswith(secrets.PREFIX)
    }
    for (_, stored_value), (_, raw_value), (name, _) in zip(
        stored.get("headers") or [], raw.get("headers") or [], sent["headers"], strict=True
    ):
        if stored_value.startswith(secrets.PREFIX) or _uses(raw_value, secret_variables):
            names.add(name.strip().lower())
    return names


def _check_query_keys(*, operation: Operation, query: list[list[str]]) -> None:
    # Query keys come only from the operation's definition (docs/design.md, "Outbound:
    # query keys from the operation"); bind itself appends whatever keys it is given.
    allowed = {
        parameter.name
        for parameter in operation.parameters.all()
        if parameter.location == ParameterLocation.QUERY
    }
    for key, _ in query:
        if key not in allowed:
            raise StepFailed(f"{key}: the operation has no query parameter of that name.")


# --- Preparing and sending one request ---------------------------------------------


def _current_operation(saved: SavedRequest) -> Operation | None:
    # Read again: the operation may have been deleted since `saved` was loaded.
    if saved.operation_id is None:
        return None
    # A removed operation (gone from the latest imported document) counts as gone.
    return (
        Operation.objects.current()
        .select_related("api")
        .prefetch_related("parameters")
        .filter(pk=saved.operation_id)
        .first()
    )


def _check_saved(saved: SavedRequest) -> None:
    _check_shape(saved.values)
    until = saved.repeat_until
    if until and (not isinstance(until, dict) or until.get("kind") not in checks.KINDS):
        raise StepFailed("The repeat condition is not a valid check.")
    unreadable = next(_unreadable_fields(saved.values), None)
    if unreadable is not None:
        raise StepFailed(
            f"The stored value of the {unreadable} cannot be read (the encryption key has "
            "changed); enter it again."
        )


def _check_readable(variables: _Variables, *, raw: dict, chained: Mapping[str, str]) -> None:
    # An unreadable secret would be sent as "": say why rather than show the 401.
    for name in sorted(variables.unreadable & names_used(raw)):
        if name not in chained:
            raise StepFailed(
                f"The secret variable {{{{{name}}}}} cannot be read (the encryption key has "
                "changed); enter it again."
            )


def _build(
    *, operation: Operation, values: dict, through_gateway: bool
) -> tuple[TryItValues, OutboundRequest]:
    """The values as recorded (the key header row included, masked in the history) and
    the request as sent (through the gateway: without the key header)."""
    _check_query_keys(operation=operation, query=values["query"])
    try_values = TryItValues(
        template_values=dict(values["template"]),
        query_values=[(key, value) for key, value in values["query"]],
        headers=[(name, value) for name, value in values["headers"]],
        # As the Try it form does: a blank body is no body.
        body=values["body"] if values["body"] and values["body"].strip() else None,
    )
    sent_values = try_values
    if through_gateway:
        headers = tryit_access.without_key_header(api=operation.api, headers=try_values.headers)
        sent_values = dataclasses.replace(try_values, headers=headers)
    try:
        return try_values, tryit.build_request(operation=operation, values=sent_values)
    except BindError as error:
        raise StepFailed(f"{error.field}: {error.message}") from None


def _prepare(*, saved: SavedRequest, chained: Mapping[str, str], user: Caller) -> _Prepared:
    """Everything up to sending, database reads included; raises StepFailed."""
    operation = _current_operation(saved)
    # An unpublished API's operations are not there for anyone but staff (their pages
    # and the gateway answer 404): the step says what its page says.
    if operation is None or not selectors.can_call(user=user, operation=operation):
        raise StepFailed(gone_message(saved))
    _check_saved(saved)
    raw = saved_values(saved)
    variables = _load_variables(saved.collection)
    _check_readable(variables, raw=raw, chained=chained)
    merged = {**variables.values, **chained}
    try:
        values = substitute_values(raw, merged)
    except UndefinedVariable as error:
        raise StepFailed(str(error)) from None
    through_gateway = tryit_access.key_required(api=operation.api)
    try_values, request = _build(
        operation=operation, values=values, through_gateway=through_gateway
    )
    # Chained values override collection ones: a secret is only what still comes from one.
    secret_variables = frozenset(name for name in variables.secret if name not in chained)
    used = names_used(raw)
    extra = _extra_secret_names(
        stored=saved.values, raw=raw, sent=values, secret_variables=secret_variables
    )
    return _Prepared(
        operation=operation,
        values=try_values,
        request=dataclasses.replace(request, secret_names=request.secret_names | extra),
        secret_texts=frozenset(
            merged[name]
            for name in secret_variables
            if name in used and len(merged[name]) >= MIN_SCRUBBED_SECRET_LENGTH
        ),
        gateway_key=_gateway_key(operation=operation, values=try_values, user=user)
        if through_gateway
        else None,
        owns_secrets=_owns_secrets(saved=saved, user=user),
    )


def _owns_secrets(*, saved: SavedRequest, user: Caller) -> bool:
    return user is not None and user.is_authenticated and user.pk == saved.collection.owner_id


def _gateway_key(*, operation: Operation, values: TryItValues, user: Caller) -> str:
    """The key in the saved request's key header row; without one, the runner's own."""
    given = tryit_access.key_from_headers(api=operation.api, headers=values.headers).strip()
    return given or tryit_access.own_key(user=user, api=operation.api)


def _scrub(text: str, secret_texts: frozenset[str]) -> str:
    # Longest first, so that a secret holding another one is replaced whole.
    for secret in sorted(secret_texts, key=len, reverse=True):
        text = text.replace(secret, MASK).replace(quote(secret, safe=""), MASK)
    return text


def _scrubbed_for_storage(
    prepared: _Prepared, result: outbound.SendResult
) -> tuple[TryItValues, outbound.SendResult]:
    """The values and request as they are stored: a secret variable's value may sit in a
    place no secret name covers (a path segment, the body), so it is replaced there."""
    texts = prepared.secret_texts
    if not texts:
        return prepared.values, result
    values = prepared.values
    stored_values = TryItValues(
        template_values={name: _scrub(v, texts) for name, v in values.template_values.items()},
        query_values=[(key, _scrub(v, texts)) for key, v in values.query_values],
        headers=[(name, _scrub(v, texts)) for name, v in values.headers],
        body=_scrub(values.body, texts) if values.body is not None else None,
    )
    request = result.request
    body = request.body
    if body is not None:
        for secret in sorted(texts, key=len, reverse=True):
            body = body.replace(secret.encode("utf-8"), MASK.encode("utf-8"))
    stored_request = dataclasses.replace(
        request,
        url=_scrub(request.url, texts),
        masked_url=_scrub(request.masked_url, texts),
        headers=tuple((name, _scrub(value, texts)) for name, value in request.headers),
        body=body,
    )
    return stored_values, dataclasses.replace(
        result, request=stored_request, error_message=_scrub(result.error_message, texts)
    )


def _record(*, prepared: _Prepared, result: outbound.SendResult, user: Caller) -> Exchange:
    values, stored = _scrubbed_for_storage(prepared, result)
    # The secrets are the collection owner's: only the owner's exchange keeps them for
    # Save and Try again, a group runner's keeps the masked values only.
    return tryit.record_exchange(
        operation=prepared.operation,
        values=values,
        result=stored,
        user=user,
        session_key="",
        kept_secrets=prepared.values if prepared.owns_secrets else None,
    )


class _GatewayFields(TypedDict):
    operation: Operation
    user: Caller
    address: str
    source: str


def _record_try(*, prepared: _Prepared, attempt: _Try, user: Caller) -> Exchange | None:
    """The try's GatewayCall (for an API behind a key) and Exchange (when it was sent)."""
    texts = prepared.secret_texts
    # A replay has no client address: it runs on the portal, for the user.
    gateway_fields: _GatewayFields = {
        "operation": prepared.operation,
        "user": user,
        "address": "",
        "source": CallSource.REPLAY,
    }
    if attempt.refusal is not None:
        refusal = dataclasses.replace(attempt.refusal, path=_scrub(attempt.refusal.path, texts))
        tryit_access.record_refused(refusal=refusal, request=prepared.request, **gateway_fields)
        return None
    assert attempt.result is not None
    if attempt.gateway_pass is not None:
        gateway_pass = attempt.gateway_pass
        gateway_pass = dataclasses.replace(gateway_pass, path=_scrub(gateway_pass.path, texts))
        tryit_access.record_sent(
            gateway_pass=gateway_pass,
            result=attempt.result,
            finished=attempt.finished,
            **gateway_fields,
        )
    return _record(prepared=prepared, result=attempt.result, user=user)


def _through_gateway(prepared: _Prepared) -> _Try | None:
    """The gateway's step before a try: a refused _Try, an admitted one without its
    result yet, or None when the API needs no key."""
    if prepared.gateway_key is None:
        return None
    decision = tryit_access.check_call(
        operation=prepared.operation, request=prepared.request, key=prepared.gateway_key
    )
    if isinstance(decision, GatewayRefusal):
        return _Try(refusal=decision)
    return _Try(gateway_pass=decision)


def _try_once(prepared: _Prepared) -> _Try:
    """One try: the gateway's step when the API needs a key, then, when admitted, the call."""
    admitted = _through_gateway(prepared)
    if admitted is not None and admitted.refusal is not None:
        return admitted
    release_while_waiting()
    # outbound.send is looked up at each call, so that tests can watch it.
    result = outbound.send(prepared.request)
    gateway_pass = admitted.gateway_pass if admitted is not None else None
    return _Try(result=result, gateway_pass=gateway_pass, finished=time.perf_counter())


Sleep = Callable[[float], None]


@dataclass(frozen=True)
class _Sent:
    """The tries of a step, the repeat condition on the last answer, and what the step
    did about a Retry-After (None when no answer asked it to wait)."""

    results: list[_Try]
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


def _send_tries(
    *,
    saved: SavedRequest,
    prepared: _Prepared,
    on_try: Callable[[_Try], None],
    sleep: Sleep,
) -> _Sent:
    """Send, and again while the repeat condition does not hold, each try through the
    gateway's step when the API needs a key. An answer asking to wait within the limit
    (testing/retry_after.py) is waited out with `sleep` and the same try sent again,
    once per step, without using up one of the repeat's tries. No database writes
    (the key check may read), so that it can run in a worker thread; on_try sees each
    try as it comes."""
    until = saved.repeat_until or None
    tries, delay = _bounded_tries(saved), _bounded_delay(saved)
    results: list[_Try] = []
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
            until_result = _evaluate(until, sent.result) if until else None
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
    return _Sent(results=results, until=until_result, retry=retry)


def _bounded_tries(saved: SavedRequest) -> int:
    if not saved.repeat_until:
        return 1
    return min(max(saved.repeat_max_tries or 1, 1), MAX_REPEAT_TRIES)


def _bounded_delay(saved: SavedRequest) -> float:
    return min(max(saved.repeat_delay_seconds or 0.0, 0.0), MAX_REPEAT_DELAY_SECONDS)


def _evaluate(check: dict, result: outbound.SendResult) -> CheckResult:
    response = result.response
    assert response is not None
    return checks.evaluate(
        check,
        status=response.status_code,
        headers=response.headers,
        body=response.body,
        content_type=response.content_type,
        duration_ms=result.duration_ms,
    )


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
    prepared: _Prepared | None
    started: float


def _begin(*, saved: SavedRequest, chained: Mapping[str, str], user: Caller) -> _Step:
    step = _Step(
        outcome=StepOutcome(saved=saved, exchange=None, passed=False),
        prepared=None,
        started=time.monotonic(),
    )
    try:
        step.prepared = _prepare(saved=saved, chained=chained, user=user)
    except StepFailed as failure:
        step.outcome.error = failure.message
    return step


def _judge(step: _Step, *, sent: _Sent) -> None:
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
    outcome.check_results += [_evaluate(check, last) for check in _checks_of(saved)]
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
    outcome.error = _scrub(outcome.error, texts)
    outcome.check_results = [
        dataclasses.replace(result, detail=_scrub(result.detail, texts))
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
) -> StepOutcome:
    """Send a saved request (repeating it while its repeat condition does not hold, and
    once more after a Retry-After within the limit), judge the last answer by its
    checks, compare it with the baseline and extract variables. `variables` (values
    extracted by earlier steps) override the collection's; `sleep` does every wait.
    Never raises for a backend fault or bad saved values."""
    step = _begin(saved=saved, chained=dict(variables or {}), user=user)
    prepared = step.prepared
    if prepared is not None:

        def record(attempt: _Try) -> None:
            # Each try is in the history (and the gateway's calls) as soon as it is back.
            exchange = _record_try(prepared=prepared, attempt=attempt, user=user)
            if exchange is not None:
                step.outcome.exchange = exchange

        sent = _send_tries(saved=saved, prepared=prepared, on_try=record, sleep=sleep)
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
    return RunStep.objects.create(
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
    concurrency: int,
    fail_fast: bool,
    on_step: Callable[[StepOutcome], None] | None,
    sleep: Sleep,
) -> bool:
    chained: dict[str, str] = {}
    passed = True
    for order, saved in enumerate(steps):
        outcome = replay_saved_request(saved=saved, user=user, variables=chained, sleep=sleep)
        chained.update(outcome.extracted)
        _step_done(run=run, order=order, outcome=outcome, on_step=on_step)
        passed = passed and outcome.passed
        if fail_fast and not outcome.passed:
            break
    return passed


def _send_in_worker(*, saved: SavedRequest, prepared: _Prepared, sleep: Sleep) -> _Sent:
    try:
        return _send_tries(saved=saved, prepared=prepared, on_try=lambda attempt: None, sleep=sleep)
    finally:
        # The gateway's key check may read the database: leave no connection open.
        connection.close()


def _run_parallel(
    *,
    steps: list[SavedRequest],
    user: Caller,
    run: Run,
    concurrency: int,
    fail_fast: bool,
    on_step: Callable[[StepOutcome], None] | None,
    sleep: Sleep,
) -> bool:
    """Only the sending runs in worker threads; preparing, recording and judging stay
    in this thread. Several threads writing at once is what SQLite (the default
    database) handles worst, and the exchanges of a step are still recorded in order.
    Steps are handed out as workers free up, so that fail_fast stops the rest."""
    queue = deque(enumerate(steps))
    pending: dict[Future, tuple[int, _Step]] = {}
    passed, stopping = True, False

    def report(order: int, outcome: StepOutcome) -> None:
        nonlocal passed, stopping
        _step_done(run=run, order=order, outcome=outcome, on_step=on_step)
        passed = passed and outcome.passed
        stopping = stopping or (fail_fast and not outcome.passed)

    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="replay") as pool:
        while pending or (queue and not stopping):
            while queue and not stopping and len(pending) < concurrency:
                order, saved = queue.popleft()
                step = _begin(saved=saved, chained={}, user=user)
                if step.prepared is None:
                    report(order, _finish(step))
                    continue
                future = pool.submit(
                    _send_in_worker, saved=saved, prepared=step.prepared, sleep=sleep
                )
                pending[future] = (order, step)
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                order, step = pending.pop(future)
                sent = future.result()
                assert step.prepared is not None
                for attempt in sent.results:
                    exchange = _record_try(prepared=step.prepared, attempt=attempt, user=user)
                    if exchange is not None:
                        step.outcome.exchange = exchange
                _judge(step, sent=sent)
                report(order, _finish(step))
    return passed


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
