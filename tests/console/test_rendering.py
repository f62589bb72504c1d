import json

import pytest

from console.rendering import (
    ALL_PARTS,
    DISPLAY_MAX_CHARS,
    MAX_PARTS,
    TOO_LARGE_TO_HIGHLIGHT,
    TOO_MANY_CONTAINERS,
    parse_content_type,
    render_body,
    shown_parts,
)


def test_json_is_pretty_printed_and_highlighted_with_markup_escaped():
    body = json.dumps({"html": "<script>alert(1)</script>", "n": 1}).encode()
    rendered = render_body(body=body, content_type="application/json; charset=utf-8")
    assert rendered.kind == "json"
    assert rendered.text == '{\n  "html": "<script>alert(1)</script>",\n  "n": 1\n}'
    assert "<script>" not in rendered.highlighted
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered.highlighted
    assert '<span class="nt">"html"</span>' in rendered.highlighted
    assert '<span class="mi">1</span>' in rendered.highlighted


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
    assert rendered.note == TOO_LARGE_TO_HIGHLIGHT


def test_the_highlight_limit_counts_the_json_as_received(settings):
    body = json.dumps(list(range(100)), separators=(",", ":")).encode()
    settings.PORTAL_HIGHLIGHT_MAX_CHARS = len(body)
    assert render_body(body=body, content_type="application/json").kind == "json"
    settings.PORTAL_HIGHLIGHT_MAX_CHARS = len(body) - 1
    assert render_body(body=body, content_type="application/json").kind == "text"


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


def test_large_json_is_highlighted_a_part_at_a_time_cut_at_a_line(settings):
    value = [{"id": n, "name": "<x>" * 30, "ok": True} for n in range(14_000)]
    body = json.dumps(value).encode()  # 1.9 MB pretty, 1.7 MB as received
    pretty = json.dumps(value, indent=2)
    part = settings.PORTAL_RESPONSE_PART_CHARS
    first = render_body(body=body, content_type="application/json")
    assert (first.kind, first.cut, first.note, first.parts, first.more) == (
        "json",
        False,
        "",
        1,
        True,
    )
    assert part // 2 < len(first.text) <= part and first.text.endswith(",")
    assert pretty.startswith(first.text)
    names = first.text.count('"name"')
    assert first.highlighted.count('<span class="nt">"name"</span>') == names < 14_000
    assert first.highlighted.count("<span") == first.highlighted.count("</span>")
    assert "<x>" not in first.highlighted

    second = render_body(body=body, content_type="application/json", parts=2)
    assert (second.parts, second.more, second.next_parts) == (2, True, 3)
    assert second.text.startswith(first.text) and len(second.text) > 2 * part - part // 2

    whole = render_body(body=body, content_type="application/json", parts=MAX_PARTS)
    assert (whole.kind, whole.more, whole.expandable) == ("json", False, False)
    assert whole.text == pretty
    assert whole.highlighted.count('<span class="nt">"name"</span>') == 14_000


def test_show_all_is_the_whole_formatted_json_as_plain_text():
    value = [{"id": n, "name": "<x>" * 30} for n in range(14_000)]
    body = json.dumps(value).encode()
    rendered = render_body(body=body, content_type="application/json", parts=ALL_PARTS)
    assert (rendered.kind, rendered.whole, rendered.cut, rendered.highlighted) == (
        "text",
        True,
        False,
        None,
    )
    assert len(rendered.text) > DISPLAY_MAX_CHARS  # not cut as other text is
    assert rendered.text == json.dumps(value, indent=2)


def test_a_part_without_a_line_break_is_cut_at_its_size_and_stays_escaped(settings):
    settings.PORTAL_RESPONSE_PART_CHARS = 1000
    body = json.dumps({"a": "<b>" * 2000}).encode()
    rendered = render_body(body=body, content_type="application/json")
    assert (rendered.kind, rendered.more, len(rendered.text)) == ("json", True, 1000)
    assert "<b>" not in rendered.highlighted and "&lt;b&gt;" in rendered.highlighted


@pytest.mark.parametrize(
    ("value", "parts"),
    [
        (None, 1),
        ("", 1),
        ("2", 2),
        ("0", 1),
        ("-3", 1),
        ("x", 1),
        ("999", MAX_PARTS),
        ("all", None),
    ],
)
def test_parts_asked_by_a_page(value, parts):
    assert shown_parts(value) == parts


def test_the_last_part_a_page_may_ask_for_offers_only_show_all(settings):
    settings.PORTAL_RESPONSE_PART_CHARS = 100
    body = json.dumps(list(range(5000))).encode()
    rendered = render_body(body=body, content_type="application/json", parts=MAX_PARTS)
    assert (rendered.more, rendered.expandable, rendered.next_parts) == (True, False, MAX_PARTS)


