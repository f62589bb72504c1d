from functools import lru_cache

from django import template
from django.template.defaultfilters import striptags, truncatewords
from django.utils.safestring import SafeString, mark_safe

from portal.markdown_text import markdown_html, markdown_plain

register = template.Library()

# A catalog card shows the first 30 words of its API's description as plain text.
SUMMARY_WORDS = 30
# Summaries are remembered for sources up to this length, as the catalog reads them
# (selectors.SUMMARY_SOURCE_CHARS); longer text is rendered each time, never kept. At
# most SUMMARY_CACHED_TEXTS are kept: a few megabytes a process at worst.
SUMMARY_CACHED_CHARS = 500
SUMMARY_CACHED_TEXTS = 4096


@register.filter
def markdown(text: str) -> SafeString:
    """Markdown of an admin or an imported document, sanitised (portal/markdown_text.py):
    admins are trusted, their pasted HTML is not, nor anything a document says."""
    return mark_safe(markdown_html(text=str(text or "")))  # noqa: S308 - sanitised by nh3


@register.filter
def markdown_as_text(text: str) -> str:
    """The Markdown's words without its markup, for places that hold text only."""
    return markdown_plain(text=str(text or ""))


@register.filter
def summary(text: str) -> SafeString:
    """The start of a Markdown text as plain words: `text|markdown|striptags|truncatewords:30`.

    Rendering Markdown was half of a catalog page's time (3.6 of 7.4 ms with 21 APIs),
    and a card's summary depends on its text alone, so each process remembers the
    summaries of the texts it rendered last: an edited description is a new text,
    rendered at once; nothing can be stale.
    """
    text = str(text or "")
    if len(text) > SUMMARY_CACHED_CHARS:
        return _summary(text)
    return _remembered_summary(text)


def _summary(text: str) -> SafeString:
    # The stub says str: truncatewords, a stringfilter marked is_safe, keeps its safe
    # input's SafeString.
    return truncatewords(striptags(markdown(text)), SUMMARY_WORDS)  # type: ignore[return-value]


_remembered_summary = lru_cache(maxsize=SUMMARY_CACHED_TEXTS)(_summary)

# A process's first conversion compiles the parser's and the sanitiser's patterns. It is
# done here, when Django loads the tag libraries (gunicorn.conf.py has every worker do
# that before its first request), rather than by the first visitor of a page with
# Markdown.
markdown("*Markdown*")
