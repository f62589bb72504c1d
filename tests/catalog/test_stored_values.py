"""Stored secret values (catalog/stored_values.py), from the attacker's side.

A secret parameter's default, stored by an admin (the demo API's Authorization header,
an API key in the path, the query or a header), is never in anything the portal sends
to a browser: operation and API pages, share links, code samples (even with "Show
secrets"), the OpenAPI export, Try it's answer, "Try again", the history and saved
requests. Try it sent with the field left as the page shows it (empty) sends the stored
value: the backend receives it.
"""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from bs4 import BeautifulSoup
from django.conf import settings

from catalog.models import Api, Operation, Parameter, ParameterLocation
from catalog.registration import create_missing_template_parameters
from console.models import Exchange
from tests.backends import reply_with, scripted_server
from tests.factories import make_user
from tests.markup import attr, one

pytestmark = pytest.mark.django_db

DEMO_KEY = settings.PORTAL_DEMO_API_KEY
PATH_SECRET = "t-SECRET-PATH-4711"
TEMPLATE_QUERY_SECRET = "c-SECRET-CODE-4711"
QUERY_SECRET = "q-SECRET-TOKEN-4711"
CHOICE_SECRET = "r-SECRET-REGION-4711"
BEARER_SECRET = "a-SECRET-BEARER-4711"
SIGNATURE_SECRET = "h-SECRET-SIGNATURE-4711"
API_KEY_SECRET = "h-SECRET-APIKEY-4711"
# The stored values a page must never hold (a secret's allowed values are documented, so
# CHOICE_SECRET is on the page as an option: never as the one chosen).
SECRETS = [
    PATH_SECRET,
    TEMPLATE_QUERY_SECRET,
    QUERY_SECRET,
    BEARER_SECRET,
    SIGNATURE_SECRET,
    API_KEY_SECRET,
]
PAGE = "/apis/vault/operations/read/"
PERSONAS = ["anonymous", "user", "staff"]


@pytest.fixture
def backend():
    answer = reply_with(200, headers=[("Content-Type", "application/json")], body=b'{"ok": 1}')
    with scripted_server(answer) as server:
        yield server


def add(operation: Operation, name: str, location: str, default: str, **fields) -> None:
    Parameter.objects.create(
        operation=operation, name=name, location=location, default=default, **fields
    )


@pytest.fixture
def vault(backend) -> Operation:
    """An API whose secrets sit in every place a value can go, each with a default."""
    api = Api.objects.create(name="Vault", slug="vault", service_url=f"{backend.url}/base")
    operation = Operation.objects.create(
        api=api,
        name="Read",
        slug="read",
        method="GET",
        url_template="/tenants/{tenant}/items/{item}?code={code}",
    )
    create_missing_template_parameters(operation=operation)
    parameters = operation.parameters
    parameters.filter(name="tenant").update(default=PATH_SECRET, secret=True)
    parameters.filter(name="item").update(default="42")
    parameters.filter(name="code").update(default=TEMPLATE_QUERY_SECRET, secret=True)
    add(operation, "token", ParameterLocation.QUERY, QUERY_SECRET, secret=True)
    add(
        operation,
        "region",
        ParameterLocation.QUERY,
        CHOICE_SECRET,
        secret=True,
        allowed_values=f"eu\n{CHOICE_SECRET}",
    )
    add(
        operation,
        "Authorization",
        ParameterLocation.HEADER,
        f"Bearer {BEARER_SECRET}",
        secret=True,
        required=True,
    )
    add(operation, "X-Signature", ParameterLocation.HEADER, SIGNATURE_SECRET, secret=True)
    # Not marked secret, but a credential by its name: withheld all the same.
    add(operation, "X-Api-Key", ParameterLocation.HEADER, API_KEY_SECRET)
    add(operation, "Accept", ParameterLocation.HEADER, "application/json")
    return operation


