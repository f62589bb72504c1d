"""The sample backend's authorization server (django-oauth-toolkit) and its
OAuth-protected operation, and what load_demo registers for them (demo/oauth.py)."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application

from catalog.models import Api
from console import authorization
from demo.oauth import PUBLIC_CLIENT_ID, SCHEME, SERVICE_CLIENT_ID, register_demo_oauth
from tests.console.test_authorization import authorize, notice_of

pytestmark = pytest.mark.django_db

PROFILE = "/demo-backend/oauth/profile"


def token(*, scope: str = "profile", expires_in: int = 600) -> AccessToken:
    application = Application.objects.create(
        name="t",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
    )
    return AccessToken.objects.create(
        application=application,
        token=f"tok-{scope}-{expires_in}",
        scope=scope,
        expires=timezone.now() + timedelta(seconds=expires_in),
    )


def test_a_valid_token_with_the_scope_is_answered_200(client):
    granted = token()
    response = client.get(PROFILE, headers={"Authorization": f"Bearer {granted.token}"})
    assert response.status_code == 200
    body = response.json()
    assert (body["client_id"], body["user"], body["scope"]) == (
        granted.application.client_id,
        None,
        "profile",
    )


@pytest.mark.parametrize(
    ("header", "challenge", "message"),
    [
        (
            None,
            'Bearer realm="demo-backend", scope="profile"',
            "This operation needs an OAuth 2.0 bearer token.",
        ),
        (
            "Bearer unknown",
            'Bearer realm="demo-backend", scope="profile", error="invalid_token"',
            "The access token is not valid (unknown, expired, revoked, or without the 'profile' "
            "scope).",
        ),
    ],
)
def test_no_or_an_unknown_token_is_a_401_with_a_challenge(client, header, challenge, message):
    headers = {"Authorization": header} if header else {}
    response = client.get(PROFILE, headers=headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == challenge
    assert response.json()["error"]["message"] == message
    assert response.json()["error"]["code"] == "Unauthorized"


def test_an_expired_or_under_scoped_token_is_a_401(client):
    for granted in (token(expires_in=-5), token(scope="other")):
        response = client.get(PROFILE, headers={"Authorization": f"Bearer {granted.token}"})
        assert response.status_code == 401
        assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_only_get_is_allowed(client):
    response = client.post(PROFILE)
    assert response.status_code == 405 and response["Allow"] == "GET"


def test_load_demo_registers_the_oauth_api_and_its_two_clients(settings):
    settings.PORTAL_DEMO_BACKEND_URL = "http://127.0.0.1:8123/demo-backend"
    out = StringIO()
    call_command("load_demo", stdout=out, no_color=True)
    call_command("load_demo", stdout=StringIO(), no_color=True)  # twice: one of each
    api = Api.objects.get(slug="demo-oauth")
    flows = api.openapi["components"]["securitySchemes"][SCHEME]["flows"]
    assert flows["authorizationCode"]["authorizationUrl"] == (
        "http://127.0.0.1:8123/demo-backend/o/authorize/"
    )
    assert flows["clientCredentials"]["tokenUrl"] == "http://127.0.0.1:8123/demo-backend/o/token/"
    assert api.operations.get().openapi["security"] == [{SCHEME: ["profile"]}]
    public = Application.objects.get(client_id=PUBLIC_CLIENT_ID)
    assert (public.client_type, public.authorization_grant_type) == ("public", "authorization-code")
    assert public.redirect_uris.split() == [
        "http://127.0.0.1:8123/authorize/callback",
        "http://localhost:8123/authorize/callback",
    ]
    service = Application.objects.get(client_id=SERVICE_CLIENT_ID)
    assert (service.client_type, service.authorization_grant_type) == (
        "confidential",
        "client-credentials",
    )
    # Hashed, as django-oauth-toolkit keeps secrets.
    assert service.client_secret != settings.PORTAL_DEMO_OAUTH_CLIENT_SECRET
    assert f"{PUBLIC_CLIENT_ID} (authorization code + PKCE, public)" in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_client_credentials_against_the_demo_server_then_the_protected_call(live_server, caplog):
    backend = f"{live_server.url}/demo-backend"
    api = register_demo_oauth(
        backend_url=backend,
        redirect_uris=[f"{live_server.url}/authorize/callback"],
        client_secret=settings.PORTAL_DEMO_OAUTH_CLIENT_SECRET,
    )
    operation = api.operations.get()
    client = Client()
    response = authorize(
        client,
        operation,
        scheme=SCHEME,
        flow="clientCredentials",
        client_id=SERVICE_CLIENT_ID,
        client_secret=settings.PORTAL_DEMO_OAUTH_CLIENT_SECRET,
        scopes=["profile"],
    )
    assert notice_of(response) == f"{SCHEME}: authorized as {SERVICE_CLIENT_ID}."
    held = authorization.held_credentials(session=client.session, api=api)[SCHEME]
    stored = AccessToken.objects.get()
    assert stored.scope == "profile"
    # django-oauth-toolkit keeps only a hash of the token (RFC 9700 token storage).
    assert stored.token != held.access_token
    answer = client.post(
        "/apis/demo-oauth/operations/who-am-i/try", {}, headers={"HX-Request": "true"}
    )
    assert b"200 OK" in answer.content
    assert SERVICE_CLIENT_ID.encode() in answer.content
    assert held.access_token.encode() not in answer.content
    # Revoked: the next call is the backend's 401.
    AccessToken.objects.all().delete()
    answer = client.post(
        "/apis/demo-oauth/operations/who-am-i/try", {}, headers={"HX-Request": "true"}
    )
    assert b"401" in answer.content and b"invalid_token" in answer.content
    wrong = authorize(
        Client(),
        operation,
        scheme=SCHEME,
        flow="clientCredentials",
        client_id=SERVICE_CLIENT_ID,
        client_secret="wrong",
    )
    assert notice_of(wrong) == f"{SCHEME}: The authorization server refused (invalid_client)."
    assert json.dumps(dict(Client().session)) == "{}"
    # Never in the logs: the token, the client secret.
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "outbound POST" in logged
    assert held.access_token not in logged
    assert settings.PORTAL_DEMO_OAUTH_CLIENT_SECRET not in logged


@pytest.mark.django_db(transaction=True)
def test_logging_out_revokes_the_token_at_the_demo_server(live_server):
    api = register_demo_oauth(
        backend_url=f"{live_server.url}/demo-backend",
        redirect_uris=[f"{live_server.url}/authorize/callback"],
        client_secret=settings.PORTAL_DEMO_OAUTH_CLIENT_SECRET,
    )
    operation = api.operations.get()
    client = Client()
    authorize(
        client,
        operation,
        scheme=SCHEME,
        flow="clientCredentials",
        client_id=SERVICE_CLIENT_ID,
        client_secret=settings.PORTAL_DEMO_OAUTH_CLIENT_SECRET,
        scopes=["profile"],
    )
    old = authorization.held_credentials(session=client.session, api=api)[SCHEME].access_token
    bearer = {"Authorization": f"Bearer {old}"}
    assert Client().get(PROFILE, headers=bearer).status_code == 200
    response = client.post(
        f"/apis/{api.slug}/authorize/logout",
        {"scheme": SCHEME, "next": f"/apis/{api.slug}/operations/who-am-i/"},
        follow=True,
    )
    assert notice_of(response) == f"{SCHEME}: logged out; the token was revoked."
    assert authorization.held_credentials(session=client.session, api=api) == {}
    # The old token, kept by someone who copied it, is refused by the demo's own check.
    answer = Client().get(PROFILE, headers=bearer)
    assert answer.status_code == 401
    assert "invalid_token" in answer["WWW-Authenticate"]
    assert AccessToken.objects.count() == 0


def test_only_the_four_endpoints_of_the_authorization_server_are_served(client):
    for path in ("applications/", "applications/register/", "authorized_tokens/", "device/"):
        response = client.get(f"/demo-backend/o/{path}")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "NotFound"
    # The token endpoint is there: a request without a grant is its own 400.
    answer = client.post("/demo-backend/o/token/", {})
    assert answer.status_code == 400 and answer.json()["error"] == "unsupported_grant_type"
