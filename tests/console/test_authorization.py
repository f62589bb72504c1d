"""Authorize: the API's schemes, the held credentials (per session, encrypted) and how
they are applied to a Try it call (console/authorization.py, console/authorize_views.py)."""

from __future__ import annotations

import base64
import json
import time

import pytest
from bs4 import BeautifulSoup
from django.test import Client

from catalog.models import Api, Operation, Parameter, ParameterLocation
from console import authorization
from console.authorization import Held, apply_credentials
from console.forms import TryItValues
from console.models import Exchange
from tests.backends import reply_with, scripted_server
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db

SCHEMES = {
    "key": {"type": "apiKey", "in": "header", "name": "X-Client"},
    "qkey": {"type": "apiKey", "in": "query", "name": "code"},
    "cookie": {"type": "apiKey", "in": "cookie", "name": "sid"},
    "basic": {"type": "http", "scheme": "basic"},
    "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
    "digest": {"type": "http", "scheme": "digest"},
    "oauth": {
        "type": "oauth2",
        "flows": {
            "clientCredentials": {"tokenUrl": "/token", "scopes": {"read": "Read"}},
            "implicit": {"authorizationUrl": "/a", "scopes": {}},
        },
    },
}


def make_operation(
    security: list, *, service_url: str = "http://127.0.0.1:9", slug: str = "secured"
) -> Operation:
    api = Api.objects.create(
        name="Secured",
        slug=slug,
        service_url=service_url,
        published=True,
        openapi={"openapi": "3.1.0", "components": {"schemas": {}, "securitySchemes": SCHEMES}},
    )
    return Operation.objects.create(
        api=api,
        name="Item",
        slug="item",
        method="GET",
        url_template="/items",
        openapi={"parameters": [], "responses": {}, "security": security},
    )


def held(**entries: dict) -> dict[str, Held]:
    return {name: Held(scheme=name, data=data) for name, data in entries.items()}


KEY = {"value": "k-123"}
BASIC = {"username": "ada", "password": "pw"}
BEARER = {"token": "t-456"}


# --- reading the schemes --------------------------------------------------------------


def test_schemes_are_read_from_the_documented_definitions():
    operation = make_operation([])
    schemes = {s.name: s for s in authorization.schemes_of(operation.api)}
    assert (schemes["key"].kind, schemes["key"].key_in, schemes["key"].key_name) == (
        "apiKey",
        "header",
        "X-Client",
    )
    assert schemes["basic"].kind == "basic" and schemes["bearer"].kind == "bearer"
    assert schemes["cookie"].sendable is True
    assert schemes["digest"].kind == "" and schemes["digest"].sendable is False
    # Only the flows the console can run: implicit is left out.
    assert [f.kind for f in schemes["oauth"].flows] == ["clientCredentials"]
    assert schemes["oauth"].flows[0].scopes == (("read", "Read"),)


def test_an_api_without_definitions_has_no_schemes():
    api = Api.objects.create(name="Bare", slug="bare", service_url="http://127.0.0.1:9")
    assert authorization.schemes_of(api) == []


# --- requirement matching ---------------------------------------------------------------


def test_the_first_alternative_the_held_credentials_satisfy_is_applied():
    operation = make_operation([{"bearer": []}, {"key": []}])
    applied = apply_credentials(operation=operation, values=TryItValues(), held=held(key=KEY))
    assert applied.values.headers == [("X-Client", "k-123")]
    assert applied.schemes == ("key",)
    # Both held: the first alternative wins.
    applied = apply_credentials(
        operation=operation, values=TryItValues(), held=held(key=KEY, bearer=BEARER)
    )
    assert applied.values.headers == [("Authorization", "Bearer t-456")]


