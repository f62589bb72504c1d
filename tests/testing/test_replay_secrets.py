"""Whose secrets a replay keeps: a call made with another user's secrets never stores,
shows or restores them to the caller.

The attack: a member of a group that the owner's collection is shared with for running
replays the owner's saved request (or runs the collection), opens the call in their own
History and presses Try again or Save, copies a share link, reveals the code samples,
exports what they saved. The owner's secrets (the subscription key, the Authorization
value, a secret header, a secret collection variable) must show up in none of the pages,
form values, share links, samples and exports, nor in any stored row the caller can
reach. The owner's own Try again still gets them back.

The backend is a scripted server on loopback; the API is behind the gateway, so the
saved request's key header row holds the owner's subscription key.
"""

from __future__ import annotations

import importlib
import json
from io import StringIO
from urllib.parse import quote

import pytest
from bs4 import BeautifulSoup
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client

from catalog.models import Api, Operation
from catalog.registration import create_missing_template_parameters
from console.models import Exchange
from console.tryit import restore_values
from gateway.models import GatewayCall
from portal import secrets
from testing import preparation, replay
from testing.models import (
    Collection,
    CollectionShare,
    CollectionVariable,
    Run,
    RunStep,
    SavedRequest,
    ShareAccess,
)
from tests.backends import reply_with, scripted_server
from tests.factories import make_product, make_subscription, make_user
from tests.markup import attr, one

pytestmark = pytest.mark.django_db

KEY_HEADER = "Ocp-Apim-Subscription-Key"
BEARER = "owner-bearer-token-1234abcd"
API_KEY = "owner-api-key-5678efgh"
VARIABLE = "owner-variable-secret-9012"
OPERATION_PAGE = "/apis/scripted/operations/item/"
WHO = ("owner", "reader", "runner", "other", "anonymous", "staff")
# Who may replay and run the collection: the owner and the group runner.
RUNS = {"owner", "runner"}


@pytest.fixture(autouse=True)
def runs_within_the_post(settings):
    settings.PORTAL_RUNS_IN_BACKGROUND = False


@pytest.fixture
def backend():
    answer = reply_with(200, headers=[("Content-Type", "application/json")], body=b'{"ok": 1}')
    with scripted_server(answer) as server:
        yield server


class Shared:
    """The owner's collection, shared with a reading and a running group."""

    def __init__(self, backend) -> None:
        self.users = {
            name: make_user(name, staff=name == "staff")
            for name in ("owner", "reader", "runner", "other", "staff")
        }
        readers, runners = (
            Group.objects.create(name="readers"),
            Group.objects.create(name="runners"),
        )
        self.users["reader"].groups.add(readers)
        self.users["runner"].groups.add(runners)
        api = Api.objects.create(
            name="Scripted",
            slug="scripted",
            url_suffix="scripted/v1",
            service_url=f"{backend.url}/base",
        )
        self.operation = Operation.objects.create(
            api=api, name="Item", slug="item", method="GET", url_template="/items/{item}"
        )
        create_missing_template_parameters(operation=self.operation)
        product = make_product(api, slug="starter")
        self.key = make_subscription(user=self.users["owner"], product=product).key("primary")
        self.collection = Collection.objects.create(owner=self.users["owner"], name="Shared")
        CollectionVariable.objects.create(
            collection=self.collection, name="trace", value=secrets.encrypt(VARIABLE), secret=True
        )
        CollectionShare.objects.create(
            collection=self.collection, group=readers, access=ShareAccess.READ
        )
        CollectionShare.objects.create(
            collection=self.collection, group=runners, access=ShareAccess.RUN
        )
        self.saved = SavedRequest.objects.create(
            collection=self.collection,
            name="Get item",
            operation=self.operation,
            operation_label="Scripted: Item",
            expected_status=200,
            values={
                "template": {"item": "42"},
                "query": [],
                "headers": [
                    ["Accept", "application/json"],
                    [KEY_HEADER, secrets.encrypt(self.key)],
                    ["Authorization", secrets.encrypt(f"Bearer {BEARER}")],
                    ["Api-Key", secrets.encrypt(API_KEY)],
                    ["X-Trace", "{{trace}}"],
                ],
                "body": None,
            },
        )
        # The owner's own run, which readers may look at.
        self.owner_run = replay.run_collection(collection=self.collection, user=self.users["owner"])

    @property
    def secrets(self) -> list[str]:
        return [self.key, BEARER, API_KEY, VARIABLE]

    def client(self, who: str) -> Client:
        client = Client()
        if who != "anonymous":
            client.force_login(self.users[who])
        return client


@pytest.fixture
def shared(backend) -> Shared:
    return Shared(backend)


def soup_of(response) -> BeautifulSoup:
    return BeautifulSoup(response.content, "html.parser")


