"""Saved requests keep the server their call went to (SavedRequest.server): replays and
collection runs send there again, looked up again for the runner (console/servers.py);
collection files carry it as the server's URL. Attackers' side: a group member
running, reading and exporting a staff member's request to the staff-only service URL."""

from __future__ import annotations

import html
import json
import re
from io import StringIO

import pytest
import yaml
from django.contrib.auth.models import Group, User
from django.core.management import CommandError, call_command
from django.test import Client

from catalog.models import Operation
from console.models import Exchange
from console.servers import HIDDEN_SERVICE_URL
from gateway.models import GatewayCall
from portal import secrets
from testing import replay
from testing.actions import save_exchange
from testing.collection_check import CollectionFileError
from testing.collection_export import export_collection
from testing.collection_import import import_collection
from testing.models import Collection, CollectionShare, RunStatus, SavedRequest, ShareAccess
from tests.console.test_tryit_servers import extra, try_it
from tests.factories import make_user

pytestmark = pytest.mark.django_db

KEY_HEADER = "Ocp-Apim-Subscription-Key"


def saved_from_try_it(user: User, operation: Operation, **data) -> SavedRequest:
    """Try it as `user`, then Save the call."""
    client = Client()
    client.force_login(user)
    try_it(client, operation, **data)
    exchange = Exchange.objects.filter(owner=user).first()
    assert exchange is not None
    return save_exchange(exchange=exchange, user=user, name="Item", collection=None)


def shared_with_runner(saved: SavedRequest, runner: User) -> None:
    group = Group.objects.create(name="runners")
    runner.groups.add(group)
    CollectionShare.objects.create(collection=saved.collection, group=group, access=ShareAccess.RUN)


# --- Save and replay -------------------------------------------------------------------


def test_save_keeps_the_server_and_a_replay_goes_there(operation, first, second):
    ada = make_user("ada")
    saved = saved_from_try_it(ada, operation, server=str(extra(operation).pk))
    assert (saved.server, saved.server_url) == (str(extra(operation).pk), f"{second.url}/v2")
    outcome = replay.replay_saved_request(saved=saved, user=ada)
    assert outcome.passed, outcome.error
    assert [r.target for r in second.requests] == ["/v2/items/42", "/v2/items/42"]
    assert first.requests == []
    assert outcome.exchange is not None and outcome.exchange.server == str(extra(operation).pk)


def test_a_replay_to_a_removed_server_fails_and_sends_nothing(client, operation, first, second):
    ada = make_user("ada")
    saved = saved_from_try_it(ada, operation, server=str(extra(operation).pk))
    extra(operation).delete()
    client.force_login(ada)
    response = client.post(f"/saved/{saved.pk}/replay")
    assert response.status_code == 200
    message = f"This request's server {second.url}/v2 is no longer one of the API's servers."
    step = response.context["step"]
    assert (step.passed, step.error, step.exchange) == (False, message, None)
    assert message in html.unescape(response.content.decode())
    assert len(second.requests) == 1 and first.requests == []


def test_a_replay_to_a_server_the_policy_no_longer_allows_sends_nothing(
    operation, first, second, settings
):
    ada = make_user("ada")
    saved = saved_from_try_it(ada, operation, server=str(extra(operation).pk))
    settings.PORTAL_OUTBOUND_ALLOWED_NETWORKS = []
    outcome = replay.replay_saved_request(saved=saved, user=ada)
    assert outcome.error == (
        f"This request's server {second.url}/v2 is no longer one of the API's servers."
    )
    assert outcome.exchange is None and len(second.requests) == 1


def test_a_collection_run_sends_each_request_to_its_own_server(operation, first, second):
    ada = make_user("ada")
    to_second = saved_from_try_it(ada, operation, server=str(extra(operation).pk))
    to_first = saved_from_try_it(ada, operation, server="service")
    assert to_first.collection == to_second.collection
    run = replay.run_collection(collection=to_first.collection, user=ada)
    assert run.status == RunStatus.PASSED
    assert [r.target for r in first.requests] == ["/v1/items/42", "/v1/items/42"]
    assert [r.target for r in second.requests] == ["/v2/items/42", "/v2/items/42"]
    assert [step.exchange.server for step in run.steps.all()] == [
        str(extra(operation).pk),
        "service",
    ]


def test_a_request_saved_before_servers_were_replays_to_the_first(operation, first, second):
    ada = make_user("ada")
    saved = saved_from_try_it(ada, operation, server=str(extra(operation).pk))
    SavedRequest.objects.filter(pk=saved.pk).update(server="", server_url="")
    saved.refresh_from_db()
    assert replay.replay_saved_request(saved=saved, user=ada).passed
    assert [r.target for r in first.requests] == ["/v1/items/42"]


