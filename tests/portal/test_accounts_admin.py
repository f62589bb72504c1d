"""Admins manage accounts in Django's admin: the list shows email and the active flag."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import Client

from portal.admin import PortalUserAdmin
from tests.factories import make_user
from tests.markup import link_named, one

pytestmark = pytest.mark.django_db

USERS = "/admin/auth/user/"


@pytest.fixture
def admin_client_with_users(client: Client) -> Client:
    client.force_login(make_user("root", staff=True))
    make_user("bob", email="bob@example.com")
    make_user("ada", email="ada@example.com", is_active=False)
    return client


def listed_usernames(response) -> list[str]:
    page = BeautifulSoup(response.content, "html.parser")
    return sorted(cell.get_text(strip=True) for cell in page.select("#result_list .field-username"))


def test_the_portal_user_admin_is_registered() -> None:
    assert isinstance(admin.site._registry[get_user_model()], PortalUserAdmin)


def test_the_list_shows_email_and_active(admin_client_with_users: Client) -> None:
    response = admin_client_with_users.get(USERS)
    assert response.status_code == 200
    page = BeautifulSoup(response.content, "html.parser")
    headers = [th.get_text(strip=True) for th in page.select("#result_list thead th")]
    assert "Email address" in headers
    assert "Active" in headers
    ada_row = link_named(page, "ada").find_parent("tr")
    assert ada_row is not None
    assert one(ada_row, ".field-email").get_text(strip=True) == "ada@example.com"
    assert one(ada_row, ".field-is_active img")["alt"] == "False"


def test_the_list_filters_by_active(admin_client_with_users: Client) -> None:
    inactive = admin_client_with_users.get(USERS, {"is_active__exact": "0"})
    assert listed_usernames(inactive) == ["ada"]
    active = admin_client_with_users.get(USERS, {"is_active__exact": "1"})
    assert listed_usernames(active) == ["bob", "root"]


def test_the_list_searches_by_email(admin_client_with_users: Client) -> None:
    response = admin_client_with_users.get(USERS, {"q": "ada@example"})
    assert listed_usernames(response) == ["ada"]
