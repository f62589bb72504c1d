"""Body types in Chromium: a multipart form with a file picked from disk, and a
Stripe-style urlencoded body prefilled with nested brackets."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, ViewportSize, expect

from openapi.sync import import_openapi
from tests.backends import ScriptedServer, reply_with, scripted_server
from tests.e2e.conftest import problems_of, result_status, screenshot, send

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = ViewportSize(width=390, height=844)
LAPTOP = ViewportSize(width=1366, height=768)

DOCUMENT = {
    "openapi": "3.0.3",
    "info": {"title": "Reports", "version": "1"},
    "paths": {
        "/uploads": {
            "post": {
                "operationId": "upload",
                "summary": "Upload a report",
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
                                },
                            }
                        }
                    },
                },
                "responses": {"201": {"description": "uploaded"}},
            }
        },
        "/sessions": {
            "post": {
                "operationId": "createSession",
                "summary": "Create a session",
                "requestBody": {
                    "content": {
                        "application/x-www-form-urlencoded": {
                            "schema": {"type": "object"},
                            "encoding": {"after_expiration": {"style": "deepObject"}},
                            "example": {
                                "mode": "payment",
                                "after_expiration": {"recovery": {"enabled": True}},
                            },
                        }
                    }
                },
                "responses": {"200": {"description": "made"}},
            }
        },
    },
}


@pytest.fixture
def backend(settings) -> Iterator[ScriptedServer]:
    settings.PORTAL_OUTBOUND_ALLOWED_PORTS = ["*"]
    with scripted_server(reply_with(201, body=b"stored")) as server:
        import_openapi(document=DOCUMENT, api_slug="reports", service_url=server.url)
        yield server


def test_a_file_picked_in_the_form_reaches_the_backend(
    page: Page, live_server, backend, tmp_path
) -> None:
    report = tmp_path / "q3.csv"
    report.write_bytes(b"region,total\neu,12\n")
    page.set_viewport_size(LAPTOP)
    page.goto(f"{live_server.url}/apis/reports/operations/upload/")
    expect(page.get_by_label("title")).to_have_value("Quarterly")
    page.get_by_label("file").set_input_files(str(report))
    screenshot(page, "body-multipart-1366")
    page.set_viewport_size(PHONE)
    screenshot(page, "body-multipart-390")
    page.set_viewport_size(LAPTOP)
    send(page)
    assert result_status(page).startswith("201")
    (request,) = backend.requests
    assert (request.header("Content-Type") or "").startswith("multipart/form-data; boundary=")
    assert b'name="file"; filename="q3.csv"' in request.body
    assert b"region,total\neu,12\n" in request.body
    assert b'name="title"\r\n\r\nQuarterly\r\n' in request.body
    problems_of(page).assert_none()


def test_a_nested_form_body_is_prefilled_with_brackets(page: Page, live_server, backend) -> None:
    page.set_viewport_size(LAPTOP)
    page.goto(f"{live_server.url}/apis/reports/operations/create-session/")
    body = page.locator("textarea[name=body]")
    expect(body).to_have_value("mode=payment&after_expiration[recovery][enabled]=true")
    send(page)
    assert result_status(page).startswith("201")
    (request,) = backend.requests
    assert request.body == b"mode=payment&after_expiration[recovery][enabled]=true"
    assert request.header("Content-Type") == "application/x-www-form-urlencoded"
    problems_of(page).assert_none()


CHOICES = {
    "openapi": "3.0.3",
    "info": {"title": "Blobs", "version": "1"},
    "paths": {
        "/blobs": {
            "post": {
                "operationId": "storeBlob",
                "summary": "Store a blob",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {"name": {"type": "string", "example": "a"}},
                            }
                        },
                        "application/xml": {
                            "schema": {
                                "type": "object",
                                "xml": {"name": "blob"},
                                "properties": {"name": {"type": "string", "example": "a"}},
                            }
                        },
                        "application/octet-stream": {
                            "schema": {"type": "string", "format": "binary"}
                        },
                    },
                },
                "responses": {"201": {"description": "stored"}},
            }
        }
    },
}


def test_switching_content_type_then_uploading_a_file_sends_its_bytes(
    page: Page, live_server, settings, tmp_path
) -> None:
    settings.PORTAL_OUTBOUND_ALLOWED_PORTS = ["*"]
    blob = tmp_path / "blob.bin"
    blob.write_bytes(b"\x00\x01binary\xff")
    with scripted_server(reply_with(201, body=b"stored")) as server:
        import_openapi(document=CHOICES, api_slug="blobs", service_url=server.url)
        page.set_viewport_size(LAPTOP)
        page.goto(f"{live_server.url}/apis/blobs/operations/store-blob/")
        select = page.get_by_label("Content type")
        expect(select).to_have_value("application/json")
        expect(page.locator("textarea[name=body]")).to_contain_text('"name": "a"')
        select.select_option("application/xml")
        expect(page.locator("textarea[name=body]")).to_have_value(
            '<?xml version="1.0" encoding="UTF-8"?>\n<blob>\n  <name>a</name>\n</blob>'
        )
        screenshot(page, "content-type-xml-1366")
        select = page.get_by_label("Content type")
        select.select_option("application/octet-stream")
        expect(page.locator("textarea[name=body]")).to_have_count(0)
        page.get_by_label("File (application/octet-stream)").set_input_files(str(blob))
        # The samples follow the swapped editor, the file read by name.
        expect(page.locator("#sample-curl pre code")).to_contain_text("--data-binary '@<file>'")
        screenshot(page, "content-type-file-1366")
        page.set_viewport_size(PHONE)
        screenshot(page, "content-type-file-390")
        page.set_viewport_size(LAPTOP)
        send(page)
        assert result_status(page).startswith("201")
        (request,) = server.requests
    assert request.header("Content-Type") == "application/octet-stream"
    assert request.body == b"\x00\x01binary\xff"
    expect(page.get_by_label("Content type")).to_have_value("application/octet-stream")
    screenshot(page, "content-type-sent-1366")
    problems_of(page).assert_none()
