"""What changed between a baseline response and a new one. Pure.

Headers are compared by name, case-insensitively, leaving out the ones a collection
ignores (Date, Server ... change on every call). JSON bodies are compared by structure,
so a reordered object or new whitespace is no change, and every changed place is named
by its path ("$.Results.output1.value.Values[0][3]"). Other text gets a unified diff;
binary bodies are only equal or not.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice

from console.rendering import decode_text, is_textual, parse_content_type
from testing.jsonpath import format_path, json_equal

MAX_JSON_CHANGES = 200
MAX_DIFF_LINES = 2000
MAX_COMPARED_LINES = 20000
# Old and new values longer than this (as JSON text) are kept cut, as text.
MAX_VALUE_CHARS = 2000
# A page shows at most this many characters of a diff (the changed values, or the lines
# of a text diff): two 2 MiB bodies must not make megabytes of markup. A line of a text
# diff is cut at MAX_VALUE_CHARS (minified JSON is one line).
MAX_SHOWN_CHARS = 200_000
# Beyond this a JSON document is compared as text: a structural walk of megabytes of
# values is slow and its list of paths unreadable anyway.
MAX_JSON_BYTES = 2 * 1024 * 1024

HeaderList = Sequence[Sequence[str]]


@dataclass
class ResponseDiff:
    status_changed: tuple[int | None, int | None] | None = None
    headers_added: list[tuple[str, str]] = field(default_factory=list)
    headers_removed: list[tuple[str, str]] = field(default_factory=list)
    headers_changed: list[tuple[str, str, str]] = field(default_factory=list)
    # {"path": "$.a[0]", "change": "added"|"removed"|"changed", "old": ..., "new": ...}
    json_changes: list[dict] = field(default_factory=list)
    # Unified diff of non-JSON text bodies; "" when they are the same.
    text_diff: str = ""
    body_changed: bool = False
    binary: bool = False
    # Says when a list above was cut (more than MAX_JSON_CHANGES paths changed).
    note: str = ""

    @property
    def unchanged(self) -> bool:
        return not (
            self.status_changed
            or self.headers_added
            or self.headers_removed
            or self.headers_changed
            or self.body_changed
        )

    def as_dict(self) -> dict:
        return {
            "status_changed": list(self.status_changed) if self.status_changed else None,
            "headers_added": [list(item) for item in self.headers_added],
            "headers_removed": [list(item) for item in self.headers_removed],
            "headers_changed": [list(item) for item in self.headers_changed],
            "json_changes": [dict(change) for change in self.json_changes],
            "text_diff": self.text_diff,
            "body_changed": self.body_changed,
            "binary": self.binary,
            "note": self.note,
        }

    @classmethod
    def from_dict(cls, data: dict) -> ResponseDiff:
        status = data.get("status_changed")
        return cls(
            status_changed=tuple(status) if status else None,
            headers_added=[tuple(item) for item in data.get("headers_added", [])],
            headers_removed=[tuple(item) for item in data.get("headers_removed", [])],
            headers_changed=[tuple(item) for item in data.get("headers_changed", [])],
            json_changes=list(data.get("json_changes", [])),
            text_diff=data.get("text_diff", ""),
            body_changed=bool(data.get("body_changed", False)),
            binary=bool(data.get("binary", False)),
            note=data.get("note", ""),
        )


def diff_responses(
    *,
    old_status: int | None,
    old_headers: HeaderList,
    old_body: bytes,
    old_content_type: str,
    new_status: int | None,
    new_headers: HeaderList,
    new_body: bytes,
    new_content_type: str,
    ignored_headers: set[str],
) -> ResponseDiff:
    ignored = {name.lower() for name in ignored_headers}
    diff = ResponseDiff(
        status_changed=(old_status, new_status) if old_status != new_status else None
    )
    _diff_headers(diff, old=old_headers, new=new_headers, ignored=ignored)
    _diff_bodies(
        diff,
        old=bytes(old_body),
        old_type=old_content_type,
        new=bytes(new_body),
        new_type=new_content_type,
    )
    return diff


# --- Headers ----------------------------------------------------------------------


def _by_name(headers: HeaderList, ignored: set[str]) -> dict[str, tuple[str, str]]:
    """lower name -> (name as sent, values joined): a repeated header is one value."""
    grouped: dict[str, tuple[str, list[str]]] = {}
    for name, value in headers:
        if name.lower() not in ignored:
            grouped.setdefault(name.lower(), (name, []))[1].append(value)
    return {key: (name, ", ".join(values)) for key, (name, values) in grouped.items()}


def _diff_headers(
    diff: ResponseDiff, *, old: HeaderList, new: HeaderList, ignored: set[str]
) -> None:
    before, after = _by_name(old, ignored), _by_name(new, ignored)
    for key, (name, value) in after.items():
        if key not in before:
            diff.headers_added.append((name, value))
        elif before[key][1] != value:
            diff.headers_changed.append((name, before[key][1], value))
    diff.headers_removed.extend(value for key, value in before.items() if key not in after)


# --- Bodies -----------------------------------------------------------------------


def _is_binary(body: bytes, content_type: str) -> bool:
    # The same rule as the result panel (rendering.render_body).
    if not body:
        return False
    if b"\x00" in body[:8192]:
        return True
    if not content_type.strip():
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            return True
        return False
    return not is_textual(parse_content_type(content_type)[0])


def _as_json(body: bytes, content_type: str) -> tuple[bool, object]:
    if not body.strip() or len(body) > MAX_JSON_BYTES:
        return False, None
    text, _ = decode_text(body, charset=parse_content_type(content_type)[1])
    try:
        # NaN and Infinity are not JSON and never equal themselves: such a body is text.
        return True, json.loads(text, parse_constant=_refuse_constant)
    except ValueError:
        return False, None


def _refuse_constant(name: str) -> None:
    raise ValueError(name)


def _diff_bodies(
    diff: ResponseDiff, *, old: bytes, old_type: str, new: bytes, new_type: str
) -> None:
    if _is_binary(old, old_type) or _is_binary(new, new_type):
        diff.binary = True
        diff.body_changed = old != new
        return
    old_is_json, old_document = _as_json(old, old_type)
    new_is_json, new_document = _as_json(new, new_type)
    if old_is_json and new_is_json:
        try:
            changes = list(
                islice(_json_changes(old_document, new_document, ()), MAX_JSON_CHANGES + 1)
            )
        except RecursionError:
            changes = None  # nested too deep to walk: compared as text below
        if changes is not None:
            diff.body_changed = bool(changes)
            diff.json_changes = changes[:MAX_JSON_CHANGES]
            if len(changes) > MAX_JSON_CHANGES:
                diff.note = (
                    f"More than {MAX_JSON_CHANGES} places changed; the first "
                    f"{MAX_JSON_CHANGES} are listed."
                )
            return
    old_text, _ = decode_text(old, charset=parse_content_type(old_type)[1])
    new_text, _ = decode_text(new, charset=parse_content_type(new_type)[1])
    diff.body_changed = old_text != new_text
    if diff.body_changed:
        diff.text_diff = unified_diff(old_text, new_text)


def unified_diff(old_text: str, new_text: str) -> str:
    # difflib slows down sharply on long inputs: only the start of a huge body is compared.
    old_lines = old_text.splitlines()[:MAX_COMPARED_LINES]
    new_lines = new_text.splitlines()[:MAX_COMPARED_LINES]
    lines = difflib.unified_diff(
        old_lines,
        new_lines,
        fromfile="baseline",
        tofile="this run",
        lineterm="",
    )
    kept: list[str] = []
    size = 0
    for line in lines:
        if len(kept) == MAX_DIFF_LINES:
            kept.append(f"… (the diff is cut at {MAX_DIFF_LINES:,} lines)")
            break
        if size > MAX_SHOWN_CHARS:
            kept.append(f"… (the diff is cut at {MAX_SHOWN_CHARS:,} characters)")
            break
        line = line if len(line) <= MAX_VALUE_CHARS else line[:MAX_VALUE_CHARS] + "…"
        size += len(line) + 1
        kept.append(line)
    if MAX_COMPARED_LINES in (len(old_lines), len(new_lines)) and not kept[-1].startswith("…"):
        kept.append(f"… (only the first {MAX_COMPARED_LINES:,} lines were compared)")
    return "\n".join(kept)


def _json_changes(old: object, new: object, path: tuple[str | int, ...]) -> Iterator[dict]:
    """Each place where the documents differ, as a generator so the cap stops the walk."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in old:
            if key not in new:
                yield _change((*path, key), "removed", old=old[key])
            else:
                yield from _json_changes(old[key], new[key], (*path, key))
        for key in new:
            if key not in old:
                yield _change((*path, key), "added", new=new[key])
    elif isinstance(old, list) and isinstance(new, list):
        for index, (before, after) in enumerate(zip(old, new, strict=False)):
            yield from _json_changes(before, after, (*path, index))
        for index in range(len(new), len(old)):
            yield _change((*path, index), "removed", old=old[index])
        for index in range(len(old), len(new)):
            yield _change((*path, index), "added", new=new[index])
    elif not json_equal(old, new):
        yield _change(path, "changed", old=old, new=new)


def _change(
    path: tuple[str | int, ...], change: str, *, old: object = None, new: object = None
) -> dict:
    return {"path": format_path(path), "change": change, "old": _kept(old), "new": _kept(new)}


def _kept(value: object) -> object:
    """The value, or the start of its JSON text when it is large (a whole added table)."""
    if not isinstance(value, dict | list):
        text = value if isinstance(value, str) else ""
        return value if len(text) <= MAX_VALUE_CHARS else text[:MAX_VALUE_CHARS] + "…"
    text = json.dumps(value, ensure_ascii=False)
    return value if len(text) <= MAX_VALUE_CHARS else text[:MAX_VALUE_CHARS] + "…"
