"""Saved requests keep the operation's cookie parameters (docs/design.md, "Cookies").

Saved from the history, a call keeps its cookie fields (a secret one encrypted), and a
replay sends the Cookie header Try it sent, to a scripted backend on loopback; a
{{variable}} in a cookie value is filled in. A cookie the operation does not document,
or a value RFC 6265 does not allow, fails the step, the edit form and the import with
an exact message, and sends nothing. The attacker's side: the owner, a group reader, a
group runner, another user and an anonymous visitor look at the saved request, its
export and its run results, and none of them sees the secret cookie's value.
"""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml
from bs4 import BeautifulSoup
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client

from catalog.models import Operation
from console.models import Exchange
from console.tryit import restore_values
from httpcore.masking import MASK
from openapi.sync import import_openapi
from portal import secrets
from testing import replay
from testing.collection_check import CollectionFileError
from testing.collection_export import collection_document, export_collection
from testing.collection_import import import_collection
from testing.junit import junit_xml
from testing.models import (
    Collection,
    CollectionShare,
    CollectionVariable,
    Run,
    SavedRequest,
    ShareAccess,
)
from testing.variables import names_used, substitute_values
from tests.backends import scripted_server
from tests.markup import one

pytestmark = pytest.mark.django_db

SPEC = Path(__file__).resolve().parent.parent / "specs" / "oas30-parameters.yaml"
# The security scheme's cookie (api_session): a credential by its name.
SESSION = "owner-session-5ecret-42"
# A secret collection variable, sent in a cookie whose name says nothing.
TRACE = "owner-trace-77aa99bb"
WHO = ("owner", "reader", "runner", "other", "anonymous")
RUNS = {"owner", "runner"}
READS = {"owner", "reader", "runner"}


@pytest.fixture
def documented(settings):
    """The `cookies` operation of the parameters spec, its backend a scripted server."""
    settings.PORTAL_OUTBOUND_ALLOWED_PORTS = ["*"]
    settings.PORTAL_TRY_IT_RATE_LIMIT = 10_000
    settings.PORTAL_RUNS_IN_BACKGROUND = False
    with scripted_server() as server:
        summary = import_openapi(document=yaml.safe_load(SPEC.read_text()), service_url=server.url)
        yield server, Operation.objects.get(api=summary.api, operation_id="cookies")


@pytest.fixture
def owner(django_user_model):
    return django_user_model.objects.create_user("owner")


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def save(operation: Operation, owner, cookies, **fields) -> SavedRequest:
    collection = fields.pop("collection", None) or Collection.objects.create(
        owner=owner, name="Cookies"
    )
    return SavedRequest.objects.create(
        collection=collection,
        name=fields.pop("name", "With cookies"),
        operation=operation,
        operation_label="Parameters: cookies",
        expected_status=200,
        values={"template": {}, "query": [], "headers": [], "cookies": cookies, "body": None},
        **fields,
    )


def variable(collection: Collection, name: str, value: str, *, secret: bool = False) -> None:
    CollectionVariable.objects.create(
        collection=collection,
        name=name,
        value=secrets.encrypt(value) if secret else value,
        secret=secret,
    )


def soup_of(response) -> BeautifulSoup:
    return BeautifulSoup(response.content, "html.parser")


# --- saved from the history, replayed ---------------------------------------------------


def test_a_call_saved_from_the_history_replays_the_cookie_header_try_it_sent(documented, owner):
    server, operation = documented
    client = signed_in(owner)
    client.post(
        f"/apis/{operation.api.slug}/operations/{operation.slug}/try",
        {
            "param-cookie-theme": "dark",
            "param-cookie-page_size": "20",
            "param-cookie-seen": ["7", "8"],
            "param-cookie-lang": "",
            "param-cookie-api_session": SESSION,
        },
        HTTP_HX_REQUEST="true",
    )
    exchange = Exchange.objects.get()
    client.post(
        f"/history/{exchange.pk}/save",
        {"name": "Cookies", "collection": "", "new_collection_name": "Mine"},
    )
    saved = SavedRequest.objects.get()
    *plain, (name, stored) = saved.values["cookies"]
    assert plain == [["theme", "dark"], ["page_size", "20"], ["seen", '["7", "8"]'], ["lang", ""]]
    assert name == "api_session"
    assert stored.startswith(secrets.PREFIX) and secrets.decrypt(stored) == SESSION

    replayed = client.post(f"/saved/{saved.pk}/replay")

    assert one(soup_of(replayed), "[data-outcome]").get_text(strip=True) == "PASS"
    tried, again = server.requests
    sent = f"theme=dark; page_size=20; seen=7,8; api_session={SESSION}"
    assert again.header("Cookie") == tried.header("Cookie") == sent
    assert again.header_names.count("Cookie") == 1
    last = Exchange.objects.latest("id")
    assert ["Cookie", f"theme=dark; page_size=20; seen=7,8; api_session={MASK}"] in (
        last.request_headers
    )
    assert SESSION not in json.dumps([last.values, last.request_headers])
    # The owner's own replay keeps the secret, encrypted, for their Try again.
    assert dict(restore_values(last)["cookies"])["api_session"] == SESSION


