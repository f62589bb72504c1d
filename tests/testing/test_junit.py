import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.utils import timezone

from console.models import Exchange
from testing.junit import junit_xml
from testing.models import Collection, Run, RunStatus, RunStep, SavedRequest
from tests.markup import child, text_at


@pytest.fixture
def collection(demo_api, django_user_model) -> Collection:
    owner = django_user_model.objects.create_user(username="ci")
    collection = Collection.objects.create(owner=owner, name="Batch <flow> & co")
    operation = demo_api.operations.get(slug="bes-status")
    for order, name in enumerate(["Submit", "Status", "Broken", "Delete"]):
        SavedRequest.objects.create(
            collection=collection,
            name=name,
            order=order,
            operation=operation,
            operation_label="AzureML Demo API: BES Status",
        )
    return collection


def _parse(text: str) -> ET.Element:
    # As a CI system reads the file: bytes, with the XML declaration.
    return ET.fromstring(text.encode("utf-8"))  # noqa: S314 (our own report)


def _exchange(*, status: int | None, error_kind: str = "") -> Exchange:
    return Exchange.objects.create(
        operation_name="AzureML Demo API: BES Status",
        method="GET",
        url="http://127.0.0.1:9/demo-backend/workspaces/w/services/s/jobs/1",
        status_code=status,
        duration_ms=12.4,
        error_kind=error_kind,
    )


@pytest.fixture
def run(collection) -> Run:
    """Submit passed, Status failed two checks, Broken could not connect, Delete never ran."""
    started = timezone.now()
    run = Run.objects.create(
        collection=collection,
        status=RunStatus.FAILED,
        total_steps=4,
    )
    Run.objects.filter(pk=run.pk).update(
        started_at=started, finished_at=started + timedelta(seconds=3.25)
    )
    run.refresh_from_db()
    submit, status, broken, _ = collection.requests.all()
    RunStep.objects.create(
        run=run,
        saved_request=submit,
        name="Submit",
        order=0,
        exchange=_exchange(status=200),
        passed=True,
        check_results=[{"label": "Status is 200", "passed": True, "detail": ""}],
        duration_ms=35,
        tries=1,
    )
    RunStep.objects.create(
        run=run,
        saved_request=status,
        name="Status",
        order=1,
        exchange=_exchange(status=404),
        passed=False,
        check_results=[
            {"label": "Status is 200", "passed": False, "detail": "got 404"},
            {"label": "$.StatusCode equals Finished", "passed": False, "detail": "missing"},
            {"label": "Duration under 500 ms", "passed": True, "detail": ""},
        ],
        duration_ms=1250,
        tries=3,
    )
    RunStep.objects.create(
        run=run,
        saved_request=broken,
        name="Broken",
        order=2,
        exchange=_exchange(status=None, error_kind="connect"),
        passed=False,
        error="Connection refused by 127.0.0.1:9\nis the backend running?",
        duration_ms=2,
        tries=1,
    )
    return run


def test_the_report_has_the_structure_ci_systems_read(run) -> None:
    text = junit_xml(runs=[run])
    assert text.startswith("<?xml version='1.0' encoding='utf-8'?>\n<testsuites")
    root = _parse(text)
    assert root.tag == "testsuites"
    assert root.attrib["tests"] == "4"
    assert root.attrib["failures"] == "1"
    assert root.attrib["errors"] == "1"
    assert root.attrib["skipped"] == "1"
    (suite,) = root.findall("testsuite")
    assert suite.attrib["name"] == "Batch <flow> & co"
    assert suite.attrib["tests"] == "4"
    assert suite.attrib["failures"] == "1"
    assert suite.attrib["errors"] == "1"
    assert suite.attrib["skipped"] == "1"
    assert suite.attrib["time"] == "3.250"
    cases = suite.findall("testcase")
    assert [case.attrib["name"] for case in cases] == ["Submit", "Status", "Broken", "Delete"]
    assert {case.attrib["classname"] for case in cases} == {"Batch <flow> & co"}
    submit, status, broken, delete = cases
    assert submit.attrib["time"] == "0.035"
    assert submit.find("failure") is None and submit.find("error") is None
    assert text_at(submit, "system-out").endswith("-> 200 in 12 ms")

    failure = child(status, "failure")
    assert failure.attrib["message"] == "Status is 200: got 404"
    assert failure.text == "Status is 200: got 404\n$.StatusCode equals Finished: missing"
    assert status.attrib["time"] == "1.250"
    assert "after 3 tries" in text_at(status, "system-out")

    error = child(broken, "error")
    assert error.attrib["message"] == "Connection refused by 127.0.0.1:9"
    assert "is the backend running?" in text_at(broken, "error")
    assert broken.find("failure") is None
    assert "-> connect" in text_at(broken, "system-out")

    assert delete.find("skipped") is not None


def test_one_suite_per_run(run, collection) -> None:
    second = Run.objects.create(collection=collection, status=RunStatus.PASSED)
    root = _parse(junit_xml(runs=[run, second]))
    suites = root.findall("testsuite")
    assert len(suites) == 2
    # The second run has no steps yet: its four requests are reported as not run.
    assert suites[1].attrib["tests"] == "4" and suites[1].attrib["skipped"] == "4"
    assert root.attrib["tests"] == "8"


def test_no_runs_is_an_empty_report(db) -> None:
    root = _parse(junit_xml(runs=[]))
    assert root.tag == "testsuites" and root.attrib["tests"] == "0" and len(root) == 0
