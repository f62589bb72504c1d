"""The portal's public address (settings.PORTAL_SITE_URL), on which emailed links are
built: a request's Host header never decides where a link points."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def site_url() -> str:
    """PORTAL_SITE_URL without a trailing slash; ImproperlyConfigured when it is unset
    or not an http(s) address, so that no link is mailed to an address guessed from the
    request."""
    value = (settings.PORTAL_SITE_URL or "").strip().rstrip("/")
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ImproperlyConfigured(
            "Set PORTAL_SITE_URL to the portal's address (https://portal.example.com): "
            "the links in emails are built on it."
        )
    return value


def absolute_url(*, path: str) -> str:
    """`path` (from the site's root, as reverse() gives it) on PORTAL_SITE_URL."""
    return site_url() + "/" + path.lstrip("/")


def site_domain() -> str:
    """The host (and port) of PORTAL_SITE_URL, as emails name the portal."""
    return urlsplit(site_url()).netloc
