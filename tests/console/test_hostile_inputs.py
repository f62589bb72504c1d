"""Hostile form input: what the Try it view does with values made to break it.

Every case posts the form, URL-encoded as a browser (or htmx) sends it, to the real
view, with the API registered at a scripted backend on 127.0.0.1 and a second
backend on 127.0.0.2 that must never see a connection. A case's outcome is exact:

- Refused: these form errors and no others (field -> messages; "headers" is the
  header error box, "form" the errors above the form), nothing sent, no exchange;
- Sent: the request-target, the complete header list and the body the backend
  received, byte for byte.

Decisions these cases fix:

- Path values fill one segment: "/ ? # @ % \\ ;" are encoded, "." and ".." refused,
  also when written with characters NFKC reads as dots or slashes ("\uff0e\uff0e\uff0f").
- Query values are capped at 8192 characters (templating.MAX_VALUE_LENGTH): a
  100 KB value is refused, not sent.
- Bytes that are not UTF-8 are replaced by Django with U+FFFD before the form sees
  them; the portal sends what the form holds (U+FFFD as UTF-8).
- A JSON body starting with a byte order mark is refused (RFC 8259 8.1), not stripped.
- "\\ud800" written as a JSON escape is valid JSON text and is sent unchanged.
- JSON numbers are checked, never converted: a 5,000-digit integer is sent as typed.
- A body over the limit is a form error up to Django's DATA_UPLOAD_MAX_MEMORY_SIZE
  (12 MiB by default); a whitespace-only body means no body.
- Typed parameters take ASCII digits only: no "1_000", " 7", "nan" or other scripts'
  digits; a 5,000-digit integer is still a whole number.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import quote_plus

import pytest
from bs4 import BeautifulSoup

from catalog.models import Api, Operation, Parameter, ParameterLocation, ParameterType
from catalog.registration import create_missing_template_parameters
from console.models import Exchange
from tests.backends import ScriptedServer, reply_with, scripted_server
from tests.markup import attr, one

pytestmark = pytest.mark.django_db

# In a value, OTHER stands for the second backend's "127.0.0.2:<port>"; in an expected
# request-target, for the same text percent-encoded ("127.0.0.2%3A<port>").
OTHER = "OTHER"
BODY_LIMIT = 1024 * 1024  # PORTAL_OUTBOUND_MAX_REQUEST_BODY_BYTES in the test run


# --- Outcomes -----------------------------------------------------------------------


@dataclass(frozen=True)
class Refused:
    """The form answers with exactly these errors; nothing is sent."""

    errors: dict[str, list[str]]


@dataclass(frozen=True)
class Sent:
    """The backend receives exactly this request."""

    target: str
    headers: tuple[tuple[str, str], ...] = ()  # after the portal's own, before framing
    body: bytes = b""
    content_type: str | None = None  # the operation's, added when there is a body
    content_length: bool = False  # requests sends "Content-Length: 0" on a bodiless POST
    method: str = "GET"


def field_error(field_name: str, message: str) -> Refused:
    return Refused({field_name: [message]})


def header_error(message: str) -> Refused:
    return Refused({"headers": [message], "form": ["Check the headers."]})


def body_error(message: str) -> Refused:
    return field_error("body", message)


@dataclass(frozen=True)
class Raw:
    """A form value already percent-encoded, to send bytes a browser would not."""

    encoded: str


FormValue = str | Raw


@dataclass
class Form:
    fields: dict[str, FormValue] = field(default_factory=dict)
    header_names: list[str] = field(default_factory=list)
    header_values: list[str] = field(default_factory=list)

    def encode(self) -> bytes:
        pairs: list[tuple[str, FormValue]] = list(self.fields.items())
        pairs += [("header_name", name) for name in self.header_names]
        pairs += [("header_value", value) for value in self.header_values]
        return "&".join(
            f"{quote_plus(name)}={value.encoded if isinstance(value, Raw) else quote_plus(value)}"
            for name, value in pairs
        ).encode("ascii")


# --- The registration and the two backends -------------------------------------------


@dataclass(frozen=True)
class Scene:
    backend: ScriptedServer
    other: ScriptedServer
    get: Operation  # GET /items/{item}?api-version={v}, query parameters q, count, ratio
    post: Operation  # POST /items/{item}, application/json body

    @property
    def other_authority(self) -> str:
        return f"{self.other.host}:{self.other.port}"


@pytest.fixture
def scene() -> Iterator[Scene]:
    ok = reply_with(200, headers=[("Content-Type", "application/json")], body=b'{"ok": true}')
    with (
        scripted_server(ok) as backend,
        scripted_server(ok, host="127.0.0.2") as other,
    ):
        api = Api.objects.create(name="Hostile", slug="hostile", service_url=f"{backend.url}/base")
        get = Operation.objects.create(
            api=api,
            name="Get",
            slug="get",
            method="GET",
            url_template="/items/{item}?api-version={v}",
        )
        create_missing_template_parameters(operation=get)
        for name, kind in [
            ("q", ParameterType.STRING),
            ("count", ParameterType.INTEGER),
            ("ratio", ParameterType.NUMBER),
        ]:
            Parameter.objects.create(
                operation=get, name=name, location=ParameterLocation.QUERY, type=kind
            )
        post = Operation.objects.create(
            api=api,
            name="Post",
            slug="post",
            method="POST",
            url_template="/items/{item}",
            request_content_type="application/json",
        )
        create_missing_template_parameters(operation=post)
        yield Scene(backend=backend, other=other, get=get, post=post)


def with_other(text: str, authority: str) -> str:
    return text.replace(OTHER, authority)


def submit(client, operation: Operation, form: Form):
    return client.generic(
        "POST",
        f"/apis/{operation.api.slug}/operations/{operation.slug}/try",
        data=form.encode(),
        content_type="application/x-www-form-urlencoded",
        headers={"HX-Request": "true"},
    )


def errors_on(soup: BeautifulSoup) -> dict[str, list[str]]:
    """Every error the Try it form shows, by where it is shown."""
    form = one(soup, "#try-it form")
    found: dict[str, list[str]] = {}
    for box in form.select(".invalid-feedback[id$=_error]"):
        name = attr(box, "id").removeprefix("id_").removesuffix("_error")
        found[name] = [p.get_text() for p in box.select("p")]
    if headers := form.select_one("#header-errors"):
        found["headers"] = [div.get_text() for div in headers.find_all("div")]
    if above := form.select_one(":scope > .alert-danger:not(#header-errors)"):
        found["form"] = [div.get_text() for div in above.find_all("div")]
    return found


def wire_headers(scene: Scene, expected: Sent) -> tuple[tuple[str, str], ...]:
    """The complete header list the backend must receive, in order."""
    headers = [
        ("Host", f"{scene.backend.host}:{scene.backend.port}"),
        ("User-Agent", "api-portal/0.1"),
        ("Accept-Encoding", "gzip, deflate"),
        ("Accept", "*/*"),
        *expected.headers,
    ]
    if expected.content_type is not None:
        headers.append(("Content-Type", expected.content_type))
    if expected.body or expected.content_length:
        headers.append(("Content-Length", str(len(expected.body))))
    return tuple(headers)


def check(client, scene: Scene, operation: Operation, form: Form, expected: Refused | Sent):
    response = submit(client, operation, form)
    assert response.status_code == 200
    soup = BeautifulSoup(response.content, "html.parser")
    if isinstance(expected, Refused):
        assert errors_on(soup) == expected.errors
        assert scene.backend.connections == 0
        assert Exchange.objects.count() == 0
    else:
        assert errors_on(soup) == {}
        assert one(soup, "[data-status]").get_text(strip=True) == "200 OK"
        [received] = scene.backend.requests
        assert received.method == expected.method
        assert received.target == expected.target
        assert received.headers == wire_headers(scene, expected)
        assert received.body == expected.body
        assert Exchange.objects.count() == 1
    assert scene.other.connections == 0


# --- Path values ----------------------------------------------------------------------

DOTS = "'.' and '..' are not allowed as path segments."
LOOK_ALIKE_DOTS = (
    "Characters that read as '.' or '..' (such as the fullwidth '\uff0e' or '\u2025') are "
    "not allowed as path segments."
)


def path_sent(encoded: str) -> Sent:
    return Sent(target=f"/base/items/{encoded}?api-version=1")


def path_refused(message: str) -> Refused:
    return field_error("param-template-item", message)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("..", path_refused(DOTS), id="dot-dot"),
        pytest.param(".", path_refused(DOTS), id="dot"),
        pytest.param("../../admin", path_refused(DOTS), id="traversal"),
        pytest.param("..\\..\\admin", path_refused(DOTS), id="backslash-traversal"),
        pytest.param("a\\b", path_sent("a%5Cb"), id="backslash"),
        # Some backends decode twice: a dot segment after one round of decoding is refused.
        pytest.param("%2e%2e%2f", path_refused(DOTS), id="encoded-dots-slash"),
        pytest.param("%2e%2e", path_refused(DOTS), id="encoded-dots"),
        pytest.param("%2E.", path_refused(DOTS), id="encoded-dot-and-dot"),
        pytest.param(".%2e", path_refused(DOTS), id="dot-and-encoded-dot"),
        pytest.param("a%2f%2e%2e%2fb", path_refused(DOTS), id="encoded-traversal"),
        pytest.param("%2e%2e%5cadmin", path_refused(DOTS), id="encoded-backslash-traversal"),
        pytest.param("..%2f", path_refused(DOTS), id="dots-encoded-slash"),
        # Encoded once: "%2e%2e%2e" is no dot segment, sent with its "%" encoded.
        pytest.param("%2e%2e%2e", path_sent("%252e%252e%252e"), id="encoded-three-dots"),
        pytest.param("...", path_sent("..."), id="three-dots"),
        pytest.param(f"@{OTHER}", path_sent(f"%40{OTHER}"), id="at-host"),
        pytest.param(f"//{OTHER}/steal", path_sent(f"%2F%2F{OTHER}%2Fsteal"), id="slash-slash"),
        pytest.param(
            f"http://{OTHER}/steal", path_sent(f"http%3A%2F%2F{OTHER}%2Fsteal"), id="full-url"
        ),
        pytest.param("a?api-version=2", path_sent("a%3Fapi-version%3D2"), id="question-mark"),
        pytest.param("a#frag", path_sent("a%23frag"), id="hash"),
        pytest.param("a;jsessionid=x", path_sent("a%3Bjsessionid%3Dx"), id="semicolon"),
        pytest.param("100%", path_sent("100%25"), id="percent"),
        pytest.param(
            "\uff0e\uff0e\uff0fadmin", path_refused(LOOK_ALIKE_DOTS), id="fullwidth-traversal"
        ),
        pytest.param("\u2025", path_refused(LOOK_ALIKE_DOTS), id="two-dot-leader"),
        pytest.param(
            "ｆｕｌｌ\uff0e\uff0f",
            path_sent("%EF%BD%86%EF%BD%95%EF%BD%8C%EF%BD%8C%EF%BC%8E%EF%BC%8F"),
            id="fullwidth-name",
        ),
        pytest.param(
            "a\u202eb",
            path_refused("The value contains a control or invisible character (U+202E)."),
            id="bidi-override",
        ),
        pytest.param(
            "a\u200bb",
            path_refused("The value contains a control or invisible character (U+200B)."),
            id="zero-width-space",
        ),
        pytest.param("a\x00b", path_refused("Null characters are not allowed."), id="nul"),
        pytest.param(
            "a\rb",
            path_refused("The value contains a control or invisible character (U+000D)."),
            id="cr",
        ),
        pytest.param(
            "a\nb",
            path_refused("The value contains a control or invisible character (U+000A)."),
            id="lf",
        ),
        pytest.param(
            "x" * 10_000,
            path_refused("The value is too long (10000 characters, at most 8192)."),
            id="10000-characters",
        ),
        pytest.param("{v}", path_sent("%7Bv%7D"), id="looks-like-placeholder"),
        pytest.param("", path_refused("This field is required."), id="empty"),
    ],
)
def test_path_values(client, scene, value, expected):
    authority = scene.other_authority
    form = Form({"param-template-item": with_other(value, authority), "param-template-v": "1"})
    if isinstance(expected, Sent):
        encoded = authority.replace(":", "%3A")
        expected = Sent(target=with_other(expected.target, encoded))
    check(client, scene, scene.get, form, expected)


# --- Query values ---------------------------------------------------------------------


def query_sent(query: str) -> Sent:
    return Sent(target=f"/base/items/1?{query}")


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        pytest.param({"v": "1&key=evil"}, query_sent("api-version=1%26key%3Devil"), id="smuggle"),
        pytest.param(
            {"v": "2.0&api-version=1.0"},
            query_sent("api-version=2.0%26api-version%3D1.0"),
            id="second-value-for-fixed-key",
        ),
        pytest.param(
            {"q": "x&api-version=evil"},
            query_sent("api-version=1&q=x%26api-version%3Devil"),
            id="smuggle-in-query-parameter",
        ),
        pytest.param({"v": "1#frag"}, query_sent("api-version=1%23frag"), id="hash"),
        pytest.param({"v": "a b+c"}, query_sent("api-version=a%20b%2Bc"), id="space-plus"),
        pytest.param({"v": "é"}, query_sent("api-version=%C3%A9"), id="non-ascii"),
        pytest.param({"v": ""}, Sent("/base/items/1"), id="empty"),
        pytest.param(
            {"v": "1\r\nX-Injected: 1"},
            field_error(
                "param-template-v",
                "The value contains a control or invisible character (U+000D).",
            ),
            id="crlf",
        ),
        pytest.param(
            {"q": "a\nb"},
            field_error(
                "param-query-q", "The value contains a control or invisible character (U+000A)."
            ),
            id="lf-in-query-parameter",
        ),
        pytest.param(
            {"v": "1\u202e"},
            field_error(
                "param-template-v",
                "The value contains a control or invisible character (U+202E).",
            ),
            id="bidi-override",
        ),
        pytest.param(
            {"v": "x" * 102_400},
            field_error(
                "param-template-v", "The value is too long (102400 characters, at most 8192)."
            ),
            id="100-kb",
        ),
        pytest.param(
            {"q": "x" * 8192}, query_sent("api-version=1&q=" + "x" * 8192), id="8192-characters"
        ),
        pytest.param({"count": "-12"}, query_sent("api-version=1&count=-12"), id="integer"),
        pytest.param(
            {"count": "9" * 5000},
            query_sent("api-version=1&count=" + "9" * 5000),
            id="integer-5000-digits",
        ),
        pytest.param(
            {"count": "1_000"},
            field_error("param-query-count", "Enter a whole number."),
            id="integer-underscore",
        ),
        pytest.param(
            {"count": " 7"},
            field_error("param-query-count", "Enter a whole number."),
            id="integer-space",
        ),
        pytest.param(
            {"count": "\u0661\u0662"},
            field_error("param-query-count", "Enter a whole number."),
            id="integer-arabic-indic-digits",
        ),
        pytest.param({"ratio": "1.5e3"}, query_sent("api-version=1&ratio=1.5e3"), id="number"),
        pytest.param(
            {"ratio": "nan"}, field_error("param-query-ratio", "Enter a number."), id="number-nan"
        ),
        pytest.param(
            {"ratio": "-inf"}, field_error("param-query-ratio", "Enter a number."), id="number-inf"
        ),
    ],
)
def test_query_values(client, scene, values, expected):
    fields = {"param-template-item": "1", "param-template-v": "1"}
    for name, value in values.items():
        prefix = "template" if name == "v" else "query"
        fields[f"param-{prefix}-{name}"] = value
    check(client, scene, scene.get, Form(fields), expected)


# --- Headers --------------------------------------------------------------------------


def refused_name(name: str) -> Refused:
    return header_error(f"The portal sets {name} itself; it cannot be sent.")


def name_error(name: str) -> Refused:
    return header_error(
        f"Header name {name!r} is not valid: use letters, digits and !#$%&'*+-.^_`|~ "
        "without spaces or colons."
    )


PORTAL_HEADERS = [
    "Host",
    "Transfer-Encoding",
    "Content-Length",
    "Connection",
    "Keep-Alive",
    "TE",
    "Trailer",
    "Upgrade",
    "Proxy-Connection",
    "Forwarded",
    "X-Forwarded-For",
    "X-Forwarded-Host",
    "X-Forwarded-Proto",
    "Cookie",
    "Proxy-Authorization",
]


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        pytest.param(
            [("X-Test", "a\rb")],
            header_error("The value of X-Test contains a line break or NUL."),
            id="cr",
        ),
        pytest.param(
            [("X-Test", "a\nb")],
            header_error("The value of X-Test contains a line break or NUL."),
            id="lf",
        ),
        pytest.param(
            [("X-Test", "a\r\nX-Injected: 1")],
            header_error("The value of X-Test contains a line break or NUL."),
            id="crlf-injection",
        ),
        pytest.param(
            [("X-Test", "a\x00b")],
            header_error("The value of X-Test contains a line break or NUL."),
            id="nul",
        ),
        pytest.param([("X Test", "1")], name_error("X Test"), id="space-in-name"),
        pytest.param([("X-Test:", "1")], name_error("X-Test:"), id="colon-in-name"),
        pytest.param([("X-Tést", "1")], name_error("X-Tést"), id="non-ascii-name"),
        pytest.param(
            [("X-Test", "日本語")],
            header_error("The value of X-Test has characters other than printable ASCII."),
            id="non-latin-1-value",
        ),
        pytest.param(
            [("X-Test", "café")],
            header_error("The value of X-Test has characters other than printable ASCII."),
            id="latin-1-value",
        ),
        *[
            pytest.param([(name, "x")], refused_name(name), id=name.lower())
            for name in PORTAL_HEADERS
        ],
        pytest.param([("HOST", "evil.test")], refused_name("HOST"), id="host-upper-case"),
        # A documented GET must not become a DELETE on a backend that honours these.
        *[
            pytest.param(
                [(name, "DELETE")],
                header_error(
                    f"Sending {name} would have the backend treat the call as another method; "
                    "it cannot be sent."
                ),
                id=name.lower(),
            )
            for name in ["X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override"]
        ],
        pytest.param(
            [("x-http-method-override", "PUT")],
            header_error(
                "Sending x-http-method-override would have the backend treat the call as "
                "another method; it cannot be sent."
            ),
            id="method-override-lower-case",
        ),
        pytest.param(
            [("Max-Forwards", "0")],
            header_error(
                "Sending Max-Forwards would limit how far proxies forward the call; "
                "it cannot be sent."
            ),
            id="max-forwards",
        ),
        pytest.param(
            [("X-Test", "1"), ("x-test", "2")],
            header_error("Header x-test is given twice."),
            id="same-name-twice",
        ),
        pytest.param(
            [("X-Test", "a" * 1_048_576)],
            header_error("The value of X-Test is too long (1048576 characters, at most 8192)."),
            id="1-mb-value",
        ),
        pytest.param(
            [(f"X-H{n}", "1") for n in range(500)],
            header_error("Too many headers (500, at most 50)."),
            id="500-headers",
        ),
        pytest.param(
            [("", "orphan")], header_error("A header value has no name."), id="value-without-name"
        ),
        pytest.param(
            [("X-Test", "%0d%0aX-Injected: 1")],
            Sent("/base/items/1?api-version=1", headers=(("X-Test", "%0d%0aX-Injected: 1"),)),
            id="escaped-crlf-is-text",
        ),
        pytest.param(
            [(" X-Test ", "  padded\t")],
            Sent("/base/items/1?api-version=1", headers=(("X-Test", "padded"),)),
            id="surrounding-space-trimmed",
        ),
        pytest.param(
            [("X-Test", "a\tb")],
            Sent("/base/items/1?api-version=1", headers=(("X-Test", "a\tb"),)),
            id="inner-tab",
        ),
        pytest.param(
            [(f"X-H{n}", str(n)) for n in range(50)],
            Sent(
                "/base/items/1?api-version=1",
                headers=tuple((f"X-H{n}", str(n)) for n in range(50)),
            ),
            id="50-headers",
        ),
    ],
)
def test_headers(client, scene, rows, expected):
    form = Form(
        {"param-template-item": "1", "param-template-v": "1"},
        header_names=[name for name, _ in rows],
        header_values=[value for _, value in rows],
    )
    check(client, scene, scene.get, form, expected)


def test_header_names_without_values(client, scene):
    form = Form(
        {"param-template-item": "1", "param-template-v": "1"},
        header_names=["X-A", "X-B"],
        header_values=["1"],
    )
    check(
        client,
        scene,
        scene.get,
        form,
        header_error("Every header row needs a name and a value field."),
    )


# --- Bodies ---------------------------------------------------------------------------


def json_sent(body: bytes) -> Sent:
    return Sent("/base/items/1", body=body, content_type="application/json", method="POST")


def json_error(message: str) -> Refused:
    return body_error(f"Invalid JSON: {message}")


TOO_LARGE = body_error(f"The body is larger than the limit of {BODY_LIMIT} bytes.")
FIVE_THOUSAND_DIGITS = '{"n": ' + "9" * 5000 + ', "m": -' + "1" * 5000 + "}"
HUGE_FLOATS = "[1e999999, -0." + "0" * 5000 + "1, 1" + "2" * 5000 + ".5E-400]"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            '{"a": [1, 2',
            json_error("Expecting ',' delimiter at line 1, column 12."),
            id="truncated",
        ),
        pytest.param(
            '{"a": "abc',
            json_error("Unterminated string starting at line 1, column 7."),
            id="unterminated-string",
        ),
        pytest.param(
            '{"a": 1} x', json_error("Extra data at line 1, column 10."), id="trailing-garbage"
        ),
        pytest.param(
            "[" * 100_000 + "]" * 100_000,
            json_error("nested deeper than 200 levels."),
            id="100000-brackets",
        ),
        pytest.param(
            "[" * 200 + "]" * 200,
            json_sent(("[" * 200 + "]" * 200).encode()),
            id="200-levels",
        ),
        pytest.param('{"a": NaN}', json_error("NaN is not valid JSON."), id="nan"),
        pytest.param("[Infinity]", json_error("Infinity is not valid JSON."), id="infinity"),
        pytest.param("[-Infinity]", json_error("-Infinity is not valid JSON."), id="-infinity"),
        pytest.param(
            FIVE_THOUSAND_DIGITS, json_sent(FIVE_THOUSAND_DIGITS.encode()), id="5000-digit-integer"
        ),
        pytest.param(HUGE_FLOATS, json_sent(HUGE_FLOATS.encode()), id="huge-floats"),
        pytest.param('"' + "x" * 10_000_000 + '"', TOO_LARGE, id="10-mb"),
        pytest.param('"' + "é" * 600_000 + '"', TOO_LARGE, id="1.2-mb-in-utf8"),
        pytest.param(
            '"' + "x" * (BODY_LIMIT - 2) + '"',
            json_sent(b'"' + b"x" * (BODY_LIMIT - 2) + b'"'),
            id="at-the-limit",
        ),
        pytest.param(
            Raw("%FF%FE"),
            json_error("Expecting value at line 1, column 1."),
            id="not-utf8",
        ),
        pytest.param(
            Raw("%22%FF%FE%22"),
            json_sent('"\ufffd\ufffd"'.encode()),
            id="not-utf8-in-string",
        ),
        pytest.param(
            Raw("%22%ED%A0%80%22"),
            json_sent('"\ufffd\ufffd\ufffd"'.encode()),
            id="utf8-encoded-surrogate",
        ),
        pytest.param(
            "\ufeff{}",
            json_error(
                "the body starts with an invisible byte order mark (U+FEFF), which JSON does "
                "not allow; delete it."
            ),
            id="byte-order-mark",
        ),
        pytest.param(
            '{"a": "\\ud800"}', json_sent(b'{"a": "\\ud800"}'), id="lone-surrogate-escape"
        ),
        pytest.param('{"a": "\\u0000"}', json_sent(b'{"a": "\\u0000"}'), id="nul-escape"),
        pytest.param('{"a": "\x00"}', body_error("Null characters are not allowed."), id="nul"),
        pytest.param(
            '{"a": "\x01"}',
            json_error("Invalid control character at line 1, column 8."),
            id="control-character",
        ),
        pytest.param(
            '{\r\n  "a": "é"\r\n}', json_sent('{\r\n  "a": "é"\r\n}'.encode()), id="crlf-utf8"
        ),
        pytest.param(
            " \r\n\t ",
            Sent("/base/items/1", content_length=True, method="POST"),
            id="whitespace-is-no-body",
        ),
    ],
)
def test_bodies(client, scene, body, expected):
    form = Form({"param-template-item": "1", "body": body})
    check(client, scene, scene.post, form, expected)


def test_a_body_posted_to_a_get_operation_is_not_sent(client, scene):
    form = Form({"param-template-item": "1", "param-template-v": "1", "body": '{"a": 1}'})
    check(client, scene, scene.get, form, Sent("/base/items/1?api-version=1"))
    [received] = scene.backend.requests
    assert received.header("Content-Length") is None
    assert received.header("Transfer-Encoding") is None
    assert Exchange.objects.get().request_body == ""