def test_and_needs_every_scheme_of_the_requirement():
    operation = make_operation([{"key": [], "qkey": []}])
    only_one = apply_credentials(operation=operation, values=TryItValues(), held=held(key=KEY))
    assert only_one.values == TryItValues() and only_one.schemes == ()
    both = apply_credentials(
        operation=operation, values=TryItValues(), held=held(key=KEY, qkey={"value": "q"})
    )
    assert both.values.headers == [("X-Client", "k-123")]
    assert both.values.query_values == [("code", "q")]
    assert both.secret_names == frozenset({"x-client", "code"})


def test_basic_is_sent_as_base64_of_user_and_password():
    operation = make_operation([{"basic": []}])
    applied = apply_credentials(operation=operation, values=TryItValues(), held=held(basic=BASIC))
    assert applied.values.headers == [
        ("Authorization", "Basic " + base64.b64encode(b"ada:pw").decode())
    ]


def test_nothing_held_nothing_applied():
    operation = make_operation([{"key": []}])
    values = TryItValues(headers=[("Accept", "application/json")])
    assert apply_credentials(operation=operation, values=values, held={}).values is values
    other = apply_credentials(operation=operation, values=values, held=held(bearer=BEARER))
    assert other.values is values


def test_a_requirement_of_nothing_first_means_nothing_is_sent():
    operation = make_operation([{}, {"key": []}])
    applied = apply_credentials(operation=operation, values=TryItValues(), held=held(key=KEY))
    assert applied.values.headers == []


def test_a_cookie_key_joins_the_cookies_and_is_masked_by_name():
    operation = make_operation([{"cookie": []}])
    values = TryItValues(cookies=[("theme", "dark")])
    applied = apply_credentials(
        operation=operation, values=values, held=held(cookie={"value": "s"})
    )
    assert applied.values.headers == [] and applied.schemes == ("cookie",)
    assert applied.values.cookies == [("theme", "dark"), ("sid", "s")]
    assert applied.secret_names == frozenset({"sid"})


def test_an_expired_token_is_not_applied():
    operation = make_operation([{"oauth": []}])
    expired = {"access_token": "old", "expires_at": time.time() - 5}
    fresh = {"access_token": "new", "expires_at": time.time() + 600}
    assert (
        apply_credentials(
            operation=operation, values=TryItValues(), held=held(oauth=expired)
        ).values.headers
        == []
    )
    assert apply_credentials(
        operation=operation, values=TryItValues(), held=held(oauth=fresh)
    ).values.headers == [("Authorization", "Bearer new")]


def test_a_value_filled_by_hand_wins_over_the_held_one():
    operation = make_operation([{"bearer": [], "qkey": []}])
    values = TryItValues(
        headers=[("authorization", "Bearer typed")], query_values=[("code", "typed-q")]
    )
    applied = apply_credentials(
        operation=operation, values=values, held=held(bearer=BEARER, qkey={"value": "held-q"})
    )
    assert applied.values.headers == [("authorization", "Bearer typed")]
    assert applied.values.query_values == [("code", "typed-q")]


@pytest.mark.parametrize("left", ["", "  ", "Bearer ", "Bearer", "basic"])
def test_an_empty_or_scheme_only_row_is_filled_by_the_held_credential(left):
    operation = make_operation([{"bearer": []}])
    values = TryItValues(headers=[("Authorization", left)], query_values=[])
    applied = apply_credentials(operation=operation, values=values, held=held(bearer=BEARER))
    assert applied.values.headers == [("Authorization", "Bearer t-456")]


def test_a_stored_default_gives_way_to_the_held_credential():
    operation = make_operation([{"key": []}])
    values = TryItValues(headers=[("X-Client", "stored")], stored={"headers": ["X-Client"]})
    applied = apply_credentials(operation=operation, values=values, held=held(key=KEY))
    assert applied.values.headers == [("X-Client", "k-123")]


# --- the dialog's endpoints and the session store --------------------------------------


