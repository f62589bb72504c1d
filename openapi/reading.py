"""What the readers of a document share: its problems and notes, and checked access to it.

References: only `#/...` pointers inside the document, followed lazily with cycle
detection; a bare name (`$ref: Pet`, old Swagger tools) means the definition of that name.
Every other reference is external and refused where it is written: nothing is ever
fetched (openapi.refs).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from httpcore.headers import TOKEN as HEADER_TOKEN
from httpcore.headers import refusal_reason
from openapi.examples import SchemaExamples, is_json_media
from openapi.refs import RefError, Resolver, join
from portal.own_cookies import is_portal_cookie

METHODS = {"get", "put", "post", "delete", "options", "head", "patch"}


def one_line(text: str) -> str:
    return " ".join(text.split())


def pick_media(media_types: Iterable[str]) -> str | None:
    """application/json first, then another JSON type, then the first one."""
    names = [name for name in media_types if isinstance(name, str)]
    if not names:
        return None
    for name in names:
        if name.split(";")[0].strip().lower() == "application/json":
            return name
    for name in names:
        if is_json_media(name):
            return name
    return names[0]


class Reading:
    """One document being read; problems and notes accumulate, nothing touches the database."""

    def __init__(self, document: dict) -> None:
        self.document = document
        self.problems: list[str] = []
        self._problem_set: set[str] = set()
        self.notes: list[str] = []
        self.v2 = False
        self.resolver: Resolver
        self.examples: SchemaExamples
        self.callbacks = 0
        self.renamed = 0
        # Refs already reported where they are written: not reported again where used.
        self.bad_refs: set[str] = set()
        # operationId → the pointer of the operation that has it.
        self.operation_ids: dict[str, str] = {}
        # (name, in) → where the current operation lists the parameter.
        self.used_at: dict[tuple[str, str], str] = {}

    def problem(self, place: str, message: str) -> None:
        text = f"{place or '/'}: {message}"
        if text not in self._problem_set:
            self._problem_set.add(text)
            self.problems.append(text)

    def note(self, message: str) -> None:
        if message not in self.notes:
            self.notes.append(message)

    def deref(self, node: Any, place: str) -> tuple[Any, str] | None:
        """Follow a $ref; None (the problem recorded) when it cannot be followed."""
        try:
            return self.resolver.deref(node, place)
        except RefError as error:
            if node.get("$ref") not in self.bad_refs:
                self.problem(f"{place}/$ref", str(error))
            return None

    def string(self, node: dict, key: str, place: str) -> str:
        value = node.get(key)
        if value is None:
            return ""
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        self.problem(join(place, key), "must be a string")
        return ""

    def mapping(self, node: dict, key: str, place: str) -> dict:
        value = node.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.problem(join(place, key), "must be an object")
            return {}
        return value

    def sequence(self, node: dict, key: str, place: str) -> list:
        value = node.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem(join(place, key), "must be an array")
            return []
        return value

    def note_portal_cookie(self, name: str) -> None:
        """A cookie named as one of the portal's own is imported (Try it sends what is
        typed) but never forwarded by the gateway (docs/design.md, "Cookies")."""
        if is_portal_cookie(name):
            self.note(
                f"cookie {name!r} has the name of one of the portal's own cookies: "
                "imported, but the gateway does not forward it."
            )

    def sendable_header(self, name: str) -> bool:
        if not HEADER_TOKEN.match(name) or len(name) > 100:
            self.note(f"header {name!r} is not a valid header name; not imported.")
            return False
        reason = refusal_reason(name)
        if reason is not None:
            self.note(f"header {name!r} cannot be sent ({reason}); not imported.")
            return False
        return True
