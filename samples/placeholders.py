"""Placeholders for what the Try it form still needs, so that the samples are shown at
once, as Swagger UI and Scalar show them: an empty or invalid parameter is written as
`{name}`, a required header left empty as `{name}`, or `<token>` for a credential, a
required body field (urlencoded field list, multipart text part) left empty as `{name}`
in the body, a file as `<file>`, and the panel says what to fill ("Fill petId to run
this").

The form is validated as it is; each field in error that a placeholder can stand for
gets a token instead (letters and digits only, so that it is the same text wherever it
goes: path, query, header, cookie, body), the request is built and written as for a valid
form, and the tokens are then replaced by the placeholders' text in the request the
writers see (`with_placeholders`). A form with other errors (an invalid body, a header
refused) still shows its errors instead of code.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from typing import cast

from django.http import QueryDict

from console.body_fields import FILE_FIELD, URLENCODED_PREFIX, urlencoded_body
from console.forms import FILE_PLACEHOLDER, TryItForm, field_name
from console.multipart_fields import PART_PREFIX
from httpcore.masking import holds_no_credential, is_secret_name
from samples.request import SampleRequest, Secret, Text

HEADERS_ERROR = "Check the headers."


@dataclass(frozen=True)
class Placeholder:
    token: str  # what the request is built with
    text: str  # what the samples show: "{petId}", "<token>"
    note: str  # "Fill petId to run this"


def _token() -> str:
    return f"placeholder{uuid.uuid4().hex}"


def _note(name: str, posted: str, messages: list[str]) -> str:
    if posted.strip() == "":
        return f"Fill {name} to run this"
    return f"Fix {name} to run this: {' '.join(messages)}"


def fill_placeholders(form: TryItForm) -> list[Placeholder]:
    """For a bound form: put a token in each parameter field in error and each required
    or credential header left empty (which Try it would not send), and take their errors
    away. The form is valid afterwards when nothing else was wrong."""
    errors = form.errors  # runs the validation once
    data = cast(QueryDict, form.data)
    placeholders: list[Placeholder] = []
    for parameter in [*form.url_parameters, *form.cookie_parameters]:
        name = field_name(parameter)
        if name not in errors:
            continue
        placeholder = Placeholder(
            token=_token(),
            text=f"{{{parameter.name}}}",
            note=_note(parameter.name, data.get(name, ""), [str(m) for m in errors[name]]),
        )
        form.cleaned_data[name] = placeholder.token
        del errors[name]
        placeholders.append(placeholder)
    placeholders += _header_placeholders(form)
    placeholders += _body_placeholders(form)
    placeholders += _file_placeholders(form)
    if not form.header_errors and HEADERS_ERROR in errors.get("__all__", []):
        remaining = [str(e) for e in errors["__all__"] if e != HEADERS_ERROR]
        if remaining:
            errors["__all__"] = form.error_class(remaining)
        else:
            del errors["__all__"]
    return placeholders


def _header_placeholders(form: TryItForm) -> list[Placeholder]:
    """Required headers left out, and credential rows left empty (or holding only an
    auth scheme word, "Bearer "): the form sends neither; the samples show them."""
    data = cast(QueryDict, form.data)
    sent = {name.strip().lower() for name, _ in form.cleaned_headers}
    key_header = form.operation.api.subscription_key_header.lower()
    secret_names = {p.name for p in form.header_parameters if p.secret}
    rows: list[tuple[str, str]] = []
    for name, value in zip(data.getlist("header_name"), data.getlist("header_value"), strict=False):
        name = name.strip()
        if not name or name.lower() in sent or form.stored.header(name) is not None:
            continue
        if name.lower() == key_header:
            continue  # always the subscription key's variable (samples/request.py)
        if holds_no_credential(value) and is_secret_name(name, secret_names=secret_names):
            rows.append((name, value))
    for parameter in form.header_parameters:
        message = f"The header {parameter.name} is required."
        if message in form.header_errors:
            form.header_errors.remove(message)
            if parameter.name.lower() not in {n.lower() for n, _ in rows}:
                rows.append((parameter.name, ""))
    placeholders = []
    for name, value in rows:
        scheme = value.strip(" \t")  # empty, or the scheme word of a credential row
        secret = is_secret_name(name, secret_names=secret_names)
        placeholder = Placeholder(
            token=_token(),
            text="<token>" if secret else f"{{{name}}}",
            note=f"Fill {name} to run this",
        )
        form.cleaned_headers.append(
            (name, f"{scheme} {placeholder.token}" if scheme else placeholder.token)
        )
        placeholders.append(placeholder)
    return placeholders


def _body_placeholders(form: TryItForm) -> list[Placeholder]:
    """Required fields of a urlencoded field list and required multipart text parts
    left empty: each is sent with a token, the body's other fields as typed. An object
    field (typed as JSON) keeps its error."""
    errors = form.errors
    chosen = form.body_choice.chosen if form.body_choice else None
    if chosen is None:
        return []
    if form.parts is not None:
        fields = [(PART_PREFIX + part.name, part.name) for part in form.parts if not part.file]
    elif chosen.field_list:
        fields = [(URLENCODED_PREFIX + f.name, f.name) for f in chosen.fields if f.kind != "object"]
    else:
        return []
    data = cast(QueryDict, form.data)
    placeholders = []
    for key, name in fields:
        if key not in errors or not form.fields[key].required or data.get(key, "") != "":
            continue
        placeholder = Placeholder(
            token=_token(), text=f"{{{name}}}", note=f"Fill {name} to run this"
        )
        form.cleaned_data[key] = placeholder.token
        del errors[key]
        placeholders.append(placeholder)
    if placeholders and chosen.field_list:
        typed = {
            f.name: str(form.cleaned_data.get(URLENCODED_PREFIX + f.name) or "")
            for f in chosen.fields
        }
        text, problems = urlencoded_body(media=chosen, typed=typed)
        if not problems:
            form.urlencoded_text = text
    return placeholders


def _file_placeholders(form: TryItForm) -> list[Placeholder]:
    """The samples' form is posted without files: each file is FILE_PLACEHOLDER already
    (TryItForm.values), which needs no token."""
    files = [part.name for part in form.parts or [] if part.file]
    if FILE_FIELD in form.fields:
        return [Placeholder(token="", text=FILE_PLACEHOLDER, note="Choose a file to run this")]
    return [
        Placeholder(token="", text=FILE_PLACEHOLDER, note=f"Choose a file for {name} to run this")
        for name in files
    ]


def _swap(text: str, placeholders: list[Placeholder]) -> str:
    for placeholder in placeholders:
        if placeholder.token:
            text = text.replace(placeholder.token, placeholder.text)
    return text


def _swap_text(text: Text, placeholders: list[Placeholder]) -> Text:
    return tuple(
        replace(part, value=_swap(part.value, placeholders))
        if isinstance(part, Secret)
        else _swap(part, placeholders)
        for part in text
    )


def with_placeholders(request: SampleRequest, placeholders: list[Placeholder]) -> SampleRequest:
    """The request with each token replaced by its placeholder's text."""
    if not placeholders:
        return request
    body = request.body
    return replace(
        request,
        url=_swap_text(request.url, placeholders),
        headers=tuple((n, _swap_text(v, placeholders)) for n, v in request.headers),
        secrets=tuple(replace(s, value=_swap(s.value, placeholders)) for s in request.secrets),
        body=None if body is None else _swap(body, placeholders),
        form_parts=tuple(
            replace(part, value=_swap(part.value, placeholders)) for part in request.form_parts
        ),
        body_placeholders=tuple(
            p.text for p in placeholders if p.token and body is not None and p.token in body
        ),
    )
