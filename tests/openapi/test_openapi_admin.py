"""The admin's Import OpenAPI page: upload, confirm, see the summary or the problems."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from catalog.models import Api, Operation
from tests.openapi_documents import confirmation
from tests.sample_specs import SPECS

pytestmark = pytest.mark.django_db

IMPORT_URL = "/admin/operations/api/import-openapi/"


def upload(name: str, content: bytes | None = None) -> SimpleUploadedFile:
    if content is None:
        content = (SPECS / name).read_bytes()
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def confirm(client, preview, **choice: str):
    """Post the preview page's confirmation, the step that
    tests/openapi/test_openapi_admin_preview.py follows."""
    return client.post(IMPORT_URL, confirmation(preview, **choice))


def test_the_api_list_has_an_import_button(admin_client):
    response = admin_client.get(reverse("admin:operations_api_changelist"))
    assert response.status_code == 200
    assert reverse("admin:operations_api_import_openapi") == IMPORT_URL
    assert f'href="{IMPORT_URL}"' in response.content.decode()
    assert "Import OpenAPI" in response.content.decode()


def test_the_upload_page(admin_client):
    response = admin_client.get(IMPORT_URL, {"api": "bookshop"})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'enctype="multipart/form-data"' in page
    assert 'name="document"' in page
    assert 'name="api_slug"' in page and 'value="bookshop"' in page
    assert 'name="service_url"' in page


def test_uploading_a_spec_creates_the_api(admin_client):
    preview = admin_client.post(
        IMPORT_URL, {"document": upload("oas30-bookshop.yaml"), "api_slug": "", "service_url": ""}
    )
    assert preview.status_code == 200
    assert not Api.objects.exists()
    response = confirm(admin_client, preview)
    api = Api.objects.get(slug="corner-bookshop")
    assert response.status_code == 302
    assert response.url == reverse("admin:operations_api_change", args=[api.pk])
    assert api.operations.count() == 3
    page = admin_client.get(response.url)
    assert 'Imported "Corner Bookshop" (corner-bookshop): 3 added, 0 changed, 0 removed.' in (
        messages_of(page)
    )


def test_updating_an_api_with_a_service_url_and_notes(admin_client):
    Api.objects.create(name="Hooks", slug="hooks", service_url="https://old.example.com")
    preview = admin_client.post(
        IMPORT_URL,
        {
            "document": upload("oas31-webhooks.json"),
            "api_slug": "hooks",
            "service_url": "https://hooks.example.com",
        },
    )
    # Another origin than the API's: updating it is a choice to make.
    assert preview.context["plan"].mismatches
    response = confirm(admin_client, preview, target="update")
    response = admin_client.get(response.url)
    api = Api.objects.get(slug="hooks")
    assert (api.name, api.service_url) == ("Match Feed", "https://hooks.example.com")
    shown = messages_of(response)
    assert 'Imported "Match Feed" (hooks): 1 added, 0 changed, 0 removed.' in shown
    assert any("2 webhook(s) skipped (goalScored, matchFinished)" in message for message in shown)


def test_problems_are_listed_on_the_form(admin_client):
    document = {
        "openapi": "3.0.0",
        "info": {"title": "<b>Bad</b>"},
        "paths": {"/a/{id}": {"get": {"parameters": [{"name": "x", "in": "path"}]}}},
    }
    response = admin_client.post(
        IMPORT_URL, {"document": upload("bad.json", json.dumps(document).encode())}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "The document cannot be imported: 3 problems" in page
    assert "/servers: the document has no server; give the service URL" in page
    assert "/paths/~1a~1{id}/get/parameters/0/name: path parameter &#x27;x&#x27; is not in" in page
    assert "/paths/~1a~1{id}/get/responses: required" in page
    assert not Api.objects.exists()


def test_a_file_that_does_not_parse(admin_client):
    response = admin_client.post(IMPORT_URL, {"document": upload("x.json", b"{not json")})
    assert response.status_code == 200
    assert "the document is not valid JSON" in response.content.decode()


def test_a_file_over_the_limit_is_refused(admin_client, settings):
    settings.PORTAL_OPENAPI_MAX_BYTES = 1024
    assert (SPECS / "oas30-bookshop.yaml").stat().st_size > 1024
    response = admin_client.post(IMPORT_URL, {"document": upload("oas30-bookshop.yaml")})
    assert response.status_code == 200
    assert "The file is larger than the limit" in response.content.decode()
    assert not Operation.objects.exists()


def test_the_page_needs_the_permissions(client, django_user_model):
    staff = django_user_model.objects.create_user("staff", password="pw-unused", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_api"))
    client.force_login(staff)
    assert client.get(IMPORT_URL).status_code == 403
    changelist = client.get(reverse("admin:operations_api_changelist"))
    assert IMPORT_URL not in changelist.content.decode()
    for codename in ("add_api", "change_api", "add_operation", "change_operation"):
        staff.user_permissions.add(Permission.objects.get(codename=codename))
    staff = django_user_model.objects.get(pk=staff.pk)
    client.force_login(staff)
    assert client.get(IMPORT_URL).status_code == 200
    assert client.get("/admin/operations/api/import-openapi/").status_code == 200
    client.logout()
    assert client.get(IMPORT_URL).status_code == 302  # to the login page
