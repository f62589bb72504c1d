"""The request Try it sends for shapes real documents use, byte for byte as the backend
receives it: a path documented with a fragment, an optional credential left empty, a
body on DELETE."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from catalog.models import Operation
from console.models import Exchange
from openapi.sync import import_openapi
from tests.backends import scripted_server
from tests.tryit_user import send_as_prefilled

DOCUMENT = {
    "openapi": "3.0.3",
    "info": {"title": "Shapes", "version": "1"},
    "components": {
        "securitySchemes": {"BotToken": {"type": "apiKey", "in": "header", "name": "Authorization"}}
    },
    "paths": {
        "/files/{file_id}": {
            "post": {
                "operationId": "updateFile",
                "parameters": [{"name": "file_id", "in": "path", "required": True, "example": "1"}],
                "responses": {"200": {"description": "ok"}},
            }
        },
        "/files/{file_id}#remove_shared_link": {
            "post": {
                "operationId": "removeSharedLink",
                "parameters": [
                    {"name": "file_id", "in": "path", "required": True, "example": "12345"}
                ],
                "responses": {"204": {"description": "removed"}},
            }
        },
        "/uploads": {
            "post": {
                "operationId": "upload",
                "requestBody": {
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "required": ["file"],
                                "properties": {
                                    "file": {"type": "string", "format": "binary"},
                                    "title": {"type": "string", "example": "Quarterly"},
                                    "pages": {"type": "integer"},
                                },
                            }
                        }
                    },
                },
                "responses": {"201": {"description": "uploaded"}},
            }
        },
        "/me": {
            "get": {
                "operationId": "whoAmI",
                "security": [{}, {"BotToken": []}],
                "responses": {"200": {"description": "you"}},
            }
        },
        "/bots": {
            "get": {
                "operationId": "listBots",
                "security": [{"BotToken": []}],
                "responses": {"200": {"description": "bots"}},
            }
        },
        "/jobs/{job_id}": {
            "delete": {
                "operationId": "deleteJob",
                "parameters": [{"name": "job_id", "in": "path", "required": True, "example": 7}],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["reason"],
                                "properties": {"reason": {"type": "string", "enum": ["obsolete"]}},
                            }
                        }
                    },
                },
                "responses": {"204": {"description": "deleted"}},
            }
        },
    },
}


@pytest.fixture
def backend(settings):
    settings.PORTAL_OUTBOUND_ALLOWED_PORTS = ["*"]
    with scripted_server() as server:
        summary = import_openapi(document=DOCUMENT, service_url=server.url)
        yield server, summary.api


def _operation(api, operation_id: str) -> Operation:
    return Operation.objects.get(api=api, operation_id=operation_id)


@pytest.mark.django_db
def test_a_fragment_names_the_operation_and_is_never_sent(backend) -> None:
    server, api = backend
    operation = _operation(api, "removeSharedLink")
    assert operation.url_template == "/files/{file_id}"
    # Two operations on one path and method stay two operations.
    assert _operation(api, "updateFile").slug != operation.slug
    exchange = send_as_prefilled(client=Client(), operation=operation)
    assert exchange is not None
    assert [(r.method, r.target) for r in server.requests] == [("POST", "/files/12345")]


@pytest.mark.django_db
def test_an_optional_credential_left_empty_sends_no_header(backend) -> None:
    server, api = backend
    operation = _operation(api, "whoAmI")
    exchange = send_as_prefilled(client=Client(), operation=operation)
    assert exchange is not None and exchange.status_code == 200
    (request,) = server.requests
    assert request.header("Authorization") is None
    assert "Authorization" not in [name for name, _ in exchange.request_headers]


@pytest.mark.django_db
def test_a_credential_row_with_only_its_scheme_word_is_not_sent(backend) -> None:
    server, api = backend
    operation = _operation(api, "whoAmI")
    page = Client().get(operation.get_absolute_url()).content.decode()
    client = Client()
    client.post(
        f"/apis/{api.slug}/operations/{operation.slug}/try",
        {"header_name": ["Authorization", ""], "header_value": ["Bearer ", ""]},
    )
    assert "Authorization" in page
    (request,) = server.requests
    assert request.header("Authorization") is None


@pytest.mark.django_db
def test_a_required_credential_left_empty_is_a_form_error_and_nothing_is_sent(backend) -> None:
    server, api = backend
    operation = _operation(api, "listBots")
    parameter = operation.parameters.get(name="Authorization")
    parameter.required = True
    parameter.save()
    response = Client().post(
        f"/apis/{api.slug}/operations/{operation.slug}/try",
        {"header_name": ["Authorization"], "header_value": ["  "]},
    )
    assert "The header Authorization is required." in response.content.decode()
    assert server.requests == []


@pytest.mark.django_db
def test_a_delete_the_document_gives_a_body_sends_it(backend) -> None:
    server, api = backend
    operation = _operation(api, "deleteJob")
    assert operation.takes_body
    exchange = send_as_prefilled(client=Client(), operation=operation)
    assert exchange is not None
    (request,) = server.requests
    assert (request.method, request.target) == ("DELETE", "/jobs/7")
    assert request.header("Content-Type") == "application/json"
    assert request.body.decode().replace(" ", "").replace("\n", "") == '{"reason":"obsolete"}'


def _upload(api, *, file, settings=None, **fields):
    operation = _operation(api, "upload")
    return Client().post(
        f"/apis/{api.slug}/operations/{operation.slug}/try", {"part-file": file, **fields}
    )


@pytest.mark.django_db
def test_a_multipart_body_sends_the_file_with_a_boundary(backend) -> None:
    server, api = backend
    upload = SimpleUploadedFile("report.csv", b"a,b\n1,2\n", content_type="text/csv")
    _upload(api, file=upload, **{"part-title": "Quarterly", "part-pages": ""})
    (request,) = server.requests
    content_type = request.header("Content-Type") or ""
    assert content_type.startswith("multipart/form-data; boundary=")
    boundary = content_type.split("boundary=")[1].encode()
    body = request.body
    assert body.startswith(b"--" + boundary + b"\r\n")
    assert (
        b'Content-Disposition: form-data; name="file"; filename="report.csv"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\na,b\n1,2\n\r\n"
    ) in body
    assert b'Content-Disposition: form-data; name="title"\r\n\r\nQuarterly\r\n' in body
    # An optional field left empty is not a part.
    assert b'name="pages"' not in body
    exchange = Exchange.objects.get()
    assert exchange.values["body"] == "file: file report.csv (8 bytes)\ntitle: Quarterly"


@pytest.mark.django_db
def test_a_file_name_cannot_add_or_split_part_headers(backend) -> None:
    server, api = backend
    hostile = 'C:\\fakepath\\x"\r\nContent-Type: text/html\r\n\r\n<b>.txt'
    _upload(api, file=SimpleUploadedFile(hostile, b"data"))
    (request,) = server.requests
    headers = request.body.split(b"\r\n\r\n", 1)[0].decode()
    lines = headers.split("\r\n")
    # What is left of the name after its last slash, the quote escaped: one
    # Content-Disposition line, no header of the file name's own.
    assert lines[1] == 'Content-Disposition: form-data; name="file"; filename="%22html"'
    assert lines[2] == "Content-Type: application/octet-stream"
    assert len(lines) == 3


@pytest.mark.django_db
def test_a_required_file_left_out_is_a_form_error_and_nothing_is_sent(backend) -> None:
    server, api = backend
    operation = _operation(api, "upload")
    response = Client().post(
        f"/apis/{api.slug}/operations/{operation.slug}/try", {"part-title": "x"}
    )
    assert "This field is required." in response.content.decode()
    assert server.requests == []


@pytest.mark.django_db
def test_files_over_the_body_limit_are_refused_and_nothing_is_sent(backend, settings) -> None:
    server, api = backend
    settings.PORTAL_OUTBOUND_MAX_REQUEST_BODY_BYTES = 1000
    response = _upload(api, file=SimpleUploadedFile("big.bin", b"x" * 1001))
    assert (
        "The form&#x27;s files and fields are larger than the limit of 1000 bytes."
        in response.content.decode()
    )
    assert server.requests == []
