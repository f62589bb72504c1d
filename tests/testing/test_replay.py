"""testing.variables and testing.replay: saved requests replayed against the real
sample backend on a live server, collections run end to end."""

from __future__ import annotations

import itertools
import json
import threading

import pytest
from django.conf import settings as django_settings

from catalog.models import Api, Operation
from console.models import Exchange
from demo.registration import SCORING_INPUT
from httpcore import outbound
from portal import secrets
from testing import preparation, replay, sending
from testing.models import Collection, CollectionVariable, Run, RunStatus, RunStep, SavedRequest
from testing.variables import UndefinedVariable, names_used, substitute, substitute_values

API_KEY = django_settings.PORTAL_DEMO_API_KEY
live = pytest.mark.django_db(transaction=True)


# --- variables (pure) ---------------------------------------------------------------


def test_substitute_fills_every_variable_once():
    variables = {"a": "1", "b.c": "{{a}}", "d-e": "x"}
    assert substitute("{{a}}/{{ b.c }}/{{d-e}}/{a}/{{}}", variables) == "1/{{a}}/x/{a}/{{}}"


def test_an_undefined_variable_is_named():
    with pytest.raises(UndefinedVariable) as caught:
        substitute("Bearer {{api_key}}", {})
    assert caught.value.name == "api_key"
    assert str(caught.value) == "Variable {{api_key}} is not defined."


def test_substitute_values_covers_every_field_but_parameter_names():
    values = {
        "template": {"workspace": "{{ws}}"},
        "query": [["details", "{{flag}}"]],
        "headers": [["X-{{name}}", "v-{{flag}}"]],
        "cookies": [["theme", "{{theme}}"]],
        "body": '{"id": "{{ws}}"}',
        "content_type": "application/json",
    }
    variables = {"ws": "w1", "flag": "true", "name": "Trace", "theme": "dark"}
    assert substitute_values(values, variables) == {
        "template": {"workspace": "w1"},
        "query": [["details", "true"]],
        "headers": [["X-Trace", "v-true"]],
        "cookies": [["theme", "dark"]],
        "body": '{"id": "w1"}',
        "content_type": "application/json",
    }
    assert substitute_values({"body": None}, {}) == {
        "template": {},
        "query": [],
        "headers": [],
        "cookies": [],
        "body": None,
        "content_type": "",
    }
    assert names_used(values) == {"ws", "flag", "name", "theme"}


# --- fixtures -------------------------------------------------------------------------


@pytest.fixture
def fast_jobs(settings):
    settings.PORTAL_DEMO_JOB_SECONDS = 0.3


@pytest.fixture
def tester(django_user_model):
    return django_user_model.objects.create_user("tester", password="x-unused-password")


def operation(api: Api, slug: str) -> Operation:
    return api.operations.get(slug=slug)


def make_collection(owner, *, name: str = "Batch flow") -> Collection:
    collection = Collection.objects.create(owner=owner, name=name)
    CollectionVariable.objects.create(collection=collection, name="workspace", value="ws-replay")
    CollectionVariable.objects.create(collection=collection, name="service", value="svc-replay")
    CollectionVariable.objects.create(
        collection=collection, name="api_key", value=secrets.encrypt(API_KEY), secret=True
    )
    return collection


def demo_values(*, jobid: bool = False, body: str | None = None, details: bool = False) -> dict:
    template = {"workspace": "{{workspace}}", "service": "{{service}}", "apiversion": "2.0"}
    if jobid:
        template["jobid"] = "{{jobid}}"
    if details:
        template["details"] = "true"
    headers = [["Authorization", secrets.encrypt("Bearer {{api_key}}")]]
    if body is not None:
        headers.insert(0, ["Content-Type", "application/json"])
    return {"template": template, "query": [], "headers": headers, "body": body}


def save(collection: Collection, op: Operation, *, order: int, **fields) -> SavedRequest:
    fields.setdefault("name", op.name)
    fields.setdefault("expected_status", 200)
    return SavedRequest.objects.create(
        collection=collection,
        operation=op,
        operation_label=f"{op.api.name}: {op.name}",
        order=order,
        **fields,
    )


