"""Registering APIs and operations in the admin, with its validation messages."""

import pytest

from catalog.models import Api, Operation, ParameterLocation

pytestmark = pytest.mark.django_db


def formset(prefix: str, rows: list[dict]) -> dict:
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        data.update({f"{prefix}-{index}-{key}": value for key, value in row.items()})
    return data


def api_form(**overrides: str) -> dict:
    data = {
        "name": "Weather",
        "slug": "weather",
        "url_suffix": "weather",
        "service_url": "https://weather.example.com/v1",
        "version": "1",
        "published": "on",
        "description": "",
        **formset("servers", []),
        **formset("operations", []),
    }
    data.update(overrides)
    return data


@pytest.fixture
def api() -> Api:
    return Api.objects.create(name="Weather", slug="weather", service_url="https://w.example.com")


def operation_form(api: Api, *, template: str, parameters: list[dict], create_missing: bool):
    data = {
        "api": str(api.pk),
        "name": "Forecast",
        "slug": "forecast",
        "method": "GET",
        "url_template": template,
        "description": "",
        "tags": "",
        "order": "0",
        "request_content_type": "",
        "body_example": "",
        **formset("parameters", parameters),
        **formset("responses", []),
    }
    if create_missing:
        data["create_missing_parameters"] = "on"
    return data


def parameter(name: str, location: str = ParameterLocation.TEMPLATE) -> dict:
    return {"name": name, "location": location, "type": "string", "order": "0"}


def test_admin_registers_an_api(admin_client):
    response = admin_client.post("/admin/operations/api/add/", api_form())
    assert response.status_code == 302
    assert Api.objects.get().service_url == "https://weather.example.com/v1"


@pytest.mark.parametrize(
    ("service_url", "message"),
    [
        ("http://user:pw@example.com/x", "The service URL cannot contain a user name or password."),
        ("https://example.com/x?key=1", "The service URL cannot have a query string"),
        ("https://example.com/x#top", "The service URL cannot have a fragment (#...)."),
        ("ftp://example.com/x", "The service URL must start with http:// or https://."),
        ("example.com", "The service URL must start with http:// or https://."),
        ("https://exa mple.com", "The service URL cannot contain spaces."),
        ("https://example.com/a/../b", "The service URL path cannot contain '.' or '..' segments."),
    ],
)
def test_bad_service_urls_are_refused_with_a_clear_error(admin_client, service_url, message):
    response = admin_client.post("/admin/operations/api/add/", api_form(service_url=service_url))
    assert response.status_code == 200
    errors = " ".join(response.context["adminform"].form.errors["service_url"])
    assert message in errors
    assert Api.objects.count() == 0


@pytest.mark.parametrize(
    ("service_url", "message"),
    [
        ("file:///etc/passwd", "The service URL must start with http:// or https://."),
        ("gopher://127.0.0.1:70/", "The service URL must start with http:// or https://."),
        ("http://127.0.0.1\\@evil.test/", "The service URL cannot contain a backslash."),
        ("http://127.0.0.1/a b", "The service URL cannot contain spaces."),
        ("http://2130706433/", "Write IPv4 addresses in dotted decimal form (a.b.c.d); 2130706433"),
        ("http://0x7f000001/", "Write IPv4 addresses in dotted decimal form (a.b.c.d); 0x7f000001"),
        ("http://0x7f.0.0.1/", "Write IPv4 addresses in dotted decimal form (a.b.c.d); 0x7f.0.0.1"),
        ("http://0177.0.0.1/", "Write IPv4 addresses in dotted decimal form (a.b.c.d); 0177.0.0.1"),
        ("http://127.1/", "Write IPv4 addresses in dotted decimal form (a.b.c.d); 127.1 is"),
        (
            "http://[::ffff:127.0.0.1]/",
            "Write the IPv4 address 127.0.0.1 instead of ::ffff:7f00:1.",
        ),
        ("http://169.254.169.254/latest", "169.254.169.254 is a link-local or cloud metadata"),
        ("http://[fe80::1]/", "fe80::1 is a link-local or cloud metadata address"),
        ("http://[fd00:ec2::254]/", "fd00:ec2::254 is a link-local or cloud metadata address"),
        (
            "http://metadata.google.internal/",
            "metadata.google.internal is a cloud metadata service",
        ),
        ("http://[64:ff9b::7f00:1]/", "64:ff9b::7f00:1 embeds the IPv4 address 127.0.0.1 (NAT64"),
        ("http://[2002:7f00:1::]/", "2002:7f00:1:: embeds the IPv4 address 127.0.0.1 (NAT64 or"),
        ("http://[fe80::1%25eth0]/", "The service URL cannot use an IPv6 zone id (%…)."),
        ("http://10.0.0.5/", "10.0.0.5 is not allowed by the portal's network policy"),
        ("http://127.0.0.2:8000/", "127.0.0.2 is not allowed by the portal's network policy"),
        ("http://[::1]/", "::1 is not allowed by the portal's network policy"),
    ],
)
def test_service_urls_that_could_reach_internal_hosts_are_refused(
    admin_client, service_url, message
):
    response = admin_client.post("/admin/operations/api/add/", api_form(service_url=service_url))
    assert response.status_code == 200
    errors = " ".join(response.context["adminform"].form.errors["service_url"])
    assert message in errors
    assert Api.objects.count() == 0