# --- On the gateway ----------------------------------------------------------------------


def test_another_server_of_an_api_on_the_gateway_is_no_gateway_call_nor_gets_the_key(
    keyed, first, second
):
    ada = make_user("ada")
    saved = saved_from_try_it(ada, keyed, server=str(extra(keyed).pk))
    values = dict(saved.values)
    values["headers"] = [*values["headers"], [KEY_HEADER, secrets.encrypt("k" * 32)]]
    SavedRequest.objects.filter(pk=saved.pk).update(values=values)
    saved.refresh_from_db()
    outcome = replay.replay_saved_request(saved=saved, user=ada)
    assert outcome.passed, outcome.error
    assert [r.header(KEY_HEADER) for r in second.requests] == [None, None]
    assert first.requests == [] and GatewayCall.objects.count() == 0


def test_the_gateway_choice_replays_through_the_gateway_and_needs_a_key(keyed, first, second):
    root = make_user("root", staff=True)
    saved = saved_from_try_it(root, keyed, server=str(extra(keyed).pk))
    SavedRequest.objects.filter(pk=saved.pk).update(server="gateway", server_url="")
    saved.refresh_from_db()
    outcome = replay.replay_saved_request(saved=saved, user=root)
    assert replay.is_gateway_refusal(outcome.error)
    assert "MissingSubscriptionKey" in outcome.error
    assert first.requests == [] and len(second.requests) == 1
    assert GatewayCall.objects.count() == 1


@pytest.fixture
def staff_service_request(keyed) -> SavedRequest:
    """A staff member's saved call to the service URL of an API on the gateway."""
    return saved_from_try_it(make_user("root", staff=True), keyed, server="service")


def test_a_group_runner_cannot_replay_a_staff_request_to_the_service_url(
    staff_service_request, first, second
):
    saved = staff_service_request
    assert saved.server == "service" and len(first.requests) == 1
    mallory = make_user("mallory")
    shared_with_runner(saved, mallory)
    client = Client()
    client.force_login(mallory)
    response = client.post(f"/saved/{saved.pk}/replay")
    text = response.content.decode()
    message = f"This request's server {HIDDEN_SERVICE_URL} is no longer one of the API's servers."
    assert response.context["step"].error == message
    assert first.url.removeprefix("http://") not in text
    assert len(first.requests) == 1 and second.requests == []
    assert Exchange.objects.filter(owner=mallory).count() == 0
    # The collection run says the same.
    run = replay.run_collection(collection=saved.collection, user=mallory)
    assert [step.error for step in run.steps.all()] == [message]
    assert len(first.requests) == 1


def test_the_saved_page_shows_the_service_url_to_staff_only(staff_service_request, first):
    saved = staff_service_request
    mallory = make_user("mallory")
    shared_with_runner(saved, mallory)
    client = Client()
    client.force_login(mallory)
    page = html.unescape(client.get(f"/saved/{saved.pk}/").content.decode())
    assert f"Sent to {HIDDEN_SERVICE_URL}" in page
    assert first.url.removeprefix("http://") not in page
    client.force_login(saved.collection.owner)
    assert f"Sent to {first.url}/v1" in client.get(f"/saved/{saved.pk}/").content.decode()


# --- Collection files ------------------------------------------------------------------


def exported_requests(collection: Collection, **kwargs) -> list[dict]:
    return yaml.safe_load(export_collection(collection=collection, **kwargs))["requests"]


def test_the_file_carries_the_server_as_its_url_and_the_import_matches_it(operation, first, second):
    ada = make_user("ada")
    saved = saved_from_try_it(ada, operation, server=str(extra(operation).pk))
    saved_from_try_it(ada, operation, server="service")
    text = export_collection(collection=saved.collection)
    requests = yaml.safe_load(text)["requests"]
    # The API's first server is the default and is not written.
    assert [r.get("server") for r in requests] == [f"{second.url}/v2", None]
    copy = import_collection(text=text, owner=make_user("bob"))
    assert [(r.server, r.server_url) for r in copy.requests.all()] == [
        (str(extra(operation).pk), f"{second.url}/v2"),
        ("", ""),
    ]


