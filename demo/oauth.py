"""The demo's OAuth 2.0 side: an API whose operation the sample backend protects with
its own authorization server (django-oauth-toolkit), and the two clients of the portal
registered there (docs/design.md, "Authorize and OAuth 2.0")."""

from __future__ import annotations

from django.db import transaction
from oauth2_provider.models import Application

from catalog.models import Api, Operation
from demo.service import OAUTH_SCOPE

API_SLUG = "demo-oauth"
SCHEME = "demoOAuth"
# The portal as a public client (authorization code with PKCE) and as a confidential
# one (client credentials).
PUBLIC_CLIENT_ID = "portal-demo-public"
SERVICE_CLIENT_ID = "portal-demo-service"
CALLBACK_PATH = "/authorize/callback"

DESCRIPTION = """\
One operation of the sample backend, protected by OAuth 2.0: it answers who the token
speaks for. Open it, press **Authorize**, and choose the authorization code flow (client
`portal-demo-public`, no secret) or client credentials (client `portal-demo-service`).
"""


def security_document(*, backend_url: str) -> dict:
    """Api.openapi of the demo OAuth API ("Documented schemas")."""
    server = backend_url.rstrip("/")
    scopes = {OAUTH_SCOPE: "Read who is calling"}
    return {
        "openapi": "3.1.0",
        "components": {
            "schemas": {},
            "securitySchemes": {
                SCHEME: {
                    "type": "oauth2",
                    "description": "The sample backend's authorization server.",
                    # RFC 7009: logging out of the dialog revokes the token here.
                    "x-revocationUrl": f"{server}/o/revoke_token/",
                    "flows": {
                        "authorizationCode": {
                            "authorizationUrl": f"{server}/o/authorize/",
                            "tokenUrl": f"{server}/o/token/",
                            "refreshUrl": f"{server}/o/token/",
                            "scopes": scopes,
                        },
                        "clientCredentials": {"tokenUrl": f"{server}/o/token/", "scopes": scopes},
                    },
                }
            },
        },
    }


@transaction.atomic
def register_demo_oauth(*, backend_url: str, redirect_uris: list[str], client_secret: str) -> Api:
    """Create or refresh the demo OAuth API and its two clients; safe to run twice."""
    api, _ = Api.objects.update_or_create(
        slug=API_SLUG,
        defaults={
            "name": "Demo OAuth API",
            "url_suffix": API_SLUG,
            "service_url": backend_url.rstrip("/"),
            "version": "1.0",
            "published": True,
            "description": DESCRIPTION,
            "openapi": security_document(backend_url=backend_url),
        },
    )
    Operation.objects.update_or_create(
        api=api,
        slug="who-am-i",
        defaults={
            "name": "Who am I",
            "method": "GET",
            "url_template": "/oauth/profile",
            "description": f"Answers 200 with a bearer token holding the `{OAUTH_SCOPE}` scope, "
            "401 with a JSON error and `WWW-Authenticate` otherwise.",
            "openapi": {"parameters": [], "responses": {}, "security": [{SCHEME: [OAUTH_SCOPE]}]},
            "order": 0,
        },
    )
    Application.objects.update_or_create(
        client_id=PUBLIC_CLIENT_ID,
        defaults={
            "name": "API portal (Try it)",
            "client_type": Application.CLIENT_PUBLIC,
            "authorization_grant_type": Application.GRANT_AUTHORIZATION_CODE,
            "redirect_uris": " ".join(redirect_uris),
            "client_secret": "",
            "skip_authorization": False,
        },
    )
    service = Application.objects.filter(client_id=SERVICE_CLIENT_ID).first() or Application(
        client_id=SERVICE_CLIENT_ID
    )
    service.name = "API portal (service)"
    service.client_type = Application.CLIENT_CONFIDENTIAL
    service.authorization_grant_type = Application.GRANT_CLIENT_CREDENTIALS
    service.redirect_uris = ""
    service.client_secret = client_secret  # hashed when saved
    service.save()
    return api


def callback_uris(*, portal_url: str) -> list[str]:
    """The portal's callback on its served address, with localhost beside 127.0.0.1."""
    base = portal_url.rstrip("/")
    uris = [base + CALLBACK_PATH]
    if "//127.0.0.1" in base:
        uris.append(base.replace("//127.0.0.1", "//localhost") + CALLBACK_PATH)
    return uris
