"""The `schema` check: the response matches the schema documented for its status."""

import json

import pytest

from testing import replay
from testing.checks import (
    CheckSyntaxError,
    evaluate,
    format_checks,
    label_of,
    parse_check_line,
    parse_checks,
)
from testing.models import RunStatus
from tests import documented_schemas
from tests.testing.test_replay import make_collection, rrs, steps_of

SCHEMA = {"kind": "schema", "target": "", "value": ""}
SCORED = {
    "Results": {
        "output1": {
            "type": "table",
            "value": {"ColumnNames": ["Col2", "N"], "Values": [["good", "2"], ["bad", "3"]]},
        }
    }
}


def run(operation, body: object, *, status: int | None = 200):
    return evaluate(
        SCHEMA,
        status=status,
        headers=[["Content-Type", "application/json"]],
        body=json.dumps(body).encode(),
        content_type="application/json",
        duration_ms=10.0,
        operation=operation,
    )


def test_the_line_parses_formats_and_reads():
    assert parse_check_line("schema") == SCHEMA
    assert parse_checks("status 200\n  SCHEMA  ") == [
        {"kind": "status", "target": "", "value": "200"},
        SCHEMA,
    ]
    assert format_checks([SCHEMA]) == "schema"
    assert label_of(SCHEMA) == "Matches the documented schema"


def test_the_line_takes_nothing_after_it():
    with pytest.raises(CheckSyntaxError) as caught:
        parse_checks("status 200\nschema $.Results")
    assert str(caught.value) == "Line 2: write 'schema' alone: it checks the documented schema"


@pytest.mark.django_db
def test_a_matching_response_passes(demo_api):
    operation = documented_schemas.document(demo_api)
    result = run(operation, SCORED)
    assert (result.label, result.passed, result.detail) == (
        "Matches the documented schema",
        True,
        "",
    )


@pytest.mark.django_db
def test_a_failure_lists_the_first_violations(demo_api):
    operation = documented_schemas.document(demo_api, cell={"type": "integer"})
    result = run(operation, SCORED)
    assert not result.passed
    assert result.detail == (
        "$.Results.output1.value.Values[0][0]: expected integer, got string; "
        "$.Results.output1.value.Values[0][1]: expected integer, got string; "
        "$.Results.output1.value.Values[1][0]: expected integer, got string (and 1 more)"
    )


@pytest.mark.django_db
def test_what_cannot_be_checked_fails_with_why(demo_api):
    operation = documented_schemas.document(demo_api, errors=False)
    assert run(operation, {}, status=503).detail == "no schema is documented for status 503"
    assert run(operation, {}, status=None).detail == "no response"
    assert run(None, SCORED).detail == (
        "the request's operation is gone: no documented schema to check against"
    )
    not_json = evaluate(
        SCHEMA,
        status=200,
        headers=[],
        body=b"<html>",
        content_type="application/json",
        duration_ms=1.0,
        operation=operation,
    )
    assert (not_json.passed, not_json.detail) == (False, "not checked: the response is not JSON.")


live = pytest.mark.django_db(transaction=True)


@pytest.fixture
def tester(django_user_model):
    return django_user_model.objects.create_user("tester", password="x-unused-password")


@live
def test_a_collection_run_catches_a_backend_drifting_from_its_documentation(live_demo_api, tester):
    collection = make_collection(tester)
    rrs(collection, live_demo_api, order=1, checks=[SCHEMA])
    documented_schemas.document(live_demo_api)

    run = replay.run_collection(collection=collection, user=tester)
    assert run.status == RunStatus.PASSED
    (step,) = steps_of(run)
    assert step.check_results[1:] == [
        {"label": "Matches the documented schema", "passed": True, "detail": ""}
    ]

    # The documentation now says the scored values are numbers; the backend sends text.
    documented_schemas.document(live_demo_api, cell={"type": "integer"})
    again = replay.run_collection(collection=collection, user=tester)
    assert again.status == RunStatus.FAILED
    (step,) = steps_of(again)
    assert step.check_results[1]["passed"] is False
    assert step.check_results[1]["detail"].startswith(
        "$.Results.output1.value.Values[0][0]: expected integer, got string; "
    )
    assert step.check_results[1]["detail"].endswith("(and 6 more)")
