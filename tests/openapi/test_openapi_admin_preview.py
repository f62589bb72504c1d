"""The admin's Import OpenAPI page, step two: the plan is previewed, nothing is written
until it is confirmed; a document unlike the API its title names needs a choice."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from django.contrib.auth.models import Permission
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from catalog.models import Api, Operation
from openapi import admin_import, pending
from openapi.documents import load_document
from openapi.models import PendingImport
from openapi.sync import import_openapi
from tests.markup import one
from tests.openapi_documents import ORDERS_V1, ORDERS_V2, OTHER_ORDERS, confirmation, snapshot

pytestmark = pytest.mark.django_db

IMPORT_URL = "/admin/operations/api/import-openapi/"


def upload(client, text: str, **fields: str):
    document = SimpleUploadedFile("orders.yaml", text.encode(), content_type="application/yaml")
    return client.post(IMPORT_URL, {"document": document, **fields})


def items(page, list_id: str) -> list[str]:
    found = BeautifulSoup(page.content, "html.parser").find(id=list_id)
    return [" ".join(item.get_text().split()) for item in found.find_all("li")] if found else []


def text_of(page, element_id: str) -> str:
    return " ".join(
        one(BeautifulSoup(page.content, "html.parser"), f"#{element_id}").get_text().split()
    )


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


@pytest.fixture
def orders() -> Api:
    return import_openapi(document=load_document(text=ORDERS_V1)).api


def test_the_preview_of_a_new_api_writes_nothing(admin_client):
    preview = upload(admin_client, ORDERS_V1)
    assert preview.status_code == 200
    assert not Api.objects.exists() and not Operation.objects.exists()
    page = preview.content.decode()
    assert "Nothing has been written yet" in page
    assert text_of(preview, "plan-headline") == (
        'Plan for "Orders" (orders), a new API: 4 added, 0 changed, 0 removed.'
    )
    assert items(preview, "plan-added") == [
        "list-orders GET /orders",
        "create-order POST /orders",
        "get-order GET /orders/{id}",
        "delete-order DELETE /orders/{id}",
    ]
    assert 'value="Create the API"' in page
    # Only the token travels: the document stays on the server.
    assert 'name="document"' not in page and "listOrders" not in page
    assert PendingImport.objects.count() == 1


def test_confirming_writes_the_plan(admin_client):
    preview = upload(admin_client, ORDERS_V1)
    response = admin_client.post(IMPORT_URL, confirmation(preview))
    api = Api.objects.get(slug="orders")
    assert response.status_code == 302
    assert response.url == reverse("admin:operations_api_change", args=[api.pk])
    assert api.operations.count() == 4
    assert not PendingImport.objects.exists()
    assert 'Imported "Orders" (orders): 4 added, 0 changed, 0 removed.' in messages_of(
        admin_client.get(response.url)
    )


def test_a_new_version_is_previewed_then_updated_in_place(admin_client, orders):
    before = snapshot()
    preview = upload(admin_client, ORDERS_V2)
    assert snapshot() == before
    assert preview.context["plan"].mismatches == []
    page = preview.content.decode()
    assert text_of(preview, "plan-headline") == (
        'Plan for "Orders" (orders), an existing API: 1 added, 1 changed, 1 removed.'
    )
    assert items(preview, "plan-api") == [
        "version: 1.0 → 2.0",
        "service URL: https://orders.example.com/v1 → https://orders.example.com/v2",
    ]
    assert items(preview, "plan-added") == ["cancel-order POST /orders/{id}/cancel"]
    assert items(preview, "plan-changed") == ["list-orders GET /orders"]
    assert items(preview, "plan-removed") == ["delete-order DELETE /orders/{id}"]
    assert "2 unchanged." in page
    assert 'name="target"' not in page  # no choice to make
    assert 'value="Update the API"' in page

    response = admin_client.post(IMPORT_URL, confirmation(preview), follow=True)
    shown = messages_of(response)
    assert 'Imported "Orders" (orders): 1 added, 1 changed, 1 removed.' in shown
    assert "API version: 1.0 → 2.0." in shown
    assert Operation.objects.get(slug="delete-order").removed
    assert Operation.objects.filter(api=orders, slug="cancel-order").exists()


def test_a_mismatch_offers_the_choice_and_writes_nothing(admin_client, orders):
    before = snapshot()
    preview = upload(admin_client, OTHER_ORDERS)
    assert snapshot() == before
    page = BeautifulSoup(preview.content, "html.parser")
    mismatch = " ".join(page.find(id="plan-mismatch").get_text().split())
    assert 'The API "Orders" (orders) exists, and this document does not look like' in mismatch
    assert "https://shop.example.net/api is not on the origin" in mismatch
    assert "0 of the API's 4 operations are in the document" in mismatch
    assert items(preview, "plan-changed") == [
        "list-orders GET /orders",
        "create-order POST /orders",
        "get-order GET /orders/{id}",
    ]
    assert items(preview, "plan-removed") == ["delete-order DELETE /orders/{id}"]
    choices = {
        radio["value"]: " ".join(radio.find_parent("label").get_text().split())
        for radio in page.find_all("input", attrs={"name": "target"})
    }
    assert choices == {
        "update": 'Update "Orders" (orders) with the changes listed above',
        "new": "Create a new API with the slug below, its 3 operations added",
    }
    assert not any(radio.has_attr("checked") for radio in page.find_all("input", type="radio"))
    assert page.find("input", attrs={"name": "new_slug"})["value"] == "orders-2"

    # Confirming without choosing writes nothing.
    response = admin_client.post(IMPORT_URL, confirmation(preview))
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "target": ['Choose whether to update "Orders" or to create a new API.']
    }
    assert snapshot() == before
    assert PendingImport.objects.count() == 1


def test_choosing_update_updates_the_api(admin_client, orders):
    preview = upload(admin_client, OTHER_ORDERS)
    response = admin_client.post(IMPORT_URL, confirmation(preview, target="update"), follow=True)
    assert 'Imported "Orders" (orders): 0 added, 3 changed, 1 removed.' in messages_of(response)
    orders.refresh_from_db()
    assert orders.service_url == "https://shop.example.net/api"
    assert list(orders.operations.current().values_list("operation_id", flat=True)) == [
        "findOrders",
        "addOrder",
        "orderById",
    ]


def test_choosing_a_new_api_leaves_the_existing_one(admin_client, orders):
    before = snapshot()
    preview = upload(admin_client, OTHER_ORDERS)
    response = admin_client.post(
        IMPORT_URL, confirmation(preview, target="new", new_slug="shop-orders"), follow=True
    )
    assert 'Imported "Orders" (shop-orders): 3 added, 0 changed, 0 removed.' in messages_of(
        response
    )
    assert [row for row in snapshot() if "shop-orders" not in row] == before
    assert Api.objects.get(slug="shop-orders").service_url == "https://shop.example.net/api"


@pytest.mark.parametrize(
    ("new_slug", "error"),
    [
        ("", "Give the new API's slug."),
        ("orders", "An API with the slug 'orders' exists: choose another."),
        (
            "not a slug",
            "Enter a valid “slug” consisting of letters, numbers, underscores or hyphens.",
        ),
    ],
)
def test_a_new_api_needs_a_free_slug(admin_client, orders, new_slug, error):
    before = snapshot()
    preview = upload(admin_client, OTHER_ORDERS)
    response = admin_client.post(IMPORT_URL, confirmation(preview, target="new", new_slug=new_slug))
    assert response.status_code == 200
    assert response.context["form"].errors == {"new_slug": [error]}
    assert snapshot() == before


def test_a_change_since_the_preview_is_shown_not_written(admin_client, orders):
    preview = upload(admin_client, ORDERS_V2)
    import_openapi(document=load_document(text=OTHER_ORDERS))  # someone else, meanwhile
    before = snapshot()
    response = admin_client.post(IMPORT_URL, confirmation(preview))
    assert response.status_code == 200
    assert text_of(response, "import-notice") == (
        "The API changed since the preview: nothing was imported. Review the new plan below."
    )
    assert snapshot() == before
    # The new plan, with its own confirmation.
    plan = response.context["plan"]
    assert plan.mismatches  # ORDERS_V2 is not a new version of the other document
    response = admin_client.post(IMPORT_URL, confirmation(response, target="update"))
    assert response.status_code == 302
    assert Operation.objects.filter(slug="cancel-order").exists()


def assert_refused(response, message: str) -> None:
    assert response.status_code == 200
    refused = one(BeautifulSoup(response.content, "html.parser"), "#import-refused")
    assert refused.get_text() == f"Nothing was imported. {message}"
    assert 'name="document"' in response.content.decode()  # the upload form again


def test_a_tampered_token_is_refused(admin_client, orders):
    preview = upload(admin_client, OTHER_ORDERS)
    before = snapshot()
    data = confirmation(preview, target="update")
    data["token"] = data["token"][:-2] + ("AA" if not data["token"].endswith("AA") else "BB")
    assert_refused(admin_client.post(IMPORT_URL, data), pending.INVALID)
    data["token"] = "not-a-token"
    assert_refused(admin_client.post(IMPORT_URL, data), pending.INVALID)
    assert snapshot() == before


def test_an_expired_token_is_refused(admin_client, orders, monkeypatch):
    real_timestamp = signing.TimestampSigner.timestamp
    with monkeypatch.context() as patch:
        patch.setattr(
            signing.TimestampSigner,
            "timestamp",
            lambda self: signing.b62_encode(
                signing.b62_decode(real_timestamp(self)) - pending.MAX_AGE_SECONDS - 1
            ),
        )
        preview = upload(admin_client, OTHER_ORDERS)
    before = snapshot()
    response = admin_client.post(IMPORT_URL, confirmation(preview, target="update"))
    assert_refused(response, pending.EXPIRED)
    assert pending.EXPIRED == (
        "The preview has expired (after 60 minutes): upload the document again."
    )
    assert snapshot() == before


def test_a_used_token_is_refused(admin_client):
    preview = upload(admin_client, ORDERS_V1)
    assert admin_client.post(IMPORT_URL, confirmation(preview)).status_code == 302
    before = snapshot()
    assert_refused(admin_client.post(IMPORT_URL, confirmation(preview)), pending.USED)
    assert snapshot() == before


def test_another_user_s_token_is_refused(admin_client, client, django_user_model):
    preview = upload(admin_client, ORDERS_V1)
    other = django_user_model.objects.create_superuser("other", password="pw-unused")
    client.force_login(other)
    assert_refused(client.post(IMPORT_URL, confirmation(preview)), pending.INVALID)
    assert not Api.objects.exists()


def test_old_previews_are_forgotten_on_the_next_upload(admin_client, admin_user):
    old = PendingImport.objects.create(owner=admin_user, document=b"x", filename="old.yaml")
    PendingImport.objects.filter(pk=old.pk).update(
        created_at=old.created_at.replace(year=old.created_at.year - 1)
    )
    upload(admin_client, ORDERS_V1)
    assert list(PendingImport.objects.values_list("filename", flat=True)) == ["orders.yaml"]


def test_non_staff_cannot_preview_or_confirm(admin_client, client, django_user_model):
    preview = upload(admin_client, ORDERS_V1)
    data = confirmation(preview)
    user = django_user_model.objects.create_user("visitor", password="pw-unused")
    client.force_login(user)
    for response in (
        client.get(IMPORT_URL),
        upload(client, ORDERS_V1),
        client.post(IMPORT_URL, data),
    ):
        assert response.status_code == 302
        assert response.url.startswith("/admin/login/")
    client.logout()
    assert client.post(IMPORT_URL, data).status_code == 302
    assert not Api.objects.exists()
    assert PendingImport.objects.count() == 1  # only the admin's


def test_staff_without_the_permissions_cannot_confirm(admin_client, client, django_user_model):
    preview = upload(admin_client, ORDERS_V1)
    staff = django_user_model.objects.create_user("staff", password="pw-unused", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_api"))
    client.force_login(staff)
    assert client.post(IMPORT_URL, confirmation(preview)).status_code == 403
    assert upload(client, ORDERS_V1).status_code == 403
    assert not Api.objects.exists()


def test_a_document_that_can_no_longer_be_imported(admin_client, orders):
    # Without servers the document relies on the API's service URL, which goes meanwhile.
    text = ORDERS_V2.replace('servers: [{url: "https://orders.example.com/v2"}]\n', "")
    preview = upload(admin_client, text)
    assert preview.context["plan"].reading.service_url == "https://orders.example.com/v1"
    orders.delete()
    response = admin_client.post(IMPORT_URL, confirmation(preview))
    assert text_of(response, "import-refused") == (
        "Nothing was imported. The document can no longer be imported: /servers: the document "
        "has no server; give the service URL (--service-url or the admin field)"
    )
    assert not Api.objects.exists()
    assert not PendingImport.objects.exists()


def test_a_write_racing_the_confirmation_is_shown_not_written(admin_client, orders, monkeypatch):
    preview = upload(admin_client, ORDERS_V2)
    real_apply = admin_import.apply_plan

    def another_import_first(*, plan):
        import_openapi(document=load_document(text=OTHER_ORDERS))
        return real_apply(plan=plan)

    monkeypatch.setattr(admin_import, "apply_plan", another_import_first)
    response = admin_client.post(IMPORT_URL, confirmation(preview))
    assert response.status_code == 200
    assert text_of(response, "import-notice").startswith("The API changed since the preview")
    assert not Operation.objects.filter(slug="cancel-order").exists()
    assert list(orders.operations.current().values_list("operation_id", flat=True)) == [
        "findOrders",
        "addOrder",
        "orderById",
    ]
