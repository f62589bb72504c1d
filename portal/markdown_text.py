"""Markdown written by admins or imported with an OpenAPI document, as safe HTML.

OpenAPI says its description fields are CommonMark, so they are read by markdown-it-py's
CommonMark parser (with GitHub's tables and strikethrough), raw HTML included, and the
HTML is then cleaned by nh3 (ammonia) with an allow-list: text formatting, lists,
headings, code, quotes and tables; no script, style, iframe, form or event handler
survives, nor any attribute but a link's `href` and `title`. Links keep only http,
https and mailto URLs (a relative or fragment URL is a place in a document the portal
does not serve) and get `rel="nofollow noopener"`. Images become links to the image:
the pages' Content-Security-Policy loads images from the portal only, and an image
from the document's author would be a request to a third party on every visit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import lru_cache
from html import unescape

import nh3
from django.core.cache import cache
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

ALLOWED_TAGS = frozenset(
    {
        "a", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5",
        "h6", "hr", "i", "kbd", "li", "ol", "p", "pre", "s", "strong", "sub", "sup",
        "table", "tbody", "td", "th", "thead", "tr", "ul",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow noopener"

# Texts up to this length are remembered, as rendered, by each process (the same
# parameter descriptions recur on every operation of an API); at most CACHED_TEXTS of
# them, a few megabytes at worst. Longer texts (an operation's description: 7 to 10 KB
# in bench/operation_page.py's document, about 12 ms to render) are kept in the Django
# cache by their digest, as the schema trees are, for CACHE_SECONDS, so that every
# process renders each once; each process also remembers the last KEPT_LONG_TEXTS of them
# up to KEPT_LONG_CHARS (an operation page shows its description on every visit, and a
# round trip to Redis for it costs more than the rest of its Markdown): about 20 MB at
# worst.
CACHED_CHARS = 4000
CACHED_TEXTS = 2048
KEPT_LONG_CHARS = 40_000
KEPT_LONG_TEXTS = 256
CACHE_SECONDS = 24 * 3600


def _image_as_link(
    renderer: RendererHTML, tokens: Sequence[Token], index: int, options: OptionsDict, env: EnvType
) -> str:
    token = tokens[index]
    source = str(token.attrGet("src") or "")
    label = renderer.renderInlineAsText(token.children or [], options, env) or source
    return f'<a href="{escapeHtml(source)}">{escapeHtml(label)}</a>'


_parser = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
_parser.add_render_rule("image", _image_as_link)


def _render(text: str) -> str:
    return nh3.clean(
        _parser.render(text),
        tags=set(ALLOWED_TAGS),
        clean_content_tags={"script", "style"},
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        url_relative="deny",
        link_rel=LINK_REL,
    )


def _shared(text: str) -> str:
    """A long text's HTML from the Django cache, rendered and kept there when missing."""
    key = "markdown:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    html = cache.get(key)
    if not isinstance(html, str):
        html = _render(text)
        cache.set(key, html, timeout=CACHE_SECONDS)
    return html


_remembered = lru_cache(maxsize=CACHED_TEXTS)(_render)
_remembered_long = lru_cache(maxsize=KEPT_LONG_TEXTS)(_shared)


def markdown_html(*, text: str) -> str:
    """The text as sanitised HTML ("" for none)."""
    if not text:
        return ""
    if len(text) <= CACHED_CHARS:
        return _remembered(text)
    if len(text) <= KEPT_LONG_CHARS:
        return _remembered_long(text)
    return _shared(text)


def _plain(text: str) -> str:
    return " ".join(unescape(nh3.clean(markdown_html(text=text), tags=set())).split())


_remembered_plain = lru_cache(maxsize=CACHED_TEXTS)(_plain)


def markdown_plain(*, text: str) -> str:
    """The text as it reads without its markup, on one line: for places that hold text
    only (an option of a select, a title). Remembered as markdown_html is, for texts up
    to CACHED_CHARS."""
    return _remembered_plain(text) if len(text) <= CACHED_CHARS else _plain(text)
