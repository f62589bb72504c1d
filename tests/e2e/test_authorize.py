"""Authorize in a browser, against the sample backend's authorization server: the
authorization code flow with PKCE through its sign-in and consent pages, a call, the
token revoked, then client credentials."""

from __future__ import annotations

from importlib import import_module

import pytest
from django.conf import settings
from django.test import Client
from oauth2_provider.models import AccessToken
from playwright.sync_api import Page, expect

from console import authorization
from demo.oauth import PUBLIC_CLIENT_ID, SCHEME, SERVICE_CLIENT_ID, register_demo_oauth
from tests.e2e.conftest import (
    open_operation,
    problems_of,
    response_json,
    result_status,
    screenshot,
    send,
)
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db(transaction=True)

API_NAME = "Demo OAuth API"
PROFILE = "/demo-backend/oauth/profile"


@pytest.fixture
def oauth_api(live_server):
    return register_demo_oauth(
        backend_url=f"{live_server.url}/demo-backend",
        redirect_uris=[f"{live_server.url}/authorize/callback"],
        client_secret=settings.PORTAL_DEMO_OAUTH_CLIENT_SECRET,
    )


def held_token(page: Page, api) -> str:
    """The access token the browser's session holds, read on the server's side."""
    cookie = next(c for c in page.context.cookies() if c["name"] == settings.SESSION_COOKIE_NAME)
    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key=cookie["value"])
    return authorization.held_credentials(session=session, api=api)[SCHEME].access_token


def dialog_of(page: Page):
    return page.locator("dialog#authorize")


def flow_form(page: Page, flow: str):
    return dialog_of(page).locator(f"form[data-flow={flow}]")


def test_authorization_code_then_revoked_then_client_credentials(
    page: Page, live_server, oauth_api
) -> None:
    make_user("ada")
    base = live_server.url
    open_operation(page, base_url=base, api_name=API_NAME, operation_name="Who am I")

    # Without a token the backend's 401 and its challenge.
    send(page)
    assert result_status(page).startswith("401")

    page.get_by_role("link", name="Authorize").click()
    dialog = dialog_of(page)
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading", name=f"Authorize: {API_NAME}")).to_be_visible()
    for width, height in ((390, 844), (1366, 900)):
        page.set_viewport_size({"width": width, "height": height})
        screenshot(page, f"authorize-dialog-{width}")
    page.set_viewport_size({"width": 1400, "height": 1000})

    # Authorization code with PKCE: the demo server's sign-in, then its consent page.
    code = flow_form(page, "authorizationCode")
    code.get_by_label("Client id").fill(PUBLIC_CLIENT_ID)
    expect(code.get_by_role("checkbox")).to_be_checked()
    code.get_by_role("button", name="Authorize with the server").click()
    page.locator("input[name=login]").fill("ada")
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Authorize API portal (Try it)?")).to_be_visible()
    screenshot(page, "authorize-consent")
    page.get_by_role("button", name="Authorize", exact=True).click()

    # Back on the operation, the dialog open and saying so.
    expect(page.get_by_role("heading", level=1, name="Who am I")).to_be_visible()
    expect(dialog.locator("[data-authorize-notice]")).to_have_text(f"{SCHEME}: authorized.")
    held = dialog.locator(f"[data-scheme={SCHEME}] [data-held]")
    expect(held).to_contain_text(f"Authorized as {PUBLIC_CLIENT_ID}, scopes profile, expires")
    screenshot(page, "authorize-dialog-authorized")
    token = held_token(page, oauth_api)
    assert AccessToken.objects.count() == 1
    assert token not in page.content()
    dialog.get_by_role("button", name="Close").last.click()
    expect(dialog).to_be_hidden()

    send(page)
    assert result_status(page) == "200 OK"
    assert response_json(page)["user"] == "ada"
    assert response_json(page)["client_id"] == PUBLIC_CLIENT_ID
    assert token not in page.content()
    expect(page.locator("#result")).to_contain_text("Bearer ••••••")

    # Revoked at the server: the backend's answer, a 401 with its reason.
    AccessToken.objects.all().delete()
    send(page)
    assert result_status(page).startswith("401")
    assert response_json(page)["error"]["code"] == "Unauthorized"

    # Log out of the scheme (the token revoked at the server: one it no longer knows is
    # revoked all the same, RFC 7009 2.2), then client credentials.
    page.get_by_role("link", name="Authorize").click()
    dialog.get_by_role("button", name="Log out").click()
    expect(dialog.locator("[data-authorize-notice]")).to_have_text(
        f"{SCHEME}: logged out; the token was revoked."
    )
    client = flow_form(page, "clientCredentials")
    client.get_by_label("Client id").fill(SERVICE_CLIENT_ID)
    client.get_by_label("Client secret").fill(settings.PORTAL_DEMO_OAUTH_CLIENT_SECRET)
    client.get_by_role("button", name="Get a token").click()
    expect(dialog.locator("[data-authorize-notice]")).to_have_text(
        f"{SCHEME}: authorized as {SERVICE_CLIENT_ID}."
    )
    assert settings.PORTAL_DEMO_OAUTH_CLIENT_SECRET not in page.content()
    dialog.get_by_role("button", name="Close").last.click()
    send(page)
    assert result_status(page) == "200 OK"
    assert response_json(page)["client_id"] == SERVICE_CLIENT_ID
    assert response_json(page)["user"] is None

    # Logging out revokes it at the server: the old token no longer opens the operation.
    old = held_token(page, oauth_api)
    assert Client().get(PROFILE, headers={"Authorization": f"Bearer {old}"}).status_code == 200
    page.get_by_role("link", name="Authorize").click()
    dialog.get_by_role("button", name="Log out").click()
    expect(dialog.locator("[data-authorize-notice]")).to_have_text(
        f"{SCHEME}: logged out; the token was revoked."
    )
    assert AccessToken.objects.count() == 0
    assert Client().get(PROFILE, headers={"Authorization": f"Bearer {old}"}).status_code == 401
    dialog.get_by_role("button", name="Close").last.click()
    send(page)
    assert result_status(page).startswith("401")
    problems_of(page).assert_none()


def test_without_javascript_the_dialog_opens_in_the_page(
    no_js_page: Page, live_server, oauth_api
) -> None:
    page = no_js_page
    page.goto(f"{live_server.url}/apis/demo-oauth/operations/who-am-i/")
    dialog = dialog_of(page)
    expect(dialog).to_be_hidden()
    page.get_by_role("link", name="Authorize").click()
    expect(dialog).to_be_visible()
    form = flow_form(page, "clientCredentials")
    form.get_by_label("Client id").fill(SERVICE_CLIENT_ID)
    form.get_by_label("Client secret").fill(settings.PORTAL_DEMO_OAUTH_CLIENT_SECRET)
    form.get_by_role("button", name="Get a token").click()
    expect(dialog.locator("[data-authorize-notice]")).to_have_text(
        f"{SCHEME}: authorized as {SERVICE_CLIENT_ID}."
    )
    screenshot(page, "authorize-no-js")
    dialog.get_by_role("button", name="Close").last.click()
    expect(dialog).to_be_hidden()
    page.get_by_role("button", name="Send").click()
    assert result_status(page) == "200 OK"
    assert response_json(page)["client_id"] == SERVICE_CLIENT_ID
