"""Try it's uploads: capped while Django receives them, read in chunks when sent.

`cap_uploads` puts a `CappedUploadHandler` first in the request's upload handlers
before the form reads `request.FILES`. Past `PORTAL_OUTBOUND_MAX_REQUEST_BODY_BYTES`
of files in one request, the file being received is refused: no more of it reaches
Django's handlers (memory, then a temporary file), the rest of it is read and dropped,
and the form gets an `OverCap` in its place, whose size is what was received, so the
form's own size checks give their error and nothing is sent (docs/design.md, "Uploads").
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from io import BytesIO
from typing import Any, Protocol, TypeVar, cast

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from httpcore.bodies import FileSource
from httpcore.multipart import safe_filename

ViewT = TypeVar("ViewT", bound=Callable[..., HttpResponse])


class OverCap(UploadedFile):
    """A file refused past the cap: no content, the size received."""

    def __init__(self, *, name: str, size: int, content_type: str) -> None:
        super().__init__(BytesIO(b""), name=name, content_type=content_type, size=size)


class CappedUploadHandler(FileUploadHandler):
    def __init__(self, request: HttpRequest, *, cap: int) -> None:
        super().__init__(request)
        self.cap = cap
        self.received = 0  # bytes of every file of the request so far
        self.refused = False  # the file being received

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.refused = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        if self.refused or self.received > self.cap:
            if not self.refused:
                self.refused = True
                self._free_others()
            return None  # the later handlers get nothing more of this file
        return raw_data

    def file_complete(self, file_size: int) -> UploadedFile | None:
        if not self.refused:
            return None  # the next handler's file
        return OverCap(
            name=self.file_name or "",
            size=file_size,
            content_type=self.content_type or "application/octet-stream",
        )

    def _free_others(self) -> None:
        # What they hold of the refused file (at most the cap) goes at once.
        for handler in self.request.upload_handlers if self.request else []:
            if handler is not self and hasattr(handler, "file"):
                handler.file.close()


def cap_uploads(request: HttpRequest) -> None:
    """Cap the files of this request; before anything reads request.POST or FILES."""
    cap = settings.PORTAL_OUTBOUND_MAX_REQUEST_BODY_BYTES
    request.upload_handlers = [
        CappedUploadHandler(request, cap=cap),
        *request.upload_handlers,
    ]


def capped_uploads(view: ViewT) -> ViewT:
    """A view whose uploads are capped while received: the CSRF middleware would read the
    form first, so the token is checked here, once the handler is in place."""
    protected = csrf_protect(view)

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        cap_uploads(request)
        return protected(request, *args, **kwargs)

    return cast(ViewT, csrf_exempt(wrapped))


class FormFile(FileSource, Protocol):
    """A file of a Try it form's field, sent and kept (console/kept_files.py)."""

    @property
    def field(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def content_type(self) -> str:
        """As the browser said: the document's type is what is sent."""
        ...


class UploadSource:
    """An uploaded file as a body's piece (httpcore.bodies.FileSource): read in chunks
    from Django's UploadedFile (a temporary file above FILE_UPLOAD_MAX_MEMORY_SIZE)."""

    def __init__(self, upload: UploadedFile, *, field: str) -> None:
        self.upload = upload
        self.field = field
        self.name = safe_filename(upload.name or "")
        self.content_type = upload.content_type or ""

    @property
    def size(self) -> int:
        return self.upload.size or 0

    @property
    def description(self) -> str:
        return f"file {self.name} ({self.size} bytes)"

    def chunks(self) -> Iterator[bytes]:
        return self.upload.chunks()  # from the start each time
