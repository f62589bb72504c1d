"""The request Try it sends for shapes real documents use, byte for byte as the backend
receives it: a path documented with a fragment, an optional credential left empty, a
body on DELETE."""

from __future__ import annotations

import pytest
from django.test import Client

from catalog.models import Operation
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
