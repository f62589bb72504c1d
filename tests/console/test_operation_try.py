"""POST /apis/<api>/operations/<op>/try: the whole pipeline, with real HTTP on loopback."""

import json
from collections.abc import Sequence

import pytest
from bs4 import BeautifulSoup
from django.conf import settings
from django.contrib.auth.models import AnonymousUser

from catalog.models import Api, Operation, Parameter, ParameterLocation
from catalog.registration import create_missing_template_parameters
from console.environments import environment_choices
from console.models import Exchange
from tests.backends import Exchange as BackendExchange
from tests.backends import reply_with, scripted_server, unused_port

pytestmark = pytest.mark.django_db

RRS_TRY = "/apis/azureml-demo/operations/rrs-execute/try"


def rrs_form(**overrides: str | Sequence[str]) -> dict:
    data = {
        "param-template-workspace": "ws1",
        "param-template-service": "svc1",
        "param-template-apiversion": "2.0",
        "param-template-details": "true",
        "header_name": ["Content-Type", "Authorization", ""],
        "header_value": ["application/json", "Bearer demo-key-0123456789abcdef", ""],
        "body": json.dumps(
            {
                "Inputs": {"input1": {"ColumnNames": ["Col2"], "Values": [["This is a good day"]]}},
                "GlobalParameters": {},
            }
        ),
    }
    data.update(overrides)
    return data


def make_api(
    service_url: str, *, method: str = "GET", template: str = "/items/{item}"
) -> Operation:
    api = Api.objects.create(name="Scripted", slug="scripted", service_url=service_url)
    operation = Operation.objects.create(
        api=api,
        name="Item",
        slug="item",
        method=method,
        url_template=template,
        request_content_type="application/json",
    )
    create_missing_template_parameters(operation=operation)
    return operation


def post(client, operation: Operation, data: dict, *, htmx: bool = False):
    url = f"/apis/{operation.api.slug}/operations/{operation.slug}/try"
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(url, data, headers=headers)


def soup_of(response) -> BeautifulSoup:
    assert response.status_code == 200
    return BeautifulSoup(response.content, "html.parser")


@pytest.fixture
def backend():
    with scripted_server(
        reply_with(200, headers=[("Content-Type", "application/json")], body=b'{"ok": true}')
    ) as server:
        yield server


# --- the demo, end to end over real HTTP ------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_rrs_execute_against_the_sample_backend(client, live_demo_api, live_server):
    soup = soup_of(client.post(RRS_TRY, rrs_form(), headers={"HX-Request": "true"}))
    assert soup.select_one("[data-status]").get_text(strip=True) == "200 OK"
    # The demo API is on the gateway: the URL a developer calls, at the portal's host.
    assert soup.select_one("[data-requested-url]").get_text() == (
        "http://testserver/gateway/azureml-demo/workspaces/ws1/services/svc1/execute"
        "?api-version=2.0&details=true"
    )
    assert soup.select_one("[data-backend-url]") is None
    headers = {row.th.get_text(): row.td.get_text() for row in soup.select(".response-headers tr")}
    assert headers["Content-Type"] == "application/json"
    body = json.loads(soup.select_one("[data-body-kind=json]").get_text())
    value = body["Results"]["output1"]["value"]
    assert value["ColumnNames"][1:] == [f"Col2_HashingFeature.{n}" for n in range(8)]
    assert sum(int(count) for count in value["Values"][0][1:]) == 9
    # The htmx answer is the Try it section alone, with the form keeping its values.
    assert soup.select_one("html") is None
    assert soup.select_one("input[name=param-template-workspace]")["value"] == "ws1"


@pytest.mark.django_db(transaction=True)
def test_without_javascript_the_whole_page_comes_back(client, live_demo_api):
    soup = soup_of(client.post(RRS_TRY, rrs_form()))
    assert soup.select_one("html") is not None
    assert soup.select_one("h1").get_text(strip=True) == "RRS Execute"
    assert soup.select_one("[data-status]").get_text(strip=True) == "200 OK"


@pytest.mark.django_db(transaction=True)
def test_every_call_is_recorded_with_secrets_masked(client, live_demo_api):
    soup = soup_of(client.post(RRS_TRY, rrs_form()))
    exchange = Exchange.objects.get()
    assert exchange.status_code == 200
    assert exchange.operation.slug == "rrs-execute"
    assert ["Authorization", "Bearer ••••••"] in exchange.request_headers
    assert ["Authorization", "Bearer ••••••"] in exchange.values["headers"]
    assert "demo-key-0123456789abcdef" not in json.dumps(exchange.request_headers)
    panel = soup.select_one("#result").get_text()
    assert "Bearer ••••••" in panel
    assert "demo-key-0123456789abcdef" not in panel