@pytest.mark.parametrize(
    "service_url",
    ["http://127.0.0.1:8000/demo-backend", "https://93.184.216.34", "https://[2606:4700::1111]/v1"],
)
def test_addresses_the_policy_allows_are_accepted(admin_client, service_url):
    response = admin_client.post("/admin/operations/api/add/", api_form(service_url=service_url))
    assert response.status_code == 302
    assert Api.objects.get().service_url == service_url


def test_allowed_networks_setting_opens_a_private_range(admin_client, settings):
    settings.PORTAL_OUTBOUND_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    response = admin_client.post(
        "/admin/operations/api/add/", api_form(service_url="http://10.1.2.3/api")
    )
    assert response.status_code == 302


def test_ports_outside_the_allowed_list_are_refused(admin_client, settings):
    settings.PORTAL_OUTBOUND_ALLOWED_PORTS = ["80", "443"]
    response = admin_client.post(
        "/admin/operations/api/add/", api_form(service_url="https://api.example.com:22/")
    )
    assert response.context["adminform"].form.errors["service_url"] == [
        "Port 22 is not allowed by the portal's network policy (allowed: 80, 443; see "
        "PORTAL_OUTBOUND_ALLOWED_PORTS)."
    ]
    ok = admin_client.post(
        "/admin/operations/api/add/", api_form(service_url="https://a.example.com/")
    )
    assert ok.status_code == 302


def test_template_that_does_not_parse_names_the_position(admin_client, api):
    data = operation_form(api, template="/a/{x", parameters=[], create_missing=True)
    response = admin_client.post("/admin/operations/operation/add/", data)
    assert response.context["adminform"].form.errors["url_template"] == [
        "The URL template does not parse: Unclosed '{' at position 4."
    ]
    assert Operation.objects.count() == 0


def test_missing_template_parameters_are_an_error_unless_created(admin_client, api):
    data = operation_form(
        api,
        template="/cities/{city}/days/{day}",
        parameters=[parameter("city")],
        create_missing=False,
    )
    response = admin_client.post("/admin/operations/operation/add/", data)
    assert response.status_code == 200
    errors = [
        e for fs in response.context["inline_admin_formsets"] for e in fs.formset.non_form_errors()
    ]
    assert errors == [
        "The URL template uses {day} but no parameter defines it. Add it below, or tick "
        "“Create missing parameters from the template”."
    ]
    assert Operation.objects.count() == 0


def test_ticking_create_missing_adds_the_parameters(admin_client, api):
    data = operation_form(
        api,
        template="/cities/{city}?days={days}",
        parameters=[parameter("city")],
        create_missing=True,
    )
    response = admin_client.post("/admin/operations/operation/add/", data, follow=True)
    operation = Operation.objects.get()
    assert [(p.name, p.required) for p in operation.parameters.all()] == [
        ("city", False),
        ("days", False),
    ]
    assert "Created parameters from the template: days." in response.content.decode()


def test_parameter_in_template_location_must_appear_in_the_template(admin_client, api):
    data = operation_form(
        api,
        template="/cities/{city}",
        parameters=[parameter("city"), parameter("zone")],
        create_missing=True,
    )
    response = admin_client.post("/admin/operations/operation/add/", data)
    errors = [
        e for fs in response.context["inline_admin_formsets"] for e in fs.formset.non_form_errors()
    ]
    assert errors == [
        "The parameter “zone” is in the URL template location but the template has no {zone}."
    ]


