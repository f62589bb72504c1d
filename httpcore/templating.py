"""URL templates: parse "/a/{x}?v={y}" and bind values into an outbound request.

Pure: no I/O. Every call the portal sends is built here (docs/design.md, "Outbound:
registered origin only", "Outbound: a value fills one path segment", "Outbound: query keys
from the operation", "Outbound: checked headers only").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import quote, unquote, urlsplit

from httpcore.bodies import StreamedBody
from httpcore.cookies import COOKIE_HEADER, CookieError, cookie_header
from httpcore.headers import HeaderError, validate_headers
from httpcore.masking import MASK, is_secret_name

PLACEHOLDER_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*\Z")
# Characters an admin may write literally in a template's path or query (RFC 3986
# pchar plus "/" and "?"), percent-escapes included.
LITERAL_CHARACTER = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/?%]")
MAX_VALUE_LENGTH = 8192


class TemplateError(ValueError):
    """The template does not parse; position is the 0-based index of the problem."""

    def __init__(self, message: str, *, position: int) -> None:
        super().__init__(f"{message} at position {position + 1}")
        self.message = message
        self.position = position


class BindError(ValueError):
    """A value cannot be bound; field names the parameter (or "headers", "body")."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class StyledValue:
    """A path value a parameter style builds (`label` `.1.2`, `matrix` `;id=1;id=2`):
    `parts` alternate the style's own delimiters, sent as they are, and values, each
    encoded as any path value. The comma between a list's items is sent as `%2C`, as a
    `simple` list's is (docs/design.md, "Parameter styles and body types")."""

    parts: tuple[tuple[str, bool], ...]  # (text, is_delimiter)

    @property
    def text(self) -> str:
        return "".join(text for text, _ in self.parts)


STYLE_DELIMITERS = frozenset({".", ";", "=", ","})


@dataclass(frozen=True)
class Placeholder:
    name: str


Part = str | Placeholder


@dataclass(frozen=True)
class QueryItem:
    key: str
    value: tuple[Part, ...]


@dataclass(frozen=True)
class ParsedTemplate:
    path: tuple[Part, ...]
    query: tuple[QueryItem, ...]

    @property
    def path_names(self) -> list[str]:
        return [part.name for part in self.path if isinstance(part, Placeholder)]

    @property
    def query_names(self) -> list[str]:
        return [
            part.name for item in self.query for part in item.value if isinstance(part, Placeholder)
        ]

    @property
    def names(self) -> list[str]:
        return self.path_names + self.query_names


@dataclass(frozen=True)
class OutboundRequest:
    """A request ready to send: built by `bind`, sent by `outbound.send`."""

    method: str
    url: str
    # The registered API's service URL the url was built from; outbound checks the
    # url against it again before sending.
    service_url: str
    headers: tuple[tuple[str, str], ...] = ()
    # A file upload is a StreamedBody, read as it is sent (httpcore/bodies.py).
    body: bytes | StreamedBody | None = None
    # Lower-cased names of headers and query keys whose values are masked when shown.
    secret_names: frozenset[str] = field(default_factory=frozenset)
    # The url with the values of secret path placeholders replaced by masking.MASK ("" when
    # it has none); masking.mask_request_url masks the query's secret values as well.
    masked_url: str = ""


def _parse_parts(text: str, *, offset: int, seen: set[str]) -> tuple[Part, ...]:
    parts: list[Part] = []
    literal_start = 0
    index = 0
    while index < len(text):
        char = text[index]
        if char == "{":
            close = text.find("}", index + 1)
            if close == -1:
                raise TemplateError("Unclosed '{'", position=offset + index)
            name = text[index + 1 : close]
            if "{" in name:
                raise TemplateError("Unclosed '{'", position=offset + index)
            if not PLACEHOLDER_NAME.match(name):
                raise TemplateError(
                    f"Invalid parameter name {name!r} (letters, digits, '_', '-', '.')",
                    position=offset + index + 1,
                )
            if name in seen:
                raise TemplateError(f"Parameter {{{name}}} appears twice", position=offset + index)
            seen.add(name)
            if index > literal_start:
                parts.append(text[literal_start:index])
            parts.append(Placeholder(name))
            index = close + 1
            literal_start = index
            continue
        if char == "}":
            raise TemplateError("'}' without a matching '{'", position=offset + index)
        if not LITERAL_CHARACTER.match(char):
            raise TemplateError(f"Character {char!r} is not allowed", position=offset + index)
        index += 1
    if literal_start < len(text):
        parts.append(text[literal_start:])
    return tuple(parts)


