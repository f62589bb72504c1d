from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from portal import account_views

urlpatterns = [
    path("admin/", admin.site.urls),
    # Django's sign-in with a form that says why an inactive account cannot sign in.
    path("accounts/login/", account_views.sign_in, name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/signup/", account_views.signup, name="signup"),
    path("accounts/signup/done/", account_views.signup_done, name="signup_done"),
    path(
        "accounts/confirm/<uidb64>/<token>/",
        account_views.confirm_account,
        name="confirm_account",
    ),
    path(
        "accounts/resend-confirmation/",
        account_views.resend_confirmation,
        name="resend_confirmation",
    ),
    path(
        "accounts/resend-confirmation/done/",
        account_views.resend_confirmation_done,
        name="resend_confirmation_done",
    ),
    path("accounts/profile/", account_views.profile, name="profile"),
    # The names below are Django's: its auth views reverse them.
    path("accounts/password_change/", account_views.password_change, name="password_change"),
    path(
        "accounts/password_change/done/",
        account_views.password_change_done,
        name="password_change_done",
    ),
    path("accounts/password_reset/", account_views.password_reset, name="password_reset"),
    path(
        "accounts/password_reset/done/",
        account_views.password_reset_done,
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        account_views.password_reset_confirm,
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        account_views.password_reset_complete,
        name="password_reset_complete",
    ),
    path("demo-backend/", include("operations.demo.urls")),
    path("", include("gateway.urls")),
    path("", include("operations.urls")),
]
