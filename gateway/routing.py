"""Which API and which operation a gateway path names. Pure: no I/O, no Django.

A gateway path is `<url suffix>/<operation path>`. The suffix is the longest one that is
a prefix of the path by whole segments (a suffix may hold "/"). The operation path is
matched against the path part of each operation's URL template: a literal part matches
itself exactly, a `{name}` placeholder one non-empty piece of a segment (never a "/").

Matching works on the path as sent, still percent-encoded, so that "a%2Fb" stays one
segment; a placeholder's value is percent-decoded afterwards (`decode_values`), and
`templating.bind` encodes it again as exactly one segment.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar
from urllib.parse import unquote

from httpcore.masking import MASK
from httpcore.templating import ParsedTemplate, Placeholder, parse_template

T = TypeVar("T")

# Where the gateway answers: /gateway/<url suffix>/<path>.
GATEWAY_PREFIX = "/gateway/"

# RFC 3986 2.3: escapes of unreserved characters mean the characters themselves.
_UNRESERVED = re.compile(r"[A-Za-z0-9\-._~]")
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")


def normalize_segment(segment: str) -> str:
    """RFC 3986 6.2.2 normalisation: unreserved escapes decoded, other escapes upper-cased.

    So "/it%65ms" reaches the operation "/items" and "%2f" equals "%2F".
    """
    if "%" not in segment:
        return segment

    def replace(found: re.Match[str]) -> str:
        char = chr(int(found.group(1), 16))
        return char if _UNRESERVED.match(char) else "%" + found.group(1).upper()

    return _ESCAPE.sub(replace, segment)


def split_path(path: str) -> list[str]:
    """The normalised segments of a path as sent, without its leading "/".

    "" and "/" both give [""] (the root); "a/b/" gives ["a", "b", ""].
    """
    return [normalize_segment(segment) for segment in path.removeprefix("/").split("/")]


def suffix_segments(suffix: str) -> tuple[str, ...]:
    """An API's URL suffix as segments; () when it is blank (not on the gateway)."""
    stripped = suffix.strip().strip("/")
    if not stripped:
        return ()
    return tuple(normalize_segment(segment) for segment in stripped.split("/"))


@dataclass(frozen=True)
class SuffixMatch(Generic[T]):
    target: T
    suffix: tuple[str, ...]
    remaining: list[str]  # the operation path's segments, [""] for the root


def find_by_suffix(
    *, segments: Sequence[str], suffixes: Mapping[tuple[str, ...], T], longest: int
) -> SuffixMatch[T] | None:
    """The entry whose suffix is the longest whole-segment prefix of `segments`.

    `longest` is the segment count of the longest suffix in `suffixes`.
    """
    for length in range(min(longest, len(segments)), 0, -1):
        prefix = tuple(segments[:length])
        if prefix in suffixes:
            remaining = list(segments[length:]) or [""]
            return SuffixMatch(target=suffixes[prefix], suffix=prefix, remaining=remaining)
    return None


# --- Operation routes -------------------------------------------------------------------


@dataclass(frozen=True)
class SegmentPattern:
    """One segment of a template's path: a literal, or a regex with placeholders."""

    literal: str | None  # set when the segment has no placeholder
    regex: re.Pattern[str] | None = None
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Route:
    key: int  # what the caller identifies the operation by (its id)
    method: str
    segments: tuple[SegmentPattern, ...]
    literal_chars: int  # the more, the more specific
    placeholder_count: int
    order: tuple[int, ...] = ()  # the last tie-breaker, e.g. (operation.order, id)

    @property
    def specificity(self) -> tuple:
        """Sort key: more literal characters first, then fewer placeholders, then order."""
        return (-self.literal_chars, self.placeholder_count, self.order)


def _template_segments(parsed: ParsedTemplate) -> list[list[str | Placeholder]]:
    segments: list[list[str | Placeholder]] = [[]]
    for part in parsed.path:
        if isinstance(part, Placeholder):
            segments[-1].append(part)
            continue
        pieces = part.split("/")
        if pieces[0]:
            segments[-1].append(pieces[0])
        for piece in pieces[1:]:
            segments.append([piece] if piece else [])
    # The template's path starts with "/": the first (empty) segment is that slash.
    if len(segments) > 1 and not segments[0]:
        segments.pop(0)
    return segments