def test_variables_in_cookie_values_are_filled_in_and_secret_ones_masked(documented, owner):
    server, operation = documented
    saved = save(
        operation,
        owner,
        [["theme", "{{theme}}"], ["lang", "{{trace}}"], ["api_session", "{{session}}"]],
    )
    variable(saved.collection, "theme", "light")
    variable(saved.collection, "trace", TRACE, secret=True)
    variable(saved.collection, "session", SESSION, secret=True)

    outcome = replay.replay_saved_request(saved=saved, user=owner)

    assert (outcome.error, outcome.passed) == ("", True)
    (request,) = server.requests
    assert request.header("Cookie") == f"theme=light; lang={TRACE}; api_session={SESSION}"
    exchange = outcome.exchange
    assert exchange is not None
    assert ["Cookie", f"theme=light; lang={MASK}; api_session={MASK}"] in exchange.request_headers
    assert exchange.values["cookies"] == [["theme", "light"], ["lang", MASK], ["api_session", MASK]]
    assert TRACE not in json.dumps([exchange.values, exchange.request_headers])


@pytest.mark.parametrize(
    ("value", "sent"),
    [
        # Too short to be searched for in what is stored: masked by the cookie's name.
        ("{{pin}}", "123"),
        # Stored encrypted under a name that says nothing (marked secret when saved).
        (secrets.encrypt("plain-name-secret"), "plain-name-secret"),
    ],
    ids=["short-secret-variable", "stored-encrypted"],
)
def test_a_cookie_secret_by_its_source_is_masked_in_the_history(documented, owner, value, sent):
    server, operation = documented
    saved = save(operation, owner, [["theme", "dark"], ["lang", value]])
    variable(saved.collection, "pin", "123", secret=True)

    outcome = replay.replay_saved_request(saved=saved, user=owner)

    (request,) = server.requests
    assert request.header("Cookie") == f"theme=dark; lang={sent}"
    exchange = outcome.exchange
    assert exchange is not None
    assert ["Cookie", f"theme=dark; lang={MASK}"] in exchange.request_headers
    assert exchange.values["cookies"] == [["theme", "dark"], ["lang", MASK]]


def test_substitute_values_fills_cookie_values_and_keeps_their_names():
    values = {"cookies": [["theme", "{{t}}"], ["{{n}}", "x"]]}
    assert substitute_values(values, {"t": "dark", "n": "lang"})["cookies"] == [
        ["theme", "dark"],
        ["{{n}}", "x"],
    ]
    assert names_used(values) == {"t"}


@pytest.mark.parametrize(
    ("cookies", "message"),
    [
        (
            [["theme", "dark"], ["tracking", "1"]],
            "tracking: The operation has no cookie parameter 'tracking'.",
        ),
        ([["lang", "{{spaced}}"]], "lang: A cookie value cannot contain spaces."),
        ([["lang", "café"]], "lang: A cookie value must be ASCII."),
        ([["lang", "a;b"]], "lang: A cookie value cannot contain ';' (RFC 6265 cookie-octets)."),
        ([["lang", "{{nope}}"]], "Variable {{nope}} is not defined."),
        (
            [["api_session", secrets.PREFIX + "not-a-token"]],
            "The stored value of the cookie api_session cannot be read (the encryption key "
            "has changed); enter it again.",
        ),
        (
            "theme=dark",
            "The saved values are not valid: cookies must be a list of [name, value] strings.",
        ),
        (
            [["theme", 1]],
            "The saved values are not valid: cookies must be a list of [name, value] strings.",
        ),
    ],
    ids=[
        "undocumented",
        "space",
        "non-ascii",
        "semicolon",
        "undefined",
        "unreadable",
        "shape",
        "number",
    ],
)
def test_a_cookie_that_cannot_be_sent_fails_the_step_and_sends_nothing(
    documented, owner, cookies, message
):
    server, operation = documented
    saved = save(operation, owner, cookies)
    variable(saved.collection, "spaced", "a b")

    outcome = replay.replay_saved_request(saved=saved, user=owner)

    assert (outcome.error, outcome.passed) == (message, False)
    assert server.requests == []
    assert Exchange.objects.count() == 0


