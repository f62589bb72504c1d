"""A newcomer signs up in the browser, confirms through the emailed link and edits the
profile. The live server runs in this process, with Django's test mail backend
(locmem), so the link is read from django.core.mail.outbox."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import Page, ViewportSize, expect

from tests.e2e.conftest import mailed_link, problems_of, screenshot
from tests.factories import make_user

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "a long passphrase for the e2e test"
NEW_PASSWORD = "another long passphrase for e2e"
CONFIRM_LINK = re.compile(r"https?://\S+/accounts/confirm/[^/\s]+/")
RESET_LINK = re.compile(r"https?://\S+/accounts/password/reset/key/[^/\s]+/")
PHONE = ViewportSize(width=390, height=844)
LAPTOP = ViewportSize(width=1366, height=768)


@pytest.fixture(autouse=True)
def site_url_is_the_live_server(settings, live_server) -> None:
    settings.PORTAL_SITE_URL = live_server.url


def screenshots(page: Page, name: str) -> None:
    """The page at a laptop's and a phone's width."""
    size = page.viewport_size
    assert size is not None
    for label, viewport in (("1366", LAPTOP), ("390", PHONE)):
        page.set_viewport_size(viewport)
        screenshot(page, f"{name}-{label}")
    page.set_viewport_size(size)


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
    screenshots(page, "accounts-signup")
    page.get_by_role("button", name="Sign up").click()
    expect(page.locator("main .invalid-feedback")).to_contain_text(
        "You must type the same password each time."
    )
    screenshots(page, "accounts-signup-errors")
    page.locator("input[name=password1]").fill(PASSWORD)
    page.locator("input[name=password2]").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    screenshots(page, "accounts-signup-done")
    problems_of(page).assert_none()

    # Not confirmed yet: signing in is refused and says to check the mail.
    assert len(mail.outbox) == 1
    page.locator("main").get_by_role("link", name="sign in").click()
    page.locator("input[name=login]").fill("ada")
    page.locator("input[name=password]").fill(PASSWORD)
    screenshots(page, "accounts-signin")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    expect(page.locator("nav.navbar").get_by_role("link", name="Sign in")).to_be_visible()

    # The link from the email, on the live server's own scheme and host.
    link = mailed_link(CONFIRM_LINK)
    assert link.startswith(base + "/accounts/confirm/")
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your email address")
    screenshots(page, "accounts-confirm")
    page.get_by_role("button", name="Confirm").click()
    # Confirming finishes the sign-in that asked for it, which lands on the catalog.
    expect(page).to_have_url(base + "/")
    expect(page.locator("nav .navbar-text")).to_have_text("ada")
    page.locator("nav .navbar-text").click()
    expect(page).to_have_url(base + "/accounts/profile/")
    expect(page.locator("nav .navbar-text")).to_have_text("ada")

    page.locator("input[name=first_name]").fill("Ada")
    page.locator("input[name=last_name]").fill("Lovelace")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("main .alert-success").last).to_have_text("Your profile is saved.")
    expect(page.locator("input[name=last_name]")).to_have_value("Lovelace")
    screenshots(page, "accounts-profile")

    # The nav's username leads back here; the profile links to the gateway pages.
    page.goto(base + "/")
    page.locator("nav.navbar").get_by_role("link", name="ada").click()
    expect(page).to_have_url(base + "/accounts/profile/")
    main = page.locator("main")
    for name in ("Email address", "Subscriptions", "Analytics", "Change password"):
        expect(main.get_by_role("link", name=re.compile(f"^{name}"))).to_be_visible()
    problems_of(page).assert_none()

    # The link is spent.
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("This confirmation link is not valid")
    screenshots(page, "accounts-confirm-invalid")
    problems_of(page).assert_none()


def test_forgot_password_and_change_it(page: Page, live_server, django_user_model) -> None:
    make_user("bob", email="bob@example.com")
    mail.outbox.clear()
    base = live_server.url

    page.goto(base + "/accounts/login/")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Forgot your password?")
    page.locator("input[name=email]").fill("BOB@example.com")
    screenshots(page, "accounts-password-reset")
    page.get_by_role("button", name="Send reset link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")

    assert len(mail.outbox) == 1
    link = mailed_link(RESET_LINK)
    assert link.startswith(base + "/accounts/password/reset/key/")
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose a new password")
    page.locator("input[name=password1]").fill(NEW_PASSWORD)
    page.locator("input[name=password2]").fill(NEW_PASSWORD)
    screenshots(page, "accounts-password-reset-confirm")
    page.get_by_role("button", name="Set password").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your password is set")
    page.locator("main").get_by_role("link", name="Sign in").click()
    page.locator("input[name=login]").fill("bob")
    page.locator("input[name=password]").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("nav .navbar-text")).to_have_text("bob")

    # Change it again from the profile.
    page.locator("nav .navbar-text").click()
    page.locator("main").get_by_role("link", name=re.compile("^Change password")).click()
    page.locator("input[name=oldpassword]").fill(NEW_PASSWORD)
    page.locator("input[name=password1]").fill(PASSWORD)
    page.locator("input[name=password2]").fill(PASSWORD)
    screenshots(page, "accounts-password-change")
    page.get_by_role("button", name="Change password").click()
    expect(page.locator("main .alert-success").last).to_have_text("Password successfully changed.")

    # A new address: the password first, then it waits for its link.
    page.locator("main").get_by_role("link", name="Back to your profile").click()
    page.locator("main").get_by_role("link", name=re.compile("^Email address")).click()
    page.locator("input[name=email]").fill("bob@example.org")
    page.get_by_role("button", name="Change email").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm it is you")
    screenshots(page, "accounts-reauthenticate")
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator("[data-new-email]")).to_contain_text("bob@example.org")
    expect(page.locator("[data-current-email]")).to_have_text("bob@example.com")
    screenshots(page, "accounts-email-change")
    problems_of(page).assert_none()
