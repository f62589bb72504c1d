"""The sign-in page's account messages and the resend-confirmation page."""

from __future__ import annotations

import re

import pytest
from bs4 import BeautifulSoup
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from portal import accounts
from portal.account_forms import SignInForm
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db

User = get_user_model()
LOGIN = "/accounts/login/"
RESEND = "/accounts/resend-confirmation/"
RESEND_DONE = "/accounts/resend-confirmation/done/"
CONFIRM_PATH = re.compile(r"https?://[^/\s]+(/accounts/confirm/[^/\s]+/[^/\s]+/)")
INVALID_LOGIN = SignInForm.error_messages["invalid_login"] % {"username": "username"}


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def pending_user():
    return accounts.create_inactive_user(username="ada", email="ada@example.com", password=PASSWORD)


def sign_in(client: Client, username: str, password: str = PASSWORD):
    return client.post(LOGIN, {"username": username, "password": password})


def test_the_sign_in_page_links_to_sign_up_and_forgot_password(client: Client) -> None:
    page = BeautifulSoup(client.get(LOGIN).content, "html.parser")
    main = page.find("main")
    assert main.find("a", string="Create an account")["href"] == "/accounts/signup/"
    assert main.find("a", string="Forgot your password?")["href"] == "/accounts/password_reset/"
    assert main.find(attrs={"data-resend-confirmation": True}) is None


def test_an_active_account_signs_in(client: Client) -> None:
    make_user("bob")
    response = sign_in(client, "bob")
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_an_account_awaiting_confirmation_is_told_so_and_offered_a_new_link(
    client: Client, pending_user
) -> None:
    response = sign_in(client, "ada")

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [SignInForm.error_messages["unconfirmed"]]
    page = BeautifulSoup(response.content, "html.parser")
    resend = page.find(attrs={"data-resend-confirmation": True}).find("a")
    assert resend["href"] == RESEND
    assert "_auth_user_id" not in client.session


def test_a_wrong_password_for_an_inactive_account_reveals_nothing(
    client: Client, pending_user
) -> None:
    response = sign_in(client, "ada", "not the password")
    assert response.context["form"].non_field_errors() == [INVALID_LOGIN]
    assert b"data-resend-confirmation" not in response.content


def test_an_unknown_name_gets_the_usual_message(client: Client) -> None:
    response = sign_in(client, "nobody")
    assert response.context["form"].non_field_errors() == [INVALID_LOGIN]


def test_an_account_an_admin_disabled_is_told_it_is_disabled(client: Client) -> None:
    make_user("bob", is_active=False, last_login=timezone.now())
    response = sign_in(client, "bob")
    assert response.context["form"].non_field_errors() == [SignInForm.error_messages["inactive"]]
    assert b"data-resend-confirmation" not in response.content
    assert "_auth_user_id" not in client.session


def test_resend_sends_a_working_link(client: Client, mailoutbox, pending_user) -> None:
    assert client.get(RESEND).status_code == 200

    response = client.post(RESEND, {"email": "ADA@example.com"})

    assert response.status_code == 302
    assert response["Location"] == RESEND_DONE
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["ada@example.com"]
    path = CONFIRM_PATH.search(mailoutbox[0].body).group(1)
    assert client.get(path)["Location"] == "/accounts/profile/"
    pending_user.refresh_from_db()
    assert pending_user.is_active is True


@pytest.mark.parametrize(
    "email",
    ["nobody@example.com", "bob@example.com", "gone@example.com"],
    ids=["unknown", "active", "disabled"],
)
def test_resend_answers_the_same_and_sends_nothing_for_other_addresses(
    client: Client, mailoutbox, email: str
) -> None:
    make_user("bob", email="bob@example.com")
    make_user("gone", email="gone@example.com", is_active=False, last_login=timezone.now())

    response = client.post(RESEND, {"email": email}, follow=True)

    assert response.redirect_chain == [(RESEND_DONE, 302)]
    assert "If an account waiting for confirmation uses that address" in response.content.decode()
    assert mailoutbox == []


def test_resend_twice_in_a_row_sends_one_email(client: Client, mailoutbox, pending_user) -> None:
    client.post(RESEND, {"email": "ada@example.com"})
    client.post(RESEND, {"email": "ada@example.com"})
    assert len(mailoutbox) == 1


def test_resend_with_a_malformed_address_is_a_form_error(client: Client, mailoutbox) -> None:
    response = client.post(RESEND, {"email": "not an address"})
    assert response.status_code == 200
    assert response.context["form"].errors == {"email": ["Enter a valid email address."]}
    assert mailoutbox == []