# --- the edit form --------------------------------------------------------------------


def edit_data(client: Client, saved: SavedRequest) -> dict[str, list[str]]:
    """What the browser would post from the edit form, untouched."""
    form = soup_of(client.get(f"/saved/{saved.pk}/edit")).select_one("main form[method=post]")
    assert form is not None
    data: dict[str, list[str]] = {}
    for field in form.select("input[name], textarea[name], select[name]"):
        if field.name == "textarea":
            value = field.get_text().removeprefix("\n")
        elif field.name == "select":
            chosen = field.select_one("option[selected]") or field.select_one("option")
            value = str(chosen.get("value", "")) if chosen else ""
        else:
            value = str(field.get("value", ""))
        data.setdefault(str(field["name"]), []).append(value)
    return data


def test_the_edit_form_shows_a_secret_cookie_masked_and_keeps_it(documented, owner):
    _, operation = documented
    token = secrets.encrypt(SESSION)
    saved = save(operation, owner, [["theme", "dark"], ["api_session", token]])
    client = signed_in(owner)
    data = edit_data(client, saved)
    assert data["cookies_text"] == [f"theme=dark\napi_session={MASK}"]
    assert SESSION not in client.get(f"/saved/{saved.pk}/edit").content.decode()

    response = client.post(f"/saved/{saved.pk}/edit", data)

    assert response.status_code == 302
    saved.refresh_from_db()
    assert saved.values["cookies"] == [["theme", "dark"], ["api_session", token]]
    # A value typed anew is encrypted.
    data["cookies_text"] = ["theme = light\napi_session=new-session-value-1"]
    assert client.post(f"/saved/{saved.pk}/edit", data).status_code == 302
    saved.refresh_from_db()
    (theme, (name, stored)) = saved.values["cookies"]
    assert theme == ["theme", "light"] and name == "api_session"
    assert secrets.decrypt(stored) == "new-session-value-1"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("theme dark", "Line 1: write cookies as “name=value”."),
        ("theme=dark\n\n=1", "Line 3: write cookies as “name=value”."),
        ("tracking=1", "tracking: The operation has no cookie parameter 'tracking'."),
        ("bad name=1", "bad name: The cookie name 'bad name' is not a token."),
        ("lang=a b", "lang: A cookie value cannot contain spaces."),
        ("lang=a\\b", "lang: A cookie value cannot contain '\\\\' (RFC 6265 cookie-octets)."),
        ('seen=["1", "a b"]', "seen: A cookie value cannot contain spaces."),
        ("lang=é", "lang: A cookie value must be ASCII."),
        (
            f"lang={MASK}",
            f"lang: {MASK} keeps a stored secret, and lang has none: type its value.",
        ),
    ],
)
def test_the_edit_form_refuses_a_cookie_that_cannot_be_sent(documented, owner, text, error):
    _, operation = documented
    saved = save(operation, owner, [["theme", "dark"]])
    client = signed_in(owner)
    data = {**edit_data(client, saved), "cookies_text": [text]}

    response = client.post(f"/saved/{saved.pk}/edit", data)

    assert response.status_code == 200
    assert response.context["form"].errors["cookies_text"] == [error]
    saved.refresh_from_db()
    assert saved.values["cookies"] == [["theme", "dark"]]


def test_a_variable_in_a_cookie_value_passes_the_edit_form(documented, owner):
    _, operation = documented
    saved = save(operation, owner, [])
    client = signed_in(owner)
    data = {**edit_data(client, saved), "cookies_text": ["lang={{lang}}"]}
    assert client.post(f"/saved/{saved.pk}/edit", data).status_code == 302
    saved.refresh_from_db()
    assert saved.values["cookies"] == [["lang", "{{lang}}"]]


