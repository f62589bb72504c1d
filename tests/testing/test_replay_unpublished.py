"""Replays and runs of an unpublished API's operation: refused as its pages refuse it.

An unpublished API's pages, its Try it and the gateway answer 404 to everyone but staff
(catalog.selectors.get_operation). A replay, a collection run from the page and
`manage.py replay` refuse it the same way: the step fails with what the saved request's
page says of an operation that cannot be called, and nothing reaches the backend. Staff,
who see the pages and may Try it, replay it too.
"""

from __future__ import annotations

from io import StringIO

import pytest
from bs4 import BeautifulSoup
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.test import Client

from catalog.models import Api, Operation
from catalog.registration import create_missing_template_parameters
from testing import replay
from testing.models import Collection, CollectionShare, RunStatus, SavedRequest, ShareAccess
from tests.backends import reply_with, scripted_server
from tests.factories import make_user

pytestmark = pytest.mark.django_db

GONE = "The operation Drafts: Item no longer exists."


@pytest.fixture(autouse=True)
def runs_within_the_post(settings):
    settings.PORTAL_RUNS_IN_BACKGROUND = False


@pytest.fixture
def backend():
    answer = reply_with(200, headers=[("Content-Type", "application/json")], body=b"{}")
    with scripted_server(answer) as server:
        yield server


@pytest.fixture
def users():
    runners = Group.objects.create(name="runners")
    people = {
        "owner": make_user("owner"),
        "runner": make_user("runner"),
        "staff": make_user("staff", staff=True),
    }
    people["runner"].groups.add(runners)
    people["staff"].groups.add(runners)
    return people


@pytest.fixture
def saved(backend, users) -> SavedRequest:
    api = Api.objects.create(
        name="Drafts", slug="drafts", service_url=f"{backend.url}/base", published=False
    )
    operation = Operation.objects.create(
        api=api, name="Item", slug="item", method="GET", url_template="/items/{item}"
    )
    create_missing_template_parameters(operation=operation)
    collection = Collection.objects.create(owner=users["owner"], name="Drafts flow")
    CollectionShare.objects.create(
        collection=collection, group=Group.objects.get(name="runners"), access=ShareAccess.RUN
    )
    return SavedRequest.objects.create(
        collection=collection,
        name="Get item",
        operation=operation,
        operation_label="Drafts: Item",
        values={"template": {"item": "1"}, "query": [], "headers": [], "body": None},
        expected_status=200,
    )


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def soup_of(response) -> BeautifulSoup:
    return BeautifulSoup(response.content, "html.parser")


@pytest.mark.parametrize("who", ["owner", "runner"])
def test_a_replay_from_the_page_is_refused_and_sends_nothing(who, users, saved, backend):
    client = client_of(users[who])
    # What the pages say: the operation's page is a 404, the saved request's page names it gone.
    assert client.get("/apis/drafts/operations/item/").status_code == 404
    page = soup_of(client.get(f"/saved/{saved.pk}/"))
    assert page.select_one("[data-operation-gone]").get_text(strip=True) == GONE
    assert page.select_one("a[href='/apis/drafts/operations/item/']") is None

    replayed = soup_of(client.post(f"/saved/{saved.pk}/replay"))

    assert replayed.select_one("[data-outcome]").get_text(strip=True) == "FAIL"
    assert replayed.select_one("[data-outcome-error]").get_text(strip=True) == GONE
    assert backend.connections == 0


@pytest.mark.parametrize("who", ["owner", "runner"])
def test_a_collection_run_from_the_page_fails_the_step_and_sends_nothing(
    who, users, saved, backend
):
    response = client_of(users[who]).post(f"/collections/{saved.collection.pk}/run", follow=True)

    run = saved.collection.runs.latest("id")
    assert run.status == RunStatus.FAILED
    [step] = run.steps.all()
    assert (step.passed, step.error, step.exchange, step.tries) == (False, GONE, None, 0)
    assert GONE in soup_of(response).select_one("[data-step-error]").get_text()
    assert backend.connections == 0


def test_the_command_line_refuses_it_too(users, saved, backend):
    out = StringIO()
    with pytest.raises(CommandError, match="1 request failed"):
        call_command("replay", "Drafts flow", "--user", "runner", stdout=out)
    assert "FAIL  Get item  -" in out.getvalue()
    assert out.getvalue().count(GONE) == 1
    with pytest.raises(CommandError, match="1 request failed"):
        call_command("replay", "Drafts flow", stdout=StringIO())  # as the owner
    assert backend.connections == 0


def test_a_removed_operation_says_the_same(users, saved, backend):
    Api.objects.filter(pk=saved.operation.api_id).update(published=True)
    Operation.objects.filter(pk=saved.operation_id).update(removed=True)
    outcome = replay.replay_saved_request(saved=saved, user=users["owner"])
    assert (outcome.passed, outcome.error) == (False, GONE)
    assert backend.connections == 0


def test_staff_see_the_page_and_their_replays_and_runs_are_sent(users, saved, backend):
    staff = client_of(users["staff"])
    assert staff.get("/apis/drafts/operations/item/").status_code == 200
    page = soup_of(staff.get(f"/saved/{saved.pk}/"))
    assert page.select_one("[data-operation-gone]") is None
    assert page.select_one("a[href='/apis/drafts/operations/item/']") is not None

    replayed = soup_of(staff.post(f"/saved/{saved.pk}/replay"))
    assert replayed.select_one("[data-outcome]").get_text(strip=True) == "PASS"
    staff.post(f"/collections/{saved.collection.pk}/run")
    call_command("replay", "Drafts flow", "--user", "staff", stdout=StringIO())

    assert [r.target for r in backend.requests] == ["/base/items/1"] * 3


def test_a_replay_without_a_user_is_refused(saved, backend):
    outcome = replay.replay_saved_request(saved=saved, user=None)
    assert (outcome.passed, outcome.error) == (False, GONE)
    assert backend.connections == 0
