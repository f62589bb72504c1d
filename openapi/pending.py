"""Uploaded OpenAPI documents kept between the admin's import preview and its confirmation.

The document waits in the database (PendingImport), the one store every process and
machine of the portal shares; the preview page carries only a signed token naming the row
and its user, valid for MAX_AGE_SECONDS. Rows older than that are deleted with each new
upload.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.models import User
from django.core import signing
from django.utils import timezone

from openapi.models import PendingImport

# Signs every token in flight: a new salt voids the previews waiting for confirmation.
SALT = "openapi.importer-pending-import"
MAX_AGE_SECONDS = 60 * 60

EXPIRED = "The preview has expired (after 60 minutes): upload the document again."
INVALID = "The preview's token is not valid: upload the document again."
USED = "This preview was already imported or has expired: upload the document again."


class PendingError(Exception):
    """The token names no document this user may import; the message says what to do."""


def keep(
    *,
    user: User,
    content: bytes,
    filename: str,
    api_slug: str,
    service_url: str,
) -> str:
    """Keep an uploaded document for the confirmation; returns its token."""
    PendingImport.objects.filter(
        created_at__lt=timezone.now() - timedelta(seconds=MAX_AGE_SECONDS)
    ).delete()
    pending = PendingImport.objects.create(
        owner=user,
        document=content,
        filename=filename[:255],
        api_slug=api_slug,
        service_url=service_url,
    )
    return signing.dumps({"id": pending.pk, "user": user.pk}, salt=SALT)


def take(*, user: User, token: str) -> PendingImport:
    """The document a token names, if it is this user's and not expired; raises PendingError."""
    try:
        data = signing.loads(token, salt=SALT, max_age=MAX_AGE_SECONDS)
    except signing.SignatureExpired:
        raise PendingError(EXPIRED) from None
    except signing.BadSignature:
        raise PendingError(INVALID) from None
    if not isinstance(data, dict) or data.get("user") != user.pk:
        raise PendingError(INVALID)
    pending_id = data.get("id")
    if not isinstance(pending_id, int):
        raise PendingError(INVALID)
    pending = PendingImport.objects.filter(pk=pending_id, owner=user).first()
    if pending is None:
        raise PendingError(USED)
    return pending


def discard(*, pending: PendingImport) -> None:
    pending.delete()
