import json

import pytest

from operations.rendering import parse_content_type, render_body


def test_json_is_pretty_printed_and_highlighted_with_markup_escaped():
    body = json.dumps({"html": "<script>alert(1)</script>", "n": 1}).encode()
    rendered = render_body(body=body, content_type="application/json; charset=utf-8")
    assert rendered.kind == "json"
    assert rendered.text == '{\n  "html": "<script>alert(1)</script>",\n  "n": 1\n}'
    assert "<script>" not in rendered.highlighted
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered.highlighted
    assert '<span class="nt">"html"</span>' in rendered.highlighted


def test_problem_json_counts_as_json():
    rendered = render_body(body=b'{"title": "x"}', content_type="application/problem+json")
    assert rendered.kind == "json"


def test_invalid_json_is_shown_as_text_with_a_note():
    rendered = render_body(body=b"{not json", content_type="application/json")
    assert (rendered.kind, rendered.text, rendered.note) == (
        "text",
        "{not json",
        "The body is not valid JSON.",
    )


def test_large_json_falls_back_to_plain_text(settings):
    settings.PORTAL_HIGHLIGHT_MAX_CHARS = 100
    body = json.dumps(list(range(100))).encode()
    rendered = render_body(body=body, content_type="application/json")
    assert rendered.kind == "text"
    assert rendered.highlighted is None
    assert rendered.note == "The JSON is too large to highlight; it is shown as plain text."


def test_truncated_json_is_shown_as_text():
    rendered = render_body(body=b'{"a": [1, 2', content_type="application/json", truncated=True)
    assert rendered.kind == "text"


@pytest.mark.parametrize(
    ("content_type", "body", "kind"),
    [
        ("text/html", b"<b>hi</b>", "text"),
        ("text/plain; charset=iso-8859-1", "caf\xe9".encode("latin-1"), "text"),
        ("application/xml", b"<a/>", "text"),
        ("image/png", b"\x89PNG\r\n\x1a\n", "binary"),
        ("application/octet-stream", b"abc", "binary"),
        ("text/plain", b"a\x00b", "binary"),
        ("", b"plain words", "text"),
        ("", b"\xff\xfe\x00", "binary"),
        ("text/plain", b"", "empty"),
    ],
)
def test_kind_follows_the_content_type_and_the_bytes(content_type, body, kind):
    assert render_body(body=body, content_type=content_type).kind == kind


def test_declared_charset_is_used():
    rendered = render_body(
        body="café".encode("latin-1"), content_type="text/plain; charset=latin-1"
    )
    assert rendered.text == "café"
    assert rendered.note == ""


def test_invalid_utf8_labelled_utf8_is_replaced_with_a_note():
    rendered = render_body(body=b"ok \xff\xfe end", content_type="text/plain; charset=utf-8")
    assert rendered.text == "ok \ufffd\ufffd end"
    assert "not valid in the declared character set" in rendered.note


def test_unknown_charset_falls_back_to_utf8():
    rendered = render_body(body=b"hello", content_type="text/plain; charset=x-nonsense")
    assert rendered.text == "hello"


def test_content_type_is_normalised():
    assert parse_content_type("Application/JSON; Charset=UTF-8") == ("application/json", "utf-8")
    assert parse_content_type("") == ("application/octet-stream", None)
