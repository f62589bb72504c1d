"""The testers' pages: history, saved requests, collections and their runs.

Who may do what (testing.actions): a collection's owner everything; members of a
group it is shared with for reading may look at it, for running also replay and run
it; nobody but the owner edits it; everyone else gets a 404 and an anonymous visitor
the sign-in page. The backend is faked with `responses` (answering with the sample
backend's own scoring code) except where the wire matters: there the live portal's
sample backend answers.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

import pytest
import responses
from bs4 import BeautifulSoup, Tag
from django.conf import settings as django_settings
from django.contrib.auth.models import Group
from django.template.loader import render_to_string
from django.test import Client

from catalog.models import Api
from console.models import Exchange
from demo import service as demo_service
from demo.registration import SCORING_INPUT
from portal import secrets
from testing import actions, replay
from testing.diffing import ResponseDiff
from testing.models import (
    Collection,
    CollectionShare,
    CollectionVariable,
    Run,
    RunStatus,
    RunStep,
    SavedRequest,
    ShareAccess,
)
from tests.markup import attr, one

pytestmark = pytest.mark.django_db

API_KEY = django_settings.PORTAL_DEMO_API_KEY
BACKEND = "http://127.0.0.1:9/demo-backend"  # demo_api's service URL; nothing listens there
EXECUTE = re.compile(re.escape(BACKEND) + r"/workspaces/[^/?]+/services/[^/?]+/execute(\?|$)")
OPERATION_PAGE = "/apis/azureml-demo/operations/rrs-execute/"
RRS_LABEL = "AzureML Demo API: RRS Execute"
MASK = "••••••"
WHO = ("owner", "reader", "runner", "other", "anonymous")


# --- a fake backend -------------------------------------------------------------------


def _score(request) -> tuple[int, dict, str]:
    """The sample backend's answer, with headers that change on every call."""
    volatile = {"Date": str(uuid.uuid4()), "X-Request-Id": str(uuid.uuid4())}
    if request.headers.get("Authorization") != f"Bearer {API_KEY}":
        return 401, {"Content-Type": "application/json", **volatile}, '{"error": "key"}'
    scored = demo_service.execute(body=request.body, details=True)
    return 200, {"Content-Type": "application/json", **volatile}, json.dumps(scored)


@pytest.fixture
def backend():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback(responses.POST, EXECUTE, callback=_score)
        yield mock


# --- people, a shared collection, a call, a run ----------------------------------------


@dataclass
class World:
    api: Api
    users: dict
    collection: Collection
    saved: SavedRequest
    exchange: Exchange  # the owner's call, in the owner's history
    run: Run
    step: RunStep

    def client(self, who: str, **kwargs) -> Client:
        client = Client(**kwargs)
        if who != "anonymous":
            client.force_login(self.users[who])
        return client


def rrs_form(*, key: str = API_KEY, workspace: str = "ws-try", text: str = "This is a good day"):
    body = {**SCORING_INPUT, "Inputs": {"input1": {"ColumnNames": ["Col2"], "Values": [[text]]}}}
    return {
        "param-template-workspace": workspace,
        "param-template-service": "svc-try",
        "param-template-apiversion": "2.0",
        "param-template-details": "true",
        "header_name": ["Content-Type", "Authorization", ""],
        "header_value": ["application/json", f"Bearer {key}", ""],
        "body": json.dumps(body, indent=2),
    }


def try_it(client: Client, **form) -> Exchange:
    response = client.post(OPERATION_PAGE + "try", rrs_form(**form))
    assert response.status_code == 200
    return Exchange.objects.latest("id")


def rrs_values(*, text: str = "This is a good day", key: str = API_KEY) -> dict:
    body = {**SCORING_INPUT, "Inputs": {"input1": {"ColumnNames": ["Col2"], "Values": [[text]]}}}
    return {
        "template": {
            "workspace": "{{workspace}}",
            "service": "svc",
            "apiversion": "2.0",
            "details": "true",
        },
        "query": [],
        "headers": [
            ["Content-Type", "application/json"],
            ["Authorization", secrets.encrypt(f"Bearer {key}")],
        ],
        "body": json.dumps(body),
    }


def add_rrs(collection: Collection, api: Api, *, name: str = "Score", order: int = 0, **fields):
    fields.setdefault("values", rrs_values())
    fields.setdefault("expected_status", 200)
    return SavedRequest.objects.create(
        collection=collection,
        name=name,
        order=order,
        operation=api.operations.get(slug="rrs-execute"),
        operation_label=RRS_LABEL,
        **fields,
    )


@pytest.fixture
def world(demo_api, backend, django_user_model) -> World:
    users = {
        # No password: hashing one is slow, and the tests sign in with force_login.
        name: django_user_model.objects.create_user(name)
        for name in ("owner", "reader", "runner", "other")
    }
    readers, runners = Group.objects.create(name="readers"), Group.objects.create(name="runners")
    users["reader"].groups.add(readers)
    users["runner"].groups.add(runners)
    collection = Collection.objects.create(owner=users["owner"], name="Shared scoring")
    CollectionVariable.objects.create(collection=collection, name="workspace", value="ws-1")
    CollectionShare.objects.create(collection=collection, group=readers, access=ShareAccess.READ)
    CollectionShare.objects.create(collection=collection, group=runners, access=ShareAccess.RUN)
    saved = add_rrs(collection, demo_api)
    owner = Client()
    owner.force_login(users["owner"])
    exchange = try_it(owner)
    replay.capture_baseline(saved=saved, exchange=exchange)
    run = replay.run_collection(collection=collection, user=users["owner"])
    assert run.status == RunStatus.PASSED
    backend.calls.reset()
    return World(
        api=demo_api,
        users=users,
        collection=collection,
        saved=saved,
        exchange=exchange,
        run=run,
        step=run.steps.get(),
    )


def soup_of(response) -> BeautifulSoup:
    return BeautifulSoup(response.content, "html.parser")


def text_of(response) -> str:
    return " ".join(soup_of(response).get_text(" ").split())


