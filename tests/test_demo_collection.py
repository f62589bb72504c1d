"""The shipped demo collections, created by load_demo and replayed end to end."""

import json
import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from operations.demo.collection import BATCH_NAME, SCORING_NAME, create_demo_collection
from operations.models import Collection, Exchange, Run, RunStatus
from operations.secrets import decrypt

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def loaded(live_server, settings) -> str:
    """load_demo run twice against the live portal's sample backend; its output."""
    settings.PORTAL_DEMO_BACKEND_URL = f"{live_server.url}/demo-backend"
    settings.PORTAL_DEMO_JOB_SECONDS = 0.3
    call_command("load_demo", stdout=StringIO())
    out = StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def _replay(*args: str) -> str:
    out = StringIO()
    call_command("replay", *args, stdout=out, no_color=True)
    return out.getvalue()


def test_load_demo_creates_the_collections_once(loaded, settings) -> None:
    demo = get_user_model().objects.get(username="demo")
    assert not demo.has_usable_password()
    assert sorted(Collection.objects.values_list("name", flat=True)) == [BATCH_NAME, SCORING_NAME]
    batch = Collection.objects.get(name=BATCH_NAME)
    assert batch.owner == demo
    assert [r.name for r in batch.requests.all()] == [
        "BES Submit",
        "BES Start",
        "BES Status",
        "BES Delete",
    ]
    variables = {v.name: v for v in batch.variables.all()}
    assert variables["workspace"].value == "demo-workspace"
    assert variables["service"].value == "text-features"
    api_key = variables["api_key"]
    assert api_key.secret
    assert api_key.value.startswith("enc:")
    assert decrypt(api_key.value) == settings.PORTAL_DEMO_API_KEY
    assert f'python manage.py replay "{BATCH_NAME}"' in loaded
    assert "createsuperuser" in loaded
    assert "changepassword demo" in loaded


def test_reloading_keeps_baselines_and_added_requests(loaded, live_demo_api) -> None:
    batch = Collection.objects.get(name=BATCH_NAME)
    batch.requests.filter(name="BES Submit").update(baseline_status=200)
    extra = batch.requests.get(name="BES Delete")
    extra.pk, extra.name, extra.order = None, "My own request", 9
    extra.save()
    create_demo_collection(owner=batch.owner, api=live_demo_api)
    assert batch.requests.get(name="BES Submit").baseline_status == 200
    assert batch.requests.filter(name="My own request").exists()
    assert batch.variables.count() == 3


def test_the_batch_flow_runs_end_to_end(loaded) -> None:
    out = _replay(BATCH_NAME)
    lines = out.splitlines()
    assert lines[0] == f"{BATCH_NAME} (as demo)"
    assert re.fullmatch(r"PASS  BES Submit  200  \d+ ms", lines[1]), out
    assert re.fullmatch(r"PASS  BES Start   200  \d+ ms", lines[2]), out
    assert re.fullmatch(r"PASS  BES Status  200  \d+ ms( \(\d+ tries\))?", lines[3]), out
    assert re.fullmatch(r"PASS  BES Delete  200  \d+ ms", lines[4]), out
    assert re.fullmatch(r"4 requests, 4 passed, 0 failed in \d+\.\d s", lines[5]), out

    run = Run.objects.get(collection__name=BATCH_NAME)
    assert run.status == RunStatus.PASSED
    steps = list(run.steps.all())
    assert [step.passed for step in steps] == [True] * 4
    status = steps[2]
    assert {r["label"] for r in status.check_results} >= {
        "Status is 200",
        "$.StatusCode equals Finished",
        "$.Results.output1.value.ColumnNames is present",
    }
    # The job id that BES Submit answered travels to the next requests.
    jobid = json.loads(bytes(steps[0].exchange.response_body))
    assert f"/jobs/{jobid}/start?" in steps[1].exchange.url
    assert f"/jobs/{jobid}?" in steps[3].exchange.url
    demo = get_user_model().objects.get(username="demo")
    assert set(Exchange.objects.values_list("owner", flat=True)) == {demo.pk}


def test_every_demo_collection_passes(loaded) -> None:
    out = _replay("--all")
    assert re.search(r"^PASS  RRS Execute  200  \d+ ms$", out, re.M), out
    assert "5 requests, 5 passed, 0 failed" in out
    assert set(Run.objects.values_list("status", flat=True)) == {RunStatus.PASSED}