def try_it_form(response) -> dict[str, list[str]]:
    """What the browser would post from the Try it form, untouched."""
    form = soup_of(response).select_one("#try-it form")
    assert form is not None
    data: dict[str, list[str]] = {}
    for field in form.select("input[name], textarea[name], select[name]"):
        if field.name == "textarea":
            value = field.get_text().removeprefix("\n")
        elif field.name == "select":
            chosen = field.select_one("option[selected]") or field.select_one("option")
            value = attr(chosen, "value", "") if chosen else ""
        else:
            value = attr(field, "value", "")
        data.setdefault(attr(field, "name"), []).append(value)
    return data


def header_inputs(response) -> dict[str, str]:
    """The Try it form's header rows: name -> the value input's value."""
    rows = {}
    for row in soup_of(response).select("#try-it .header-row"):
        name = attr(one(row, "input[name=header_name]"), "value", "")
        if name:
            rows[name] = attr(one(row, "input[name=header_value]"), "value", "")
    return rows


def leaks(texts: list[str], owner_secrets: list[str]) -> list[tuple[int, str]]:
    return [
        (index, secret)
        for index, text in enumerate(texts)
        for secret in owner_secrets
        if secret in text or quote(secret, safe="") in text
    ]


def rows_reachable_by(user) -> list[str]:
    """Every stored row the user reaches (their history, their collections, the steps and
    gateway calls of their runs), with encrypted fields decrypted."""
    texts = []
    for exchange in Exchange.objects.filter(owner=user):
        texts.append(
            json.dumps(
                [
                    exchange.url,
                    exchange.values,
                    exchange.request_headers,
                    exchange.request_body,
                    exchange.response_headers,
                    exchange.error_message,
                    secrets.decrypt_json(exchange.secret_values, default={}),
                ]
            )
        )
    for saved in SavedRequest.objects.filter(collection__owner=user):
        texts.append(json.dumps(preparation.saved_values(saved)))
    for step in RunStep.objects.filter(run__started_by=user):
        texts.append(json.dumps([step.check_results, step.error, step.diff]))
    for call in GatewayCall.objects.filter(user=user):
        texts.append(json.dumps([call.path, call.error_kind]))
    return texts


@pytest.mark.parametrize("who", WHO)
def test_nobody_but_the_owner_gets_the_owners_secrets(who: str, shared: Shared, backend):
    client = shared.client(who)
    user = shared.users.get(who)
    seen: list[str] = []

    def get(url: str, **kwargs):
        response = client.get(url, **kwargs)
        seen.append(response.content.decode("utf-8", "replace"))
        return response

    def post(url: str, data=None, **kwargs):
        response = client.post(url, data or {}, **kwargs)
        seen.append(response.content.decode("utf-8", "replace"))
        return response

    before = Exchange.objects.count()
    replayed = post(f"/saved/{shared.saved.pk}/replay")
    ran = post(f"/collections/{shared.collection.pk}/run", follow=True)
    for url in (
        "/history/",
        "/saved/",
        f"/saved/{shared.saved.pk}/",
        f"/collections/{shared.collection.pk}/",
        f"/runs/{shared.owner_run.pk}/",
    ):
        get(url)

    if who not in RUNS:
        assert replayed.status_code == (302 if who == "anonymous" else 404)
        assert Exchange.objects.count() == before
        assert len(backend.requests) == 1  # the owner's run in the fixture, and no other
    else:
        assert one(soup_of(replayed), "[data-outcome]").get_text(strip=True) == "PASS"
        assert ran.redirect_chain[-1][0] == f"/runs/{Run.objects.latest('id').pk}/"
        # The calls were made with the owner's secrets: the backend got them.
        assert backend.requests[-1].header("Authorization") == f"Bearer {BEARER}"
        assert backend.requests[-1].header("X-Trace") == VARIABLE
        mine = list(Exchange.objects.filter(owner=user))
        assert len(mine) == (2 if who == "runner" else 3)
        for exchange in mine:
            get(f"/history/{exchange.pk}/")
            again = get(f"{OPERATION_PAGE}?from={exchange.pk}")
            form = try_it_form(again)
            # The share link and the samples with "Show secrets" for the form as filled in.
            post(f"{OPERATION_PAGE}samples", form)
            post(f"{OPERATION_PAGE}samples", {**form, "reveal": "1"})
            get(f"/history/{exchange.pk}/save")
        saved = post(
            f"/history/{mine[0].pk}/save",
            {"name": "Mine now", "collection": "", "new_collection_name": f"{who}'s"},
            follow=True,
        )
        copy = SavedRequest.objects.get(name="Mine now")
        assert saved.redirect_chain[-1][0] == copy.get_absolute_url()
        get(f"/saved/{copy.pk}/edit")
        export = StringIO()
        call_command("export_collection", str(copy.collection.pk), stdout=export)
        seen.append(export.getvalue())

    if who == "staff":
        # The admin lists the calls (of everyone) without their encrypted secrets.
        for exchange in Exchange.objects.all():
            page = get(f"/admin/operations/exchange/{exchange.pk}/change/")
            assert page.status_code == 200
            assert exchange.secret_values == "" or exchange.secret_values not in seen[-1]

    texts = seen + (rows_reachable_by(user) if user is not None else [])
    if who != "owner":
        assert leaks(texts, shared.secrets) == []

    if who == "runner":
        [exchange, *_] = Exchange.objects.filter(owner=user)
        assert exchange.secrets_withheld and exchange.secret_values == ""
        again = client.get(f"{OPERATION_PAGE}?from={exchange.pk}")
        # Try again leaves the owner's secrets empty, and says why.
        inputs = header_inputs(again)
        assert (inputs[KEY_HEADER], inputs["Authorization"], inputs["Api-Key"]) == ("", "", "")
        assert inputs["X-Trace"] == ""
        assert inputs["Accept"] == "application/json"
        note = one(soup_of(again), "[data-secrets-withheld]")
        assert " ".join(note.get_text().split()) == (
            f"The secret values of this call ({KEY_HEADER}, Authorization, Api-Key, X-Trace) "
            "were not copied: it was made with the secrets of the collection's owner. "
            "Fill in your own."
        )
        save_page = soup_of(client.get(f"/history/{exchange.pk}/save"))
        assert "The saved request gets them empty" in one(
            save_page, "[data-secrets-withheld]"
        ).get_text(" ")
        # The saved copy has the secret fields empty.
        copy = SavedRequest.objects.get(name="Mine now")
        headers = dict(copy.values["headers"])
        assert (headers[KEY_HEADER], headers["Authorization"], headers["Api-Key"]) == ("", "", "")
        assert headers["X-Trace"] == ""


