"""Code samples for bodies that hold files: the samples' form has none, so a file is a
name the reader replaces, read by the client (curl --form/--data-binary, Python files=),
never a "This field is required" error."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from bs4 import BeautifulSoup
from django.test import Client

from catalog.models import Operation
from openapi.sync import import_openapi

SPEC = Path(__file__).resolve().parent.parent / "specs" / "oas30-bodies.yaml"


@pytest.fixture
def api():
    document = yaml.safe_load(SPEC.read_text())
    return import_openapi(
        document=document, api_slug="bodies", service_url="https://bodies.example.com"
    ).api


def _samples(api, operation_id: str, data: dict) -> str:
    operation = Operation.objects.get(api=api, operation_id=operation_id)
    url = f"/apis/{api.slug}/operations/{operation.slug}/samples"
    page = BeautifulSoup(Client().post(url, data).content, "html.parser")
    return "\n\n".join(code.get_text() for code in page.select("pre code")) + page.get_text()


@pytest.mark.django_db
def test_a_file_body_sample_reads_the_file(api) -> None:
    page = _samples(api, "putBlob", {"param-template-blob_id": "b1", "lang": "curl"})
    assert "required" not in page
    assert "--header 'Content-Type: application/octet-stream'" in page
    assert "--data-binary '@<file>'" in page
    assert 'body = open("<file>", "rb")' in page


@pytest.mark.django_db
def test_a_multipart_sample_sends_its_files_as_form_parts(api) -> None:
    page = _samples(
        api,
        "createOrder",
        {"content_type": "multipart/form-data", "part-sku": "@etc/passwd", "part-quantity": "2"},
    )
    assert "required" not in page
    assert "--form-string 'sku=@etc/passwd'" in page  # a value, never a file curl reads
    assert "--form 'receipt=@<file>'" in page
    curl = page.split("\n\n")[0]
    assert "Content-Type" not in curl  # curl writes the boundary
    # The part's type as Try it sends it: none documented, application/octet-stream.
    assert '"receipt": ("<file>", open("<file>", "rb"), "application/octet-stream"),' in page


def _placeholder_notes(api, operation_id: str, data: dict) -> tuple[list[str], list[str]]:
    """The panel's list of what to fill, and the marked text in the Python sample."""
    operation = Operation.objects.get(api=api, operation_id=operation_id)
    url = f"/apis/{api.slug}/operations/{operation.slug}/samples"
    page = BeautifulSoup(Client().post(url, data).content, "html.parser")
    notes = [li.get_text() for li in page.select("[data-samples-placeholders] li")]
    return notes, [mark.get_text() for mark in page.select("#sample-python mark")]


@pytest.mark.django_db
def test_a_file_is_a_placeholder_the_panel_asks_for(api) -> None:
    notes, marked = _placeholder_notes(api, "putBlob", {"param-template-blob_id": "b1"})
    assert notes == ["Choose a file to run this"]
    assert marked == ["<file>"]
    notes, marked = _placeholder_notes(
        api,
        "createOrder",
        {"content_type": "multipart/form-data", "part-sku": "s1", "part-quantity": "2"},
    )
    assert notes == ["Choose a file for receipt to run this"]
    assert marked == ["<file>", "<file>"]  # the part's file name, and the file read