def header_inputs(page: BeautifulSoup) -> dict[str, Tag]:
    """The Try it form's named header rows: name -> the value input."""
    return {
        attr(one(row, "input[name=header_name]"), "value"): one(row, "input[name=header_value]")
        for row in page.select(".header-row")
        if one(row, "input[name=header_name]").get("value")
    }


def saved_values_shown(response) -> dict[str, str]:
    """A saved request page's table of values: label -> the value shown."""
    return {
        one(row, "th").get_text(strip=True): one(row, "td").get_text(strip=True)
        for row in soup_of(response).select("table.saved-values tr")
    }


def form_data(response, selector: str = "main form[method=post]") -> dict[str, list[str]]:
    """What a browser would submit from the page's form, untouched."""
    form = soup_of(response).select_one(selector)
    assert form is not None, f"no {selector} on the page"
    data: dict[str, list[str]] = {}
    for field in form.select("input[name], textarea[name], select[name]"):
        name = attr(field, "name")
        if field.name == "textarea":
            # Browsers drop the one newline that follows <textarea>.
            value = field.get_text().removeprefix("\n")
        elif field.name == "select":
            chosen = field.select_one("option[selected]") or field.select_one("option")
            value = attr(chosen, "value", chosen.get_text()) if chosen else ""
        elif field.get("type") in ("checkbox", "radio"):
            if not field.has_attr("checked"):
                continue
            value = attr(field, "value", "on")
        elif field.get("type") in ("submit", "button"):
            continue
        else:
            value = attr(field, "value", "")
        data.setdefault(name, []).append(value)
    return data


# --- the permission matrix --------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    url: Callable[[World], str]
    # who -> 200, 404, or a callable(world) giving the URL a 302 must go to
    expect: dict
    # What is posted, whoever posts it: a valid form, so that only access decides.
    data: Callable[[World], dict] | None = None


def _saved_edit_data(world: World) -> dict:
    return form_data(world.client("owner").get(f"/saved/{world.saved.pk}/edit"))


def _collection_edit_data(world: World) -> dict:
    return form_data(world.client("owner").get(f"/collections/{world.collection.pk}/edit"))


def _new_saved(world: World) -> str:
    return SavedRequest.objects.latest("id").get_absolute_url()


def _new_collection(world: World) -> str:
    return Collection.objects.latest("id").get_absolute_url()


def _new_run(world: World) -> str:
    return f"/runs/{Run.objects.latest('id').pk}/"


def _saved_page(world: World) -> str:
    return world.saved.get_absolute_url()


def _collection_page(world: World) -> str:
    return world.collection.get_absolute_url()


EVERYONE = dict.fromkeys(("owner", "reader", "runner", "other"), 200)
OWNER_ONLY = {"owner": 200, "reader": 404, "runner": 404, "other": 404}
READERS = {"owner": 200, "reader": 200, "runner": 200, "other": 404}
RUNNERS = {"owner": 200, "reader": 404, "runner": 200, "other": 404}

CASES = [
    Case("history", "get", lambda w: "/history/", EVERYONE),
    Case("exchange detail", "get", lambda w: f"/history/{w.exchange.pk}/", OWNER_ONLY),
    Case("save form", "get", lambda w: f"/history/{w.exchange.pk}/save", OWNER_ONLY),
    Case(
        "save",
        "post",
        lambda w: f"/history/{w.exchange.pk}/save",
        {**OWNER_ONLY, "owner": _new_saved},
        data=lambda w: {"name": "Kept", "collection": "", "new_collection_name": "Smoke"},
    ),
    Case("saved list", "get", lambda w: "/saved/", EVERYONE),
    Case("saved detail", "get", lambda w: f"/saved/{w.saved.pk}/", READERS),
    Case("saved edit form", "get", lambda w: f"/saved/{w.saved.pk}/edit", OWNER_ONLY),
    Case(
        "saved edit",
        "post",
        lambda w: f"/saved/{w.saved.pk}/edit",
        {**OWNER_ONLY, "owner": _saved_page},
        data=_saved_edit_data,
    ),
    Case("saved replay", "post", lambda w: f"/saved/{w.saved.pk}/replay", RUNNERS, data=None),
    Case(
        "step as baseline",
        "post",
        lambda w: f"/runs/steps/{w.step.pk}/baseline",
        {**OWNER_ONLY, "owner": _saved_page},
    ),
    Case("collection new form", "get", lambda w: "/collections/new", EVERYONE),
    Case(
        "collection new",
        "post",
        lambda w: "/collections/new",
        dict.fromkeys(("owner", "reader", "runner", "other"), _new_collection),
        data=lambda w: {"name": "Mine", "description": "", "ignored_headers": "Date"},
    ),
    Case("collection detail", "get", lambda w: f"/collections/{w.collection.pk}/", READERS),
    Case(
        "collection edit form", "get", lambda w: f"/collections/{w.collection.pk}/edit", OWNER_ONLY
    ),
    Case(
        "collection edit",
        "post",
        lambda w: f"/collections/{w.collection.pk}/edit",
        {**OWNER_ONLY, "owner": _collection_page},
        data=_collection_edit_data,
    ),
    Case(
        "collection run",
        "post",
        lambda w: f"/collections/{w.collection.pk}/run",
        {**RUNNERS, "owner": _new_run, "runner": _new_run},
    ),
    Case("run detail", "get", lambda w: f"/runs/{w.run.pk}/", READERS),
]


def _counts() -> tuple[int, ...]:
    return (
        Exchange.objects.count(),
        SavedRequest.objects.count(),
        Collection.objects.count(),
        Run.objects.count(),
        CollectionShare.objects.count(),
    )


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_permission_matrix(case: Case, who: str, world: World, backend):
    client = world.client(who)
    url = case.url(world)
    data = case.data(world) if case.data else {}
    before = _counts()
    world.saved.refresh_from_db()
    baseline_before = world.saved.baseline_captured_at

    response = getattr(client, case.method)(url, data)

    if who == "anonymous":
        assert response.status_code == 302
        assert response["Location"] == f"/accounts/login/?next={quote(url)}"
        expected = "refused"
    else:
        expected = case.expect[who]
        if callable(expected):
            assert response.status_code == 302, response.content[:2000]
            assert response["Location"] == expected(world)
        else:
            assert response.status_code == expected, response.content[:2000]
    if expected in ("refused", 404):
        # Nothing was sent, stored or changed.
        assert len(backend.calls) == 0
        assert _counts() == before
        world.saved.refresh_from_db()
        assert world.saved.baseline_captured_at == baseline_before