# --- collection files -----------------------------------------------------------------


def test_the_export_writes_cookies_as_pairs_and_a_secret_one_as_a_variable(documented, owner):
    _, operation = documented
    saved = save(
        operation,
        owner,
        [["theme", "dark"], ["api_session", secrets.encrypt(SESSION)], ["lang", "{{trace}}"]],
    )
    variable(saved.collection, "trace", TRACE, secret=True)

    document = collection_document(collection=saved.collection)

    (request,) = document["requests"]
    assert request["cookies"] == [
        ["theme", "dark"],
        ["api_session", "{{api_session}}"],
        ["lang", "{{trace}}"],
    ]
    assert list(request) == [
        "name",
        "operation",
        "template",
        "query",
        "headers",
        "cookies",
        "body",
        "expect",
    ]
    assert document["variables"] == [
        {"name": "api_session", "secret": True},
        {"name": "trace", "secret": True},
    ]
    text = export_collection(collection=saved.collection)
    assert "- [theme, dark]" in text
    assert SESSION not in text and TRACE not in text
    # Imported, it needs the secret filled in, as any exported secret.
    copy = import_collection(text=text, owner=owner)
    assert copy.requests.get().values["cookies"] == request["cookies"]
    assert export_collection(collection=copy) == text.replace("Cookies", "Cookies (2)", 1)


def test_a_request_without_cookies_is_exported_as_before(documented, owner):
    _, operation = documented
    saved = save(operation, owner, [])
    (request,) = collection_document(collection=saved.collection)["requests"]
    assert "cookies" not in request
    copy = import_collection(text=export_collection(collection=saved.collection), owner=owner)
    assert "cookies" not in copy.requests.get().values


def file_with(operation: Operation, cookies, **variables) -> str:
    return json.dumps(
        {
            "portal_collection": 1,
            "name": "From a file",
            "variables": [{"name": k, "value": v} for k, v in variables.items()],
            "requests": [
                {
                    "name": "With cookies",
                    "operation": {"api": operation.api.slug, "operation": operation.slug},
                    "cookies": cookies,
                }
            ],
        }
    )


def test_an_imported_literal_secret_cookie_is_stored_encrypted_and_sent(documented, owner):
    server, operation = documented
    collection = import_collection(
        text=file_with(operation, [["theme", "{{t}}"], ["api_session", SESSION]], t="light"),
        owner=owner,
    )
    saved = collection.requests.get()
    theme, (name, stored) = saved.values["cookies"]
    assert theme == ["theme", "{{t}}"] and name == "api_session"
    assert stored.startswith(secrets.PREFIX) and secrets.decrypt(stored) == SESSION

    assert replay.replay_saved_request(saved=saved, user=owner).error == ""
    (request,) = server.requests
    assert request.header("Cookie") == f"theme=light; api_session={SESSION}"


@pytest.mark.parametrize(
    ("cookies", "problem"),
    [
        (
            [["theme", "dark"], ["tracking", "1"]],
            'requests[0].cookies[1]: operation "cookies" has no cookie parameter "tracking"',
        ),
        (
            [["lang", "a b"]],
            "requests[0].cookies[0]: A cookie value cannot contain spaces; it cannot be sent",
        ),
        (
            [["lang", 'say"hi"']],
            "requests[0].cookies[0]: A cookie value cannot contain '\"' (RFC 6265 "
            "cookie-octets); it cannot be sent",
        ),
        (
            [["lang", "x,y"]],
            "requests[0].cookies[0]: A cookie value cannot contain ',' (RFC 6265 "
            "cookie-octets); it cannot be sent",
        ),
        (
            [["lang", "{{nope}}"]],
            'requests[0].cookies[0][1]: unknown variable "nope": define it under variables or '
            "extract it from a request",
        ),
        ("theme=dark", 'requests[0].cookies: expected a list, got "theme=dark"'),
        ([["theme"]], "requests[0].cookies[0]: expected a [name, value] pair, got a list"),
    ],
    ids=["undocumented", "space", "quote", "comma", "undefined", "not-a-list", "not-a-pair"],
)
def test_an_import_refuses_a_cookie_that_cannot_be_sent(documented, owner, cookies, problem):
    _, operation = documented
    with pytest.raises(CollectionFileError) as caught:
        import_collection(text=file_with(operation, cookies), owner=owner)
    assert caught.value.problems == [problem]
    assert not Collection.objects.exists()


