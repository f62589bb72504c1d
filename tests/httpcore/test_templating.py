import pytest

from httpcore.masking import mask_request_url
from httpcore.templating import (
    BindError,
    Placeholder,
    QueryItem,
    TemplateError,
    bind,
    encode_path_value,
    parse_template,
)

SERVICE = "http://127.0.0.1:8000/demo-backend"
RRS = (
    "/workspaces/{workspace}/services/{service}/execute?api-version={apiversion}&details={details}"
)


def bind_rrs(**values: str):
    defaults = {"workspace": "ws", "service": "svc", "apiversion": "2.0", "details": "true"}
    return bind(
        service_url=SERVICE, method="POST", template=RRS, template_values={**defaults, **values}
    )


def test_parse_splits_path_and_query_placeholders():
    parsed = parse_template(RRS)
    assert parsed.path_names == ["workspace", "service"]
    assert parsed.query_names == ["apiversion", "details"]
    assert parsed.query == (
        QueryItem("api-version", (Placeholder("apiversion"),)),
        QueryItem("details", (Placeholder("details"),)),
    )


def test_parse_keeps_literals_around_placeholders():
    parsed = parse_template("/files/{name}.json")
    assert parsed.path == ("/files/", Placeholder("name"), ".json")


@pytest.mark.parametrize(
    ("template", "message", "position"),
    [
        ("/a/{x", "Unclosed '{'", 3),
        ("/a/x}", "'}' without a matching '{'", 4),
        ("/a/{x}/{x}", "Parameter {x} appears twice", 7),
        ("/a/{}", "Invalid parameter name '' (letters, digits, '_', '-', '.')", 4),
        ("/a/{1x}", "Invalid parameter name '1x' (letters, digits, '_', '-', '.')", 4),
        ("a/b", "The template must start with '/'", 0),
        ("/a b", "Character ' ' is not allowed", 2),
        ("/a#frag", "A template cannot have a fragment", 2),
        ("/a?{key}=1", "Query keys are fixed; only values can be parameters", 3),
        ("/a?=1", "Empty query key", 3),
        ("/a/{b{c}}", "Unclosed '{'", 3),
    ],
)
def test_parse_names_the_problem_and_its_position(template, message, position):
    with pytest.raises(TemplateError) as caught:
        parse_template(template)
    assert caught.value.message == message
    assert caught.value.position == position


def test_bind_builds_url_under_the_service_url():
    request = bind_rrs()
    assert request.url == (
        "http://127.0.0.1:8000/demo-backend/workspaces/ws/services/svc/execute"
        "?api-version=2.0&details=true"
    )
    assert request.method == "POST"
    assert request.service_url == SERVICE


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        ("..a/b..", "..a%2Fb.."),
        ("...", "..."),
        ("@evil.test", "%40evil.test"),
        ("//evil.test", "%2F%2Fevil.test"),
        ("https://evil.test/x", "https%3A%2F%2Fevil.test%2Fx"),
        ("?x=1#", "%3Fx%3D1%23"),
        ("a\\b", "a%5Cb"),
        ("100%", "100%25"),
        # Encoded once: a percent-escape is sent as typed, "%" and all.
        ("%2e%2e%2e", "%252e%252e%252e"),
        ("%41%2fb", "%2541%252fb"),
        ("%zz", "%25zz"),
        ("{service}", "%7Bservice%7D"),
        ("ｆｕｌｌ．／", "%EF%BD%86%EF%BD%95%EF%BD%8C%EF%BD%8C%EF%BC%8E%EF%BC%8F"),
    ],
)
def test_path_values_are_one_encoded_segment(value, encoded):
    request = bind_rrs(workspace=value)
    assert request.url.startswith(f"{SERVICE}/workspaces/{encoded}/services/svc/execute?")


@pytest.mark.parametrize("value", [".", "..", "../../admin", "a/../b", "..\\x", "x/.", "./x"])
def test_dot_segments_are_refused(value):
    with pytest.raises(BindError) as caught:
        bind_rrs(workspace=value)
    assert caught.value.field == "workspace"
    assert caught.value.message == "'.' and '..' are not allowed as path segments."


# A backend that decodes twice reads these as dot segments; one round of decoding shows it.
PERCENT_ENCODED_DOTS = [
    "%2e%2e",
    "%2E%2E",
    "%2E.",
    ".%2e",
    "%2e",
    "%2e%2e%2fadmin",
    "%2e%2e%2Fadmin",
    "a%2f%2e%2e%2fb",
    "a%2f..%2fb",
    "..%2f",
    "%2e%2e%5cadmin",
    "a%5C.%2E",
    "x%2f%2e",
    "%2e%2e/admin",
]


@pytest.mark.parametrize("value", PERCENT_ENCODED_DOTS)
def test_dot_segments_after_one_round_of_decoding_are_refused(value):
    with pytest.raises(BindError) as caught:
        bind_rrs(workspace=value)
    assert caught.value.field == "workspace"
    assert caught.value.message == "'.' and '..' are not allowed as path segments."


def test_percent_encoded_look_alike_dots_are_refused():
    # "%EF%BC%8E%EF%BC%8E" is the fullwidth "\uff0e\uff0e", which NFKC reads as "..".
    with pytest.raises(BindError) as caught:
        bind_rrs(workspace="%EF%BC%8E%EF%BC%8E")
    assert caught.value.message == (
        "Characters that read as '.' or '..' (such as the fullwidth '\uff0e' or '\u2025') are "
        "not allowed as path segments."
    )