def test_history_lists_only_ones_own_calls(world: World):
    mine = text_of(world.client("owner").get("/history/"))
    assert RRS_LABEL in mine
    assert (
        f'href="/history/{world.exchange.pk}/"'
        in world.client("owner").get("/history/").content.decode()
    )
    for who in ("reader", "runner", "other"):
        page = world.client(who).get("/history/").content.decode()
        assert f"/history/{world.exchange.pk}/" not in page
        assert "No calls yet" in page


def test_read_members_see_no_run_or_edit_buttons(world: World):
    for who, run, edit in [
        ("owner", True, True),
        ("runner", True, False),
        ("reader", False, False),
    ]:
        client = world.client(who)
        collection = soup_of(client.get(world.collection.get_absolute_url()))
        assert (
            bool(collection.select(f"form[action='/collections/{world.collection.pk}/run']")) is run
        )
        assert bool(collection.select(f"a[href='/collections/{world.collection.pk}/edit']")) is edit
        saved = soup_of(client.get(world.saved.get_absolute_url()))
        assert bool(saved.select(f"form[action='/saved/{world.saved.pk}/replay']")) is run
        assert bool(saved.select(f"a[href='/saved/{world.saved.pk}/edit']")) is edit


def test_shared_collections_are_listed_for_their_members(world: World):
    for who, listed in [("owner", True), ("reader", True), ("runner", True), ("other", False)]:
        page = world.client(who).get("/saved/")
        assert ("Shared scoring" in text_of(page)) is listed, who
    assert "shared by owner" in text_of(world.client("reader").get("/saved/"))


def test_an_anonymous_visitor_sees_the_calls_of_their_own_session(world: World, backend):
    visitor = Client()
    exchange = try_it(visitor)
    assert exchange.owner is None
    page = visitor.get(f"/history/{exchange.pk}/")
    assert page.status_code == 200
    # No Save without an account, and the owner's calls are still not theirs.
    assert soup_of(page).select_one(f"a[href='/history/{exchange.pk}/save']") is None
    other = visitor.get(f"/history/{world.exchange.pk}/")
    assert other.status_code == 302
    assert other["Location"] == f"/accounts/login/?next=/history/{world.exchange.pk}/"


# --- methods and CSRF -------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        lambda w: f"/saved/{w.saved.pk}/replay",
        lambda w: f"/collections/{w.collection.pk}/run",
        lambda w: f"/runs/steps/{w.step.pk}/baseline",
    ],
    ids=["replay", "run", "baseline"],
)
def test_actions_refuse_get(url, world: World, backend):
    before = _counts()
    response = world.client("owner").get(url(world))
    assert response.status_code == 405
    assert len(backend.calls) == 0
    assert _counts() == before


@pytest.mark.parametrize(
    "url",
    [
        lambda w: f"/saved/{w.saved.pk}/replay",
        lambda w: f"/collections/{w.collection.pk}/run",
        lambda w: f"/runs/steps/{w.step.pk}/baseline",
        lambda w: f"/saved/{w.saved.pk}/edit",
        lambda w: f"/collections/{w.collection.pk}/edit",
        lambda w: f"/history/{w.exchange.pk}/save",
    ],
    ids=["replay", "run", "baseline", "saved-edit", "collection-edit", "save"],
)
def test_actions_without_a_csrf_token_are_refused(url, world: World, backend):
    before = _counts()
    response = world.client("owner", enforce_csrf_checks=True).post(url(world), {})
    assert response.status_code == 403
    assert len(backend.calls) == 0
    assert _counts() == before


# --- replay and run -----------------------------------------------------------------------


def test_replay_shows_the_new_response_beside_the_baseline(world: World, backend):
    response = world.client("runner").post(f"/saved/{world.saved.pk}/replay")

    assert response.status_code == 200
    assert len(backend.calls) == 1
    page = soup_of(response)
    outcome = one(page, "#replay-outcome")
    assert one(outcome, "[data-outcome]").get_text(strip=True) == "PASS"
    assert outcome.select_one("[data-diff-unchanged]") is not None
    checks = [
        (li["data-check-passed"], li.get_text(" ", strip=True))
        for li in outcome.select(".check-results li")
    ]
    assert checks == [("true", "✓ Status is 200")]
    assert outcome.select_one(".baseline") is not None
    assert one(outcome, "#result [data-status]").get_text(strip=True) == "200 OK"
    # Only the owner may take the new response as the baseline.
    assert "Use as baseline" not in outcome.get_text()
    # The call is in the runner's own history, the key masked.
    exchange = Exchange.objects.latest("id")
    assert exchange.owner == world.users["runner"]
    assert ["Authorization", f"Bearer {MASK}"] in exchange.request_headers


def test_the_owner_takes_a_replayed_response_as_the_baseline(world: World, backend):
    owner = world.client("owner")
    page = soup_of(owner.post(f"/saved/{world.saved.pk}/replay"))
    form = one(page, "#replay-outcome form[action^='/runs/steps/']")
    assert form.get_text(strip=True) == "Use as baseline"
    step = RunStep.objects.latest("id")
    assert form["action"] == f"/runs/steps/{step.pk}/baseline"

    response = owner.post(attr(form, "action"))

    assert response.status_code == 302
    world.saved.refresh_from_db()
    assert step.exchange is not None
    assert bytes(world.saved.baseline_body) == bytes(step.exchange.response_body)
    assert world.saved.baseline_headers == step.exchange.response_headers


