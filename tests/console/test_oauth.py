"""OAuth 2.0 for Authorize: PKCE, the state rules, the token calls through the one path,
expiry and refresh, OpenID Connect discovery (console/oauth.py)."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from bs4 import BeautifulSoup
from django.test import Client, override_settings

from console import authorization, oauth
from console.authorization import Held
from httpcore import outbound
from tests.backends import Exchange as BackendExchange
from tests.backends import reply_with, scripted_server
from tests.console.test_authorization import authorize, make_operation, notice_of


def refusal_of(response) -> str:
    assert response.status_code == 400
    found = BeautifulSoup(response.content, "html.parser").select_one("[data-authorize-refused]")
    return found.get_text(strip=True) if found else ""


pytestmark = pytest.mark.django_db

CODE_SCHEMES = {
    "type": "oauth2",
    "flows": {
        "authorizationCode": {
            "authorizationUrl": "https://login.example/authorize?tenant=t1",
            "tokenUrl": "/token",
            "scopes": {"read": "Read", "write": "Write"},
        },
        "clientCredentials": {"tokenUrl": "/token", "scopes": {"read": "Read"}},
    },
}


def token_answer(**extra) -> bytes:
    return json.dumps({"access_token": "at-1", "token_type": "Bearer", **extra}).encode()


def oauth_operation(service_url: str):
    operation = make_operation([{"code": ["read"]}], service_url=service_url)
    operation.api.openapi["components"]["securitySchemes"] = {"code": copy.deepcopy(CODE_SCHEMES)}
    operation.api.save()
    return operation


@pytest.fixture
def sent(monkeypatch):
    """Every request the one path sends."""
    calls: list = []
    real = outbound.send

    def watch(request, **kwargs):
        calls.append(request)
        return real(request, **kwargs)

    monkeypatch.setattr(outbound, "send", watch)
    return calls


# --- PKCE -----------------------------------------------------------------------------


def test_pkce_pair_is_s256_of_a_fresh_verifier():
    verifier, challenge = oauth.pkce_pair()
    assert 43 <= len(verifier) <= 128
    assert set(verifier) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    assert challenge == expected.decode()
    assert oauth.pkce_pair()[0] != verifier


def test_rfc_7636_example():
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert oauth.code_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


# --- the authorization code flow: the redirect and the state --------------------------


def start(client: Client, operation, **fields):
    return client.post(
        f"/apis/{operation.api.slug}/authorize",
        {
            "scheme": "code",
            "flow": "authorizationCode",
            "client_id": "portal",
            "scopes": ["read"],
            "next": "/apis/secured/operations/item/",
            **fields,
        },
    )


def test_the_browser_is_sent_to_the_authorization_url_with_pkce_and_state(client, sent):
    operation = oauth_operation("http://127.0.0.1:9")
    response = start(client, operation)
    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert (target.scheme, target.netloc, target.path) == ("https", "login.example", "/authorize")
    query = {k: v[0] for k, v in parse_qs(target.query).items()}
    assert query.pop("state") and query.pop("code_challenge")
    assert query == {
        "tenant": "t1",
        "response_type": "code",
        "client_id": "portal",
        "redirect_uri": "http://testserver/authorize/callback",
        "scope": "read",
        "code_challenge_method": "S256",
    }
    assert sent == []  # nothing is sent before the answer comes back


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"code": "c"}, oauth.NO_STATE),
        ({"code": "c", "state": "forged"}, oauth.UNKNOWN_STATE),
    ],
)
def test_a_missing_or_mismatched_state_is_refused_and_nothing_sent(client, sent, query, message):
    operation = oauth_operation("http://127.0.0.1:9")
    start(client, operation)
    response = client.get("/authorize/callback", query)
    assert refusal_of(response) == message
    assert sent == []
    assert authorization.held_credentials(session=client.session, api=operation.api) == {}


def test_another_browsers_state_is_refused(client, sent):
    operation = oauth_operation("http://127.0.0.1:9")
    state = parse_qs(urlsplit(start(client, operation)["Location"]).query)["state"][0]
    response = Client().get("/authorize/callback", {"code": "c", "state": state})
    assert refusal_of(response) == oauth.UNKNOWN_STATE
    assert sent == []


def test_the_code_is_exchanged_once_with_the_verifier_and_a_replay_is_refused(client, sent):
    with scripted_server(
        reply_with(
            200,
            headers=[("Content-Type", "application/json")],
            body=token_answer(expires_in=60, refresh_token="rt-1", scope="read"),
        )
    ) as server:
        operation = oauth_operation(server.url)
        location = start(client, operation)["Location"]
        query = parse_qs(urlsplit(location).query)
        state = query["state"][0]
        response = client.get("/authorize/callback", {"code": "the-code", "state": state})
        assert response.status_code == 302
        assert response["Location"] == "/apis/secured/operations/item/#authorize"
        token_request = server.requests[0]
        assert (token_request.method, token_request.target) == ("POST", "/token")
        assert token_request.header("Content-Type") == "application/x-www-form-urlencoded"
        form = {k: v[0] for k, v in parse_qs(token_request.body.decode()).items()}
        verifier = form.pop("code_verifier")
        assert oauth.code_challenge(verifier) == query["code_challenge"][0]
        assert form == {
            "grant_type": "authorization_code",
            "client_id": "portal",
            "code": "the-code",
            "redirect_uri": "http://testserver/authorize/callback",
            "scope": "read",
        }
        replay = client.get("/authorize/callback", {"code": "the-code", "state": state})
        assert refusal_of(replay) == oauth.USED_STATE
        assert len(server.requests) == 1
    held = authorization.held_credentials(session=client.session, api=operation.api)["code"]
    assert held.access_token == "at-1" and held.data["refresh_token"] == "rt-1"
    page = client.get("/apis/secured/operations/item/")
    assert notice_of(page) == "code: authorized."
    assert b"Authorized as portal, scopes read, expires" in page.content
    assert b"at-1" not in page.content


def test_an_expired_authorization_is_refused(client, sent, monkeypatch):
    operation = oauth_operation("http://127.0.0.1:9")
    state = parse_qs(urlsplit(start(client, operation)["Location"]).query)["state"][0]
    later = time.time() + oauth.PENDING_SECONDS + 1
    monkeypatch.setattr(oauth.time, "time", lambda: later)
    response = client.get("/authorize/callback", {"code": "c", "state": state})
    assert refusal_of(response) == oauth.EXPIRED_STATE
    assert sent == []


def test_a_refusal_from_the_authorization_server_is_shown(client, sent):
    operation = oauth_operation("http://127.0.0.1:9")
    state = parse_qs(urlsplit(start(client, operation)["Location"]).query)["state"][0]
    response = client.get(
        "/authorize/callback",
        {"error": "access_denied", "error_description": "The user said no", "state": state},
    )
    assert response.status_code == 400
    assert (
        b"The authorization server refused (access_denied: The user said no)." in response.content
    )
    assert sent == []


# --- client credentials, token errors -------------------------------------------------


def test_client_credentials_post_the_form_with_basic_client_authentication(client):
    with scripted_server(
        reply_with(200, headers=[("Content-Type", "application/json")], body=token_answer())
    ) as server:
        operation = oauth_operation(server.url)
        response = authorize(
            client,
            operation,
            scheme="code",
            flow="clientCredentials",
            client_id="svc",
            client_secret="s3cr3t:x",
            scopes=["read"],
        )
        assert notice_of(response) == "code: authorized as svc."
        request = server.requests[0]
        assert parse_qs(request.body.decode()) == {
            "grant_type": ["client_credentials"],
            "scope": ["read"],
        }
        assert (
            request.header("Authorization")
            == "Basic " + base64.b64encode(b"svc:s3cr3t%3Ax").decode()
        )
    assert b"s3cr3t" not in response.content


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (
            400,
            b'{"error": "invalid_client", "error_description": "Bad secret"}',
            "code: The authorization server refused (invalid_client: Bad secret).",
        ),
        (200, b"<html>", "code: The authorization server answered 200 without a JSON object."),
        (
            200,
            b'{"token_type": "Bearer"}',
            "code: The authorization server's answer has no access token.",
        ),
        (
            200,
            b'{"access_token": "a", "token_type": "mac"}',
            "code: The token type 'mac' is not supported (only Bearer).",
        ),
    ],
)
def test_a_token_endpoint_failure_is_the_notice_and_nothing_is_held(client, status, body, message):
    with scripted_server(reply_with(status, body=body)) as server:
        operation = oauth_operation(server.url)
        response = authorize(
            client, operation, scheme="code", flow="clientCredentials", client_id="svc"
        )
    assert notice_of(response) == message
    assert authorization.held_credentials(session=client.session, api=operation.api) == {}


def test_an_unreachable_token_endpoint_is_the_notice(client):
    operation = oauth_operation("http://127.0.0.1:9")
    response = authorize(client, operation, scheme="code", flow="clientCredentials", client_id="s")
    assert notice_of(response).startswith("code: The authorization server could not be reached: ")


# --- expiry and refresh ---------------------------------------------------------------


def test_an_expired_token_is_refreshed_before_the_call():
    def handler(exchange: BackendExchange) -> None:
        request = exchange.request
        assert request is not None
        if request.target == "/token":
            exchange.respond(
                200,
                headers=[("Content-Type", "application/json")],
                body=json.dumps(
                    {"access_token": "at-2", "token_type": "bearer", "expires_in": 3600}
                ).encode(),
            )
        else:
            exchange.respond(200, body=b"{}")

    with scripted_server(handler) as server:
        operation = oauth_operation(server.url)
        client = Client()
        session = client.session
        authorization.hold(
            session=session,
            api=operation.api,
            scheme="code",
            data={
                "access_token": "at-old",
                "expires_at": time.time() - 1,
                "refresh_token": "rt-1",
                "token_url": f"{server.url}/token",
                "client_id": "portal",
                "client_secret": "",
                "scope": "read",
            },
        )
        session.save()
        client.post("/apis/secured/operations/item/try", {})
        refresh, call = server.requests
        assert parse_qs(refresh.body.decode()) == {
            "grant_type": ["refresh_token"],
            "client_id": ["portal"],
            "refresh_token": ["rt-1"],
        }
        assert call.header("Authorization") == "Bearer at-2"
    held = authorization.held_credentials(session=client.session, api=operation.api)["code"]
    assert held.access_token == "at-2" and held.data["refresh_token"] == "rt-1"
    assert held.expires_at is not None and held.expires_at > time.time() + 3000


def test_an_expired_token_without_refresh_is_not_sent(sent):
    operation = oauth_operation("http://127.0.0.1:9")
    expired = Held(scheme="code", data={"access_token": "old", "expires_at": time.time() - 1})
    usable = oauth.usable_credentials(
        session=Client().session, api=operation.api, held={"code": expired}, client_key="k"
    )
    assert usable == {} and sent == []


def test_a_token_is_expired_a_little_before_its_time():
    soon = Held(scheme="x", data={"expires_at": time.time() + 10})
    later = Held(scheme="x", data={"expires_at": time.time() + 120})
    forever = Held(scheme="x", data={})
    now = time.time()
    assert (soon.expired(now=now), later.expired(now=now), forever.expired(now=now)) == (
        True,
        False,
        False,
    )


# --- OpenID Connect -------------------------------------------------------------------


def oidc_operation(url: str):
    operation = make_operation([{"oidc": []}])
    operation.api.openapi["components"]["securitySchemes"] = {
        "oidc": {"type": "openIdConnect", "openIdConnectUrl": url}
    }
    operation.api.save()
    return operation


def test_an_unregistered_provider_is_refused_and_nothing_fetched(client, sent):
    operation = oidc_operation("https://idp.example/.well-known/openid-configuration")
    response = authorize(client, operation, scheme="oidc", client_id="portal")
    assert notice_of(response) == (
        "oidc: The OpenID Connect provider https://idp.example is not registered with the "
        "portal (PORTAL_OIDC_ISSUERS): nothing was fetched."
    )
    assert sent == []


def test_a_registered_provider_is_discovered_then_authorization_code_runs(client, sent):
    config = {
        "issuer": "https://idp.example",
        "authorization_endpoint": "https://idp.example/authorize",
        "token_endpoint": "https://idp.example/token",
        "scopes_supported": ["openid", "profile"],
    }
    with scripted_server(
        reply_with(
            200, headers=[("Content-Type", "application/json")], body=json.dumps(config).encode()
        )
    ) as server:
        operation = oidc_operation(server.url)
        with override_settings(PORTAL_OIDC_ISSUERS=[server.url]):
            response = client.post(
                f"/apis/{operation.api.slug}/authorize",
                {"scheme": "oidc", "client_id": "portal", "scope_text": "openid profile"},
            )
        assert server.requests[0].target == "/.well-known/openid-configuration"
    target = urlsplit(response["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == "https://idp.example/authorize"
    query = parse_qs(target.query)
    assert query["scope"] == ["openid profile"] and query["code_challenge_method"] == ["S256"]

    # An answer naming another issuer (a mix-up) is refused before the code is exchanged.
    state = query["state"][0]
    mixed = client.get("/authorize/callback", {"code": "c", "state": state, "iss": "https://x"})
    assert refusal_of(mixed) == oauth.OTHER_ISSUER
    assert len(sent) == 1  # the discovery only


# --- Logging out: revocation at the provider (RFC 7009) --------------------------------


def revoking_server(*, revocation_status: int = 200, revocation_body: bytes = b""):
    """Tokens at /token (with a refresh token), revocations at /revoke."""

    def handler(exchange) -> None:
        if exchange.request.target.startswith("/revoke"):
            exchange.respond(revocation_status, body=revocation_body)
        else:
            body = token_answer(refresh_token="rt-1", expires_in=600)
            exchange.respond(200, headers=[("Content-Type", "application/json")], body=body)

    return scripted_server(handler)


def revocable_operation(service_url: str, *, on: str = "scheme"):
    operation = oauth_operation(service_url)
    schemes = operation.api.openapi["components"]["securitySchemes"]
    target = schemes["code"] if on == "scheme" else schemes["code"]["flows"]["clientCredentials"]
    target[authorization.REVOCATION_URL] = "/revoke"
    operation.api.save()
    return operation


def log_out(client: Client, operation):
    return client.post(
        f"/apis/{operation.api.slug}/authorize/logout",
        {"scheme": "code", "next": f"/apis/{operation.api.slug}/operations/item/"},
        follow=True,
    )


@pytest.mark.parametrize("on", ["scheme", "flow"])
def test_logging_out_revokes_the_refresh_then_the_access_token(client, on):
    with revoking_server() as server:
        operation = revocable_operation(server.url, on=on)
        authorize(
            client,
            operation,
            scheme="code",
            flow="clientCredentials",
            client_id="svc",
            client_secret="s3cr3t",
        )
        response = log_out(client, operation)
        _token_call, *revocations = server.requests
    assert notice_of(response) == "code: logged out; the token was revoked."
    assert [r.target for r in revocations] == ["/revoke", "/revoke"]
    assert [parse_qs(r.body.decode()) for r in revocations] == [
        {"token": ["rt-1"], "token_type_hint": ["refresh_token"]},
        {"token": ["at-1"], "token_type_hint": ["access_token"]},
    ]
    # As at the token endpoint: the confidential client by HTTP Basic.
    basic = "Basic " + base64.b64encode(b"svc:s3cr3t").decode()
    assert {r.header("Authorization") for r in revocations} == {basic}
    assert authorization.held_credentials(session=client.session, api=operation.api) == {}
    assert b"rt-1" not in response.content and b"at-1" not in response.content


def test_a_public_client_names_itself_in_the_revocation(client, sent):
    with revoking_server() as server:
        operation = revocable_operation(server.url)
        session = client.session
        authorization.hold(
            session=session,
            api=operation.api,
            scheme="code",
            data={
                "access_token": "at-9",
                "client_id": "portal",
                "client_secret": "",
                "revocation_url": f"{server.url}/revoke",
            },
        )
        session.save()
        response = log_out(client, operation)
        [revocation] = server.requests
    assert notice_of(response) == "code: logged out; the token was revoked."
    assert parse_qs(revocation.body.decode()) == {
        "token": ["at-9"],
        "token_type_hint": ["access_token"],
        "client_id": ["portal"],
    }
    assert revocation.header("Authorization") is None


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (
            400,
            b'{"error": "unsupported_token_type"}',
            "code: logged out here, but the token was not revoked: The authorization server "
            "answered 400 (unsupported_token_type) to the revocation.",
        ),
        (
            503,
            b"<html>",
            "code: logged out here, but the token was not revoked: The authorization server "
            "answered 503 to the revocation.",
        ),
    ],
)
def test_a_refused_revocation_is_the_notice_and_the_token_is_forgotten_all_the_same(
    client, status, body, message
):
    with revoking_server(revocation_status=status, revocation_body=body) as server:
        operation = revocable_operation(server.url)
        authorize(client, operation, scheme="code", flow="clientCredentials", client_id="svc")
        response = log_out(client, operation)
        assert len(server.requests) == 2  # the token, then one refused revocation
    assert notice_of(response) == message
    assert authorization.held_credentials(session=client.session, api=operation.api) == {}


def test_an_unreachable_revocation_endpoint_is_the_notice(client):
    with revoking_server() as server:
        operation = revocable_operation(server.url)
        authorize(client, operation, scheme="code", flow="clientCredentials", client_id="svc")
    # The server has stopped.
    response = log_out(client, operation)
    assert notice_of(response).startswith(
        "code: logged out here, but the token was not revoked: The authorization server could "
        "not be reached: "
    )
    assert authorization.held_credentials(session=client.session, api=operation.api) == {}


def test_without_a_revocation_endpoint_logging_out_sends_nothing(client, sent):
    with scripted_server(
        reply_with(200, headers=[("Content-Type", "application/json")], body=token_answer())
    ) as server:
        operation = oauth_operation(server.url)
        authorize(client, operation, scheme="code", flow="clientCredentials", client_id="svc")
        response = log_out(client, operation)
        assert len(server.requests) == 1
    assert notice_of(response) == "code: logged out."
    assert len(sent) == 1


def test_openid_discovery_gives_the_revocation_endpoint():
    config = {
        "issuer": "https://idp.example",
        "authorization_endpoint": "https://idp.example/authorize",
        "token_endpoint": "https://idp.example/token",
        "revocation_endpoint": "https://idp.example/revoke",
    }
    with scripted_server(
        reply_with(
            200, headers=[("Content-Type", "application/json")], body=json.dumps(config).encode()
        )
    ) as server:
        operation = oidc_operation(server.url)
        scheme = authorization.scheme_of(operation.api, "oidc")
        assert scheme is not None
        with override_settings(PORTAL_OIDC_ISSUERS=[server.url]):
            flow = oauth.discovered_flow(api=operation.api, scheme=scheme, client_key="k")
    assert flow.revocation_url == "https://idp.example/revoke"


def test_the_revocation_url_travels_with_an_authorization_code_token(client):
    with revoking_server() as server:
        operation = revocable_operation(server.url)
        started = start(client, operation)
        state = parse_qs(urlsplit(started["Location"]).query)["state"][0]
        client.get("/authorize/callback", {"code": "c-1", "state": state})
        held = authorization.held_credentials(session=client.session, api=operation.api)
        assert held["code"].data["revocation_url"] == f"{server.url}/revoke"
        response = log_out(client, operation)
        assert [r.target for r in server.requests] == ["/token", "/revoke", "/revoke"]
    assert notice_of(response) == "code: logged out; the token was revoked."
