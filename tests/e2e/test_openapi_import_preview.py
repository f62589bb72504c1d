"""The admin's Import OpenAPI page in a browser: upload, preview, then confirm or cancel.

A staff user with the import's permissions uploads a document and sees what the import
would add, change and remove before anything is written; a document unlike the API its
title names asks whether to update that API or to create a new one. The preview pages are
photographed at a phone's width and a laptop's, and must not scroll sideways.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Permission
from playwright.sync_api import Page, ViewportSize, expect

from catalog.models import Api, Operation
from openapi.documents import load_document
from openapi.models import PendingImport
from openapi.sync import import_openapi
from tests.e2e.conftest import VIEWPORT, admin_log_in, problems_of, screenshot
from tests.openapi_documents import ORDERS_V1, ORDERS_V2, OTHER_ORDERS, snapshot

pytestmark = pytest.mark.django_db(transaction=True)

USERNAME = "api-editor"
PASSWORD = "e2e-Editor-password-5821"
IMPORT_PERMISSIONS = ("add_api", "change_api", "add_operation", "change_operation")
PHONE = ViewportSize(width=390, height=844)
LAPTOP = ViewportSize(width=1366, height=768)
UPDATE_CHOICE = 'Update "Orders" (orders) with the changes listed above'
NEW_CHOICE = "Create a new API with the slug below, its 3 operations added"


@pytest.fixture
def editor(django_user_model):
    """A staff user who may import, and no more (not a superuser)."""
    user = django_user_model.objects.create_user(USERNAME, password=PASSWORD, is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="operations", codename__in=IMPORT_PERMISSIONS
        )
    )
    return user


@pytest.fixture
def orders() -> Api:
    return import_openapi(document=load_document(text=ORDERS_V1)).api


def upload(page: Page, base_url: str, text: str, *, filename: str) -> None:
    """From the APIs list to the preview, by clicking as an editor would."""
    page.goto(base_url + "/admin/operations/api/")
    page.get_by_role("link", name="Import OpenAPI").click()
    expect(page.get_by_role("heading", name="Import OpenAPI")).to_be_visible()
    page.get_by_label("OpenAPI document").set_input_files(
        {"name": filename, "mimeType": "application/yaml", "buffer": text.encode()}
    )
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#plan-headline")).to_be_visible()
    expect(page.locator("#content-main")).to_contain_text(
        f"Nothing has been written yet: this is what importing {filename} would do."
    )


def items(page: Page, list_id: str) -> list[str]:
    return [" ".join(text.split()) for text in page.locator(f"#{list_id} > li").all_inner_texts()]


def sideways_overflow(page: Page) -> int:
    return page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")


def lines_of(page: Page, label: str) -> int:
    """How many lines of text the label with this text takes on the page."""
    return page.get_by_text(label, exact=True).evaluate(
        """label => {
            const text = [...label.closest("label").childNodes].find(
                node => node.nodeType === Node.TEXT_NODE && node.textContent.trim()
            );
            const range = document.createRange();
            range.selectNodeContents(text);
            return range.getClientRects().length;
        }"""
    )


def photograph_preview(page: Page, name: str) -> None:
    """Screenshots of the preview at a laptop's and a phone's width; neither scrolls sideways."""
    for label, size in (("1366", LAPTOP), ("390", PHONE)):
        page.set_viewport_size(size)
        expect(page.locator("#plan-headline")).to_be_visible()
        assert sideways_overflow(page) <= 0, f"{name} at {label} px scrolls sideways"
        screenshot(page, f"{name}-{label}")
    page.set_viewport_size(VIEWPORT)


def test_a_new_api_is_previewed_then_created(page: Page, live_server, editor) -> None:
    admin_log_in(page, live_server.url, username=USERNAME, password=PASSWORD)
    upload(page, live_server.url, ORDERS_V1, filename="orders-v1.yaml")

    expect(page.locator("#plan-headline")).to_have_text(
        'Plan for "Orders" (orders), a new API: 4 added, 0 changed, 0 removed.'
    )
    assert items(page, "plan-added") == [
        "list-orders GET /orders",
        "create-order POST /orders",
        "get-order GET /orders/{id}",
        "delete-order DELETE /orders/{id}",
    ]
    expect(page.locator("#plan-changed")).to_have_count(0)
    expect(page.locator("#plan-removed")).to_have_count(0)
    expect(page.locator("input[name=target]")).to_have_count(0)  # no choice to make
    assert not Api.objects.exists() and not Operation.objects.exists()
    assert PendingImport.objects.count() == 1
    photograph_preview(page, "openapi-preview-new-api")

    page.get_by_role("button", name="Create the API").click()
    # The API's change page, saying what was done.
    expect(page.locator(".messagelist li")).to_have_text(
        ['Imported "Orders" (orders): 4 added, 0 changed, 0 removed.']
    )
    api = Api.objects.get(slug="orders")
    expect(page).to_have_url(re.compile(rf"/admin/operations/api/{api.pk}/change/$"))
    assert (api.name, api.version, api.service_url) == (
        "Orders",
        "1.0",
        "https://orders.example.com/v1",
    )
    assert list(api.operations.order_by("order").values_list("operation_id", "method")) == [
        ("listOrders", "GET"),
        ("createOrder", "POST"),
        ("getOrder", "GET"),
        ("deleteOrder", "DELETE"),
    ]
    assert not PendingImport.objects.exists()
    screenshot(page, "openapi-import-created")
    problems_of(page).assert_none()


def test_another_document_with_the_same_title_becomes_a_new_api(
    page: Page, live_server, editor, orders
) -> None:
    before = snapshot()
    admin_log_in(page, live_server.url, username=USERNAME, password=PASSWORD)
    upload(page, live_server.url, OTHER_ORDERS, filename="shop-orders.yaml")

    expect(page.locator("#plan-headline")).to_have_text(
        'Plan for "Orders" (orders), an existing API: 0 added, 3 changed, 1 removed.'
    )
    mismatch = page.locator("#plan-mismatch")
    expect(mismatch).to_contain_text(
        'The API "Orders" (orders) exists, and this document does not look like a new version '
        "of it:"
    )
    assert [" ".join(text.split()) for text in mismatch.locator("li").all_inner_texts()] == [
        "the document's service URL https://shop.example.net/api is not on the origin of the "
        "API's https://orders.example.com/v1",
        "0 of the API's 4 operations are in the document under the same operationId (or verb "
        "and path)",
    ]
    update = page.get_by_label(UPDATE_CHOICE, exact=True)
    new = page.get_by_label(NEW_CHOICE, exact=True)
    expect(update).not_to_be_checked()
    expect(new).not_to_be_checked()
    expect(page.get_by_label("New API's slug")).to_have_value("orders-2")
    # Nothing written yet: the existing API keeps its four operations, no second API.
    assert snapshot() == before
    assert Api.objects.count() == 1
    assert Operation.objects.filter(api=orders).count() == 4
    assert Operation.objects.filter(api=orders, removed=False).count() == 4
    photograph_preview(page, "openapi-preview-mismatch")
    # At a laptop's width each choice reads on one line, not squeezed under its label.
    page.set_viewport_size(LAPTOP)
    for choice in (UPDATE_CHOICE, NEW_CHOICE):
        assert lines_of(page, choice) == 1, choice

    new.check()
    page.get_by_label("New API's slug").fill("shop-orders")
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator(".messagelist li")).to_have_text(
        ['Imported "Orders" (shop-orders): 3 added, 0 changed, 0 removed.']
    )
    shop = Api.objects.get(slug="shop-orders")
    expect(page).to_have_url(re.compile(rf"/admin/operations/api/{shop.pk}/change/$"))
    assert shop.service_url == "https://shop.example.net/api"
    assert list(shop.operations.order_by("order").values_list("operation_id", flat=True)) == [
        "findOrders",
        "addOrder",
        "orderById",
    ]
    assert Api.objects.count() == 2
    # The first API is as it was.
    assert [row for row in snapshot() if row[0] != "shop-orders"] == before
    problems_of(page).assert_none()


def test_a_new_version_is_previewed_then_cancelled(page: Page, live_server, editor, orders) -> None:
    before = snapshot()
    admin_log_in(page, live_server.url, username=USERNAME, password=PASSWORD)
    upload(page, live_server.url, ORDERS_V2, filename="orders-v2.yaml")

    expect(page.locator("#plan-headline")).to_have_text(
        'Plan for "Orders" (orders), an existing API: 1 added, 1 changed, 1 removed.'
    )
    expect(page.locator("#plan-mismatch")).to_have_count(0)
    expect(page.locator("input[name=target]")).to_have_count(0)
    assert items(page, "plan-api") == [
        "version: 1.0 → 2.0",
        "service URL: https://orders.example.com/v1 → https://orders.example.com/v2",
    ]
    assert items(page, "plan-added") == ["cancel-order POST /orders/{id}/cancel"]
    assert items(page, "plan-changed") == ["list-orders GET /orders"]
    assert items(page, "plan-removed") == ["delete-order DELETE /orders/{id}"]
    expect(page.locator("#plan-unchanged")).to_have_text("2 unchanged.")
    expect(page.get_by_role("button", name="Update the API")).to_be_visible()
    assert snapshot() == before
    photograph_preview(page, "openapi-preview-new-version")

    page.get_by_role("link", name="Cancel").click()
    expect(page).to_have_url(live_server.url + "/admin/operations/api/import-openapi/")
    expect(page.get_by_label("OpenAPI document")).to_be_visible()
    expect(page.locator(".messagelist")).to_have_count(0)
    assert snapshot() == before
    assert not Operation.objects.filter(slug="cancel-order").exists()
    problems_of(page).assert_none()
