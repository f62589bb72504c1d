"""Parameters as their schema describes them (console/parameter_inputs.py): typed
inputs, the form's exact errors (nothing sent), arrays as repeated inputs or a
multi-select, label and matrix path styles, and documented cookies sent in one Cookie
header, masked where secret."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from bs4 import BeautifulSoup
from django.http import QueryDict
from django.test import Client

from catalog.models import Operation
from console import authorization
from console.forms import TryItForm
from console.models import Exchange
from console.share_links import prefill_from_link, share_query
from console.tryit import retry_values
from httpcore.masking import MASK
from openapi.sync import import_openapi
from tests.backends import scripted_server
from tests.markup import one

SPEC = Path(__file__).resolve().parent.parent / "specs" / "oas30-parameters.yaml"


@pytest.fixture
def api(settings):
    settings.PORTAL_OUTBOUND_ALLOWED_PORTS = ["*"]
    settings.PORTAL_TRY_IT_RATE_LIMIT = 10_000
    with scripted_server() as server:
        summary = import_openapi(document=yaml.safe_load(SPEC.read_text()), service_url=server.url)
        yield server, summary.api


def _operation(api, operation_id: str) -> Operation:
    return Operation.objects.get(api=api, operation_id=operation_id)


def _try(client: Client, operation: Operation, fields: dict) -> BeautifulSoup:
    response = client.post(
        f"/apis/{operation.api.slug}/operations/{operation.slug}/try",
        fields,
        HTTP_HX_REQUEST="true",
    )
    return BeautifulSoup(response.content, "html.parser")


NUMBERS = {
    "param-query-limit": "10",
    "param-query-exact": "true",
    "param-query-since": "2026-01-31",
}


# --- typed inputs as rendered -------------------------------------------------------


@pytest.mark.django_db
def test_inputs_are_typed_by_the_schema(client, api) -> None:
    _, documented = api
    operation = _operation(documented, "numbers")
    soup = BeautifulSoup(client.get(operation.get_absolute_url()).content, "html.parser")
    limit = one(soup, "input[name=param-query-limit]")
    assert (limit["type"], limit["min"], limit["max"], limit["step"]) == ("number", "1", "100", "1")
    ratio = one(soup, "input[name=param-query-ratio]")
    # An exclusive bound is no min attribute (the browser would allow 0): the server checks.
    assert (ratio["type"], ratio.get("min"), ratio["max"], ratio["step"]) == (
        "number",
        None,
        "1",
        "any",
    )
    assert one(soup, "input[name=param-query-step]")["step"] == "0.5"
    exact = [o["value"] for o in soup.select("select[name=param-query-exact] option")]
    verbose = [o["value"] for o in soup.select("select[name=param-query-verbose] option")]
    assert (exact, verbose) == (["true", "false"], ["", "true", "false"])
    assert one(soup, "input[name=param-query-since]")["type"] == "date"
    at = one(soup, "input[name=param-query-at]")
    assert (at["type"], at["placeholder"]) == ("text", "2026-01-31T12:00:00Z")
    help_text = one(soup, "#id_param-query-limit_helptext").get_text()
    assert "at least 1, at most 100" in help_text


@pytest.mark.django_db
def test_with_environments_number_and_date_inputs_take_text(api) -> None:
    _, documented = api
    operation = _operation(documented, "numbers")
    form = TryItForm(operation=operation, references=True)
    limit = form["param-query-limit"].as_widget()
    since = form["param-query-since"].as_widget()
    assert 'type="text"' in limit and 'inputmode="numeric"' in limit and "max=" not in limit
    assert 'type="text"' in since and 'placeholder="YYYY-MM-DD"' in since
    # A {{variable}} kept from an earlier call brings text inputs back too.
    kept = TryItForm(operation=operation, prefill={"query": [["limit", "{{n}}"]]})
    assert 'value="{{n}}"' in kept["param-query-limit"].as_widget()


@pytest.mark.django_db
def test_an_array_is_one_input_per_item_and_an_enum_array_a_multi_select(client, api) -> None:
    _, documented = api
    operation = _operation(documented, "arrays")
    soup = BeautifulSoup(client.get(operation.get_absolute_url()).content, "html.parser")
    ids = soup.select("[data-items] input[name=param-query-ids]")
    assert [(i["value"], i["type"], i["min"]) for i in ids] == [
        ("1", "number", "1"),
        ("2", "number", "1"),
    ]
    assert soup.select_one("[data-items] [data-add-item]") is not None
    colours = one(soup, "select[name=param-query-colours]")
    assert colours.has_attr("multiple")
    assert [o["value"] for o in colours.select("option")] == ["red", "green", "blue"]


# --- what is sent -------------------------------------------------------------------


@pytest.mark.django_db
def test_repeated_items_and_chosen_options_are_sent_as_their_style_says(client, api) -> None:
    server, documented = api
    operation = _operation(documented, "arrays")
    _try(
        client,
        operation,
        {
            "param-query-colours": ["red", "blue"],
            "param-query-ids": ["3", "", "4"],
            "param-query-each": ["5", "6"],
            "param-query-spaced": ["7", "8"],
            # One input, typed without JavaScript: comma-separated items.
            "param-query-piped": ["9,10"],
        },
    )
    (request,) = server.requests
    assert request.target == (
        "/arrays?colours=red&colours=blue&ids=3%2C4&each=5&each=6&spaced=7%208&piped=9%7C10"
    )
    exchange = Exchange.objects.get()
    query = dict((k, v) for k, v in exchange.values["query"])
    # The form keeps one text per parameter: a JSON array for several items.
    assert json.loads(query["colours"]) == ["red", "blue"]
    assert query["piped"] == "9,10"
    retried = TryItForm(operation=operation, prefill=retry_values(exchange))
    html = retried["param-query-ids"].as_widget()
    assert html.count('name="param-query-ids"') == 2 and 'value="4"' in html
    assert 'value="blue" selected' in retried["param-query-colours"].as_widget()


@pytest.mark.parametrize(
    ("operation_id", "values", "target"),
    [
        ("pathSimple", ("5", "3,4", '{"r": 100, "g": 200}'), "/simple/5/3%2C4/r%2C100%2Cg%2C200"),
        (
            "pathSimpleExplode",
            ("5", "3,4", '{"r": 100, "g": 200}'),
            "/simple-explode/5/3%2C4/r%3D100%2Cg%3D200",
        ),
        ("pathLabel", ("5", "3,4", '{"r": 100, "g": 200}'), "/label/.5/.3%2C4/.r%2C100%2Cg%2C200"),
        (
            "pathLabelExplode",
            ("5", "3,4", '{"r": "100", "g": "200"}'),
            "/label-explode/.5/.3.4/.r=100.g=200",
        ),
        (
            "pathMatrix",
            ("5", "3,4", '{"r": 100, "g": 200}'),
            "/matrix/;p=5/;a=3%2C4/;o=r%2C100%2Cg%2C200",
        ),
        (
            "pathMatrixExplode",
            ("5", "3,4", '{"r": 100, "g": 200}'),
            "/matrix-explode/;p=5/;a=3;a=4/;r=100;g=200",
        ),
        # Reserved characters in values are encoded; the style's delimiters are not.
        ("pathLabelExplode", ("a;b", "x/y\ny", '{"r": "1.5", "g": "="}'), None),
    ],
)
@pytest.mark.django_db
def test_path_styles_as_the_style_table_says(client, api, operation_id, values, target) -> None:
    server, documented = api
    operation = _operation(documented, operation_id)
    p, a, o = values
    _try(client, operation, {"param-template-p": p, "param-template-a": a, "param-template-o": o})
    if target is None:
        # p is an integer: "a;b" is refused on its field, nothing sent.
        assert server.requests == []
        return
    (request,) = server.requests
    assert request.target == target


@pytest.mark.django_db
def test_a_label_value_is_encoded_between_its_delimiters(client, api) -> None:
    server, documented = api
    operation = _operation(documented, "pathLabelExplode")
    _try(
        client,
        operation,
        {
            "param-template-p": "5",
            "param-template-a": "3\n4",
            "param-template-o": '{"r": "a;b/c", "g": "1.5"}',
        },
    )
    (request,) = server.requests
    assert request.target == "/label-explode/.5/.3.4/.r=a%3Bb%2Fc.g=1.5"


@pytest.mark.django_db
def test_documented_cookies_go_in_one_cookie_header(client, api) -> None:
    server, documented = api
    operation = _operation(documented, "cookies")
    _try(
        client,
        operation,
        {
            "param-cookie-theme": "dark",
            "param-cookie-page_size": "20",
            "param-cookie-seen": ["7", "8"],
            "param-cookie-lang": "",
            "param-cookie-api_session": "abcd1234",
        },
    )
    (request,) = server.requests
    assert request.header("Cookie") == "theme=dark; page_size=20; seen=7,8; api_session=abcd1234"
    assert [n for n, _ in request.headers].count("Cookie") == 1
    exchange = Exchange.objects.get()
    # Only the credential is masked: its name says so.
    shown = f"theme=dark; page_size=20; seen=7,8; api_session={MASK}"
    assert ["Cookie", shown] in exchange.request_headers
    again = retry_values(exchange)
    assert again["cookies"] == [
        ["theme", "dark"],
        ["page_size", "20"],
        ["seen", '["7", "8"]'],
        ["lang", ""],
        # The security scheme's cookie, a field of its own (openapi/security.py), whose
        # value the exchange keeps encrypted for Try again.
        ["api_session", "abcd1234"],
    ]
    retried = TryItForm(operation=operation, prefill=again)
    assert 'value="dark" selected' in retried["param-cookie-theme"].as_widget()


@pytest.mark.django_db
def test_a_cookie_key_from_authorize_joins_the_header_and_is_masked(client, api) -> None:
    server, documented = api
    operation = _operation(documented, "cookies")
    session = client.session
    authorization.hold(
        session=session, api=documented, scheme="SessionKey", data={"value": "k3y-s3cret"}
    )
    session.save()
    _try(client, operation, {"param-cookie-theme": "light", "param-cookie-page_size": "1"})
    (request,) = server.requests
    assert request.header("Cookie") == "theme=light; page_size=1; api_session=k3y-s3cret"
    exchange = Exchange.objects.get()
    assert ["Cookie", f"theme=light; page_size=1; api_session={MASK}"] in exchange.request_headers
    assert "k3y-s3cret" not in json.dumps([exchange.values, exchange.request_headers])


@pytest.mark.django_db
def test_samples_carry_the_cookie_header(client, api) -> None:
    _, documented = api
    operation = _operation(documented, "cookies")
    fields = {
        "param-cookie-theme": "dark",
        "param-cookie-page_size": "3",
        "param-cookie-api_session": "abcd1234",
        "lang": "curl",
    }
    response = client.post(f"/apis/{documented.slug}/operations/{operation.slug}/samples", fields)
    text = BeautifulSoup(response.content, "html.parser").get_text()
    # The credential cookie is read from a variable, as every secret.
    assert "'Cookie: theme=dark; page_size=3; api_session='\"$API_SESSION\"" in text
    assert '"Cookie": "theme=dark; page_size=3; api_session=" + os.environ["API_SESSION"]' in text
    assert "abcd1234" not in text


# --- bad input: an exact error, nothing sent -----------------------------------------


@pytest.mark.parametrize(
    ("fields", "name", "error"),
    [
        ({"param-query-limit": "101"}, "param-query-limit", "Enter a number no greater than 100."),
        ({"param-query-limit": "0"}, "param-query-limit", "Enter a number no less than 1."),
        ({"param-query-limit": "1.5"}, "param-query-limit", "Enter a whole number."),
        ({"param-query-ratio": "0"}, "param-query-ratio", "Enter a number greater than 0."),
        ({"param-query-ratio": "1.01"}, "param-query-ratio", "Enter a number no greater than 1."),
        ({"param-query-step": "0.7"}, "param-query-step", "Enter a multiple of 0.5."),
        ({"param-query-step": "1e"}, "param-query-step", "Enter a number."),
        ({"param-query-exact": "yes"}, "param-query-exact", "Select a valid choice."),
        ({"param-query-code": "AB"}, "param-query-code", "Enter at least 3 characters."),
        ({"param-query-code": "ABCD"}, "param-query-code", "Enter at most 3 characters."),
        (
            {"param-query-code": "ab1"},
            "param-query-code",
            "Enter a value matching the pattern ^[A-Z]{3}$.",
        ),
    ],
)
@pytest.mark.django_db
def test_a_value_outside_its_schema_is_refused(client, api, fields, name, error) -> None:
    server, documented = api
    soup = _try(client, _operation(documented, "numbers"), {**NUMBERS, **fields})
    assert server.requests == []
    messages = [e.get_text(" ", strip=True) for e in soup.select(".invalid-feedback")]
    assert any(m.startswith(error) for m in messages), messages
    assert "is-invalid" in (one(soup, f"[name={name}]").get("class") or [])


ARRAYS = {"param-query-colours": ["red"], "param-query-ids": ["1", "2"]}


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"param-query-ids": ["1"]}, "Give at least 2 items."),
        ({"param-query-ids": ["1", "2", "3", "4", "5", "6"]}, "Give at most 5 items."),
        ({"param-query-ids": ["1", "x"]}, "Item 2: Enter a whole number."),
        ({"param-query-ids": ["1", "0"]}, "Item 2: Enter a number no less than 1."),
        (
            {"param-query-colours": ["red", "red"]},
            "Each item must be different: red is given twice.",
        ),
        ({"param-query-colours": ["pink"]}, "Item 1: Choose one of red, green, blue."),
    ],
)
@pytest.mark.django_db
def test_an_array_outside_its_schema_is_refused(client, api, fields, error) -> None:
    server, documented = api
    soup = _try(client, _operation(documented, "arrays"), {**ARRAYS, **fields})
    assert server.requests == []
    messages = [e.get_text(" ", strip=True) for e in soup.select(".invalid-feedback")]
    assert any(m.startswith(error) for m in messages), messages


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("a b", "A cookie value cannot contain spaces."),
        ("a;b", "A cookie value cannot contain ';' (RFC 6265 cookie-octets)."),
        ('a"b', "A cookie value cannot contain '\"' (RFC 6265 cookie-octets)."),
        ("a,b", "A cookie value cannot contain ',' (RFC 6265 cookie-octets)."),
        ("a\\b", "A cookie value cannot contain '\\\\' (RFC 6265 cookie-octets)."),
        ("caf\u00e9", "A cookie value must be ASCII."),
        ("a\x01b", "A cookie value cannot contain control characters (U+0001)."),
    ],
)
@pytest.mark.django_db
def test_a_value_a_cookie_cannot_hold_is_refused(client, api, value, error) -> None:
    server, documented = api
    soup = _try(
        client,
        _operation(documented, "cookies"),
        {"param-cookie-theme": "dark", "param-cookie-page_size": "1", "param-cookie-lang": value},
    )
    assert server.requests == []
    messages = [e.get_text(" ", strip=True) for e in soup.select(".invalid-feedback")]
    assert error in messages, messages


@pytest.mark.django_db
def test_an_environment_reference_is_not_checked_by_type(api) -> None:
    _, documented = api
    data = QueryDict(mutable=True)
    data.update({**NUMBERS, "param-query-limit": "{{limit}}", "param-query-exact": "{{flag}}"})
    form = TryItForm(
        data,
        operation=_operation(documented, "numbers"),
        references=True,
    )
    assert form.is_valid(), form.errors
    assert ("limit", "{{limit}}") in form.values().query_values


@pytest.mark.django_db
def test_a_share_link_carries_every_item_and_the_cookies(api) -> None:
    _, documented = api
    operation = _operation(documented, "cookies")
    data = QueryDict(mutable=True)
    data.setlist("param-cookie-seen", ["1", "2", "3"])
    data.setlist("param-cookie-theme", ["light"])
    pairs = share_query(operation, data)
    assert pairs == [("p.theme", "light"), ("p.seen", '["1", "2", "3"]')]
    link = QueryDict(mutable=True)
    for key, value in pairs:
        link[key] = value
    prefill = prefill_from_link(operation, link)
    assert prefill is not None
    assert prefill["cookies"] == [["theme", "light"], ["seen", '["1", "2", "3"]']]
    form = TryItForm(operation=operation, prefill=prefill)
    assert form["param-cookie-seen"].as_widget().count('name="param-cookie-seen"') == 3


@pytest.mark.django_db
def test_the_parameter_table_shows_each_documented_type(client, api) -> None:
    _, api = api
    soup = BeautifulSoup(
        client.get(_operation(api, "arrays").get_absolute_url()).content, "html.parser"
    )
    types = {
        one(row, "code").get_text(): one(row, "[data-parameter-type]").get_text()
        for row in soup.select("table.parameters tbody tr")
    }
    assert types["colours"] == "array of string"
    assert types["ids"] == "array of integer"
    soup = BeautifulSoup(
        client.get(_operation(api, "numbers").get_absolute_url()).content, "html.parser"
    )
    types = {
        one(row, "code").get_text(): one(row, "[data-parameter-type]").get_text()
        for row in soup.select("table.parameters tbody tr")
    }
    assert types["since"] == "string (date)"
    assert types["limit"] == "integer"
