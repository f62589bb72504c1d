"""The profile form; the other account forms are allauth's."""

from __future__ import annotations

from django import forms


class ProfileForm(forms.Form):
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