def sign_in(client, persona: str) -> None:
    if persona != "anonymous":
        client.force_login(make_user(persona, staff=persona == "staff"))


def leaked(text: str, secrets: list[str]) -> list[str]:
    return [s for s in secrets if s in text or quote(s, safe="") in text]


def soup_of(response) -> BeautifulSoup:
    assert response.status_code == 200
    return BeautifulSoup(response.content, "html.parser")


def form_as_shown(soup: BeautifulSoup) -> dict[str, list[str]]:
    """What a browser posts for the Try it form as the page shows it."""
    form = one(soup, "#try-it form")
    data: dict[str, list[str]] = {}
    for element in form.select("input[name], select[name], textarea[name]"):
        if element.name == "select":
            chosen = element.select_one("option[selected]") or element.select_one("option")
            assert chosen is not None
            value = attr(chosen, "value", "")
        elif element.name == "textarea":
            value = element.get_text()
        else:
            value = attr(element, "value", "")
        data.setdefault(attr(element, "name"), []).append(value)
    return data


def rows_of(soup: BeautifulSoup) -> list[tuple[str, str, str]]:
    names = soup.select("#try-it [name=header_name]")
    values = soup.select("#try-it [name=header_value]")
    return [
        (attr(n, "value", ""), attr(v, "value", ""), attr(v, "placeholder", ""))
        for n, v in zip(names, values, strict=True)
    ]


# --- Pages ------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_no_page_holds_a_stored_value(client, vault, persona):
    sign_in(client, persona)
    pages = [
        PAGE,
        "/apis/vault/",
        # A share link naming every secret: neither its values nor the stored ones.
        PAGE + "?p.tenant=x&p.token=y&h.Authorization=Bearer+z&h.X-Api-Key=k&p.item=7",
        "/apis/vault/openapi.json",
        "/apis/vault/openapi.yaml",
    ]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        assert leaked(response.content.decode(), SECRETS) == [], page


def test_the_form_says_the_stored_values_will_be_used(client, vault):
    soup = soup_of(client.get(PAGE))
    for name in ("param-template-tenant", "param-template-code", "param-query-token"):
        field = soup.select_one(f"[name={name}]")
        assert (field["type"], field.get("value", "")) == ("password", "")
        assert field["placeholder"] == "Stored value will be used"
    region = soup.select_one("[name=param-query-region]")
    assert region.select_one("option[selected]").get_text() == "(stored value)"
    assert region.select_one("option[selected]")["value"] == ""
    # A default that is no secret is filled in as before.
    assert soup.select_one("[name=param-template-item]")["value"] == "42"
    assert rows_of(soup) == [
        ("Authorization", "", "Stored value will be used"),
        ("X-Signature", "", "Stored value will be used"),
        ("X-Api-Key", "", "Stored value will be used"),
        ("Accept", "application/json", "Value"),
        ("", "", "Value"),
    ]
    assert soup.select_one("[name=header_value][aria-label='X-Api-Key value']")["type"] == (
        "password"
    )
    docs = soup.select_one("table.parameters").get_text(" ", strip=True)
    assert "Default: 42" in docs
    assert docs.count("A stored value, which is not shown, is sent") == 7


@pytest.mark.parametrize("persona", PERSONAS)
def test_no_demo_operation_page_holds_the_demo_key(client, demo_api, persona):
    sign_in(client, persona)
    for operation in demo_api.operations.all():
        response = client.get(operation.get_absolute_url())
        assert response.status_code == 200
        assert DEMO_KEY not in response.content.decode(), operation.slug
        soup = BeautifulSoup(response.content, "html.parser")
        authorization = [row for row in rows_of(soup) if row[0] == "Authorization"]
        assert authorization == [("Authorization", "", "Stored value will be used")]
    for export in ("openapi.json", "openapi.yaml"):
        assert DEMO_KEY not in client.get(f"/apis/azureml-demo/{export}").content.decode()


# --- Try it -----------------------------------------------------------------------------


