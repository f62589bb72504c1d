"""Sign-up and its confirmation link: /accounts/signup/, /accounts/confirm/<key>/."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.test import Client

from tests.factories import make_user

pytestmark = pytest.mark.django_db

User = get_user_model()
SIGNUP = "/accounts/signup/"
SENT = "/accounts/confirm-email/"
NEW_PASSWORD = "a long and unusual passphrase"
CONFIRM_LINK = re.compile(r"(https?)://([^/\s]+)(/accounts/confirm/([^/\s]+)/)")
INVALID_PAGE = "This confirmation link is not valid"


def signup_form(**overrides: str) -> dict[str, str]:
    return {
        "username": "ada",
        "email": "ada@example.com",
        "password1": NEW_PASSWORD,
        "password2": NEW_PASSWORD,
        **overrides,
    }


def confirmation_link(mailoutbox) -> re.Match:
    assert len(mailoutbox) == 1
    match = CONFIRM_LINK.search(mailoutbox[0].body)
    assert match, mailoutbox[0].body
    return match


def signed_in_username(client: Client) -> str | None:
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id).username if user_id else None


def test_the_page_has_the_fields_and_a_way_back_to_sign_in(client: Client) -> None:
    response = client.get(SIGNUP)
    assert response.status_code == 200
    html = response.content.decode()
    for name in ("username", "email", "password1", "password2"):
        assert f'name="{name}"' in html
    assert 'href="/accounts/login/"' in html
    assert "style=" not in html and "<script>" not in html


def test_sign_up_creates_an_unconfirmed_account_and_mails_one_link(
    client: Client, mailoutbox
) -> None:
    response = client.post(SIGNUP, signup_form(email="Ada@Example.COM"))

    assert response.status_code == 302
    assert response["Location"] == SENT
    user = User.objects.get(username="ada")
    assert user.email == "ada@example.com"
    address = EmailAddress.objects.get(user=user)
    assert (address.email, address.primary, address.verified) == ("ada@example.com", True, False)
    assert mailoutbox[0].to == ["ada@example.com"]
    assert mailoutbox[0].subject == "Confirm your API portal account"
    scheme, host, *_ = confirmation_link(mailoutbox).groups()
    assert (scheme, host) == ("http", "testserver")
    assert signed_in_username(client) is None
    assert "Check your email" in client.get(SENT).content.decode()


def test_a_forged_host_does_not_move_the_emailed_link(client: Client, mailoutbox, settings) -> None:
    """The attacker signs up (or resends) with Host: localhost:9999; the link in the
    victim's mail still points at the portal."""
    settings.ALLOWED_HOSTS = ["portal.example.com", "localhost"]
    settings.PORTAL_SITE_URL = "https://portal.example.com"
    client.post(SIGNUP, signup_form(), headers={"host": "localhost:9999"})
    scheme, host, *_ = confirmation_link(mailoutbox).groups()
    assert (scheme, host) == ("https", "portal.example.com")
    body = mailoutbox[0].body + mailoutbox[0].subject
    assert "localhost" not in body and "9999" not in body


def test_the_link_asks_then_confirms_signs_in_and_lands_on_the_profile(
    client: Client, mailoutbox
) -> None:
    client.post(SIGNUP, signup_form())
    path = confirmation_link(mailoutbox).group(3)

    page = client.get(path)
    assert page.status_code == 200
    assert "Confirm your email address" in page.content.decode()
    assert EmailAddress.objects.get().verified is False  # a GET (a mail scanner) confirms nothing

    response = client.post(path, follow=True)

    assert response.redirect_chain == [("/accounts/profile/", 302)]
    assert "You have confirmed ada@example.com." in response.content.decode()
    assert EmailAddress.objects.get().verified is True
    assert signed_in_username(client) == "ada"


def test_a_used_link_confirms_nothing_more(client: Client, mailoutbox) -> None:
    client.post(SIGNUP, signup_form())
    path = confirmation_link(mailoutbox).group(3)
    client.post(path)
    client.logout()
    again = client.get(path)
    assert again.status_code == 200
    assert INVALID_PAGE in again.content.decode()
    assert client.post(path).status_code == 404
    assert signed_in_username(client) is None


