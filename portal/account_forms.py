"""Forms of the account pages; the work they lead to is in portal.accounts."""

from __future__ import annotations

from collections.abc import Iterator

from django import forms
from django.contrib.auth.forms import (
    AuthenticationForm,
    PasswordResetForm,
    SetPasswordForm,
    UserCreationForm,
)
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError

from portal import accounts

EMAIL_IN_USE = "Another account uses this email address."


class SignUpForm(UserCreationForm):
    """Username, email and the password twice. Usernames and addresses are unique
    ignoring case (UserCreationForm checks the username)."""

    email = forms.EmailField(
        max_length=254,
        help_text="We send a confirmation link to this address.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    class Meta(UserCreationForm.Meta):
        fields = ("username", "email")

    def clean_email(self) -> str:
        email = accounts.normalize_email(email=self.cleaned_data["email"])
        if accounts.email_in_use(email=email):
            raise ValidationError(EMAIL_IN_USE, code="email_in_use")
        return email


class SignInForm(AuthenticationForm):
    """Django's sign-in, saying why an inactive account with the right password cannot
    sign in: not confirmed yet (the page then offers a new link) or disabled."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "unconfirmed": (
            "This account is not confirmed yet. Open the link in the email we sent "
            "when you signed up, or ask for a new one."
        ),
        "inactive": "This account has been disabled. Please contact an administrator.",
    }

    awaiting_confirmation: bool = False

    def clean(self) -> dict:
        try:
            return super().clean()
        except ValidationError as error:
            if error.code != "invalid_login":
                raise
            user = accounts.inactive_account_for_credentials(
                username=self.cleaned_data.get("username") or "",
                password=self.cleaned_data.get("password") or "",
            )
            if user is None:
                raise
            if accounts.is_awaiting_confirmation(user=user):
                self.awaiting_confirmation = True
                raise ValidationError(
                    self.error_messages["unconfirmed"], code="unconfirmed"
                ) from None
            raise ValidationError(self.error_messages["inactive"], code="inactive") from None


class ResendConfirmationForm(forms.Form):
    email = forms.EmailField(
        max_length=254,
        help_text="The address you signed up with.",
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )


class ProfileForm(forms.Form):
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    email = forms.EmailField(
        max_length=254,
        help_text="Confirmation and password reset emails go to this address.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    def __init__(self, *args, user: AbstractBaseUser, **kwargs) -> None:
        kwargs.setdefault(
            "initial",
            {"first_name": user.first_name, "last_name": user.last_name, "email": user.email},
        )
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_email(self) -> str:
        email = accounts.normalize_email(email=self.cleaned_data["email"])
        if accounts.email_in_use(email=email, except_user=self.user):
            raise ValidationError(EMAIL_IN_USE, code="email_in_use")
        return email


class PortalPasswordResetForm(PasswordResetForm):
    """Reset links also reach accounts awaiting confirmation (see
    accounts.password_reset_recipients)."""

    def get_users(self, email: str) -> Iterator[AbstractBaseUser]:
        return iter(accounts.password_reset_recipients(email=email))


class PortalSetPasswordForm(SetPasswordForm):
    def save(self, commit: bool = True) -> AbstractBaseUser:
        return accounts.set_password_from_reset(
            user=self.user, password=self.cleaned_data["new_password1"]
        )