def test_the_service_url_of_an_api_on_the_gateway_is_written_for_staff_only(
    staff_service_request, first
):
    collection = staff_service_request.collection
    assert [r.get("server") for r in exported_requests(collection)] == [f"{first.url}/v1"]
    mallory = make_user("mallory")
    text = export_collection(collection=collection, viewer=mallory)
    assert first.url.removeprefix("http://") not in text
    assert "server" not in yaml.safe_load(text)["requests"][0]


def test_the_export_command_writes_the_file_for_the_user_it_is_given(staff_service_request, first):
    make_user("mallory")
    collection = staff_service_request.collection
    out = StringIO()
    call_command("export_collection", str(collection.pk), "--user", "mallory", stdout=out)
    assert first.url.removeprefix("http://") not in out.getvalue()
    out = StringIO()
    call_command("export_collection", str(collection.pk), stdout=out)
    assert f"server: {first.url}/v1" in out.getvalue()
    with pytest.raises(CommandError, match=re.escape('No user "nobody".')):
        call_command("export_collection", str(collection.pk), "--user", "nobody")


def test_a_server_that_is_not_text_is_refused(operation):
    ada = make_user("ada")
    saved = saved_from_try_it(ada, operation, server=str(extra(operation).pk))
    document = yaml.safe_load(export_collection(collection=saved.collection))
    document["requests"][0]["server"] = 5
    with pytest.raises(CollectionFileError) as caught:
        import_collection(text=yaml.safe_dump(document), owner=ada, name="Copy")
    assert caught.value.problems == [
        "requests[0].server: expected a string, got 5 (put it in quotes)"
    ]


@pytest.mark.parametrize(
    "server",
    ["https://evil.example/v2", "http://testserver/gateway/two", "", "https://x\r\nHost: y"],
)
def test_an_import_refuses_a_server_the_api_does_not_have(operation, server):
    ada = make_user("ada")
    saved = saved_from_try_it(ada, operation, server=str(extra(operation).pk))
    document = yaml.safe_load(export_collection(collection=saved.collection))
    document["requests"][0]["server"] = server
    with pytest.raises(CollectionFileError) as caught:
        import_collection(text=yaml.safe_dump(document), owner=ada, name="Copy")
    assert caught.value.problems == [
        f'requests[0].server: {json.dumps(server)} is not one of the servers of API "two"'
    ]
    assert not Collection.objects.filter(name="Copy").exists()


# --- Editing a saved request's server ------------------------------------------------------


def test_the_edit_form_changes_the_server_and_a_replay_goes_there(client, operation, first, second):
    ada = make_user("ada")
    saved = saved_from_try_it(ada, operation, server="service")
    client.force_login(ada)
    page = client.get(f"/saved/{saved.pk}/edit").content.decode()
    assert f'<option value="{extra(operation).pk}">{second.url}/v2 (Second)</option>' in page
    form = client.get(f"/saved/{saved.pk}/edit").context["form"]
    data = {name: field.initial for name, field in form.fields.items() if field.initial is not None}
    response = client.post(
        f"/saved/{saved.pk}/edit",
        {
            **data,
            "name": saved.name,
            "collection": saved.collection_id,
            "order": saved.order,
            "expected_status": saved.expected_status or "",
            "repeat_max_tries": 1,
            "repeat_delay_seconds": 0,
            "server": str(extra(operation).pk),
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    saved.refresh_from_db()
    assert (saved.server, saved.server_url) == (str(extra(operation).pk), f"{second.url}/v2")
    assert replay.replay_saved_request(saved=saved, user=ada).passed
    assert [r.target for r in second.requests] == ["/v2/items/42"]


def test_the_edit_form_refuses_a_server_not_in_its_list(client, operation, first, second):
    ada = make_user("ada")
    saved = saved_from_try_it(ada, operation, server="service")
    client.force_login(ada)
    response = client.post(
        f"/saved/{saved.pk}/edit",
        {
            "name": saved.name,
            "collection": saved.collection_id,
            "order": 0,
            "repeat_max_tries": 1,
            "repeat_delay_seconds": 0,
            "server": "http://evil.example",
        },
    )
    assert response.status_code == 200
    assert "server" in response.context["form"].errors
    saved.refresh_from_db()
    assert (saved.server, saved.server_url) == ("service", f"{first.url}/v1")


def test_a_removed_server_is_not_picked_unseen_in_the_edit_form(client, operation, first, second):
    ada = make_user("ada")
    saved = saved_from_try_it(ada, operation, server=str(extra(operation).pk))
    extra(operation).delete()
    client.force_login(ada)
    form = client.get(f"/saved/{saved.pk}/edit").context["form"]
    assert form["server"].initial == ""
    assert "the recorded one is no longer available" in str(form["server"])