@pytest.mark.django_db(transaction=True)
def test_sample_backend_errors_are_shown_as_responses(client, live_demo_api):
    form = rrs_form(header_value=["application/json", "Bearer wrong", ""])
    soup = soup_of(client.post(RRS_TRY, form))
    assert soup.select_one("[data-status]").get_text(strip=True) == "401 Unauthorized"
    assert "The API key is not valid." in soup.select_one("[data-body-kind=json]").get_text()


# --- bad input: a form error, nothing sent --------------------------------------------


def test_invalid_json_body_is_a_form_error_naming_line_and_column(client, backend):
    operation = make_api(backend.url, method="POST")
    soup = soup_of(post(client, operation, {"param-template-item": "1", "body": '{\n  "a": 1,\n}'}))
    error = soup.select_one("#try-it .invalid-feedback, #try-it .errorlist")
    assert (
        "Invalid JSON: Expecting property name enclosed in double quotes at line 3, column 1."
        in (soup.select_one("#try-it").get_text())
    )
    assert error is not None
    assert backend.requests == []
    assert Exchange.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('{"a": NaN}', "Invalid JSON: NaN is not valid JSON."),
        ('{"a": 1} trailing', "Invalid JSON: Extra data at line 1, column 10."),
        ("[" * 100_000, "Invalid JSON: nested deeper than 200 levels."),
        ('{"a": ', "Invalid JSON: Expecting value at line 1, column 7."),
    ],
)
def test_other_bad_json_bodies(client, backend, body, message):
    operation = make_api(backend.url, method="POST")
    soup = soup_of(post(client, operation, {"param-template-item": "1", "body": body}))
    assert message in soup.select_one("#try-it").get_text()
    assert backend.requests == []


def test_missing_required_parameter_is_an_error_on_that_field(client, backend):
    operation = make_api(backend.url)
    soup = soup_of(post(client, operation, {"param-template-item": ""}))
    field = soup.select_one("input[name=param-template-item]")
    assert "is-invalid" in field["class"]
    assert "This field is required." in soup.select_one("#try-it").get_text()
    assert backend.requests == []
    assert Exchange.objects.count() == 0


@pytest.mark.parametrize(
    ("value", "target"),
    [
        ("@evil.test", "/base/items/%40evil.test"),
        ("//evil.test", "/base/items/%2F%2Fevil.test"),
        ("https://evil.test/x", "/base/items/https%3A%2F%2Fevil.test%2Fx"),
        ("?x=1#", "/base/items/%3Fx%3D1%23"),
    ],
)
def test_hostile_path_values_stay_one_segment_under_the_registered_prefix(
    client, backend, value, target
):
    operation = make_api(f"{backend.url}/base")
    soup = soup_of(post(client, operation, {"param-template-item": value}))
    assert soup.select_one("[data-status]").get_text(strip=True) == "200 OK"
    assert [r.target for r in backend.requests] == [target]
    assert backend.requests[0].header("Host") == backend.url.removeprefix("http://")


@pytest.mark.parametrize("value", [".", "..", "../../admin", "a/../../b"])
def test_dot_path_values_are_refused(client, backend, value):
    operation = make_api(f"{backend.url}/base")
    soup = soup_of(post(client, operation, {"param-template-item": value}))
    assert "'.' and '..' are not allowed as path segments." in soup.select_one("#try-it").get_text()
    assert "is-invalid" in soup.select_one("input[name=param-template-item]")["class"]
    assert backend.requests == []


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("X-Test", "a\r\nX-Injected: 1", "The value of X-Test contains a line break or NUL."),
        ("X-Test", "a\nb", "The value of X-Test contains a line break or NUL."),
        ("X-Te\rst", "a", "Header name 'X-Te\\rst' is not valid"),
        ("X-Te\nst", "a", "Header name 'X-Te\\nst' is not valid"),
        ("Host", "evil.test", "The portal sets Host itself; it cannot be sent."),
    ],
)
def test_bad_headers_are_form_errors(client, backend, name, value, message):
    operation = make_api(backend.url)
    data = {"param-template-item": "1", "header_name": [name], "header_value": [value]}
    soup = soup_of(post(client, operation, data))
    assert message in soup.select_one("#header-errors").get_text()
    assert backend.requests == []


def test_required_header_parameter_must_be_given(client, backend):
    operation = make_api(backend.url)
    Parameter.objects.create(
        operation=operation, name="X-Key", location=ParameterLocation.HEADER, required=True
    )
    data = {"param-template-item": "1", "header_name": ["X-Key"], "header_value": [""]}
    soup = soup_of(post(client, operation, data))
    assert "The header X-Key is required." in soup.select_one("#header-errors").get_text()
    assert backend.requests == []


