import json

import pytest

from operations.rendering import DISPLAY_MAX_CHARS, parse_content_type, render_body


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


@pytest.mark.parametrize(
    "charset",
    # Unknown; not a charset (bare UnicodeError); quadratic; escape interpreters.
    ["x-nonsense", "undefined", "idna", "punycode", "unicode_escape", "raw_unicode_escape"],
)
def test_unknown_or_non_charset_labels_fall_back_to_utf8_with_a_note(charset):
    rendered = render_body(body=b"h\\u00e9llo", content_type=f"text/plain; charset={charset}")
    assert (rendered.kind, rendered.text) == ("text", "h\\u00e9llo")
    assert rendered.note == (
        f"The declared character set {charset!r} is not supported; shown as UTF-8."
    )


def test_a_body_cut_inside_a_character_loses_the_tail_without_a_note():
    body = "café".encode()[:-1]  # the cap fell between the two bytes of "é"
    rendered = render_body(body=body, content_type="text/plain; charset=utf-8", truncated=True)
    assert (rendered.text, rendered.note) == ("caf", "")


def test_json_nested_deeper_than_python_parses_is_shown_as_text():
    body = b"[" * 1500 + b"]" * 1500
    rendered = render_body(body=body, content_type="application/json")
    assert (rendered.kind, rendered.text) == ("text", body.decode())
    assert rendered.note == "The JSON is nested too deeply to format; it is shown as received."


def test_a_long_text_is_cut_for_display():
    body = b"a" * (DISPLAY_MAX_CHARS + 1)
    rendered = render_body(body=body, content_type="text/plain")
    assert (rendered.kind, rendered.cut, len(rendered.text)) == ("text", True, DISPLAY_MAX_CHARS)
    whole = render_body(body=body[:-1], content_type="text/plain")
    assert (whole.cut, len(whole.text)) == (False, DISPLAY_MAX_CHARS)


def test_only_the_beginning_of_a_large_body_is_decoded():
    # 4 MB of two-byte characters behind one ASCII byte: the 2 MB head ends mid-character,
    # which must neither make the body binary nor add a replacement note.
    body = b"a" + "é".encode() * (2 * DISPLAY_MAX_CHARS)
    rendered = render_body(body=body, content_type="")
    assert (rendered.kind, rendered.cut, rendered.note) == ("text", True, "")
    assert rendered.text == "a" + "é" * (DISPLAY_MAX_CHARS - 1)


def test_json_longer_than_the_display_limit_is_plain_text_cut():
    body = json.dumps(["x" * 100] * 6000).encode()  # about 650,000 characters pretty
    rendered = render_body(body=body, content_type="application/json")
    assert (rendered.kind, rendered.cut, rendered.highlighted) == ("text", True, None)
    assert rendered.note == "The JSON is too large to highlight; it is shown as plain text."


def test_content_type_is_normalised():
    assert parse_content_type("Application/JSON; Charset=UTF-8") == ("application/json", "utf-8")
    assert parse_content_type("") == ("application/octet-stream", None)