# --- who sees what: a saved request with a secret cookie -----------------------------


class Shared:
    """The owner's collection, shared with a reading and a running group; its request
    sends the owner's session cookie and a secret variable in another cookie."""

    def __init__(self, operation: Operation, django_user_model) -> None:
        self.users = {
            name: django_user_model.objects.create_user(name)
            for name in ("owner", "reader", "runner", "other")
        }
        readers = Group.objects.create(name="readers")
        runners = Group.objects.create(name="runners")
        self.users["reader"].groups.add(readers)
        self.users["runner"].groups.add(runners)
        self.collection = Collection.objects.create(owner=self.users["owner"], name="Shared")
        variable(self.collection, "trace", TRACE, secret=True)
        CollectionShare.objects.create(
            collection=self.collection, group=readers, access=ShareAccess.READ
        )
        CollectionShare.objects.create(
            collection=self.collection, group=runners, access=ShareAccess.RUN
        )
        self.saved = save(
            operation,
            self.users["owner"],
            [["theme", "dark"], ["api_session", secrets.encrypt(SESSION)], ["lang", "{{trace}}"]],
            collection=self.collection,
        )
        self.owner_run = replay.run_collection(collection=self.collection, user=self.users["owner"])

    def client(self, who: str) -> Client:
        return Client() if who == "anonymous" else signed_in(self.users[who])


def leaks(texts: list[str]) -> list[tuple[int, str]]:
    return [
        (index, secret)
        for index, text in enumerate(texts)
        for secret in (SESSION, TRACE)
        if secret in text or quote(secret, safe="") in text
    ]


@pytest.mark.parametrize("who", WHO)
def test_nobody_sees_the_secret_cookie(who: str, documented, django_user_model, tmp_path):
    server, operation = documented
    shared = Shared(operation, django_user_model)
    client, user = shared.client(who), shared.users.get(who)
    seen: list[str] = []

    def get(url: str):
        response = client.get(url)
        seen.append(response.content.decode())
        return response

    page = get(f"/saved/{shared.saved.pk}/")
    run_page = get(f"/runs/{shared.owner_run.pk}/")
    seen.append(junit_xml(runs=[shared.owner_run]))
    if user is not None:
        seen.append(export_collection(collection=shared.collection, viewer=user))
        seen.append(export_collection(collection=shared.collection, format="json", viewer=user))
    ran = client.post(f"/collections/{shared.collection.pk}/run", follow=True)
    seen.append(ran.content.decode())

    if who in READS:
        assert (page.status_code, run_page.status_code) == (200, 200)
        rows = {
            row["data-cookie"]: one(row, "td").get_text(strip=True)
            for row in soup_of(page).select("table.saved-values tr[data-cookie]")
        }
        assert rows == {"theme": "dark", "api_session": MASK, "lang": "{{trace}}"}
    else:
        expected = 302 if who == "anonymous" else 404
        assert (page.status_code, run_page.status_code) == (expected, expected)
    if who in RUNS:
        run = Run.objects.latest("id")
        assert ran.redirect_chain[-1][0] == f"/runs/{run.pk}/"
        # Sent with the owner's secrets: the backend got them, the caller does not.
        assert server.requests[-1].header("Cookie") == (
            f"theme=dark; api_session={SESSION}; lang={TRACE}"
        )
        seen.append(junit_xml(runs=[run]))
        log, report = StringIO(), tmp_path / "report.xml"
        call_command(
            "replay", "Shared", "--user", who, "--junit", str(report), stdout=log, stderr=log
        )
        seen += [log.getvalue(), report.read_text()]
        for exchange in Exchange.objects.filter(owner=user):
            get(f"/history/{exchange.pk}/")
            seen.append(json.dumps([exchange.values, exchange.request_headers]))
        get("/history/")
    else:
        assert len(server.requests) == 1  # the owner's run in the fixture, and no other
    if who == "runner":
        [exchange, *_] = Exchange.objects.filter(owner=user)
        assert exchange.secrets_withheld
        assert dict(restore_values(exchange)["cookies"]) == {
            "theme": "dark",
            "api_session": "",
            "lang": "",
        }

    assert leaks(seen) == []
