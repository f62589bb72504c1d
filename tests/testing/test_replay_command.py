"""`manage.py replay` against the sample backend of a live portal."""

import os
import re
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError

from console.models import Exchange
from demo.collection import SCORING_NAME, create_demo_collection
from testing.models import Collection, CollectionShare, Run, RunStatus, SavedRequest, ShareAccess
from tests.markup import child
from tests.processes import free_port

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def owner(django_user_model):
    return django_user_model.objects.create_user(username="owner")


@pytest.fixture
def scoring(live_demo_api, owner) -> Collection:
    create_demo_collection(owner=owner, api=live_demo_api)
    return Collection.objects.get(owner=owner, name=SCORING_NAME)


def _copy(collection: Collection, *, name: str, count: int = 1, status: int = 200) -> Collection:
    """A collection of `count` copies of the scoring request, expecting `status`."""
    copy = Collection.objects.create(owner=collection.owner, name=name)
    for variable in collection.variables.all():
        variable.pk, variable.collection = None, copy
        variable.save()
    template = collection.requests.get()
    for order in range(count):
        template.pk, template.collection, template.order = None, copy, order
        template.name = f"Score {order + 1}" if count > 1 else "Score"
        template.expected_status = status
        template.save()
    return copy


def _replay(*args: str) -> str:
    out = StringIO()
    call_command("replay", *args, stdout=out, no_color=True)
    return out.getvalue()


def _failing(*args: str) -> tuple[str, str]:
    out = StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("replay", *args, stdout=out, no_color=True)
    return out.getvalue(), str(caught.value)


def test_a_passing_collection(scoring, owner) -> None:
    out = _replay(SCORING_NAME)
    lines = out.splitlines()
    assert lines[0] == f"{SCORING_NAME} (as owner)"
    assert re.fullmatch(r"PASS  RRS Execute  200  \d+ ms", lines[1]), lines[1]
    assert re.fullmatch(r"1 request, 1 passed, 0 failed in \d+\.\d s", lines[2]), lines[2]
    run = Run.objects.get(collection=scoring)
    assert run.status == RunStatus.PASSED
    # The calls are in the owner's history.
    assert Exchange.objects.get().owner == owner


def test_a_failing_check_fails_the_command_with_what_failed(scoring) -> None:
    wrong = _copy(scoring, name="Wrong status", status=201)
    out, error = _failing(str(wrong.pk))
    assert re.search(r"^FAIL  Score  200  \d+ ms  Status is 201: got 200$", out, re.M), out
    assert re.search(r"^1 request, 0 passed, 1 failed in ", out, re.M)
    assert error == "1 request failed."


def test_the_exit_status_from_a_shell_is_1(scoring) -> None:
    # CommandError is what manage.py turns into "CommandError: ..." and status 1.
    _copy(scoring, name="Wrong status", status=201)
    out, _ = _failing("Wrong status", SCORING_NAME)
    assert "PASS  RRS Execute" in out
    assert "2 requests, 1 passed, 1 failed" in out


def test_junit_report(scoring, tmp_path) -> None:
    wrong = _copy(scoring, name="Wrong status", status=201)
    path = tmp_path / "report.xml"
    out, _ = _failing(SCORING_NAME, str(wrong.pk), "--junit", str(path))
    assert f"JUnit report: {path}" in out
    root = ET.parse(path).getroot()  # noqa: S314 (our own report)
    assert (root.tag, root.attrib["tests"], root.attrib["failures"]) == ("testsuites", "2", "1")
    suites = {suite.attrib["name"]: suite for suite in root.findall("testsuite")}
    assert set(suites) == {SCORING_NAME, "Wrong status"}
    failure = child(suites["Wrong status"], "testcase/failure")
    assert failure.attrib["message"] == "Status is 201: got 200"
    assert child(suites[SCORING_NAME], "testcase").attrib["name"] == "RRS Execute"


def test_fail_fast_stops_the_remaining_collections(scoring) -> None:
    wrong = _copy(scoring, name="Wrong status", count=3, status=201)
    out, _ = _failing(str(wrong.pk), SCORING_NAME, "--fail-fast")
    assert out.count("FAIL  ") == 1
    assert "1 request, 0 passed, 1 failed, 3 not run" in out
    assert not Run.objects.filter(collection=scoring).exists()


def test_user_puts_the_calls_in_their_history(scoring, django_user_model) -> None:
    tester = django_user_model.objects.create_user(username="tester")
    group = Group.objects.create(name="qa")
    tester.groups.add(group)
    CollectionShare.objects.create(collection=scoring, group=group, access=ShareAccess.RUN)
    out = _replay(SCORING_NAME, "--user", "tester")
    assert f"{SCORING_NAME} (as tester)" in out
    assert Exchange.objects.get().owner == tester
    assert Run.objects.get().started_by == tester


