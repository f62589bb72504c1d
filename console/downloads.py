"""A stored response body as a download: its file name, with an extension matching the
response's content type (response-12.json), sent as an attachment with nosniff (docs/
design.md, "Rendering: backend content never runs")."""

from __future__ import annotations

import mimetypes
from email.message import Message

from django.http import HttpResponse

from console.models import Exchange

# Where mimetypes' first guess is surprising (application/xml: ".xsl") or missing.
EXTENSIONS = {
    "application/json": ".json",
    "application/xml": ".xml",
    "text/xml": ".xml",
    "application/yaml": ".yaml",
    "application/x-yaml": ".yaml",
    "text/yaml": ".yaml",
    "text/plain": ".txt",
    "text/event-stream": ".txt",
    "application/x-www-form-urlencoded": ".txt",
    "application/javascript": ".js",
    "text/javascript": ".js",
}
# Structured syntax suffixes (RFC 6839): application/problem+json is JSON.
SUFFIXES = {"+json": ".json", "+xml": ".xml", "+yaml": ".yaml"}
DEFAULT_EXTENSION = ".bin"


def media_type(content_type: str) -> str:
    message = Message()
    message["Content-Type"] = content_type
    return message.get_content_type() if content_type.strip() else ""


def extension_for(content_type: str) -> str:
    kind = media_type(content_type)
    if not kind:
        return DEFAULT_EXTENSION
    if kind in EXTENSIONS:
        return EXTENSIONS[kind]
    for suffix, extension in SUFFIXES.items():
        if kind.endswith(suffix):
            return extension
    return mimetypes.guess_extension(kind, strict=False) or DEFAULT_EXTENSION


def download_filename(exchange: Exchange) -> str:
    return f"response-{exchange.pk}{extension_for(exchange.response_content_type)}"


def attachment(*, body: bytes, filename: str) -> HttpResponse:
    """The body as a file to save, never a page to show: octet-stream, nosniff."""
    response = HttpResponse(body, content_type="application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
