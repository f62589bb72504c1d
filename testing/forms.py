"""Forms for testers: saving a call, editing saved requests, collections and sharing."""

from __future__ import annotations

from typing import cast

from django import forms
from django.contrib.auth.models import Group, User

from console import servers
from httpcore.masking import MASK, NOT_SET
from portal.secrets import PREFIX, decrypt, encrypt
from testing import actions
from testing.checks import (
    CheckSyntaxError,
    format_checks,
    format_extract,
    parse_checks,
    parse_extract,
)
from testing.cookie_values import cookie_value_problem, unknown_cookie
from testing.models import Collection, CollectionShare, CollectionVariable, SavedRequest


class SaveExchangeForm(forms.Form):
    name = forms.CharField(max_length=200)
    collection = forms.ModelChoiceField(
        queryset=Collection.objects.none(),
        required=False,
        empty_label="(a new collection)",
    )
    new_collection_name = forms.CharField(
        max_length=200, required=False, label="New collection name", initial="My requests"
    )

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(
            forms.ModelChoiceField, self.fields["collection"]
        ).queryset = Collection.objects.filter(owner=user)


def _lines(pairs: list, separator: str) -> str:
    return "\n".join(f"{name}{separator}{value}" for name, value in pairs)


def _parse_lines(text: str, separator: str, *, what: str) -> list[list[str]]:
    pairs = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, found, value = line.partition(separator)
        if not found or not name.strip():
            raise forms.ValidationError(f"Line {number}: write {what} as “name{separator}value”.")
        pairs.append([name.strip(), value.strip()])
    return pairs


class SavedRequestForm(forms.ModelForm):
    """A saved request's values, expectations, extraction and repetition, as text.

    The line fields are not stripped, so that the line numbers in errors are the ones
    the tester sees (blank lines are skipped when parsing).
    """

    template_text = forms.CharField(
        label="URL template values",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 4, "class": "font-monospace"}),
        help_text="One per line: name = value. {{variables}} are allowed anywhere.",
    )
    query_text = forms.CharField(
        label="Query parameters",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 2, "class": "font-monospace"}),
        help_text="One per line: name = value.",
    )
    headers_text = forms.CharField(
        label="Headers",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 3, "class": "font-monospace"}),
        help_text=f"One per line: Name: value. A secret value shows as {MASK}; leave it so "
        "to keep it.",
    )
    cookies_text = forms.CharField(
        label="Cookies",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 2, "class": "font-monospace"}),
        help_text="One per line: name=value, for the operation's cookie parameters. A secret "
        f"value shows as {MASK}; leave it so to keep it.",
    )
    body_text = forms.CharField(
        label="Body",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 14, "class": "font-monospace"}),
    )
    checks_text = forms.CharField(
        label="Checks",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 4, "class": "font-monospace"}),
        help_text="One per line: header Content-Type = application/json · json $.a.b = 1 · "
        "json $.a (present) · body contains text · duration < 500",
    )
    extract_text = forms.CharField(
        label="Extract into variables",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 2, "class": "font-monospace"}),
        help_text="One per line: jobid = json $ · etag = header ETag",
    )
    repeat_until_text = forms.CharField(
        label="Repeat until",
        required=False,
        help_text="A check, e.g. json $.StatusCode = Finished; empty to send once.",
    )

    class Meta:
        model = SavedRequest
        fields = ("name", "collection", "order", "expected_status")
        labels = {"expected_status": "Expected status"}

    def __init__(self, *args, user: User, portal_url: str = "", **kwargs) -> None:
        """portal_url: the portal's own URL, that the gateway's server choice is under."""
        super().__init__(*args, **kwargs)
        cast(
            forms.ModelChoiceField, self.fields["collection"]
        ).queryset = Collection.objects.filter(owner=user)
        saved = self.instance
        values = saved.values or {}
        self.server_choices = (
            servers.server_choices(api=saved.operation.api, user=user, portal_url=portal_url)
            if saved.operation is not None
            else []
        )
        recorded_gone = bool(saved.server) and saved.server not in {
            choice.value for choice in self.server_choices
        }
        if self.server_choices and (len(self.server_choices) > 1 or recorded_gone):
            self.fields["server"] = _server_field(saved=saved, choices=self.server_choices)

        def shown(pairs: list) -> list:
            # A stored secret is never put in the form: MASK stands for it.
            return [
                [name, MASK if isinstance(value, str) and value.startswith(PREFIX) else value]
                for name, value in pairs
            ]

        self.fields["template_text"].initial = _lines(
            shown(list(values.get("template", {}).items())), " = "
        )
        self.fields["query_text"].initial = _lines(shown(values.get("query", [])), " = ")
        self.fields["headers_text"].initial = _lines(shown(values.get("headers", [])), ": ")
        self.fields["cookies_text"].initial = _lines(shown(values.get("cookies") or []), "=")
        self.fields["body_text"].initial = values.get("body") or ""
        self.fields["checks_text"].initial = format_checks(saved.checks or [])
        self.fields["extract_text"].initial = format_extract(saved.extract or [])
        self.fields["repeat_until_text"].initial = (
            format_checks([saved.repeat_until]) if saved.repeat_until else ""
        )
        self.fields["repeat_max_tries"] = forms.IntegerField(
            min_value=1, max_value=100, initial=saved.repeat_max_tries, label="At most, tries"
        )
        self.fields["repeat_delay_seconds"] = forms.FloatField(
            min_value=0, max_value=60, initial=saved.repeat_delay_seconds, label="Delay (s)"
        )

    def _parse(self, field: str, parser) -> list[dict]:
        try:
            return parser(self.cleaned_data.get(field, ""))
        except CheckSyntaxError as error:
            self.add_error(field, str(error))
            return []

    def clean_template_text(self) -> list[list[str]]:
        return _parse_lines(self.cleaned_data["template_text"], "=", what="template values")

    def clean_query_text(self) -> list[list[str]]:
        return _parse_lines(self.cleaned_data["query_text"], "=", what="query parameters")

    def clean_headers_text(self) -> list[list[str]]:
        return _parse_lines(self.cleaned_data["headers_text"], ":", what="headers")

    def clean_cookies_text(self) -> list[list[str]]:
        pairs = _parse_lines(self.cleaned_data["cookies_text"], "=", what="cookies")
        operation = self.instance.operation
        kept = actions.stored_secrets(self.instance.values or {})
        for name, value in pairs:
            problem = unknown_cookie(operation=operation, name=name) if operation else None
            if problem is None and operation and value != MASK:
                problem = cookie_value_problem(operation=operation, name=name, value=value)
            if problem is None and value == MASK and ("cookies", name.lower()) not in kept:
                # MASK only stands for a value already stored; as a value it is non-ASCII.
                problem = f"{MASK} keeps a stored secret, and {name} has none: type its value."
            if problem is not None:
                raise forms.ValidationError(f"{name}: {problem}")
        return pairs

    def clean(self) -> dict:
        super().clean()
        cleaned = self.cleaned_data
        cleaned["checks"] = self._parse("checks_text", parse_checks)
        cleaned["extract"] = self._parse("extract_text", parse_extract)
        repeat = self._parse("repeat_until_text", parse_checks)
        if len(repeat) > 1:
            self.add_error("repeat_until_text", "Write one check.")
        cleaned["repeat_until"] = repeat[0] if repeat else None
        return cleaned

    def save(self, commit: bool = True) -> SavedRequest:
        # The stored values, read before the form's changes are applied to the instance.
        earlier = self.instance.values or {}
        kept = actions.stored_secrets(earlier)
        saved = super().save(commit=False)
        data = self.cleaned_data
        typed = {
            "template": dict(data["template_text"]),
            "query": data["query_text"],
            "headers": data["headers_text"],
            "cookies": data["cookies_text"],
            "body": data["body_text"] if data["body_text"].strip() else None,
            # Not edited here: the media type chosen and a multipart body's text parts,
            # which its kept files are sent with.
            "content_type": earlier.get("content_type") or "",
            "parts": earlier.get("parts") or [],
        }
        # Secrets left as MASK keep their stored value; secrets typed anew are encrypted.
        saved.values = actions.stored_values(
            values=typed, secret_names=actions.secret_names_for(saved), kept=kept
        )
        chosen = next((c for c in self.server_choices if c.value == data.get("server")), None)
        if chosen is not None:
            # As Save from the history records it (console/servers.py): the choice, and its
            # URL for messages; every replay looks the choice up again.
            saved.server, saved.server_url = chosen.value, chosen.url
        saved.checks = data["checks"]
        saved.extract = data["extract"]
        saved.repeat_until = data["repeat_until"]
        saved.repeat_max_tries = data["repeat_max_tries"]
        saved.repeat_delay_seconds = data["repeat_delay_seconds"]
        if commit:
            saved.save()
        return saved


