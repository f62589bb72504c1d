"""Try it with an environment: {{name}} replaced when sent, kept as typed in the history;
secrets masked wherever the call goes; a response value saved as a variable."""

import json
import logging

import pytest
from bs4 import BeautifulSoup

from catalog.models import Operation, Parameter, ParameterLocation
from console.environments import SESSION_KEY
from console.models import Environment, Exchange
from console.tryit import retry_values
from portal.secrets import decrypt, encrypt
from tests import log_scan
from tests.backends import reply_with, scripted_server
from tests.console.test_operation_try import make_api, post
from tests.factories import make_user

pytestmark = pytest.mark.django_db

SECRET = "s3cret-env-value-0123456789"
SECRET_PATH = "pathsecret-9876543210"


def soup_of(response) -> BeautifulSoup:
    assert response.status_code == 200, response.status_code
    return BeautifulSoup(response.content, "html.parser")


@pytest.fixture
def backend():
    body = b'{"jobid": "job-42", "count": 3, "done": false, "nested": {"a": 1}, "none": null}'
    with scripted_server(
        reply_with(200, headers=[("Content-Type", "application/json")], body=body)
    ) as server:
        yield server


@pytest.fixture
def ada(client):
    user = make_user("ada")
    client.force_login(user)
    return user


def make_environment(owner, name: str = "Dev", **variables: str) -> Environment:
    rows = [{"name": key, "value": value, "secret": False} for key, value in variables.items()]
    rows.append({"name": "token", "value": encrypt(SECRET), "secret": True})
    rows.append({"name": "pathkey", "value": encrypt(SECRET_PATH), "secret": True})
    return Environment.objects.create(owner=owner, name=name, variables=rows)


@pytest.fixture
def operation(backend):
    operation = make_api(backend.url, method="POST", template="/items/{item}")
    Parameter.objects.create(operation=operation, name="q", location=ParameterLocation.QUERY)
    return operation


def form(environment: Environment | None = None, **fields) -> dict:
    data = {
        "param-template-item": "{{item}}",
        "param-query-q": "{{search}}",
        "header_name": ["X-Custom", ""],
        "header_value": ["{{token}}", ""],
        "body": '{"who": "{{who}}"}',
        "environment": str(environment.pk) if environment else "",
    }
    data.update(fields)
    return data


def test_every_field_is_resolved_when_sent(client, ada, backend, operation):
    environment = make_environment(ada, item="i-7", search="a b", who="me")
    soup = soup_of(post(client, operation, form(environment), htmx=True))
    assert soup.select_one("[data-status]").get_text(strip=True) == "200 OK"
    [sent] = backend.requests
    assert sent.target == "/items/i-7?q=a%20b"
    assert sent.header("X-Custom") == SECRET
    assert json.loads(sent.body) == {"who": "me"}
    assert client.session[SESSION_KEY] == environment.pk


def test_the_history_keeps_the_fields_as_typed_and_masks_secrets(client, ada, backend, operation):
    environment = make_environment(ada, item="i-7", search="x", who="{{token}}")
    data = form(environment, body='{"who": "{{who}}", "key": "{{token}}"}')
    data["param-template-item"] = "{{pathkey}}"
    page = post(client, operation, data, htmx=True).content.decode()
    [sent] = backend.requests
    assert sent.target == f"/items/{SECRET_PATH}?q=x"
    # One pass: a variable's value holding {{token}} is sent as it is.
    assert json.loads(sent.body) == {"who": "{{token}}", "key": SECRET}
    exchange = Exchange.objects.get()
    stored = json.dumps(
        [exchange.url, exchange.request_headers, exchange.request_body, exchange.values]
    )
    assert SECRET not in stored and SECRET_PATH not in stored
    assert SECRET not in page and SECRET_PATH not in page
    assert exchange.url.endswith("/items/••••••?q=x")
    assert ["X-Custom", "••••••"] in exchange.request_headers
    assert json.loads(exchange.request_body) == {"who": "{{token}}", "key": "••••••"}
    assert exchange.values["query"] == [["q", "{{search}}"]]
    assert exchange.values["body"] == '{"who": "{{who}}", "key": "{{token}}"}'
    # Try again: the fields as typed, so the next Send resolves them again.
    again = retry_values(exchange)
    assert again["template"] == {"item": "{{pathkey}}"}
    assert again["headers"] == [["X-Custom", "{{token}}"]]
    history = client.get(f"/history/{exchange.pk}/").content.decode()
    assert SECRET not in history and SECRET_PATH not in history
    retry_page = client.get(f"/apis/scripted/operations/item/?from={exchange.pk}")
    retry = soup_of(retry_page)
    assert retry.select_one("[name='param-template-item']")["value"] == "{{pathkey}}"
    assert retry.select_one("#tryit-environment option[selected]")["value"] == str(environment.pk)
    assert SECRET not in retry_page.content.decode()


