"""Sample code as HTML with Pygments' classes (static/css/highlight.css).

console/highlight.py is a faster highlighter for pretty-printed JSON only; samples are
in nine languages and small enough for Pygments.
"""

from __future__ import annotations

import re
from html import unescape

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name

# Samples longer than this are shown without colours (Pygments is slow on large text).
HIGHLIGHT_MAX_CHARS = 20_000


def highlighted(code: str, lexer_name: str) -> SafeString:
    """Markup whose text is exactly `code`: Pygments' classes, or plain escaped text."""
    if len(code) > HIGHLIGHT_MAX_CHARS:
        return escape(code)
    lexer = get_lexer_by_name(lexer_name, stripnl=False, stripall=False)
    # Pygments ends its output with a line feed whatever the lexer options: give it one
    # and take it off again.
    markup = highlight(code + "\n", lexer, HtmlFormatter(nowrap=True)).removesuffix("\n")
    # Pygments escapes every token; the check keeps a lexer's surprise from changing
    # what a reader copies.
    if unescape(re.sub(r"<[^>]*>", "", markup)) != code:
        return escape(code)
    return mark_safe(markup)  # noqa: S308 - Pygments' HtmlFormatter escapes the text


def _as_pygments_escapes(text: str) -> str:
    table = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}
    return "".join(table.get(c, c) for c in text)


def marked_placeholders(markup: SafeString, texts: tuple[str, ...]) -> SafeString:
    """The markup with each placeholder's text (as Pygments escapes it, within one token)
    wrapped in <mark class="sample-placeholder">; the text stays exactly the same."""
    result = str(markup)
    for text in sorted(texts, key=len, reverse=True):
        escaped = _as_pygments_escapes(text)
        result = result.replace(escaped, f'<mark class="sample-placeholder">{escaped}</mark>')
    return mark_safe(result)  # noqa: S308 - escaped text wrapped in a fixed tag