def compile_route(
    *, key: int, method: str, template: str | ParsedTemplate, order: tuple[int, ...] = ()
) -> Route:
    """A route for an operation's URL template (its path part; the query is not matched).

    Raises templating.TemplateError for a template that does not parse.
    """
    parsed = parse_template(template) if isinstance(template, str) else template
    patterns: list[SegmentPattern] = []
    literal_chars = 0
    placeholder_count = 0
    for parts in _template_segments(parsed):
        names = tuple(part.name for part in parts if isinstance(part, Placeholder))
        if not names:
            literal = normalize_segment("".join(part for part in parts if isinstance(part, str)))
            literal_chars += len(literal)
            patterns.append(SegmentPattern(literal=literal))
            continue
        placeholder_count += len(names)
        regex = []
        for part in parts:
            if isinstance(part, Placeholder):
                # Lazy: "{a}-{b}" splits "x-y-z" at the first "-"; anchored at both ends.
                regex.append("(.+?)")
            else:
                literal = normalize_segment(part)
                literal_chars += len(literal)
                regex.append(re.escape(literal))
        patterns.append(
            SegmentPattern(literal=None, regex=re.compile("".join(regex) + r"\Z"), names=names)
        )
    if not patterns:  # a template without a path ("" or "?a=b") is the root
        patterns.append(SegmentPattern(literal=""))
    return Route(
        key=key,
        method=method.upper(),
        segments=tuple(patterns),
        literal_chars=literal_chars,
        placeholder_count=placeholder_count,
        order=order,
    )


@dataclass(frozen=True)
class RouteMatch:
    route: Route
    raw_values: dict[str, str]  # placeholder name -> the segment text as sent
    # For each segment of the operation path, the placeholder names it holds.
    segment_names: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class MethodNotAllowed:
    """The path names operations, none with the request's method."""

    allowed: tuple[str, ...]


class PathValueError(ValueError):
    """A placeholder's value is not valid percent-encoded UTF-8."""

    def __init__(self, name: str) -> None:
        super().__init__(f"The value of {name} is not valid percent-encoded UTF-8.")
        self.name = name


def _match_segments(route: Route, segments: Sequence[str]) -> RouteMatch | None:
    values: dict[str, str] = {}
    for pattern, segment in zip(route.segments, segments, strict=True):
        if pattern.literal is not None:
            if pattern.literal != segment:
                return None
            continue
        assert pattern.regex is not None
        found = pattern.regex.match(segment)
        if found is None:
            return None
        values.update(zip(pattern.names, found.groups(), strict=True))
    return RouteMatch(
        route=route,
        raw_values=values,
        segment_names=tuple(pattern.names for pattern in route.segments),
    )


@dataclass
class RouteTable:
    """An API's routes, indexed by segment count and first literal segment."""

    _by_first: dict[tuple[int, str], list[Route]] = field(default_factory=dict)
    _placeholder_first: dict[int, list[Route]] = field(default_factory=dict)

    @classmethod
    def build(cls, routes: Iterable[Route]) -> RouteTable:
        table = cls()
        for route in sorted(routes, key=lambda r: r.specificity):
            first = route.segments[0]
            if first.literal is not None:
                key = (len(route.segments), first.literal)
                table._by_first.setdefault(key, []).append(route)
            else:
                table._placeholder_first.setdefault(len(route.segments), []).append(route)
        return table

    def all_routes(self) -> list[Route]:
        """Every route, most specific first (the order `match` tries them in)."""
        routes = [route for group in self._by_first.values() for route in group]
        routes += [route for group in self._placeholder_first.values() for route in group]
        return sorted(routes, key=lambda r: r.specificity)

    def candidates(self, segments: Sequence[str]) -> list[Route]:
        """Routes that may match, most specific first."""
        count = len(segments)
        found = self._by_first.get((count, segments[0]), []) + self._placeholder_first.get(
            count, []
        )
        return sorted(found, key=lambda r: r.specificity)

    def match(
        self, *, method: str, segments: Sequence[str]
    ) -> RouteMatch | MethodNotAllowed | None:
        """The most specific route for the method; MethodNotAllowed when only other methods
        match the path; None when nothing matches it."""
        method = method.upper()
        allowed: list[str] = []
        for route in self.candidates(segments):
            if route.method != method and route.method in allowed:
                continue
            matched = _match_segments(route, segments)
            if matched is None:
                continue
            if route.method == method:
                return matched
            allowed.append(route.method)
        if allowed:
            return MethodNotAllowed(allowed=tuple(sorted(allowed)))
        return None


def decode_values(match: RouteMatch) -> dict[str, str]:
    """The placeholders' values, percent-decoded (UTF-8). Raises PathValueError."""
    decoded: dict[str, str] = {}
    for name, raw in match.raw_values.items():
        try:
            decoded[name] = unquote(raw, errors="strict")
        except UnicodeDecodeError as error:
            raise PathValueError(name) from error
    return decoded


def masked_path(
    *, suffix: Sequence[str], match: RouteMatch, segments: Sequence[str], secret: Iterable[str]
) -> str:
    """The operation path with every segment holding a secret placeholder masked."""
    secret_names = {name.lower() for name in secret}
    shown = [
        MASK if any(name.lower() in secret_names for name in names) else segment
        for segment, names in zip(segments, match.segment_names, strict=True)
    ]
    return "/".join([*suffix, *shown])