def test_header_and_query_parameters_need_not_appear_in_the_template(admin_client, api):
    data = operation_form(
        api,
        template="/cities",
        parameters=[parameter("X-Key", ParameterLocation.HEADER), parameter("q", "query")],
        create_missing=False,
    )
    response = admin_client.post("/admin/operations/operation/add/", data)
    assert response.status_code == 302
    assert Operation.objects.get().parameters.count() == 2


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "X-HTTP-Method-Override",
            "Sending X-HTTP-Method-Override would have the backend treat the call as another "
            "method; it cannot be sent.",
        ),
        (
            "Max-Forwards",
            "Sending Max-Forwards would limit how far proxies forward the call; it cannot be sent.",
        ),
        ("Host", "The portal sets Host itself; it cannot be sent."),
        (
            "X Key",
            "Header name 'X Key' is not valid: use letters, digits and !#$%&'*+-.^_`|~ "
            "without spaces or colons.",
        ),
    ],
)
def test_a_header_parameter_try_it_could_not_send_is_refused(admin_client, api, name, message):
    data = operation_form(
        api,
        template="/cities",
        parameters=[parameter(name, ParameterLocation.HEADER)],
        create_missing=False,
    )
    response = admin_client.post("/admin/operations/operation/add/", data)
    assert response.status_code == 200
    [row_errors] = [
        fs.formset.errors[0]
        for fs in response.context["inline_admin_formsets"]
        if fs.formset.errors and fs.formset.errors[0]
    ]
    assert row_errors["name"] == [message]
    assert not Operation.objects.exists()


def test_operations_added_on_the_api_page_get_their_template_parameters(admin_client):
    data = api_form(
        **formset(
            "operations",
            [
                {
                    "name": "Get",
                    "slug": "get",
                    "method": "GET",
                    "url_template": "/x/{id}",
                    "order": "0",
                }
            ],
        )
    )
    response = admin_client.post("/admin/operations/api/add/", data)
    assert response.status_code == 302
    operation = Operation.objects.get()
    assert [(p.name, p.location, p.required) for p in operation.parameters.all()] == [
        ("id", "template", True)
    ]


def server(url: str, description: str = "", order: str = "0") -> dict:
    return {"url": url, "description": description, "order": order}


def server_errors(response) -> list[str]:
    formset = next(
        f for f in response.context["inline_admin_formsets"] if f.formset.prefix == "servers"
    )
    return [message for form in formset.formset.forms for message in form.errors.get("url", [])]


def test_the_api_page_registers_other_servers(admin_client):
    rows = [
        server("https://eu.weather.example.com/v1", "Europe"),
        server("https://sandbox.example.com"),
    ]
    response = admin_client.post("/admin/operations/api/add/", api_form(**formset("servers", rows)))
    assert response.status_code == 302
    api = Api.objects.get()
    assert [(s.url, s.description) for s in api.servers.all()] == [
        ("https://eu.weather.example.com/v1", "Europe"),
        ("https://sandbox.example.com", ""),
    ]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/x", "The service URL must start with http:// or https://."),
        (
            "https://example.com/x?key=1",
            "The service URL cannot have a query string; put it in the templates.",
        ),
        ("http://user:pw@example.com/x", "The service URL cannot contain a user name or password."),
        (
            "http://169.254.169.254/latest",
            "169.254.169.254 is a link-local or cloud metadata address and cannot be a backend.",
        ),
        (
            "http://10.0.0.5/api",
            "10.0.0.5 is not allowed by the portal's network policy: only public addresses and "
            "the networks in PORTAL_OUTBOUND_ALLOWED_NETWORKS.",
        ),
        (
            "http://0x7f000001/",
            "Write IPv4 addresses in dotted decimal form (a.b.c.d); 0x7f000001 is read as an "
            "address in another notation.",
        ),
    ],
)
def test_a_server_url_the_rules_refuse_is_refused_with_the_validators_message(
    admin_client, url, message
):
    rows = [server("https://fine.example.com"), server(url)]
    response = admin_client.post("/admin/operations/api/add/", api_form(**formset("servers", rows)))
    assert response.status_code == 200
    assert server_errors(response) == [message]
    assert Api.objects.count() == 0


def test_a_server_port_outside_the_policy_is_refused(admin_client, settings):
    settings.PORTAL_OUTBOUND_ALLOWED_PORTS = ["443"]
    rows = [server("https://example.com:8443/api")]
    response = admin_client.post("/admin/operations/api/add/", api_form(**formset("servers", rows)))
    assert server_errors(response) == [
        "Port 8443 is not allowed by the portal's network policy (allowed: 443; see "
        "PORTAL_OUTBOUND_ALLOWED_PORTS)."
    ]
    assert Api.objects.count() == 0
