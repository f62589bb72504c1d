"""Replays wait out a Retry-After (testing/retry_after.py, testing/replay.py).

A 429 or 503 answer carrying Retry-After within PORTAL_RUN_RETRY_AFTER_MAX_SECONDS is
waited out and sent again, once per step, from a backend or from the gateway's rate
limit; the step's check results say so. The backends are scripted servers on loopback,
so the number of requests that reached them is known exactly, and the waits go through
an injected sleep that records them (real sleeps only where real time must pass).
"""

from __future__ import annotations

import re
import threading
import time
import xml.etree.ElementTree as ET
from email.utils import formatdate
from io import StringIO

import pytest
from bs4 import BeautifulSoup
from django.core.management import CommandError, call_command

from catalog.models import Api, Operation
from catalog.registration import create_missing_template_parameters
from console.models import Exchange
from gateway.models import CallOutcome, GatewayCall
from portal import secrets
from testing import replay
from testing.checks import parse_check_line
from testing.junit import junit_xml
from testing.models import Collection, Run, RunStatus, SavedRequest
from testing.retry_after import Delay, RetryNote, decide, parse_retry_after
from tests.backends import Exchange as BackendExchange
from tests.backends import scripted_server
from tests.factories import make_product, make_subscription, make_user
from tests.markup import child, one, text_at

KEY_HEADER = "Ocp-Apim-Subscription-Key"
JSON = [("Content-Type", "application/json")]
NOW = 1_700_000_000.0  # 2023-11-14 22:13:20 GMT


# --- The rules, pure --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("34", Delay(seconds=34, shown="34")),
        (" 0 ", Delay(seconds=0, shown="0")),
        ("007", Delay(seconds=7, shown="7")),
        ("1234567890123456", Delay(seconds=10**12, shown="123456789012…")),
        ("9" * 5000, Delay(seconds=10**12, shown="999999999999…")),
        # HTTP dates: IMF-fixdate, RFC 850 and asctime, all GMT.
        ("Tue, 14 Nov 2023 22:13:54 GMT", Delay(seconds=34, shown="34")),
        ("Tuesday, 14-Nov-23 22:13:54 GMT", Delay(seconds=34, shown="34")),
        ("Tue Nov 14 22:13:54 2023", Delay(seconds=34, shown="34")),
        ("Tue, 14 Nov 2023 22:13:20 -0000", Delay(seconds=0, shown="0")),
        # Part of a second ahead: a whole second, so that the answer's time has come.
        ("Tue, 14 Nov 2023 22:13:21 GMT", Delay(seconds=1, shown="1")),
        # A date in the past: at once.
        ("Mon, 13 Nov 2023 22:13:20 GMT", Delay(seconds=0, shown="0")),
    ],
)
def test_retry_after_in_seconds_or_as_a_date(value, expected) -> None:
    assert parse_retry_after(value=value, now=NOW) == expected


@pytest.mark.parametrize("value", ["", "soon", "-1", "1.5", "+3", "3 s", "٣", "Tue, 99 Nov 2023"])
def test_a_retry_after_of_neither_form_is_unreadable(value) -> None:
    assert parse_retry_after(value=value, now=NOW) is None


def _decide(status: int = 429, retry_after: str | None = "34", **fields):
    fields.setdefault("limit", 60)
    fields.setdefault("expected_status", 200)
    fields.setdefault("waited", None)
    return decide(status=status, retry_after=retry_after, now=NOW, **fields)


def test_the_verdicts_and_their_notes() -> None:
    waited = _decide()
    assert (waited.wait, waited.note) == (
        34,
        RetryNote(label="429, Retry-After 34 s: waited and retried", passed=True, detail=""),
    )
    assert _decide(503, "60").wait == 60  # the limit itself is within it
    over = _decide(503, "61")
    assert (over.wait, over.note.passed, over.note.label) == (
        None,
        False,
        "503, Retry-After 61 s is over the 60 s limit: not retried",
    )
    again = _decide(waited=34)
    assert (again.wait, again.note.passed, again.note.label) == (
        None,
        False,
        "429 again after waiting 34 s: retried only once",
    )
    unreadable = _decide(retry_after="x" * 100)
    assert (unreadable.wait, unreadable.note.label) == (
        None,
        f'429, Retry-After "{"x" * 40}…" is neither seconds nor a date: not retried',
    )