def sent_request(backend):
    [request] = backend.requests
    return request


def test_try_it_left_as_shown_sends_the_stored_values(client, vault, backend):
    data = form_as_shown(soup_of(client.get(PAGE)))
    response = client.post(PAGE + "try", data)

    request = sent_request(backend)
    assert request.target == (
        f"/base/tenants/{PATH_SECRET}/items/42?code={TEMPLATE_QUERY_SECRET}"
        f"&token={QUERY_SECRET}&region={CHOICE_SECRET}"
    )
    assert request.header("Authorization") == f"Bearer {BEARER_SECRET}"
    assert request.header("X-Signature") == SIGNATURE_SECRET
    assert request.header("X-Api-Key") == API_KEY_SECRET
    # The answer: sent, the values masked, the fields still saying "stored value".
    soup = soup_of(response)
    assert soup.select_one("[data-status]").get_text(strip=True) == "200 OK"
    assert leaked(response.content.decode(), SECRETS) == []
    assert rows_of(soup)[0] == ("Authorization", "", "Stored value will be used")
    exchange = Exchange.objects.get()
    assert ["Authorization", "Bearer ••••••"] in exchange.request_headers


def test_a_typed_value_is_sent_instead_of_the_stored_one(client, vault, backend):
    data = form_as_shown(soup_of(client.get(PAGE)))
    data["param-template-tenant"] = ["mine"]
    data["header_value"][0] = "Bearer my-own-token"
    client.post(PAGE + "try", data)

    request = sent_request(backend)
    assert request.target.startswith("/base/tenants/mine/items/42?")
    assert request.header("Authorization") == "Bearer my-own-token"
    assert request.header("X-Signature") == SIGNATURE_SECRET


def test_a_required_secret_header_with_a_stored_value_is_not_missing(client, vault, backend):
    data = form_as_shown(soup_of(client.get(PAGE)))
    assert data["header_value"][0] == ""
    soup = soup_of(client.post(PAGE + "try", data))
    assert soup.select_one("#header-errors") is None
    assert backend.connections == 1


def test_a_secret_header_row_taken_out_is_not_sent(client, vault, backend):
    data = form_as_shown(soup_of(client.get(PAGE)))
    names, values = data["header_name"], data["header_value"]
    data["header_name"], data["header_value"] = names[1:], values[1:]
    soup = soup_of(client.post(PAGE + "try", data))
    assert soup.select_one("#header-errors").get_text(strip=True) == (
        "The header Authorization is required."
    )
    assert backend.connections == 0


@pytest.mark.django_db(transaction=True)
def test_the_demo_form_as_shown_is_accepted_by_the_sample_backend(client, live_demo_api):
    page = "/apis/azureml-demo/operations/rrs-execute/"
    data = form_as_shown(soup_of(client.get(page)))
    assert DEMO_KEY not in json.dumps(data)
    response = client.post(page + "try", data)
    # The sample backend answers 401 to a wrong or missing key.
    soup = soup_of(response)
    assert soup.select_one("[data-status]").get_text(strip=True) == "200 OK"
    assert DEMO_KEY not in response.content.decode()


# --- Afterwards: Try again, history, saved requests ---------------------------------------


@pytest.fixture
def sent_once(client, vault, backend) -> Exchange:
    client.post(PAGE + "try", form_as_shown(soup_of(client.get(PAGE))))
    return Exchange.objects.get()


def test_try_again_says_stored_value_and_sends_it_again(client, vault, backend, sent_once):
    response = client.get(f"{PAGE}?from={sent_once.pk}")
    assert leaked(response.content.decode(), SECRETS) == []
    soup = soup_of(response)
    assert soup.select_one("[name=param-template-tenant]").get("value", "") == ""
    assert rows_of(soup)[:3] == [
        ("Authorization", "", "Stored value will be used"),
        ("X-Signature", "", "Stored value will be used"),
        ("X-Api-Key", "", "Stored value will be used"),
    ]
    client.post(PAGE + "try", form_as_shown(soup))
    assert backend.requests[1].header("Authorization") == f"Bearer {BEARER_SECRET}"
    assert backend.requests[1].target == backend.requests[0].target


