"""The environment pages' forms: the name, and the variables as repeatable rows.

A secret variable's value is never put back in the page: its row shows the mask as a
placeholder, and left empty keeps the stored value (as a collection's variables do,
testing/forms.py VariableForm)."""

from __future__ import annotations

from typing import cast

from django import forms
from django.contrib.auth.models import User

from console.environments import stored_variable
from console.models import Environment
from httpcore.masking import MASK, NOT_SET
from httpcore.variables import NAME

BAD_NAME = "Use letters, digits, '_', '-' and '.', starting with a letter or '_'."


class EnvironmentForm(forms.ModelForm):
    class Meta:
        model = Environment
        fields = ("name",)

    def __init__(self, *args, owner: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.owner = owner

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("This field is required.")
        taken = Environment.objects.filter(owner=self.owner, name=name)
        if self.instance.pk:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(f"You already have an environment named {name}.")
        return name


class VariableRowForm(forms.Form):
    name = forms.CharField(max_length=100, required=False)
    value = forms.CharField(
        required=False, strip=False, widget=forms.TextInput(attrs={"class": "font-monospace"})
    )
    secret = forms.BooleanField(required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        stored: dict = dict(self.initial or {})
        posted_secret = self.is_bound and bool(self.data.get(self.add_prefix("secret")))
        if stored.get("secret") or posted_secret:
            # The stored value stays on the server; the row only says there is one.
            self.initial = {**stored, "value": ""}
            placeholder = MASK if stored.get("secret") and stored.get("stored") else NOT_SET
            self.fields["value"].widget = forms.PasswordInput(
                attrs={"placeholder": placeholder, "autocomplete": "off", "class": "font-monospace"}
            )
        self.fields["name"].widget.attrs.update({"class": "font-monospace"})

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        if "name" not in cleaned:  # already refused by the field (too long)
            return cleaned
        name = cleaned["name"].strip()
        cleaned["name"] = name
        if not name and cleaned.get("value"):
            self.add_error("name", "Enter a name for this variable.")
        elif name and not NAME.match(name):
            self.add_error("name", BAD_NAME)
        return cleaned

    @property
    def is_blank(self) -> bool:
        data = self.cleaned_data
        return not data.get("name") and not data.get("value")

    def stored(self) -> dict:
        """The row as Environment.variables keeps it; an empty secret keeps its value."""
        data = self.cleaned_data
        value: str = data.get("value", "")
        secret = bool(data.get("secret"))
        initial: dict = dict(self.initial or {})
        if secret and value == "" and initial.get("secret"):
            return {"name": data["name"], "value": initial["stored"], "secret": True}
        return stored_variable(name=data["name"], value=value, secret=secret)


def _deleted(form: forms.Form) -> bool:
    return bool(form.cleaned_data.get("DELETE"))


class BaseVariableFormSet(forms.BaseFormSet):
    def clean(self) -> None:
        super().clean()
        seen: set[str] = set()
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or _deleted(form):
                continue
            name = form.cleaned_data.get("name")
            if not name:
                continue
            if name in seen:
                form.add_error("name", f"{name} is already a variable of this environment.")
            seen.add(name)

    def variables(self) -> list[dict]:
        rows = []
        for form in cast(list[VariableRowForm], self.forms):
            if _deleted(form) or form.is_blank:
                continue
            rows.append(form.stored())
        return rows


VariableFormSet = cast(
    type[BaseVariableFormSet],
    forms.formset_factory(
        VariableRowForm,
        formset=BaseVariableFormSet,
        extra=2,
        can_delete=True,
        max_num=200,
        validate_max=True,
    ),
)


def variable_initial(environment: Environment | None) -> list[dict]:
    """The formset's initial rows; "stored" (a secret's encrypted value) never rendered."""
    if environment is None:
        return []
    return [
        {
            "name": variable.get("name", ""),
            "value": "" if variable.get("secret") else variable.get("value", ""),
            "secret": bool(variable.get("secret")),
            "stored": variable.get("value", "") if variable.get("secret") else "",
        }
        for variable in environment.variables or []
    ]
