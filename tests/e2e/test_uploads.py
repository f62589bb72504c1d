"""A file upload in Chromium, end to end: picked in Try it, sent, saved, then replayed
from the saved request's page, which lists the kept file; the backend gets the same
bytes both times."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from openapi.sync import import_openapi
from tests.backends import RecordedRequest, ScriptedServer, reply_with, scripted_server
from tests.e2e.conftest import problems_of, result_status, screenshot, send, sign_in
from tests.e2e.test_body_types import DOCUMENT
from tests.factories import make_user

pytestmark = pytest.mark.django_db(transaction=True)

PHOTO = bytes(range(256)) * 48  # 12 KB, NULs included


@pytest.fixture
def backend(settings) -> Iterator[ScriptedServer]:
    settings.PORTAL_OUTBOUND_ALLOWED_PORTS = ["*"]
    settings.PORTAL_RUNS_IN_BACKGROUND = False
    with scripted_server(reply_with(201, body=b"stored")) as server:
        import_openapi(document=DOCUMENT, api_slug="reports", service_url=server.url)
        yield server


def _file_part(request: RecordedRequest) -> bytes:
    boundary = (request.header("Content-Type") or "").split("boundary=")[1].encode()
    (part,) = [p for p in request.body.split(b"--" + boundary) if b'name="file"' in p]
    return part.split(b"\r\n\r\n", 1)[1].removesuffix(b"\r\n")


def test_an_uploaded_file_is_saved_and_replayed(page: Page, live_server, backend, tmp_path) -> None:
    make_user("tess")
    photo = tmp_path / "photo.png"
    photo.write_bytes(PHOTO)
    sign_in(page, live_server.url, "tess")
    page.goto(f"{live_server.url}/apis/reports/operations/upload/")
    page.get_by_label("file").set_input_files(str(photo))
    send(page)
    assert result_status(page).startswith("201")
    problems_of(page).assert_none()

    page.locator("nav.navbar").get_by_role("link", name="History").click()
    page.locator("table.history tbody tr").first.get_by_role("link", name="Open").click()
    page.get_by_role("link", name="Save", exact=True).click()
    page.get_by_label("New collection name").fill("Uploads")
    page.get_by_role("button", name="Save").click()
    row = page.locator("[data-kept-file=part-file]")
    expect(row).to_contain_text("photo.png")
    expect(row).to_contain_text("12 KB")
    screenshot(page, "uploads-saved-file")

    page.get_by_role("button", name="Replay").click()
    page.locator("#replay-outcome").wait_for()
    expect(page.locator("#replay-outcome #result [data-status]")).to_have_text("201 Created")
    sent, replayed = backend.requests
    assert _file_part(replayed) == _file_part(sent) == PHOTO
    assert b'filename="photo.png"' in replayed.body
    problems_of(page).assert_none()
