"""A request body as the Python sample hands it to requests: a JSON body as a Python
value for `json=`, a urlencoded body as its fields for `data=`, when requests would send
the same thing; None otherwise (the body is then written as text).

requests serialises `json=` with json.dumps (compact spacing, ASCII escapes): the backend
receives the same JSON value, not the same bytes, so a JSON body is a value only when it
reads back exactly (no duplicate key, no NaN or infinity). `data=` fields are encoded by
urllib's urlencode: they are used only when that gives back the very body.
"""

from __future__ import annotations

import json
import math
from typing import Any
from urllib.parse import parse_qsl, quote_plus, urlencode

from samples.literals import py_literal

INDENT = "    "


class _NotAValue(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _NotAValue("duplicate key")
    return result


def _refuse(constant: str) -> Any:
    raise _NotAValue(constant)


def _finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list):
        return all(_finite(v) for v in value)
    return True


def json_value(body: str) -> tuple[bool, Any]:
    """(True, the value) when requests' json= would send this JSON body's value."""
    try:
        value = json.loads(body, object_pairs_hook=_no_duplicates, parse_constant=_refuse)
    except ValueError:  # _NotAValue and json.JSONDecodeError
        return False, None
    return _finite(value), value


def form_fields(body: str, *, placeholders: tuple[str, ...] = ()) -> list[tuple[str, str]] | None:
    """A urlencoded body's fields, when urlencode gives back the same body.
    `placeholders`: texts in the body that stand for a value the reader fills in
    ("{name}", unencoded): each is a field's value as written."""
    for text in placeholders:
        body = body.replace(text, quote_plus(text))
    fields = parse_qsl(body, keep_blank_values=True)
    return fields if urlencode(fields) == body else None


# A dict or list whose literal is at most this long is written on one line.
INLINE_MAX_CHARS = 60


def _inline(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{py_literal(k)}: {_inline(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_inline(v) for v in value) + "]"
    return py_value(value)


def py_value(value: Any, *, level: int = 0) -> str:
    """A Python literal for a JSON value: a short dict or list on one line, a longer one
    an item a line."""
    inner = INDENT * (level + 1)
    if isinstance(value, dict | list) and len(short := _inline(value)) <= INLINE_MAX_CHARS:
        return short
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [
            f"{inner}{py_literal(k)}: {py_value(v, level=level + 1)}," for k, v in value.items()
        ]
        return "{\n" + "\n".join(items) + "\n" + INDENT * level + "}"
    if isinstance(value, list):
        if not value:
            return "[]"
        items = [f"{inner}{py_value(v, level=level + 1)}," for v in value]
        return "[\n" + "\n".join(items) + "\n" + INDENT * level + "]"
    if isinstance(value, str):
        return py_literal(value)
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    raise TypeError(type(value))


def py_fields(fields: list[tuple[str, str]]) -> str:
    """`data=` fields: a dict, or a list of pairs when a name repeats."""
    if len({name for name, _ in fields}) == len(fields):
        items = [f"{INDENT}{py_literal(n)}: {py_literal(v)}," for n, v in fields]
        return "{\n" + "\n".join(items) + "\n}"
    items = [f"{INDENT}({py_literal(n)}, {py_literal(v)})," for n, v in fields]
    return "[\n" + "\n".join(items) + "\n]"
