"""Sign-in: the page, unconfirmed and disabled accounts, and the limits on wrong
passwords (ACCOUNT_RATE_LIMITS' login_failed: 5 per username in 5 minutes, 10 a
minute per IP address)."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from django.test import Client
from django.utils import timezone

from tests.factories import PASSWORD, make_user
from tests.markup import link_named, one

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
SENT = "/accounts/confirm-email/"
INVALID_LOGIN = "The username and/or password you specified are not correct."
TOO_MANY = "Too many failed login attempts. Try again later."


def sign_in(client: Client, username: str, password: str = PASSWORD, **extra):
    return client.post(LOGIN, {"login": username, "password": password}, **extra)


def errors(response) -> list[str]:
    return response.context["form"].non_field_errors()


def test_the_sign_in_page_links_to_sign_up_and_forgot_password(client: Client) -> None:
    page = BeautifulSoup(client.get(LOGIN).content, "html.parser")
    main = one(page, "main")
    assert link_named(main, "Create an account")["href"] == "/accounts/signup/"
    assert link_named(main, "Forgot your password?")["href"] == "/accounts/password/reset/"


def test_an_active_account_signs_in_and_goes_back_where_it_was(client: Client) -> None:
    make_user("bob")
    response = client.post(LOGIN, {"login": "BOB", "password": PASSWORD, "next": "/products/"})
    assert response["Location"] == "/products/"
    assert client.session["_auth_user_id"]


def test_an_unconfirmed_account_is_sent_a_new_link_not_signed_in(
    client: Client, mailoutbox
) -> None:
    make_user("ada", verified=False)
    response = sign_in(client, "ada")
    assert response["Location"] == SENT
    assert "_auth_user_id" not in client.session
    [mail] = mailoutbox
    assert mail.to == ["ada@example.com"]
    assert "http://testserver/accounts/confirm/" in mail.body
    # A second attempt at once mails nothing more (one link in 3 minutes).
    sign_in(Client(), "ada")
    assert len(mailoutbox) == 1


def test_a_wrong_password_for_an_unconfirmed_account_reveals_nothing(
    client: Client, mailoutbox
) -> None:
    make_user("ada", verified=False)
    response = sign_in(client, "ada", "not the password")
    assert errors(response) == [INVALID_LOGIN]
    assert mailoutbox == []


def test_an_unknown_name_gets_the_usual_message(client: Client) -> None:
    assert errors(sign_in(client, "nobody")) == [INVALID_LOGIN]


def test_an_account_an_admin_disabled_cannot_sign_in(client: Client) -> None:
    make_user("bob", is_active=False, last_login=timezone.now())
    response = sign_in(client, "bob", follow=True)
    assert "This account is disabled" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_after_five_wrong_passwords_the_right_one_is_refused(client: Client) -> None:
    make_user("bob")
    for _ in range(5):
        assert errors(sign_in(client, "bob", "guess")) == [INVALID_LOGIN]

    # From another address too: the count is the username's.
    response = sign_in(Client(REMOTE_ADDR="203.0.113.9"), "bob")

    assert response.status_code == 200
    assert errors(response) == [TOO_MANY]
    assert "_auth_user_id" not in client.session


def test_four_wrong_passwords_leave_the_right_one_working(client: Client) -> None:
    make_user("bob")
    for _ in range(4):
        sign_in(client, "bob", "guess")
    assert sign_in(client, "bob")["Location"] == "/"


def test_the_count_is_kept_per_username_whatever_its_case_or_host(client: Client, settings) -> None:
    settings.ALLOWED_HOSTS = ["testserver", "other.example"]
    make_user("bob")
    for index in range(5):
        host = "other.example" if index % 2 else "testserver"
        sign_in(Client(REMOTE_ADDR=f"203.0.113.{index}"), "BoB", "guess", headers={"host": host})
    assert errors(sign_in(client, "bob")) == [TOO_MANY]


def test_ten_wrong_passwords_a_minute_from_one_address_stop_it(client: Client) -> None:
    make_user("carol")
    for index in range(10):
        sign_in(client, f"someone{index}", "guess")
    assert errors(sign_in(client, "carol")) == [TOO_MANY]
    assert sign_in(Client(REMOTE_ADDR="203.0.113.7"), "carol")["Location"] == "/"


def test_sign_out_is_a_post(client: Client) -> None:
    client.force_login(make_user("bob"))
    assert client.get("/accounts/logout/").status_code == 200
    assert "_auth_user_id" in client.session
    assert client.post("/accounts/logout/")["Location"] == "/"
    assert "_auth_user_id" not in client.session


def test_the_old_resend_page_leads_to_sign_in(client: Client) -> None:
    response = client.get("/accounts/resend-confirmation/")
    assert (response.status_code, response["Location"]) == (301, LOGIN)