def test_a_collection_run_finishes_within_the_post(world: World, backend):
    add_rrs(world.collection, world.api, name="Score again", order=1)
    response = world.client("runner").post(f"/collections/{world.collection.pk}/run", follow=True)

    assert response.status_code == 200
    run = Run.objects.latest("id")
    assert run.status == RunStatus.PASSED
    assert run.started_by == world.users["runner"]
    page = soup_of(response)
    assert one(page, "[data-run-status]")["data-run-status"] == "passed"
    assert one(page, "[data-run-progress]").get_text(strip=True) == (
        "2 of 2 requests done, all passed"
    )
    bar = one(page, "[data-run-bar]")
    assert bar.get("class") == ["progress-bar", "bg-success", "progress-10"]
    assert one(page, "[role=progressbar]")["aria-valuetext"] == "2 of 2 requests done, all passed"
    assert [li["data-passed"] for li in page.select("[data-step]")] == ["true", "true"]
    # A finished run is not polled any more.
    assert page.select_one("#run-progress[hx-get]") is None
    # The polling request gets the fragment only.
    fragment = world.client("reader").get(f"/runs/{run.pk}/", headers={"HX-Request": "true"})
    assert fragment.content.decode().lstrip().startswith('<section id="run-progress"')


def test_a_running_run_is_polled(world: World):
    run = Run.objects.create(
        collection=world.collection, started_by=world.users["owner"], total_steps=3
    )
    page = soup_of(world.client("reader").get(f"/runs/{run.pk}/"))
    section = one(page, "#run-progress")
    assert section["hx-get"] == f"/runs/{run.pk}/"
    assert section["hx-trigger"] == "load delay:1s"
    assert one(page, "[data-run-progress]").get_text(strip=True) == "0 of 3 requests done"
    bar = one(page, "[data-run-bar]")
    assert bar.get("class") == [
        "progress-bar",
        "progress-bar-striped",
        "progress-bar-animated",
        "progress-0",
    ]


def test_a_failed_run_has_a_red_bar_and_says_how_many_failed(world: World):
    run = Run.objects.create(
        collection=world.collection,
        started_by=world.users["owner"],
        total_steps=4,
        status=RunStatus.FAILED,
    )
    RunStep.objects.create(run=run, name="One", order=0, passed=True)
    RunStep.objects.create(run=run, name="Two", order=1, passed=False, error="Refused")
    RunStep.objects.create(run=run, name="Three", order=2, passed=False)
    page = soup_of(world.client("reader").get(f"/runs/{run.pk}/"))
    assert one(page, "[data-run-status]").get_text(strip=True) == "Failed"
    assert one(page, "[data-run-progress]").get_text(strip=True) == (
        "3 of 4 requests done, 2 failed"
    )
    assert one(page, "[data-run-bar]").get("class") == ["progress-bar", "bg-danger", "progress-8"]
    assert one(page, "[role=progressbar]")["aria-valuetext"] == "3 of 4 requests done, 2 failed"


def test_a_removed_operation_is_named_and_the_other_requests_still_run(world: World, backend):
    gone = world.api.operations.get(slug="bes-submit")
    removed = SavedRequest.objects.create(
        collection=world.collection,
        name="Submit",
        order=1,
        operation=gone,
        operation_label="AzureML Demo API: BES Submit",
        values=rrs_values(),
        expected_status=200,
    )
    add_rrs(world.collection, world.api, name="After", order=2)
    gone.delete()
    owner = world.client("owner")
    message = "The operation AzureML Demo API: BES Submit no longer exists."

    assert message in text_of(owner.get(removed.get_absolute_url()))

    replayed = owner.post(f"/saved/{removed.pk}/replay")
    assert replayed.status_code == 200
    outcome = one(soup_of(replayed), "#replay-outcome")
    assert one(outcome, "[data-outcome]").get_text(strip=True) == "FAIL"
    assert one(outcome, "[data-outcome-error]").get_text(strip=True) == message
    assert len(backend.calls) == 0

    run_page = owner.post(f"/collections/{world.collection.pk}/run", follow=True)
    steps = [(li["data-step"], li["data-passed"]) for li in soup_of(run_page).select("[data-step]")]
    assert steps == [("Score", "true"), ("Submit", "false"), ("After", "true")]
    assert message in text_of(run_page)
    assert len(backend.calls) == 2


# --- save from the history, try again -----------------------------------------------------


def test_save_from_history_keeps_values_secret_encrypted_and_the_baseline(world: World):
    owner = world.client("owner")
    exchange = world.exchange
    form = soup_of(owner.get(f"/history/{exchange.pk}/save"))
    assert one(form, "input[name=name]")["value"] == "RRS Execute"

    response = owner.post(
        f"/history/{exchange.pk}/save",
        {"name": "Score a good day", "collection": "", "new_collection_name": "Smoke"},
    )

    saved = SavedRequest.objects.latest("id")
    assert response.status_code == 302
    assert response["Location"] == f"/saved/{saved.pk}/"
    assert saved.name == "Score a good day"
    assert saved.collection.name == "Smoke"
    assert saved.collection.owner == world.users["owner"]
    assert saved.operation is not None
    assert saved.operation.slug == "rrs-execute"
    assert saved.expected_status == 200
    # The values, never the built URL; the key encrypted.
    assert saved.values["template"] == {
        "workspace": "ws-try",
        "service": "svc-try",
        "apiversion": "2.0",
        "details": "true",
    }
    headers = dict(saved.values["headers"])
    assert headers["Content-Type"] == "application/json"
    assert headers["Authorization"].startswith("enc:")
    assert secrets.decrypt(headers["Authorization"]) == f"Bearer {API_KEY}"
    assert API_KEY not in json.dumps(saved.values)
    assert json.loads(saved.values["body"]) == json.loads(rrs_form()["body"])
    # The baseline is the call's response.
    assert saved.baseline_status == exchange.status_code == 200
    assert bytes(saved.baseline_body) == bytes(exchange.response_body)
    assert saved.baseline_headers == exchange.response_headers
    assert saved.baseline_content_type == exchange.response_content_type

    page = owner.get(response["Location"])
    values = saved_values_shown(page)
    assert values["Authorization:"] == f"Bearer {MASK}"
    assert values["workspace"] == "ws-try"
    assert API_KEY not in page.content.decode()
    assert "Hashing" in one(soup_of(page), ".baseline").get_text()