def rrs(collection: Collection, api: Api, *, order: int, **fields) -> SavedRequest:
    fields.setdefault("values", demo_values(body=json.dumps(SCORING_INPUT), details=True))
    fields.setdefault("checks", [{"kind": "body_contains", "target": "", "value": "Hashing"}])
    return save(collection, operation(api, "rrs-execute"), order=order, **fields)


def batch_flow(collection: Collection, api: Api) -> list[SavedRequest]:
    """Submit (extracting the job id), Start, Status until Finished, Delete."""
    return [
        save(
            collection,
            operation(api, "bes-submit"),
            order=10,
            values=demo_values(body=json.dumps(SCORING_INPUT)),
            extract=[{"variable": "jobid", "source": "json", "path": "$"}],
        ),
        save(collection, operation(api, "bes-start"), order=20, values=demo_values(jobid=True)),
        save(
            collection,
            operation(api, "bes-status"),
            order=30,
            values=demo_values(jobid=True),
            repeat_until={"kind": "json_equals", "target": "$.StatusCode", "value": "Finished"},
            repeat_max_tries=30,
            repeat_delay_seconds=0.2,
            checks=[{"kind": "json_present", "target": "$.Results.output1", "value": ""}],
        ),
        save(collection, operation(api, "bes-delete"), order=40, values=demo_values(jobid=True)),
    ]


def steps_of(run: Run) -> list[RunStep]:
    return list(run.steps.order_by("order"))


def stored_text(*rows) -> str:
    return json.dumps([str(row.__dict__) for row in rows])


# --- a collection end to end ------------------------------------------------------------


@live
def test_the_batch_flow_runs_end_to_end(live_demo_api, fast_jobs, tester) -> None:
    collection = make_collection(tester)
    saved = batch_flow(collection, live_demo_api)
    seen: list[str] = []

    run = replay.run_collection(
        collection=collection, user=tester, on_step=lambda outcome: seen.append(outcome.saved.name)
    )

    run.refresh_from_db()
    assert run.status == RunStatus.PASSED
    assert run.total_steps == 4
    assert run.finished_at is not None
    assert run.started_by == tester
    steps = steps_of(run)
    assert [step.name for step in steps] == ["BES Submit", "BES Start", "BES Status", "BES Delete"]
    assert seen == [step.name for step in steps]
    assert all(step.passed for step in steps), [(s.name, s.error, s.check_results) for s in steps]
    submit, start, status, delete = steps
    assert submit.exchange and start.exchange and status.exchange and delete.exchange
    job_id = json.loads(bytes(submit.exchange.response_body))
    # The extracted id went into the next steps' URLs.
    assert f"/jobs/{job_id}/start?" in start.exchange.url
    assert f"/workspaces/ws-replay/services/svc-replay/jobs/{job_id}?" in delete.exchange.url
    # Status was polled until Finished, each try recorded in the tester's history.
    assert status.tries >= 2
    assert status.check_results[0] == {
        "label": "Repeat until $.StatusCode equals Finished",
        "passed": True,
        "detail": f"held after {status.tries} tries",
    }
    assert json.loads(bytes(status.exchange.response_body))["StatusCode"] == "Finished"
    assert Exchange.objects.filter(owner=tester).count() == 3 + status.tries
    # The secret key went out, masked in the history and nowhere in plain text at rest.
    assert start.exchange.request_headers == [["Authorization", "Bearer ••••••"]]
    for row in saved:
        row.refresh_from_db()
        assert API_KEY not in json.dumps(row.values)
        assert "{{api_key}}" not in json.dumps(row.values)  # the whole header is encrypted
    key_row = collection.variables.get(name="api_key")
    assert API_KEY not in key_row.value
    assert secrets.decrypt(key_row.value) == API_KEY
    assert API_KEY not in stored_text(*steps)
    assert preparation.collection_variables(collection)["api_key"] == API_KEY