def parse_template(template: str) -> ParsedTemplate:
    """Parse a URL template such as "/jobs/{jobid}?api-version={apiversion}"."""
    if template and not template.startswith("/"):
        raise TemplateError("The template must start with '/'", position=0)
    if "#" in template:
        raise TemplateError("A template cannot have a fragment", position=template.index("#"))
    path_text, _, query_text = template.partition("?")
    seen: set[str] = set()
    path = _parse_parts(path_text, offset=0, seen=seen)
    query: list[QueryItem] = []
    offset = len(path_text) + 1
    if query_text:
        for pair in query_text.split("&"):
            key, equals, value = pair.partition("=")
            if not key:
                raise TemplateError("Empty query key", position=offset)
            if "{" in key or "}" in key:
                raise TemplateError(
                    "Query keys are fixed; only values can be parameters", position=offset
                )
            _parse_parts(key, offset=offset, seen=set())
            value_offset = offset + len(key) + len(equals)
            query.append(QueryItem(key, _parse_parts(value, offset=value_offset, seen=seen)))
            offset += len(pair) + 1
    return ParsedTemplate(path=tuple(path), query=tuple(query))


def _check_value(name: str, value: str) -> None:
    if len(value) > MAX_VALUE_LENGTH:
        raise BindError(
            f"The value is too long ({len(value)} characters, at most {MAX_VALUE_LENGTH}).",
            field=name,
        )
    for char in value:
        if unicodedata.category(char) in {"Cc", "Cf", "Cs", "Co", "Cn"} and char != "\t":
            raise BindError(
                f"The value contains a control or invisible character (U+{ord(char):04X}).",
                field=name,
            )


def _has_dot_segment(value: str) -> bool:
    return any(piece in {".", ".."} for piece in re.split(r"[/\\]", value))


def encode_path_value(*, name: str, value: str) -> str:
    """Percent-encode a value as exactly one path segment (docs/design.md, "Outbound: a
    value fills one path segment")."""
    if value == "":
        raise BindError("This path parameter needs a value.", field=name)
    # Length and characters first, so the scans below see at most MAX_VALUE_LENGTH.
    _check_value(name, value)
    # A backend that decodes %2F or "\\" would see "a/../b" as a traversal, so a
    # dot segment anywhere in the value is refused, not only a value of "." or "..".
    # The value is sent percent-encoded once ("%2e" as "%252e"), but a backend that
    # decodes twice would read "%2e%2e%2f" as "../": dot segments after one round of
    # decoding are refused too.
    decoded = unquote(value)
    if _has_dot_segment(value) or _has_dot_segment(decoded):
        raise BindError("'.' and '..' are not allowed as path segments.", field=name)
    # A backend that applies Unicode compatibility normalisation (NFKC) reads fullwidth
    # dots and slashes (U+FF0E, U+FF0F) or the two dot leader (U+2025) as "../": refuse
    # what turns into a dot segment, as typed or decoded once.
    if any(_has_dot_segment(unicodedata.normalize("NFKC", text)) for text in (value, decoded)):
        raise BindError(
            "Characters that read as '.' or '..' (such as the fullwidth '\uff0e' or "
            "'\u2025') are not allowed as path segments.",
            field=name,
        )
    return quote(value, safe="")


def encode_query_value(*, name: str, value: str) -> str:
    _check_value(name, value)
    return quote(value, safe="")


def encode_styled_value(*, name: str, value: StyledValue) -> str:
    """A styled path value as one segment: every value encoded as encode_path_value
    does, the style's delimiters as they are."""
    encoded: list[str] = []
    for text, delimiter in value.parts:
        if delimiter:
            if text not in STYLE_DELIMITERS:
                raise BindError(f"{text!r} is not a style delimiter.", field=name)
            encoded.append("%2C" if text == "," else text)
        elif text:
            encoded.append(encode_path_value(name=name, value=text))
    segment = "".join(encoded)
    _check_value(name, segment)
    # An empty label list is "." alone: a dot segment, which urllib3 would remove.
    if segment in {".", ".."}:
        raise BindError("'.' and '..' are not allowed as path segments.", field=name)
    return segment


