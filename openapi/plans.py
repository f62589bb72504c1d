"""What reading an OpenAPI document gives, and what writing it reports.

An import has two steps. Reading turns the document into an ApiPlan and collects every
problem with its JSON pointer; a document with problems raises OpenApiError before the
database is touched. Writing applies the plan in one transaction (a new API, or the
existing one synchronised) and says what it did in an ImportSummary.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from catalog.models import Api, ParameterType

FIELD_LIMITS = {"name": 200, "tags": 200, "content_type": 100, "version": 50}


class OpenApiError(ValueError):
    """The document cannot be imported; problems are "JSON pointer: message" strings."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass
class ImportSummary:
    api: Api
    created_api: bool
    added: list[str]
    changed: list[str]
    removed: list[str]
    unchanged: int
    # Operations that were removed by an earlier import and came back (also in added).
    restored: list[str] = field(default_factory=list)
    # What was skipped or adapted (webhooks, renamed path parameters ...).
    notes: list[str] = field(default_factory=list)
    # slug → "GET /pets", for the lines.
    labels: dict[str, str] = field(default_factory=dict)
    # The API's own fields that change ('version: 1.0 → 2.0'); none for a new API.
    api_changes: list[str] = field(default_factory=list)
    # The extra servers' URLs the import adds, removes, or describes anew.
    servers_added: list[str] = field(default_factory=list)
    servers_removed: list[str] = field(default_factory=list)
    servers_changed: list[str] = field(default_factory=list)

    @property
    def headline(self) -> str:
        return (
            f'Imported "{self.api.name}" ({self.api.slug}): {len(self.added)} added, '
            f"{len(self.changed)} changed, {len(self.removed)} removed."
        )

    def lines(self) -> list[str]:
        return [self.headline, *self.change_lines()]

    def change_lines(self) -> list[str]:
        """One line per change of the API and of each operation, then the notes."""
        lines = [f"  {'api':<8} {change}" for change in self.api_changes]
        for kind, urls in (
            ("added", self.servers_added),
            ("changed", self.servers_changed),
            ("removed", self.servers_removed),
        ):
            lines.extend(f"  {'server':<8} {kind}: {url}" for url in urls)
        restored = set(self.restored)
        for kind, slugs in (("added", self.added), ("changed", self.changed)):
            for slug in slugs:
                extra = " (restored)" if slug in restored else ""
                lines.append(f"  {kind:<8} {slug}  {self.labels.get(slug, '')}{extra}".rstrip())
        for slug in self.removed:
            lines.append(f"  {'removed':<8} {slug}  {self.labels.get(slug, '')}".rstrip())
        if self.unchanged:
            lines.append(f"  {self.unchanged} unchanged.")
        lines.extend(f"Note: {note}" for note in self.notes)
        return lines

    def fingerprint(self) -> str:
        """Equal for two summaries that make the same changes to the same API."""
        text = json.dumps([self.api.slug, self.created_api, self.lines()], ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class ParameterPlan:
    name: str
    location: str
    required: bool = False
    type: str = ParameterType.STRING
    default: str = ""
    allowed_values: str = ""
    description: str = ""
    secret: bool = False
    order: int = 0

    def key(self) -> tuple:
        return (
            self.name,
            self.location,
            self.required,
            self.default,
            self.allowed_values,
            self.type,
            self.description,
            self.secret,
            self.order,
        )


@dataclass
class ResponsePlan:
    status_code: int
    description: str
    content_type: str
    example: str

    def key(self) -> tuple:
        return (self.status_code, self.description, self.content_type, self.example)


@dataclass
class OperationPlan:
    method: str
    path: str
    url_template: str
    operation_id: str
    name: str
    description: str
    tags: str
    deprecated: bool
    request_content_type: str
    body_example: str
    parameters: list[ParameterPlan]
    responses: list[ResponsePlan]
    order: int
    pointer: str
    # The slug the portal exported the operation with (x-portal-slug), if any.
    slug_hint: str = ""
    # The normalised operation object (openapi/definitions.py).
    openapi: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    def fields(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "method": self.method,
            "url_template": self.url_template,
            "description": self.description,
            "tags": self.tags,
            "operation_id": self.operation_id,
            "deprecated": self.deprecated,
            "request_content_type": self.request_content_type,
            "body_example": self.body_example,
            "openapi": self.openapi,
        }


@dataclass
class ServerPlan:
    url: str
    description: str = ""
    order: int = 0


@dataclass
class ApiPlan:
    slug: str
    name: str
    description: str
    version: str
    service_url: str
    operations: list[OperationPlan]
    notes: list[str]
    # The document's shared definitions (openapi/definitions.py).
    openapi: dict[str, Any] = field(default_factory=dict)
    # The servers besides the service URL (openapi/servers.py).
    servers: list[ServerPlan] = field(default_factory=list)