def test_saving_into_an_existing_collection_appends(world: World):
    owner = world.client("owner")
    response = owner.post(
        f"/history/{world.exchange.pk}/save",
        {"name": "Second", "collection": str(world.collection.pk), "new_collection_name": ""},
    )
    assert response.status_code == 302
    assert [s.name for s in world.collection.requests.all()] == ["Score", "Second"]


def test_saving_cannot_target_another_users_collection(world: World, backend):
    mine = world.client("other")
    exchange = try_it(mine)
    response = mine.post(
        f"/history/{exchange.pk}/save",
        {"name": "Sneak", "collection": str(world.collection.pk), "new_collection_name": ""},
    )
    assert response.status_code == 200
    assert "Select a valid choice" in text_of(response)
    assert world.collection.requests.count() == 1


def test_saving_into_a_name_used_twice_does_not_fail(world: World):
    owner = world.users["owner"]
    Collection.objects.create(owner=owner, name="Twice")
    Collection.objects.create(owner=owner, name="Twice")
    response = world.client("owner").post(
        f"/history/{world.exchange.pk}/save",
        {"name": "Kept", "collection": "", "new_collection_name": "Twice"},
    )
    assert response.status_code == 302
    saved = SavedRequest.objects.latest("id")
    assert (saved.name, saved.collection.name) == ("Kept", "Twice")


def test_try_again_prefills_the_form_with_the_calls_values(world: World, backend):
    owner = world.client("owner")
    exchange = try_it(owner, key="another-key-4321", workspace="ws-again", text="Again")
    assert exchange.status_code == 401

    page = soup_of(owner.get(f"{OPERATION_PAGE}?from={exchange.pk}"))

    assert one(page, "input[name=param-template-workspace]")["value"] == "ws-again"
    assert json.loads(one(page, "textarea[name=body]").get_text()) == json.loads(
        rrs_form(text="Again")["body"]
    )
    rows = header_inputs(page)
    assert rows["Authorization"]["type"] == "password"
    assert rows["Authorization"]["value"] == "Bearer another-key-4321"

    # Another user's call is not theirs to see: the form keeps its defaults.
    theirs = soup_of(world.client("other").get(f"{OPERATION_PAGE}?from={exchange.pk}"))
    assert one(theirs, "input[name=param-template-workspace]")["value"] == "demo-workspace"
    assert "another-key-4321" not in str(theirs)
    assert "Again" not in one(theirs, "textarea[name=body]").get_text()


def test_secrets_under_any_header_name_or_scheme_are_masked_kept_and_hidden_from_readers(
    world: World, backend
):
    owner = world.client("owner")
    form = rrs_form()
    form["header_name"] = ["Content-Type", "Authorization", "X-Custom", "X-Api-Token", "X-Note", ""]
    form["header_value"] = [
        "application/json",
        f"Bearer {API_KEY}",
        "Bearer custom-secret-1111",
        "tok-secret-2222",
        "hello world",
        "",
    ]
    assert owner.post(OPERATION_PAGE + "try", form).status_code == 200
    exchange = Exchange.objects.latest("id")

    # Stored masked, the scheme word kept.
    assert exchange.values["headers"][2:] == [
        ["X-Custom", f"Bearer {MASK}"],
        ["X-Api-Token", MASK],
        ["X-Note", "hello world"],
    ]
    sent = dict(exchange.request_headers)
    assert (sent["X-Custom"], sent["X-Api-Token"]) == (f"Bearer {MASK}", MASK)
    history = owner.get(f"/history/{exchange.pk}/").content.decode()
    assert "custom-secret-1111" not in history and "tok-secret-2222" not in history
    # The owner's Try again gets them back, in password inputs.
    again = soup_of(owner.get(f"{OPERATION_PAGE}?from={exchange.pk}"))
    rows = header_inputs(again)
    assert rows["X-Custom"]["value"] == "Bearer custom-secret-1111"
    assert rows["X-Api-Token"]["value"] == "tok-secret-2222"
    assert [rows[n]["type"] for n in ("X-Custom", "X-Api-Token", "X-Note")] == [
        "password",
        "password",
        "text",
    ]
    # Saved, they are encrypted; a group reader sees them masked.
    owner.post(
        f"/history/{exchange.pk}/save",
        {"name": "Custom", "collection": str(world.collection.pk), "new_collection_name": ""},
    )
    saved = SavedRequest.objects.get(name="Custom")
    headers = dict(saved.values["headers"])
    assert secrets.decrypt(headers["X-Custom"]) == "Bearer custom-secret-1111"
    assert secrets.decrypt(headers["X-Api-Token"]) == "tok-secret-2222"
    assert headers["X-Note"] == "hello world"
    page = world.client("reader").get(saved.get_absolute_url())
    values = saved_values_shown(page)
    assert (values["X-Custom:"], values["X-Api-Token:"], values["X-Note:"]) == (
        f"Bearer {MASK}",
        MASK,
        "hello world",
    )
    assert "custom-secret-1111" not in page.content.decode()


def test_secrets_saved_in_clear_before_are_masked_for_readers(world: World):
    values = rrs_values()
    values["headers"] += [
        ["X-Custom", "Bearer old-clear-3333"],
        ["X-Session-Id", "sess-4444"],
        ["X-Ref", "Bearer {{token}}"],
    ]
    saved = add_rrs(world.collection, world.api, name="Old", values=values)

    page = world.client("reader").get(saved.get_absolute_url())

    values = saved_values_shown(page)
    assert values["X-Custom:"] == f"Bearer {MASK}"
    assert values["X-Session-Id:"] == MASK
    # A variable reference holds no secret: it stays readable.
    assert values["X-Ref:"] == "Bearer {{token}}"
    assert "old-clear-3333" not in page.content.decode()
    assert "sess-4444" not in page.content.decode()