@live
def test_a_removed_operation_fails_its_step_and_the_others_still_run(
    live_demo_api, fast_jobs, tester
):
    collection = make_collection(tester)
    batch_flow(collection, live_demo_api)
    rrs(collection, live_demo_api, order=25, name="Score")
    operation(live_demo_api, "rrs-execute").delete()
    sent_before = Exchange.objects.count()

    run = replay.run_collection(collection=collection, user=tester)

    assert run.status == RunStatus.FAILED
    steps = steps_of(run)
    assert [(step.name, step.passed) for step in steps] == [
        ("BES Submit", True),
        ("BES Start", True),
        ("Score", False),
        ("BES Status", True),
        ("BES Delete", True),
    ]
    assert steps[2].error == "The operation AzureML Demo API: RRS Execute no longer exists."
    assert steps[2].exchange is None
    assert steps[2].tries == 0
    assert Exchange.objects.count() - sent_before == 3 + steps[3].tries


@live
def test_an_undefined_variable_fails_the_step_without_sending(live_demo_api, tester):
    collection = make_collection(tester)
    submit = save(
        collection,
        operation(live_demo_api, "bes-submit"),
        order=1,
        values=demo_values(body=json.dumps(SCORING_INPUT)),
        # The answer is a bare string: $.id is not in it, so jobid is never set.
        extract=[{"variable": "jobid", "source": "json", "path": "$.id"}],
    )
    save(collection, operation(live_demo_api, "bes-start"), order=2, values=demo_values(jobid=True))

    run = replay.run_collection(collection=collection, user=tester)

    first, second = steps_of(run)
    assert run.status == RunStatus.FAILED
    assert first.saved_request == submit
    assert not first.passed
    assert first.error == "Variable jobid: $.id is not in the response."
    assert first.exchange is not None
    assert not second.passed
    assert second.error == "Variable {{jobid}} is not defined."
    assert second.exchange is None
    assert Exchange.objects.count() == 1


@live
def test_a_failing_check_fails_the_step_with_what_was_found(live_demo_api, tester):
    collection = make_collection(tester)
    saved = rrs(
        collection,
        live_demo_api,
        order=1,
        expected_status=201,
        checks=[
            {"kind": "header_equals", "target": "Content-Type", "value": "application/json"},
            {"kind": "json_equals", "target": "$.Results.output1.type", "value": "list"},
        ],
    )

    run, outcome = replay.run_saved_request(saved=saved, user=tester)

    assert not outcome.passed
    assert outcome.error == ""
    assert [(r.label, r.passed, r.detail) for r in outcome.check_results] == [
        ("Status is 201", False, "got 200"),
        ("Header Content-Type equals application/json", True, ""),
        ("$.Results.output1.type equals list", False, '$.Results.output1.type is "table"'),
    ]
    assert run.status == RunStatus.FAILED
    assert run.total_steps == 1
    (step,) = steps_of(run)
    assert step.check_results[0] == {"label": "Status is 201", "passed": False, "detail": "got 200"}
    assert step.exchange == outcome.exchange


