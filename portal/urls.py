from collections.abc import Callable

from allauth.account import views as allauth_views
from django.conf import settings
from django.contrib import admin
from django.http import HttpResponseBase
from django.urls import include, path
from django.views.generic import RedirectView

from portal import account_views


def moved(to: str) -> Callable[..., HttpResponseBase]:
    """An earlier account path, sent on (with its query) to allauth's page."""
    return RedirectView.as_view(pattern_name=to, permanent=True, query_string=True)


urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/profile/", account_views.profile, name="profile"),
    # The link in confirmation mails: allauth's view on the portal's own path.
    path("accounts/confirm/<str:key>/", allauth_views.confirm_email, name="confirm_email"),
    path(
        "accounts/confirm/<uidb64>/<token>/",
        account_views.old_confirmation_link,
        name="old_confirmation_link",
    ),
    path("accounts/password_reset/", moved("account_reset_password")),
    path("accounts/password_reset/done/", moved("account_reset_password_done")),
    path("accounts/password_change/", moved("account_change_password")),
    path("accounts/password_change/done/", moved("account_change_password")),
    # Signing in to an account that is not confirmed mails a new link.
    path("accounts/resend-confirmation/", moved("account_login")),
    path("accounts/signup/done/", moved("account_email_verification_sent")),
    path("accounts/", include("allauth.account.urls")),
    # The sample backend's authorization server: its authorize, token, revoke and
    # introspect endpoints only (no application management), while the backend is on.
    *(
        [path("demo-backend/o/", include("demo.oauth_urls"))]
        if settings.PORTAL_DEMO_BACKEND_ENABLED
        else []
    ),
    path("demo-backend/", include("demo.urls")),
    path("", include("gateway.urls")),
    path("", include("analytics.urls")),
    path("", include("catalog.urls")),
    path("", include("openapi.urls")),
    path("", include("console.urls")),
    path("", include("samples.urls")),
    path("", include("testing.urls")),
]