# --- backend faults: an error panel, never a 500 ----------------------------------------


def test_backend_down_is_a_connect_error_panel(client):
    operation = make_api(f"http://127.0.0.1:{unused_port()}")
    soup = soup_of(post(client, operation, {"param-template-item": "1"}))
    panel = soup.select_one("[data-error-kind]")
    assert panel["data-error-kind"] == "connect"
    assert "Connection failed" in panel.get_text()
    assert Exchange.objects.get().error_kind == "connect"


def test_unresolvable_name_is_a_dns_error_panel(client):
    operation = make_api("http://nosuch.invalid")
    soup = soup_of(post(client, operation, {"param-template-item": "1"}))
    assert soup.select_one("[data-error-kind]")["data-error-kind"] == "dns"


def test_silent_backend_is_a_timeout_panel(client, settings):
    settings.PORTAL_OUTBOUND_READ_TIMEOUT = 0.5
    settings.PORTAL_OUTBOUND_DEADLINE = 1.0
    with scripted_server(BackendExchange.hold) as server:
        operation = make_api(server.url)
        soup = soup_of(post(client, operation, {"param-template-item": "1"}))
    assert soup.select_one("[data-error-kind]")["data-error-kind"] == "timeout"


def test_destination_outside_the_network_policy_is_blocked(client):
    with scripted_server(reply_with(200), host="127.0.0.2") as server:
        operation = make_api(server.url)
        soup = soup_of(post(client, operation, {"param-template-item": "1"}))
        assert server.requests == []
    assert soup.select_one("[data-error-kind]")["data-error-kind"] == "blocked_destination"


def test_redirect_is_shown_not_followed(client):
    with scripted_server(reply_with(200, body=b"second")) as other:
        redirect = reply_with(302, headers=[("Location", f"{other.url}/steal")])
        with scripted_server(redirect) as server:
            operation = make_api(server.url)
            soup = soup_of(post(client, operation, {"param-template-item": "1"}))
        assert other.requests == []
    assert soup.select_one("[data-status]").get_text(strip=True) == "302 Found"
    assert f"to {other.url}/steal" in soup.select_one("#result .alert-info").get_text()


def test_oversized_response_is_truncated_with_a_notice(client, settings):
    settings.PORTAL_OUTBOUND_MAX_RESPONSE_BYTES = 1024
    body = b"x" * 50_000
    with scripted_server(reply_with(200, headers=[("Content-Type", "text/plain")], body=body)) as s:
        operation = make_api(s.url)
        soup = soup_of(post(client, operation, {"param-template-item": "1"}))
    assert "The response was truncated at 1.0\xa0KB" in soup.select_one("#result").get_text()
    assert len(soup.select_one("[data-body-kind=text]").get_text()) == 1024
    assert len(bytes(Exchange.objects.get().response_body)) == 1024


def test_html_response_is_shown_as_escaped_text(client):
    html = b"<script>alert(1)</script><img src=x onerror=alert(2)>"
    with scripted_server(reply_with(200, headers=[("Content-Type", "text/html")], body=html)) as s:
        operation = make_api(s.url)
        response = post(client, operation, {"param-template-item": "1"})
    content = response.content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;" in content
    assert "<script>alert(1)" not in content
    assert "<img src=x" not in content


def test_binary_response_offers_a_download_with_nosniff(client):
    payload = bytes(range(256)) * 4
    with scripted_server(
        reply_with(200, headers=[("Content-Type", "image/png")], body=payload)
    ) as s:
        operation = make_api(s.url)
        soup = soup_of(post(client, operation, {"param-template-item": "1"}))
    panel = soup.select_one("[data-body-kind=binary]")
    assert "image/png, 1.0\xa0KB" in panel.get_text()
    download = client.get(panel.a["href"])
    assert download.content == payload
    assert download["Content-Disposition"] == (
        f'attachment; filename="response-{Exchange.objects.get().pk}.png"'
    )
    assert download["Content-Type"] == "application/octet-stream"
    assert download["X-Content-Type-Options"] == "nosniff"


def test_set_cookie_from_a_backend_never_reaches_the_browser(client):
    cookie = [("Set-Cookie", "sessionid=stolen; Path=/"), ("Content-Type", "text/plain")]
    with scripted_server(reply_with(200, headers=cookie, body=b"hi")) as s:
        operation = make_api(s.url)
        response = post(client, operation, {"param-template-item": "1"})
    assert "stolen" not in response.cookies.get("sessionid", "")
    assert "Set-Cookie" not in [n for n, _ in response.items() if "stolen" in _]
    assert "sessionid=stolen" not in response.content.decode()


