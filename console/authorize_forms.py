"""The Authorize dialog's form: one scheme (and, for OAuth 2.0, one flow) at a time."""

from __future__ import annotations

from django import forms

from console.authorization import (
    API_KEY,
    AUTHORIZATION_CODE,
    BASIC,
    BEARER,
    OAUTH2,
    OPENID,
    Flow,
    Scheme,
)

NOT_SUPPORTED = "The console cannot use this security scheme."
UNKNOWN_FLOW = "Choose a flow this scheme documents."
MAX_LENGTH = 8192


class AuthorizeForm(forms.Form):
    flow = forms.CharField(required=False)
    value = forms.CharField(required=False, strip=False, max_length=MAX_LENGTH)
    username = forms.CharField(required=False, max_length=MAX_LENGTH)
    password = forms.CharField(required=False, strip=False, max_length=MAX_LENGTH)
    token = forms.CharField(required=False, max_length=MAX_LENGTH)
    client_id = forms.CharField(required=False, max_length=500)
    client_secret = forms.CharField(required=False, strip=False, max_length=MAX_LENGTH)
    scopes = forms.MultipleChoiceField(required=False)
    scope_text = forms.CharField(required=False, max_length=2000)

    def __init__(self, *args, scheme: Scheme, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.scheme = scheme
        chosen = self.data.get("flow", "") if self.is_bound else ""
        flow = scheme.flow(chosen) if scheme.kind == OAUTH2 else None
        scopes = flow.scopes if flow is not None else ()
        self.fields["scopes"] = forms.MultipleChoiceField(
            required=False, choices=[(name, name) for name, _ in scopes]
        )

    @property
    def chosen_flow(self) -> Flow | None:
        if self.scheme.kind == OPENID:
            return None
        return self.scheme.flow(self.cleaned_data.get("flow", ""))

    def _require(self, name: str, message: str) -> None:
        if not self.cleaned_data.get(name, "").strip():
            self.add_error(name, message)

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        kind = self.scheme.kind
        if not self.scheme.sendable:
            raise forms.ValidationError(NOT_SUPPORTED)
        if kind == API_KEY:
            self._require("value", "Enter the API key.")
        elif kind == BASIC:
            self._require("username", "Enter the user name.")
        elif kind == BEARER:
            self._require("token", "Enter the token.")
        else:
            self._require("client_id", "Enter the client id.")
            if kind == OAUTH2 and self.scheme.flow(cleaned.get("flow", "")) is None:
                self.add_error("flow", UNKNOWN_FLOW)
        return cleaned

    @property
    def scope_names(self) -> list[str]:
        if self.scheme.kind == OPENID:
            return self.cleaned_data.get("scope_text", "").split() or ["openid"]
        return list(self.cleaned_data.get("scopes", []))

    @property
    def redirects(self) -> bool:
        """Whether this authorization sends the browser to the authorization server."""
        if self.scheme.kind == OPENID:
            return True
        flow = self.chosen_flow
        return flow is not None and flow.kind == AUTHORIZATION_CODE

    @property
    def held_data(self) -> dict[str, str]:
        """What the session keeps for an API key, basic or bearer credential."""
        data = self.cleaned_data
        if self.scheme.kind == API_KEY:
            return {"value": data["value"]}
        if self.scheme.kind == BASIC:
            return {"username": data["username"], "password": data["password"]}
        return {"token": data["token"]}

    @property
    def first_error(self) -> str:
        for errors in self.errors.values():
            return str(errors[0])
        return ""
