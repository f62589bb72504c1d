"""String literals for each language the samples are written in.

Every string literal is escaped for its language: bodies may hold quotes, backslashes,
`$`, backticks, `%`, `&`, `|`, non-ASCII and line breaks. Code never holds a carriage
return or another invisible character as such (only the raw HTTP text, which is for
reading), because an HTML page drops carriage returns and a copied sample would then
send other bytes. Per language:

- POSIX sh (curl): single quotes, ' as '\\''.
- Python: repr-style literals (the quote needing fewer escapes).
- JavaScript: JSON strings (what JSON.stringify writes, invisible characters escaped).
- C#: regular literals with \\uXXXX (never the variable-length \\x); Java: ASCII, \\uXXXX
  beyond it and octal for control characters; Go: strconv.Quote's escapes.
- PHP and Ruby: single quotes with \\\\ and \\' escaped; double quotes with $ (PHP) or
  # (Ruby) escaped when the text has control characters.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping


def _escape(text: str, table: Mapping[str, str], other: Callable[[str], str]) -> str:
    """Characters in `table` as given, other printable ones as they are, the rest by `other`."""
    return "".join(table[c] if c in table else c if c.isprintable() else other(c) for c in text)


def _u4(char: str) -> str:
    return "".join(
        f"\\u{int.from_bytes(char.encode('utf-16-be')[i : i + 2], 'big'):04x}"
        for i in range(0, len(char.encode("utf-16-be")), 2)
    )


def _x_u_U(char: str) -> str:
    code = ord(char)
    if code < 0x80:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _u_braces(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x80 else f"\\u{{{code:04x}}}"


_C_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def py_literal(text: str) -> str:
    """A Python string literal: double quotes, or single ones when that needs fewer escapes."""
    quote_char = "'" if '"' in text and "'" not in text else '"'
    table = {"\\": "\\\\", quote_char: "\\" + quote_char, "\n": "\\n", "\r": "\\r", "\t": "\\t"}
    return quote_char + _escape(text, table, _x_u_U) + quote_char


def js_literal(text: str) -> str:
    """A JavaScript string literal that is also a JSON string (as JSON.stringify writes,
    with invisible characters such as U+2028 escaped too)."""
    table = {**_C_ESCAPES, "\b": "\\b", "\f": "\\f"}
    return '"' + _escape(text, table, _u4) + '"'


def cs_literal(text: str) -> str:
    """A C# regular string literal (never \\x, whose length is variable)."""
    table = {**_C_ESCAPES, "\0": "\\0"}

    def other(char: str) -> str:
        code = ord(char)
        return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"

    return '"' + _escape(text, table, other) + '"'


def java_literal(text: str) -> str:
    """A Java string literal in ASCII: \\uXXXX beyond ASCII (UTF-16 units), octal escapes
    for control characters (a \\u escape for a line break or a quote would be read
    before the literal is, and break it)."""
    table = {**_C_ESCAPES, "\b": "\\b", "\f": "\\f"}
    out = []
    for char in text:
        if char in table:
            out.append(table[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\{ord(char):03o}")
        elif ord(char) < 0x7F:
            out.append(char)
        else:
            out.append(_u4(char))
    return '"' + "".join(out) + '"'


def go_literal(text: str) -> str:
    """A Go interpreted string literal, as strconv.Quote writes it."""
    table = {**_C_ESCAPES, "\a": "\\a", "\b": "\\b", "\f": "\\f", "\v": "\\v"}
    return '"' + _escape(text, table, _x_u_U) + '"'


def is_plain(text: str) -> bool:
    """Text that single quotes can hold as it is shown: printable, line feeds and tabs."""
    return all(c.isprintable() or c in "\n\t" for c in text)


def sh_literal(text: str) -> str:
    """A POSIX shell word: single quotes, with ' written as '\\''."""
    return "'" + text.replace("'", "'\\''") + "'"


def php_literal(text: str, *, double: bool = False) -> str:
    """PHP: single quotes with \\\\ and \\' escaped; double quotes when asked or when the
    text has control characters (then \\ " $ are escaped as well)."""
    if is_plain(text) and not double:
        return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
    table = {**_C_ESCAPES, "$": "\\$", "\v": "\\v", "\f": "\\f", "\x1b": "\\e"}
    return '"' + _escape(text, table, _u_braces) + '"'


def ruby_literal(text: str, *, double: bool = False) -> str:
    """Ruby: single quotes with \\\\ and \\' escaped; double quotes when asked or when the
    text has control characters (then \\ " # are escaped as well: no interpolation)."""
    if is_plain(text) and not double:
        return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
    table = {**_C_ESCAPES, "#": "\\#", "\a": "\\a", "\b": "\\b", "\v": "\\v", "\f": "\\f"}
    table["\x1b"] = "\\e"
    return '"' + _escape(text, table, _u_braces) + '"'
