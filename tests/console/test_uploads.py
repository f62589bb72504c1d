"""Try it's uploads: refused while Django receives them once past the body cap (the
storage handlers never get more than the cap), and sent to the backend as a stream with a
Content-Length, read in chunks from the uploaded file."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.test import Client

from catalog.models import Operation
from console.models import Exchange
from httpcore import outbound
from httpcore.bodies import StreamedBody
from httpcore.errors import ErrorKind
from httpcore.templating import bind
from openapi.sync import import_openapi
from tests.backends import scripted_server
from tests.console.test_body_types import DOCUMENT as BODIES
from tests.console.test_sent_as_documented import DOCUMENT as SHAPES

CAP = 100 * 1024


class _Recording(TemporaryFileUploadHandler):
    """Django's temporary file handler, counting what reaches it."""

    stored: list[int] = []

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        _Recording.stored.append(len(raw_data))
        return super().receive_data_chunk(raw_data, start)


@pytest.fixture
def apis(settings):
    settings.PORTAL_OUTBOUND_ALLOWED_PORTS = ["*"]
    # Every upload goes to a temporary file, the way a large one does.
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0
    settings.FILE_UPLOAD_HANDLERS = [f"{__name__}._Recording"]
    _Recording.stored = []
    with scripted_server() as server:
        shapes = import_openapi(document=SHAPES, api_slug="shapes", service_url=server.url).api
        bodies = import_openapi(document=BODIES, api_slug="bodies", service_url=server.url).api
        yield server, shapes, bodies


def _try_url(api, operation_id: str) -> str:
    operation = Operation.objects.get(api=api, operation_id=operation_id)
    return f"/apis/{api.slug}/operations/{operation.slug}/try"


@pytest.mark.django_db
def test_a_multipart_file_five_times_the_cap_is_refused_while_received(apis, settings) -> None:
    server, shapes, _ = apis
    settings.PORTAL_OUTBOUND_MAX_REQUEST_BODY_BYTES = CAP
    upload = SimpleUploadedFile("big.bin", b"x" * (5 * CAP))
    page = Client().post(_try_url(shapes, "upload"), {"part-file": upload}).content.decode()
    assert f"The form&#x27;s files and fields are larger than the limit of {CAP} bytes." in page
    assert server.requests == []
    assert Exchange.objects.count() == 0
    # Django reads 64 KiB at a time: the chunk that would pass the cap is not stored.
    assert 0 < sum(_Recording.stored) <= CAP


@pytest.mark.django_db
def test_a_file_body_five_times_the_cap_is_refused_while_received(apis, settings) -> None:
    server, _, bodies = apis
    settings.PORTAL_OUTBOUND_MAX_REQUEST_BODY_BYTES = CAP
    upload = SimpleUploadedFile("big.png", b"x" * (5 * CAP))
    page = Client().post(_try_url(bodies, "uploadAvatar"), {"file": upload}).content.decode()
    assert f"The file is larger than the limit of {CAP} bytes." in page
    assert server.requests == []
    assert sum(_Recording.stored) <= CAP


@pytest.mark.django_db
def test_two_files_together_over_the_cap_are_refused(apis, settings) -> None:
    server, shapes, _ = apis
    settings.PORTAL_OUTBOUND_MAX_REQUEST_BODY_BYTES = 1000
    # One file under the cap, with a text field past it: the form's own check.
    upload = SimpleUploadedFile("small.bin", b"x" * 600)
    page = (
        Client()
        .post(_try_url(shapes, "upload"), {"part-file": upload, "part-title": "t" * 600})
        .content.decode()
    )
    assert "The form&#x27;s files and fields are larger than the limit of 1000 bytes." in page
    assert server.requests == []


