"""Accounts: sign-up with email confirmation, sign-in checks, password reset, profile.

A sign-up creates an inactive account and mails a confirmation link (uid + token). An
account is *awaiting confirmation* while it is inactive and has never signed in; one
that is inactive after having signed in was disabled by an administrator, and nothing
here turns it back on. Confirming signs the user in, which sets `last_login`, and the
token hashes `is_active` and `last_login`, so a link works once.
"""

from __future__ import annotations

import logging
import unicodedata
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model, login
from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.timesince import timeuntil

logger = logging.getLogger(__name__)

# One confirmation mail per account in this many seconds from the resend page, so that
# the page cannot be used to flood someone's mailbox.
RESEND_INTERVAL_SECONDS = 60


class ConfirmationNotSent(Exception):
    """The confirmation mail could not be handed to the mail server."""


class AccountConfirmationTokenGenerator(PasswordResetTokenGenerator):
    """Django's reset token with its own salt (a reset token cannot confirm an account,
    nor the reverse) and the account's active flag in the hash (a used link is dead).

    Links expire after settings.PASSWORD_RESET_TIMEOUT (three days by default).
    """

    key_salt = "portal.accounts.AccountConfirmationTokenGenerator"

    def _make_hash_value(self, user: AbstractBaseUser, timestamp: int) -> str:
        return f"{super()._make_hash_value(user, timestamp)}{user.is_active}"


confirmation_tokens = AccountConfirmationTokenGenerator()


def normalize_email(*, email: str) -> str:
    return BaseUserManager.normalize_email(email.strip())


def email_in_use(*, email: str, except_user: AbstractBaseUser | None = None) -> bool:
    """Whether another account uses this address, ignoring case."""
    accounts = get_user_model()._default_manager.filter(email__iexact=email.strip())
    if except_user is not None:
        accounts = accounts.exclude(pk=except_user.pk)
    return accounts.exists()


def is_awaiting_confirmation(*, user: AbstractBaseUser) -> bool:
    return not user.is_active and user.last_login is None


def awaiting_confirmation_q() -> Q:
    return Q(is_active=False, last_login__isnull=True)


def create_inactive_user(*, username: str, email: str, password: str) -> AbstractBaseUser:
    return get_user_model()._default_manager.create_user(
        username=username,
        email=normalize_email(email=email),
        password=password,
        is_active=False,
    )


def confirmation_url(*, request: HttpRequest, user: AbstractBaseUser) -> str:
    """The link for the mail, on the scheme and host the request came in on."""
    path = reverse(
        "confirm_account",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": confirmation_tokens.make_token(user),
        },
    )
    return request.build_absolute_uri(path)


def link_lifetime() -> str:
    """How long a link stays valid, in words ("3 days")."""
    now = timezone.now()
    lifetime = timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)
    return timeuntil(now + lifetime, now).replace("\xa0", " ")


def send_confirmation(*, request: HttpRequest, user: AbstractBaseUser) -> None:
    """Mail the confirmation link; ConfirmationNotSent when the mail server refuses it."""
    context = {
        "user": user,
        "confirmation_url": confirmation_url(request=request, user=user),
        "host": request.get_host(),
        "valid_for": link_lifetime(),
    }
    subject = "".join(render_to_string("accounts/confirmation_subject.txt", context).splitlines())
    body = render_to_string("accounts/confirmation_email.txt", context)
    try:
        EmailMessage(subject=subject, body=body, to=[user.email]).send()
    except Exception as error:
        # SMTP and socket errors alike: the caller shows a message rather than a 500.
        logger.exception("Could not send the confirmation mail to user %s", user.pk)
        raise ConfirmationNotSent from error


def sign_up(*, request: HttpRequest, username: str, email: str, password: str) -> AbstractBaseUser:
    """Create the inactive account and mail its link, or neither (ConfirmationNotSent)."""
    with transaction.atomic():
        user = create_inactive_user(username=username, email=email, password=password)
        send_confirmation(request=request, user=user)
    return user


