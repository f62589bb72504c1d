"""The profile form, and allauth's sign-up form with the portal's rule for a taken
address (portal.email_claims); the other account forms are allauth's."""

from __future__ import annotations

from allauth.account.adapter import get_adapter
from allauth.account.forms import SignupForm
from django import forms

from portal import email_claims


class ProfileForm(forms.Form):
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)


class PortalSignupForm(SignupForm):
    def validate_unique_email(self, value: str) -> str:
        # allauth counts unconfirmed addresses too, so anyone could keep an address
        # from its owner by asking for it. A confirmed one is answered as allauth does
        # with enumeration prevention (ACCOUNT_PREVENT_ENUMERATION): the same page as
        # a new address, no account, and a mail to the owner.
        self.account_already_exists = email_claims.is_taken(email=value)
        return get_adapter().validate_unique_email(value)
