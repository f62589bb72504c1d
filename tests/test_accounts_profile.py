"""The profile page and the account links in the navigation bar."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from django.test import Client
from django.urls import reverse

from portal.account_forms import EMAIL_IN_USE
from tests.factories import make_user

pytestmark = pytest.mark.django_db

PROFILE = "/accounts/profile/"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def ada(client: Client):
    user = make_user("ada", email="ada@example.com", first_name="Ada", last_name="Byron")
    client.force_login(user)
    return user


def profile_form(**overrides: str) -> dict[str, str]:
    return {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.org", **overrides}


def test_anonymous_visitors_are_sent_to_sign_in(client: Client) -> None:
    response = client.get(PROFILE)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/accounts/profile/"
    assert client.post(PROFILE, profile_form())["Location"].startswith("/accounts/login/")


def test_the_page_shows_the_values_and_the_account_links(client: Client, ada) -> None:
    response = client.get(PROFILE)
    assert response.status_code == 200
    page = BeautifulSoup(response.content, "html.parser")
    assert page.find("input", attrs={"name": "first_name"})["value"] == "Ada"
    assert page.find("input", attrs={"name": "last_name"})["value"] == "Byron"
    assert page.find("input", attrs={"name": "email"})["value"] == "ada@example.com"
    links = {a["href"] for a in page.select("main a")}
    assert {
        reverse("gateway:subscription_list"),
        reverse("gateway:analytics"),
        "/accounts/password_change/",
    } <= links


def test_edit_saves_and_says_so(client: Client, ada) -> None:
    response = client.post(PROFILE, profile_form(), follow=True)
    assert response.redirect_chain == [(PROFILE, 302)]
    assert "Your profile is saved." in response.content.decode()
    ada.refresh_from_db()
    assert (ada.first_name, ada.last_name, ada.email) == ("Ada", "Lovelace", "ada@example.org")


@pytest.mark.parametrize("email", ["bob@example.com", "BOB@EXAMPLE.COM"])
def test_another_accounts_email_is_a_form_error(client: Client, ada, email: str) -> None:
    make_user("bob", email="bob@example.com")
    response = client.post(PROFILE, profile_form(email=email))
    assert response.status_code == 200
    assert response.context["form"].errors == {"email": [EMAIL_IN_USE]}
    ada.refresh_from_db()
    assert (ada.last_name, ada.email) == ("Byron", "ada@example.com")


def test_the_own_email_in_other_case_is_accepted(client: Client, ada) -> None:
    response = client.post(PROFILE, profile_form(email="ADA@example.com"))
    assert response.status_code == 302
    ada.refresh_from_db()
    assert ada.email == "ADA@example.com"


@pytest.mark.parametrize(
    ("email", "error"),
    [("", "This field is required."), ("not-an-address", "Enter a valid email address.")],
)
def test_a_missing_or_malformed_email_is_a_form_error(
    client: Client, ada, email: str, error: str
) -> None:
    response = client.post(PROFILE, profile_form(email=email))
    assert response.context["form"].errors == {"email": [error]}
    ada.refresh_from_db()
    assert ada.email == "ada@example.com"


def test_a_too_long_name_is_a_form_error(client: Client, ada) -> None:
    response = client.post(PROFILE, profile_form(first_name="x" * 151))
    assert list(response.context["form"].errors) == ["first_name"]
    ada.refresh_from_db()
    assert ada.first_name == "Ada"


def test_the_nav_username_links_to_the_profile(client: Client, ada) -> None:
    page = BeautifulSoup(client.get("/").content, "html.parser")
    link = page.select_one("nav a.navbar-text")
    assert link.get_text(strip=True) == "ada"
    assert link["href"] == PROFILE
    assert page.select_one("nav").find("a", string="Sign up") is None


def test_anonymous_visitors_see_sign_up_in_the_nav(client: Client) -> None:
    page = BeautifulSoup(client.get("/").content, "html.parser")
    assert page.select_one("nav").find("a", string="Sign up")["href"] == "/accounts/signup/"
