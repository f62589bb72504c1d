"""A multipart/form-data body as the document describes it: one field per property of
its schema, a file input for `format: binary` (docs/design.md, "Body types")."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from catalog.documents import followed
from catalog.models import Operation

PART_PREFIX = "part-"
MULTIPART = "multipart/form-data"


@dataclass(frozen=True)
class DocumentedPart:
    name: str
    file: bool
    required: bool
    description: str = ""
    example: str = ""
    content_type: str = ""  # the document's encoding.contentType, if any


def _example_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def documented_parts(
    operation: Operation, media_type: str | None = None
) -> list[DocumentedPart] | None:
    """The parts of the operation's multipart body (of `media_type`, else of its one
    content type); None when that body is not one."""
    chosen = operation.request_content_type if media_type is None else media_type
    if not chosen.lower().startswith(MULTIPART):
        return None
    content = ((operation.openapi or {}).get("requestBody") or {}).get("content") or {}
    media = media_type if media_type in content else None
    media = media or next((m for m in content if str(m).lower().startswith(MULTIPART)), None)
    if media is None:
        return []
    definitions = operation.api.openapi or {}
    schema = followed(content[media].get("schema"), definitions)
    required = set(schema.get("required") or [])
    encoding = content[media].get("encoding") or {}
    example = content[media].get("example")
    example = example if isinstance(example, dict) else {}
    parts = []
    for name, raw in (schema.get("properties") or {}).items():
        prop = followed(raw, definitions)
        items = followed(prop.get("items"), definitions) if prop.get("type") == "array" else {}
        is_file = prop.get("format") == "binary" or items.get("format") == "binary"
        given = example.get(name, prop.get("example", prop.get("default")))
        if given is None and prop.get("enum"):
            given = prop["enum"][0]
        parts.append(
            DocumentedPart(
                name=str(name),
                file=is_file,
                required=name in required,
                description=str(prop.get("description") or ""),
                example="" if is_file else _example_text(given),
                content_type=str((encoding.get(name) or {}).get("contentType") or ""),
            )
        )
    return parts