def authorize(client: Client, operation: Operation, **fields: str):
    next_url = f"/apis/{operation.api.slug}/operations/{operation.slug}/"
    return client.post(
        f"/apis/{operation.api.slug}/authorize", {"next": next_url, **fields}, follow=True
    )


def notice_of(response) -> str:
    soup = BeautifulSoup(response.content, "html.parser")
    found = soup.select_one("[data-authorize-notice]")
    return found.get_text(strip=True) if found else ""


def test_the_dialog_lists_the_schemes_on_the_operation_and_api_pages(client):
    operation = make_operation([{"key": []}])
    for url in (f"/apis/{operation.api.slug}/operations/item/", f"/apis/{operation.api.slug}/"):
        soup = BeautifulSoup(client.get(url).content, "html.parser")
        dialog = soup.select_one("dialog#authorize")
        assert dialog is not None
        assert [s["data-scheme"] for s in dialog.select("section")] == list(SCHEMES)
        assert dialog.select_one("[data-scheme=cookie] [data-not-sendable]") is None
        assert soup.select_one("a[data-authorize-open]").get_text() == "Authorize"


def test_no_schemes_no_button(client):
    Api.objects.create(name="Bare", slug="bare", service_url="http://127.0.0.1:9", published=True)
    assert b"data-authorize-open" not in client.get("/apis/bare/").content


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"scheme": "key", "value": ""}, "key: Enter the API key."),
        ({"scheme": "basic", "username": " "}, "basic: Enter the user name."),
        ({"scheme": "bearer", "token": ""}, "bearer: Enter the token."),
        ({"scheme": "digest"}, "digest: The console cannot use this security scheme."),
        (
            {"scheme": "oauth", "flow": "implicit", "client_id": "c"},
            "oauth: Choose a flow this scheme documents.",
        ),
        ({"scheme": "oauth", "flow": "clientCredentials"}, "oauth: Enter the client id."),
    ],
)
def test_bad_input_is_refused_with_its_reason_and_nothing_is_held(client, fields, message):
    operation = make_operation([{"key": []}])
    response = authorize(client, operation, **fields)
    assert notice_of(response) == message
    assert client.session.get(authorization.SESSION_KEY, {}) == {}


def test_an_unknown_scheme_is_a_404(client):
    operation = make_operation([])
    assert (
        client.post(f"/apis/{operation.api.slug}/authorize", {"scheme": "nope"}).status_code == 404
    )


def test_an_unpublished_api_cannot_be_authorized(client):
    operation = make_operation([])
    Api.objects.filter(pk=operation.api.pk).update(published=False)
    response = client.post(f"/apis/{operation.api.slug}/authorize", {"scheme": "key", "value": "v"})
    assert response.status_code == 404


def test_a_credential_is_kept_encrypted_and_shown_masked_then_logged_out(client):
    operation = make_operation([{"key": []}])
    response = authorize(client, operation, scheme="key", value="k-secret-999")
    assert notice_of(response) == "key: authorized."
    stored = client.session[authorization.SESSION_KEY][str(operation.api.pk)]["key"]
    assert stored.startswith("enc:") and "k-secret-999" not in stored
    assert b"k-secret-999" not in response.content
    soup = BeautifulSoup(response.content, "html.parser")
    assert soup.select_one("[data-scheme=key] [data-held]").get_text(" ", strip=True) == (
        "Authorized · X-Client: ••••••"
    )
    response = client.post(
        f"/apis/{operation.api.slug}/authorize/logout",
        {"scheme": "key", "next": "/apis/secured/"},
        follow=True,
    )
    assert notice_of(response) == "key: logged out."
    assert authorization.held_credentials(session=client.session, api=operation.api) == {}


def test_next_cannot_lead_off_the_portal(client):
    operation = make_operation([])
    response = client.post(
        f"/apis/{operation.api.slug}/authorize",
        {"scheme": "bearer", "token": "t", "next": "https://evil.example/"},
    )
    assert response["Location"] == "/apis/secured/#authorize"


