"""Try it as a user presses Send: the form read off the operation page as prefilled,
any still-empty required field filled with a value valid for its documented schema,
then posted. Shared by the conformance tests and bench/conformance.py."""

from __future__ import annotations

import base64
from typing import Any

from bs4 import BeautifulSoup
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from catalog.models import Operation
from console.models import Exchange

CREDENTIAL = "test-credential-123"
BASIC_CREDENTIAL = base64.b64encode(b"ada:test-password").decode()


def _unfilled(value: str) -> bool:
    return value.strip().lower() in {"", "bearer", "basic", "token"}


# Values valid for a schema with no example: what a user would type.
_BY_FORMAT = {
    "uuid": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "email": "ada@example.com",
    "date": "2026-01-31",
    "date-time": "2026-01-31T12:00:00Z",
    "uri": "https://example.com/",
}


def typed_value(schema: dict) -> str:
    """A value a user would type for a required field the page left empty."""
    if schema.get("enum"):
        return str(schema["enum"][0])
    kind = schema.get("type")
    if kind in {"integer", "number"}:
        return str(max(1, int(schema.get("minimum", 1))))
    if kind == "boolean":
        return "true"
    return _BY_FORMAT.get(str(schema.get("format")), "abc")


def _documented(operation: Operation) -> dict[tuple[str, str], dict]:
    where = {"path": "template", "query": "query", "header": "header", "cookie": "cookie"}
    result = {}
    for parameter in (operation.openapi or {}).get("parameters", []):
        key = (where.get(parameter.get("in"), ""), str(parameter.get("name")))
        result[key] = parameter.get("schema") or {}
    return result


def prefilled_form(page: bytes) -> tuple[str, list[tuple[str, str]], list[str]]:
    """The Try it form's action, its fields as prefilled, and the required empty ones."""
    soup = BeautifulSoup(page, "html.parser")
    form = soup.select_one("form[data-try-it-form]")
    assert form is not None, "no Try it form on the page"
    fields: list[tuple[str, str]] = []
    empty_required: list[str] = []
    for element in form.select("input[name], select[name], textarea[name]"):
        name = str(element["name"])
        if element.name == "select" and element.has_attr("multiple"):
            # Every chosen option is one value; a required list left empty gets its
            # first option, as a user picks one.
            chosen_options = list(element.select("option[selected]"))
            if not chosen_options and element.has_attr("required"):
                chosen_options = list(element.select("option"))[:1]
            fields.extend((name, str(o.get("value", ""))) for o in chosen_options)
            continue
        if element.name == "select":
            chosen = element.select_one("option[selected]") or element.select_one("option")
            value = str(chosen.get("value", "")) if chosen is not None else ""
        elif element.name == "textarea":
            value = element.get_text()
            value = value.removeprefix("\n")
        elif element.get("type") in {"checkbox", "radio"}:
            if not element.has_attr("checked"):
                continue
            value = str(element.get("value", "on"))
        elif element.get("type") in {"submit", "button"}:
            continue
        elif element.get("type") == "file":
            # A user picks a file for a required file field; an optional one stays empty.
            if element.has_attr("required"):
                empty_required.append(name)
                fields.append((name, ""))
            continue
        else:
            value = str(element.get("value", ""))
        if value == "" and element.has_attr("required"):
            empty_required.append(name)
        fields.append((name, value))
    return str(form["action"]), fields, empty_required


def send_as_prefilled(
    *,
    client: Client,
    operation: Operation,
    with_credentials: bool = True,
    content_type: str | None = None,
) -> Exchange | None:
    """Open the operation's page, fill what is required and empty, press Send: the
    exchange it made, or None when the form refused (the page's errors then say why).

    with_credentials: the user types a credential into each credential field left
    empty; without, they leave them as the page shows them.
    content_type: the body's media type chosen in the Content type select first (the
    page's editor for it, as the select asks for it)."""
    url = operation.get_absolute_url()
    response = client.get(url, {"content_type": content_type} if content_type else {})
    assert response.status_code == 200, response.status_code
    action, fields, empty_required = prefilled_form(response.content)
    schemas = _documented(operation)
    filled: list[tuple[str, str]] = []
    files = {
        name: SimpleUploadedFile("report.txt", b"a file's bytes\n", content_type="text/plain")
        for name in empty_required
        if name.startswith("part-") or name == "file"
    }
    # A user has a credential for what the operation's security asks: they type it into
    # the credential fields the page left empty (or holding only "Bearer ").
    # The scheme word comes from the field's description ("Bearer token ..."), which the
    # import also keeps as the parameter's default.
    credentials = {
        (p.location, p.name.lower()): p.default.strip()
        for p in operation.parameters.all()
        if p.secret and with_credentials
    }
    names = iter(value for name, value in fields if name == "header_name")
    for name, value in fields:
        if name in files:
            continue
        if name in empty_required and name.startswith("param-"):
            location, _, parameter = name.removeprefix("param-").partition("-")
            value = typed_value(schemas.get((location, parameter), {}))
        elif name.startswith("param-") and value == "":
            location, _, parameter = name.removeprefix("param-").partition("-")
            if (location, parameter.lower()) in credentials:
                value = CREDENTIAL
        elif name == "header_value":
            header = next(names, "")
            scheme = credentials.get(("header", header.strip().lower()))
            if scheme is not None and _unfilled(value):
                word = value.strip() or scheme
                # Basic credentials are base64 of user:password.
                secret = BASIC_CREDENTIAL if word.lower() == "basic" else CREDENTIAL
                value = f"{word} {secret}".strip()
        filled.append((name, value))
    data: dict[str, Any] = {}
    for name, value in filled:
        data.setdefault(name, []).append(value)
    data.update(files)
    before = Exchange.objects.count()
    client.post(action, data)
    if Exchange.objects.count() == before:
        return None
    return Exchange.objects.order_by("-id").first()