def test_try_again_after_a_new_stored_value_shows_neither(client, vault, backend, sent_once):
    # Saved one by one, as the admin does: the processes' kept operations are renewed.
    for name, default in [
        ("Authorization", "Bearer rotated-SECRET-2"),
        ("tenant", "rotated-SECRET-3"),
    ]:
        parameter = vault.parameters.get(name=name)
        parameter.default = default
        parameter.save()
    response = client.get(f"{PAGE}?from={sent_once.pk}")
    assert leaked(response.content.decode(), [*SECRETS, "rotated-SECRET"]) == []
    client.post(PAGE + "try", form_as_shown(soup_of(response)))
    assert backend.requests[1].header("Authorization") == "Bearer rotated-SECRET-2"
    assert backend.requests[1].target.startswith("/base/tenants/rotated-SECRET-3/")


def test_try_again_keeps_a_value_the_caller_typed(client, vault, backend):
    data = form_as_shown(soup_of(client.get(PAGE)))
    data["header_value"][0] = "Bearer typed-by-me"
    client.post(PAGE + "try", data)
    soup = soup_of(client.get(f"{PAGE}?from={Exchange.objects.get().pk}"))
    assert rows_of(soup)[0] == ("Authorization", "Bearer typed-by-me", "Stored value will be used")


def test_history_and_saved_requests_show_no_stored_value(client, vault, backend):
    client.force_login(make_user("tester"))
    client.post(PAGE + "try", form_as_shown(soup_of(client.get(PAGE))))
    exchange = Exchange.objects.get()
    saved = client.post(
        f"/history/{exchange.pk}/save", {"name": "Read", "new_collection_name": "Mine"}
    )
    assert saved.status_code == 302
    pages = ["/history/", f"/history/{exchange.pk}/", saved["Location"], saved["Location"] + "edit"]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        assert leaked(response.content.decode(), SECRETS) == [], page


# --- Code samples -----------------------------------------------------------------------


@pytest.mark.parametrize("reveal", ["", "1"])
def test_samples_never_write_a_stored_value(client, vault, reveal):
    data = form_as_shown(soup_of(client.get(PAGE)))
    response = client.post(PAGE + "samples", {**data, "reveal": reveal, "lang": "curl"})
    text = response.content.decode()
    assert leaked(text, SECRETS) == []
    soup = soup_of(response)
    curl = soup.select_one("#sample-curl pre").get_text()
    print(curl)
    assert "--header 'Authorization: Bearer '\"$AUTHORIZATION\"" in curl
    assert "--header 'X-Signature: '\"$X_SIGNATURE\"" in curl
    assert "/tenants/'\"$TENANT\"'/items/42?code='\"$CODE\"'&token='\"$TOKEN\"'" in curl
    notes = soup.select_one("[data-samples-secrets]").get_text(" ", strip=True)
    assert 'AUTHORIZATION (the Authorization header, after "Bearer "; the stored value, ' in notes
    assert soup.select_one("[data-samples-stored]").get_text(" ", strip=True) == (
        "Stored values are never shown, not even with Show secrets : set those variables yourself."
    )


def test_revealed_samples_write_the_values_typed_in(client, vault):
    data = form_as_shown(soup_of(client.get(PAGE)))
    data["header_value"][0] = "Bearer typed-by-me"
    soup = soup_of(client.post(PAGE + "samples", {**data, "reveal": "1", "lang": "curl"}))
    curl = soup.select_one("#sample-curl pre").get_text()
    assert "--header 'Authorization: Bearer typed-by-me'" in curl
    assert "--header 'X-Signature: '\"$X_SIGNATURE\"" in curl
