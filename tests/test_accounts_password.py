"""Password reset through the emailed link, and password change for a signed-in user."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from portal import accounts
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db

User = get_user_model()
RESET = "/accounts/password_reset/"
RESET_LINK = re.compile(r"(https?)://([^/\s]+)(/accounts/reset/[^/\s]+/[^/\s]+/)")
NEW_PASSWORD = "a brand new long passphrase"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def reset_link(mailoutbox) -> re.Match:
    assert len(mailoutbox) == 1
    match = RESET_LINK.search(mailoutbox[0].body)
    assert match, mailoutbox[0].body
    return match


def set_new_password(client: Client, link_path: str, password: str = NEW_PASSWORD):
    """Follow the emailed link (Django moves the token into the session) and post."""
    form_page = client.get(link_path, follow=True)
    assert form_page.context["validlink"] is True
    set_password_url = form_page.redirect_chain[-1][0]
    return client.post(set_password_url, {"new_password1": password, "new_password2": password})


def test_reset_end_to_end_through_the_emailed_link(client: Client, mailoutbox) -> None:
    make_user("ada", email="ada@example.com")
    page = client.get(RESET)
    assert page.status_code == 200

    response = client.post(RESET, {"email": "Ada@Example.com"})

    assert response["Location"] == "/accounts/password_reset/done/"
    assert mailoutbox[0].to == ["ada@example.com"]
    assert mailoutbox[0].subject == "Reset your API portal password"
    scheme, host, path = reset_link(mailoutbox).groups()
    assert (scheme, host) == ("http", "testserver")

    done = set_new_password(client, path)

    assert done["Location"] == "/accounts/reset/done/"
    assert client.login(username="ada", password=NEW_PASSWORD)
    assert not Client().login(username="ada", password=PASSWORD)
    client.logout()
    used = client.get(path, follow=True)
    assert used.context["validlink"] is False
    assert "This reset link is not valid" in used.content.decode()


def test_the_reset_link_uses_the_request_scheme_and_host(
    client: Client, mailoutbox, settings
) -> None:
    settings.ALLOWED_HOSTS = ["portal.example.com"]
    make_user("ada", email="ada@example.com")
    client.post(
        RESET, {"email": "ada@example.com"}, secure=True, headers={"host": "portal.example.com"}
    )
    scheme, host, _path = reset_link(mailoutbox).groups()
    assert (scheme, host) == ("https", "portal.example.com")


def test_an_unknown_address_gets_the_same_page_and_no_email(client: Client, mailoutbox) -> None:
    response = client.post(RESET, {"email": "nobody@example.com"})
    assert response["Location"] == "/accounts/password_reset/done/"
    assert mailoutbox == []


def test_a_tampered_reset_link_is_refused(client: Client, mailoutbox) -> None:
    make_user("ada", email="ada@example.com")
    client.post(RESET, {"email": "ada@example.com"})
    path = reset_link(mailoutbox).group(3)
    tampered = path[:-2] + ("0" if path[-2] != "0" else "1") + "/"

    response = client.get(tampered, follow=True)

    assert response.context["validlink"] is False
    assert client.login(username="ada", password=PASSWORD)


def test_mismatched_new_passwords_are_a_form_error(client: Client, mailoutbox) -> None:
    make_user("ada", email="ada@example.com")
    client.post(RESET, {"email": "ada@example.com"})
    form_page = client.get(reset_link(mailoutbox).group(3), follow=True)
    response = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD + "x"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "new_password2": ["The two password fields didn’t match."]
    }
    assert client.login(username="ada", password=PASSWORD)


def test_a_reset_confirms_an_account_awaiting_confirmation(client: Client, mailoutbox) -> None:
    accounts.create_inactive_user(username="ada", email="ada@example.com", password=PASSWORD)
    client.post(RESET, {"email": "ada@example.com"})
    set_new_password(client, reset_link(mailoutbox).group(3))
    assert User.objects.get(username="ada").is_active is True
    assert client.login(username="ada", password=NEW_PASSWORD)


def test_a_disabled_account_gets_no_reset_email(client: Client, mailoutbox) -> None:
    make_user("ada", email="ada@example.com", is_active=False, last_login="2024-01-01T00:00Z")
    client.post(RESET, {"email": "ada@example.com"})
    assert mailoutbox == []


def test_password_change_needs_a_signed_in_user(client: Client) -> None:
    response = client.get("/accounts/password_change/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/accounts/password_change/"


def test_password_change(client: Client) -> None:
    client.force_login(make_user("ada"))
    assert client.get("/accounts/password_change/").status_code == 200
    response = client.post(
        "/accounts/password_change/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response["Location"] == "/accounts/password_change/done/"
    # Still signed in on this session, and the new password works elsewhere.
    assert client.get("/accounts/profile/").status_code == 200
    assert Client().login(username="ada", password=NEW_PASSWORD)


def test_password_change_with_a_wrong_old_password_is_a_form_error(client: Client) -> None:
    client.force_login(make_user("ada"))
    response = client.post(
        "/accounts/password_change/",
        {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["old_password"]
    assert Client().login(username="ada", password=PASSWORD)


def test_the_admin_keeps_its_own_password_change_page(client: Client) -> None:
    client.force_login(make_user("root", staff=True))
    response = client.get("/admin/password_change/")
    assert response.status_code == 200
    assert "admin/base_site.html" in [template.name for template in response.templates]
