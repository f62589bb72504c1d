"""Show a backend's response body safely: JSON highlighted, text escaped, binary summarised.

Backend data is escaped here or by the template engine, never marked safe as it
came (docs/design.md, "Rendering: backend content never runs").
console/highlight.py escapes all the text it wraps.
"""

from __future__ import annotations

import codecs
import json
from dataclasses import dataclass, replace
from email.message import Message
from itertools import islice

from django.conf import settings
from django.utils.safestring import SafeString

from console import highlight
from console.models import Exchange

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
# A page shows at most this many characters of a body as text; the whole body (up to
# the response cap) is stored and offered as a download. Python keeps a string at 1, 2
# or 4 bytes a character and the template engine copies the escaped text at each
# nesting level: 5 MB of ASCII with one emoji in it cost 70 MB to render whole.
DISPLAY_MAX_CHARS = 500_000
# No character set takes more than 4 bytes a character: decoding more is never shown.
_DISPLAY_MAX_BYTES = 4 * DISPLAY_MAX_CHARS
# JSON up to settings.PORTAL_HIGHLIGHT_MAX_CHARS characters (as received) is shown whole
# and highlighted, unless its markup would pass this many characters. The markup is ASCII
# (highlight.py writes other characters as references), one byte a character, and the
# page holds it a few times over while it is rendered: 2 MiB of typical JSON makes some
# 7 MB of markup in about 0.3 s (bench/large_responses.py); dense JSON (short numbers,
# deep nesting) makes more, and past the limit is plain text, cut as text is.
HIGHLIGHT_MAX_MARKUP_CHARS = 12_000_000
# Pretty text longer than this is not highlighted (its markup would come near the limit)
# and only its beginning is kept.
PRETTY_MAX_CHARS = HIGHLIGHT_MAX_MARKUP_CHARS // 2
# Python holds each parsed object and array in some 60 to 250 bytes: 2 MB of "[[[...]]]"
# would take 70 MB. JSON with more of them (counting the brackets, also any in strings)
# is shown as received; typical JSON has one in 80 bytes (26,000 in 2 MiB).
MAX_CONTAINERS = 150_000
TOO_MANY_CONTAINERS = (
    "The JSON holds too many objects and arrays to format; it is shown as received."
)
_ENCODER = json.JSONEncoder(indent=2, ensure_ascii=False)
TOO_LARGE_TO_HIGHLIGHT = "The JSON is too large to highlight; it is shown as plain text."


# Parts of formatted JSON a page may ask for ("Show more"): its markup stays under
# HIGHLIGHT_MAX_MARKUP_CHARS, as the whole did before it was shown in parts.
MAX_PARTS = 30
# `parts` for the whole formatted JSON as plain text ("Show all").
ALL_PARTS = None


@dataclass(frozen=True)
class RenderedBody:
    kind: str  # "empty", "json", "text" or "binary"
    text: str = ""
    highlighted: SafeString | None = None
    note: str = ""
    # True when `text` is only the beginning of the body (see DISPLAY_MAX_CHARS).
    cut: bool = False
    # JSON shown in parts: how many parts of settings.PORTAL_RESPONSE_PART_CHARS
    # characters of the formatted text are shown (0: not in parts), and whether more follow.
    parts: int = 0
    more: bool = False
    # The whole formatted JSON as plain text, as the reader asked ("Show all").
    whole: bool = False

    @property
    def text_blocks(self) -> SafeString:
        """`text` escaped, in blocks that Chromium lays out only near the view."""
        return highlight.escape_blocks(self.text)

    @property
    def next_parts(self) -> int:
        return min(self.parts + 1, MAX_PARTS)

    @property
    def expandable(self) -> bool:
        """More of it can be shown part by part."""
        return self.more and self.parts < MAX_PARTS


def shown_parts(value: str | None) -> int | None:
    """The `parts` a page asked for (its ?parts=): a number of parts (1 when missing or
    not understood, at most MAX_PARTS) or "all" (ALL_PARTS)."""
    if value == "all":
        return ALL_PARTS
    if value and value.isdigit():
        return max(1, min(int(value), MAX_PARTS))
    return 1


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


