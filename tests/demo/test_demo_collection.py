"""The shipped demo collections, created by load_demo and replayed end to end."""

import json
import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from console.models import Exchange
from demo.collection import BATCH_NAME, SCORING_NAME, create_demo_collection
from demo.models import DemoJob
from demo.products import STARTER_SLUG, register_demo_products
from gateway.models import CallOutcome, GatewayCall, Product
from gateway.subscriptions import subscribe
from portal.secrets import decrypt, encrypt
from testing.collection_export import export_collection
from testing.collection_import import import_collection
from testing.models import Collection, CollectionVariable, Run, RunStatus

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
    assert steps[0].exchange and steps[1].exchange and steps[3].exchange
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


# --- A new user on Starter ----------------------------------------------------------------


# PORTAL_DEMO_JOB_SECONDS as shipped (the test run's environment sets it shorter).
DEFAULT_JOB_SECONDS = 2.0


def test_the_batch_flow_fits_within_starters_limits(demo_api) -> None:
    """The calls the flow can need at most, against Starter's real numbers (5 a minute,
    100 a week); and a job of the default length is done by the last look at its status."""
    starter = next(p for p in register_demo_products(api=demo_api) if p.slug == STARTER_SLUG)
    owner = get_user_model().objects.create_user(username="owner")
    requests = list(create_demo_collection(owner=owner, api=demo_api).requests.all())
    most_calls = sum(r.repeat_max_tries if r.repeat_until else 1 for r in requests)
    assert most_calls == 5
    assert (starter.rate_limit_calls, starter.rate_limit_period_seconds) == (5, 60)
    assert starter.quota_calls == 100
    assert most_calls <= starter.rate_limit_calls
    [status] = [r for r in requests if r.repeat_until]
    last_look = status.repeat_delay_seconds * (status.repeat_max_tries - 1)
    assert last_look > DEFAULT_JOB_SECONDS


@pytest.fixture
def on_starter(live_server, settings) -> tuple[Collection, object]:
    """load_demo against the live portal, then a new user who subscribes to Starter,
    imports the exported batch flow and fills in its secret api_key, as the README says."""
    settings.PORTAL_DEMO_BACKEND_URL = f"{live_server.url}/demo-backend"
    settings.PORTAL_DEMO_JOB_SECONDS = DEFAULT_JOB_SECONDS
    call_command("load_demo", stdout=StringIO())
    user = get_user_model().objects.create_user(username="newbie")
    subscription = subscribe(
        user=user,
        product=Product.objects.get(slug=STARTER_SLUG),
        name="Starter for newbie",
        accepted_terms=True,
    )
    shipped = Collection.objects.get(owner__username="demo", name=BATCH_NAME)
    imported = import_collection(text=export_collection(collection=shipped), owner=user)
    CollectionVariable.objects.filter(collection=imported, name="api_key").update(
        value=encrypt(settings.PORTAL_DEMO_API_KEY)
    )
    return imported, subscription


def _starter_calls(subscription) -> list[str]:
    return list(
        GatewayCall.objects.filter(subscription=subscription)
        .order_by("id")
        .values_list("outcome", flat=True)
    )


def test_a_new_user_on_starter_runs_the_batch_flow_end_to_end(on_starter) -> None:
    """With Starter's real limits and the demo job's default 2 s."""
    imported, subscription = on_starter
    out = _replay(str(imported.pk))
    lines = out.splitlines()
    assert lines[0] == f"{BATCH_NAME} (as newbie)"
    assert re.fullmatch(r"PASS  BES Submit  200  \d+ ms", lines[1]), out
    assert re.fullmatch(r"PASS  BES Start   200  \d+ ms", lines[2]), out
    assert re.fullmatch(r"PASS  BES Status  200  \d+ ms( \(2 tries\))?", lines[3]), out
    assert re.fullmatch(r"PASS  BES Delete  200  \d+ ms", lines[4]), out
    assert "4 requests, 4 passed, 0 failed" in lines[5]
    status = Run.objects.get(collection=imported).steps.get(name="BES Status")
    # Every call went through the gateway on the new user's key, none refused.
    assert _starter_calls(subscription) == [CallOutcome.FORWARDED] * (3 + status.tries)
    assert len(_starter_calls(subscription)) <= 5
    assert not DemoJob.objects.exists()


def test_a_job_that_is_late_fails_its_status_and_is_still_deleted(on_starter, settings) -> None:
    imported, subscription = on_starter
    settings.PORTAL_DEMO_JOB_SECONDS = 30
    out = StringIO()
    with pytest.raises(CommandError, match=r"^1 request failed\.$"):
        call_command("replay", str(imported.pk), stdout=out, no_color=True)
    lines = out.getvalue().splitlines()
    assert re.fullmatch(
        r"FAIL  BES Status  200  \d+ ms \(2 tries\)  Repeat until \$\.StatusCode equals "
        r'Finished: still not true after 2 tries: \$\.StatusCode is "Running"; .+',
        lines[3],
    ), lines[3]
    assert re.fullmatch(r"PASS  BES Delete  200  \d+ ms", lines[4]), lines[4]
    assert "4 requests, 3 passed, 1 failed" in lines[5]
    assert _starter_calls(subscription) == [CallOutcome.FORWARDED] * 5
    assert not DemoJob.objects.exists()
