"""testing.checks: evaluating checks on a response, extraction, the line syntax."""

import json

import pytest

from testing.checks import (
    CheckResult,
    CheckSyntaxError,
    evaluate,
    extract_value,
    format_checks,
    format_extract,
    parse_check_line,
    parse_checks,
    parse_extract,
)

STATUS_BODY = json.dumps({"StatusCode": "Finished", "Count": 200, "Results": {"a": [1, 2]}})
HEADERS = [["Content-Type", "application/json"], ["ETag", '"v1"'], ["Set-Cookie", "s=secret1"]]


def check(kind: str, target: str = "", value: str = "") -> dict:
    return {"kind": kind, "target": target, "value": value}


def run(
    one: dict,
    *,
    status: int | None = 200,
    headers=HEADERS,
    body: str | bytes = STATUS_BODY,
    content_type: str = "application/json",
    duration_ms: float = 120.0,
) -> CheckResult:
    return evaluate(
        one,
        status=status,
        headers=headers,
        body=body.encode() if isinstance(body, str) else body,
        content_type=content_type,
        duration_ms=duration_ms,
    )


# --- evaluate ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("one", "label"),
    [
        (check("status", value="200"), "Status is 200"),
        (check("header_present", "ETag"), "Header ETag is present"),
        (
            check("header_equals", "Content-Type", "application/json"),
            "Header Content-Type equals application/json",
        ),
        (check("json_present", "$.Results"), "$.Results is present"),
        (check("json_equals", "$.StatusCode", "Finished"), "$.StatusCode equals Finished"),
        (check("body_contains", value="hashing"), "Body contains 'hashing'"),
        (check("duration_under", value="500"), "Duration under 500 ms"),
    ],
)
def test_labels_read_as_sentences(one, label):
    assert run(one).label == label


@pytest.mark.parametrize(
    ("one", "overrides", "detail"),
    [
        (check("status", value="200"), {"status": 404}, "got 404"),
        (check("status", value="200"), {"status": None}, "no response"),
        (check("header_present", "X-Trace"), {}, "header missing"),
        (check("header_equals", "X-Trace", "1"), {}, "header missing"),
        (check("header_equals", "content-type", "text/plain"), {}, "got application/json"),
        (check("json_present", "$.Missing"), {}, "$.Missing is missing"),
        (
            check("json_equals", "$.StatusCode", "Finished"),
            {"body": '{"StatusCode": "Running"}'},
            '$.StatusCode is "Running"',
        ),
        (check("json_equals", "$.StatusCode", "Finished"), {"body": "<html>"}, "not JSON"),
        (check("json_present", "$.a"), {"body": b""}, "the body is not JSON"),
        (check("body_contains", value="hashing"), {}, "not found in the body"),
        (check("duration_under", value="500"), {"duration_ms": 812.4}, "took 812 ms"),
        (check("duration_under", value="soon"), {}, "not a number"),
        (check("status", value="2xx"), {}, "not a status code"),
        (check("json_equals", "StatusCode", "x"), {}, "starts with '$'"),
        (check("teapot"), {}, "Unknown check kind"),
    ],
)
def test_failures_say_what_was_found(one, overrides, detail):
    result = run(one, **overrides)
    assert result.passed is False
    assert detail in result.detail


@pytest.mark.parametrize(
    "one",
    [
        check("status", value="200"),
        check("header_present", "etag"),
        check("header_equals", "CONTENT-TYPE", "application/json"),
        check("json_present", "$.Results.a[1]"),
        check("json_equals", "$.StatusCode", "Finished"),
        check("json_equals", "$.StatusCode", '"Finished"'),
        check("json_equals", "$.Count", "200"),
        check("json_equals", "$.Count", "200.0"),
        check("json_equals", "$.Results", '{"a": [1, 2]}'),
        check("body_contains", value='"StatusCode"'),
        check("duration_under", value="500"),
    ],
)
def test_passing_checks(one):
    assert run(one) == CheckResult(label=run(one).label, passed=True, detail="")


def test_json_equals_compares_json_values_then_the_string_as_typed():
    body = json.dumps({"n": 200, "s": "200", "t": True, "nul": None})
    assert run(check("json_equals", "$.n", "200"), body=body).passed
    assert run(check("json_equals", "$.s", "200"), body=body).passed  # the string as typed
    assert not run(check("json_equals", "$.n", '"200"'), body=body).passed
    assert run(check("json_equals", "$.t", "true"), body=body).passed
    assert not run(check("json_equals", "$.t", "1"), body=body).passed
    assert run(check("json_equals", "$.nul", "null"), body=body).passed


def test_json_checks_read_json_whatever_the_declared_type():
    assert run(check("json_present", "$.Results"), content_type="text/plain").passed


def test_a_secret_header_value_is_not_copied_into_the_detail():
    result = run(check("header_equals", "Set-Cookie", "s=other"))
    assert not result.passed
    assert "secret1" not in result.detail


def test_a_malformed_check_fails_without_raising() -> None:
    assert run("status 200").passed is False  # type: ignore[arg-type]
    assert run({"kind": "status", "value": 200}).passed is False