def test_the_owner_gets_their_secrets_back_on_their_own_try_again(shared: Shared):
    owner = shared.client("owner")
    assert owner.post(f"/saved/{shared.saved.pk}/replay").status_code == 200
    exchange = Exchange.objects.filter(owner=shared.users["owner"]).latest("id")
    assert not exchange.secrets_withheld

    again = owner.get(f"{OPERATION_PAGE}?from={exchange.pk}")

    inputs = header_inputs(again)
    assert inputs[KEY_HEADER] == shared.key
    assert inputs["Authorization"] == f"Bearer {BEARER}"
    assert inputs["Api-Key"] == API_KEY
    assert inputs["X-Trace"] == VARIABLE
    assert soup_of(again).select_one("[data-secrets-withheld]") is None
    # Saved again, the copy keeps them encrypted.
    owner.post(
        f"/history/{exchange.pk}/save",
        {"name": "Copy", "collection": "", "new_collection_name": "Mine"},
    )
    copy = SavedRequest.objects.get(name="Copy")
    assert dict(preparation.saved_values(copy)["headers"])["Authorization"] == f"Bearer {BEARER}"
    assert dict(copy.values["headers"])["Authorization"].startswith(secrets.PREFIX)


def test_a_run_from_the_command_line_as_a_runner_keeps_no_secrets(shared: Shared):
    call_command("replay", "Shared", "--user", "runner", stdout=StringIO())

    [exchange] = Exchange.objects.filter(owner=shared.users["runner"])
    assert exchange.secrets_withheld
    assert exchange.secret_values == ""
    restored = restore_values(exchange)
    assert dict(restored["headers"]) == {
        "Accept": "application/json",
        KEY_HEADER: "",
        "Authorization": "",
        "Api-Key": "",
        "X-Trace": "",
    }
    # As the owner (the default), the call keeps them for its Save and Try again.
    call_command("replay", "Shared", stdout=StringIO())
    latest = Exchange.objects.filter(owner=shared.users["owner"]).latest("id")
    assert dict(restore_values(latest)["headers"])["Api-Key"] == API_KEY


def test_calls_recorded_before_by_a_runner_lose_the_owners_secrets(shared: Shared):
    """The migration that adds the mark withholds the secrets of earlier runners' calls."""
    from django.apps import apps

    migration = importlib.import_module("catalog.migrations.0006_exchange_secrets_withheld")
    runner = shared.users["runner"]
    replay.run_saved_request(saved=shared.saved, user=runner)
    theirs = Exchange.objects.get(owner=runner)
    # As such a call was kept before: the owner's secrets encrypted beside the masked ones.
    Exchange.objects.filter(pk=theirs.pk).update(
        secrets_withheld=False,
        secret_values=secrets.encrypt_json({"headers": {"Api-Key": API_KEY}}),
    )
    mine = Exchange.objects.get(owner=shared.users["owner"])
    kept = mine.secret_values

    migration.withhold_earlier_replays(apps, None)

    theirs.refresh_from_db()
    mine.refresh_from_db()
    assert (theirs.secrets_withheld, theirs.secret_values) == (True, "")
    assert dict(restore_values(theirs)["headers"])["Api-Key"] == ""
    assert (mine.secrets_withheld, mine.secret_values) == (False, kept)
    assert dict(restore_values(mine)["headers"])["Api-Key"] == API_KEY
