"""Receivers of allauth's account signals; the work is in the modules they call."""

from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress
from allauth.account.signals import email_confirmed
from django.dispatch import receiver

from portal import email_claims


@receiver(email_confirmed, dispatch_uid="portal.release_email_claims")
def release_email_claims(sender: type, *, email_address: EmailAddress, **kwargs: Any) -> None:
    email_claims.release_claims(confirmed=email_address)