def test_content_type_header_with_markup_is_escaped(client):
    headers = [("Content-Type", 'text/plain"><script>alert(1)</script>')]
    with scripted_server(reply_with(200, headers=headers, body=b"hi")) as s:
        operation = make_api(s.url)
        response = post(client, operation, {"param-template-item": "1"})
    content = response.content.decode()
    assert "<script>alert(1)</script>" not in content
    assert "text/plain&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in content


def test_port_outside_the_allowed_list_is_blocked_unsent(client, settings):
    settings.PORTAL_OUTBOUND_ALLOWED_PORTS = ["80", "443"]
    with scripted_server(reply_with(200)) as server:
        operation = make_api(server.url)
        soup = soup_of(post(client, operation, {"param-template-item": "1"}))
        assert server.connections == 0
    panel = soup.select_one("[data-error-kind]")
    assert panel["data-error-kind"] == "blocked_destination"
    assert f"Port {server.port} is not allowed by the portal's network policy" in panel.get_text()


def test_calls_over_the_rate_limit_are_refused_unsent(client, settings, django_user_model):
    settings.PORTAL_TRY_IT_RATE_LIMIT = 2
    settings.PORTAL_TRY_IT_RATE_WINDOW = 3600
    with scripted_server(reply_with(200)) as server:
        operation = make_api(server.url)
        answers = [post(client, operation, {"param-template-item": "1"}) for _ in range(3)]
        assert [a.status_code for a in answers] == [200, 200, 429]
        refused = BeautifulSoup(answers[2].content, "html.parser")
        assert (
            "Too many calls: at most 2 every 3600 seconds."
            in refused.select_one("#try-it .alert-danger").get_text()
        )
        assert int(answers[2]["Retry-After"]) > 0
        assert refused.select_one("#result") is None
        assert len(server.requests) == 2
        # A signed-in user has a count of their own.
        client.force_login(django_user_model.objects.create_user("ada", password="pw"))
        assert post(client, operation, {"param-template-item": "1"}).status_code == 200
        assert len(server.requests) == 3
    assert Exchange.objects.count() == 3


def test_result_panel_offers_save_to_signed_in_users(client, backend, django_user_model):
    operation = make_api(backend.url)
    anonymous = soup_of(post(client, operation, {"param-template-item": "1"}))
    exchange_url = f"/history/{Exchange.objects.latest('id').pk}/"
    assert anonymous.select_one("#result a[href='" + exchange_url + "']") is not None
    assert anonymous.select_one("[data-save-exchange]") is None
    client.force_login(django_user_model.objects.create_user("ada", password="pw"))
    signed_in = soup_of(post(client, operation, {"param-template-item": "1"}))
    exchange = Exchange.objects.latest("id")
    assert signed_in.select_one("[data-save-exchange]")["href"] == f"/history/{exchange.pk}/save"


def test_secret_placeholder_under_another_query_key_is_masked(client, backend):
    operation = make_api(backend.url, template="/items/{item}?api_key={apikey}")
    operation.parameters.filter(name="apikey").update(secret=True)
    post(client, operation, {"param-template-item": "1", "param-template-apikey": "k3y-s3cret"})
    assert backend.requests[0].target == "/items/1?api_key=k3y-s3cret"
    exchange = Exchange.objects.get()
    assert "k3y-s3cret" not in exchange.url
    assert exchange.url.endswith("?api_key=••••••")
    assert "k3y-s3cret" not in json.dumps(exchange.values)


# --- what one call costs the database ----------------------------------------------


def test_an_anonymous_try_it_call_reads_the_session_and_writes_the_exchange_only(
    client, backend, django_assert_num_queries
):
    operation = make_api(backend.url, template="/fast")
    client.get(f"/apis/{operation.api.slug}/operations/{operation.slug}")  # the session
    post(client, operation, {}, htmx=True)  # the operation, as the process keeps it
    # The exchange's insert, and the session's read unless the cache holds it (REDIS_URL:
    # cached_db sessions).
    session_reads = 0 if settings.SESSION_ENGINE.endswith("cached_db") else 1
    with django_assert_num_queries(session_reads + 1):
        response = post(client, operation, {}, htmx=True)
    assert soup_of(response).select_one("[data-status]").get_text(strip=True) == "200 OK"


def test_an_anonymous_visitor_has_no_environment_choices_and_no_query_for_them(
    django_assert_num_queries,
):
    with django_assert_num_queries(0):
        choices = environment_choices(user=AnonymousUser())
    assert choices == []
    assert isinstance(choices, list)