def user_from_uidb64(*, uidb64: str) -> AbstractBaseUser | None:
    user_model = get_user_model()
    try:
        pk = user_model._meta.pk.to_python(force_str(urlsafe_base64_decode(uidb64)))
        return user_model._default_manager.get(pk=pk)
    except (TypeError, ValueError, OverflowError, ValidationError, user_model.DoesNotExist):
        return None


def confirm_account(*, request: HttpRequest, uidb64: str, token: str) -> AbstractBaseUser | None:
    """Activate the account the link names and sign it in; None for a bad, used or expired
    link, and then nothing changes."""
    user = user_from_uidb64(uidb64=uidb64)
    if user is None or not is_awaiting_confirmation(user=user):
        return None
    if not confirmation_tokens.check_token(user, token):
        return None
    user.is_active = True
    user.save(update_fields=["is_active"])
    # Signing in sets last_login, which (with is_active) retires the token.
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return user


def accounts_awaiting_confirmation(*, email: str) -> QuerySet:
    return get_user_model()._default_manager.filter(
        awaiting_confirmation_q(), email__iexact=email.strip()
    )


def resend_confirmation(*, request: HttpRequest, email: str) -> None:
    """Mail a new link to each account awaiting confirmation at this address.

    Says nothing about whether there was one: the page answers the same either way.
    """
    for user in accounts_awaiting_confirmation(email=email):
        throttle_key = f"accounts:resend:{user.pk}"
        if not cache.add(throttle_key, 1, timeout=RESEND_INTERVAL_SECONDS):
            continue
        try:
            send_confirmation(request=request, user=user)
        except ConfirmationNotSent:
            cache.delete(throttle_key)


def inactive_account_for_credentials(*, username: str, password: str) -> AbstractBaseUser | None:
    """The inactive account these credentials belong to, if any.

    Django's sign-in does not authenticate inactive accounts at all, so it cannot say
    why. This checks the password of an inactive account; like ModelBackend it spends one
    password hash whether or not the name exists, so timing does not reveal names.
    """
    user_model = get_user_model()
    try:
        user = user_model._default_manager.get_by_natural_key(username)
    except user_model.DoesNotExist:
        user_model().set_password(password)
        return None
    if user.check_password(password) and not user.is_active:
        return user
    return None


def _same_address(first: str, second: str) -> bool:
    """Case-insensitive the Unicode way, as Django compares reset addresses: a database's
    iexact may match addresses that differ (the dotless i)."""
    return (
        unicodedata.normalize("NFKC", first).casefold()
        == unicodedata.normalize("NFKC", second).casefold()
    )


def password_reset_recipients(*, email: str) -> list[AbstractBaseUser]:
    """Accounts a reset link is mailed to: active ones and ones awaiting confirmation.

    The reset link proves the address as well as a confirmation link does, and it
    lets someone whose address was signed up by another person take the account over
    with a password of their own.
    """
    candidates = get_user_model()._default_manager.filter(
        Q(is_active=True) | awaiting_confirmation_q(), email__iexact=email
    )
    return [
        user
        for user in candidates
        if user.has_usable_password() and _same_address(email, user.email)
    ]


def set_password_from_reset(*, user: AbstractBaseUser, password: str) -> AbstractBaseUser:
    """Set the new password; an account awaiting confirmation is confirmed by it."""
    user.set_password(password)
    if is_awaiting_confirmation(user=user):
        user.is_active = True
    user.save()
    return user


def update_profile(
    *, user: AbstractBaseUser, first_name: str, last_name: str, email: str
) -> AbstractBaseUser:
    user.first_name = first_name.strip()
    user.last_name = last_name.strip()
    user.email = normalize_email(email=email)
    user.save(update_fields=["first_name", "last_name", "email"])
    return user