def test_an_unconfirmed_account_cannot_sign_in(client: Client, mailoutbox) -> None:
    client.post(SIGNUP, signup_form())
    mailoutbox.clear()
    client.cookies.clear()
    response = client.post("/accounts/login/", {"login": "ada", "password": NEW_PASSWORD})
    assert response["Location"] == SENT
    assert signed_in_username(client) is None


@pytest.mark.parametrize(
    "tamper",
    [
        lambda key: key[:-1] + ("0" if key[-1] != "0" else "1"),
        lambda key: "abc-def",
        lambda key: "MQ:1xYeEp:" + "A" * 43,
    ],
    ids=["key-changed", "key-garbage", "key-forged"],
)
def test_a_tampered_link_shows_the_bad_link_page_and_confirms_nothing(
    client: Client, mailoutbox, tamper
) -> None:
    client.post(SIGNUP, signup_form())
    key = confirmation_link(mailoutbox).group(4)

    page = client.get(f"/accounts/confirm/{tamper(key)}/")
    assert page.status_code == 200
    assert INVALID_PAGE in page.content.decode()
    assert client.post(f"/accounts/confirm/{tamper(key)}/").status_code == 404
    assert EmailAddress.objects.get().verified is False
    assert signed_in_username(client) is None


@pytest.mark.parametrize("email", ["owner@example.com", "OWNER@Example.com"])
def test_an_address_in_use_answers_as_a_new_one_and_mails_its_owner(
    client: Client, mailoutbox, email: str
) -> None:
    owner = make_user("owner", email="owner@example.com")
    newcomer = Client()
    new = newcomer.post(SIGNUP, signup_form(username="fresh", email="fresh@example.com"))
    mailoutbox.clear()

    taken = client.post(SIGNUP, signup_form(email=email))

    assert (taken.status_code, taken["Location"]) == (new.status_code, new["Location"])
    shown = client.get(taken["Location"]).content.decode()
    assert shown.replace(email.lower(), "X") == newcomer.get(
        new["Location"]
    ).content.decode().replace("fresh@example.com", "X")
    assert not User.objects.filter(username="ada").exists()
    [mail] = mailoutbox
    assert mail.to == ["owner@example.com"]
    assert "/accounts/confirm/" not in mail.body
    assert "http://testserver/accounts/password/reset/" in mail.body
    assert list(EmailAddress.objects.filter(email="owner@example.com")) == list(
        owner.emailaddress_set.all()  # type: ignore[attr-defined]  # allauth has no types
    )


@pytest.mark.parametrize("username", ["ada", "ADA"])
def test_a_username_in_use_is_a_form_error(client: Client, mailoutbox, username: str) -> None:
    make_user("ada", email="first@example.com")
    response = client.post(SIGNUP, signup_form(username=username, email="second@example.com"))
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "username": ["A user with that username already exists."]
    }
    assert User.objects.count() == 1
    assert mailoutbox == []


def test_mismatched_passwords_are_a_form_error(client: Client, mailoutbox) -> None:
    response = client.post(SIGNUP, signup_form(password2=NEW_PASSWORD + "!"))
    assert response.context["form"].errors == {
        "password2": ["You must type the same password each time."]
    }
    assert not User.objects.exists()
    assert mailoutbox == []


def test_a_weak_password_is_a_form_error(client: Client, mailoutbox) -> None:
    response = client.post(SIGNUP, signup_form(password1="12345678", password2="12345678"))
    assert "This password is too common." in response.context["form"].errors["password1"]
    assert not User.objects.exists()
    assert mailoutbox == []


def test_a_missing_email_is_a_form_error(client: Client) -> None:
    response = client.post(SIGNUP, signup_form(email=""))
    assert response.context["form"].errors == {"email": ["This field is required."]}
    assert not User.objects.exists()


def test_a_signed_in_user_is_sent_on(client: Client) -> None:
    client.force_login(make_user("ada"))
    response = client.get(SIGNUP)
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.post(SIGNUP, signup_form(username="bob", email="b@example.com")).status_code == (
        302
    )
    assert not User.objects.filter(username="bob").exists()


def test_an_old_confirmation_link_sends_to_sign_in_and_says_why(client: Client) -> None:
    response = client.get("/accounts/confirm/MQ/c4x-0123456789abcdef/", follow=True)
    assert response.redirect_chain == [("/accounts/login/", 302)]
    assert "This confirmation link is no longer valid." in response.content.decode()
