"""Sign-up and confirmation pages: /accounts/signup/, /accounts/confirm/<uid>/<token>/."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from portal.account_forms import EMAIL_IN_USE
from tests.factories import make_user

pytestmark = pytest.mark.django_db

User = get_user_model()
SIGNUP = "/accounts/signup/"
NEW_PASSWORD = "a long and unusual passphrase"
CONFIRM_LINK = re.compile(r"(https?)://([^/\s]+)(/accounts/confirm/([^/\s]+)/([^/\s]+)/)")
INVALID_PAGE = "This confirmation link is not valid"


class FailingEmailBackend:
    """A mail server that refuses everything."""

    def __init__(self, *args, **kwargs) -> None:
        pass

    def send_messages(self, messages) -> int:
        raise OSError("connection refused")


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


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


def test_sign_up_creates_an_inactive_account_and_sends_one_email(
    client: Client, mailoutbox
) -> None:
    response = client.post(SIGNUP, signup_form())

    assert response.status_code == 302
    assert response["Location"] == "/accounts/signup/done/"
    user = User.objects.get(username="ada")
    assert user.is_active is False
    assert user.email == "ada@example.com"
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["ada@example.com"]
    scheme, host, _path, uidb64, _token = confirmation_link(mailoutbox).groups()
    assert (scheme, host) == ("http", "testserver")
    assert uidb64 == urlsafe_base64_encode(force_bytes(user.pk))
    assert signed_in_username(client) is None
    done = client.get(response["Location"])
    assert "Check your email" in done.content.decode()


def test_the_link_uses_the_request_scheme_and_host(client: Client, mailoutbox, settings) -> None:
    settings.ALLOWED_HOSTS = ["portal.example.com"]
    client.post(SIGNUP, signup_form(), secure=True, headers={"host": "portal.example.com"})
    scheme, host, *_ = confirmation_link(mailoutbox).groups()
    assert (scheme, host) == ("https", "portal.example.com")


def test_the_link_activates_signs_in_and_works_once(client: Client, mailoutbox) -> None:
    client.post(SIGNUP, signup_form())
    path = confirmation_link(mailoutbox).group(3)

    response = client.get(path, follow=True)

    assert response.redirect_chain == [("/accounts/profile/", 302)]
    assert "Your account is confirmed. Welcome, ada!" in response.content.decode()
    assert User.objects.get(username="ada").is_active is True
    assert signed_in_username(client) == "ada"

    client.logout()
    again = client.get(path)
    assert again.status_code == 200
    assert INVALID_PAGE in again.content.decode()
    assert signed_in_username(client) is None


def test_an_inactive_account_cannot_sign_in_before_confirming(client: Client) -> None:
    client.post(SIGNUP, signup_form())
    assert client.login(username="ada", password=NEW_PASSWORD) is False


@pytest.mark.parametrize(
    "tamper",
    [
        lambda uid, token: (uid, token[:-1] + ("0" if token[-1] != "0" else "1")),
        lambda uid, token: (uid, "abc-def"),
        lambda uid, token: (uid, "not-a-token-at-all"),
        lambda uid, token: (urlsafe_base64_encode(b"999999"), token),
        lambda uid, token: ("garbage", token),
    ],
    ids=["token-changed", "token-forged", "token-garbage", "unknown-user", "uid-garbage"],
)
def test_a_tampered_link_shows_the_bad_link_page_and_activates_nothing(
    client: Client, mailoutbox, tamper
) -> None:
    client.post(SIGNUP, signup_form())
    _scheme, _host, _path, uidb64, token = confirmation_link(mailoutbox).groups()
    bad_uid, bad_token = tamper(uidb64, token)

    response = client.get(f"/accounts/confirm/{bad_uid}/{bad_token}/")

    assert response.status_code == 200
    assert INVALID_PAGE in response.content.decode()
    assert User.objects.get(username="ada").is_active is False
    assert signed_in_username(client) is None


def test_another_accounts_link_does_not_confirm_this_one(client: Client, mailoutbox) -> None:
    client.post(SIGNUP, signup_form())
    client.post(SIGNUP, signup_form(username="bob", email="bob@example.com"))
    ada_uid = confirmation_link(mailoutbox[:1]).group(4)
    bob_token = CONFIRM_LINK.search(mailoutbox[1].body).group(5)

    response = client.get(f"/accounts/confirm/{ada_uid}/{bob_token}/")

    assert INVALID_PAGE in response.content.decode()
    assert not User.objects.filter(is_active=True).exists()


@pytest.mark.parametrize("email", ["ada@example.com", "ADA@Example.com"])
def test_an_email_in_use_is_a_form_error(client: Client, mailoutbox, email: str) -> None:
    make_user("someone", email="ada@example.com")
    response = client.post(SIGNUP, signup_form(email=email))
    assert response.status_code == 200
    assert response.context["form"].errors == {"email": [EMAIL_IN_USE]}
    assert not User.objects.filter(username="ada").exists()
    assert mailoutbox == []


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
        "password2": ["The two password fields didn’t match."]
    }
    assert not User.objects.exists()
    assert mailoutbox == []


def test_a_weak_password_is_a_form_error(client: Client, mailoutbox) -> None:
    response = client.post(SIGNUP, signup_form(password1="12345678", password2="12345678"))
    errors = response.context["form"].errors["password2"]
    assert "This password is too common." in errors
    assert not User.objects.exists()


def test_a_missing_email_is_a_form_error(client: Client) -> None:
    response = client.post(SIGNUP, signup_form(email=""))
    assert response.context["form"].errors == {"email": ["This field is required."]}
    assert not User.objects.exists()


def test_a_mail_server_failure_is_a_message_and_creates_nothing(client: Client, settings) -> None:
    settings.EMAIL_BACKEND = "tests.test_accounts_signup.FailingEmailBackend"
    response = client.post(SIGNUP, signup_form())
    assert response.status_code == 200
    assert "We could not send the confirmation email" in response.content.decode()
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