def render_body(
    *, body: bytes, content_type: str, truncated: bool = False, parts: int | None = 1
) -> RenderedBody:
    """The body as a page shows it. JSON is formatted and highlighted `parts` parts at a
    time (settings.PORTAL_RESPONSE_PART_CHARS characters each, cut after a line), or, with
    ALL_PARTS, formatted whole as plain text."""
    if not body:
        return RenderedBody(kind="empty")
    media_type, charset = parse_content_type(content_type)
    # Only what can be shown is decoded: the beginning of a text, JSON that may be
    # highlighted whole.
    json_whole = "json" in media_type and not truncated and len(body) <= _json_max_bytes()
    head = body if json_whole else body[:_DISPLAY_MAX_BYTES]
    partial = truncated or len(head) < len(body)
    has_nul = b"\x00" in head[:8192]
    # Without a declared type, valid UTF-8 without NUL bytes is taken for text.
    textual = is_textual(media_type) if content_type.strip() else _is_utf8(head, partial)
    if has_nul or not textual:
        return RenderedBody(kind="binary")
    text, note = decode_text(head, charset=charset, truncated=partial)
    if "json" in media_type and not partial:
        rendered = _render_json(text, note=note, parts=parts)
    elif "json" in media_type and not truncated:  # too large to parse
        note = " ".join(filter(None, [note, TOO_LARGE_TO_HIGHLIGHT]))
        rendered = RenderedBody(kind="text", text=text, note=note)
    else:
        rendered = RenderedBody(kind="text", text=text, note=note)
    if rendered.kind == "text" and (
        len(head) < len(body) or (len(rendered.text) > DISPLAY_MAX_CHARS and not rendered.whole)
    ):
        return replace(rendered, text=rendered.text[:DISPLAY_MAX_CHARS], cut=True)
    return rendered


def _json_max_bytes() -> int:
    """Largest JSON body decoded and parsed whole: one that may be highlighted (counted
    in bytes, never fewer than its characters) or whose pretty form fills the display."""
    return max(_DISPLAY_MAX_BYTES, settings.PORTAL_HIGHLIGHT_MAX_CHARS)


def _render_json(text: str, *, note: str, parts: int | None) -> RenderedBody:
    highlightable = len(text) <= settings.PORTAL_HIGHLIGHT_MAX_CHARS
    if text.count("{") + text.count("[") > MAX_CONTAINERS:
        return RenderedBody(kind="text", text=text, note=TOO_MANY_CONTAINERS)
    if not highlightable:
        limit = DISPLAY_MAX_CHARS
    elif parts is ALL_PARTS:
        limit = PRETTY_MAX_CHARS
    else:
        limit = parts * settings.PORTAL_RESPONSE_PART_CHARS
    try:
        parsed = json.loads(text)
        # A few KB nested deep pretty-print to megabytes (the indent grows with the
        # depth), and 2 MiB take some 0.3 s to write whole with an indent (the pure
        # Python encoder): the writing stops at what is shown.
        pretty, whole = _pretty(parsed, limit=limit)
    except RecursionError:
        # "[" * 1500 + "]" * 1500 is 3 KB of valid JSON that json cannot parse.
        note = "The JSON is nested too deeply to format; it is shown as received."
        return RenderedBody(kind="text", text=text, note=note)
    except ValueError:
        return RenderedBody(kind="text", text=text, note=note or "The body is not valid JSON.")
    del parsed
    if not highlightable or (parts is ALL_PARTS and not whole):
        return RenderedBody(kind="text", text=pretty, note=TOO_LARGE_TO_HIGHLIGHT, cut=not whole)
    if parts is ALL_PARTS:
        return RenderedBody(kind="text", text=pretty, note=note, whole=True)
    shown = pretty if whole else _cut_at_line(pretty, limit=limit)
    try:
        highlighted = highlight.highlight_json(
            shown, max_chars=HIGHLIGHT_MAX_MARKUP_CHARS, blocks=True
        )
    except highlight.TooLarge:
        return RenderedBody(kind="text", text=shown, note=TOO_LARGE_TO_HIGHLIGHT, cut=not whole)
    return RenderedBody(
        kind="json", text=shown, highlighted=highlighted, note=note, parts=parts, more=not whole
    )


def _cut_at_line(pretty: str, *, limit: int) -> str:
    """The first `limit` characters of `pretty`, ended at its last line break (left out:
    the highlighted text ends with one) when one is in their second half: a part ends
    between tokens, as json.dumps wrote them. Cut elsewhere (inside a string longer than
    half a part), it is still escaped whole and its markup valid: highlight.py closes
    every span it opens within the token."""
    end = pretty.rfind("\n", limit // 2, limit)
    return pretty[: end if end >= 0 else limit]


def _pretty(parsed: object, *, limit: int) -> tuple[str, bool]:
    """json.dumps(parsed, indent=2) and True, or, when that passes `limit` characters,
    only its first `limit` + 1 and False."""
    chunks = _ENCODER.iterencode(parsed)
    parts: list[str] = []
    size = 0
    while batch := list(islice(chunks, 8192)):
        parts.append("".join(batch))  # one string, not thousands of small ones
        size += len(parts[-1])
        if size > limit:
            return "".join(parts)[: limit + 1], False
    return "".join(parts), True


def render_exchange_body(exchange: Exchange, *, parts: int | None = 1) -> RenderedBody:
    return render_body(
        body=bytes(exchange.response_body),
        content_type=exchange.response_content_type,
        truncated=exchange.truncated,
        parts=parts,
    )


def _is_utf8(head: bytes, partial: bool) -> bool:
    # A head cut anywhere may end inside a character: that tail is not held against it.
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=not partial)
    except UnicodeDecodeError:
        return False
    return True