def test_no_secret_in_the_log(client, ada, backend, operation, caplog):
    log_scan.remember(SECRET)
    log_scan.remember(SECRET_PATH)
    environment = make_environment(ada, item="i", search="s", who="w")
    data = form(environment)
    data["param-template-item"] = "{{pathkey}}"
    data["param-query-q"] = "{{token}}"
    # The level the portal logs at (urllib3's DEBUG lines carry the path, as for any
    # secret path parameter: docs/design.md, "Environments").
    with caplog.at_level(logging.INFO):
        post(client, operation, data, htmx=True)
    assert backend.requests[0].target == f"/items/{SECRET_PATH}?q={SECRET}"
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "outbound POST" in logged
    assert log_scan.leaked(text=logged, secrets=[SECRET, SECRET_PATH]) == []


@pytest.mark.parametrize(
    ("field", "value", "error_selector", "message"),
    [
        (
            "param-template-item",
            "{{nope}}",
            "#error_1_id_param-template-item",
            "{{nope}} is not a variable of the environment Dev.",
        ),
        (
            "param-query-q",
            "a{{nope}}",
            "#error_1_id_param-query-q",
            "{{nope}} is not a variable of the environment Dev.",
        ),
        (
            "body",
            '{"x": "{{nope}}"}',
            "#error_1_id_body",
            "{{nope}} is not a variable of the environment Dev.",
        ),
        (
            "header_value",
            ["{{nope}}", ""],
            "#header-errors",
            "{{nope}} is not a variable of the environment Dev.",
        ),
    ],
)
def test_an_unknown_variable_is_refused_on_its_field(
    client, ada, backend, operation, field, value, error_selector, message
):
    environment = make_environment(ada, item="i", search="s", who="w")
    soup = soup_of(post(client, operation, form(environment, **{field: value}), htmx=True))
    assert soup.select_one(error_selector).get_text(strip=True) == message
    assert backend.requests == []
    assert Exchange.objects.count() == 0


def test_without_an_environment_braces_are_sent_as_typed(client, ada, backend, operation):
    make_environment(ada, item="i", search="s", who="w")
    post(client, operation, form(None, **{"param-query-q": "{{search}}"}), htmx=True)
    [sent] = backend.requests
    assert sent.target == "/items/%7B%7Bitem%7D%7D?q=%7B%7Bsearch%7D%7D"
    assert sent.header("X-Custom") == "{{token}}"
    assert client.session[SESSION_KEY] is None


def test_an_anonymous_caller_sends_braces_as_typed(client, backend, operation):
    data = form(None)
    post(client, operation, data, htmx=True)
    assert backend.requests[0].target == "/items/%7B%7Bitem%7D%7D?q=%7B%7Bsearch%7D%7D"


def test_another_users_environment_cannot_be_used(client, backend, operation):
    theirs = make_environment(make_user("bob"), item="i", search="s", who="w")
    client.force_login(make_user("ada"))
    assert post(client, operation, form(theirs), htmx=True).status_code == 404
    assert backend.requests == []
    # Nor chosen through the session: the page neither lists nor selects it.
    session = client.session
    session[SESSION_KEY] = theirs.pk
    session.save()
    soup = soup_of(client.get("/apis/scripted/operations/item/"))
    assert [o["value"] for o in soup.select("#tryit-environment option")] == [""]
    assert soup.select_one("#tryit-environment option[selected]") is None


def test_anonymous_cannot_use_an_environment(client, backend, operation):
    theirs = make_environment(make_user("bob"), item="i", search="s", who="w")
    assert post(client, operation, form(theirs), htmx=True).status_code == 404
    assert backend.requests == []


