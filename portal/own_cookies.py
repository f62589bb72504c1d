"""The names of the cookies the portal itself sets (docs/design.md, "Cookies").

The gateway answers from the portal's origin, so a browser sends these with every call
to it; they must never reach a backend, whatever a document names its cookies.

Found by what sets a cookie in the portal and its packages: sessions, CSRF, the
language view, the messages' cookie storage (the default storage falls back to it),
and django-allauth's browser-trust cookie, which its mfa app sets once installed. The
portal's own code and scripts set none.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage

# django-allauth's default for MFA_TRUST_COOKIE_NAME (allauth.mfa.app_settings).
ALLAUTH_TRUST_COOKIE = "mfa_trusted"


def portal_cookie_names() -> frozenset[str]:
    """The portal's cookie names, lower-cased: compared without case, since a backend
    that folds case would take `SessionId` for `sessionid`."""
    names = {
        settings.SESSION_COOKIE_NAME,
        settings.CSRF_COOKIE_NAME,
        settings.LANGUAGE_COOKIE_NAME,
        CookieStorage.cookie_name,
        getattr(settings, "MFA_TRUST_COOKIE_NAME", ALLAUTH_TRUST_COOKIE),
    }
    return frozenset(name.lower() for name in names if name)


def is_portal_cookie(name: str) -> bool:
    return name.lower() in portal_cookie_names()