@pytest.mark.parametrize(
    "fields",
    [
        {"status": 200},
        {"status": 500},
        {"status": 403},  # a quota's refusal carries Retry-After too: not waited out
        {"retry_after": None},
        {"limit": 0},  # waiting turned off
        {"limit": -5},
        {"expected_status": 429},  # the step expects the 429
    ],
)
def test_answers_judged_as_they_come(fields) -> None:
    assert _decide(**fields) is None


# --- A backend's own 429 and 503 ----------------------------------------------------------


class Answers:
    """A scripted backend's handler: the given answers in order, then the last again."""

    def __init__(self, *answers: tuple[int, list[tuple[str, str]], bytes]) -> None:
        self.answers = list(answers)

    def __call__(self, exchange: BackendExchange) -> None:
        status, headers, body = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        exchange.respond(status, headers=headers, body=body)


def busy(status: int = 429, retry_after: str | None = "1") -> tuple:
    headers = [("Retry-After", retry_after)] if retry_after is not None else []
    return (status, [*headers, *JSON], b'{"error": "busy"}')


OK = (200, JSON, b'{"StatusCode": "Finished"}')
RUNNING = (200, JSON, b'{"StatusCode": "Running"}')


class Sleeps:
    """An injected sleep: records each wait, waits for none."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def make_operation(service_url: str) -> Operation:
    api = Api.objects.create(
        name="Scripted",
        slug="scripted",
        url_suffix="scripted/v1",
        service_url=f"{service_url}/base",
    )
    operation = Operation.objects.create(
        api=api, name="Item", slug="item", method="GET", url_template="/items/{item}"
    )
    create_missing_template_parameters(operation=operation)
    return operation


@pytest.fixture
def tester():
    return make_user("tess")


@pytest.fixture
def collection(tester) -> Collection:
    return Collection.objects.create(owner=tester, name="Busy")


def save(
    collection: Collection, operation: Operation, *, key: str | None = None, **fields
) -> SavedRequest:
    headers = [["Accept", "application/json"]]
    if key is not None:
        headers.append([KEY_HEADER, secrets.encrypt(key)])
    fields.setdefault("name", "Get item")
    fields.setdefault("expected_status", 200)
    return SavedRequest.objects.create(
        collection=collection,
        operation=operation,
        operation_label=f"{operation.api.name}: {operation.name}",
        values={"template": {"item": "42"}, "query": [], "headers": headers, "body": None},
        **fields,
    )


def replayed(*answers, collection, sleeps, **fields) -> tuple[replay.StepOutcome, list]:
    """Replay one saved request against a backend giving these answers; the outcome and
    the requests that reached the backend."""
    with scripted_server(Answers(*answers)) as server:
        saved = save(collection, make_operation(server.url), **fields)
        outcome = replay.replay_saved_request(saved=saved, user=collection.owner, sleep=sleeps)
        return outcome, server.requests


def labels(outcome: replay.StepOutcome) -> list[tuple[str, bool]]:
    return [(r.label, r.passed) for r in outcome.check_results]


@pytest.mark.django_db
def test_a_429_with_retry_after_1_is_waited_out_and_sent_again(collection, sleeps) -> None:
    outcome, requests = replayed(busy(429, "1"), OK, collection=collection, sleeps=sleeps)
    assert outcome.passed, labels(outcome)
    assert len(requests) == 2
    assert sleeps.calls == [1]
    assert outcome.tries == 2
    assert labels(outcome) == [
        ("429, Retry-After 1 s: waited and retried", True),
        ("Status is 200", True),
    ]
    assert isinstance(outcome.check_results[0], RetryNote)
    # Both answers are in the history; the step's is the last.
    assert list(Exchange.objects.order_by("id").values_list("status_code", flat=True)) == [
        429,
        200,
    ]
    assert outcome.exchange is not None
    assert outcome.exchange.status_code == 200


@pytest.mark.django_db
def test_a_503_is_waited_out_likewise(collection, sleeps) -> None:
    outcome, requests = replayed(busy(503, "2"), OK, collection=collection, sleeps=sleeps)
    assert outcome.passed
    assert (len(requests), sleeps.calls) == (2, [2])
    assert labels(outcome)[0] == ("503, Retry-After 2 s: waited and retried", True)


@pytest.mark.django_db
def test_a_retry_after_as_an_http_date_is_waited_out(collection, sleeps) -> None:
    when = formatdate(time.time() + 10, usegmt=True)
    outcome, requests = replayed(busy(429, when), OK, collection=collection, sleeps=sleeps)
    assert outcome.passed
    assert len(requests) == 2
    [waited] = sleeps.calls
    # The date has whole seconds: 10 s from now, less what the date cut and the call took.
    assert 9 <= waited <= 10
    assert labels(outcome)[0] == (f"429, Retry-After {waited} s: waited and retried", True)


@pytest.mark.django_db
def test_a_retry_after_over_the_limit_fails_the_step_at_once(collection, sleeps) -> None:
    outcome, requests = replayed(busy(429, "120"), OK, collection=collection, sleeps=sleeps)
    assert not outcome.passed
    assert (len(requests), sleeps.calls) == (1, [])
    assert outcome.error == ""
    assert labels(outcome) == [
        ("429, Retry-After 120 s is over the 60 s limit: not retried", False),
        ("Status is 200", False),
    ]


@pytest.mark.django_db
def test_the_limit_is_a_setting(collection, sleeps, settings) -> None:
    settings.PORTAL_RUN_RETRY_AFTER_MAX_SECONDS = 5
    outcome, requests = replayed(busy(503, "6"), OK, collection=collection, sleeps=sleeps)
    assert (len(requests), sleeps.calls) == (1, [])
    assert labels(outcome)[0] == ("503, Retry-After 6 s is over the 5 s limit: not retried", False)


@pytest.mark.django_db
def test_a_second_429_after_the_wait_fails_the_step(collection, sleeps) -> None:
    outcome, requests = replayed(
        busy(429, "1"), busy(429, "1"), collection=collection, sleeps=sleeps
    )
    assert not outcome.passed
    assert (len(requests), sleeps.calls) == (2, [1])
    assert outcome.tries == 2
    assert labels(outcome) == [
        ("429 again after waiting 1 s: retried only once", False),
        ("Status is 200", False),
    ]


@pytest.mark.django_db
def test_an_unreadable_retry_after_fails_the_step_without_waiting(collection, sleeps) -> None:
    outcome, requests = replayed(busy(429, "soon"), OK, collection=collection, sleeps=sleeps)
    assert (outcome.passed, len(requests), sleeps.calls) == (False, 1, [])
    assert labels(outcome)[0] == (
        '429, Retry-After "soon" is neither seconds nor a date: not retried',
        False,
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("answer", "fields", "passed"),
    [
        (busy(429, None), {}, False),  # no Retry-After: judged as it is
        (busy(500, "1"), {}, False),  # only 429 and 503 ask to wait
        (busy(429, "1"), {"expected_status": 429}, True),  # the step expects it
    ],
)
def test_other_answers_are_judged_as_they_come(collection, sleeps, answer, fields, passed):
    outcome, requests = replayed(answer, OK, collection=collection, sleeps=sleeps, **fields)
    assert (outcome.passed, len(requests), sleeps.calls) == (passed, 1, [])
    assert not any(isinstance(r, RetryNote) for r in outcome.check_results)


@pytest.mark.django_db
def test_waiting_turned_off(collection, sleeps, settings) -> None:
    settings.PORTAL_RUN_RETRY_AFTER_MAX_SECONDS = 0
    outcome, requests = replayed(busy(429, "1"), OK, collection=collection, sleeps=sleeps)
    assert (outcome.passed, len(requests), sleeps.calls) == (False, 1, [])
    assert labels(outcome) == [("Status is 200", False)]


POLL = {
    "repeat_until": parse_check_line("json $.StatusCode = Finished"),
    "repeat_max_tries": 3,
    "repeat_delay_seconds": 0.5,
}


@pytest.mark.django_db
def test_a_poll_loop_waits_out_a_429_without_using_a_try(collection, sleeps) -> None:
    outcome, requests = replayed(
        RUNNING, busy(429, "2"), RUNNING, OK, collection=collection, sleeps=sleeps, **POLL
    )
    assert outcome.passed, labels(outcome)
    # Three looks (the repeat's tries) and the one sent again after the 429.
    assert len(requests) == 4
    assert sleeps.calls == [0.5, 2, 0.5]
    assert labels(outcome) == [
        ("429, Retry-After 2 s: waited and retried", True),
        ("Repeat until $.StatusCode equals Finished", True),
        ("Status is 200", True),
    ]
    assert outcome.tries == 4


@pytest.mark.django_db
def test_a_poll_loop_stops_at_a_retry_after_over_the_limit(collection, sleeps) -> None:
    outcome, requests = replayed(
        RUNNING, busy(429, "600"), OK, collection=collection, sleeps=sleeps, **POLL
    )
    assert not outcome.passed
    assert (len(requests), sleeps.calls) == (2, [0.5])
    assert [label for label, _ in labels(outcome)] == [
        "429, Retry-After 600 s is over the 60 s limit: not retried",
        "Repeat until $.StatusCode equals Finished",
        "Status is 200",
    ]


# --- Runs: the stored step, the report, the parallel runner -------------------------------


@pytest.mark.django_db
def test_a_run_stores_the_note_and_junit_keeps_it_in_system_out(collection, sleeps) -> None:
    with scripted_server(Answers(busy(429, "1"), OK)) as server:
        save(collection, make_operation(server.url))
        run = replay.run_collection(collection=collection, user=collection.owner, sleep=sleeps)
    assert run.status == RunStatus.PASSED
    step = run.steps.get()
    assert step.check_results[0] == {
        "label": "429, Retry-After 1 s: waited and retried",
        "passed": True,
        "detail": "",
        "retry_after": True,
    }
    assert step.check_results[1] == {"label": "Status is 200", "passed": True, "detail": ""}
    case = child(ET.fromstring(junit_xml(runs=[run]).encode()), "testsuite/testcase")  # noqa: S314
    assert case.find("failure") is None
    lines = text_at(case, "system-out").splitlines()
    assert re.fullmatch(r"GET http://.+/base/items/42 -> 200 in \d+ ms after 2 tries", lines[0])
    assert lines[1] == "429, Retry-After 1 s: waited and retried"


@pytest.mark.django_db
def test_junit_names_a_retry_after_over_the_limit_as_the_failure(collection, sleeps) -> None:
    with scripted_server(Answers(busy(503, "90"))) as server:
        save(collection, make_operation(server.url))
        run = replay.run_collection(collection=collection, user=collection.owner, sleep=sleeps)
    case = child(ET.fromstring(junit_xml(runs=[run]).encode()), "testsuite/testcase")  # noqa: S314
    failure = child(case, "failure")
    assert failure.get("message") == "503, Retry-After 90 s is over the 60 s limit: not retried"
    assert text_at(case, "failure").splitlines() == [
        "503, Retry-After 90 s is over the 60 s limit: not retried",
        "Status is 200: got 503",
    ]
    assert sleeps.calls == []


@pytest.mark.django_db(transaction=True)
def test_a_parallel_run_waits_in_its_workers(tester, sleeps) -> None:
    collection = Collection.objects.create(owner=tester, name="Parallel")
    with scripted_server(Answers(busy(429, "1"), OK)) as server:
        operation = make_operation(server.url)
        for order in range(2):
            save(collection, operation, name=f"Get {order}", order=order)
        run = replay.run_collection(collection=collection, user=tester, concurrency=2, sleep=sleeps)
        requests = server.requests
    assert run.status == RunStatus.PASSED
    # The backend answered 429 once: one step waited, the other did not need to.
    assert (len(requests), sleeps.calls) == (3, [1])
    notes = [r for step in run.steps.all() for r in step.check_results if r.get("retry_after")]
    assert [note["label"] for note in notes] == ["429, Retry-After 1 s: waited and retried"]


# --- From the command line and the run page (real one-second waits) -----------------------


def _replay(*args: str) -> str:
    out = StringIO()
    call_command("replay", *args, stdout=out, no_color=True)
    return out.getvalue()


@pytest.mark.django_db
def test_the_command_line_prints_the_wait_on_the_steps_line(collection, tmp_path) -> None:
    report = tmp_path / "report.xml"
    with scripted_server(Answers(busy(429, "1"), OK)) as server:
        save(collection, make_operation(server.url))
        started = time.monotonic()
        out = _replay("Busy", "--junit", str(report))
        elapsed = time.monotonic() - started
        assert len(server.requests) == 2
    assert elapsed >= 1
    line = out.splitlines()[1]
    assert re.fullmatch(
        r"PASS  Get item  200  \d+ ms \(2 tries\)  429, Retry-After 1 s: waited and retried", line
    ), line
    assert "1 request, 1 passed, 0 failed" in out
    case = child(ET.parse(report).getroot(), "testsuite/testcase")  # noqa: S314
    assert "429, Retry-After 1 s: waited and retried" in text_at(case, "system-out").splitlines()


@pytest.mark.django_db
def test_the_command_line_fails_a_retry_after_over_the_limit(collection, tmp_path) -> None:
    report = tmp_path / "report.xml"
    with scripted_server(Answers(busy(429, "120"), OK)) as server:
        save(collection, make_operation(server.url))
        out = StringIO()
        with pytest.raises(CommandError, match=r"^1 request failed\.$"):
            call_command("replay", "Busy", "--junit", str(report), stdout=out, no_color=True)
        assert len(server.requests) == 1
    line = out.getvalue().splitlines()[1]
    assert re.fullmatch(
        r"FAIL  Get item  429  \d+ ms  429, Retry-After 120 s is over the 60 s limit: not "
        r"retried; Status is 200: got 429",
        line,
    ), line
    failure = child(ET.parse(report).getroot(), "testsuite/testcase/failure")  # noqa: S314
    assert failure.get("message") == "429, Retry-After 120 s is over the 60 s limit: not retried"


@pytest.mark.django_db(transaction=True)
def test_a_run_from_its_page_waits_in_the_background(client, tester, settings) -> None:
    settings.PORTAL_RUNS_IN_BACKGROUND = True
    collection = Collection.objects.create(owner=tester, name="Busy")
    with scripted_server(Answers(busy(503, "1"), OK)) as server:
        save(collection, make_operation(server.url))
        client.force_login(tester)
        response = client.post(f"/collections/{collection.pk}/run")
        assert response.status_code == 302
        # The page answered before the backend's wait was over: the run goes on in its
        # own thread. Waiting for that thread, not polling its rows, keeps this test
        # from reading the in-memory SQLite table while the run writes it.
        (worker,) = [t for t in threading.enumerate() if t.name.startswith("collection-run-")]
        assert len(server.requests) < 2
        worker.join(timeout=20)
        assert not worker.is_alive(), "the run did not end"
        run = Run.objects.get(collection=collection)
        assert len(server.requests) == 2
    assert run.status == RunStatus.PASSED
    page = BeautifulSoup(client.get(response["Location"]).content, "html.parser")
    step = one(page, '[data-step="Get item"]')
    assert step["data-passed"] == "true"
    checks = [item.get_text(" ", strip=True) for item in step.select("[data-check-passed]")]
    assert checks == ["✓ 503, Retry-After 1 s: waited and retried", "✓ Status is 200"]


# --- The gateway's own rate-limit refusal -------------------------------------------------


class RealSleeps(Sleeps):
    """Records each wait and waits it: the gateway's limits count in real time."""

    def __call__(self, seconds: float) -> None:
        super().__call__(seconds)
        time.sleep(seconds)


