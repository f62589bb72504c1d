"""Show a backend's response body safely: JSON highlighted, text escaped, binary summarised.

Backend data is escaped here or by the template engine, never marked safe as it
came (DESIGN.md, invariant 8). Pygments escapes every token it writes.
"""

from __future__ import annotations

import codecs
import json
from dataclasses import dataclass, replace
from email.message import Message

from django.conf import settings
from django.utils.safestring import SafeString, mark_safe
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import JsonLexer

from operations.models import Exchange

TEXT_TYPES = ("text/",)
TEXT_SUBTYPES = (
    "json",
    "xml",
    "javascript",
    "ecmascript",
    "yaml",
    "x-www-form-urlencoded",
    "csv",
    "graphql",
    "problem+json",
)
_FORMATTER = HtmlFormatter(nowrap=True)
# A page shows at most this many characters of a body; the whole body (up to the
# response cap) is stored and offered as a download. Python keeps a string at 1, 2 or 4
# bytes a character and the template engine copies the escaped text at each nesting
# level: 5 MB of ASCII with one emoji in it cost 70 MB to render whole. Highlighted JSON
# grows about tenfold in markup, so it is held to the same limit.
DISPLAY_MAX_CHARS = 500_000
# No character set takes more than 4 bytes a character: decoding more is never shown.
_DISPLAY_MAX_BYTES = 4 * DISPLAY_MAX_CHARS


@dataclass(frozen=True)
class RenderedBody:
    kind: str  # "empty", "json", "text" or "binary"
    text: str = ""
    highlighted: SafeString | None = None
    note: str = ""
    # True when `text` is only the beginning of the body (see DISPLAY_MAX_CHARS).
    cut: bool = False


def parse_content_type(content_type: str) -> tuple[str, str | None]:
    """The media type (lower case) and the charset parameter, if any."""
    message = Message()
    message["Content-Type"] = content_type or "application/octet-stream"
    return message.get_content_type(), message.get_content_charset()


def is_textual(media_type: str) -> bool:
    return media_type.startswith(TEXT_TYPES) or any(
        media_type.endswith(subtype) or f"+{subtype}" in media_type for subtype in TEXT_SUBTYPES
    )


# Codecs Python knows that are not character sets. Decoding a body with them would
# interpret escapes (unicode_escape), run a quadratic decoder (punycode: seconds for a
# few hundred KB, minutes for the response cap) or fail with a bare UnicodeError (idna,
# undefined). A backend chooses the label, so these are refused like unknown ones.
_NOT_CHARSETS = frozenset({"idna", "punycode", "undefined", "unicode-escape", "raw-unicode-escape"})
REPLACED_NOTE = "Some bytes were not valid in the declared character set and are shown as \ufffd."


def text_codec(charset: str | None) -> str | None:
    """Python's codec for a declared charset (UTF-8 when none is declared); None when
    the label is unknown or names something that is not a character set."""
    if not charset:
        return "utf-8"
    try:
        info = codecs.lookup(charset)
    except LookupError:
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_CHARSETS:
        return None
    return info.name


def decode_text(body: bytes, *, charset: str | None, truncated: bool = False) -> tuple[str, str]:
    """Decode with the declared charset; returns the text and a note for the reader
    ("" when the bytes decoded cleanly).

    A body cut at the cap may end inside a multi-byte character: that incomplete tail is
    dropped rather than reported as invalid bytes.
    """
    codec = text_codec(charset)
    if codec is None:
        text, _ = decode_text(body, charset="utf-8", truncated=truncated)
        label = (charset or "")[:40]
        return text, f"The declared character set {label!r} is not supported; shown as UTF-8."
    try:
        return codecs.getincrementaldecoder(codec)().decode(body, final=not truncated), ""
    except UnicodeError:
        decoder = codecs.getincrementaldecoder(codec)(errors="replace")
        return decoder.decode(body, final=not truncated), REPLACED_NOTE


def highlight_json(text: str) -> SafeString:
    return mark_safe(highlight(text, JsonLexer(), _FORMATTER))  # noqa: S308 - Pygments escapes


def render_body(*, body: bytes, content_type: str, truncated: bool = False) -> RenderedBody:
    if not body:
        return RenderedBody(kind="empty")
    media_type, charset = parse_content_type(content_type)
    # Only the beginning can be shown, so only the beginning is decoded.
    head = body[:_DISPLAY_MAX_BYTES]
    partial = truncated or len(head) < len(body)
    has_nul = b"\x00" in head[:8192]
    # Without a declared type, valid UTF-8 without NUL bytes is taken for text.
    textual = is_textual(media_type) if content_type.strip() else _is_utf8(head, partial)
    if has_nul or not textual:
        return RenderedBody(kind="binary")
    text, note = decode_text(head, charset=charset, truncated=partial)
    if "json" in media_type and not partial:
        rendered = _render_json(text, note=note)
    else:
        rendered = RenderedBody(kind="text", text=text, note=note)
    if rendered.kind == "text" and (len(head) < len(body) or len(text) > DISPLAY_MAX_CHARS):
        return replace(rendered, text=rendered.text[:DISPLAY_MAX_CHARS], cut=True)
    return rendered


def _render_json(text: str, *, note: str) -> RenderedBody:
    try:
        parsed = json.loads(text)
        pretty = json.dumps(parsed, indent=2, ensure_ascii=False)
    except RecursionError:
        # "[" * 1500 + "]" * 1500 is 3 KB of valid JSON that json cannot parse.
        note = "The JSON is nested too deeply to format; it is shown as received."
        return RenderedBody(kind="text", text=text, note=note)
    except ValueError:
        return RenderedBody(kind="text", text=text, note=note or "The body is not valid JSON.")
    if len(pretty) > min(settings.PORTAL_HIGHLIGHT_MAX_CHARS, DISPLAY_MAX_CHARS):
        return RenderedBody(
            kind="text",
            text=pretty,
            note="The JSON is too large to highlight; it is shown as plain text.",
        )
    return RenderedBody(kind="json", text=pretty, highlighted=highlight_json(pretty), note=note)


def render_exchange_body(exchange: Exchange) -> RenderedBody:
    return render_body(
        body=bytes(exchange.response_body),
        content_type=exchange.response_content_type,
        truncated=exchange.truncated,
    )


def _is_utf8(head: bytes, partial: bool) -> bool:
    # A head cut anywhere may end inside a character: that tail is not held against it.
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=not partial)
    except UnicodeDecodeError:
        return False
    return True
