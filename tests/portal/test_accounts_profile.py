"""The profile page, the navigation's account links, and changing the email address:
the new address takes effect only once confirmed, and only after the password."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from bs4 import BeautifulSoup
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD, make_user
from tests.markup import link_named, one

pytestmark = pytest.mark.django_db

PROFILE = "/accounts/profile/"
EMAIL = "/accounts/email/"
REAUTH = "/accounts/reauthenticate/"
CONFIRM_LINK = re.compile(r"https?://[^/\s]+(/accounts/confirm/[^/\s]+/)")


@pytest.fixture
def ada(client: Client):
    """Ada, signed in through the sign-in page (allauth records when)."""
    user = make_user("ada", email="ada@example.com", first_name="Ada", last_name="Byron")
    assert (
        client.post("/accounts/login/", {"login": "ada", "password": PASSWORD}).status_code == 302
    )
    return user


def reauthenticate(client: Client, password: str = PASSWORD):
    return client.post(REAUTH, {"password": password, "next": EMAIL})


def addresses(user) -> list[tuple[str, bool, bool]]:
    return sorted(
        (row.email, row.primary, row.verified) for row in EmailAddress.objects.filter(user=user)
    )


def test_anonymous_visitors_are_sent_to_sign_in(client: Client) -> None:
    response = client.get(PROFILE)
    assert response["Location"] == "/accounts/login/?next=/accounts/profile/"
    assert client.post(PROFILE, {"first_name": "x"})["Location"].startswith("/accounts/login/")
    assert client.get(EMAIL)["Location"] == "/accounts/login/?next=/accounts/email/"


def test_the_page_shows_the_names_the_address_and_the_account_links(client: Client, ada) -> None:
    page = BeautifulSoup(client.get(PROFILE).content, "html.parser")
    assert one(page, "input[name=first_name]")["value"] == "Ada"
    assert one(page, "input[name=last_name]")["value"] == "Byron"
    assert page.find("input", attrs={"name": "email"}) is None
    assert one(page, "[data-profile-email]").get_text(strip=True) == "ada@example.com"
    links = {a["href"] for a in page.select("main a")}
    assert {
        reverse("gateway:subscription_list"),
        reverse("analytics:analytics"),
        "/accounts/password/change/",
        EMAIL,
    } <= links


def test_edit_saves_the_names_and_says_so(client: Client, ada) -> None:
    response = client.post(
        PROFILE,
        {"first_name": " Ada ", "last_name": "Lovelace", "email": "evil@example.com"},
        follow=True,
    )
    assert response.redirect_chain == [(PROFILE, 302)]
    assert "Your profile is saved." in response.content.decode()
    ada.refresh_from_db()
    assert (ada.first_name, ada.last_name, ada.email) == ("Ada", "Lovelace", "ada@example.com")


def test_a_too_long_name_is_a_form_error(client: Client, ada) -> None:
    response = client.post(PROFILE, {"first_name": "x" * 151, "last_name": ""})
    assert list(response.context["form"].errors) == ["first_name"]
    ada.refresh_from_db()
    assert ada.first_name == "Ada"


def test_a_new_address_takes_effect_only_once_confirmed(client: Client, ada, mailoutbox) -> None:
    asked = client.post(EMAIL, {"action_add": "", "email": "Ada@Example.org"})
    assert asked["Location"] == "/accounts/reauthenticate/?next=%2Faccounts%2Femail%2F"

    response = reauthenticate(client)

    assert response["Location"] == EMAIL
    ada.refresh_from_db()
    assert ada.email == "ada@example.com"
    assert addresses(ada) == [("ada@example.com", True, True), ("ada@example.org", False, False)]
    page = BeautifulSoup(client.get(EMAIL).content, "html.parser")
    assert one(page, "[data-current-email]").get_text(strip=True) == "ada@example.com"
    assert "ada@example.org" in one(page, "[data-new-email]").get_text()
    [mail] = mailoutbox
    assert mail.to == ["ada@example.org"]
    # Sign-in and reset still use the old address until the link is opened.
    confirm = CONFIRM_LINK.search(mail.body)
    assert confirm, mail.body
    client.post(confirm.group(1))
    ada.refresh_from_db()
    assert ada.email == "ada@example.org"
    assert addresses(ada) == [("ada@example.org", True, True)]
    # The old address is told.
    assert [m.to for m in mailoutbox[1:]] == [["ada@example.com"]]
    assert "ada@example.org" in mailoutbox[1].body


def test_a_signed_in_session_without_the_password_cannot_change_the_address(
    client: Client, ada, mailoutbox
) -> None:
    """Someone at Ada's unlocked computer: the session alone does not move the account
    to their address."""
    response = client.post(EMAIL, {"action_add": "", "email": "thief@example.net"})

    assert response["Location"].startswith(REAUTH)
    wrong = reauthenticate(client, "guess")
    assert wrong.context["form"].errors == {"password": ["Incorrect password."]}
    assert addresses(ada) == [("ada@example.com", True, True)]
    assert mailoutbox == []
    ada.refresh_from_db()
    assert ada.email == "ada@example.com"


def test_an_address_another_account_confirmed_cannot_be_taken(
    client: Client, ada, mailoutbox
) -> None:
    make_user("bob", email="bob@example.com")
    client.post(EMAIL, {"action_add": "", "email": "BOB@example.com"})
    reauthenticate(client)
    confirmed = EmailAddress.objects.get(email="bob@example.com", verified=True)
    assert confirmed.user.username == "bob"
    ada.refresh_from_db()
    assert ada.email == "ada@example.com"
    assert addresses(ada)[0] == ("ada@example.com", True, True)
    # Whatever was mailed to Bob's address, opening it cannot give it to Ada.
    for link in (CONFIRM_LINK.search(m.body) for m in mailoutbox):
        if link:
            client.post(link.group(1))
    ada.refresh_from_db()
    assert ada.email == "ada@example.com"
    assert EmailAddress.objects.get(email="bob@example.com", verified=True).user.username == "bob"


def test_the_nav_username_links_to_the_profile(client: Client, ada) -> None:
    page = BeautifulSoup(client.get("/").content, "html.parser")
    link = one(page, "nav a.navbar-text")
    assert link.get_text(strip=True) == "ada"
    assert link["href"] == PROFILE
    assert one(page, "nav").find("a", string="Sign up") is None


def test_anonymous_visitors_see_sign_up_in_the_nav(client: Client) -> None:
    page = BeautifulSoup(client.get("/").content, "html.parser")
    assert link_named(one(page, "nav"), "Sign up")["href"] == "/accounts/signup/"