def test_the_choice_is_remembered_and_the_select_lists_only_mine(client, ada, operation):
    mine = make_environment(ada, "Dev")
    make_environment(ada, "Prod")
    make_environment(make_user("bob"), "Bob's")
    session = client.session
    session[SESSION_KEY] = mine.pk
    session.save()
    soup = soup_of(client.get("/apis/scripted/operations/item/"))
    options = [o.get_text(strip=True) for o in soup.select("#tryit-environment option")]
    assert options[1:] == ["Dev", "Prod"]
    assert soup.select_one("#tryit-environment option[selected]")["value"] == str(mine.pk)


# --- Save as variable ---------------------------------------------------------------


def sent_exchange(client, operation, environment) -> Exchange:
    post(client, operation, form(environment, **{"param-template-item": "1"}), htmx=True)
    return Exchange.objects.latest("id")


def test_top_level_scalars_are_offered(client, ada, operation):
    environment = make_environment(ada, search="s", who="w")
    soup = soup_of(post(client, operation, form(environment, **{"param-template-item": "1"})))
    offered = [li["data-save-value"] for li in soup.select("[data-save-value]")]
    assert offered == ["jobid", "count", "done"]
    jobid = soup.select_one("[data-save-value='jobid']")
    assert jobid.select_one("input[name=name]")["value"] == "jobid"
    assert jobid.select_one("select[name=environment] option[selected]")["value"] == str(
        environment.pk
    )


def test_save_reads_the_value_from_the_exchange(client, ada, operation):
    environment = make_environment(ada, search="s", who="w")
    exchange = sent_exchange(client, operation, environment)
    data = {"key": "jobid", "name": "jobid", "environment": environment.pk, "value": "forged"}
    soup = soup_of(client.post(f"/history/{exchange.pk}/save-variable", data))
    assert soup.select_one("[data-saved-variable]").get_text(" ", strip=True) == (
        "Saved as {{jobid}} in Dev."
    )
    environment.refresh_from_db()
    assert {"name": "jobid", "value": "job-42", "secret": False} in environment.variables
    # Saving again replaces the value; a number is kept as JSON writes it.
    client.post(
        f"/history/{exchange.pk}/save-variable",
        {"key": "count", "name": "jobid", "environment": environment.pk},
    )
    environment.refresh_from_db()
    assert [v["value"] for v in environment.variables if v["name"] == "jobid"] == ["3"]


def test_save_keeps_a_secret_secret(client, ada, operation):
    environment = make_environment(ada, search="s", who="w")
    exchange = sent_exchange(client, operation, environment)
    client.post(
        f"/history/{exchange.pk}/save-variable",
        {"key": "jobid", "name": "token", "environment": environment.pk},
    )
    environment.refresh_from_db()
    [token] = [v for v in environment.variables if v["name"] == "token"]
    assert token["secret"] is True and decrypt(token["value"]) == "job-42"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"key": "jobid", "name": "job id"},
            "A variable name uses letters, digits, '_', '-' and '.', and starts with a "
            "letter or '_'.",
        ),
        (
            {"key": "jobid", "name": ""},
            "A variable name uses letters, digits, '_', '-' and '.', and starts with a "
            "letter or '_'.",
        ),
        ({"key": "nested", "name": "n"}, "The response has no such value to save."),
        ({"key": "missing", "name": "n"}, "The response has no such value to save."),
    ],
)
def test_save_refuses_bad_input(client, ada, operation, data, message):
    environment = make_environment(ada, search="s", who="w")
    before = list(environment.variables)
    exchange = sent_exchange(client, operation, environment)
    data = {**data, "environment": environment.pk}
    soup = soup_of(client.post(f"/history/{exchange.pk}/save-variable", data))
    assert soup.select_one("[data-save-error]").get_text(strip=True) == message
    environment.refresh_from_db()
    assert environment.variables == before


def test_only_the_exchange_owner_saves_into_their_own_environment(client, operation):
    ada = make_user("ada")
    client.force_login(ada)
    environment = make_environment(ada, search="s", who="w")
    exchange = sent_exchange(client, operation, environment)
    bob = make_user("bob")
    bobs = make_environment(bob, "Bob's")
    data = {"key": "jobid", "name": "jobid"}
    # Ada into Bob's environment: 404.
    url = f"/history/{exchange.pk}/save-variable"
    assert client.post(url, {**data, "environment": bobs.pk}).status_code == 404
    # Bob from Ada's exchange, into his own: 404.
    client.force_login(bob)
    assert client.post(url, {**data, "environment": bobs.pk}).status_code == 404
    # Anonymous: sent to sign in.
    client.logout()
    response = client.post(url, {**data, "environment": environment.pk})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    for env in (environment, bobs):
        env.refresh_from_db()
        assert not [v for v in env.variables if v["name"] == "jobid"]
    assert client.get(url).status_code in (302, 405)


