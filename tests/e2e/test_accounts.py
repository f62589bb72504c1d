"""A newcomer signs up in the browser, confirms through the emailed link and edits the
profile. The live server runs in this process, with Django's test mail backend
(locmem), so the link is read from django.core.mail.outbox."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from playwright.sync_api import Page, expect

from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "a long passphrase for the e2e test"
NEW_PASSWORD = "another long passphrase for e2e"
CONFIRM_LINK = re.compile(r"https?://\S+/accounts/confirm/[^/\s]+/[^/\s]+/")
RESET_LINK = re.compile(r"https?://\S+/accounts/reset/[^/\s]+/[^/\s]+/")


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_sign_up_confirm_and_edit_the_profile(page: Page, live_server, settings) -> None:
    assert settings.EMAIL_BACKEND == "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox.clear()
    base = live_server.url

    page.goto(base + "/")
    page.locator("nav.navbar").get_by_role("link", name="Sign up").click()
    expect(page).to_have_url(base + "/accounts/signup/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Create your account")
    page.locator("input[name=username]").fill("ada")
    page.locator("input[name=email]").fill("ada@example.com")
    page.locator("input[name=password1]").fill(PASSWORD)
    page.locator("input[name=password2]").fill(PASSWORD + "?")
    screenshot(page, "accounts-signup")
    page.get_by_role("button", name="Sign up").click()
    expect(page.locator("main .invalid-feedback")).to_contain_text("didn’t match")
    screenshot(page, "accounts-signup-errors")
    page.locator("input[name=password1]").fill(PASSWORD)
    page.locator("input[name=password2]").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    screenshot(page, "accounts-signup-done")
    page.problems.assert_none()

    # Not confirmed yet: the sign-in page says so and offers a new link.
    assert len(mail.outbox) == 1
    assert get_user_model().objects.get(username="ada").is_active is False
    page.locator("nav.navbar").get_by_role("link", name="Sign in").click()
    page.locator("input[name=username]").fill("ada")
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("main .alert")).to_contain_text("This account is not confirmed yet")
    expect(page.get_by_role("link", name="Send me a new confirmation link")).to_be_visible()
    screenshot(page, "accounts-signin-unconfirmed")

    # The link from the email, on the live server's own scheme and host.
    link = CONFIRM_LINK.search(mail.outbox[0].body).group(0)
    assert link.startswith(base + "/accounts/confirm/")
    page.goto(link)
    expect(page).to_have_url(base + "/accounts/profile/")
    expect(page.locator("main .alert-success")).to_have_text(
        "Your account is confirmed. Welcome, ada!"
    )
    expect(page.locator("nav .navbar-text")).to_have_text("ada")

    page.locator("input[name=first_name]").fill("Ada")
    page.locator("input[name=last_name]").fill("Lovelace")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("main .alert-success")).to_have_text("Your profile is saved.")
    expect(page.locator("input[name=last_name]")).to_have_value("Lovelace")
    screenshot(page, "accounts-profile")

    # The nav's username leads back here; the profile links to the gateway pages.
    page.goto(base + "/")
    page.locator("nav.navbar").get_by_role("link", name="ada").click()
    expect(page).to_have_url(base + "/accounts/profile/")
    main = page.locator("main")
    for name in ("Subscriptions", "Analytics", "Change password"):
        expect(main.get_by_role("link", name=re.compile(f"^{name}"))).to_be_visible()
    page.problems.assert_none()

    # The link is spent.
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("This confirmation link is not valid")
    screenshot(page, "accounts-confirm-invalid")
    page.problems.assert_none()


def test_forgot_password_and_change_it(page: Page, live_server, django_user_model) -> None:
    django_user_model.objects.create_user("bob", email="bob@example.com", password=PASSWORD)
    mail.outbox.clear()
    base = live_server.url

    page.goto(base + "/accounts/login/")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Forgot your password?")
    page.locator("input[name=email]").fill("BOB@example.com")
    screenshot(page, "accounts-password-reset")
    page.get_by_role("button", name="Send reset link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")

    assert len(mail.outbox) == 1
    link = RESET_LINK.search(mail.outbox[0].body).group(0)
    assert link.startswith(base + "/accounts/reset/")
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose a new password")
    page.locator("input[name=new_password1]").fill(NEW_PASSWORD)
    page.locator("input[name=new_password2]").fill(NEW_PASSWORD)
    screenshot(page, "accounts-password-reset-confirm")
    page.get_by_role("button", name="Set password").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your password is set")
    page.locator("main").get_by_role("link", name="Sign in").click()
    page.locator("input[name=username]").fill("bob")
    page.locator("input[name=password]").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("nav .navbar-text")).to_have_text("bob")

    # Change it again from the profile.
    page.locator("nav .navbar-text").click()
    page.locator("main").get_by_role("link", name=re.compile("^Change password")).click()
    page.locator("input[name=old_password]").fill(NEW_PASSWORD)
    page.locator("input[name=new_password1]").fill(PASSWORD)
    page.locator("input[name=new_password2]").fill(PASSWORD)
    screenshot(page, "accounts-password-change")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Password changed")
    page.problems.assert_none()
