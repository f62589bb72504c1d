"""The account adapter's links and names in emails, PORTAL_SITE_URL, the deployment
check and the migration that gives existing accounts their allauth address."""

from __future__ import annotations

import importlib

import pytest
from allauth.account.models import EmailAddress
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from portal.checks import check_site_url
from portal.site_url import absolute_url, site_domain, site_url
from tests.factories import make_user

pytestmark = pytest.mark.django_db

migration = importlib.import_module("portal.migrations.0001_email_addresses")


@pytest.mark.parametrize(
    ("configured", "expected"),
    [
        ("https://portal.example.com", "https://portal.example.com"),
        ("https://portal.example.com/", "https://portal.example.com"),
        (" http://127.0.0.1:8123/ ", "http://127.0.0.1:8123"),
    ],
)
def test_site_url_is_the_setting_without_its_slash(settings, configured, expected) -> None:
    settings.PORTAL_SITE_URL = configured
    assert site_url() == expected
    assert absolute_url(path="/accounts/login/") == expected + "/accounts/login/"


@pytest.mark.parametrize("configured", ["", "portal.example.com", "ftp://portal.example.com"])
def test_no_link_is_built_without_a_usable_site_url(settings, configured) -> None:
    settings.PORTAL_SITE_URL = configured
    with pytest.raises(ImproperlyConfigured, match="Set PORTAL_SITE_URL"):
        absolute_url(path="/accounts/login/")
    [warning] = check_site_url(None)
    assert warning.id == "portal.W001"


def test_the_deployment_check_is_quiet_with_a_site_url(settings) -> None:
    settings.PORTAL_SITE_URL = "https://portal.example.com"
    assert check_site_url(None) == []
    assert site_domain() == "portal.example.com"


def test_the_migration_gives_each_account_its_primary_address() -> None:
    active = make_user("active", email="Active@Example.COM")
    pending = make_user("pending", email="pending@example.com", is_active=False)
    disabled = make_user(
        "disabled", email="gone@example.com", is_active=False, last_login=timezone.now()
    )
    twin = make_user("twin", email="ACTIVE@example.com", verified=False)
    make_user("nomail", email="")
    EmailAddress.objects.all().delete()

    migration.add_email_addresses(apps, None)

    rows = {
        row.user.username: (row.email, row.primary, row.verified)
        for row in EmailAddress.objects.select_related("user")
    }
    assert rows == {
        "active": ("active@example.com", True, True),
        "pending": ("pending@example.com", True, False),
        "disabled": ("gone@example.com", True, True),
        # The address is the older account's; the newer one has to confirm it.
        "twin": ("active@example.com", True, False),
    }
    for user in (active, pending, disabled):
        user.refresh_from_db()
    assert (active.is_active, pending.is_active, disabled.is_active) == (True, True, False)
    assert active.email == "active@example.com"
    twin.refresh_from_db()
    assert twin.is_active is True