@pytest.fixture
def keyed(tester):
    """A backend answering Finished, and an operation of an API behind a key."""
    with scripted_server(Answers(OK)) as server:
        yield server, make_operation(server.url)


def _subscribed(tester, operation: Operation, **limits) -> str:
    product = make_product(operation.api, slug="tight", **limits)
    return make_subscription(user=tester, product=product).key("primary")


@pytest.mark.django_db
def test_a_rate_limit_refusal_is_waited_out_and_sent_again(keyed, collection, tester) -> None:
    server, operation = keyed
    # One call a second: a second call at once is refused with Retry-After 1 or 2 s.
    saved = save(collection, operation, key=_subscribed(tester, operation, rate=1, rate_period=1))
    sleeps = RealSleeps()
    assert replay.replay_saved_request(saved=saved, user=tester, sleep=sleeps).passed

    outcome = replay.replay_saved_request(saved=saved, user=tester, sleep=sleeps)

    assert outcome.passed, (outcome.error, labels(outcome))
    [waited] = sleeps.calls
    assert 1 <= waited <= 2
    assert labels(outcome)[0] == (f"429, Retry-After {waited} s: waited and retried", True)
    assert outcome.tries == 2
    assert len(server.requests) == 2
    assert list(GatewayCall.objects.order_by("id").values_list("outcome", flat=True)) == [
        CallOutcome.FORWARDED,
        CallOutcome.RATE_LIMITED,
        CallOutcome.FORWARDED,
    ]


