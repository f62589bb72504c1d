"""allauth's account adapter, with the links and the site's name in emails taken from
PORTAL_SITE_URL instead of the request, and the failed sign-in count keyed by the
username alone."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from allauth.account import app_settings
from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest
from django.urls import reverse

from portal.site_url import absolute_url, site_domain

SITE_NAME = "API portal"


@dataclass(frozen=True)
class EmailSite:
    """What allauth's mail templates read as `current_site`."""

    name: str
    domain: str


class PortalAccountAdapter(DefaultAccountAdapter):
    def build_absolute_uri(self, path: str) -> str:
        return absolute_url(path=path)

    def get_email_confirmation_url(self, request: HttpRequest, emailconfirmation) -> str:
        return self.build_absolute_uri(reverse("confirm_email", args=[emailconfirmation.key]))

    def get_reset_password_from_key_url(self, key: str) -> str:
        path = reverse("account_reset_password_from_key", kwargs={"uidb36": "UID", "key": "KEY"})
        return self.build_absolute_uri(path.replace("UID-KEY", quote(key)))

    def send_account_already_exists_mail(self, email: str) -> None:
        context = {
            "signup_url": self.build_absolute_uri(reverse("account_signup")),
            "password_reset_url": self.build_absolute_uri(reverse("account_reset_password")),
            "login_url": self.build_absolute_uri(reverse("account_login")),
        }
        self.send_mail("account/email/account_already_exists", email, context)

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        # allauth fills current_site from the request's Host; the site's own name wins.
        super().send_mail(
            template_prefix,
            email,
            {
                **context,
                "current_site": EmailSite(name=SITE_NAME, domain=site_domain()),
                "site_url": self.build_absolute_uri("/"),
                "expire_days": app_settings.EMAIL_CONFIRMATION_EXPIRE_DAYS,
            },
        )

    def _get_login_attempts_cache_key(self, request: HttpRequest, **credentials: Any) -> str:
        # allauth's key starts with the request's host: a client could multiply its
        # attempts by sending other names in Host.
        login = credentials.get("email", credentials.get("username", "")) or ""
        return f"portal:{login.lower()}"