@live
def test_replays_are_compared_with_the_baseline(live_demo_api, tester):
    collection = make_collection(tester)
    saved = rrs(collection, live_demo_api, order=1)
    _, first = replay.run_saved_request(saved=saved, user=tester)
    assert first.passed
    assert first.diff is None  # no baseline yet
    replay.capture_baseline(saved=saved, exchange=first.exchange)
    saved.refresh_from_db()
    assert saved.baseline_status == 200
    assert saved.baseline_captured_at is not None
    assert bytes(saved.baseline_body) == bytes(first.exchange.response_body)

    # The same request again: only volatile headers (ignored) differ.
    run, again = replay.run_saved_request(saved=saved, user=tester)
    assert again.passed
    assert again.diff is not None
    assert again.diff.unchanged, again.diff.as_dict()
    assert steps_of(run)[0].diff["body_changed"] is False

    # Another body: the scored values change, and the diff names where.
    other = {**SCORING_INPUT, "Inputs": {"input1": {"ColumnNames": ["Col2"], "Values": [["x"]]}}}
    saved.values = demo_values(body=json.dumps(other), details=True)
    saved.save()
    run, changed = replay.run_saved_request(saved=saved, user=tester)
    assert changed.passed  # the diff informs, the checks decide
    assert changed.diff.body_changed
    paths = {change["path"] for change in changed.diff.json_changes}
    assert "$.Results.output1.value.Values[0][0]" in paths
    first_cell = next(
        c for c in changed.diff.json_changes if c["path"] == "$.Results.output1.value.Values[0][0]"
    )
    assert first_cell == {
        "path": "$.Results.output1.value.Values[0][0]",
        "change": "changed",
        "old": "This is a good day",
        "new": "x",
    }
    stored = steps_of(run)[0].diff
    assert {change["path"] for change in stored["json_changes"]} == paths


@live
def test_fail_fast_stops_after_the_first_failure(live_demo_api, tester):
    collection = make_collection(tester)
    rrs(collection, live_demo_api, order=1, name="Wrong status", expected_status=201)
    rrs(collection, live_demo_api, order=2, name="Fine")
    rrs(collection, live_demo_api, order=3, name="Also fine")

    run = replay.run_collection(collection=collection, user=tester, fail_fast=True)

    assert run.status == RunStatus.FAILED
    assert run.total_steps == 3
    assert [(step.name, step.passed) for step in steps_of(run)] == [("Wrong status", False)]
    assert Exchange.objects.count() == 1

    without = replay.run_collection(collection=collection, user=tester)
    assert [step.passed for step in steps_of(without)] == [False, True, True]


@live
def test_concurrency_runs_independent_requests_at_once(live_demo_api, tester, monkeypatch) -> None:
    collection = make_collection(tester)
    for index in range(8):
        rrs(collection, live_demo_api, order=index, name=f"Score {index}")
    threads: set[str] = set()
    watched_send = outbound.send
    # The first two sends wait for each other: run one at a time, the first would wait
    # alone until the barrier breaks, and its step fails. Without it, a loaded machine
    # may let one worker take every request before another starts.
    first_two = threading.Barrier(2, timeout=20)
    calls = itertools.count()

    def send(request, **kwargs):
        threads.add(threading.current_thread().name)
        if next(calls) < 2:
            first_two.wait()
        return watched_send(request, **kwargs)

    monkeypatch.setattr(outbound, "send", send)

    run = replay.run_collection(collection=collection, user=tester, concurrency=4)

    run.refresh_from_db()
    steps = steps_of(run)
    assert run.status == RunStatus.PASSED, [(s.name, s.error, s.check_results) for s in steps]
    assert [step.name for step in steps] == [f"Score {index}" for index in range(8)]
    assert all(step.passed for step in steps)
    assert len({step.exchange_id for step in steps}) == 8
    assert len(threads) > 1
    assert all(name.startswith("replay") for name in threads)


@live
def test_a_secret_variable_is_masked_wherever_it_is_used(live_demo_api, tester):
    collection = make_collection(tester)
    values = demo_values(body=json.dumps(SCORING_INPUT), details=True)
    # A header no rule knows as secret: the secret variable makes it one.
    values["headers"].append(["X-Client-Key", "{{api_key}}"])
    # And a path segment, which no name masks: the value is replaced where it is stored.
    values["template"]["service"] = "svc-{{api_key}}"
    saved = rrs(collection, live_demo_api, order=1, values=values)

    _, outcome = replay.run_saved_request(saved=saved, user=tester)

    assert outcome.passed
    exchange = outcome.exchange
    assert ["X-Client-Key", "••••••"] in exchange.request_headers
    assert "/services/svc-••••••/execute?" in exchange.url
    assert exchange.values["template"]["service"] == "••••••"
    assert API_KEY not in json.dumps([exchange.values, exchange.request_headers, exchange.url])