def test_json_over_the_highlight_limit_is_pretty_plain_text_cut(settings):
    settings.PORTAL_HIGHLIGHT_MAX_CHARS = 100_000
    value = ["x" * 100] * 6000
    body = json.dumps(value).encode()  # 650,000 characters pretty
    rendered = render_body(body=body, content_type="application/json")
    assert (rendered.kind, rendered.cut, rendered.highlighted) == ("text", True, None)
    assert rendered.note == TOO_LARGE_TO_HIGHLIGHT
    assert rendered.text == json.dumps(value, indent=2)[:DISPLAY_MAX_CHARS]


def test_json_whose_markup_would_pass_the_limit_is_pretty_plain_text(monkeypatch):
    monkeypatch.setattr("console.rendering.HIGHLIGHT_MAX_MARKUP_CHARS", 10_000)
    value = list(range(2000))
    rendered = render_body(body=json.dumps(value).encode(), content_type="application/json")
    assert (rendered.kind, rendered.cut, rendered.note) == ("text", False, TOO_LARGE_TO_HIGHLIGHT)
    assert rendered.text == json.dumps(value, indent=2)


def test_a_few_kilobytes_nested_deep_do_not_pretty_print_to_gigabytes(settings):
    # Each of these 400 lists, 740 bytes as received, is 270 KB pretty (the indent grows
    # with the depth): 110 MB in all. The writing stops at what can be shown.
    body = ("[" + ",".join(["[" * 370 + "]" * 370] * 400) + "]").encode()
    rendered = render_body(body=body, content_type="application/json")
    assert (rendered.kind, rendered.more) == ("json", True)
    assert len(rendered.text) <= settings.PORTAL_RESPONSE_PART_CHARS
    assert rendered.text.startswith("[\n  [\n    [\n")
    every = render_body(body=body, content_type="application/json", parts=ALL_PARTS)
    assert (every.kind, every.cut, every.note) == ("text", True, TOO_LARGE_TO_HIGHLIGHT)
    assert len(every.text) == DISPLAY_MAX_CHARS


def test_json_up_to_the_highlight_limit_is_parsed_whole_above_the_text_head():
    # Over the 2,000,000 bytes decoded for text, under PORTAL_HIGHLIGHT_MAX_CHARS.
    value = ["x" * 1000] * 2050
    body = json.dumps(value).encode()
    assert 2_000_000 < len(body) <= 2 * 1024 * 1024
    rendered = render_body(body=body, content_type="application/json")
    assert rendered.kind == "json"
    assert "é" not in rendered.highlighted


def test_emoji_in_json_are_references_in_ascii_markup():
    rendered = render_body(body='{"a": "😀 é"}'.encode(), content_type="application/json")
    assert rendered.highlighted.isascii()
    assert "&#128512; &#233;" in rendered.highlighted
    assert rendered.text == '{\n  "a": "😀 é"\n}'


def test_content_type_is_normalised():
    assert parse_content_type("Application/JSON; Charset=UTF-8") == ("application/json", "utf-8")
    assert parse_content_type("") == ("application/octet-stream", None)


def test_json_too_large_to_parse_is_text_as_received_cut_with_the_note(settings):
    settings.PORTAL_HIGHLIGHT_MAX_CHARS = 1000
    body = json.dumps(["x" * 100] * 30_000).encode()  # 3 MB: over the 2 MB text head too
    rendered = render_body(body=body, content_type="application/json")
    assert (rendered.kind, rendered.cut, rendered.note) == ("text", True, TOO_LARGE_TO_HIGHLIGHT)
    assert rendered.text == body[:DISPLAY_MAX_CHARS].decode()


def test_truncated_json_has_no_size_note():
    body = json.dumps(["x" * 100] * 30_000).encode()[:3_000_000]
    rendered = render_body(body=body, content_type="application/json", truncated=True)
    assert (rendered.kind, rendered.cut, rendered.note) == ("text", True, "")


def test_json_with_too_many_objects_and_arrays_is_shown_as_received():
    # 160,000 nested lists in 320 KB: Python would need some 10 MB to hold them, and
    # 70 MB for 2 MB of them.
    body = "[" + ",".join(["[" * 400 + "]" * 400] * 400) + "]"
    rendered = render_body(body=body.encode(), content_type="application/json")
    assert (rendered.kind, rendered.cut, rendered.note) == ("text", False, TOO_MANY_CONTAINERS)
    assert rendered.text == body
