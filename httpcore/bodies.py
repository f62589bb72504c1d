"""Request bodies sent as they are read: uploaded files, never held whole in memory.

A `StreamedBody` is a sequence of pieces, bytes the portal wrote (a multipart part's
headers, a text field) and `FileSource`s (a Try it upload, a kept file) read in chunks
at each send, so a replay's later try sends the same bytes again. Its length is known
before the first byte goes: it is sent with a Content-Length, never chunked, and capped
like any body (docs/design.md, "Uploads").
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol


class FileSource(Protocol):
    """A file's bytes, read again from the start at each call of `chunks`."""

    @property
    def size(self) -> int: ...

    @property
    def description(self) -> str:
        """What the history shows instead of the bytes: "file photo.png (12 bytes)"."""
        ...

    def chunks(self) -> Iterator[bytes]: ...


class BodyLengthChanged(Exception):
    """A file gave more or fewer bytes than its size said: the Content-Length is wrong."""


@dataclass(frozen=True)
class StreamedBody:
    pieces: tuple[bytes | FileSource, ...]

    def __len__(self) -> int:
        return sum(len(p) if isinstance(p, bytes) else p.size for p in self.pieces)

    def chunks(self) -> Iterator[bytes]:
        """The body's bytes in order; raises BodyLengthChanged when a file's size lied."""
        for piece in self.pieces:
            if isinstance(piece, bytes):
                if piece:
                    yield piece
                continue
            sent = 0
            for chunk in piece.chunks():
                sent += len(chunk)
                if sent > piece.size:
                    raise BodyLengthChanged(f"{piece.description} grew while it was sent")
                if chunk:
                    yield chunk
            if sent != piece.size:
                raise BodyLengthChanged(f"{piece.description} shrank while it was sent")

    def shown(self) -> bytes:
        """The body as the history keeps it: the written bytes, each file described."""
        return b"".join(
            piece if isinstance(piece, bytes) else f"<{piece.description}>".encode()
            for piece in self.pieces
        )


def shown_bytes(body: bytes | StreamedBody | None) -> bytes | None:
    """A body as the history and the scrubbers see it (files described, not read)."""
    return body.shown() if isinstance(body, StreamedBody) else body