@live
def test_a_secret_variable_beside_a_secret_path_value_is_masked_too(live_demo_api, tester):
    workspace = live_demo_api.operations.get(slug="rrs-execute").parameters.get(name="workspace")
    workspace.secret = True
    workspace.save()
    collection = make_collection(tester)
    values = demo_values(body=json.dumps(SCORING_INPUT), details=True)
    values["template"]["service"] = "svc-{{api_key}}"
    saved = rrs(collection, live_demo_api, order=1, values=values)

    _, outcome = replay.run_saved_request(saved=saved, user=tester)

    assert outcome.passed
    exchange = outcome.exchange
    assert "/workspaces/••••••/services/svc-••••••/execute?" in exchange.url
    assert API_KEY not in exchange.url


@live
def test_a_repeat_condition_that_never_holds_fails_after_its_tries(live_demo_api, tester):
    collection = make_collection(tester)
    flow = batch_flow(collection, live_demo_api)
    flow[1].delete()  # never started: the job stays NotStarted
    flow[2].repeat_max_tries = 3
    flow[2].repeat_delay_seconds = 0.01
    flow[2].save()

    run = replay.run_collection(collection=collection, user=tester)

    submit, status, delete = steps_of(run)
    assert (submit.passed, status.passed, delete.passed) == (True, False, True)
    assert status.tries == 3
    assert status.check_results[0] == {
        "label": "Repeat until $.StatusCode equals Finished",
        "passed": False,
        "detail": 'still not true after 3 tries: $.StatusCode is "NotStarted"',
    }
    assert [(r["label"], r["passed"]) for r in status.check_results[1:]] == [
        ("Status is 200", True),
        ("$.Results.output1 is present", False),
    ]
    assert Exchange.objects.count() == 1 + 3 + 1  # each try is in the history


# --- faults that need no live backend -----------------------------------------------


@pytest.mark.django_db
def test_a_transport_error_fails_the_step_with_its_message(demo_api, tester):
    collection = make_collection(tester)
    saved = rrs(collection, demo_api, order=1)  # the demo_api points at a closed port

    outcome = replay.replay_saved_request(saved=saved, user=tester)

    assert not outcome.passed
    assert outcome.error.startswith("Connection failed: ")
    assert outcome.tries == 1
    assert outcome.exchange.error_kind == "connect"
    assert outcome.check_results == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "error"),
    [
        (
            lambda v: v["template"].update(workspace=".."),
            "workspace: '.' and '..' are not allowed as path segments.",
        ),
        (lambda v: v["template"].pop("service"), "service: This parameter needs a value."),
        (
            lambda v: v["headers"].append(["Host", "evil.example"]),
            "headers: The portal sets Host itself; it cannot be sent.",
        ),
        (
            lambda v: v["query"].append(["debug", "1"]),
            "debug: the operation has no query parameter of that name.",
        ),
        (
            lambda v: v.update(headers="Authorization: x"),
            "The saved values are not valid: headers must be a list of [name, value] strings.",
        ),
    ],
)
def test_values_that_cannot_be_sent_fail_the_step_without_sending(demo_api, tester, change, error):
    collection = make_collection(tester)
    values = demo_values(body=json.dumps(SCORING_INPUT), details=True)
    change(values)
    saved = rrs(collection, demo_api, order=1, values=values)

    outcome = replay.replay_saved_request(saved=saved, user=tester)

    assert (outcome.passed, outcome.error, outcome.exchange) == (False, error, None)
    assert not Exchange.objects.exists()


@pytest.mark.django_db
def test_a_secret_that_no_longer_decrypts_is_reported(demo_api, tester, settings):
    collection = make_collection(tester)
    saved = rrs(collection, demo_api, order=1)
    settings.PORTAL_ENCRYPTION_KEY = "another-key"

    outcome = replay.replay_saved_request(saved=saved, user=tester)

    assert "The stored value of the header Authorization cannot be read" in outcome.error
    assert outcome.exchange is None


