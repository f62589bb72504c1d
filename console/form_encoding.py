"""An application/x-www-form-urlencoded body written as its document's `encoding` says.

OpenAPI's defaults for a form body: a property is `style: form, explode: true`, so an
array is the key repeated and an object its properties as keys. `deepObject` nests
names in brackets all the way down (`card[address][city]=Paris`, arrays indexed
`items[0][price]=...`), what Stripe's API and Rails/PHP-style backends read.
A non-exploded form array is one comma-separated value.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from console.parameter_styles import DELIMITERS


def value_text(value: Any) -> str:
    """A parameter value as the form shows it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, list):
        return ",".join(value_text(item) for item in value)
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    except (TypeError, ValueError, RecursionError):
        return ""


def _pairs_deep(name: str, value: Any) -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return [pair for key, item in value.items() for pair in _pairs_deep(f"{name}[{key}]", item)]
    if isinstance(value, list):
        return [
            pair
            for index, item in enumerate(value)
            for pair in _pairs_deep(f"{name}[{index}]", item)
        ]
    return [(name, value_text(value))]


def form_pairs(value: dict, *, encoding: dict | None = None) -> list[tuple[str, str]]:
    """The body's name=value pairs, unencoded, in the order of the value's properties."""
    pairs: list[tuple[str, str]] = []
    for name, item in value.items():
        rule = (encoding or {}).get(name) or {}
        style = rule.get("style", "form")
        explode = rule.get("explode", style == "form")
        if style == "deepObject":
            pairs.extend(_pairs_deep(str(name), item))
        elif isinstance(item, list):
            if explode:
                pairs.extend((str(name), value_text(entry)) for entry in item)
            else:
                delimiter = DELIMITERS.get(style, ",")
                pairs.append((str(name), delimiter.join(value_text(entry) for entry in item)))
        elif isinstance(item, dict) and explode:
            pairs.extend((str(key), value_text(entry)) for key, entry in item.items())
        elif isinstance(item, dict):
            flat = [text for key, entry in item.items() for text in (str(key), value_text(entry))]
            pairs.append((str(name), ",".join(flat)))
        else:
            pairs.append((str(name), value_text(item)))
    return pairs


READABLE = "*:,/@"


def form_body_text(value: dict, *, encoding: dict | None = None, safe: str = READABLE) -> str:
    """The body as sent: brackets in names, and in values the characters the import
    always left readable (`*:,/@`), as they are; every other reserved character encoded.
    A field list (console/body_fields.py) passes safe="": each value encoded whole, as
    `allowReserved: false` says, so a non-exploded array's commas are its delimiters."""
    return "&".join(
        f"{quote(name, safe='[]')}={quote(text, safe=safe)}"
        for name, text in form_pairs(value, encoding=encoding)
    )
