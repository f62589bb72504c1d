import html
import json
import re
import time

import pytest
from django.utils.safestring import SafeString
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import JsonLexer

from console.highlight import BLOCK_LINES, TooLarge, escape_blocks, highlight_json

TAG = re.compile(r"<[^>]*>")
SPAN = re.compile(r'<span class="([a-z0-9]+)">([^<]*)</span>')


def pretty(value: object) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def text_of(markup: str) -> str:
    """What a browser shows: the tags stripped, the character references read."""
    return html.unescape(TAG.sub("", markup))


def tokens(markup: str) -> list[tuple[str, str]]:
    return [(kind, html.unescape(text)) for kind, text in SPAN.findall(markup)]


NESTED = {
    "a<b>&c": {"x": [1, -2, 3.5, -4.25e-10, 1e300, True, False, None]},
    "empty": [{}, [], {"deeper": [[{"k": "v"}]]}],
    'quote"key': 'say "hi" \\ and \\" and \\\\',
    "unicode": "café ✓ 😀 \u2028 \U0001f9d1\u200d\U0001f4bb",
    "controls": "tab\there\nnewline\u0000nul\u001fus",
    "html": "<script>alert('x')</script><img src=x onerror=alert(1)>",
    "entities": "&amp; &lt; &#60; &#x3c; &",
    "numbers": [0, -0.0, 12345678901234567890, 2.5e-7, -1.5e21],
}


def test_the_text_is_the_pretty_json_and_a_final_newline():
    source = pretty(NESTED)
    markup = highlight_json(source)
    assert isinstance(markup, SafeString)
    assert text_of(markup) == source + "\n"


@pytest.mark.parametrize(
    "value",
    [
        {"<tag>": "<tag>", "a&b": "a&b", "q>": "x<y"},
        ["\"'", '"', "'", "\\", "\\\\", '\\"', "\\n"],
        {"k": "</span><span class=nt>injected"},
    ],
)
def test_markup_from_the_data_is_escaped(value):
    markup = highlight_json(pretty(value))
    assert "<tag>" not in markup and "</span><span class=nt>injected" not in markup
    # Only the highlighter's own elements: every tag is an opening span with a known
    # class or a closing span.
    for tag in re.findall(r"<[^>]*>", markup):
        assert re.fullmatch(r'<span class="(nt|s2|mi|mf|kc|err)">|</span>', tag), tag
    assert text_of(markup) == pretty(value) + "\n"


def test_keys_strings_numbers_and_constants_get_the_json_lexers_classes():
    source = pretty({"id": -7, "price": 9.5, "big": -1.5e21, "ok": True, "no": None, "s": "x"})
    assert tokens(highlight_json(source)) == [
        ("nt", '"id"'),
        ("mi", "-7"),
        ("nt", '"price"'),
        ("mf", "9.5"),
        ("nt", '"big"'),
        ("mf", "-1.5e+21"),
        ("nt", '"ok"'),
        ("kc", "true"),
        ("nt", '"no"'),
        ("kc", "null"),
        ("nt", '"s"'),
        ("s2", '"x"'),
    ]


def test_escapes_inside_strings_stay_inside_the_string():
    # \" does not end the string, \\ before a quote does; a colon inside is not a key.
    source = pretty({'a"b': 'c\\"d\\', "e": "f: g", "h\\": ["i\\\\", ':"j"']})
    assert tokens(highlight_json(source)) == [
        ("nt", '"a\\"b"'),
        ("s2", '"c\\\\\\"d\\\\"'),
        ("nt", '"e"'),
        ("s2", '"f: g"'),
        ("nt", '"h\\\\"'),
        ("s2", '"i\\\\\\\\"'),
        ("s2", '":\\"j\\""'),
    ]


def test_the_same_tokens_and_classes_as_pygments():
    """Pygments' spans for everything but punctuation and white space, which stay bare."""
    source = pretty(NESTED)
    ours = tokens(highlight_json(source))
    theirs = [
        (kind, text)
        for kind, text in tokens(highlight(source, JsonLexer(), HtmlFormatter(nowrap=True)))
        if kind not in {"p", "w"}
    ]
    assert ours == theirs


def test_nan_and_infinity_are_marked_as_not_json():
    source = pretty([float("nan"), float("inf"), -float("inf")])
    assert tokens(highlight_json(source)) == [
        ("err", "NaN"),
        ("err", "Infinity"),
        ("err", "-Infinity"),
    ]


def test_characters_outside_ascii_are_references():
    markup = highlight_json(pretty({"é": "😀 ✓"}))
    assert markup.isascii()
    assert '<span class="nt">"&#233;"</span>' in markup
    assert '<span class="s2">"&#128512; &#10003;"</span>' in markup


@pytest.mark.parametrize("value", [[], {}, 0, "x", None, [[[]]], {"a": {}}])
def test_small_documents(value):
    assert text_of(highlight_json(pretty(value))) == pretty(value) + "\n"


def test_a_large_document_is_highlighted_whole_across_chunks():
    value = [
        {"id": n, "name": f"<n{n}>", "tags": ["a", "b"], "on": n % 2 == 0} for n in range(20_000)
    ]
    source = pretty(value)
    assert len(source) > 1_000_000  # several chunks
    markup = highlight_json(source)
    assert text_of(markup) == source + "\n"
    assert markup.count('<span class="nt">') == 4 * len(value)


def test_text_that_is_not_json_dumps_output_is_kept_escaped():
    markup = highlight_json('{"a": 1} <b>x</b> ; @')
    assert text_of(markup) == '{"a": 1} <b>x</b> ; @\n'
    assert "<b>" not in markup


def test_max_chars_stops_a_markup_that_grows_past_it():
    source = pretty(list(range(200_000)))
    with pytest.raises(TooLarge):
        highlight_json(source, max_chars=1_000_000)
    assert text_of(highlight_json(source, max_chars=10_000_000)) == source + "\n"


def test_long_runs_of_punctuation_take_linear_time():
    # The scanner once backtracked over `{},` runs with no token after them: quadratic.
    source = pretty([{}] * 300_000 + [[]] * 300_000)
    started = time.perf_counter()
    markup = highlight_json(source)
    assert time.perf_counter() - started < 5
    assert markup == source + "\n"


BLOCK = re.compile(r'<span class="code-part">(.*?)</span>(?=<span class="code-part">|$)', re.S)


def test_blocks_hold_400_lines_each_with_the_same_text_and_tokens():
    text = pretty([NESTED] * 60)  # 1,800 lines
    plain = highlight_json(text)
    blocked = highlight_json(text, blocks=True)
    assert text_of(blocked) == text_of(plain) == text + "\n"
    assert tokens(blocked) == tokens(plain)
    blocks = BLOCK.findall(blocked)
    assert len(blocks) == -(-(text.count("\n") + 1) // BLOCK_LINES)
    assert [text_of(block).count("\n") for block in blocks[:-1]] == [BLOCK_LINES] * (
        len(blocks) - 1
    )
    assert "<script>" not in blocked and "<img" not in blocked


def test_plain_text_in_blocks_is_escaped_and_whole():
    text = "\n".join(f"<b>line {n} & é</b>" for n in range(1000))
    markup = escape_blocks(text)
    assert isinstance(markup, SafeString)
    assert markup.count('<span class="code-part">') == 3
    assert "<b>" not in markup
    assert text_of(markup) == text
    assert escape_blocks("") == ""