@pytest.mark.django_db
def test_a_baseline_needs_a_response(demo_api, tester):
    collection = make_collection(tester)
    saved = rrs(collection, demo_api, order=1)
    outcome = replay.replay_saved_request(saved=saved, user=tester)
    with pytest.raises(ValueError, match="no response"):
        replay.capture_baseline(saved=saved, exchange=outcome.exchange)


@pytest.mark.django_db
def test_saved_values_decrypts_secret_values(demo_api, tester):
    collection = make_collection(tester)
    saved = rrs(collection, demo_api, order=1)
    assert saved.values["headers"][-1][1].startswith(secrets.PREFIX)
    assert preparation.saved_values(saved)["headers"][-1] == ["Authorization", "Bearer {{api_key}}"]
    assert preparation.saved_values(saved)["template"] == saved.values["template"]


@pytest.mark.django_db
def test_an_invalid_repeat_condition_fails_without_sending(demo_api, tester):
    saved = rrs(make_collection(tester), demo_api, order=1, repeat_until={"kind": "soon"})
    outcome = replay.replay_saved_request(saved=saved, user=tester)
    assert (outcome.error, outcome.exchange) == ("The repeat condition is not a valid check.", None)


@pytest.mark.django_db
def test_the_repeat_bounds_hold_whatever_is_saved(demo_api, tester, monkeypatch):
    saved = rrs(
        make_collection(tester),
        demo_api,
        order=1,
        repeat_until={"kind": "status", "target": "", "value": "200"},
        repeat_max_tries=10_000,
        repeat_delay_seconds=3600,
    )
    assert sending.bounded_tries(saved) == sending.MAX_REPEAT_TRIES
    assert sending.bounded_delay(saved) == sending.MAX_REPEAT_DELAY_SECONDS


# --- What a run reads and writes ----------------------------------------------------


def _statements(captured, *, model, verb: str) -> int:
    table = f'"{model._meta.db_table}"'
    return sum(
        1
        for query in captured.captured_queries
        if query["sql"].upper().startswith(verb) and table in query["sql"].split(" WHERE ")[0]
    )


@live
@pytest.mark.parametrize("concurrency", [1, 4])
def test_a_run_reads_its_variables_and_operation_once(live_demo_api, tester, concurrency):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    collection = make_collection(tester)
    for index in range(6):
        rrs(collection, live_demo_api, order=index, name=f"Score {index}")

    with CaptureQueriesContext(connection) as captured:
        run = replay.run_collection(collection=collection, user=tester, concurrency=concurrency)

    assert run.steps.filter(passed=True).count() == 6
    variables = _statements(captured, model=CollectionVariable, verb="SELECT")
    operations = _statements(captured, model=Operation, verb="SELECT")
    assert (variables, operations) == (1, 1)


@live
def test_steps_back_together_are_recorded_in_one_insert_each(live_demo_api, tester, monkeypatch):
    from concurrent.futures import ALL_COMPLETED
    from concurrent.futures import wait as real_wait

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    collection = make_collection(tester)
    for index in range(4):
        rrs(collection, live_demo_api, order=index, name=f"Score {index}")
    # All four answers back before the run records any.
    monkeypatch.setattr(
        replay, "wait", lambda pending, return_when: real_wait(pending, return_when=ALL_COMPLETED)
    )

    with CaptureQueriesContext(connection) as captured:
        run = replay.run_collection(collection=collection, user=tester, concurrency=4)

    steps = steps_of(run)
    assert [step.name for step in steps] == [f"Score {index}" for index in range(4)]
    assert all(step.passed and step.exchange_id for step in steps)
    assert _statements(captured, model=RunStep, verb="INSERT") == 1
    assert _statements(captured, model=Exchange, verb="INSERT") == 1
    assert [exchange.pk for exchange in Exchange.objects.order_by("pk")] == [
        step.exchange_id for step in steps
    ]
