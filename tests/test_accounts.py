"""portal.accounts: inactive accounts, confirmation tokens, who may sign in or reset."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.contrib.sessions.backends.db import SessionStore
from django.core import mail
from django.test import RequestFactory
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from portal import accounts
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db

User = get_user_model()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


class FailingEmailBackend:
    """A mail server that refuses everything."""

    def __init__(self, *args, **kwargs) -> None:
        pass

    def send_messages(self, messages) -> int:
        raise OSError("connection refused")


def signup_request():
    return RequestFactory().post("/accounts/signup/")


def uid_of(user) -> str:
    return urlsafe_base64_encode(force_bytes(user.pk))


def signed_in_request():
    """A request with a real session, as accounts.confirm_account signs the user in."""
    request = RequestFactory().get("/accounts/confirm/")
    request.session = SessionStore()
    return request


def test_create_inactive_user_is_inactive_with_the_domain_lowercased() -> None:
    user = accounts.create_inactive_user(username="ada", email="Ada@Example.COM", password=PASSWORD)
    user.refresh_from_db()
    assert user.is_active is False
    assert user.email == "Ada@example.com"
    assert user.check_password(PASSWORD)
    assert accounts.is_awaiting_confirmation(user=user)


def test_sign_up_sends_one_mail_with_the_link_on_the_request_host() -> None:
    user = accounts.sign_up(
        request=signup_request(), username="ada", email="ada@example.com", password=PASSWORD
    )
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ada@example.com"]
    assert message.subject == "Confirm your API portal account"
    assert f"http://testserver/accounts/confirm/{uid_of(user)}/" in message.body
    assert "expires in 3 days" in message.body


def test_sign_up_creates_nothing_when_the_mail_cannot_be_sent(settings) -> None:
    settings.EMAIL_BACKEND = "tests.test_accounts.FailingEmailBackend"
    with pytest.raises(accounts.ConfirmationNotSent):
        accounts.sign_up(
            request=signup_request(), username="ada", email="ada@example.com", password=PASSWORD
        )
    assert not User.objects.filter(username="ada").exists()


def test_confirm_account_activates_and_signs_in_once() -> None:
    user = accounts.create_inactive_user(username="ada", email="a@example.com", password=PASSWORD)
    token = accounts.confirmation_tokens.make_token(user)
    request = signed_in_request()

    confirmed = accounts.confirm_account(request=request, uidb64=uid_of(user), token=token)

    assert confirmed == user
    user.refresh_from_db()
    assert user.is_active and user.last_login is not None
    assert request.session["_auth_user_id"] == str(user.pk)
    again = accounts.confirm_account(request=signed_in_request(), uidb64=uid_of(user), token=token)
    assert again is None


def test_a_password_reset_token_does_not_confirm_an_account() -> None:
    user = accounts.create_inactive_user(username="ada", email="a@example.com", password=PASSWORD)
    reset_token = default_token_generator.make_token(user)
    result = accounts.confirm_account(
        request=signed_in_request(), uidb64=uid_of(user), token=reset_token
    )
    assert result is None
    user.refresh_from_db()
    assert user.is_active is False


def test_an_expired_link_confirms_nothing(monkeypatch, settings) -> None:
    user = accounts.create_inactive_user(username="ada", email="a@example.com", password=PASSWORD)
    four_days_ago = datetime.now() - timedelta(days=4)
    monkeypatch.setattr(accounts.confirmation_tokens, "_now", lambda: four_days_ago)
    token = accounts.confirmation_tokens.make_token(user)
    monkeypatch.undo()

    result = accounts.confirm_account(request=signed_in_request(), uidb64=uid_of(user), token=token)

    assert result is None
    user.refresh_from_db()
    assert user.is_active is False


def test_an_account_an_admin_disabled_cannot_be_confirmed_back() -> None:
    user = make_user("ada", is_active=False, last_login=timezone.now())
    token = accounts.confirmation_tokens.make_token(user)
    result = accounts.confirm_account(request=signed_in_request(), uidb64=uid_of(user), token=token)
    assert result is None
    user.refresh_from_db()
    assert user.is_active is False


@pytest.mark.parametrize("uidb64", ["", "!!!", "bm90LWEtbnVtYmVy", urlsafe_base64_encode(b"999")])
def test_user_from_uidb64_answers_none_for_garbage(uidb64: str) -> None:
    assert accounts.user_from_uidb64(uidb64=uidb64) is None


def test_inactive_account_for_credentials() -> None:
    pending = accounts.create_inactive_user(
        username="ada", email="a@example.com", password=PASSWORD
    )
    make_user("bob")
    assert accounts.inactive_account_for_credentials(username="ada", password=PASSWORD) == pending
    assert accounts.inactive_account_for_credentials(username="ada", password="wrong") is None
    assert accounts.inactive_account_for_credentials(username="bob", password=PASSWORD) is None
    assert accounts.inactive_account_for_credentials(username="nobody", password=PASSWORD) is None


def test_password_reset_recipients_are_active_or_awaiting_confirmation() -> None:
    active = make_user("active", email="same@example.com")
    pending = accounts.create_inactive_user(
        username="pending", email="SAME@example.com", password=PASSWORD
    )
    make_user("disabled", email="same@example.com", is_active=False, last_login=timezone.now())
    no_password = make_user("nopass", email="same@example.com")
    no_password.set_unusable_password()
    no_password.save()

    recipients = accounts.password_reset_recipients(email="Same@Example.com")

    assert sorted(user.username for user in recipients) == sorted([active.username, "pending"])
    assert pending in recipients


def test_password_reset_recipients_compare_addresses_the_unicode_way() -> None:
    make_user("mike", email="mike@example.org")
    # Some databases' iexact treat the dotless i (U+0131) as i; the address is not the same.
    assert accounts.password_reset_recipients(email="m\u0131ke@example.org") == []


def test_set_password_from_reset_confirms_an_account_awaiting_confirmation() -> None:
    user = accounts.create_inactive_user(username="ada", email="a@example.com", password=PASSWORD)
    accounts.set_password_from_reset(user=user, password="a new and long password")
    user.refresh_from_db()
    assert user.is_active is True
    assert user.check_password("a new and long password")


def test_resend_is_throttled_per_account() -> None:
    accounts.create_inactive_user(username="ada", email="a@example.com", password=PASSWORD)
    accounts.resend_confirmation(request=signup_request(), email="A@example.com")
    accounts.resend_confirmation(request=signup_request(), email="a@example.com")
    assert len(mail.outbox) == 1
    assert re.search(r"/accounts/confirm/[^/]+/[^/]+/", mail.outbox[0].body)


def test_resend_after_a_mail_failure_is_not_throttled(settings) -> None:
    accounts.create_inactive_user(username="ada", email="a@example.com", password=PASSWORD)
    settings.EMAIL_BACKEND = "tests.test_accounts.FailingEmailBackend"
    accounts.resend_confirmation(request=signup_request(), email="a@example.com")
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    accounts.resend_confirmation(request=signup_request(), email="a@example.com")
    assert len(mail.outbox) == 1


def test_link_lifetime_follows_the_setting(settings) -> None:
    settings.PASSWORD_RESET_TIMEOUT = 2 * 3600
    assert accounts.link_lifetime() == "2 hours"


def test_update_profile_strips_and_normalizes() -> None:
    user = make_user("ada")
    accounts.update_profile(user=user, first_name=" Ada ", last_name="Lovelace", email="A@X.ORG")
    user.refresh_from_db()
    assert (user.first_name, user.last_name, user.email) == ("Ada", "Lovelace", "A@x.org")