@pytest.mark.parametrize(
    "value",
    ["\uff0e\uff0e", "\uff0e\uff0e\uff0fadmin", "a\uff0f\uff0e", "\u2025", "\ufe30", "\u2024"],
)
def test_characters_that_normalise_to_dot_segments_are_refused(value):
    # A backend applying NFKC reads the fullwidth "\uff0e\uff0e\uff0f" as "../".
    with pytest.raises(BindError) as caught:
        bind_rrs(workspace=value)
    assert caught.value.field == "workspace"
    assert caught.value.message == (
        "Characters that read as '.' or '..' (such as the fullwidth '\uff0e' or '\u2025') are "
        "not allowed as path segments."
    )


@pytest.mark.parametrize(
    ("value", "encoded"),
    [("a\u2025", "a%E2%80%A5"), ("\uff0e\uff0e\uff0e", "%EF%BC%8E%EF%BC%8E%EF%BC%8E")],
)
def test_look_alike_dots_inside_a_segment_are_encoded(value, encoded):
    assert encode_path_value(name="x", value=value) == encoded


def test_length_is_checked_before_the_dot_rule():
    with pytest.raises(BindError) as caught:
        encode_path_value(name="x", value="../" * 3000)
    assert caught.value.message == "The value is too long (9000 characters, at most 8192)."


@pytest.mark.parametrize("value", ["a\x00b", "a\rb", "a\nb", "a\u202eb", "a\u200bb", "\x7f"])
def test_control_and_invisible_characters_are_refused(value):
    with pytest.raises(BindError) as caught:
        bind_rrs(service=value)
    assert caught.value.field == "service"
    assert "control or invisible character" in caught.value.message


def test_empty_path_value_is_refused():
    with pytest.raises(BindError) as caught:
        bind_rrs(service="")
    assert (caught.value.field, caught.value.message) == (
        "service",
        "This path parameter needs a value.",
    )


def test_overlong_value_is_refused():
    with pytest.raises(BindError) as caught:
        encode_path_value(name="x", value="a" * 10_000)
    assert caught.value.message == "The value is too long (10000 characters, at most 8192)."


def test_query_values_are_encoded_so_they_cannot_add_keys():
    request = bind_rrs(apiversion="2.0&api-key=stolen", details="a b")
    assert request.url.endswith("?api-version=2.0%26api-key%3Dstolen&details=a%20b")


def test_empty_optional_query_placeholder_drops_its_pair():
    request = bind_rrs(details="")
    assert request.url.endswith("/execute?api-version=2.0")


def test_missing_value_names_the_parameter():
    with pytest.raises(BindError) as caught:
        bind(service_url=SERVICE, method="GET", template="/jobs/{jobid}", template_values={})
    assert caught.value.field == "jobid"


def test_extra_query_parameters_are_appended_with_encoded_keys_and_values():
    request = bind(
        service_url=SERVICE,
        method="GET",
        template="/search?fixed=1",
        template_values={},
        query_values=[("q", "a&b=c"), ("empty", "")],
    )
    assert request.url == f"{SERVICE}/search?fixed=1&q=a%26b%3Dc"


def test_service_url_with_trailing_slash_is_not_doubled():
    request = bind(
        service_url="https://api.example.com/v1/", method="GET", template="/x", template_values={}
    )
    assert request.url == "https://api.example.com/v1/x"


def test_body_gets_the_operations_content_type_unless_given():
    request = bind(
        service_url=SERVICE,
        method="POST",
        template="/x",
        template_values={},
        body=b"{}",
        content_type="application/json",
    )
    assert request.headers == (("Content-Type", "application/json"),)
    given = bind(
        service_url=SERVICE,
        method="POST",
        template="/x",
        template_values={},
        headers=[("content-type", "text/plain")],
        body=b"x",
        content_type="application/json",
    )
    assert given.headers == (("content-type", "text/plain"),)


def test_body_on_get_is_refused():
    with pytest.raises(BindError) as caught:
        bind(service_url=SERVICE, method="GET", template="/x", template_values={}, body=b"{}")
    assert (caught.value.field, caught.value.message) == (
        "body",
        "A GET request cannot carry a body.",
    )


def test_bad_header_is_a_bind_error_on_headers():
    with pytest.raises(BindError) as caught:
        bind(
            service_url=SERVICE,
            method="GET",
            template="/x",
            template_values={},
            headers=[("Host", "evil.test")],
        )
    assert caught.value.field == "headers"
    assert caught.value.message == "The portal sets Host itself; it cannot be sent."


def test_secret_names_are_lower_cased():
    request = bind(
        service_url=SERVICE,
        method="GET",
        template="/x",
        template_values={},
        secret_names=frozenset({"X-Key"}),
    )
    assert request.secret_names == frozenset({"x-key"})


def test_secret_path_values_are_masked_in_the_url_shown():
    request = bind(
        service_url=SERVICE,
        method="GET",
        template="/tenants/{tenant}/items/{item}?code={code}",
        template_values={"tenant": "t-secret", "item": "42", "code": "c-secret"},
        secret_names=frozenset({"Tenant", "code"}),
    )
    assert request.url == f"{SERVICE}/tenants/t-secret/items/42?code=c-secret"
    assert request.masked_url == f"{SERVICE}/tenants/••••••/items/42?code=c-secret"
    assert mask_request_url(request) == f"{SERVICE}/tenants/••••••/items/42?code=••••••"


def test_a_url_without_secret_path_values_has_no_masked_copy():
    request = bind_rrs(workspace="w")
    assert request.masked_url == ""
    assert mask_request_url(request) == request.url


def test_a_path_value_named_like_a_credential_is_sent_and_masked_when_shown():
    request = bind(
        service_url=SERVICE,
        method="GET",
        template="/keys/{apikey}",
        template_values={"apikey": "k-123"},
    )
    assert request.url == f"{SERVICE}/keys/k-123"
    assert request.masked_url == f"{SERVICE}/keys/••••••"