def test_no_save_controls_for_anyone_but_the_owner(client, ada, operation):
    environment = make_environment(ada, search="s", who="w")
    exchange = sent_exchange(client, operation, environment)
    assert soup_of(client.get(f"/history/{exchange.pk}/")).select("[data-save-value]")
    client.force_login(make_user("bob"))
    assert client.get(f"/history/{exchange.pk}/").status_code == 404


def test_a_bare_json_string_is_offered_as_value():
    with scripted_server(
        reply_with(200, headers=[("Content-Type", "application/json")], body=b'"abc123"')
    ) as server:
        from django.test import Client

        client = Client()
        user = make_user("ada")
        client.force_login(user)
        operation = make_api(server.url)
        environment = make_environment(user)
        soup = soup_of(
            post(client, operation, {"param-template-item": "1", "environment": environment.pk})
        )
        [item] = soup.select("[data-save-value]")
        assert item["data-save-value"] == ""
        assert item.select_one("input[name=name]")["value"] == "value"
        exchange = Exchange.objects.get()
        client.post(
            f"/history/{exchange.pk}/save-variable",
            {"key": "", "name": "jobid", "environment": environment.pk},
        )
        environment.refresh_from_db()
        assert {"name": "jobid", "value": "abc123", "secret": False} in environment.variables


def test_a_bare_value_is_named_as_the_apis_other_operations_take_it(client, ada):
    with scripted_server(
        reply_with(200, headers=[("Content-Type", "application/json")], body=b"42")
    ) as server:
        operation = make_api(server.url, method="POST", template="/jobs?v={v}")
        Operation.objects.create(
            api=operation.api, name="Other", slug="other", method="GET", url_template="/other"
        )
        Operation.objects.create(
            api=operation.api,
            name="Start",
            slug="start",
            method="POST",
            url_template="/jobs/{jobid}/start?v={v}",
        )
        environment = make_environment(ada)
        data = {"param-template-v": "1", "environment": environment.pk}
        soup = soup_of(post(client, operation, data))
    [item] = soup.select("[data-save-value]")
    assert item.select_one("input[name=name]")["value"] == "jobid"
    assert "42" in item.get_text()


def test_no_secret_in_samples_save_page_or_history_list(client, ada, backend, operation):
    environment = make_environment(ada, item="i-7", search="x", who="w")
    data = form(environment)
    data["param-query-q"] = "{{token}}"
    post(client, operation, data, htmx=True)
    exchange = Exchange.objects.get()
    samples = client.post("/apis/scripted/operations/item/samples", data)
    assert samples.status_code == 200
    assert "{{token}}" in samples.content.decode()
    pages = [
        samples,
        client.get("/history/"),
        client.get(f"/history/{exchange.pk}/"),
        client.get(f"/history/{exchange.pk}/save"),
        client.get(f"/environments/{environment.pk}/edit"),
    ]
    for page in pages:
        assert page.status_code == 200
        assert SECRET not in page.content.decode()
        assert SECRET_PATH not in page.content.decode()


@pytest.mark.parametrize(
    ("content_type", "body", "copy"),
    [("application/json", b'{"a": 1}', True), ("text/plain", b"hi", True), ("", b"", False)],
)
def test_every_result_has_download_and_copy(client, content_type, body, copy):
    headers = [("Content-Type", content_type)] if content_type else []
    with scripted_server(reply_with(200, headers=headers, body=body)) as server:
        operation = make_api(server.url)
        soup = soup_of(post(client, operation, {"param-template-item": "1"}))
    exchange = Exchange.objects.get()
    assert soup.select_one("#result [data-download]")["href"] == f"/history/{exchange.pk}/body"
    url_button = soup.select_one("#result [data-copy-url]")
    assert url_button["data-copy-text"] == f"requested-url-{exchange.pk}"
    assert soup.select_one(f"#requested-url-{exchange.pk}").get_text() == exchange.url
    body_button = soup.select_one("#result [data-copy-body]")
    assert (body_button is not None) is copy
    if copy:
        target = soup.select_one(f"#{body_button['data-copy-text']}")
        assert target.get_text().strip() == body.decode().replace('{"a": 1}', '{\n  "a": 1\n}')