def _render_path(
    *,
    parts: Sequence[Part],
    values: Mapping[str, str | StyledValue],
    secret_names: frozenset[str],
) -> tuple[str, str]:
    """The path with its values encoded, and the same path as it may be shown: a secret
    placeholder's value (by `secret_names`, lower-cased) as MASK."""
    sent: list[str] = []
    shown: list[str] = []
    for part in parts:
        if isinstance(part, Placeholder):
            given = values.get(part.name, "")
            if isinstance(given, StyledValue):
                value = encode_styled_value(name=part.name, value=given)
            else:
                value = encode_path_value(name=part.name, value=given)
            sent.append(value)
            shown.append(MASK if is_secret_name(part.name, secret_names=secret_names) else value)
        else:
            sent.append(part)
            shown.append(part)
    return "".join(sent), "".join(shown)


def _render_query(
    *,
    items: Sequence[QueryItem],
    values: Mapping[str, str | StyledValue],
    extra: Sequence[tuple[str, str]],
) -> str:
    pairs: list[str] = []
    for item in items:
        rendered: list[str] = []
        skipped = False
        for part in item.value:
            if isinstance(part, Placeholder):
                given = values.get(part.name, "")
                value = given.text if isinstance(given, StyledValue) else given
                # An optional query parameter left empty drops its whole pair.
                if value == "":
                    skipped = True
                    break
                rendered.append(encode_query_value(name=part.name, value=value))
            else:
                rendered.append(part)
        if not skipped:
            pairs.append(f"{item.key}={''.join(rendered)}")
    for key, value in extra:
        if value == "":
            continue
        pairs.append(f"{quote(key, safe='')}={encode_query_value(name=key, value=value)}")
    return "&".join(pairs)


def bind(
    *,
    service_url: str,
    method: str,
    template: str | ParsedTemplate,
    template_values: Mapping[str, str | StyledValue],
    query_values: Sequence[tuple[str, str]] = (),
    headers: Sequence[tuple[str, str]] = (),
    body: bytes | StreamedBody | None = None,
    content_type: str = "",
    secret_names: frozenset[str] = frozenset(),
    cookies: Sequence[tuple[str, str]] = (),
) -> OutboundRequest:
    """Build the request an operation sends with the given values.

    Scheme, host, port and base path come from service_url alone; values only
    ever fill path segments, query values, header values and the values of the
    documented cookies (one Cookie header, httpcore/cookies.py).
    """
    parsed = parse_template(template) if isinstance(template, str) else template
    for name in parsed.names:
        if name not in template_values:
            raise BindError("This parameter needs a value.", field=name)
    base = urlsplit(service_url)
    lowered_secrets = frozenset(name.lower() for name in secret_names)
    sent, shown = _render_path(
        parts=parsed.path, values=template_values, secret_names=lowered_secrets
    )
    query = _render_query(items=parsed.query, values=template_values, extra=query_values)

    def url_of(path: str) -> str:
        path = base.path.rstrip("/") + path
        return f"{base.scheme}://{base.netloc}{path or '/'}" + (f"?{query}" if query else "")

    url = url_of(sent)
    masked_url = "" if shown == sent else url_of(shown)
    try:
        checked_headers = validate_headers(headers)
    except HeaderError as error:
        raise BindError(error.message, field="headers") from error
    if cookies:
        try:
            checked_headers.append((COOKIE_HEADER, cookie_header(cookies)))
        except CookieError as error:
            raise BindError(error.message, field=error.name or "cookies") from error
    if body is not None and method.upper() in {"GET", "HEAD"}:
        raise BindError(f"A {method.upper()} request cannot carry a body.", field="body")
    if (
        body is not None
        and content_type
        and not any(name.lower() == "content-type" for name, _ in checked_headers)
    ):
        checked_headers.append(("Content-Type", content_type))
    return OutboundRequest(
        method=method.upper(),
        url=url,
        service_url=service_url,
        headers=tuple(checked_headers),
        body=body,
        secret_names=lowered_secrets,
        masked_url=masked_url,
    )
