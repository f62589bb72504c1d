"""Password reset through the emailed link, its limits, and password change."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db

RESET = "/accounts/password/reset/"
RESET_DONE = "/accounts/password/reset/done/"
RESET_LINK = re.compile(r"(https?)://([^/\s]+)(/accounts/password/reset/key/[^/\s]+/)")
CHANGE = "/accounts/password/change/"
NEW_PASSWORD = "a brand new long passphrase"


def reset_link(mailoutbox) -> re.Match:
    assert len(mailoutbox) == 1
    match = RESET_LINK.search(mailoutbox[0].body)
    assert match, mailoutbox[0].body
    return match


def set_new_password(client: Client, link_path: str, password: str = NEW_PASSWORD):
    """Follow the emailed link (allauth moves the key into the session) and post."""
    form_page = client.get(link_path, follow=True)
    assert not form_page.context.get("token_fail")
    assert "Choose a new password" in form_page.content.decode()
    set_password_url = form_page.redirect_chain[-1][0]
    return client.post(set_password_url, {"password1": password, "password2": password})


def test_reset_end_to_end_through_the_emailed_link(client: Client, mailoutbox) -> None:
    make_user("ada", email="ada@example.com")
    assert client.get(RESET).status_code == 200

    response = client.post(RESET, {"email": "Ada@Example.com"})

    assert response["Location"] == RESET_DONE
    assert mailoutbox[0].to == ["ada@example.com"]
    assert mailoutbox[0].subject == "Reset your API portal password"
    scheme, host, path = reset_link(mailoutbox).groups()
    assert (scheme, host) == ("http", "testserver")

    done = set_new_password(client, path)

    assert done["Location"] == "/accounts/password/reset/key/done/"
    assert Client().login(username="ada", password=NEW_PASSWORD)
    assert not Client().login(username="ada", password=PASSWORD)
    used = Client().get(path, follow=True)
    assert used.context["token_fail"] is True
    assert "This reset link is not valid" in used.content.decode()


def test_a_forged_host_does_not_move_the_reset_link(client: Client, mailoutbox, settings) -> None:
    """Today's attack: Host: localhost:9999 on the victim's reset, so that the link
    they click hands the key to the attacker's server."""
    settings.ALLOWED_HOSTS = ["portal.example.com", "localhost"]
    settings.PORTAL_SITE_URL = "https://portal.example.com"
    make_user("ada", email="ada@example.com")
    client.post(RESET, {"email": "ada@example.com"}, headers={"host": "localhost:9999"})
    scheme, host, _path = reset_link(mailoutbox).groups()
    assert (scheme, host) == ("https", "portal.example.com")
    assert "9999" not in mailoutbox[0].body and "localhost" not in mailoutbox[0].body


def test_without_a_site_url_no_reset_link_is_mailed(client: Client, mailoutbox, settings) -> None:
    settings.PORTAL_SITE_URL = ""
    make_user("ada", email="ada@example.com")
    client.raise_request_exception = False
    assert client.post(RESET, {"email": "ada@example.com"}).status_code == 500
    assert mailoutbox == []


def test_an_unknown_address_gets_the_same_page_and_no_email(client: Client, mailoutbox) -> None:
    response = client.post(RESET, {"email": "nobody@example.com"})
    assert response["Location"] == RESET_DONE
    assert mailoutbox == []


def test_more_than_five_resets_a_minute_for_one_address_are_refused(
    client: Client, mailoutbox
) -> None:
    make_user("ada", email="ada@example.com")
    for index in range(5):
        sent = Client(REMOTE_ADDR=f"203.0.113.{index}").post(RESET, {"email": "ada@example.com"})
        assert sent["Location"] == RESET_DONE
    refused = client.post(RESET, {"email": "ADA@example.com"})
    assert refused.status_code == 429
    assert len(mailoutbox) == 5


def test_a_tampered_reset_link_is_refused(client: Client, mailoutbox) -> None:
    make_user("ada", email="ada@example.com")
    client.post(RESET, {"email": "ada@example.com"})
    path = reset_link(mailoutbox).group(3)
    tampered = path[:-2] + ("0" if path[-2] != "0" else "1") + "/"

    response = client.get(tampered, follow=True)

    assert response.context["token_fail"] is True
    assert Client().login(username="ada", password=PASSWORD)


def test_mismatched_new_passwords_are_a_form_error(client: Client, mailoutbox) -> None:
    make_user("ada", email="ada@example.com")
    client.post(RESET, {"email": "ada@example.com"})
    form_page = client.get(reset_link(mailoutbox).group(3), follow=True)
    response = client.post(
        form_page.redirect_chain[-1][0],
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD + "x"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "password2": ["You must type the same password each time."]
    }
    assert Client().login(username="ada", password=PASSWORD)


def test_a_reset_leaves_an_unconfirmed_address_unconfirmed(client: Client, mailoutbox) -> None:
    make_user("ada", email="ada@example.com", verified=False)
    client.post(RESET, {"email": "ada@example.com"})
    set_new_password(client, reset_link(mailoutbox).group(3))
    mailoutbox.clear()
    response = Client().post("/accounts/login/", {"login": "ada", "password": NEW_PASSWORD})
    assert response["Location"] == "/accounts/confirm-email/"
    assert "/accounts/confirm/" in mailoutbox[0].body


def test_a_disabled_account_gets_no_reset_email(client: Client, mailoutbox) -> None:
    make_user("ada", email="ada@example.com", is_active=False, last_login="2024-01-01T00:00Z")
    client.post(RESET, {"email": "ada@example.com"})
    assert mailoutbox == []


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("/accounts/password_reset/", RESET),
        ("/accounts/password_reset/done/", RESET_DONE),
        ("/accounts/password_change/", CHANGE),
        ("/accounts/password_change/?next=/products/", CHANGE + "?next=/products/"),
    ],
)
def test_the_old_paths_lead_to_the_new_pages(client: Client, old: str, new: str) -> None:
    response = client.get(old)
    assert (response.status_code, response["Location"]) == (301, new)


def test_password_change_needs_a_signed_in_user(client: Client) -> None:
    response = client.get(CHANGE)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/accounts/password/change/"


def test_password_change(client: Client) -> None:
    client.force_login(make_user("ada"))
    assert client.get(CHANGE).status_code == 200
    response = client.post(
        CHANGE, {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert response["Location"] == CHANGE
    # Still signed in on this session, and the new password works elsewhere.
    assert client.get("/accounts/profile/").status_code == 200
    assert Client().login(username="ada", password=NEW_PASSWORD)


def test_password_change_with_a_wrong_old_password_is_a_form_error(client: Client) -> None:
    client.force_login(make_user("ada"))
    response = client.post(
        CHANGE, {"oldpassword": "wrong", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["oldpassword"]
    assert Client().login(username="ada", password=PASSWORD)


def test_the_admin_keeps_its_own_password_change_page(client: Client) -> None:
    client.force_login(make_user("root", staff=True))
    response = client.get("/admin/password_change/")
    assert response.status_code == 200
    assert "admin/base_site.html" in [template.name for template in response.templates]
