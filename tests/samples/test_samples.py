"""Code samples (samples/: literals, request, writers, sample_set, views): escaping per
language, secrets, golden files, the samples panel and share links (console/share_links.py).

The golden files in tests/golden/samples/ were written by the generator and reviewed by
hand; C#, Go, PHP and Ruby have no compiler on this machine, so they are checked there.
Regenerate them after a deliberate change with UPDATE_GOLDEN=1 and review the diff.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
from dataclasses import replace
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from bs4 import BeautifulSoup
from django.conf import settings
from django.http import QueryDict

from catalog.models import Api, Operation, Parameter, ParameterLocation
from catalog.registration import create_missing_template_parameters
from console.forms import TryItValues
from console.share_links import prefill_from_link, share_query
from samples.languages import LANGUAGES
from samples.literals import (
    cs_literal,
    go_literal,
    java_literal,
    js_literal,
    php_literal,
    py_literal,
    ruby_literal,
    sh_literal,
)
from samples.request import (
    MAX_BODY_BYTES,
    SampleError,
    SampleRequest,
    Secret,
    plain_text,
    sample_request,
)
from samples.sample_set import build_samples
from samples.writers.csharp import write_csharp
from samples.writers.curl import write_curl
from samples.writers.http import write_http
from samples.writers.java import write_java
from samples.writers.javascript import write_javascript
from samples.writers.php import write_php
from samples.writers.python import write_python
from samples.writers.ruby import write_ruby
from tests.console.test_operation_try import rrs_form
from tests.factories import make_product, make_subscription, make_user
from tests.markup import attr, one

pytestmark = pytest.mark.django_db

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "samples"
RRS = "/apis/azureml-demo/operations/rrs-execute/"
RRS_SAMPLES = RRS + "samples"
KEY = settings.PORTAL_DEMO_API_KEY
# The portal's base URL, as the panel's view reads it from the request.
PORTAL = "https://portal.example.com/"
GATEWAY_KEY = "k3y-0f-a-subscr1ption"

STRINGS = [
    "",
    "plain",
    "it's",
    'say "hi"',
    "both ' and \"",
    "back\\slash and trailing \\",
    "$HOME ${PATH} $(id) `id` #{x} {$x} %s 100% a&b|c;d<e>f",
    "line 1\nline 2\n",
    "crlf\r\nand\ttab",
    "é ü ß 中文 😀",
    "invisible \u2028 \u2029 \u200b \ufeff \x7f \x1b \x00 \x01",
    "-n",
]


# --- Literals ------------------------------------------------------------------------


@pytest.mark.parametrize("text", STRINGS)
def test_python_literal_reads_back_as_the_text(text):
    literal = py_literal(text)
    assert ast.literal_eval(literal) == text
    assert "\r" not in literal and "\n" not in literal


@pytest.mark.parametrize("text", STRINGS)
def test_javascript_literal_is_a_json_string(text):
    literal = js_literal(text)
    assert json.loads(literal) == text
    assert literal.startswith('"')
    assert all(c.isprintable() for c in literal)


def test_python_literal_picks_the_quote_needing_no_escapes():
    assert py_literal('{"a": 1}') == "'{\"a\": 1}'"
    assert py_literal("it's") == '"it\'s"'
    assert py_literal('it\'s "x"') == '"it\'s \\"x\\""'


@pytest.mark.parametrize("text", [t for t in STRINGS if "\x00" not in t])
def test_shell_word_reads_back_as_the_text_in_a_posix_shell(text):
    result = subprocess.run(
        ["/bin/sh", "-c", f"printf '%s' {sh_literal(text)}"],
        capture_output=True,
        check=True,
        timeout=10,
    )
    assert result.stdout.decode("utf-8") == text


def test_go_literal_follows_strconv_quote():
    assert go_literal('a"b\\c') == '"a\\"b\\\\c"'
    assert go_literal("\n\r\t\a\b\f\v") == '"\\n\\r\\t\\a\\b\\f\\v"'
    assert go_literal("\x00\x01\x1b\x7f") == '"\\x00\\x01\\x1b\\x7f"'
    # Printable characters stay as they are; invisible ones are escaped.
    assert go_literal("é 😀 $`%&|") == '"é 😀 $`%&|"'
    assert go_literal("\u2028\u200b\ufeff") == '"\\u2028\\u200b\\ufeff"'
    assert go_literal("\U000e0001") == '"\\U000e0001"'


def test_java_literal_is_ascii_and_never_unicode_escapes_a_line_break_or_quote():
    assert java_literal('a"b\\c') == '"a\\"b\\\\c"'
    assert java_literal("\n\r\t\b\f") == '"\\n\\r\\t\\b\\f"'
    # Octal, not \u000a: Java reads \u escapes before the literal and would break it.
    assert java_literal("\x00\x01\x1b\x7f") == '"\\000\\001\\033\\177"'
    assert java_literal("é 😀") == '"\\u00e9 \\ud83d\\ude00"'
    assert java_literal("\\u0041") == '"\\\\u0041"'
    for text in STRINGS:
        assert java_literal(text).isascii()


def test_csharp_literal_never_uses_variable_length_x_escapes():
    assert cs_literal('a"b\\c\n\r\t') == '"a\\"b\\\\c\\n\\r\\t"'
    assert cs_literal("\x00\x01") == '"\\0\\u0001"'
    assert cs_literal("é 😀 {x} $HOME") == '"é 😀 {x} $HOME"'
    assert cs_literal("\u2028\U000e0001") == '"\\u2028\\U000e0001"'


def _php_single(literal: str) -> str:
    assert literal[0] == literal[-1] == "'"
    return re.sub(r"\\([\\'])", r"\1", literal[1:-1])


def test_php_and_ruby_use_single_quotes_for_plain_text():
    for literal in (php_literal, ruby_literal):
        assert literal("it's $HOME #{x} {$x} \\n") == "'it\\'s $HOME #{x} {$x} \\\\n'"
        for text in ["a\nb\tc", "100% a&b|c `id` é 😀", "\\", "'"]:
            assert _php_single(literal(text)) == text


def test_php_double_quotes_escape_dollar_and_control_characters():
    assert php_literal('a\r\n$x {$y} "q" \\ \x1b \x01 \u2028') == (
        '"a\\r\\n\\$x {\\$y} \\"q\\" \\\\ \\e \\x01 \\u{2028}"'
    )
    assert php_literal("plain", double=True) == '"plain"'


def test_ruby_double_quotes_escape_interpolation_and_control_characters():
    assert ruby_literal('a\r\n#{x} #$y "q" \\ \x1b \x01 \u2028') == (
        '"a\\r\\n\\#{x} \\#$y \\"q\\" \\\\ \\e \\x01 \\u{2028}"'
    )


# --- Fixtures for requests -----------------------------------------------------------


def golden_operation(
    *, method: str = "POST", template: str = "/items/{item}?mode={mode}", content_type: str = ""
) -> Operation:
    api, _ = Api.objects.get_or_create(
        slug="golden", defaults={"name": "Golden", "service_url": "https://api.example.com/v1"}
    )
    operation = Operation.objects.create(
        api=api,
        name=f"{method} {template}",
        slug=f"op-{Operation.objects.count()}",
        method=method,
        url_template=template,
        request_content_type=content_type,
    )
    create_missing_template_parameters(operation=operation)
    return operation


AWKWARD_BODY = (
    json.dumps(
        {
            "text": 'it\'s "quoted" \\back\\slash $HOME ${PATH} `id` #{x} {$x} 100% a&b|c',
            "unicode": "é ü 中文 😀",
            "nested": json.dumps({"say": 'he said "hi"', "path": "C:\\temp\\new"}),
            "newline escape": "one\ntwo",
        },
        indent=2,
        ensure_ascii=False,
    )
    + "\n"
)


def awkward_case() -> tuple[Operation, TryItValues, bool]:
    """A POST with a JSON body, secrets in a header and in the query, hidden."""
    operation = golden_operation(content_type="application/json")
    Parameter.objects.create(
        operation=operation, name="key", location=ParameterLocation.QUERY, secret=True
    )
    Parameter.objects.create(operation=operation, name="q", location=ParameterLocation.QUERY)
    values = TryItValues(
        template_values={"item": "a b/c'd\"e$f`g%h&i|j é", "mode": "x&y|z 100%"},
        query_values=[("key", "k3y/s3cret"), ("q", "ü 😀")],
        headers=[
            ("Content-Type", "application/json"),
            ("Authorization", "Bearer t0ken-s3cret"),
            ("X-Awkward", 'it\'s "q" \\ $HOME `id` 100% a&b|c #{x}'),
            ("X-Empty", ""),
        ],
        body=AWKWARD_BODY,
    )
    return operation, values, False


def control_case() -> tuple[Operation, TryItValues, bool]:
    """A PUT of text with CR LF, a tab, ESC and U+2028 and no Content-Type, shown."""
    operation = golden_operation(method="PUT", template="/notes/{note}")
    values = TryItValues(
        template_values={"note": "n1"},
        headers=[("X-Trace", "t-1")],
        body="line 1\r\n\tline 2 'q' \"q\" \\ $x #{y} `z` 100%\r\n\x1b[0m \u2028 é\r\n",
    )
    return operation, values, True


def get_case() -> tuple[Operation, TryItValues, bool]:
    """A GET with a query and an Accept header, no body."""
    operation = golden_operation(method="GET", template="/search?term={term}")
    values = TryItValues(
        template_values={"term": "rock & roll"}, headers=[("Accept", "application/json")]
    )
    return operation, values, False


def keyed_operation(*, suffix: str = "keyed/v1", key_header: str = "Ocp-Apim-Subscription-Key"):
    """POST /items/{item}?mode={mode} of an API in a product that needs a subscription key."""
    api = Api.objects.create(
        name="Keyed",
        slug="keyed",
        service_url="https://api.example.com/v1",
        url_suffix=suffix,
        subscription_key_header=key_header,
    )
    make_product(api)
    operation = Operation.objects.create(
        api=api,
        name="Add item",
        slug="add-item",
        method="POST",
        url_template="/items/{item}?mode={mode}",
        request_content_type="application/json",
    )
    create_missing_template_parameters(operation=operation)
    return operation


def gateway_case() -> tuple[Operation, TryItValues, bool]:
    """A POST to an API behind a subscription key: through the gateway, the key hidden."""
    operation = keyed_operation()
    values = TryItValues(
        template_values={"item": "a b/c", "mode": "fast & safe"},
        headers=[
            ("Content-Type", "application/json"),
            ("Ocp-Apim-Subscription-Key", GATEWAY_KEY),
            ("X-Trace", "t-1"),
        ],
        body='{"name": "it\'s", "count": 1}\n',
    )
    return operation, values, False


CASES = {"awkward": awkward_case, "control": control_case, "get": get_case, "gateway": gateway_case}


# --- Golden files (C#, Go, PHP and Ruby are checked only here) ------------------------


@pytest.mark.parametrize("language", [language.key for language in LANGUAGES])
@pytest.mark.parametrize("case", list(CASES))
def test_samples_match_their_reviewed_golden_files(case, language):
    operation, values, reveal = CASES[case]()
    sample_set = build_samples(operation=operation, values=values, reveal=reveal, portal_url=PORTAL)
    code = next(s.code for s in sample_set.samples if s.key == language)
    path = GOLDEN / f"{case}.{language}"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_bytes(code.encode("utf-8"))
    assert code == path.read_bytes().decode("utf-8")


def test_every_language_has_golden_files():
    names = {path.name for path in GOLDEN.iterdir()}
    assert names == {f"{case}.{language.key}" for case in CASES for language in LANGUAGES}


# --- What samples hold -----------------------------------------------------------------


def test_secrets_are_environment_variables_and_appear_in_no_sample():
    operation, values, _ = awkward_case()
    sample_set = build_samples(operation=operation, values=values, reveal=False, portal_url=PORTAL)
    assert [(s.env, s.value) for s in sample_set.secrets] == [
        ("KEY", "k3y%2Fs3cret"),
        ("AUTHORIZATION", "t0ken-s3cret"),
    ]
    for sample in sample_set.samples:
        for secret in ["t0ken-s3cret", "k3y/s3cret", "k3y%2Fs3cret", "s3cret"]:
            assert secret not in sample.code, sample.key
        assert "KEY" in sample.code and "AUTHORIZATION" in sample.code
    http = next(s.code for s in sample_set.samples if s.key == "http")
    assert "Authorization: Bearer <AUTHORIZATION>" in http
    assert "&key=<KEY>&" in http


def test_revealed_samples_hold_the_secret_values():
    operation, values, _ = awkward_case()
    sample_set = build_samples(operation=operation, values=values, reveal=True, portal_url=PORTAL)
    assert sample_set.secrets == ()
    for sample in sample_set.samples:
        assert "t0ken-s3cret" in sample.code
        assert "k3y%2Fs3cret" in sample.code
        assert "environment" not in sample.code


def test_a_secret_path_value_is_hidden_in_its_segment():
    operation = golden_operation(method="GET", template="/bot{token}/send?chat={chat}")
    operation.parameters.filter(name="token").update(secret=True)
    values = TryItValues(template_values={"token": "12:AB/cd", "chat": "7"})
    request = sample_request(operation=operation, values=values, reveal=False, portal_url=PORTAL)
    assert request.url == (
        "https://api.example.com/v1/bot",
        Secret(env="TOKEN", value="12%3AAB%2Fcd", what="the token parameter, percent-encoded"),
        "/send?chat=7",
    )
    assert plain_text(request.url) == "https://api.example.com/v1/bot12%3AAB%2Fcd/send?chat=7"
    assert request.target[0] == "/v1/bot"


def test_environment_variable_names_are_unique():
    operation = golden_operation(method="GET", template="/x?api_key={api_key}")
    operation.parameters.filter(name="api_key").update(secret=True)
    values = TryItValues(
        template_values={"api_key": "one"}, headers=[("Api-Key", "two"), ("X-Api-Key", "three")]
    )
    request = sample_request(operation=operation, values=values, reveal=False, portal_url=PORTAL)
    assert [(s.env, s.value) for s in request.secrets] == [
        ("API_KEY", "one"),
        ("API_KEY_2", "two"),
        ("X_API_KEY", "three"),
    ]


def test_samples_hold_no_carriage_return_or_invisible_character():
    """A page drops carriage returns: a copied sample must say them with escapes."""
    operation, values, reveal = control_case()
    for sample in build_samples(
        operation=operation, values=values, reveal=reveal, portal_url=PORTAL
    ).samples:
        if sample.key == "http":  # the request as sent, for reading
            continue
        assert all(c.isprintable() or c in "\n\t" for c in sample.code), sample.key


@pytest.mark.parametrize("case", list(CASES))
def test_highlighting_keeps_the_text_exactly(case):
    operation, values, reveal = CASES[case]()
    for sample in build_samples(
        operation=operation, values=values, reveal=reveal, portal_url=PORTAL
    ).samples:
        text = BeautifulSoup(f"<pre>{sample.highlighted}</pre>", "html.parser").get_text()
        assert text == sample.code, sample.key
        # Pygments reads CR LF as LF: raw HTTP with carriage returns is shown plain.
        if not (sample.key == "http" and "\r" in sample.code):
            assert "<span" in sample.highlighted, sample.key


def _request(**overrides) -> SampleRequest:
    fields = {
        "method": "GET",
        "url": ("https://api.example.com/v1/x",),
        "headers": (),
        "body": None,
        "secrets": (),
    }
    return SampleRequest(**{**fields, **overrides})


def test_curl_details():
    assert write_curl(_request(method="HEAD")) == ("curl --head 'https://api.example.com/v1/x'")
    # Brackets are curl globs (an IPv6 service address has them).
    assert "--globoff" in write_curl(_request(url=("http://[::1]:8080/x",)))
    # Without a body, POST, PUT and PATCH say Content-Length: 0, as Try it sends.
    assert "--header 'Content-Length: 0'" in write_curl(_request(method="POST"))
    assert "Content-Length" not in write_curl(_request(method="DELETE"))
    code = write_curl(_request(method="POST", body="@file", headers=(("X-E", ("",)),)))
    assert "--data-raw '@file'" in code  # not -d, which would read the file
    assert "--header 'X-E;'" in code  # "X-E:" would remove the header
    assert "--header 'Content-Type:'" in code  # no form content type added by curl
    assert "--request 'PUR GE'" in write_curl(_request(method="PUR GE"))


def _python_body(content_type: str, body: str) -> str:
    code = write_python(
        _request(method="POST", body=body, headers=(("Content-Type", (content_type,)),))
    )
    start = code.index("}\n") + 2  # after the headers
    return code[start : code.index("\n\nresponse")]


def test_python_sends_a_json_body_as_a_python_value():
    body = json.dumps(
        {"a": [1, 2.5, True, None, {}], "b": {"c": "it's"}, "d": [], "e": ["x" * 30, "y" * 30]}
    )
    # Short dicts and lists on one line, longer ones an item a line.
    assert _python_body("application/json", body) == (
        "payload = {\n"
        '    "a": [1, 2.5, True, None, {}],\n'
        '    "b": {"c": "it\'s"},\n'
        '    "d": [],\n'
        '    "e": [\n'
        f'        "{"x" * 30}",\n'
        f'        "{"y" * 30}",\n'
        "    ],\n"
        "}"
    )
    code = write_python(
        _request(method="POST", body=body, headers=(("Content-Type", ("application/json",)),))
    )
    assert "json=payload, timeout=30)" in code
    literal = _python_body("application/json", body).removeprefix("payload = ")
    assert ast.literal_eval(literal) == json.loads(body)
    assert _python_body("application/problem+json; charset=utf-8", "[1]") == "payload = [1]"


@pytest.mark.parametrize(
    "body",
    ['{"a": 1, "a": 2}', '{"a": NaN}', "[1e400]", "{not json"],
    ids=["duplicate key", "NaN", "infinity", "invalid"],
)
def test_python_sends_json_requests_could_not_write_back_as_text(body):
    assert _python_body("application/json", body) == f"body = {py_literal(body)}"


def test_python_sends_urlencoded_fields_as_data():
    assert _python_body("application/x-www-form-urlencoded", "a=1&b=x+y%26z&c=") == (
        'data = {\n    "a": "1",\n    "b": "x y&z",\n    "c": "",\n}'
    )
    assert _python_body("application/x-www-form-urlencoded", "t=a&t=b") == (
        'data = [\n    ("t", "a"),\n    ("t", "b"),\n]'
    )
    # urlencode would write "a%20b" as "a+b": another body, so the text is sent as it is.
    assert _python_body("application/x-www-form-urlencoded", "a=a%20b") == 'body = "a=a%20b"'
    assert _python_body("text/xml", "<a>é</a>") == 'body = "<a>é</a>"'


def test_python_writes_a_body_placeholder_as_a_fields_value():
    request = _request(
        method="POST",
        body="sku={sku}&note=x+y%26z",
        headers=(("Content-Type", ("application/x-www-form-urlencoded",)),),
        body_placeholders=("{sku}",),
    )
    assert 'data = {\n    "sku": "{sku}",\n    "note": "x y&z",\n}\n' in write_python(request)
    # Without it, the braces are not what urlencode writes: the text is sent as it is.
    without = write_python(replace(request, body_placeholders=()))
    assert 'body = "sku={sku}&note=x+y%26z"\n' in without


def test_javascript_sends_bytes_when_there_is_no_content_type():
    code = write_javascript(_request(method="POST", body="x"))
    assert 'body: new TextEncoder().encode(\n    "x"\n  ),' in code
    typed = _request(method="POST", body="x", headers=(("Content-Type", ("text/plain",)),))
    assert 'body:\n    "x",' in write_javascript(typed)


def test_csharp_puts_content_headers_on_the_content():
    headers = (("Content-Type", ("text/plain",)), ("X-A", ("1",)))
    code = write_csharp(_request(method="GET", headers=headers))
    assert 'request.Headers.TryAddWithoutValidation("X-A", "1");' in code
    assert "request.Content = new ByteArrayContent(Array.Empty<byte>());" in code
    assert 'request.Content.Headers.TryAddWithoutValidation("Content-Type", "text/plain");' in code


def test_java_speaks_http_1_1_and_go_ruby_php_handle_other_methods():
    assert ".version(HttpClient.Version.HTTP_1_1)" in write_java(_request())
    assert ".GET()" in write_java(_request())
    assert "BodyPublishers.noBody()" in write_java(_request(method="DELETE"))
    assert "Net::HTTP::Delete.new(uri)" in write_ruby(_request(method="DELETE"))
    assert "Net::HTTPGenericRequest.new('PURGE', true, true, uri)" in write_ruby(
        _request(method="PURGE")
    )
    assert "CURLOPT_NOBODY => true" in write_php(_request(method="HEAD"))
    assert "'Content-Length: 0'" in write_php(_request(method="PATCH"))


def test_raw_http_has_host_and_content_length():
    operation, values, _ = awkward_case()
    request = sample_request(operation=operation, values=values, reveal=True, portal_url=PORTAL)
    code = write_http(request)
    head, _, body = code.partition("\n\n")
    lines = head.split("\n")
    assert lines[0].startswith("POST /v1/items/a%20b%2Fc%27d%22e%24f%60g%25h%26i%7Cj%20%C3%A9?")
    assert lines[0].endswith(" HTTP/1.1")
    assert lines[1] == "Host: api.example.com"
    assert "X-Empty:" in lines
    assert lines[-1] == f"Content-Length: {len(AWKWARD_BODY.encode())}"
    assert body == AWKWARD_BODY


def test_a_large_body_gets_a_message_instead_of_samples():
    operation = golden_operation(content_type="text/plain", template="/x")
    values = TryItValues(body="x" * (MAX_BODY_BYTES + 1))
    with pytest.raises(SampleError, match="code samples are shown for bodies up to 60,000"):
        build_samples(operation=operation, values=values, reveal=False, portal_url=PORTAL)


# --- The samples panel ----------------------------------------------------------------


def panel(client, data: dict) -> tuple[BeautifulSoup, object]:
    response = client.post(RRS_SAMPLES, data, headers={"HX-Request": "true"})
    assert response.status_code == 200
    return BeautifulSoup(response.content, "html.parser"), response


def test_panel_has_a_tab_and_a_copy_button_per_language(client, demo_api):
    soup, response = panel(client, rrs_form())
    tabs = soup.select("[role=tab]")
    assert [t.get_text() for t in tabs] == [
        "curl",
        "Python",
        "JavaScript",
        "C#",
        "Java",
        "Go",
        "PHP",
        "Ruby",
        "HTTP",
    ]
    assert [t["data-sample-lang"] for t in soup.select("[role=tab].active")] == ["curl"]
    assert len(soup.select("[data-sample] [data-copy-sample]")) == 9
    assert soup.select_one("html") is None  # a fragment for htmx
    assert "no-store" in response["Cache-Control"]


def test_panel_opens_on_the_chosen_language(client, demo_api):
    soup, _ = panel(client, {**rrs_form(), "lang": "go"})
    assert soup.select_one("[role=tab].active")["data-sample-lang"] == "go"
    assert soup.select_one(".tab-pane.active")["id"] == "sample-go"
    soup, _ = panel(client, {**rrs_form(), "lang": "cobol"})
    assert soup.select_one("[role=tab].active")["data-sample-lang"] == "curl"


def test_panel_hides_the_key_unless_revealed(client, demo_api):
    soup, _ = panel(client, rrs_form())
    assert KEY not in str(soup)
    curl = soup.select_one("#sample-curl pre").get_text()
    assert "--header 'Authorization: Bearer '\"$AUTHORIZATION\"" in curl
    assert "AUTHORIZATION" in soup.select_one("[data-samples-secrets]").get_text()
    soup, _ = panel(client, {**rrs_form(), "reveal": "1"})
    assert f"--header 'Authorization: Bearer {KEY}'" in soup.select_one("#sample-curl").get_text()
    assert soup.select_one("[data-samples-secrets]") is None


def test_panel_samples_use_the_url_try_it_builds(client, demo_api):
    soup, _ = panel(client, rrs_form(**{"param-template-workspace": "my ws/1"}))
    python = soup.select_one("#sample-python pre").get_text()
    assert (
        # The demo API is on the gateway: Try it's path and query, under the gateway.
        'url = "http://testserver/gateway/azureml-demo/workspaces/my%20ws%2F1/services/svc1/'
        'execute?api-version=2.0&details=true"'
    ) in python


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"body": '{"a": 1,}'}, "Invalid JSON: Expecting property name enclosed in double quotes"),
        ({"param-template-workspace": "../x"}, "workspace: '.' and '..' are not allowed"),
        (
            {"header_name": ["X-A", ""], "header_value": ["a\r\nb", ""]},
            "The value of X-A contains a line break or NUL.",
        ),
    ],
)
def test_an_invalid_form_shows_its_errors_instead_of_code(client, demo_api, overrides, message):
    soup, _ = panel(client, rrs_form(**overrides))
    errors = soup.select_one("[data-samples-errors]")
    assert message in errors.get_text()
    assert "Check the headers." not in errors.get_text()
    assert soup.select("pre") == []


RRS_URL = "http://testserver/gateway/azureml-demo/workspaces/{workspace}/services/svc1/execute?api-version=2.0&details=true"
RRS_TARGET = RRS_URL.removeprefix("http://testserver")


def pane_codes(soup: BeautifulSoup) -> dict[str, str]:
    return {
        attr(p, "data-sample"): one(p, "pre code").get_text() for p in soup.select("[data-sample]")
    }


def placeholder_notes(soup: BeautifulSoup) -> list[str]:
    return [li.get_text() for li in one(soup, "[data-samples-placeholders]").select("li")]


def test_an_empty_required_path_value_is_a_placeholder_in_every_language(client, demo_api):
    soup, _ = panel(client, rrs_form(**{"param-template-workspace": ""}))
    assert soup.select_one("[data-samples-errors]") is None
    assert placeholder_notes(soup) == ["Fill workspace to run this"]
    codes = pane_codes(soup)
    expected_lines = {
        "curl": f"curl --request POST '{RRS_URL}' \\",
        "python": f'url = "{RRS_URL}"',
        "javascript": f'fetch("{RRS_URL}", {{',
        "csharp": (
            f'using var request = new HttpRequestMessage(new HttpMethod("POST"), "{RRS_URL}");'
        ),
        "java": f'        HttpRequest request = HttpRequest.newBuilder(URI.create("{RRS_URL}"))',
        "go": f'\treq, err := http.NewRequest("POST", "{RRS_URL}", strings.NewReader(body))',
        "php": f"$ch = curl_init('{RRS_URL}');",
        "ruby": f"uri = URI('{RRS_URL}')",
        "http": f"POST {RRS_TARGET} HTTP/1.1",
    }
    assert {
        key: line
        for key, code in codes.items()
        for line in code.split("\n")
        if "{workspace}" in line
    } == expected_lines
    assert "  --globoff \\" in codes["curl"].split("\n")  # curl would read {} as a glob
    # Marked in every language's highlighted code.
    for pane in soup.select("[data-sample]"):
        assert [m.get_text() for m in pane.select("mark.sample-placeholder")] == ["{workspace}"]


def pets_operation() -> Operation:
    api = Api.objects.create(name="Pets", slug="pets", service_url="https://pets.example.com/v1")
    operation = Operation.objects.create(
        api=api, name="Get pet", slug="get-pet", method="GET", url_template="/pets/{petId}"
    )
    create_missing_template_parameters(operation=operation)
    Parameter.objects.create(
        operation=operation, name="limit", location=ParameterLocation.QUERY, type="integer"
    )
    Parameter.objects.create(
        operation=operation, name="X-Request-Id", location=ParameterLocation.HEADER, required=True
    )
    return operation


def pets_panel(client, data: dict) -> BeautifulSoup:
    response = client.post("/apis/pets/operations/get-pet/samples", data)
    assert response.status_code == 200
    return BeautifulSoup(response.content, "html.parser")


def test_invalid_values_and_missing_headers_are_placeholders_with_what_to_fix(client):
    pets_operation()
    soup = pets_panel(
        client,
        {
            "param-template-petId": "",
            "param-query-limit": "ten",
            "header_name": ["Authorization", ""],
            "header_value": ["Bearer ", ""],
            "reveal": "1",
        },
    )
    assert placeholder_notes(soup) == [
        "Fill petId to run this",
        "Fix limit to run this: Enter a whole number.",
        "Fill Authorization to run this",
        "Fill X-Request-Id to run this",
    ]
    codes = pane_codes(soup)
    assert codes["python"] == (
        "import requests\n"
        "\n"
        'url = "https://pets.example.com/v1/pets/{petId}?limit={limit}"\n'
        "headers = {\n"
        '    "Authorization": "Bearer <token>",\n'
        '    "X-Request-Id": "{X-Request-Id}",\n'
        "}\n"
        "\n"
        'response = requests.request("GET", url, headers=headers, timeout=30)\n'
        "print(response.status_code, response.reason)\n"
        "print(response.text)"
    )
    assert codes["curl"] == (
        "curl 'https://pets.example.com/v1/pets/{petId}?limit={limit}' \\\n"
        "  --globoff \\\n"
        "  --header 'Authorization: Bearer <token>' \\\n"
        "  --header 'X-Request-Id: {X-Request-Id}'"
    )
    assert codes["http"].split("\n")[:4] == [
        "GET /v1/pets/{petId}?limit={limit} HTTP/1.1",
        "Host: pets.example.com",
        "Authorization: Bearer <token>",
        "X-Request-Id: {X-Request-Id}",
    ]
    assert [m.get_text() for m in one(soup, "#sample-python").select("mark")] == [
        "{petId}",
        "{limit}",
        "<token>",
        "{X-Request-Id}",
    ]


def test_an_empty_credential_stays_an_environment_variable_unless_revealed(client):
    pets_operation()
    data = {
        "param-template-petId": "7",
        "header_name": ["Authorization", "X-Request-Id", ""],
        "header_value": ["", "r-1", ""],
    }
    soup = pets_panel(client, data)
    assert placeholder_notes(soup) == ["Fill Authorization to run this"]
    assert "--header 'Authorization: '\"$AUTHORIZATION\"" in pane_codes(soup)["curl"]
    soup = pets_panel(client, {**data, "reveal": "1"})
    assert "--header 'Authorization: <token>'" in pane_codes(soup)["curl"]


def test_a_placeholder_never_shows_a_stored_value(client, demo_api):
    soup, _ = panel(
        client,
        rrs_form(
            **{
                "param-template-workspace": "",
                "header_name": ["Content-Type", "Authorization", ""],
                "header_value": ["application/json", "", ""],
                "reveal": "1",
            }
        ),
    )
    assert placeholder_notes(soup) == ["Fill workspace to run this"]
    assert KEY not in str(soup)
    assert "'Authorization: Bearer '\"$AUTHORIZATION\"" in pane_codes(soup)["curl"]


def test_a_valid_form_has_no_placeholders(client, demo_api):
    soup, _ = panel(client, rrs_form())
    assert soup.select_one("[data-samples-placeholders]") is None
    assert soup.select("mark") == []


def test_panel_answers_post_only_and_404_for_unknown_operations(client, demo_api):
    assert client.get(RRS_SAMPLES).status_code == 405
    assert client.post("/apis/azureml-demo/operations/nope/samples", {}).status_code == 404


def test_operation_page_has_the_panel_below_try_it_and_loads_samples_js(client, demo_api):
    soup = BeautifulSoup(client.get(RRS).content, "html.parser")
    column = soup.select_one("#try-it").parent
    assert column.select_one("#try-it + #samples") is not None
    form = soup.select_one("#samples-form")
    assert form["hx-post"] == RRS_SAMPLES
    assert form["hx-include"] == "#try-it form"
    assert "load" in form["hx-trigger"]
    scripts = [s["src"] for s in soup.select("head script[src]")]
    assert any(src.endswith("js/samples.js") for src in scripts)
    assert soup.select("script:not([src])") == []  # CSP: no inline script


# --- Share links ---------------------------------------------------------------------


def link_of(soup: BeautifulSoup) -> str:
    return attr(one(soup, "[data-share-url]"), "value")


def default_form() -> dict:
    return rrs_form(
        **{
            "param-template-workspace": "demo-workspace",
            "param-template-service": "text-features",
            "body": json.dumps(json.loads(rrs_form()["body"]), indent=2),
            "header_value": ["application/json", f"Bearer {KEY}", ""],
        }
    )


def test_an_unchanged_form_links_to_the_bare_page(client, demo_api):
    soup, _ = panel(client, default_form())
    assert link_of(soup) == "http://testserver" + RRS


def test_a_link_holds_what_changed_and_never_a_secret(client, demo_api):
    form = default_form()
    form.update(
        {
            "param-template-workspace": "ws & co",
            "header_name": ["Content-Type", "Authorization", "X-Extra", ""],
            "header_value": ["application/json", "Bearer other-secret-key", "1", ""],
            "body": '{\r\n  "a": 1\r\n}',
        }
    )
    soup, _ = panel(client, form)
    link = link_of(soup)
    assert "other-secret-key" not in link and KEY not in link
    parts = urlsplit(link)
    assert parts.path == RRS
    assert parse_qsl(parts.query, keep_blank_values=True) == [
        ("p.workspace", "ws & co"),
        ("h.Content-Type", "application/json"),
        ("h.Authorization", ""),
        ("h.X-Extra", "1"),
        ("body", '{\n  "a": 1\n}'),
    ]


def test_a_link_leaves_out_values_secret_by_name_or_by_scheme(client, demo_api):
    form = default_form()
    form.update(
        {
            "header_name": [
                "Content-Type",
                "Authorization",
                "X-Api-Token",
                "X-Custom",
                "X-Note",
                "",
            ],
            "header_value": [
                "application/json",
                f"Bearer {KEY}",
                "tok-secret-2222",
                "Bearer custom-secret-1111",
                "hello",
                "",
            ],
        }
    )
    soup, html = panel(client, form)
    link = link_of(soup)
    assert parse_qsl(urlsplit(link).query, keep_blank_values=True) == [
        ("h.Content-Type", "application/json"),
        ("h.Authorization", ""),
        ("h.X-Api-Token", ""),
        ("h.X-Custom", ""),
        ("h.X-Note", "hello"),
    ]
    # The samples name them as environment variables, the scheme word kept.
    assert "tok-secret-2222" not in html and "custom-secret-1111" not in html
    curl = soup.select_one("#sample-curl pre").get_text()
    assert "--header 'X-Api-Token: '\"$X_API_TOKEN\"" in curl
    assert "--header 'X-Custom: Bearer '\"$X_CUSTOM\"" in curl
    assert "--header 'X-Note: hello'" in curl
    # Nor does a link set them.
    operation = demo_api.operations.get(slug="rrs-execute")
    prefill = prefill_from_link(
        operation, QueryDict("h.X-Api-Token=attacker&h.X-Custom=Bearer+attacker&h.X-Note=hi")
    )
    assert prefill["headers"] == [["X-Api-Token", ""], ["X-Custom", ""], ["X-Note", "hi"]]


def test_a_link_leaves_out_a_value_under_a_credential_query_key(demo_api):
    operation = golden_operation(method="GET", template="/x?access_token={t}&q={q}&n={n}")
    data = QueryDict(mutable=True)
    data.update({"param-template-t": "t0k-123", "param-template-q": "v", "param-template-n": ""})
    data["param-template-n"] = "Bearer abc-999"
    assert share_query(operation, data) == [("p.q", "v")]


def test_opening_a_link_fills_the_form(client, demo_api):
    link = (
        RRS + "?p.workspace=ws+%26+co&p.details=false&h.Content-Type=application%2Fjson"
        "&h.Authorization=&h.X-Extra=1&body=%7B%22a%22%3A+1%7D"
    )
    soup = BeautifulSoup(client.get(link).content, "html.parser")
    form = soup.select_one("#try-it form")
    assert form.select_one("[name=param-template-workspace]")["value"] == "ws & co"
    assert form.select_one("[name=param-template-service]")["value"] == "text-features"
    assert form.select_one("[name=param-template-details] option[selected]")["value"] == "false"
    rows = [
        (n.get("value", ""), v.get("value", ""))
        for n, v in zip(
            form.select("[name=header_name]"), form.select("[name=header_value]"), strict=True
        )
    ]
    # The secret header is empty, saying its stored value will be used: neither a value
    # from the link nor the stored one is in the page.
    assert rows == [
        ("Content-Type", "application/json"),
        ("Authorization", ""),
        ("X-Extra", "1"),
        ("", ""),
    ]
    assert form.select("[name=header_value]")[1]["placeholder"] == "Stored value will be used"
    assert form.select_one("textarea[name=body]").get_text().strip() == '{"a": 1}'
    assert KEY not in str(soup)


def test_a_link_cannot_set_a_secret(demo_api):
    operation = demo_api.operations.get(slug="rrs-execute")
    query = QueryDict("h.Authorization=Bearer+attacker&p.workspace=w")
    prefill = prefill_from_link(operation, query)
    # Empty: the form sends the stored value for it, and never shows it.
    assert prefill["headers"] == [["Authorization", ""]]
    assert prefill_from_link(operation, QueryDict("from=3&utm=x")) is None


def test_share_link_round_trip(client, demo_api):
    form = default_form()
    form.update(
        {
            "param-template-service": "svc 'x' \"y\" $z `w` 100% é",
            "param-template-details": "",
            "header_name": ["Content-Type", "Authorization", "X-Trace", ""],
            "header_value": ["text/json", f"Bearer {KEY}", "a&b|c", ""],
            "body": '{"text": "é 😀 \\" \\\\ $x"}',
        }
    )
    soup, _ = panel(client, form)
    assert soup.select_one("[data-samples-errors]") is None, soup.get_text()
    page = BeautifulSoup(client.get(link_of(soup)).content, "html.parser")
    # The page's form, posted as a browser would, gives the same samples.
    posted = {
        element["name"]: element.get("value", "")
        for element in page.select("#try-it form input[name^=param-]")
    }
    for select in page.select("#try-it form select[name^=param-]"):
        selected = select.select_one("option[selected]")
        posted[select["name"]] = selected["value"] if selected else ""
    assert posted["param-template-details"] == ""
    posted["header_name"] = [i.get("value", "") for i in page.select("#try-it [name=header_name]")]
    posted["header_value"] = [
        i.get("value", "") for i in page.select("#try-it [name=header_value]")
    ]
    posted["body"] = page.select_one("#try-it textarea[name=body]").get_text().removeprefix("\n")
    again, _ = panel(client, posted)
    assert again.select_one("[data-samples-errors]") is None, again.get_text()
    assert again.select_one("#sample-http").get_text() == soup.select_one("#sample-http").get_text()
    assert link_of(again) == link_of(soup)


def test_share_query_leaves_secret_parameters_out(demo_api):
    operation = golden_operation(method="GET", template="/x?key={key}&q={q}")
    operation.parameters.filter(name="key").update(secret=True)
    data = QueryDict(mutable=True)
    data.update({"param-template-key": "s3cret", "param-template-q": "v"})
    assert share_query(operation, data) == [("p.q", "v")]


# --- APIs behind a subscription key: samples call the gateway ---------------------------

KEYED = "/apis/keyed/operations/add-item/"


def keyed_form(*, key: str | None = GATEWAY_KEY, **extra) -> dict:
    names, values = ["Content-Type"], ["application/json"]
    if key is not None:
        names.append("Ocp-Apim-Subscription-Key")
        values.append(key)
    return {
        "param-template-item": "7",
        "param-template-mode": "fast",
        "header_name": [*names, ""],
        "header_value": [*values, ""],
        "body": '{"n": 1}',
        **extra,
    }


def keyed_panel(client, data: dict) -> tuple[BeautifulSoup, str]:
    response = client.post(KEYED + "samples", data, headers={"HX-Request": "true"})
    assert response.status_code == 200
    soup = BeautifulSoup(response.content, "html.parser")
    assert soup.select_one("[data-samples-errors]") is None, soup.get_text()
    return soup, response.content.decode()


def sample_text(soup: BeautifulSoup, language: str) -> str:
    return one(soup, f"#sample-{language} pre").get_text()


def test_a_keyed_apis_samples_call_the_gateway_of_this_portal(client):
    keyed_operation()
    soup, html = keyed_panel(client, keyed_form())
    gateway = "http://testserver/gateway/keyed/v1/items/7?mode=fast"
    curl = sample_text(soup, "curl")
    assert curl.splitlines()[2] == f"curl --request POST '{gateway}' \\"
    assert "--header 'Ocp-Apim-Subscription-Key: '\"$OCP_APIM_SUBSCRIPTION_KEY\"" in curl
    python = sample_text(soup, "python")
    assert f'url = "{gateway}"' in python
    assert '"Ocp-Apim-Subscription-Key": os.environ["OCP_APIM_SUBSCRIPTION_KEY"],' in python
    http = sample_text(soup, "http")
    assert http.startswith("POST /gateway/keyed/v1/items/7?mode=fast HTTP/1.1\nHost: testserver\n")
    assert "api.example.com" not in html
    assert GATEWAY_KEY not in html
    note = soup.select_one("[data-samples-gateway]")
    assert note.select_one("[data-gateway-url]").get_text() == "http://testserver/gateway/keyed/v1/"
    assert "Ocp-Apim-Subscription-Key" in note.get_text()
    secrets_note = soup.select_one("[data-samples-secrets]").get_text(" ", strip=True)
    assert (
        "OCP_APIM_SUBSCRIPTION_KEY (your subscription key, in the Ocp-Apim-Subscription-Key "
        "header)" in secrets_note
    )


def test_a_gateway_sample_leaves_out_a_cookie_the_gateway_does_not_forward(client):
    operation = keyed_operation()
    for name in ("theme", "sessionid"):
        operation.parameters.create(name=name, location=ParameterLocation.COOKIE)
    data = keyed_form(**{"param-cookie-theme": "dark", "param-cookie-sessionid": "typed"})
    soup, html = keyed_panel(client, data)
    assert "--header 'Cookie: theme=dark'" in sample_text(soup, "curl")
    assert "sessionid" not in html.replace("param-cookie-sessionid", "")
    # Not on the gateway, the backend is called directly and gets what was typed.
    api = operation.api
    api.url_suffix = ""
    api.save()  # as an admin does: the gateway's routes are dropped
    soup, _ = keyed_panel(client, data)
    # A credential by its name: its value is a variable.
    curl = sample_text(soup, "curl")
    assert "--header 'Cookie: theme=dark; sessionid='\"$SESSIONID\"" in curl


def test_the_gateway_url_follows_the_host_the_portal_is_called_by(client):
    keyed_operation(suffix="/shop/")
    response = client.post(KEYED + "samples", keyed_form(), HTTP_HOST="localhost:8000")
    soup = BeautifulSoup(response.content, "html.parser")
    assert "'http://localhost:8000/gateway/shop/items/7?mode=fast'" in sample_text(soup, "curl")


@pytest.mark.parametrize("key", ["", None], ids=["empty key row", "no key row"])
def test_without_a_key_the_sample_still_sends_the_header_from_the_environment(client, key):
    keyed_operation()
    for reveal in ("", "1"):
        soup, _ = keyed_panel(client, keyed_form(key=key, reveal=reveal))
        curl = sample_text(soup, "curl")
        assert "--header 'Ocp-Apim-Subscription-Key: '\"$OCP_APIM_SUBSCRIPTION_KEY\"" in curl
        assert "Ocp-Apim-Subscription-Key;" not in curl
        python = sample_text(soup, "python")
        assert '"Ocp-Apim-Subscription-Key": os.environ["OCP_APIM_SUBSCRIPTION_KEY"],' in python
        http = sample_text(soup, "http")
        assert "Ocp-Apim-Subscription-Key: <OCP_APIM_SUBSCRIPTION_KEY>\n" in http


def test_revealed_samples_write_the_key_in(client):
    keyed_operation()
    soup, _ = keyed_panel(client, keyed_form(reveal="1"))
    assert f"--header 'Ocp-Apim-Subscription-Key: {GATEWAY_KEY}'" in sample_text(soup, "curl")
    assert soup.select_one("[data-samples-secrets]") is None
    assert soup.select_one("[data-samples-gateway]") is not None


def test_a_custom_key_header_is_the_one_the_samples_send(client):
    keyed_operation(key_header="X-Portal-Key")
    data = keyed_form(key=None)
    data["header_name"] = ["Content-Type", "X-Portal-Key", ""]
    data["header_value"] = ["application/json", GATEWAY_KEY, ""]
    soup, html = keyed_panel(client, data)
    curl = sample_text(soup, "curl")
    assert "--header 'X-Portal-Key: '\"$X_PORTAL_KEY\"" in curl
    assert "Ocp-Apim-Subscription-Key" not in curl
    assert GATEWAY_KEY not in html


def test_an_api_on_the_gateway_without_a_key_is_called_there_without_one(client, demo_api):
    soup, html = panel(client, rrs_form())
    note = soup.select_one("[data-samples-gateway]")
    assert note.get_text(" ", strip=True) == (
        "This API is called through the portal's gateway, http://testserver/gateway/azureml-demo/ ."
    )
    curl = sample_text(soup, "curl")
    assert "'http://testserver/gateway/azureml-demo/workspaces/ws1/services/svc1/execute" in curl
    assert "Ocp-Apim-Subscription-Key" not in html
    assert "127.0.0.1:9" not in html
    assert "demo-backend" not in html


def test_a_product_that_needs_no_subscription_calls_the_gateway_without_a_key(client):
    operation = keyed_operation()
    operation.api.products.update(subscription_required=False)
    soup, _ = keyed_panel(client, keyed_form(key=None))
    curl = sample_text(soup, "curl")
    assert "'http://testserver/gateway/keyed/v1/items/7?mode=fast'" in curl
    assert "Ocp-Apim-Subscription-Key" not in curl
    assert "api.example.com" not in str(soup)
    assert soup.select_one("[data-samples-gateway] [data-gateway-url]").get_text() == (
        "http://testserver/gateway/keyed/v1/"
    )


@pytest.mark.parametrize("keyed", [False, True], ids=["no key", "behind a key"])
def test_an_api_without_a_url_suffix_keeps_the_backend_url(client, keyed):
    """Not on the gateway: the samples send what Try it sends, to the service URL (Try it
    takes the key out before it sends the call)."""
    operation = keyed_operation(suffix="")
    operation.api.products.update(subscription_required=keyed)
    soup, html = keyed_panel(client, keyed_form(key=GATEWAY_KEY if keyed else None))
    curl = sample_text(soup, "curl")
    assert "'https://api.example.com/v1/items/7?mode=fast'" in curl
    assert "Ocp-Apim-Subscription-Key" not in curl
    assert "OCP_APIM_SUBSCRIPTION_KEY" not in html
    assert soup.select_one("[data-samples-gateway]") is None
    assert "/gateway/" not in html
    assert GATEWAY_KEY not in html


def test_an_unpublished_api_is_not_on_the_gateway_so_staff_see_the_backend_url(admin_client):
    operation = keyed_operation()
    Api.objects.filter(pk=operation.api_id).update(published=False)
    soup, _ = keyed_panel(admin_client, keyed_form())
    assert "'https://api.example.com/v1/items/7?mode=fast'" in sample_text(soup, "curl")
    assert soup.select_one("[data-samples-gateway]") is None


def test_of_two_apis_with_one_suffix_the_newer_keeps_the_backend_url(client):
    Api.objects.create(
        name="Older", slug="older", service_url="https://o.example.com", url_suffix="keyed/v1"
    )
    keyed_operation()
    soup, _ = keyed_panel(client, keyed_form())
    assert "'https://api.example.com/v1/items/7?mode=fast'" in sample_text(soup, "curl")
    assert soup.select_one("[data-samples-gateway]") is None


def test_a_keyed_apis_secret_parameters_stay_hidden_in_the_gateway_url():
    operation = keyed_operation()
    operation.parameters.filter(name="item").update(secret=True)
    values = TryItValues(
        template_values={"item": "s3cret/1", "mode": "fast"},
        headers=[("Ocp-Apim-Subscription-Key", GATEWAY_KEY)],
        body="{}",
    )
    request = sample_request(operation=operation, values=values, reveal=False, portal_url=PORTAL)
    assert request.url == (
        "https://portal.example.com/gateway/keyed/v1/items/",
        Secret(env="ITEM", value="s3cret%2F1", what="the item parameter, percent-encoded"),
        "?mode=fast",
    )
    assert [s.env for s in request.secrets] == ["ITEM", "OCP_APIM_SUBSCRIPTION_KEY"]


def test_the_subscription_of_the_user_changes_nothing_in_the_samples(client):
    """Samples depend on the form only: a signed-in subscriber sees the same code."""
    operation = keyed_operation()
    user = make_user("sam")
    make_subscription(user=user, product=operation.api.products.get())
    _, anonymous = keyed_panel(client, keyed_form())
    client.force_login(user)
    _, signed_in = keyed_panel(client, keyed_form())
    assert anonymous == signed_in
