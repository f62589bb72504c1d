"""Which account an email address belongs to: the one that confirmed it.

An address only asked for (a sign-up or an address change whose link has not been
opened) is a claim, and claims never make an address taken: anyone can ask for an
address, but only its mailbox's owner can open the link. The account that confirms
an address takes it from every other account's claim.
"""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.db import transaction


def is_taken(*, email: str) -> bool:
    """Whether an account has confirmed `email` (ignoring case)."""
    return EmailAddress.objects.filter(email__iexact=email, verified=True).exists()


@transaction.atomic
def release_claims(*, confirmed: EmailAddress) -> list[int]:
    """Removes every other account's unconfirmed claim on the address `confirmed` now
    holds, so that their links confirm nothing; returns those accounts' ids.

    An account keeps its other addresses; one left with none (a sign-up that never
    confirmed) keeps its username and password but cannot sign in, since allauth has
    no address to confirm.
    """
    User = get_user_model()
    claims = EmailAddress.objects.filter(email__iexact=confirmed.email, verified=False).exclude(
        user_id=confirmed.user_id
    )
    user_ids = set(claims.values_list("user_id", flat=True))
    # An address typed on an account in the admin has no row until the account signs in.
    holders = User.objects.filter(email__iexact=confirmed.email).exclude(pk=confirmed.user_id)
    user_ids |= set(holders.values_list("pk", flat=True))
    claims.delete()
    for user in User.objects.filter(pk__in=user_ids, email__iexact=confirmed.email):
        kept = EmailAddress.objects.filter(user=user).order_by("-primary", "-verified").first()
        user.email = kept.email if kept else ""
        user.save(update_fields=["email"])
    return sorted(user_ids)
