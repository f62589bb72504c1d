"""Every body type Try it offers, byte for byte as a loopback backend receives it, and
each body form error with nothing sent: the Content type select, urlencoded field
lists, text and XML bodies, files sent as the body."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from bs4 import BeautifulSoup
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from catalog.models import Operation
from console.models import Exchange
from openapi.sync import import_openapi
from testing.actions import save_exchange
from testing.preparation import StepFailed, prepare
from testing.replay import run_saved_request
from tests.backends import scripted_server
from tests.markup import attr, one
from tests.prism import prism_mock, violations
from tests.tryit_user import send_as_prefilled

SPEC = Path(__file__).resolve().parent.parent / "specs" / "oas30-bodies.yaml"
DOCUMENT = yaml.safe_load(SPEC.read_text())
MULTI_TYPES = ["application/json", "application/x-www-form-urlencoded", "multipart/form-data"]
EXPECTED_XML = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<p:pet xmlns:p="https://pets.example.com/ns" id="1">\n'
    "  <petName>string</petName>\n"
    "  <tags>\n"
    "    <tag>friendly</tag>\n"
    "  </tags>\n"
    "</p:pet>"
)


@pytest.fixture
def backend(settings):
    settings.PORTAL_OUTBOUND_ALLOWED_PORTS = ["*"]
    with scripted_server() as server:
        summary = import_openapi(document=DOCUMENT, api_slug="bodies", service_url=server.url)
        yield server, summary.api


def _operation(api, operation_id: str) -> Operation:
    return Operation.objects.get(api=api, operation_id=operation_id)


def _try_url(operation: Operation) -> str:
    return f"/apis/{operation.api.slug}/operations/{operation.slug}/try"


@pytest.mark.django_db
def test_the_content_type_select_lists_the_documented_types_json_first(backend) -> None:
    _, api = backend
    page = Client().get(_operation(api, "createOrder").get_absolute_url()).content.decode()
    assert 'name="content_type"' in page and "Content type" in page
    for media in MULTI_TYPES:
        assert f'<option value="{media}"' in page
    assert '<option value="application/json" selected>' in page
    assert 'name="body"' in page


@pytest.mark.django_db
def test_each_documented_type_is_sent_with_its_content_type(backend) -> None:
    server, api = backend
    operation = _operation(api, "createOrder")
    client = Client()
    for media in MULTI_TYPES:
        exchange = send_as_prefilled(client=client, operation=operation, content_type=media)
        assert exchange is not None and exchange.values["content_type"] == media
    json_body, form_body, multipart_body = server.requests
    assert json_body.header("Content-Type") == "application/json"
    assert json_body.body == b'{\n  "sku": "ABC-1",\n  "quantity": 2,\n  "gift": true\n}'
    assert form_body.header("Content-Type") == "application/x-www-form-urlencoded"
    assert form_body.body == b"sku=ABC-1&quantity=2&gift=true"
    content_type = multipart_body.header("Content-Type") or ""
    assert content_type.startswith("multipart/form-data; boundary=")
    assert b'name="receipt"; filename="report.txt"' in multipart_body.body
    assert b'name="sku"\r\n\r\nABC-1\r\n' in multipart_body.body


@pytest.mark.django_db
@pytest.mark.usefixtures("backend")
def test_prism_accepts_each_documented_type_of_one_operation(settings) -> None:
    settings.PORTAL_TRY_IT_RATE_LIMIT = 10_000
    with prism_mock(SPEC) as url:
        summary = import_openapi(document=DOCUMENT, api_slug="judged", service_url=url)
        operation = _operation(summary.api, "createOrder")
        client = Client()
        verdicts = {}
        for media in MULTI_TYPES:
            exchange = send_as_prefilled(client=client, operation=operation, content_type=media)
            assert exchange is not None and exchange.status_code is not None
            verdicts[media] = violations(
                headers=exchange.response_headers, body=bytes(exchange.response_body)
            )
    assert verdicts == {media: [] for media in MULTI_TYPES}


@pytest.mark.django_db
def test_an_undocumented_content_type_is_a_form_error_and_nothing_is_sent(backend) -> None:
    server, api = backend
    operation = _operation(api, "createOrder")
    response = Client().post(
        _try_url(operation), {"content_type": "text/html\r\nX-Injected: 1", "body": "{}"}
    )
    page = response.content.decode()
    assert (
        "The content type text/html\\r\\nX-Injected: 1 is not one this operation documents "
        "(application/json, application/x-www-form-urlencoded, multipart/form-data)."
    ) in page
    assert server.requests == []
    assert Exchange.objects.count() == 0


@pytest.mark.django_db
def test_a_urlencoded_field_list_is_encoded_as_its_encoding_says(backend) -> None:
    server, api = backend
    operation = _operation(api, "checkout")
    page = Client().get(operation.get_absolute_url()).content.decode()
    assert 'name="field-mode"' in page and 'name="field-card"' in page
    assert 'name="body"' not in page  # fields only, as Swagger UI shows them
    Client().post(
        _try_url(operation),
        {
            "content_type": "application/x-www-form-urlencoded",
            "field-mode": "payment",
            "field-card": '{"number": "4242424242424242", "address": {"city": "Saint-Étienne"}}',
            "field-metadata": '{"ref": "a b", "tag": "x&y"}',
            "field-colors": "red\nblue",
        },
    )
    (request,) = server.requests
    assert request.header("Content-Type") == "application/x-www-form-urlencoded"
    assert request.body == (
        b"mode=payment&card[number]=4242424242424242"
        b"&card[address][city]=Saint-%C3%89tienne&ref=a%20b&tag=x%26y&colors=red%2Cblue"
    )


@pytest.mark.django_db
def test_a_posted_field_the_document_does_not_name_is_never_sent(backend) -> None:
    server, api = backend
    operation = _operation(api, "checkout")
    Client().post(
        _try_url(operation),
        {
            "content_type": "application/x-www-form-urlencoded",
            "field-mode": "setup",
            "field-card": '{"number": "4242424242424242", "address": {"city": "Paris"}}',
            "field-colors": "red\nblue",
            "field-admin": "true",
            "field-mode[x]": "1",
        },
    )
    (request,) = server.requests
    assert request.body == (
        b"mode=setup&card[number]=4242424242424242&card[address][city]=Paris&colors=red%2Cblue"
    )


@pytest.mark.django_db
def test_an_exploded_array_field_repeats_its_key(backend) -> None:
    server, api = backend
    operation = _operation(api, "createOrder")
    document = operation.openapi
    content = document["requestBody"]["content"]["application/x-www-form-urlencoded"]
    content["schema"] = {
        "type": "object",
        "properties": {"tags": {"type": "array", "items": {"type": "string"}}},
    }
    operation.save()
    Client().post(
        _try_url(operation),
        {"content_type": "application/x-www-form-urlencoded", "field-tags": '["a", "b c"]'},
    )
    (request,) = server.requests
    assert request.body == b"tags=a&tags=b%20c"


@pytest.mark.django_db
def test_a_field_that_is_not_json_where_an_object_is_documented_is_refused(backend) -> None:
    server, api = backend
    operation = _operation(api, "checkout")
    page = (
        Client()
        .post(
            _try_url(operation),
            {
                "content_type": "application/x-www-form-urlencoded",
                "field-mode": "payment",
                "field-card": "number=1",
                "field-colors": "red",
            },
        )
        .content.decode()
    )
    assert "Enter a JSON object." in page
    assert server.requests == []


@pytest.mark.django_db
def test_a_text_body_is_sent_as_typed(backend) -> None:
    server, api = backend
    operation = _operation(api, "createNote")
    page = Client().get(operation.get_absolute_url()).content.decode()
    assert "Remember the milk" in page and "Body (text/plain)" in page
    Client().post(_try_url(operation), {"content_type": "text/plain", "body": "a\r\nb <c>"})
    (request,) = server.requests
    assert request.header("Content-Type") == "text/plain"
    assert request.body == b"a\r\nb <c>"


@pytest.mark.django_db
def test_an_xml_example_follows_the_schemas_xml_objects(backend) -> None:
    server, api = backend
    operation = _operation(api, "addPet")
    exchange = send_as_prefilled(client=Client(), operation=operation)
    assert exchange is not None
    (request,) = server.requests
    assert request.header("Content-Type") == "application/xml"
    assert request.body.decode() == EXPECTED_XML


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("<pet><name>x</pet>", "Invalid XML: mismatched tag at line 1, column 15."),
        ("<pet>", "Invalid XML: no element found at line 1, column 6."),
        (
            '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>',
            "Invalid XML: entity declarations (&lt;!ENTITY&gt;) are not allowed.",
        ),
    ],
)
def test_malformed_or_entity_xml_is_a_form_error_and_nothing_is_sent(
    backend, body: str, error: str
) -> None:
    server, api = backend
    operation = _operation(api, "addPet")
    page = Client().post(_try_url(operation), {"body": body}).content.decode()
    assert error in page
    assert server.requests == []


@pytest.mark.django_db
def test_a_file_is_sent_as_the_body_with_the_chosen_content_type(backend) -> None:
    server, api = backend
    operation = _operation(api, "putBlob")
    page = Client().get(operation.get_absolute_url()).content.decode()
    assert 'type="file" name="file"' in page and 'enctype="multipart/form-data"' in page
    data = bytes(range(256))
    upload = SimpleUploadedFile("../dir/blob.bin", data, content_type="text/html")
    Client().post(_try_url(operation), {"param-template-blob_id": "b1", "file": upload})
    (request,) = server.requests
    assert (request.method, request.target) == ("PUT", "/blobs/b1")
    assert request.header("Content-Type") == "application/octet-stream"  # not the browser's
    assert request.body == data
    exchange = Exchange.objects.get()
    assert exchange.values["body"] == "file blob.bin (256 bytes)"
    assert exchange.values["content_type"] == "application/octet-stream"
    # The history describes the file, never keeps its bytes as text.
    assert exchange.request_body == "<file blob.bin (256 bytes)>"


@pytest.mark.django_db
def test_an_image_is_sent_with_its_documented_type(backend) -> None:
    server, api = backend
    operation = _operation(api, "uploadAvatar")
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 8
    Client().post(_try_url(operation), {"file": SimpleUploadedFile("me.png", png)})
    (request,) = server.requests
    assert request.header("Content-Type") == "image/png"
    assert request.body == png


@pytest.mark.django_db
def test_a_file_over_the_limit_is_a_form_error_and_nothing_is_sent(backend, settings) -> None:
    settings.PORTAL_OUTBOUND_MAX_REQUEST_BODY_BYTES = 10
    server, api = backend
    operation = _operation(api, "uploadAvatar")
    page = (
        Client()
        .post(_try_url(operation), {"file": SimpleUploadedFile("big.png", b"x" * 11)})
        .content.decode()
    )
    assert "The file is larger than the limit of 10 bytes." in page
    assert server.requests == []


@pytest.mark.django_db
def test_a_required_file_left_out_is_a_form_error_and_nothing_is_sent(backend) -> None:
    server, api = backend
    page = Client().post(_try_url(_operation(api, "uploadAvatar")), {}).content.decode()
    assert "This field is required." in page
    assert server.requests == []


@pytest.mark.django_db
def test_try_again_opens_the_editor_of_the_type_sent(backend) -> None:
    _, api = backend
    operation = _operation(api, "createOrder")
    client = Client()
    exchange = send_as_prefilled(
        client=client, operation=operation, content_type="application/x-www-form-urlencoded"
    )
    assert exchange is not None
    page = client.get(operation.get_absolute_url(), {"from": exchange.pk}).content.decode()
    assert '<option value="application/x-www-form-urlencoded" selected>' in page
    assert 'name="field-sku"' in page and 'value="ABC-1"' in page


@pytest.mark.django_db
def test_the_select_swaps_only_the_body_editor(backend) -> None:
    _, api = backend
    operation = _operation(api, "createOrder")
    page = (
        Client()
        .get(operation.get_absolute_url(), {"content_type": "multipart/form-data"})
        .content.decode()
    )
    assert 'hx-select="#body-editor"' in page
    assert '<option value="multipart/form-data" selected>' in page
    assert 'name="part-receipt"' in page and 'name="body"' not in page


@pytest.mark.django_db
def test_a_saved_request_is_replayed_with_the_type_it_was_sent_with(backend) -> None:
    _, api = backend
    operation = _operation(api, "createOrder")
    user = User.objects.create_user("tester", password="pw-12345-long")
    client = Client()
    client.force_login(user)
    exchange = send_as_prefilled(
        client=client, operation=operation, content_type="application/x-www-form-urlencoded"
    )
    assert exchange is not None
    saved = save_exchange(exchange=exchange, user=user, name="form", collection=None)
    assert saved.values["content_type"] == "application/x-www-form-urlencoded"
    prepared = prepare(saved=saved, chained={}, user=user)
    assert dict(prepared.request.headers)["Content-Type"] == "application/x-www-form-urlencoded"
    assert prepared.request.body == b"sku=ABC-1&quantity=2&gift=true"


@pytest.mark.django_db
def test_a_share_link_opens_the_chosen_type(backend) -> None:
    _, api = backend
    operation = _operation(api, "createOrder")
    url = f"/apis/{api.slug}/operations/{operation.slug}/samples"
    page = (
        Client()
        .post(url, {"content_type": "application/x-www-form-urlencoded", "field-sku": "XYZ-9"})
        .content.decode()
    )
    assert "?content_type=application%2Fx-www-form-urlencoded" in page


@pytest.mark.django_db
def test_a_share_link_carries_a_field_lists_values_and_opens_them(backend) -> None:
    _, api = backend
    operation = _operation(api, "createOrder")
    media = "application/x-www-form-urlencoded"
    client = Client()
    page = client.post(
        f"/apis/{api.slug}/operations/{operation.slug}/samples",
        {"content_type": media, "field-sku": "XYZ-9", "field-quantity": "3"},
    ).content
    link = attr(one(BeautifulSoup(page, "html.parser"), "[data-share-url]"), "value")
    assert "body=sku%3DXYZ-9%26quantity%3D3" in link
    opened = BeautifulSoup(client.get(link).content, "html.parser")
    assert attr(one(opened, "input[name=field-sku]"), "value") == "XYZ-9"
    assert attr(one(opened, "input[name=field-quantity]"), "value") == "3"


@pytest.mark.django_db
def test_a_saved_file_upload_replays_its_kept_bytes_not_its_description(backend) -> None:
    server, api = backend
    operation = _operation(api, "uploadAvatar")
    user = User.objects.create_user("tester", password="pw-12345-long")
    client = Client()
    client.force_login(user)
    exchange = send_as_prefilled(client=client, operation=operation)
    assert exchange is not None and exchange.values["body"] == "file report.txt (15 bytes)"
    saved = save_exchange(exchange=exchange, user=user, name="avatar", collection=None)
    run_saved_request(saved=saved, user=user)
    first, again = server.requests
    assert again.body == first.body and len(again.body) == 15
    assert again.header("Content-Type") == first.header("Content-Type")


@pytest.mark.django_db
def test_a_saved_file_upload_without_its_file_fails_its_step_unsent(backend) -> None:
    server, api = backend
    operation = _operation(api, "uploadAvatar")
    user = User.objects.create_user("tester", password="pw-12345-long")
    client = Client()
    client.force_login(user)
    exchange = send_as_prefilled(client=client, operation=operation)
    assert exchange is not None
    saved = save_exchange(exchange=exchange, user=user, name="avatar", collection=None)
    saved.files.all().delete()
    with pytest.raises(StepFailed) as failed:
        prepare(saved=saved, chained={}, user=user)
    assert failed.value.message == (
        "file: no file is kept for this part; attach one on the edit page."
    )
    assert len(server.requests) == 1


@pytest.mark.django_db
def test_the_docs_show_each_other_media_type_with_its_example_and_schema(backend) -> None:
    _, api = backend
    page = Client().get(_operation(api, "createOrder").get_absolute_url()).content
    soup = BeautifulSoup(page, "html.parser")
    section = one(soup, "section[aria-labelledby=body-heading]")
    assert "application/json" in one(section, "h2").get_text()
    others = section.select("[data-other-body]")
    assert [o["data-other-body"] for o in others] == MULTI_TYPES[1:]
    form, multipart = others
    assert "sku=" in one(form, ".shown-example").get_text()
    names = [n["data-schema-node"] for n in multipart.select("[data-schema-node]")]
    assert {"sku", "quantity", "receipt"} <= set(names)
    # Each media type's radio buttons are its own.
    ids = [i["id"] for i in section.select("input.btn-check")]
    assert len(ids) == len(set(ids)) == 6


@pytest.mark.django_db
def test_the_docs_say_a_file_media_type_takes_a_file(backend) -> None:
    _, api = backend
    page = Client().get(_operation(api, "putBlob").get_absolute_url()).content
    section = one(BeautifulSoup(page, "html.parser"), "section[aria-labelledby=body-heading]")
    assert one(section, "[data-file-body]").get_text() == "A file: its bytes are the body."
    assert section.select_one(".example-or-schema") is None
