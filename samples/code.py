"""Code samples for the request a Try it form would send.

One source of truth: a sample is written from the `OutboundRequest` that
`tryit.build_request` makes from the form's values, the very object `outbound.send`
sends. Its method, URL, the request's own headers (Content-Type included) and body bytes
are what Try it sends. What each client adds by itself is left to it: outbound's
User-Agent, Accept and Accept-Encoding defaults, and the framing (Host, Content-Length).
The raw HTTP sample shows Host and Content-Length as Try it sends them.

Secrets (credential headers, parameters marked secret) are read from environment
variables unless the reader asks to see them (`reveal`): `"$AUTHORIZATION"` in the
shell, `os.environ["AUTHORIZATION"]` in Python and so on, `<AUTHORIZATION>` in raw HTTP.
A secret in the URL is replaced by its variable, which then holds the value as it
appears in the URL (percent-encoded). A stored value (catalog.stored_values: the form
left a secret field empty) is a variable even when revealed: the portal never shows it.

Every string literal is escaped for its language: bodies may hold quotes, backslashes,
`$`, backticks, `%`, `&`, `|`, non-ASCII and line breaks. Code never holds a carriage
return or another invisible character as such (only the raw HTTP text, which is for
reading), because an HTML page drops carriage returns and a copied sample would then
send other bytes. Per language:

- curl (POSIX sh): single quotes, ' as '\\''; the body with --data-raw (-d reads
  "@file"), or through `printf '...' | curl --data-binary @-` when it holds carriage
  returns or control characters; `Name;` for an empty header, `Content-Type:` to stop
  curl adding a form type, --globoff for brackets in the URL.
- Python: repr-style literals (the quote needing fewer escapes), the body sent as UTF-8.
- JavaScript: JSON strings (what JSON.stringify writes, invisible characters escaped).
- C#: regular literals with \\uXXXX (never the variable-length \\x); Java: ASCII, \\uXXXX
  beyond it and octal for control characters; Go: strconv.Quote's escapes.
- PHP and Ruby: single quotes with \\\\ and \\' escaped; double quotes with $ (PHP) or
  # (Ruby) escaped when the text has control characters.

An API on the gateway is called as a developer calls it: through the portal's gateway,
`<portal>/gateway/<URL suffix><path and query>` (gateway/public_urls.py). When it needs a
subscription key, the key goes in the API's key header, read from an environment variable
(written out only when revealed); the header is sent even when the form's key row is empty
or missing: the gateway needs it. Other APIs' samples call the service URL, as Try it does.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import partial
from html import unescape
from urllib.parse import quote, urlsplit

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name

from catalog.models import Api, Operation
from catalog.stored_values import HEADERS, QUERY, TEMPLATE
from console.forms import TryItValues
from console.tryit import build_request
from gateway import public_urls, tryit_access
from httpcore.masking import auth_scheme, is_secret

# Samples are shown for bodies up to this size. Nine copies of a large body on every
# change of the form would be heavy, and javac refuses a string constant longer than
# 65,535 bytes.
MAX_BODY_BYTES = 60_000
# Samples longer than this are shown without colours (Pygments is slow on large text).
HIGHLIGHT_MAX_CHARS = 20_000
METHODS_EXPECTING_LENGTH = frozenset({"POST", "PUT", "PATCH"})
CONTENT_HEADERS_CSHARP = frozenset(
    {
        "allow",
        "content-disposition",
        "content-encoding",
        "content-language",
        "content-location",
        "content-md5",
        "content-range",
        "content-type",
        "expires",
        "last-modified",
    }
)


class SampleError(ValueError):
    """The request cannot be shown as code samples; the message says why."""


@dataclass(frozen=True)
class Secret:
    """A secret value, written in samples as a reference to an environment variable."""

    env: str
    value: str
    what: str  # e.g. 'Authorization header, after "Bearer "'
    stored: bool = False  # the operation's stored value, never written out


Part = str | Secret
Text = tuple[Part, ...]


@dataclass(frozen=True)
class SampleRequest:
    """The outbound request with its secrets marked, ready to be written as code."""

    method: str
    url: Text
    headers: tuple[tuple[str, Text], ...]
    body: str | None
    secrets: tuple[Secret, ...]

    @property
    def origin(self) -> str:
        first = self.url[0]
        assert isinstance(first, str)  # the service URL's scheme and host are never secret
        parts = urlsplit(first)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def host(self) -> str:
        return urlsplit(self.origin).netloc

    @property
    def target(self) -> Text:
        """The request-target: the URL without scheme and host (its path starts with
        the service URL's, so the first part always holds the "/")."""
        first = self.url[0]
        assert isinstance(first, str)
        return (first[len(self.origin) :], *self.url[1:])

    def header(self, name: str) -> Text | None:
        return next((v for n, v in self.headers if n.lower() == name.lower()), None)


@dataclass(frozen=True)
class Language:
    key: str
    label: str
    note: str
    lexer: str
    write: Callable[[SampleRequest], str]


@dataclass(frozen=True)
class Sample:
    key: str
    label: str
    note: str
    code: str
    highlighted: SafeString


@dataclass(frozen=True)
class GatewayTarget:
    """Where samples call an API on the gateway, and the header of its key."""

    url: str  # <portal>/gateway/<URL suffix>, without a trailing "/"
    key_header: str  # "" when the API needs no key


@dataclass(frozen=True)
class SampleSet:
    samples: list[Sample]
    secrets: tuple[Secret, ...]  # the environment variables the samples read
    gateway: GatewayTarget | None = None  # None: the samples call the backend itself

    @property
    def revealable(self) -> bool:
        """Whether "Show secrets" would write some of the variables' values."""
        return any(not secret.stored for secret in self.secrets)

    @property
    def stored(self) -> bool:
        return any(secret.stored for secret in self.secrets)


# --- From the form's values to a SampleRequest ---------------------------------------


class _Variables:
    """Environment variable names for secrets: from the header or parameter name, unique."""

    def __init__(self) -> None:
        self.secrets: list[Secret] = []

    def secret(self, name: str, value: str, what: str, *, stored: bool = False) -> Secret:
        base = re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").upper() or "SECRET"
        if base[0].isdigit():
            base = f"SECRET_{base}"
        taken = {s.env for s in self.secrets}
        env, number = base, 1
        while env in taken:
            number += 1
            env = f"{base}_{number}"
        if stored:
            what = f"{what}; the stored value, which the portal does not show"
        secret = Secret(env=env, value=value, what=what, stored=stored)
        self.secrets.append(secret)
        return secret


def _plain_name(name: str) -> str:
    """A name safe to write in a comment of any of the languages."""
    return re.sub(r"[^A-Za-z0-9_.\-]", "_", name)


def plain_text(text: Text) -> str:
    return "".join(part.value if isinstance(part, Secret) else part for part in text)


def _url_text(
    *,
    operation: Operation,
    values: TryItValues,
    url: str,
    names: frozenset,
    env: _Variables,
    reveal: bool,
) -> Text:
    """The URL with secret parameter values marked: all of them, or when `reveal` only
    stored values (TryItValues.stored).

    The request is bound a second time with each secret value replaced by a token that
    encodes to itself; the tokens show where the values went. The result must give back
    the real URL exactly, or no sample is shown (a secret is never written by mistake).
    """
    tokens: dict[str, tuple[str, str, bool]] = {}

    def hide(section: str, name: str, value: str) -> str:
        stored = name in values.stored.get(section, [])
        if not value or not (stored or (not reveal and is_secret(name, value, secret_names=names))):
            return value
        token = f"secret{uuid.uuid4().hex}"
        tokens[token] = (name, value, stored)
        return token

    hidden = replace(
        values,
        template_values={k: hide(TEMPLATE, k, v) for k, v in values.template_values.items()},
        query_values=[(k, hide(QUERY, k, v)) for k, v in values.query_values],
    )
    if not tokens:
        return (url,)
    masked = build_request(operation=operation, values=hidden).url
    parts: list[Part] = []
    position = 0
    for match in re.finditer("|".join(tokens), masked):
        if match.start() > position:
            parts.append(masked[position : match.start()])
        name, value, stored = tokens[match.group()]
        what = f"the {_plain_name(name)} parameter, percent-encoded"
        parts.append(env.secret(name, quote(value, safe=""), what, stored=stored))
        position = match.end()
    if position < len(masked):
        parts.append(masked[position:])
    text = tuple(parts)
    if plain_text(text) != url or not isinstance(text[0], str):
        raise SampleError("The secret values in this URL cannot be hidden, so no sample is shown.")
    return text


def _header_text(
    name: str, value: str, *, names: frozenset, env: _Variables, stored: bool = False
) -> Text:
    if not value or not (stored or is_secret(name, value, secret_names=names)):
        return (value,)
    # As masking.mask_value does: an auth scheme word such as "Bearer" stays visible.
    scheme = auth_scheme(value)
    if scheme:
        rest = value[value.index(scheme) + len(scheme) :].lstrip(" \t")
        shown = value[: len(value) - len(rest)]
        what = f'the {_plain_name(name)} header, after "{scheme} "'
        return (shown, env.secret(name, rest, what, stored=stored))
    return (env.secret(name, value, f"the {_plain_name(name)} header", stored=stored),)


def gateway_target(*, api: Api, portal_url: str) -> GatewayTarget | None:
    """Where a developer calls an API on the gateway, with the header of its key when it
    needs one; None for an API that is not on the gateway (the backend itself)."""
    url = public_urls.gateway_base(api=api, portal_url=portal_url)
    if url is None:
        return None
    key_header = api.subscription_key_header if tryit_access.key_required(api=api) else ""
    return GatewayTarget(url=url, key_header=key_header)


def _with_key_row(values: TryItValues, *, key_header: str) -> TryItValues:
    """The values with a row for the key header (empty when the form has none)."""
    if any(name.strip().lower() == key_header.lower() for name, _ in values.headers):
        return values
    return replace(values, headers=[*values.headers, (key_header, "")])


def _key_header_text(name: str, value: str, *, reveal: bool, env: _Variables) -> Text:
    # Never an empty header: without a key the gateway answers 401.
    if reveal and value:
        return (value,)
    return (env.secret(name, value, f"your subscription key, in the {_plain_name(name)} header"),)


def _through_gateway(url: Text, *, service_url: str, gateway: str) -> Text:
    """The URL with the backend's scheme, host and base path replaced by the gateway's."""
    base = urlsplit(service_url)
    backend = f"{base.scheme}://{base.netloc}{base.path.rstrip('/')}"
    first = url[0]
    # The service URL holds no placeholder, so it is all in the first, literal part.
    assert isinstance(first, str) and first.startswith(backend)
    return (gateway + first[len(backend) :], *url[1:])


def sample_request(
    *, operation: Operation, values: TryItValues, reveal: bool, portal_url: str
) -> SampleRequest:
    """The request Try it would send for these values, secrets marked unless `reveal`;
    for an API on the gateway, the call through the gateway at `portal_url` (the portal's
    base URL), with the key header when the API needs a key.

    Raises templating.BindError (a value cannot be used) or SampleError.
    """
    gateway = gateway_target(api=operation.api, portal_url=portal_url)
    return _sample_request(operation=operation, values=values, reveal=reveal, gateway=gateway)


def _sample_request(
    *, operation: Operation, values: TryItValues, reveal: bool, gateway: GatewayTarget | None
) -> SampleRequest:
    key_header = gateway.key_header if gateway else ""
    if key_header:
        values = _with_key_row(values, key_header=key_header)
    elif tryit_access.key_required(api=operation.api):
        # Not on the gateway: Try it sends the call to the backend without the key.
        values = replace(
            values,
            headers=tryit_access.without_key_header(api=operation.api, headers=values.headers),
        )
    request = build_request(operation=operation, values=values)
    body = None
    if request.body is not None:
        if len(request.body) > MAX_BODY_BYTES:
            raise SampleError(
                f"The body is {len(request.body):,} bytes; code samples are shown for bodies "
                f"up to {MAX_BODY_BYTES:,} bytes."
            )
        try:
            body = request.body.decode("utf-8")
        except UnicodeDecodeError as error:
            raise SampleError("The body is not UTF-8 text, so no sample is shown.") from error
    env = _Variables()
    names = request.secret_names
    stored_headers = {name.lower() for name in values.stored.get(HEADERS, [])}

    def header_text(name: str, value: str) -> Text:
        if key_header and name.strip().lower() == key_header.lower():
            return _key_header_text(name, value, reveal=reveal, env=env)
        if name.strip().lower() in stored_headers:
            return _header_text(name, value, names=names, env=env, stored=True)
        return (value,) if reveal else _header_text(name, value, names=names, env=env)

    url = _url_text(
        operation=operation, values=values, url=request.url, names=names, env=env, reveal=reveal
    )
    if gateway is not None:
        url = _through_gateway(url, service_url=request.service_url, gateway=gateway.url)
    headers = tuple((name, header_text(name, value)) for name, value in request.headers)
    return SampleRequest(
        method=request.method, url=url, headers=headers, body=body, secrets=tuple(env.secrets)
    )


# --- Escaping ----------------------------------------------------------------------


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


def _is_plain(text: str) -> bool:
    """Text that single quotes can hold as it is shown: printable, line feeds and tabs."""
    return all(c.isprintable() or c in "\n\t" for c in text)


def sh_literal(text: str) -> str:
    """A POSIX shell word: single quotes, with ' written as '\\''."""
    return "'" + text.replace("'", "'\\''") + "'"


def php_literal(text: str, *, double: bool = False) -> str:
    """PHP: single quotes with \\\\ and \\' escaped; double quotes when asked or when the
    text has control characters (then \\ " $ are escaped as well)."""
    if _is_plain(text) and not double:
        return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
    table = {**_C_ESCAPES, "$": "\\$", "\v": "\\v", "\f": "\\f", "\x1b": "\\e"}
    return '"' + _escape(text, table, _u_braces) + '"'


def ruby_literal(text: str, *, double: bool = False) -> str:
    """Ruby: single quotes with \\\\ and \\' escaped; double quotes when asked or when the
    text has control characters (then \\ " # are escaped as well: no interpolation)."""
    if _is_plain(text) and not double:
        return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
    table = {**_C_ESCAPES, "#": "\\#", "\a": "\\a", "\b": "\\b", "\v": "\\v", "\f": "\\f"}
    table["\x1b"] = "\\e"
    return '"' + _escape(text, table, _u_braces) + '"'


def _lines(text: str) -> list[str]:
    """The text cut after each line feed, for literals written one line each."""
    return re.findall(r"[^\n]*\n|[^\n]+", text) or [""]


def _merged(text: Text) -> Text:
    """Adjacent literal parts joined, empty ones dropped (one literal for "Name: value")."""
    parts: list[Part] = []
    for part in text:
        if isinstance(part, str) and parts and isinstance(parts[-1], str):
            parts[-1] += part
        elif part != "":
            parts.append(part)
    return tuple(parts)


def _concat(
    text: Text, *, literal: Callable[[str], str], env: Callable[[str], str], op: str
) -> str:
    """An expression for `text`: literals and environment variables joined by `op`
    (" + " or, as gofmt writes it in a call's arguments, "+")."""
    pieces = [env(p.env) if isinstance(p, Secret) else literal(p) for p in _merged(text)]
    return op.join(pieces) if pieces else literal("")


def _multiline(body: str, *, literal: Callable[[str], str], op: str, indent: str) -> str:
    """A body as one literal a line, joined by `op` at line ends."""
    return f" {op}\n{indent}".join(literal(line) for line in _lines(body))


def _comment(request: SampleRequest, prefix: str) -> list[str]:
    if not request.secrets:
        return []
    lines = [f"{prefix} Secrets are read from environment variables:"]
    lines += [f"{prefix}   {s.env}: {s.what}" for s in request.secrets]
    return lines


def _has_header(request: SampleRequest, name: str) -> bool:
    return request.header(name) is not None


def _needs_zero_length(request: SampleRequest) -> bool:
    # Try it (requests) sends Content-Length: 0 without a body; some servers answer 411
    # to a POST, PUT or PATCH without it, and curl would not send it.
    return request.body is None and request.method in METHODS_EXPECTING_LENGTH


# --- The languages -----------------------------------------------------------------


def write_curl(request: SampleRequest) -> str:
    def word(text: Text) -> str:
        return (
            "".join(
                f'"${p.env}"' if isinstance(p, Secret) else sh_literal(p) for p in _merged(text)
            )
            or "''"
        )

    options: list[str] = []
    url = plain_text(request.url)
    if any(c in url for c in "[]{}"):
        options.append("--globoff")  # curl would read brackets and braces as URL globs
    for name, value in request.headers:
        # "Name:" would remove curl's header of that name; "Name;" sends it empty.
        options.append(
            f"--header {word((f'{name};',))}"
            if value == ("",)
            else f"--header {word((f'{name}: ', *value))}"
        )
    pipe = ""
    if request.body is not None:
        if not _has_header(request, "Content-Type"):
            # Without this curl sends application/x-www-form-urlencoded.
            options.append("--header 'Content-Type:'")
        if _is_plain(request.body):
            # --data-raw, not -d: -d reads "@file" and strips line breaks from files.
            options.append(f"--data-raw {sh_literal(request.body)}")
        else:
            # Carriage returns and control characters go through printf's escapes.
            table = {"\\": "\\\\", "%": "%%", "\r": "\\r", "\t": "\\t"}
            escaped = "".join(
                table.get(c) or (c if c.isprintable() or c == "\n" else _octal_bytes(c))
                for c in request.body
            )
            pipe = f"printf {'-- ' if escaped.startswith('-') else ''}{sh_literal(escaped)} | "
            options.append("--data-binary @-")
    elif _needs_zero_length(request):
        options.append("--header 'Content-Length: 0'")
    if request.method == "HEAD":
        command = f"curl --head {word(request.url)}"
    elif request.method == "GET":
        command = f"curl {word(request.url)}"
    else:
        method = request.method
        method = method if re.fullmatch(r"[A-Za-z0-9_-]+", method) else sh_literal(method)
        command = f"curl --request {method} {word(request.url)}"
    lines = [pipe + command, *(f"  {option}" for option in options)]
    return "\n".join([*_comment(request, "#"), " \\\n".join(lines)])


def _octal_bytes(char: str) -> str:
    return "".join(f"\\{byte:03o}" for byte in char.encode("utf-8"))


def write_python(request: SampleRequest) -> str:
    def expr(text: Text) -> str:
        return _concat(
            text, literal=py_literal, env=lambda n: f"os.environ[{py_literal(n)}]", op=" + "
        )

    lines = _comment(request, "#")
    if request.secrets:
        lines += ["import os", ""]
    lines += ["import requests", "", f"url = {expr(request.url)}"]
    arguments = [py_literal(request.method), "url"]
    if request.headers:
        lines.append("headers = {")
        lines += [f"    {py_literal(n)}: {expr(v)}," for n, v in request.headers]
        lines.append("}")
        arguments.append("headers=headers")
    if request.body is not None:
        chunks = _lines(request.body)
        if len(chunks) == 1:
            lines.append(f"body = {py_literal(request.body)}")
        else:
            lines += ["body = (", *(f"    {py_literal(c)}" for c in chunks), ")"]
        arguments.append('data=body.encode("utf-8")')
    arguments.append("timeout=30")
    lines += [
        "",
        f"response = requests.request({', '.join(arguments)})",
        "print(response.status_code, response.reason)",
        "print(response.text)",
    ]
    return "\n".join(lines)


def write_javascript(request: SampleRequest) -> str:
    def expr(text: Text) -> str:
        return _concat(text, literal=js_literal, env=lambda n: f"process.env.{n}", op=" + ")

    lines = _comment(request, "//")
    lines += [f"fetch({expr(request.url)}, {{", f"  method: {js_literal(request.method)},"]
    if request.headers:
        lines.append("  headers: {")
        lines += [f"    {js_literal(n)}: {expr(v)}," for n, v in request.headers]
        lines.append("  },")
    if request.body is not None:
        body = _multiline(request.body, literal=js_literal, op="+", indent="    ")
        if _has_header(request, "Content-Type"):
            lines.append(f"  body:\n    {body},")
        else:
            # A string body would be sent with Content-Type: text/plain;charset=UTF-8.
            lines.append(f"  body: new TextEncoder().encode(\n    {body}\n  ),")
    lines += [
        "})",
        "  .then(async (response) => {",
        "    console.log(response.status, response.statusText);",
        "    console.log(await response.text());",
        "  });",
    ]
    return "\n".join(lines)


def write_csharp(request: SampleRequest) -> str:
    def expr(text: Text) -> str:
        return _concat(
            text,
            literal=cs_literal,
            env=lambda n: f"Environment.GetEnvironmentVariable({cs_literal(n)})",
            op=" + ",
        )

    content = [(n, v) for n, v in request.headers if n.lower() in CONTENT_HEADERS_CSHARP]
    lines = _comment(request, "//")
    lines += [
        "using System;",
        "using System.Net.Http;",
        "using System.Text;",
        "",
        "using var client = new HttpClient();",
        f"using var request = new HttpRequestMessage(new HttpMethod({cs_literal(request.method)}), "
        f"{expr(request.url)});",
    ]
    lines += [
        f"request.Headers.TryAddWithoutValidation({cs_literal(n)}, {expr(v)});"
        for n, v in request.headers
        if n.lower() not in CONTENT_HEADERS_CSHARP
    ]
    if request.body is not None:
        body = _multiline(request.body, literal=cs_literal, op="+", indent="    ")
        lines.append(
            f"request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(\n    {body}));"
        )
    elif content:
        lines.append("request.Content = new ByteArrayContent(Array.Empty<byte>());")
    # Content headers belong to the content; a content type is not added otherwise.
    lines += [
        f"request.Content.Headers.TryAddWithoutValidation({cs_literal(n)}, {expr(v)});"
        for n, v in content
    ]
    lines += [
        "",
        "using var response = await client.SendAsync(request);",
        'Console.WriteLine($"{(int)response.StatusCode} {response.ReasonPhrase}");',
        "Console.WriteLine(await response.Content.ReadAsStringAsync());",
    ]
    return "\n".join(lines)


def write_java(request: SampleRequest) -> str:
    def expr(text: Text) -> str:
        return _concat(
            text, literal=java_literal, env=lambda n: f"System.getenv({java_literal(n)})", op=" + "
        )

    method = java_literal(request.method)
    lines = _comment(request, "//")
    lines += [
        "import java.net.URI;",
        "import java.net.http.HttpClient;",
        "import java.net.http.HttpRequest;",
        "import java.net.http.HttpResponse;",
        "",
        "public class Sample {",
        "    public static void main(String[] args) throws Exception {",
    ]
    if request.body is not None:
        body = _multiline(request.body, literal=java_literal, op="+", indent="            ")
        lines.append(f"        String body =\n            {body};")
        publisher = f".method({method}, HttpRequest.BodyPublishers.ofString(body))"
    elif request.method == "GET":
        publisher = ".GET()"
    else:
        publisher = f".method({method}, HttpRequest.BodyPublishers.noBody())"
    lines += [
        f"        HttpRequest request = HttpRequest.newBuilder(URI.create({expr(request.url)}))",
        f"            {publisher}",
        *(f"            .header({java_literal(n)}, {expr(v)})" for n, v in request.headers),
        "            .build();",
        "        HttpClient client = HttpClient.newBuilder()",
        "            .version(HttpClient.Version.HTTP_1_1)",
        "            .build();",
        "        HttpResponse<String> response =",
        "            client.send(request, HttpResponse.BodyHandlers.ofString());",
        "        System.out.println(response.statusCode());",
        "        System.out.println(response.body());",
        "    }",
        "}",
    ]
    return "\n".join(lines)


def write_go(request: SampleRequest) -> str:
    def expr(text: Text) -> str:
        return _concat(
            text, literal=go_literal, env=lambda n: f"os.Getenv({go_literal(n)})", op="+"
        )

    imports = ["fmt", "io", "net/http"]
    if request.secrets:
        imports.append("os")
    if request.body is not None:
        imports.append("strings")
    lines = _comment(request, "//")
    lines += ["package main", "", "import ("]
    lines += [f"\t{go_literal(name)}" for name in imports]
    lines += [")", "", "func main() {"]
    reader = "nil"
    if request.body is not None:
        body = _multiline(request.body, literal=go_literal, op="+", indent="\t\t")
        lines.append(f"\tbody := {body}")
        reader = "strings.NewReader(body)"
    lines += [
        f"\treq, err := http.NewRequest({go_literal(request.method)}, {expr(request.url)}, "
        f"{reader})",
        "\tif err != nil {",
        "\t\tpanic(err)",
        "\t}",
    ]
    lines += [f"\treq.Header.Set({go_literal(n)}, {expr(v)})" for n, v in request.headers]
    lines += [
        "\tresp, err := http.DefaultClient.Do(req)",
        "\tif err != nil {",
        "\t\tpanic(err)",
        "\t}",
        "\tdefer resp.Body.Close()",
        "\tdata, err := io.ReadAll(resp.Body)",
        "\tif err != nil {",
        "\t\tpanic(err)",
        "\t}",
        "\tfmt.Println(resp.Status)",
        "\tfmt.Println(string(data))",
        "}",
    ]
    return "\n".join(lines)


def write_php(request: SampleRequest) -> str:
    def expr(text: Text) -> str:
        return _concat(
            text, literal=php_literal, env=lambda n: f"getenv({php_literal(n)})", op=" . "
        )

    headers = [
        (f"{n};",) if v == ("",) else (f"{n}: ", *v) for n, v in request.headers
    ]  # libcurl, as the curl tool: "Name;" sends an empty header
    options = []
    if request.method == "HEAD":
        options.append("CURLOPT_NOBODY => true")
    elif request.method != "GET":
        options.append(f"CURLOPT_CUSTOMREQUEST => {php_literal(request.method)}")
    if request.body is not None and not _has_header(request, "Content-Type"):
        headers.append(("Content-Type:",))  # libcurl would add a form content type
    if _needs_zero_length(request):
        headers.append(("Content-Length: 0",))
    if headers:
        rows = "".join(f"        {expr(h)},\n" for h in headers)
        options.append(f"CURLOPT_HTTPHEADER => [\n{rows}    ]")
    if request.body is not None:
        if _is_plain(request.body):
            options.append(f"CURLOPT_POSTFIELDS => {php_literal(request.body)}")
        else:
            body = _multiline(
                request.body, literal=partial(php_literal, double=True), op=".", indent="        "
            )
            options.append(f"CURLOPT_POSTFIELDS =>\n        {body}")
    options.append("CURLOPT_RETURNTRANSFER => true")
    lines = ["<?php", *_comment(request, "//")]
    lines += [
        f"$ch = curl_init({expr(request.url)});",
        "curl_setopt_array($ch, [",
        *(f"    {option}," for option in options),
        "]);",
        "$response = curl_exec($ch);",
        "if ($response === false) {",
        "    throw new RuntimeException(curl_error($ch));",
        "}",
        'echo curl_getinfo($ch, CURLINFO_RESPONSE_CODE), "\\n", $response, "\\n";',
    ]
    return "\n".join(lines)


_RUBY_CLASSES = {
    "GET": "Get",
    "POST": "Post",
    "PUT": "Put",
    "PATCH": "Patch",
    "DELETE": "Delete",
    "HEAD": "Head",
    "OPTIONS": "Options",
}


def write_ruby(request: SampleRequest) -> str:
    def expr(text: Text) -> str:
        return _concat(
            text, literal=ruby_literal, env=lambda n: f"ENV.fetch({ruby_literal(n)})", op=" + "
        )

    lines = _comment(request, "#")
    lines += ["require 'net/http'", "require 'uri'", "", f"uri = URI({expr(request.url)})"]
    known = _RUBY_CLASSES.get(request.method)
    if known:
        lines.append(f"request = Net::HTTP::{known}.new(uri)")
    else:
        method = ruby_literal(request.method)
        lines.append(f"request = Net::HTTPGenericRequest.new({method}, true, true, uri)")
    lines += [f"request[{ruby_literal(n)}] = {expr(v)}" for n, v in request.headers]
    if request.body is not None:
        if _is_plain(request.body):
            lines.append(f"request.body = {ruby_literal(request.body)}")
        else:
            body = _multiline(
                request.body, literal=partial(ruby_literal, double=True), op="+", indent="  "
            )
            lines.append(f"request.body =\n  {body}")
    lines += [
        "",
        "https = uri.scheme == 'https'",
        "response = Net::HTTP.start(uri.hostname, uri.port, use_ssl: https) do |http|",
        "  http.request(request)",
        "end",
        'puts "#{response.code} #{response.message}"',
        "puts response.body",
    ]
    return "\n".join(lines)


def write_http(request: SampleRequest) -> str:
    def text(value: Text) -> str:
        return "".join(f"<{p.env}>" if isinstance(p, Secret) else p for p in value)

    lines = [f"{request.method} {text(request.target)} HTTP/1.1", f"Host: {request.host}"]
    lines += [f"{name}: {text(value)}".rstrip(" ") for name, value in request.headers]
    if request.body is not None:
        lines.append(f"Content-Length: {len(request.body.encode('utf-8'))}")
    elif request.method not in {"GET", "HEAD"}:
        lines.append("Content-Length: 0")
    head = "\n".join(lines) + "\n"
    return head + ("\n" + request.body if request.body is not None else "")


LANGUAGES: tuple[Language, ...] = (
    Language("curl", "curl", "POSIX shell, curl 7.43 or later", "bash", write_curl),
    Language("python", "Python", "Python 3 with requests", "python", write_python),
    Language(
        "javascript", "JavaScript", "Node.js 18 or later (fetch)", "javascript", write_javascript
    ),
    Language("csharp", "C#", ".NET 6 or later, HttpClient", "csharp", write_csharp),
    Language("java", "Java", "Java 11 or later, java.net.http (Sample.java)", "java", write_java),
    Language("go", "Go", "Go, net/http", "go", write_go),
    Language("php", "PHP", "PHP with the curl extension", "php", write_php),
    Language("ruby", "Ruby", "Ruby, net/http", "ruby", write_ruby),
    Language(
        "http",
        "HTTP",
        "The request as Try it sends it, without its default headers",
        "http",
        write_http,
    ),
)
LANGUAGE_KEYS = tuple(language.key for language in LANGUAGES)


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


def write_samples(request: SampleRequest) -> list[Sample]:
    return [
        Sample(
            key=language.key,
            label=language.label,
            note=language.note,
            code=(code := language.write(request)),
            highlighted=highlighted(code, language.lexer),
        )
        for language in LANGUAGES
    ]


def build_samples(
    *, operation: Operation, values: TryItValues, reveal: bool, portal_url: str
) -> SampleSet:
    """Samples in every language; `portal_url` is the portal's base URL, for the gateway's.

    Raises templating.BindError or SampleError.
    """
    gateway = gateway_target(api=operation.api, portal_url=portal_url)
    request = _sample_request(operation=operation, values=values, reveal=reveal, gateway=gateway)
    return SampleSet(samples=write_samples(request), secrets=request.secrets, gateway=gateway)
