"""The files a call sent, kept so that Save, Try again and replays send them again
(docs/design.md, "Uploads"): written and read a chunk at a time, never whole, and
rebuilt into the body the form would have built.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import TemporaryUploadedFile, UploadedFile
from django.db import transaction
from django.http import StreamingHttpResponse
from django.utils.datastructures import MultiValueDict
from django.utils.http import content_disposition_header

from catalog.models import Operation
from console import body_fields
from console.body_fields import FILE_FIELD
from console.models import Exchange, KeptFile, KeptFileChunk
from console.multipart_fields import PART_PREFIX, documented_parts
from console.uploads import FormFile, UploadSource
from httpcore.bodies import StreamedBody
from httpcore.multipart import Part, encode_multipart

CHUNK_BYTES = 256 * 1024


def keep_files(
    *, files: Sequence[FormFile], exchange: Exchange | None = None, saved_request=None
) -> None:
    """Store the files with the exchange or the saved request, a chunk at a time."""
    for source in files:
        kept = KeptFile.objects.create(
            exchange=exchange,
            saved_request=saved_request,
            field=source.field,
            name=source.name,
            content_type=source.content_type[:200],
            size=source.size,
        )
        _write(kept, source.chunks())


def copy_files(*, files: Iterable[KeptFile], saved_request=None) -> None:
    """A saved request's own copy of an exchange's files (or a saved request's)."""
    for kept in files:
        copy = KeptFile.objects.create(
            saved_request=saved_request,
            field=kept.field,
            name=kept.name,
            content_type=kept.content_type,
            size=kept.size,
        )
        _write(copy, _stored_chunks(kept))


def _write(kept: KeptFile, chunks: Iterable[bytes]) -> None:
    with transaction.atomic():  # one commit for the file, not one a chunk
        _write_chunks(kept, chunks)


def _write_chunks(kept: KeptFile, chunks: Iterable[bytes]) -> None:
    buffer, index = bytearray(), 0
    for chunk in chunks:
        buffer += chunk
        while len(buffer) >= CHUNK_BYTES:
            KeptFileChunk.objects.create(file=kept, index=index, data=bytes(buffer[:CHUNK_BYTES]))
            del buffer[:CHUNK_BYTES]
            index += 1
    if buffer:
        KeptFileChunk.objects.create(file=kept, index=index, data=bytes(buffer))


def _stored_chunks(kept: KeptFile) -> Iterator[bytes]:
    rows = KeptFileChunk.objects.filter(file=kept).order_by("index").values_list("data", flat=True)
    for data in rows.iterator(chunk_size=1):
        yield bytes(data)


@dataclass(frozen=True)
class LoadedFile:
    """A kept file read into memory (at most the body cap), for a replay: its tries may
    be sent from worker threads, which do not read the database."""

    field: str
    name: str
    content_type: str
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def description(self) -> str:
        return f"file {self.name} ({self.size} bytes)"

    def chunks(self) -> Iterator[bytes]:
        for start in range(0, len(self.data), CHUNK_BYTES):
            yield self.data[start : start + CHUNK_BYTES]


def loaded(kept: KeptFile) -> LoadedFile:
    return LoadedFile(
        field=kept.field,
        name=kept.name,
        content_type=kept.content_type,
        data=b"".join(_stored_chunks(kept)),
    )


def as_upload(kept: KeptFile) -> TemporaryUploadedFile:
    """A kept file as the form takes an upload (Try again), written to a temporary file
    a chunk at a time."""
    upload = TemporaryUploadedFile(
        name=kept.name,
        content_type=kept.content_type or "application/octet-stream",
        size=kept.size,
        charset=None,
    )
    for chunk in _stored_chunks(kept):
        upload.write(chunk)
    upload.seek(0)
    return upload


def shown_size(size: int) -> str:
    """12288 -> "12 KB", 900 -> "900 bytes"."""
    if size >= 1 << 20:
        return f"{size / (1 << 20):.1f} MB".replace(".0 ", " ")
    if size >= 1 << 10:
        return f"{round(size / (1 << 10))} KB"
    return f"{size} bytes"


@dataclass(frozen=True)
class FileBody:
    body: StreamedBody
    content_type: str
    description: str  # as the form describes it for the history
    parts: list[tuple[str, str, bool]]  # TryItValues.form_parts


class MissingFile(Exception):
    def __init__(self, part: str) -> None:
        super().__init__(part)
        self.part = part


def file_body(
    *,
    operation: Operation,
    media_type: str | None,
    texts: Sequence[Sequence[str]],
    files: Mapping[str, FormFile],
) -> FileBody | None:
    """The body the Try it form built from these text parts and files, for a replay:
    None when the media type takes no files. Raises MissingFile naming a required file
    part no file is kept for."""
    choice = body_fields.choose_media(operation=operation, requested=media_type or None)
    if choice.error or choice.chosen.kind not in {body_fields.MULTIPART, body_fields.BINARY}:
        return None
    chosen = choice.chosen
    if chosen.kind == body_fields.BINARY:
        source = files.get(FILE_FIELD)
        if source is None:
            if choice.required:
                raise MissingFile("file")
            return None
        return FileBody(
            body=StreamedBody(pieces=(source,)),
            content_type=chosen.content_type(source),  # type: ignore[arg-type]
            description=source.description,
            parts=[],
        )
    typed = {str(name): str(text) for name, text in texts}
    parts: list[Part] = []
    described: list[str] = []
    form_parts: list[tuple[str, str, bool]] = []
    for part in documented_parts(operation, chosen.media_type) or []:
        if part.file:
            source = files.get(PART_PREFIX + part.name)
            if source is None:
                if part.required:
                    raise MissingFile(part.name)
                continue
            parts.append(
                Part(part.name, source, filename=source.name, content_type=part.content_type)
            )
            described.append(f"{part.name}: {source.description}")
            form_parts.append((part.name, source.name, True))
        elif typed.get(part.name):
            text = typed[part.name]
            parts.append(Part(part.name, text.encode("utf-8"), content_type=part.content_type))
            described.append(f"{part.name}: {text}")
            form_parts.append((part.name, text, False))
    body, content_type = encode_multipart(parts)
    return FileBody(
        body=body, content_type=content_type, description="\n".join(described), parts=form_parts
    )


@dataclass(frozen=True)
class ShownFile:
    field: str
    name: str
    size: int
    content_type: str
    pk: int = 0

    @property
    def shown_size(self) -> str:
        return shown_size(self.size)


@dataclass(frozen=True)
class Reused:
    """An earlier call's kept files, which Try again sends unless others are picked."""

    exchange_id: int
    files: list[ShownFile]


def shown_files(files: Iterable[KeptFile]) -> list[ShownFile]:
    return [
        ShownFile(field=f.field, name=f.name, size=f.size, content_type=f.content_type, pk=f.pk)
        for f in files
    ]


def reused_files(exchange: Exchange | None) -> Reused | None:
    if exchange is None:
        return None
    files = shown_files(exchange.files.all())
    return Reused(exchange_id=exchange.pk, files=files) if files else None


def with_reused(*, files: MultiValueDict, exchange: Exchange | None) -> MultiValueDict:
    """The posted files, with the earlier call's kept file for each field left empty."""
    if exchange is None:
        return files
    merged = files.copy()
    for kept in exchange.files.all():
        if not merged.get(kept.field):
            merged[kept.field] = as_upload(kept)
    return merged


def download(kept: KeptFile) -> StreamingHttpResponse:
    """A kept file as an attachment (never shown on the portal's origin), streamed."""
    response = StreamingHttpResponse(_stored_chunks(kept), content_type="application/octet-stream")
    response["Content-Length"] = str(kept.size)
    # safe_filename left no path or control character; quotes and non-ASCII are encoded.
    disposition = content_disposition_header(as_attachment=True, filename=kept.name)
    response["Content-Disposition"] = disposition or "attachment"
    response["X-Content-Type-Options"] = "nosniff"
    return response


class KeptFileForm(forms.Form):
    """Another file in place of a kept one (a saved request's edit page)."""

    file = forms.FileField(label="Replace with")

    def clean_file(self) -> UploadedFile:
        upload = self.cleaned_data["file"]
        limit = settings.PORTAL_OUTBOUND_MAX_REQUEST_BODY_BYTES
        if (upload.size or 0) > limit:
            raise forms.ValidationError(f"The file is larger than the limit of {limit} bytes.")
        return upload


def replace_file(*, kept: KeptFile, upload: UploadedFile) -> KeptFile:
    """The same field's file, with the upload's bytes and name."""
    source = UploadSource(upload, field=kept.field)
    kept.chunks.all().delete()
    kept.name, kept.content_type, kept.size = source.name, source.content_type[:200], source.size
    kept.save(update_fields=["name", "content_type", "size"])
    _write(kept, source.chunks())
    return kept
