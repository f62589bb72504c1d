"""The profile page, and the earlier account paths that allauth names differently.

Every other account page is allauth's (mounted at /accounts/ in portal/urls.py); the
work behind the profile is in portal.accounts.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from portal import accounts
from portal.account_forms import ProfileForm
from portal.typed_requests import SignedInRequest

OLD_CONFIRMATION_LINK = (
    "This confirmation link is no longer valid. Sign in with your username and "
    "password: we email you a new link."
)


@login_required
def profile(request: SignedInRequest) -> HttpResponse:
    user = request.user
    initial = {"first_name": user.first_name, "last_name": user.last_name}
    form = ProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        accounts.update_profile(user=user, **form.cleaned_data)
        messages.success(request, "Your profile is saved.")
        return redirect("profile")
    return render(request, "account/profile.html", {"form": form})


def old_confirmation_link(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    """A link mailed before the move to allauth: signing in mails a new one."""
    messages.info(request, OLD_CONFIRMATION_LINK)
    return redirect("account_login")
