"""Code samples for bodies that hold files or fields: the samples' form has none, so a
file is a name the reader replaces, read by the client (curl --form/--data-binary,
Python files=), never a "This field is required" error; nor is a required field of a
urlencoded field list or a multipart text part left empty: it is a placeholder."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from bs4 import BeautifulSoup
from django.test import Client

from catalog.models import Operation
from openapi.sync import import_openapi
from tests.markup import attr, one

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


def _panel(api, operation_id: str, data: dict) -> BeautifulSoup:
    operation = Operation.objects.get(api=api, operation_id=operation_id)
    url = f"/apis/{api.slug}/operations/{operation.slug}/samples"
    return BeautifulSoup(Client().post(url, data).content, "html.parser")


def _codes(page: BeautifulSoup) -> dict[str, str]:
    return {
        attr(pane, "data-sample"): one(pane, "pre code").get_text()
        for pane in page.select("[data-sample]")
    }


def _marks(page: BeautifulSoup) -> dict[str, list[str]]:
    return {
        attr(pane, "data-sample"): [mark.get_text() for mark in pane.select("mark")]
        for pane in page.select("[data-sample]")
    }


ORDERS = "http://testserver/gateway/bodies/orders"


@pytest.mark.django_db
def test_an_empty_required_urlencoded_field_is_a_placeholder_in_the_body(api) -> None:
    page = _panel(
        api,
        "createOrder",
        {
            "content_type": "application/x-www-form-urlencoded",
            "field-sku": "",
            "field-quantity": "2",
            "field-gift": "",
        },
    )
    assert page.select_one("[data-samples-errors]") is None
    notes = [li.get_text() for li in page.select("[data-samples-placeholders] li")]
    assert notes == ["Fill sku to run this"]
    codes = _codes(page)
    assert codes["curl"] == (
        f"curl --request POST '{ORDERS}' \\\n"
        "  --header 'Content-Type: application/x-www-form-urlencoded' \\\n"
        "  --data-raw 'sku={sku}&quantity=2'"
    )
    # The placeholder is a field's value: requests encodes what the reader puts there.
    assert codes["python"] == (
        "import requests\n"
        "\n"
        f'url = "{ORDERS}"\n'
        "headers = {\n"
        '    "Content-Type": "application/x-www-form-urlencoded",\n'
        "}\n"
        "data = {\n"
        '    "sku": "{sku}",\n'
        '    "quantity": "2",\n'
        "}\n"
        "\n"
        'response = requests.request("POST", url, headers=headers, data=data, timeout=30)\n'
        "print(response.status_code, response.reason)\n"
        "print(response.text)"
    )
    assert codes["http"] == (
        "POST /gateway/bodies/orders HTTP/1.1\n"
        "Host: testserver\n"
        "Content-Type: application/x-www-form-urlencoded\n"
        "Content-Length: 20\n"
        "\n"
        "sku={sku}&quantity=2"
    )
    assert "request.body = 'sku={sku}&quantity=2'\n" in codes["ruby"]
    assert _marks(page) == {language: ["{sku}"] for language in codes}


@pytest.mark.django_db
def test_an_empty_required_array_field_is_a_placeholder_and_an_object_field_an_error(
    api,
) -> None:
    data = {
        "field-mode": "",
        "field-card": '{"number": "4242424242424242", "address": {"city": "Paris"}}',
        "field-metadata": "",
        "field-colors": "",
    }
    page = _panel(api, "checkout", data)
    notes = [li.get_text() for li in page.select("[data-samples-placeholders] li")]
    assert notes == ["Fill mode to run this", "Fill colors to run this"]
    assert _codes(page)["http"].split("\n")[-1] == (
        "mode={mode}&card[number]=4242424242424242&card[address][city]=Paris&colors={colors}"
    )
    # A JSON object cannot hold a placeholder: the form's error stays.
    page = _panel(api, "checkout", {**data, "field-card": ""})
    assert page.select("pre") == []
    assert "card: This field is required." in one(page, "[data-samples-errors]").get_text()


@pytest.mark.django_db
def test_an_empty_required_multipart_text_part_is_a_placeholder(api) -> None:
    page = _panel(
        api,
        "createOrder",
        {"content_type": "multipart/form-data", "part-sku": "", "part-quantity": "2"},
    )
    notes = [li.get_text() for li in page.select("[data-samples-placeholders] li")]
    assert notes == ["Fill sku to run this", "Choose a file for receipt to run this"]
    codes = _codes(page)
    assert codes["curl"] == (
        f"curl --request POST '{ORDERS}' \\\n"
        "  --form-string 'sku={sku}' \\\n"
        "  --form-string 'quantity=2' \\\n"
        "  --form 'receipt=@<file>'"
    )
    assert codes["python"] == (
        "import requests\n"
        "\n"
        f'url = "{ORDERS}"\n'
        "data = {\n"
        '    "sku": "{sku}",\n'
        '    "quantity": "2",\n'
        "}\n"
        "files = {\n"
        '    "receipt": ("<file>", open("<file>", "rb"), "application/octet-stream"),\n'
        "}\n"
        "\n"
        'response = requests.request("POST", url, data=data, files=files, timeout=30)\n'
        "print(response.status_code, response.reason)\n"
        "print(response.text)"
    )
    match = re.search(r"boundary=([0-9a-f]+)", codes["http"])
    assert match is not None
    boundary = match.group(1)
    body = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="sku"\r\n\r\n'
        "{sku}\r\n"
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="quantity"\r\n\r\n'
        "2\r\n"
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="receipt"; filename="<file>"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
        "<file contents>\r\n"
        f"--{boundary}--\r\n"
    )
    assert codes["http"] == (
        "POST /gateway/bodies/orders HTTP/1.1\n"
        "Host: testserver\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\n"
        f"Content-Length: {len(body.encode())}\n"
        "\n" + body
    )
    assert '    "{sku}\\r\\n" +\n' in codes["javascript"]
    marks = _marks(page)
    assert marks["curl"] == ["{sku}", "<file>"]
    assert marks["python"] == ["{sku}", "<file>", "<file>"]
