"""multipart/form-data bodies: the parts a form gives, encoded with a fresh boundary.

Part names come from the operation's documented schema, never from the caller; a file
name is reduced to its last path component and written with urllib3's HTML5 escaping
(`"`, CR and LF percent-encoded), so no part header can be added or split. A part's
Content-Type is the document's (`encoding.contentType`), else application/octet-stream
for a file: never the one the browser claimed.

The body is a `StreamedBody`: each part's headers as urllib3 renders them
(`RequestField.render_headers`, the writer of `encode_multipart_formdata`), then its
bytes, a file's read in chunks when it is sent (docs/design.md, "Uploads").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from urllib3.fields import RequestField
from urllib3.filepost import choose_boundary

from httpcore.bodies import FileSource, StreamedBody
from httpcore.headers import HeaderError, validate_header

_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Part:
    name: str
    value: bytes | FileSource
    filename: str | None = None  # None: a text field
    content_type: str = ""


def safe_filename(raw: str) -> str:
    """The last path component of a browser's file name, without control characters."""
    name = re.split(r"[\\/]", raw)[-1]
    return _UNSAFE_NAME.sub("", name)[:200] or "file"


def part_content_type(part: Part) -> str:
    """The part's Content-Type header: the document's when it is a valid header value,
    else application/octet-stream for a file; "" (none) for a text field without one."""
    content_type = part.content_type or ("application/octet-stream" if part.filename else "")
    if content_type:
        try:
            validate_header("Content-Type", content_type)
        except HeaderError:
            return "application/octet-stream"
    return content_type


def encode_multipart(parts: list[Part]) -> tuple[StreamedBody, str]:
    """The body and its Content-Type (with the boundary)."""
    boundary = choose_boundary()
    pieces: list[bytes | FileSource] = []
    for part in parts:
        field = RequestField(name=part.name, data=b"", filename=part.filename)
        field.make_multipart(content_type=part_content_type(part) or None)
        pieces.append(f"--{boundary}\r\n".encode("latin-1") + field.render_headers().encode())
        pieces.append(part.value)
        pieces.append(b"\r\n")
    pieces.append(f"--{boundary}--\r\n".encode("latin-1"))
    return StreamedBody(pieces=tuple(pieces)), f"multipart/form-data; boundary={boundary}"
