"""Show a backend's response body safely: JSON highlighted, text escaped, binary summarised.

Backend data is escaped here or by the template engine, never marked safe as it
came (DESIGN.md, invariant 8). Pygments escapes every token it writes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
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


@dataclass(frozen=True)
class RenderedBody:
    kind: str  # "empty", "json", "text" or "binary"
    text: str = ""
    highlighted: SafeString | None = None
    note: str = ""


def parse_content_type(content_type: str) -> tuple[str, str | None]:
    """The media type (lower case) and the charset parameter, if any."""
    message = Message()
    message["Content-Type"] = content_type or "application/octet-stream"
    return message.get_content_type(), message.get_content_charset()


def is_textual(media_type: str) -> bool:
    return media_type.startswith(TEXT_TYPES) or any(
        media_type.endswith(subtype) or f"+{subtype}" in media_type for subtype in TEXT_SUBTYPES
    )


def decode_text(body: bytes, *, charset: str | None) -> tuple[str, bool]:
    """Decode with the declared charset; the flag says whether bytes had to be replaced."""
    encoding = charset or "utf-8"
    try:
        return body.decode(encoding), False
    except LookupError:
        return body.decode("utf-8", errors="replace"), True
    except UnicodeDecodeError:
        return body.decode(encoding, errors="replace"), True


def highlight_json(text: str) -> SafeString:
    return mark_safe(highlight(text, JsonLexer(), _FORMATTER))  # noqa: S308 - Pygments escapes


def render_body(*, body: bytes, content_type: str, truncated: bool = False) -> RenderedBody:
    if not body:
        return RenderedBody(kind="empty")
    media_type, charset = parse_content_type(content_type)
    has_nul = b"\x00" in body[:8192]
    # Without a declared type, valid UTF-8 without NUL bytes is taken for text.
    textual = is_textual(media_type) if content_type.strip() else _is_utf8(body)
    if has_nul or not textual:
        return RenderedBody(kind="binary")
    text, replaced = decode_text(body, charset=charset)
    note = (
        "Some bytes were not valid in the declared character set and are shown as \ufffd."
        if replaced
        else ""
    )
    if "json" in media_type and not truncated:
        try:
            parsed = json.loads(text)
        except ValueError:
            return RenderedBody(kind="text", text=text, note=note or "The body is not valid JSON.")
        pretty = json.dumps(parsed, indent=2, ensure_ascii=False)
        if len(pretty) > settings.PORTAL_HIGHLIGHT_MAX_CHARS:
            return RenderedBody(
                kind="text",
                text=pretty,
                note="The JSON is too large to highlight; it is shown as plain text.",
            )
        return RenderedBody(kind="json", text=pretty, highlighted=highlight_json(pretty), note=note)
    return RenderedBody(kind="text", text=text, note=note)


def render_exchange_body(exchange: Exchange) -> RenderedBody:
    return render_body(
        body=bytes(exchange.response_body),
        content_type=exchange.response_content_type,
        truncated=exchange.truncated,
    )


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