@pytest.mark.django_db
def test_a_rate_limit_refusal_over_the_limit_fails_without_waiting(
    keyed, collection, tester, sleeps, settings
) -> None:
    server, operation = keyed
    settings.PORTAL_RUN_RETRY_AFTER_MAX_SECONDS = 10
    # One call a minute: the next is refused with a Retry-After over a minute.
    saved = save(collection, operation, key=_subscribed(tester, operation, rate=1, rate_period=60))
    assert replay.replay_saved_request(saved=saved, user=tester, sleep=sleeps).passed

    outcome = replay.replay_saved_request(saved=saved, user=tester, sleep=sleeps)

    assert not outcome.passed
    found = re.fullmatch(
        r"The gateway refused the call: 429 RateLimitExceeded: Rate limit exceeded: at most 1 "
        r"call every 60 seconds\. Retry-After: (\d+) s\. 429, Retry-After (\d+) s is over the "
        r"10 s limit: not retried\.",
        outcome.error,
    )
    assert found, outcome.error
    assert found.group(1) == found.group(2)
    assert (sleeps.calls, len(server.requests), outcome.check_results) == ([], 1, [])
    assert replay.is_gateway_refusal(outcome.error)


@pytest.mark.django_db
def test_a_second_rate_limit_refusal_fails_the_step(keyed, collection, tester, sleeps) -> None:
    server, operation = keyed
    saved = save(collection, operation, key=_subscribed(tester, operation, rate=1, rate_period=20))
    assert replay.replay_saved_request(saved=saved, user=tester, sleep=sleeps).passed

    # The injected sleep does not wait: the gateway refuses the call sent again too.
    outcome = replay.replay_saved_request(saved=saved, user=tester, sleep=sleeps)

    [waited] = sleeps.calls
    assert re.fullmatch(
        r"The gateway refused the call \(try 2\): 429 RateLimitExceeded: Rate limit exceeded: "
        r"at most 1 call every 20 seconds\. Retry-After: \d+ s\. 429 again after waiting "
        rf"{waited} s: retried only once\.",
        outcome.error,
    ), outcome.error
    assert len(server.requests) == 1
    assert GatewayCall.objects.filter(outcome=CallOutcome.RATE_LIMITED).count() == 2