def test_a_user_who_may_not_run_the_collection_sends_nothing(scoring, django_user_model):
    reader = django_user_model.objects.create_user(username="reader")
    group = Group.objects.create(name="readers")
    reader.groups.add(group)
    CollectionShare.objects.create(collection=scoring, group=group, access=ShareAccess.READ)
    _, error = _failing(SCORING_NAME, "--user", "reader")
    assert error == f"reader may not run: {SCORING_NAME}."
    _, error = _failing(SCORING_NAME, "--user", "nobody")
    assert error == 'No active user "nobody".'
    assert not Exchange.objects.exists()
    assert not Run.objects.exists()


def test_all(scoring) -> None:
    out = _replay("--all")
    assert "AzureML batch flow (as owner)" in out
    assert "5 requests, 5 passed, 0 failed" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "Name at least one collection (id or exact name), or give --all."),
        (("x", "--all"), "Name collections or give --all, not both."),
        (("nope",), 'No collection with the id or name "nope".'),
        ((SCORING_NAME, "--concurrency", "0"), "--concurrency must be from 1 to 16."),
    ],
)
def test_usage_errors(scoring, args, message) -> None:
    _, error = _failing(*args)
    assert error == message
    assert not Run.objects.exists()


def test_all_without_collections(db) -> None:
    _, error = _failing("--all")
    assert error == "There are no collections (python manage.py load_demo)."


def test_a_request_that_cannot_be_sent_is_a_failure_with_its_reason(scoring) -> None:
    broken = _copy(scoring, name="Broken")
    SavedRequest.objects.filter(collection=broken).update(
        values={"template": {"workspace": "{{nowhere}}"}, "query": [], "headers": [], "body": None}
    )
    out, _ = _failing("Broken")
    assert re.search(
        r"^FAIL  Score  -  \d+ ms  Variable \{\{nowhere\}\} is not defined\.$", out, re.M
    )


# --- From a shell, against a running portal ---------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
SIX_SCORES = """\
portal_collection: 1
name: Six scores
variables:
- {name: api_key, value: %(key)s, secret: true}
requests:
%(requests)s"""
SCORE = """\
- name: Score %(n)d
  operation: {api: azureml-demo, operation: rrs-execute}
  template: {workspace: w, service: s, apiversion: '2.0', details: 'false'}
  headers: [[Authorization, 'Bearer {{api_key}}']]
  body: '{"Inputs": {"input1": {"ColumnNames": ["a"], "Values": [["x"]]}}}'
  expect: {status: %(status)d, checks: ['json $.Results.output1.type = table']}
"""


def _wait_for(port: int, *, server: subprocess.Popen, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert server.poll() is None, "the portal did not start"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("the portal did not listen in time")


@pytest.fixture
def shell_env(tmp_path) -> dict[str, str]:
    """A portal of its own: a database file that several threads and processes share."""
    port = free_port()
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "replay-shell-test",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "PORTAL_OUTBOUND_ALLOWED_NETWORKS": "127.0.0.1/32",
        "PORTAL_OUTBOUND_ALLOWED_PORTS": "*",
        "PORTAL_DEMO_JOB_SECONDS": "0.2",
        "PORTAL_DEMO_BACKEND_URL": f"http://127.0.0.1:{port}/demo-backend",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'portal.sqlite3'}",
        "PORT": str(port),
    }
    return env


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_from_a_shell_against_a_running_portal(shell_env, tmp_path) -> None:
    """load_demo, then replay --all against the portal's own demo backend; exit codes."""
    assert _manage(shell_env, "migrate", "--noinput").returncode == 0
    loaded = _manage(shell_env, "load_demo")
    assert loaded.returncode == 0, loaded.stderr
    assert 'python manage.py replay "AzureML batch flow"' in loaded.stdout
    requests = "".join(SCORE % {"n": n, "status": 200 if n != 4 else 201} for n in range(1, 7))
    path = tmp_path / "six.yaml"
    path.write_text(SIX_SCORES % {"key": "demo-key-0123456789abcdef", "requests": requests})
    imported = _manage(shell_env, "import_collection", str(path), "--owner", "demo")
    assert imported.returncode == 0, imported.stderr
    port = shell_env["PORT"]
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=shell_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(int(port), server=server)
        demo = _manage(shell_env, "replay", "AzureML batch flow", "AzureML scoring")
        assert demo.returncode == 0, demo.stdout + demo.stderr
        assert "5 requests, 5 passed, 0 failed" in demo.stdout
        # Six requests at once: worker threads write to the same database file.
        report = tmp_path / "report.xml"
        six = _manage(
            shell_env, "replay", "Six scores", "--concurrency", "4", "--junit", str(report)
        )
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert six.returncode == 1, six.stdout + six.stderr
    assert six.stdout.count("PASS  Score ") == 5
    assert re.search(r"^FAIL  Score 4  200  \d+ ms  Status is 201: got 200$", six.stdout, re.M)
    assert "6 requests, 5 passed, 1 failed" in six.stdout
    assert "CommandError: 1 request failed." in six.stderr
    assert ET.parse(report).getroot().attrib["failures"] == "1"  # noqa: S314