def test_held_credentials_are_sent_masked_in_the_exchange_and_history():
    with scripted_server(reply_with(200, body=b"{}")) as server:
        operation = make_operation([{"key": [], "qkey": []}], service_url=server.url)
        user = make_user("ada")
        client = Client()
        client.login(username="ada", password=PASSWORD)
        authorize(client, operation, scheme="key", value="k-secret-999")
        authorize(client, operation, scheme="qkey", value="q-secret-888")
        response = client.post(f"/apis/{operation.api.slug}/operations/item/try", {})
        assert response.status_code == 200
        sent = server.requests[0]
        assert sent.header("X-Client") == "k-secret-999"
        assert sent.target == "/items?code=q-secret-888"
    exchange = Exchange.objects.get(owner=user)
    assert ["X-Client", "••••••"] in exchange.request_headers
    assert exchange.url.endswith("/items?code=••••••")
    stored = json.dumps(
        [exchange.request_headers, exchange.url, exchange.values, exchange.secret_values]
    )
    assert "k-secret-999" not in stored and "q-secret-888" not in stored
    # The form's values (Try again, Save) hold nothing of the held credentials.
    assert exchange.values["headers"] == []
    page = client.get("/history/").content + client.get(f"/history/{exchange.pk}/").content
    assert b"k-secret-999" not in page and b"q-secret-888" not in page
    assert b"k-secret-999" not in response.content


def test_another_session_never_sees_or_uses_my_credentials():
    with scripted_server(reply_with(200, body=b"{}")) as server:
        operation = make_operation([{"bearer": []}], service_url=server.url)
        make_user("ada")
        make_user("mallory")
        mine = Client()
        mine.login(username="ada", password=PASSWORD)
        authorize(mine, operation, scheme="bearer", token="ada-token-777")
        attacker = Client()
        attacker.login(username="mallory", password=PASSWORD)
        anonymous = Client()
        for other in (attacker, anonymous):
            page = other.get(f"/apis/{operation.api.slug}/operations/item/").content
            assert b"data-held" not in page and b"ada-token-777" not in page
            other.post(f"/apis/{operation.api.slug}/operations/item/try", {})
        mine.post(f"/apis/{operation.api.slug}/operations/item/try", {})
        assert [r.header("Authorization") for r in server.requests] == [
            None,
            None,
            "Bearer ada-token-777",
        ]
    # Signing out ends the session and what it held.
    mine.post("/accounts/logout/")
    mine.login(username="ada", password=PASSWORD)
    assert authorization.held_credentials(session=mine.session, api=operation.api) == {}


def test_an_anonymous_visitor_authorizes_within_their_own_session_only():
    with scripted_server(reply_with(200, body=b"{}")) as server:
        operation = make_operation([{"bearer": []}], service_url=server.url)
        visitor, other = Client(), Client()
        authorize(visitor, operation, scheme="bearer", token="anon-token-555")
        visitor.post(f"/apis/{operation.api.slug}/operations/item/try", {})
        other.post(f"/apis/{operation.api.slug}/operations/item/try", {})
        assert [r.header("Authorization") for r in server.requests] == [
            "Bearer anon-token-555",
            None,
        ]
    assert b"data-held" not in other.get(f"/apis/{operation.api.slug}/").content


def test_a_required_credential_row_is_not_asked_for_when_authorize_fills_it():
    with scripted_server(reply_with(200, body=b"{}")) as server:
        operation = make_operation([{"key": []}], service_url=server.url)
        Parameter.objects.create(
            operation=operation,
            name="X-Client",
            location=ParameterLocation.HEADER,
            required=True,
            secret=True,
        )
        client = Client()
        refused = client.post(
            "/apis/secured/operations/item/try", {"header_name": ["X-Client"], "header_value": [""]}
        )
        assert b"The header X-Client is required." in refused.content
        authorize(client, operation, scheme="key", value="k-1")
        client.post(
            "/apis/secured/operations/item/try", {"header_name": ["X-Client"], "header_value": [""]}
        )
        assert [r.header("X-Client") for r in server.requests] == ["k-1"]