def test_the_exchange_page_offers_try_again_and_save(world: World):
    page = soup_of(world.client("owner").get(f"/history/{world.exchange.pk}/"))
    assert page.select_one(f"a[href='{OPERATION_PAGE}?from={world.exchange.pk}']") is not None
    assert page.select_one(f"a[href='/history/{world.exchange.pk}/save']") is not None
    assert API_KEY not in str(page)


# --- editing a saved request --------------------------------------------------------------


def test_editing_checks_extract_and_repeat_round_trips(world: World):
    owner = world.client("owner")
    url = f"/saved/{world.saved.pk}/edit"
    data = form_data(owner.get(url))
    assert data["headers_text"] == [f"Content-Type: application/json\nAuthorization: {MASK}"]
    data["checks_text"] = [
        "header Content-Type = application/json\n"
        "json $.Results.output1.type = table\n"
        "json $.Results\n"
        "body contains Hashing\n"
        "duration < 5000"
    ]
    data["extract_text"] = ["rows = json $.Results.output1.value.Values\netag = header ETag"]
    data["repeat_until_text"] = ["json $.Results.output1.type = table"]
    data["repeat_max_tries"] = ["3"]
    data["repeat_delay_seconds"] = ["0.5"]

    response = owner.post(url, data)

    assert response.status_code == 302, text_of(response)
    world.saved.refresh_from_db()
    assert world.saved.checks == [
        {"kind": "header_equals", "target": "Content-Type", "value": "application/json"},
        {"kind": "json_equals", "target": "$.Results.output1.type", "value": "table"},
        {"kind": "json_present", "target": "$.Results", "value": ""},
        {"kind": "body_contains", "target": "", "value": "Hashing"},
        {"kind": "duration_under", "target": "", "value": "5000"},
    ]
    assert world.saved.extract == [
        {"variable": "rows", "source": "json", "path": "$.Results.output1.value.Values"},
        {"variable": "etag", "source": "header", "path": "ETag"},
    ]
    assert world.saved.repeat_until == {
        "kind": "json_equals",
        "target": "$.Results.output1.type",
        "value": "table",
    }
    assert (world.saved.repeat_max_tries, world.saved.repeat_delay_seconds) == (3, 0.5)
    again = form_data(owner.get(url))
    for field in ("checks_text", "extract_text", "repeat_until_text"):
        assert again[field] == data[field], field
    # The saved page lists them.
    page = text_of(owner.get(world.saved.get_absolute_url()))
    assert "Repeats until json $.Results.output1.type = table , at most 3 tries" in page
    assert "body contains Hashing" in page
    assert "Sets {{rows}} from json $.Results.output1.value.Values" in page


@pytest.mark.parametrize(
    ("field", "text", "message"),
    [
        ("checks_text", "json $.Results\nstatus 2000", "Line 2: status needs a code"),
        ("checks_text", "\n\nfoo bar", "Line 3: unknown check 'foo'"),
        ("extract_text", "a = json $\nb json $", "Line 2:"),
        ("headers_text", "Content-Type: application/json\nno separator", "Line 2:"),
        ("template_text", "workspace = x\nnope", "Line 2:"),
    ],
    ids=["checks", "checks-blank-lines", "extract", "headers", "template"],
)
def test_a_syntax_error_names_the_line(world: World, field, text, message):
    owner = world.client("owner")
    url = f"/saved/{world.saved.pk}/edit"
    data = form_data(owner.get(url))
    data[field] = [text]
    before = SavedRequest.objects.get(pk=world.saved.pk)

    response = owner.post(url, data)

    assert response.status_code == 200
    errors = " ".join(
        e.get_text(" ", strip=True)
        for e in soup_of(response).select(".invalid-feedback, .alert-danger, .errorlist")
    )
    assert message in errors, errors
    world.saved.refresh_from_db()
    assert world.saved.values == before.values
    assert world.saved.checks == before.checks


def test_a_secret_header_left_masked_keeps_the_stored_secret(world: World, backend):
    owner = world.client("owner")
    url = f"/saved/{world.saved.pk}/edit"
    stored = dict(world.saved.values["headers"])["Authorization"]
    data = form_data(owner.get(url))
    assert API_KEY not in owner.get(url).content.decode()
    data["body_text"] = [data["body_text"][0].replace("good", "bad")]

    assert owner.post(url, data).status_code == 302

    world.saved.refresh_from_db()
    assert dict(world.saved.values["headers"])["Authorization"] == stored
    assert "bad day" in world.saved.values["body"]
    # And it still works.
    page = soup_of(owner.post(f"/saved/{world.saved.pk}/replay"))
    assert one(page, "[data-outcome]").get_text(strip=True) == "PASS"
    paths = [li["data-json-change"] for li in page.select("[data-json-change]")]
    assert "$.Results.output1.value.Values[0][0]" in paths


def test_a_new_secret_header_value_is_stored_encrypted(world: World):
    owner = world.client("owner")
    url = f"/saved/{world.saved.pk}/edit"
    data = form_data(owner.get(url))
    data["headers_text"] = [
        "Content-Type: application/json\nAuthorization: Bearer new-key-98765\nX-Api-Key: k-24680"
    ]

    assert owner.post(url, data).status_code == 302

    world.saved.refresh_from_db()
    headers = dict(world.saved.values["headers"])
    assert secrets.decrypt(headers["Authorization"]) == "Bearer new-key-98765"
    assert secrets.decrypt(headers["X-Api-Key"]) == "k-24680"
    assert "new-key-98765" not in json.dumps(world.saved.values)
    assert "k-24680" not in json.dumps(world.saved.values)
    assert "new-key-98765" not in owner.get(url).content.decode()


def test_a_saved_request_cannot_be_moved_into_another_users_collection(world: World):
    theirs = Collection.objects.create(owner=world.users["other"], name="Theirs")
    owner = world.client("owner")
    url = f"/saved/{world.saved.pk}/edit"
    data = form_data(owner.get(url))
    data["collection"] = [str(theirs.pk)]
    response = owner.post(url, data)
    assert response.status_code == 200
    assert "Select a valid choice" in text_of(response)
    assert theirs.requests.count() == 0


