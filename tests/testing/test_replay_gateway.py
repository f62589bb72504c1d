"""Replays through the gateway (testing/replay.py with gateway/tryit_access.py).

A saved request for an API in a product that needs a subscription is replayed the way
the gateway would call it: the key from its key header row (stored encrypted) is checked
and counted against the subscription's limits before each try, taken out before the
request is bound, and every try, sent or refused, is a GatewayCall with source "replay".
The backend is a scripted server on loopback, so what it received is known exactly.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from io import StringIO

import pytest
from bs4 import BeautifulSoup
from django.core.management import CommandError, call_command

from catalog.models import Api, Operation
from catalog.registration import create_missing_template_parameters
from console.models import Exchange
from gateway.models import CallOutcome, CallSource, GatewayCall, SubscriptionState
from httpcore.masking import MASK
from portal import secrets
from testing import replay
from testing.actions import save_exchange
from testing.checks import parse_check_line
from testing.models import Collection, CollectionVariable, RunStatus, SavedRequest
from tests.backends import reply_with, scripted_server
from tests.factories import make_product, make_subscription, make_user

pytestmark = pytest.mark.django_db

KEY_HEADER = "Ocp-Apim-Subscription-Key"
BODY = b'{"StatusCode": "Running"}'


@pytest.fixture(autouse=True)
def refusals_as_they_come(settings):
    """These tests are about the refusal itself: no Retry-After is waited out here
    (tests/testing/test_replay_retry_after.py covers waiting)."""
    settings.PORTAL_RUN_RETRY_AFTER_MAX_SECONDS = 0


@pytest.fixture
def backend():
    with scripted_server(
        reply_with(200, headers=[("Content-Type", "application/json")], body=BODY)
    ) as server:
        yield server


def make_operation(service_url: str, *, key_header: str = KEY_HEADER) -> Operation:
    api = Api.objects.create(
        name="Scripted",
        slug="scripted",
        url_suffix="scripted/v1",
        service_url=f"{service_url}/base",
        subscription_key_header=key_header,
    )
    operation = Operation.objects.create(
        api=api, name="Item", slug="item", method="GET", url_template="/items/{item}"
    )
    create_missing_template_parameters(operation=operation)
    return operation


@pytest.fixture
def operation(backend) -> Operation:
    return make_operation(backend.url)


@pytest.fixture
def tester():
    return make_user("tess")


@pytest.fixture
def product(operation):
    return make_product(operation.api, slug="starter", rate=5, quota=100)


@pytest.fixture
def subscription(tester, product):
    return make_subscription(user=tester, product=product, name="CI")


@pytest.fixture
def collection(tester) -> Collection:
    return Collection.objects.create(owner=tester, name="Keyed")


def save(
    collection: Collection,
    operation: Operation,
    *,
    key: str | None,
    name: str = "Get item",
    order: int = 0,
    header: str = KEY_HEADER,
    **fields,
) -> SavedRequest:
    """A saved request whose key header row holds `key` encrypted, as Save stores it."""
    headers = [["Accept", "application/json"]]
    if key is not None:
        headers.append([header, secrets.encrypt(key) if key else ""])
    fields.setdefault("expected_status", 200)
    return SavedRequest.objects.create(
        collection=collection,
        name=name,
        order=order,
        operation=operation,
        operation_label=f"{operation.api.name}: {operation.name}",
        values={"template": {"item": "42"}, "query": [], "headers": headers, "body": None},
        **fields,
    )


# --- A replay that goes through ------------------------------------------------------


def test_the_backend_gets_no_key_and_the_try_is_a_gateway_call(
    collection, operation, subscription, tester, backend
):
    key = subscription.key("primary")
    saved = save(collection, operation, key=key)

    outcome = replay.replay_saved_request(saved=saved, user=tester)

    assert outcome.passed, outcome.error
    [received] = backend.requests
    assert received.target == "/base/items/42"
    assert received.header(KEY_HEADER) is None
    assert received.header("Accept") == "application/json"
    assert all(key not in value for _, value in received.headers)
    call = GatewayCall.objects.get()
    assert (call.source, call.outcome, call.status_code) == (
        CallSource.REPLAY,
        CallOutcome.FORWARDED,
        200,
    )
    assert (call.subscription, call.product, call.user) == (
        subscription,
        subscription.product,
        tester,
    )
    assert (call.api, call.operation) == (operation.api, operation)
    assert (call.method, call.path) == ("GET", "/gateway/scripted/v1/items/42")
    assert call.client_address is None
    assert call.backend_duration_ms is not None
    assert call.response_bytes == len(BODY)


def test_the_history_masks_the_key_and_the_saved_request_keeps_it_encrypted(
    collection, operation, subscription, tester, backend
):
    key = subscription.key("primary")
    saved = save(collection, operation, key=key)
    outcome = replay.replay_saved_request(saved=saved, user=tester)
    exchange = outcome.exchange
    assert exchange.values["headers"] == [["Accept", "application/json"], [KEY_HEADER, MASK]]
    # What was sent: the request without the key.
    assert [name for name, _ in exchange.request_headers] == ["Accept"]
    assert key not in json.dumps([exchange.url, exchange.values, exchange.request_headers])
    saved.refresh_from_db()
    stored = saved.values["headers"][1][1]
    assert stored.startswith(secrets.PREFIX) and secrets.decrypt(stored) == key


def test_the_secondary_key_and_a_key_from_a_secret_variable_work(
    collection, operation, subscription, tester, backend
):
    CollectionVariable.objects.create(
        collection=collection,
        name="sub_key",
        value=secrets.encrypt(subscription.key("secondary")),
        secret=True,
    )
    saved = save(collection, operation, key="{{sub_key}}")
    outcome = replay.replay_saved_request(saved=saved, user=tester)
    assert outcome.passed, outcome.error
    assert backend.requests[0].header(KEY_HEADER) is None
    assert GatewayCall.objects.get().subscription == subscription


def test_a_saved_request_without_a_key_uses_the_runners_own_subscription(
    collection, operation, product, tester, backend
):
    # Two subscriptions of someone else and one of the runner: the runner's is counted.
    other = make_subscription(user=make_user("other"), product=product)
    own = make_subscription(user=tester, product=product, name="Mine")
    for key in (None, ""):  # no key header row, then an empty one
        saved = save(collection, operation, key=key, name=f"no key {key!r}")
        outcome = replay.replay_saved_request(saved=saved, user=tester)
        assert outcome.passed, outcome.error
    assert len(backend.requests) == 2
    assert all(r.header(KEY_HEADER) is None for r in backend.requests)
    calls = GatewayCall.objects.all()
    assert [c.subscription for c in calls] == [own, own]
    assert other.calls.count() == 0


def test_an_api_in_no_product_replays_exactly_as_before(collection, operation, tester, backend):
    saved = save(collection, operation, key="not-a-gateway-key-0123")
    outcome = replay.replay_saved_request(saved=saved, user=tester)
    assert outcome.passed, outcome.error
    # No gateway: the header is an ordinary (secret) header, sent as it was saved.
    assert backend.requests[0].header(KEY_HEADER) == "not-a-gateway-key-0123"
    assert not GatewayCall.objects.exists()


def test_a_product_that_needs_no_subscription_changes_nothing(
    collection, operation, tester, backend
):
    make_product(operation.api, slug="open", subscription_required=False, rate=1)
    saved = save(collection, operation, key=None)
    for _ in range(3):
        assert replay.replay_saved_request(saved=saved, user=tester).passed
    assert len(backend.requests) == 3
    assert not GatewayCall.objects.exists()


# --- Refusals: a failed step, nothing sent ---------------------------------------------


def refused_step(outcome: replay.StepOutcome) -> str:
    assert not outcome.passed
    assert outcome.exchange is None
    assert outcome.check_results == []
    assert replay.is_gateway_refusal(outcome.error), outcome.error
    return outcome.error


def test_a_suspended_subscriptions_key_fails_the_step_and_sends_nothing(
    collection, operation, subscription, tester, backend
):
    saved = save(collection, operation, key=subscription.key("primary"))
    subscription.state = SubscriptionState.SUSPENDED
    subscription.save()

    outcome = replay.replay_saved_request(saved=saved, user=tester)

    assert refused_step(outcome) == (
        "The gateway refused the call: 403 SubscriptionSuspended: The subscription is suspended."
    )
    assert backend.requests == []
    assert not Exchange.objects.exists()
    call = GatewayCall.objects.get()
    assert (call.source, call.outcome, call.status_code, call.subscription) == (
        CallSource.REPLAY,
        CallOutcome.INACTIVE_SUBSCRIPTION,
        403,
        subscription,
    )
    assert call.path == "/gateway/scripted/v1/items/42"


def test_a_wrong_key_is_refused_and_the_runners_subscription_is_not_used_instead(
    collection, operation, subscription, tester, backend
):
    saved = save(collection, operation, key="wrong-key-0123456789")
    outcome = replay.replay_saved_request(saved=saved, user=tester)
    assert refused_step(outcome) == (
        "The gateway refused the call: 401 InvalidSubscriptionKey: "
        "The subscription key is not valid for this API."
    )
    assert backend.requests == []
    call = GatewayCall.objects.get()
    assert (call.outcome, call.status_code, call.subscription) == (
        CallOutcome.INVALID_KEY,
        401,
        None,
    )


def test_no_key_and_no_subscription_of_the_runner_is_a_401(
    collection, operation, product, tester, backend
):
    saved = save(collection, operation, key=None)
    outcome = replay.replay_saved_request(saved=saved, user=tester)
    assert refused_step(outcome) == (
        "The gateway refused the call: 401 MissingSubscriptionKey: This API needs a "
        f"subscription key: send it in the {KEY_HEADER} header or the subscription-key "
        "query parameter."
    )
    assert backend.requests == []
    assert GatewayCall.objects.get().outcome == CallOutcome.NO_KEY


def test_past_the_rate_limit_the_step_fails_with_retry_after(
    collection, operation, tester, backend
):
    product = make_product(operation.api, slug="tight", rate=1, rate_period=60)
    subscription = make_subscription(user=tester, product=product)
    saved = save(collection, operation, key=subscription.key("primary"))

    assert replay.replay_saved_request(saved=saved, user=tester).passed
    error = refused_step(replay.replay_saved_request(saved=saved, user=tester))

    found = re.fullmatch(
        r"The gateway refused the call: 429 RateLimitExceeded: Rate limit exceeded: at most "
        r"1 call every 60 seconds\. Retry-After: (\d+) s\.",
        error,
    )
    assert found, error
    assert 1 <= int(found.group(1)) <= 120
    assert len(backend.requests) == 1
    assert list(GatewayCall.objects.order_by("id").values_list("outcome", "status_code")) == [
        (CallOutcome.FORWARDED, 200),
        (CallOutcome.RATE_LIMITED, 429),
    ]


def test_past_the_quota_the_step_fails_with_a_403_and_retry_after(
    collection, operation, tester, backend
):
    product = make_product(operation.api, slug="quota", quota=1, quota_period=86400)
    subscription = make_subscription(user=tester, product=product)
    saved = save(collection, operation, key=subscription.key("primary"))
    assert replay.replay_saved_request(saved=saved, user=tester).passed
    error = refused_step(replay.replay_saved_request(saved=saved, user=tester))
    assert re.fullmatch(
        r"The gateway refused the call: 403 QuotaExceeded: Quota exceeded: at most 1 call "
        r"every 1 d\. Retry-After: \d+ s\.",
        error,
    ), error
    assert len(backend.requests) == 1
    assert GatewayCall.objects.filter(outcome=CallOutcome.QUOTA_EXCEEDED).count() == 1


def test_a_repeat_until_loop_stops_at_the_refusal(collection, operation, tester, backend):
    product = make_product(operation.api, slug="tight", rate=2, rate_period=60)
    subscription = make_subscription(user=tester, product=product)
    # The backend always answers Running: without the gateway this would poll 10 times.
    saved = save(
        collection,
        operation,
        key=subscription.key("primary"),
        repeat_until=parse_check_line("json $.StatusCode = Finished"),
        repeat_max_tries=10,
        repeat_delay_seconds=0,
    )
    outcome = replay.replay_saved_request(saved=saved, user=tester)
    assert not outcome.passed
    assert outcome.tries == 3
    assert outcome.error.startswith(
        "The gateway refused the call (try 3): 429 RateLimitExceeded: Rate limit exceeded"
    )
    assert len(backend.requests) == 2
    # The last answer the backend gave stays the step's exchange.
    assert outcome.exchange == Exchange.objects.order_by("-id").first()
    assert Exchange.objects.count() == 2
    assert list(GatewayCall.objects.order_by("id").values_list("outcome", flat=True)) == [
        CallOutcome.FORWARDED,
        CallOutcome.FORWARDED,
        CallOutcome.RATE_LIMITED,
    ]


# --- Collection runs -------------------------------------------------------------------


@pytest.fixture
def three_steps(collection, operation, tester):
    """A collection of three requests for an API whose product allows 2 calls a minute."""
    product = make_product(operation.api, slug="two", rate=2, rate_period=60)
    subscription = make_subscription(user=tester, product=product)
    key = subscription.key("primary")
    for order in range(3):
        save(collection, operation, key=key, name=f"Step {order + 1}", order=order)
    return collection


def test_a_run_of_three_steps_with_a_limit_of_two_fails_the_third(three_steps, tester, backend):
    run = replay.run_collection(collection=three_steps, user=tester)

    assert run.status == RunStatus.FAILED
    steps = list(run.steps.order_by("order"))
    assert [step.passed for step in steps] == [True, True, False]
    assert steps[2].exchange is None
    assert steps[2].error.startswith(
        "The gateway refused the call: 429 RateLimitExceeded: Rate limit exceeded: at most "
        "2 calls every 60 seconds. Retry-After: "
    )
    assert len(backend.requests) == 2
    assert GatewayCall.objects.filter(source=CallSource.REPLAY).count() == 3


@pytest.mark.django_db(transaction=True)
def test_a_parallel_run_admits_only_the_limit(three_steps, tester, backend):
    run = replay.run_collection(collection=three_steps, user=tester, concurrency=3)
    steps = list(run.steps.all())
    assert sorted(step.passed for step in steps) == [False, True, True]
    [refused] = [step for step in steps if not step.passed]
    assert "429 RateLimitExceeded" in refused.error
    assert len(backend.requests) == 2
    assert GatewayCall.objects.filter(outcome=CallOutcome.RATE_LIMITED).count() == 1
    assert GatewayCall.objects.filter(outcome=CallOutcome.FORWARDED).count() == 2


def test_the_command_line_runner_fails_and_its_junit_names_the_refusal(
    three_steps, tmp_path, backend
):
    report = tmp_path / "report.xml"
    out = StringIO()
    with pytest.raises(CommandError, match=r"^1 request failed\.$"):
        call_command("replay", "Keyed", "--junit", str(report), stdout=out, no_color=True)
    lines = out.getvalue().splitlines()
    assert re.fullmatch(r"PASS  Step 1  200  \d+ ms", lines[1])
    assert re.fullmatch(r"PASS  Step 2  200  \d+ ms", lines[2])
    assert re.fullmatch(
        r"FAIL  Step 3  -  \d+ ms  The gateway refused the call: 429 RateLimitExceeded: "
        r"Rate limit exceeded: at most 2 calls every 60 seconds\. Retry-After: \d+ s\.",
        lines[3],
    ), lines[3]

    suite = ET.parse(report).getroot().find("testsuite")  # noqa: S314 (our own report)
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("3", "1", "0")
    third = suite.findall("testcase")[2]
    assert third.get("name") == "Step 3"
    failure = third.find("failure")
    assert failure.get("message").startswith(
        "The gateway refused the call: 429 RateLimitExceeded: Rate limit exceeded"
    )
    assert "Retry-After:" in failure.get("message")
    assert third.find("error") is None


# --- From the pages -----------------------------------------------------------------------


def test_the_replay_button_shows_the_refusal(client, collection, operation, subscription, tester):
    saved = save(collection, operation, key=subscription.key("primary"))
    subscription.state = SubscriptionState.SUSPENDED
    subscription.save()
    client.force_login(tester)
    response = client.post(f"/saved/{saved.pk}/replay")
    assert response.status_code == 200
    soup = BeautifulSoup(response.content, "html.parser")
    assert soup.select_one("[data-outcome-error]").get_text(strip=True) == (
        "The gateway refused the call: 403 SubscriptionSuspended: The subscription is suspended."
    )
    assert subscription.key("primary") not in response.content.decode()


def test_the_run_page_shows_the_refused_step(client, three_steps, tester, backend):
    client.force_login(tester)
    response = client.post(f"/collections/{three_steps.pk}/run")
    assert response.status_code == 302
    page = client.get(response["Location"])
    soup = BeautifulSoup(page.content, "html.parser")
    third = soup.select_one('[data-step="Step 3"]')
    assert third["data-passed"] == "false"
    assert (
        third.select_one("[data-step-error]")
        .get_text(strip=True)
        .startswith("The gateway refused the call: 429 RateLimitExceeded")
    )


def test_a_call_saved_from_try_it_replays_through_the_gateway(
    client, operation, subscription, tester, backend
):
    """Try it with the key, Save, Replay: the key travels encrypted and never reaches the
    backend."""
    key = subscription.key("primary")
    client.force_login(tester)
    page = f"/apis/{operation.api.slug}/operations/{operation.slug}/try"
    data = {"param-template-item": "7", "header_name": [KEY_HEADER, ""], "header_value": [key, ""]}
    assert client.post(page, data).status_code == 200
    saved = save_exchange(
        exchange=Exchange.objects.get(), user=tester, name="From Try it", collection=None
    )
    assert saved.values["headers"][0][1].startswith(secrets.PREFIX)

    outcome = replay.replay_saved_request(saved=saved, user=tester)

    assert outcome.passed, outcome.error
    assert [r.header(KEY_HEADER) for r in backend.requests] == [None, None]
    assert [c.source for c in GatewayCall.objects.order_by("id")] == [
        CallSource.TRY_IT,
        CallSource.REPLAY,
    ]