# --- an imported document -------------------------------------------------------------


def test_an_imported_operation_is_authorized_through_its_documented_security():
    """The import keeps the schemes and the requirements; the credential row it makes
    (Authorization: "Bearer ", a required key header) gives way to the held one."""
    from openapi.sync import import_openapi

    with scripted_server(reply_with(200, body=b"{}")) as server:
        document = {
            "openapi": "3.0.3",
            "info": {"title": "Imported", "version": "1"},
            "servers": [{"url": server.url}],
            "components": {
                "securitySchemes": {
                    "jwt": {"type": "http", "scheme": "bearer"},
                    "key": {"type": "apiKey", "in": "header", "name": "X-Key"},
                }
            },
            "security": [{"jwt": []}, {"key": []}],
            "paths": {"/things": {"get": {"operationId": "things", "responses": {"200": {}}}}},
        }
        api = import_openapi(document=document).api
        api.published = True
        api.save()
        operation = api.operations.get()
        page = Client().get(operation.get_absolute_url())
        rows = BeautifulSoup(page.content, "html.parser").select("input[name=header_name]")
        shown = [r.get("value") for r in rows if r.get("value")]
        client = Client()
        authorize(client, operation, scheme="key", value="imported-key-1")
        client.post(
            f"/apis/{api.slug}/operations/{operation.slug}/try",
            {"header_name": shown, "header_value": ["Bearer "] * len(shown)},
        )
        authorize(client, operation, scheme="jwt", token="jwt-2")
        client.post(
            f"/apis/{api.slug}/operations/{operation.slug}/try",
            {"header_name": shown, "header_value": ["Bearer "] * len(shown)},
        )
        first, second = server.requests
    assert shown == ["Authorization"]
    assert (first.header("X-Key"), first.header("Authorization")) == ("imported-key-1", None)
    assert (second.header("X-Key"), second.header("Authorization")) == (None, "Bearer jwt-2")


def test_a_required_query_key_is_not_asked_for_when_authorize_fills_it():
    with scripted_server(reply_with(200, body=b"{}")) as server:
        operation = make_operation([{"qkey": []}], service_url=server.url)
        Parameter.objects.create(
            operation=operation, name="code", location=ParameterLocation.QUERY, required=True
        )
        client = Client()
        refused = client.post("/apis/secured/operations/item/try", {"param-query-code": ""})
        assert b"This field is required." in refused.content
        authorize(client, operation, scheme="qkey", value="q-1")
        client.post("/apis/secured/operations/item/try", {"param-query-code": ""})
        assert [r.target for r in server.requests] == ["/items?code=q-1"]


@pytest.mark.parametrize(
    ("scheme", "data", "text"),
    [
        ("key", KEY, "X-Client: ••••••"),
        ("basic", BASIC, "Basic •••••• (ada)"),
        ("bearer", BEARER, "Bearer ••••••"),
        ("oauth", {"access_token": "a"}, "Bearer ••••••"),
        (
            "oauth",
            {"access_token": "a", "client_id": "svc", "scope": "read", "expires_at": 0},
            "Authorized as svc, scopes read, expires 00:00:00 UTC (expired)",
        ),
        (
            "oauth",
            {"access_token": "a", "client_id": "svc", "expires_at": 0, "refresh_token": "r"},
            "Authorized as svc, expires 00:00:00 UTC (expired, refreshed before the next call)",
        ),
    ],
)
def test_held_credentials_are_shown_masked(scheme, data, text):
    operation = make_operation([])
    found = authorization.scheme_of(operation.api, scheme)
    assert found is not None
    assert authorization.shown(scheme=found, held=Held(scheme=scheme, data=data)) == text