# --- collections: variables and sharing -----------------------------------------------------


def _extra_row(data: dict, prefix: str) -> int:
    """The first empty row of a formset: they follow the stored ones."""
    initial = int(data[f"{prefix}-INITIAL_FORMS"][0])
    assert int(data[f"{prefix}-TOTAL_FORMS"][0]) > initial, f"no empty {prefix} row"
    return initial


def _row_of(data: dict, prefix: str, field: str, value: str) -> int:
    """The formset row whose field has the value."""
    total = int(data[f"{prefix}-TOTAL_FORMS"][0])
    return next(i for i in range(total) if data.get(f"{prefix}-{i}-{field}") == [value])


def test_a_secret_variable_is_stored_encrypted_never_shown_and_kept(world: World):
    owner = world.client("owner")
    url = f"/collections/{world.collection.pk}/edit"
    data = form_data(owner.get(url))
    row = _extra_row(data, "variables")
    data[f"variables-{row}-name"] = ["api_key"]
    data[f"variables-{row}-value"] = ["s3cret-value-777"]
    data[f"variables-{row}-secret"] = ["on"]

    response = owner.post(url, data)

    assert response.status_code == 302, text_of(response)
    variable = world.collection.variables.get(name="api_key")
    assert variable.secret
    assert variable.value.startswith("enc:")
    assert secrets.decrypt(variable.value) == "s3cret-value-777"
    for page_url in (world.collection.get_absolute_url(), url):
        page = owner.get(page_url).content.decode()
        assert "s3cret-value-777" not in page
        assert variable.value not in page
    detail = text_of(owner.get(world.collection.get_absolute_url()))
    assert "{{api_key}} •••••• secret" in detail

    # A later edit that leaves it empty keeps it; the other variable may change.
    data = form_data(owner.get(url))
    secret_row = _row_of(data, "variables", "name", "api_key")
    assert data[f"variables-{secret_row}-value"] == [""]
    data[f"variables-{_row_of(data, 'variables', 'name', 'workspace')}-value"] = ["ws-2"]
    assert owner.post(url, data).status_code == 302
    variable.refresh_from_db()
    assert secrets.decrypt(variable.value) == "s3cret-value-777"
    assert world.collection.variables.get(name="workspace").value == "ws-2"

    # Typing a new value replaces it.
    data = form_data(owner.get(url))
    data[f"variables-{secret_row}-value"] = ["another-secret-888"]
    assert owner.post(url, data).status_code == 302
    variable.refresh_from_db()
    assert secrets.decrypt(variable.value) == "another-secret-888"


def test_sharing_through_the_formset_creates_shares(world: World):
    team = Group.objects.create(name="team")
    world.users["other"].groups.add(team)
    assert world.client("other").get(world.collection.get_absolute_url()).status_code == 404
    owner = world.client("owner")
    url = f"/collections/{world.collection.pk}/edit"
    data = form_data(owner.get(url))
    row = _extra_row(data, "shares")
    data[f"shares-{row}-group"] = [str(team.pk)]
    data[f"shares-{row}-access"] = [ShareAccess.RUN]

    response = owner.post(url, data)

    assert response.status_code == 302, text_of(response)
    share = CollectionShare.objects.get(collection=world.collection, group=team)
    assert share.access == ShareAccess.RUN
    other = world.client("other")
    assert other.get(world.collection.get_absolute_url()).status_code == 200
    assert other.post(f"/collections/{world.collection.pk}/run").status_code == 302

    # Deleting the share takes the access away again.
    data = form_data(owner.get(url))
    data[f"shares-{_row_of(data, 'shares', 'group', str(team.pk))}-DELETE"] = ["on"]
    assert owner.post(url, data).status_code == 302
    assert not CollectionShare.objects.filter(collection=world.collection, group=team).exists()
    assert other.get(world.collection.get_absolute_url()).status_code == 404


def test_sharing_with_one_group_twice_is_a_form_error(world: World):
    owner = world.client("owner")
    url = f"/collections/{world.collection.pk}/edit"
    data = form_data(owner.get(url))
    row = _extra_row(data, "shares")
    readers = Group.objects.get(name="readers")
    data[f"shares-{row}-group"] = [str(readers.pk)]
    data[f"shares-{row}-access"] = [ShareAccess.RUN]
    response = owner.post(url, data)
    assert response.status_code == 200
    alert = one(soup_of(response), ".alert-danger")
    assert alert.get_text(strip=True) == "Please correct the duplicate data for group."
    assert CollectionShare.objects.filter(collection=world.collection).count() == 2


def test_a_new_collection_belongs_to_its_creator(world: World):
    response = world.client("reader").post(
        "/collections/new",
        {"name": "Reader's own", "description": "", "ignored_headers": "Date, ETag"},
    )
    collection = Collection.objects.get(name="Reader's own")
    assert response["Location"] == collection.get_absolute_url()
    assert collection.owner == world.users["reader"]
    assert world.client("reader").get(f"/collections/{collection.pk}/edit").status_code == 200


# --- the rate limit ---------------------------------------------------------------------------


def test_replays_count_against_the_try_it_limit(world: World, backend, settings):
    settings.PORTAL_TRY_IT_RATE_LIMIT = 2
    settings.PORTAL_TRY_IT_RATE_WINDOW = 3600
    runner = world.client("runner")
    url = f"/saved/{world.saved.pk}/replay"
    answers = [runner.post(url) for _ in range(3)]

    assert [answer.status_code for answer in answers] == [200, 200, 429]
    assert len(backend.calls) == 2
    refused = soup_of(answers[2])
    assert (
        "Too many calls: at most 2 every 3600 seconds."
        in one(refused, "[data-rate-limited]").get_text()
    )
    assert int(answers[2]["Retry-After"]) > 0
    assert refused.select_one("#replay-outcome") is None
    # The page is still the saved request's, with its baseline.
    assert refused.select_one(".baseline") is not None
    # The limit is per user: the owner still has calls left.
    assert world.client("owner").post(url).status_code == 200


