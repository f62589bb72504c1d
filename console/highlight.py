"""A fast HTML highlighter for pretty-printed JSON, with Pygments' class names.

Pygments' JsonLexer takes some 0.75 s for 2 MiB of JSON pretty-printed, this about 0.1 s
(bench/large_responses.py): one regular-expression pass over text that
`json.dumps(value, indent=2, ensure_ascii=False)` wrote, so the grammar is small and
fixed: strings (keys are the strings followed by a colon), numbers, `true`/`false`/`null`,
the `NaN` and `Infinity` Python's json reads and writes, punctuation and white space.
The classes are the JSON lexer's, so static/css/highlight.css applies unchanged: `nt`
keys, `s2` strings, `mi`/`mf` integers and floats, `kc` constants, `err` for NaN and
Infinity (not JSON, as Pygments marks them). Punctuation and white space are left bare:
the stylesheet gives `.p` and `.w` the colour of the block itself, and their spans would
make the markup some 70% longer and the highlighting half as slow again.

Escaping (docs/design.md, "Rendering: backend content never runs"): `&`, `<` and `>` are
replaced in the whole text before it is tokenised, so every token, and any text between
tokens, is escaped before it is wrapped; the result is marked safe only after that.
Quotes need no escaping in element content and stay as they are, as Pygments leaves
them. Characters outside ASCII are written as character references, so that the markup
is ASCII: Python then keeps it at one byte a character (one emoji would make it four),
and its length is its size.

The text of the markup is the input plus a final newline, as Pygments writes it.
`json.dumps` escapes line breaks inside strings, so every newline in its output lies
between tokens: the text is highlighted in chunks cut after a newline, and `max_chars`
stops the work as soon as the markup grows past it. Text that json.dumps did not write
comes out escaped and whole, but without the promise of linear time (an unclosed quote
is scanned to the end of its chunk).

With `blocks`, every BLOCK_LINES lines are one `<span class="code-part">` (a block with
`content-visibility: auto`, static/css/portal.css): Chromium lays out and paints only the
blocks near the view, so a long body costs the parsing of its markup, not the layout of
every line (docs/design.md, "Rendering"). `escape_blocks` does the same for plain text.
"""

from __future__ import annotations

import re

from django.utils.safestring import SafeString, mark_safe

# White space and punctuation before a token are taken with it (possessively: never given
# back), and any other character matches alone, so the scanner matches at every position
# and never backtracks over a run of punctuation: `[{}, {}, ...]` stays linear. On the
# escaped text a string cannot hold a bare quote (json.dumps writes \"), and an escaped
# & < > is only more characters inside a string.
_TOKEN = re.compile(
    r"([\s\[\]{},]*+)"
    r'(?:("[^"\\]*(?:\\.[^"\\]*)*")(:)?'  # 2: a string, 3: the colon that makes it a key
    r"|(-?\d+(?:\.\d+(?:[eE][-+]?\d+)?|[eE][-+]?\d+))"  # 4: a float
    r"|(-?\d+)"  # 5: an integer
    r"|(true|false|null)"  # 6: a constant
    r"|(NaN|-?Infinity)"  # 7: not JSON (RFC 8259), though Python writes and reads it
    r"|([^\s\[\]{},])"  # 8: anything else (not json.dumps output), one character
    r"|\Z)"  # the punctuation at the end
)
_KEY = 3
# By the number of the token's group (Match.lastindex); 1: only punctuation, at the end.
_OPEN: tuple[str, ...] = ("", "", '<span class="s2">', "", '<span class="mf">')
_OPEN += ('<span class="mi">', '<span class="kc">', '<span class="err">')
# Characters highlighted at a time: enough that per-chunk work does not count, small
# enough that stopping at `max_chars` wastes little.
_CHUNK_CHARS = 256 * 1024
# Lines in a block (see `blocks`): the stylesheet's placeholder height for a block not yet
# laid out is as many lines.
BLOCK_LINES = 400
_BLOCK_OPEN = '<span class="code-part">'


class TooLarge(Exception):
    """The markup would be longer than the limit given to highlight_json."""


def escape_text(text: str) -> str:
    """Element content in ASCII: `&`, `<` and `>` escaped, other characters outside
    ASCII written as character references."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if text.isascii():  # O(1): CPython keeps the flag
        return text
    return text.encode("ascii", "xmlcharrefreplace").decode("ascii")


def highlight_json(
    pretty: str, *, max_chars: int | None = None, blocks: bool = False
) -> SafeString:
    """Markup for `pretty`, text written by json.dumps(..., indent=2); with `blocks`, in
    blocks of BLOCK_LINES lines.

    Raises TooLarge as soon as the markup passes `max_chars` characters.
    """
    if not pretty:
        return mark_safe("\n")  # no text from outside
    parts: list[str] = []
    append = parts.append
    size = 0
    start = 0
    while start < len(pretty):
        end = _block_end(pretty, start) if blocks else _chunk_end(pretty, start)
        # The final newline Pygments writes, inside the last block.
        escaped = escape_text(pretty[start:end] + ("\n" if end == len(pretty) else ""))
        pieces: list[str] = [_BLOCK_OPEN] if blocks else []
        add = pieces.append
        for match in _TOKEN.finditer(escaped):
            group = match.lastindex
            if group == _KEY:
                add(f'{match[1]}<span class="nt">{match[2]}</span>:')
            elif group is None or group == 1 or group == 8:
                add(match[0])  # escaped text, no token
            else:
                add(f"{match[1]}{_OPEN[group]}{match[group]}</span>")
        if blocks:
            add("</span>")
        # One string a chunk: a small string costs some 50 bytes more than its text.
        part = "".join(pieces)
        size += len(part)
        if max_chars is not None and size > max_chars:
            raise TooLarge(f"the markup passes {max_chars:,} characters")
        append(part)
        start = end
    # Every character of the input went through escape_text; tokens only gained spans.
    return mark_safe("".join(parts))  # noqa: S308


def escape_blocks(text: str) -> SafeString:
    """Plain text as element content (escape_text), in blocks of BLOCK_LINES lines."""
    parts: list[str] = []
    start = 0
    while start < len(text):
        end = _block_end(text, start)
        parts.append(f"{_BLOCK_OPEN}{escape_text(text[start:end])}</span>")
        start = end
    # Escaped whole; the blocks' tags are the only markup.
    return mark_safe("".join(parts))  # noqa: S308


def _chunk_end(text: str, start: int) -> int:
    """After the first newline _CHUNK_CHARS past `start`, or the end."""
    end = text.find("\n", start + _CHUNK_CHARS)
    return len(text) if end < 0 else end + 1


def _block_end(text: str, start: int) -> int:
    """After the BLOCK_LINES-th newline from `start`, or the end: a block ends between
    tokens, however long its lines."""
    end = start
    for _ in range(BLOCK_LINES):
        end = text.find("\n", end) + 1
        if end == 0:
            return len(text)
    return end
