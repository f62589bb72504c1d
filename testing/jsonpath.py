"""A small subset of JSONPath, enough to point at one value in a response. Pure.

    $                   the whole document
    $.a.b               member b of member a
    $.a[0], $.a[-1]     first and last element of an array
    $["key with space"] a member whose name is not a plain word (also 'single quotes')

Only single values: no wildcards, slices, filters or recursive descent, so a check or an
extraction rule always names exactly one place and a typo is a syntax error, not an
empty match.
"""

from __future__ import annotations

import re

Step = str | int

# A member name after "." : anything up to the next ".", "[" or whitespace. Quotes are
# left out so that a forgotten "[" ($."a b") is an error rather than a strange name.
_NAME = re.compile(r"[^.\[\]\s\"'=]+")
_INDEX = re.compile(r"-?[0-9]+")
_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "/": "/", "n": "\n", "t": "\t"}
MAX_PATH_LENGTH = 1000


class JsonPathError(ValueError):
    """The path does not parse; position is 1-based, as shown to the user."""

    def __init__(self, message: str, *, path: str, position: int) -> None:
        super().__init__(f"{message} at position {position} of {path!r}")
        self.message = message
        self.path = path
        self.position = position


def parse(path: str) -> tuple[Step, ...]:
    """The steps of a path: member names (str) and array indexes (int)."""
    if len(path) > MAX_PATH_LENGTH:
        raise JsonPathError(
            f"The path is longer than {MAX_PATH_LENGTH} characters", path=path[:40], position=1
        )
    if not path.startswith("$"):
        raise JsonPathError("A path starts with '$'", path=path, position=1)
    steps: list[Step] = []
    index = 1
    while index < len(path):
        char = path[index]
        step: Step
        if char == ".":
            step, index = _member(path, index + 1)
        elif char == "[":
            step, index = _bracket(path, index + 1)
        else:
            raise JsonPathError(
                f"Expected '.' or '[' but found {char!r}", path=path, position=index + 1
            )
        steps.append(step)
    return tuple(steps)


def find(document: object, path: str) -> tuple[bool, object]:
    """(True, value) when the path leads to a value, (False, None) when it does not."""
    current = document
    for step in parse(path):
        if isinstance(step, int):
            # bool is an int, but True is no index; a list is the only indexable JSON value.
            if not isinstance(current, list) or not -len(current) <= step < len(current):
                return False, None
            current = current[step]
        else:
            if not isinstance(current, dict) or step not in current:
                return False, None
            current = current[step]
    return True, current


def format_path(steps: tuple[Step, ...] | list[Step]) -> str:
    """The inverse of parse: plain names after '.', others quoted in brackets."""
    parts = ["$"]
    for step in steps:
        if isinstance(step, int):
            parts.append(f"[{step}]")
        elif _NAME.fullmatch(step) and not step.lstrip("-").isdigit():
            parts.append(f".{step}")
        else:
            escaped = step.replace("\\", "\\\\").replace('"', '\\"')
            escaped = escaped.replace("\n", "\\n").replace("\t", "\\t")
            parts.append(f'["{escaped}"]')
    return "".join(parts)


def _member(path: str, start: int) -> tuple[str, int]:
    if path.startswith(".", start):
        raise JsonPathError(
            "Recursive descent ('..') is not supported", path=path, position=start + 1
        )
    if path.startswith("*", start):
        raise JsonPathError("Wildcards ('*') are not supported", path=path, position=start + 1)
    match = _NAME.match(path, start)
    if not match:
        raise JsonPathError("Expected a member name after '.'", path=path, position=start + 1)
    return match.group(), match.end()


def _bracket(path: str, start: int) -> tuple[Step, int]:
    if start >= len(path):
        raise JsonPathError("Unclosed '['", path=path, position=start)
    char = path[start]
    if char in "\"'":
        name, end = _quoted(path, start)
        return name, _expect_close(path, end)
    match = _INDEX.match(path, start)
    if match:
        return int(match.group()), _expect_close(path, match.end())
    if char == "*":
        raise JsonPathError("Wildcards ('*') are not supported", path=path, position=start + 1)
    raise JsonPathError(
        'Expected an index such as [0] or a quoted name such as ["a b"]',
        path=path,
        position=start + 1,
    )


def _quoted(path: str, start: int) -> tuple[str, int]:
    quote = path[start]
    chars: list[str] = []
    index = start + 1
    while index < len(path):
        char = path[index]
        if char == quote:
            return "".join(chars), index + 1
        if char == "\\":
            escaped = path[index + 1 : index + 2]
            if escaped not in _ESCAPES:
                raise JsonPathError(
                    "Unknown escape; use \\\" \\' \\\\ \\n or \\t", path=path, position=index + 1
                )
            chars.append(_ESCAPES[escaped])
            index += 2
            continue
        chars.append(char)
        index += 1
    raise JsonPathError(f"Unclosed quote {quote}", path=path, position=start + 1)


def _expect_close(path: str, index: int) -> int:
    if not path.startswith("]", index):
        raise JsonPathError("Expected ']'", path=path, position=index + 1)
    return index + 1


def json_equal(left: object, right: object) -> bool:
    """Equality of JSON values as JSON sees it: 1 == 1.0, but true is not 1."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, int | float) and isinstance(right, int | float):
        return left == right
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(json_equal, left, right))
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(json_equal(left[k], right[k]) for k in left)
    return type(left) is type(right) and left == right