def _server_field(*, saved: SavedRequest, choices: list[servers.ServerChoice]) -> forms.Field:
    values = {choice.value for choice in choices}
    options = [(choice.value, choice.label) for choice in choices]
    # A request saved before servers were recorded goes to the first one.
    initial = saved.server or choices[0].value
    if initial not in values:
        # Removed since, or no longer the editor's to choose: nothing is picked unseen.
        options.insert(0, ("", "Choose a server (the recorded one is no longer available)"))
        initial = ""
    return forms.ChoiceField(
        label="Server",
        choices=options,
        initial=initial,
        help_text="The base URL the request is sent to; the operation's path is appended.",
    )


class CollectionForm(forms.ModelForm):
    class Meta:
        model = Collection
        fields = ("name", "description", "ignored_headers")
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class VariableForm(forms.ModelForm):
    """A secret variable's value is never shown; leaving it empty keeps it."""

    class Meta:
        model = CollectionVariable
        fields = ("name", "value", "secret")
        # One line: a TextField's textarea makes every row of the formset a tall box.
        widgets = {"value": forms.TextInput(attrs={"class": "font-monospace"})}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.secret:
            self.initial["value"] = ""
            placeholder = MASK if self.instance.value else NOT_SET
            self.fields["value"].widget = forms.PasswordInput(attrs={"placeholder": placeholder})
        self.fields["value"].required = False

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name.replace("_", "a").replace("-", "a").replace(".", "a").isalnum():
            raise forms.ValidationError("Use letters, digits, '_', '-' and '.'.")
        return name

    def save(self, commit: bool = True) -> CollectionVariable:
        stored = CollectionVariable.objects.filter(pk=self.instance.pk).first()
        variable = super().save(commit=False)
        typed = self.cleaned_data.get("value", "")
        keep_secret = variable.secret and typed == "" and stored is not None and stored.secret
        plain = decrypt(stored.value) if keep_secret and stored is not None else typed
        variable.value = encrypt(plain) if variable.secret else plain
        if commit:
            variable.save()
        return variable


VariableFormSet = forms.inlineformset_factory(
    Collection, CollectionVariable, form=VariableForm, extra=2, can_delete=True
)


class ShareForm(forms.ModelForm):
    class Meta:
        model = CollectionShare
        fields = ("group", "access")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["group"]).queryset = Group.objects.order_by("name")


ShareFormSet = forms.inlineformset_factory(
    Collection, CollectionShare, form=ShareForm, extra=1, can_delete=True
)