def test_a_collection_run_counts_each_request(world: World, backend, settings):
    settings.PORTAL_TRY_IT_RATE_LIMIT = 3
    settings.PORTAL_TRY_IT_RATE_WINDOW = 3600
    add_rrs(world.collection, world.api, name="Two", order=1)
    owner = world.client("owner")
    runs_before = Run.objects.count()

    assert owner.post(f"/collections/{world.collection.pk}/run").status_code == 302
    assert len(backend.calls) == 2
    # Try it shares the count: the third call of the window.
    assert owner.post(OPERATION_PAGE + "try", rrs_form()).status_code == 200
    assert len(backend.calls) == 3
    refused = owner.post(f"/collections/{world.collection.pk}/run")

    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert (
        "Too many calls: at most 3 every 3600 seconds."
        in one(soup_of(refused), "[data-rate-limited]").get_text()
    )
    assert len(backend.calls) == 3
    assert Run.objects.count() == runs_before + 1
    assert owner.post(OPERATION_PAGE + "try", rrs_form()).status_code == 429


def test_a_refused_run_leaves_the_calls_that_were_left(world: World, backend, settings):
    settings.PORTAL_TRY_IT_RATE_LIMIT = 3
    settings.PORTAL_TRY_IT_RATE_WINDOW = 3600
    add_rrs(world.collection, world.api, name="Two", order=1)
    owner = world.client("owner")
    assert owner.post(OPERATION_PAGE + "try", rrs_form()).status_code == 200
    assert owner.post(OPERATION_PAGE + "try", rrs_form()).status_code == 200

    # Two requests do not fit in the one call left: nothing is sent...
    assert owner.post(f"/collections/{world.collection.pk}/run").status_code == 429
    assert len(backend.calls) == 2
    # ...and the call left is still there, once.
    assert owner.post(OPERATION_PAGE + "try", rrs_form()).status_code == 200
    assert len(backend.calls) == 3
    assert owner.post(OPERATION_PAGE + "try", rrs_form()).status_code == 429


def test_the_rate_limit_can_be_turned_off(world: World, backend, settings):
    settings.PORTAL_TRY_IT_RATE_LIMIT = 0
    owner = world.client("owner")
    for _ in range(3):
        assert owner.post(f"/saved/{world.saved.pk}/replay").status_code == 200
    assert len(backend.calls) == 3


# --- over the wire ----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_save_replay_and_edit_against_the_sample_backend(live_demo_api, django_user_model):
    user = django_user_model.objects.create_user("ada")
    client = Client()
    client.force_login(user)
    exchange = try_it(client)
    assert exchange.status_code == 200
    saved_url = client.post(
        f"/history/{exchange.pk}/save",
        {"name": "Score", "collection": "", "new_collection_name": "Smoke"},
    )["Location"]
    saved = SavedRequest.objects.get(name="Score")
    replay_url = f"/saved/{saved.pk}/replay"

    same = soup_of(client.post(replay_url))
    assert same.select_one("[data-outcome]").get_text(strip=True) == "PASS"
    assert same.select_one("[data-diff-unchanged]") is not None

    edit = client.get(f"/saved/{saved.pk}/edit")
    data = form_data(edit)
    data["body_text"] = [data["body_text"][0].replace("a good day", "a bad day")]
    assert client.post(f"/saved/{saved.pk}/edit", data)["Location"] == saved_url

    changed = soup_of(client.post(replay_url))
    assert changed.select_one("[data-outcome]").get_text(strip=True) == "PASS"
    paths = [li["data-json-change"] for li in changed.select("[data-json-change]")]
    assert "$.Results.output1.value.Values[0][0]" in paths
    first = changed.select_one("[data-json-change='$.Results.output1.value.Values[0][0]']")
    assert "This is a good day" in first.get_text() and "This is a bad day" in first.get_text()


# --- how values and diffs are kept and shown --------------------------------------------------


def test_secret_values_are_encrypted_in_every_section():
    stored = actions.stored_values(
        values={
            "template": {"token": "t-123456", "item": "7"},
            "query": [["code", "q-123456"], ["page", "2"]],
            "headers": [["X-Api-Key", "h-123456"], ["Accept", "text/plain"]],
            "body": "{}",
        },
        secret_names=frozenset({"token", "code"}),
    )
    assert "123456" not in json.dumps(stored)
    assert secrets.decrypt(stored["template"]["token"]) == "t-123456"
    assert secrets.decrypt(stored["query"][0][1]) == "q-123456"
    assert secrets.decrypt(stored["headers"][0][1]) == "h-123456"
    assert (stored["template"]["item"], stored["query"][1], stored["headers"][1]) == (
        "7",
        ["page", "2"],
        ["Accept", "text/plain"],
    )
    # A value left as the mask keeps what was stored under its name.
    again = actions.stored_values(
        values={"template": {}, "query": [["code", MASK]], "headers": [], "body": None},
        secret_names=frozenset({"code"}),
        kept=actions.stored_secrets(stored),
    )
    assert again["query"] == [["code", stored["query"][0][1]]]
    shown = actions.shown_values(SavedRequest(values=stored))
    assert shown["template"]["token"] == shown["query"][0][1] == shown["headers"][0][1] == MASK


def test_diff_values_are_shown_as_json():
    diff = ResponseDiff(
        body_changed=True,
        json_changes=[
            {"path": "$.a", "change": "changed", "old": None, "new": True},
            {"path": "$.b", "change": "added", "old": None, "new": {"x": [1]}},
            {"path": "$.c", "change": "changed", "old": "text", "new": 2.5},
        ],
        note="More than 500 places changed; the first 500 are listed.",
    )
    shown = actions.shown_diff(diff)
    assert [(c["old"], c["new"]) for c in shown.json_changes] == [
        ("null", "true"),
        ("null", '{"x": [1]}'),
        ("text", "2.5"),
    ]
    html = render_to_string("testing/_diff.html", {"diff": shown})
    page = BeautifulSoup(html, "html.parser")
    assert page.select_one("[data-json-change='$.a']").get_text() == "changed $.a: null → true"
    assert page.select_one("[data-diff-note]").get_text() == diff.note
