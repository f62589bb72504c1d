"""Account pages: sign-up and its confirmation, password reset and change, profile.

Sign-in and sign-out are Django's own views (portal/urls.py); the work behind these
pages is in portal.accounts.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url

from portal import accounts
from portal.account_forms import (
    PortalPasswordResetForm,
    PortalSetPasswordForm,
    ProfileForm,
    ResendConfirmationForm,
    SignInForm,
    SignUpForm,
)

sign_in = auth_views.LoginView.as_view(authentication_form=SignInForm)
password_reset = auth_views.PasswordResetView.as_view(form_class=PortalPasswordResetForm)
password_reset_done = auth_views.PasswordResetDoneView.as_view()
password_reset_confirm = auth_views.PasswordResetConfirmView.as_view(
    form_class=PortalSetPasswordForm
)
password_reset_complete = auth_views.PasswordResetCompleteView.as_view()
# Not registration/password_change_*.html: the admin site's own "Change password"
# page uses those names and keeps its look.
password_change = auth_views.PasswordChangeView.as_view(
    template_name="accounts/password_change_form.html"
)
password_change_done = auth_views.PasswordChangeDoneView.as_view(
    template_name="accounts/password_change_done.html"
)


def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(resolve_url(settings.LOGIN_REDIRECT_URL))
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            accounts.sign_up(
                request=request,
                username=form.cleaned_data["username"],
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password1"],
            )
        except accounts.ConfirmationNotSent:
            form.add_error(
                None,
                "We could not send the confirmation email just now, so no account was "
                "created. Please try again in a few minutes.",
            )
        else:
            return redirect("signup_done")
    return render(request, "accounts/signup.html", {"form": form})


def signup_done(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/signup_done.html")


def confirm_account(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    user = accounts.confirm_account(request=request, uidb64=uidb64, token=token)
    if user is None:
        return render(request, "accounts/confirm_invalid.html")
    messages.success(request, f"Your account is confirmed. Welcome, {user.get_username()}!")
    return redirect("profile")


def resend_confirmation(request: HttpRequest) -> HttpResponse:
    form = ResendConfirmationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        accounts.resend_confirmation(request=request, email=form.cleaned_data["email"])
        return redirect("resend_confirmation_done")
    return render(request, "accounts/resend_confirmation.html", {"form": form})


def resend_confirmation_done(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/resend_confirmation_done.html")


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    form = ProfileForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        accounts.update_profile(user=request.user, **form.cleaned_data)
        messages.success(request, "Your profile is saved.")
        return redirect("profile")
    return render(request, "accounts/profile.html", {"form": form})