@pytest.mark.django_db
def test_a_quota_refusal_is_not_waited_out(keyed, collection, tester, sleeps) -> None:
    server, operation = keyed
    saved = save(
        collection, operation, key=_subscribed(tester, operation, quota=1, quota_period=60)
    )
    assert replay.replay_saved_request(saved=saved, user=tester, sleep=sleeps).passed
    outcome = replay.replay_saved_request(saved=saved, user=tester, sleep=sleeps)
    assert re.fullmatch(
        r"The gateway refused the call: 403 QuotaExceeded: Quota exceeded: at most 1 call "
        r"every 1 min\. Retry-After: \d+ s\.",
        outcome.error,
    ), outcome.error
    assert (sleeps.calls, len(server.requests)) == ([], 1)


@pytest.mark.django_db
def test_a_poll_loop_waits_out_the_rate_limit(collection, tester) -> None:
    with scripted_server(Answers(RUNNING, OK)) as server:
        operation = make_operation(server.url)
        key = _subscribed(tester, operation, rate=1, rate_period=1)
        saved = save(collection, operation, key=key, **{**POLL, "repeat_delay_seconds": 0})
        sleeps = RealSleeps()
        outcome = replay.replay_saved_request(saved=saved, user=tester, sleep=sleeps)
        requests = server.requests
    assert outcome.passed, (outcome.error, labels(outcome))
    # Running, then the second look is refused, waited out, and finds the job Finished.
    assert len(requests) == 2
    assert sleeps.calls[0] == 0
    assert 1 <= sleeps.calls[1] <= 2
    assert labels(outcome)[0] == (f"429, Retry-After {sleeps.calls[1]} s: waited and retried", True)
    assert labels(outcome)[1] == ("Repeat until $.StatusCode equals Finished", True)