# --- the line syntax --------------------------------------------------------------

TEXT = """\
status 200
header Content-Type
header Content-Type = application/json
json $.Results
json $.StatusCode = Finished
body contains hashing
duration < 500
json $["a = b"] = x = y
"""


def test_parse_checks_reads_every_kind():
    assert parse_checks(TEXT) == [
        check("status", value="200"),
        check("header_present", "Content-Type"),
        check("header_equals", "Content-Type", "application/json"),
        check("json_present", "$.Results"),
        check("json_equals", "$.StatusCode", "Finished"),
        check("body_contains", value="hashing"),
        check("duration_under", value="500"),
        check("json_equals", '$["a = b"]', "x = y"),
    ]


def test_format_checks_is_the_inverse_of_parse_checks():
    checks = parse_checks(TEXT)
    assert format_checks(checks) == TEXT.rstrip("\n")
    assert parse_checks(format_checks(checks)) == checks


def test_blank_lines_comments_and_spacing_are_forgiven():
    text = "\n# the job must end\n  Status   201  \nDuration < 250 ms\n\njson $.a=1\n"
    assert parse_checks(text) == [
        check("status", value="201"),
        check("duration_under", value="250"),
        check("json_equals", "$.a", "1"),
    ]


def test_an_unknown_kind_survives_formatting_as_a_comment():
    text = format_checks([check("teapot", "x", "y")])
    assert text.startswith("#")
    assert parse_checks(text) == []


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("teapot 418", 1, "unknown check 'teapot'"),
        ("status 200\nstatus", 2, "status needs a code"),
        ("status 200\n\nstatus 700", 3, "status needs a code"),
        ("header", 1, "header needs a name"),
        ("header Content Type", 1, "is not a header name"),
        ("json", 1, "json needs a path"),
        ("json Results", 1, "starts with '$'"),
        ("json $.a[", 1, "Unclosed '['"),
        ("json $.a =", 1, "needs a value"),
        ("body has x", 1, "body contains TEXT"),
        ("body contains   ", 1, "needs a text"),
        ("duration 500", 1, "duration < N"),
        ("duration < fast", 1, "duration < N"),
        ("duration < 0", 1, "duration < N"),
    ],
)
def test_each_syntax_error_names_its_line(text, line, problem):
    with pytest.raises(CheckSyntaxError) as caught:
        parse_checks(text)
    assert caught.value.line == line
    assert str(caught.value).startswith(f"Line {line}: ")
    assert problem in str(caught.value)


def test_parse_check_line_reads_a_repeat_condition():
    assert parse_check_line("json $.StatusCode = Finished") == check(
        "json_equals", "$.StatusCode", "Finished"
    )


# --- extraction -------------------------------------------------------------------


def test_parse_and_format_extraction_rules():
    text = "jobid = json $\netag = header ETag\nfirst = json $.Results.a[0]"
    rules = parse_extract(text)
    assert rules == [
        {"variable": "jobid", "source": "json", "path": "$"},
        {"variable": "etag", "source": "header", "path": "ETag"},
        {"variable": "first", "source": "json", "path": "$.Results.a[0]"},
    ]
    assert format_extract(rules) == text
    assert parse_extract(format_extract(rules)) == rules


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("jobid json $", 1, "write 'name = json $.path'"),
        ("1job = json $", 1, "is not a variable name"),
        ("jobid = xml /a", 1, "write 'json $.path' or 'header Name'"),
        ("jobid = json", 1, "write 'json $.path' or 'header Name'"),
        ("a = json $\n\njobid = json id", 3, "starts with '$'"),
        ("etag = header E Tag", 1, "is not a header name"),
        ("a = json $\na = header ETag", 2, "set twice"),
    ],
)
def test_extraction_syntax_errors_name_their_line(text, line, problem):
    with pytest.raises(CheckSyntaxError) as caught:
        parse_extract(text)
    assert caught.value.line == line
    assert problem in str(caught.value)


def extract(rule: dict, body: str = STATUS_BODY) -> tuple[str | None, str]:
    return extract_value(rule, headers=HEADERS, body=body.encode(), content_type="application/json")


def test_extract_values():
    assert extract({"variable": "id", "source": "json", "path": "$"}, '"0f4b"') == ("0f4b", "")
    assert extract({"variable": "n", "source": "json", "path": "$.Count"}) == ("200", "")
    assert extract({"variable": "r", "source": "json", "path": "$.Results"}) == (
        '{"a": [1, 2]}',
        "",
    )
    assert extract({"variable": "e", "source": "header", "path": "etag"}) == ('"v1"', "")


def test_extraction_says_what_is_missing():
    assert extract({"variable": "jobid", "source": "json", "path": "$.id"}) == (
        None,
        "Variable jobid: $.id is not in the response",
    )
    assert extract({"variable": "e", "source": "header", "path": "X-Etag"}) == (
        None,
        "Variable e: header X-Etag is not in the response",
    )
    assert extract({"variable": "j", "source": "json", "path": "$"}, "<html>") == (
        None,
        "Variable j: the response is not JSON",
    )