@pytest.mark.django_db
def test_a_file_under_the_cap_streams_with_a_content_length(apis, monkeypatch) -> None:
    server, shapes, _ = apis
    content = bytes(range(256)) * 1024  # 256 KiB, NULs included, in a temporary file
    sent: list[object] = []
    real_send = outbound.send

    def watching(request, **kwargs):
        sent.append(request.body)
        return real_send(request, **kwargs)

    monkeypatch.setattr(outbound, "send", watching)
    upload = SimpleUploadedFile("data.bin", content)
    Client().post(_try_url(shapes, "upload"), {"part-file": upload, "part-title": "Q"})
    (request,) = server.requests
    boundary = (request.header("Content-Type") or "").split("boundary=")[1]
    expected = (
        (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="file"; filename="data.bin"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + content
        + (
            f"\r\n--{boundary}\r\n"
            'Content-Disposition: form-data; name="title"\r\n\r\n'
            f"Q\r\n--{boundary}--\r\n"
        ).encode()
    )
    assert request.body == expected
    assert request.header("Content-Length") == str(len(expected))
    assert request.header("Transfer-Encoding") is None
    # Handed to the send as a stream of the uploaded file, not as its bytes.
    (body,) = sent
    assert isinstance(body, StreamedBody)
    assert len(body) == len(expected)
    exchange = Exchange.objects.get()
    assert exchange.values["body"] == f"file: file data.bin ({len(content)} bytes)\ntitle: Q"
    assert "<file data.bin (262144 bytes)>" in exchange.request_body
    assert "\x00" not in exchange.request_body


class _Source:
    """A FileSource whose size is what it says, or lies about it."""

    def __init__(self, data: bytes, *, size: int | None = None) -> None:
        self.data = data
        self.size = len(data) if size is None else size
        self.description = f"file x.bin ({self.size} bytes)"

    def chunks(self) -> Iterator[bytes]:
        yield from (self.data[i : i + 10] for i in range(0, len(self.data), 10))


def _put(server, body: StreamedBody) -> outbound.SendResult:
    request = bind(
        service_url=server.url, method="PUT", template="/blob", template_values={}, body=body
    )
    return outbound.send(request)


def test_an_empty_stream_is_sent_with_content_length_zero(settings) -> None:
    settings.PORTAL_OUTBOUND_ALLOWED_PORTS = ["*"]
    with scripted_server() as server:
        result = _put(server, StreamedBody(pieces=(b"", _Source(b""))))
    assert result.ok
    (request,) = server.requests
    assert (request.body, request.header("Content-Length")) == (b"", "0")
    assert request.header("Transfer-Encoding") is None


def test_a_file_shorter_than_its_size_is_a_protocol_error(settings) -> None:
    settings.PORTAL_OUTBOUND_ALLOWED_PORTS = ["*"]
    with scripted_server() as server:
        result = _put(server, StreamedBody(pieces=(_Source(b"abc", size=5),)))
    assert result.error_kind == ErrorKind.PROTOCOL
    assert result.error_message == "file x.bin (5 bytes) shrank while it was sent"


def test_a_stream_over_the_cap_is_refused_before_sending(settings) -> None:
    settings.PORTAL_OUTBOUND_ALLOWED_PORTS = ["*"]
    settings.PORTAL_OUTBOUND_MAX_REQUEST_BODY_BYTES = 20
    with scripted_server() as server:
        result = _put(server, StreamedBody(pieces=(b"--", _Source(b"x" * 30))))
    assert result.error_kind == ErrorKind.INVALID_INPUT
    assert result.error_message == "The request body is 32 bytes; the portal sends at most 20 bytes"
    assert server.requests == []


@pytest.mark.django_db
def test_the_try_view_still_checks_the_csrf_token(apis) -> None:
    server, _, bodies = apis
    client = Client(enforce_csrf_checks=True)
    upload = SimpleUploadedFile("me.png", b"\x89PNG")
    response = client.post(_try_url(bodies, "uploadAvatar"), {"file": upload})
    assert response.status_code == 403
    assert server.requests == []
