"""A secret variable or value that holds nothing says "not set" (muted), never the
"••••••" of one that holds a value."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from django.test import Client

from catalog.models import Api
from console.environments import stored_variable
from console.models import Environment
from portal import secrets
from testing.models import Collection, CollectionVariable, SavedRequest
from tests.markup import attr, one
from tests.testing.test_tester_views import RRS_LABEL, rrs_values

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(django_user_model):
    return django_user_model.objects.create_user("owner")


@pytest.fixture
def client_of(owner) -> Client:
    client = Client()
    client.force_login(owner)
    return client


@pytest.fixture
def collection(owner) -> Collection:
    collection = Collection.objects.create(owner=owner, name="Imported")
    CollectionVariable.objects.create(
        collection=collection, name="api_key", value=secrets.encrypt("k-123"), secret=True
    )
    # What an import of a collection file with `"value": ""` and secret stores.
    CollectionVariable.objects.create(
        collection=collection, name="token", value=secrets.encrypt(""), secret=True
    )
    return collection


def soup(client: Client, url: str) -> BeautifulSoup:
    response = client.get(url)
    assert response.status_code == 200
    return BeautifulSoup(response.content, "html.parser")


def test_collection_variables_say_not_set(client_of, collection) -> None:
    page = soup(client_of, f"/collections/{collection.pk}/")
    cells = {
        one(row, "th").get_text(): row.select("td")[0] for row in page.select("table.variables tr")
    }
    assert cells["{{api_key}}"].get_text(" ", strip=True) == "•••••• secret"
    assert cells["{{api_key}}"].select("[data-not-set]") == []
    assert cells["{{token}}"].get_text(" ", strip=True) == "not set secret"
    assert one(cells["{{token}}"], "[data-not-set]").get("class") == ["text-body-secondary"]


def test_the_collection_edit_form_says_not_set(client_of, collection) -> None:
    page = soup(client_of, f"/collections/{collection.pk}/edit")
    placeholders = [
        attr(field, "placeholder") for field in page.select(".variable-row input[type=password]")
    ]
    assert placeholders == ["••••••", "not set"]


def test_the_environment_form_says_not_set(client_of, owner) -> None:
    environment = Environment.objects.create(
        owner=owner,
        name="Staging",
        variables=[
            stored_variable(name="filled", value="s3cret", secret=True),
            stored_variable(name="empty", value="", secret=True),
            stored_variable(name="host", value="example.com", secret=False),
        ],
    )
    page = soup(client_of, f"/environments/{environment.pk}/edit")
    secret_inputs = page.select("[data-variable-row] input[type=password]")
    assert [(attr(i, "placeholder"), attr(i, "value", "")) for i in secret_inputs] == [
        ("••••••", ""),
        ("not set", ""),
    ]


def test_a_saved_request_says_not_set_for_an_empty_secret(client_of, collection, demo_api: Api):
    values = rrs_values()
    values["headers"].append(["X-Api-Key", ""])
    saved = SavedRequest.objects.create(
        collection=collection,
        name="Score",
        operation=demo_api.operations.get(slug="rrs-execute"),
        operation_label=RRS_LABEL,
        values=values,
    )
    page = soup(client_of, f"/saved/{saved.pk}/")
    rows = {
        one(row, "th").get_text(): one(row, "td") for row in page.select("table.saved-values tr")
    }
    assert rows["Authorization:"].get_text() == "Bearer ••••••"
    assert rows["X-Api-Key:"].get_text() == "not set"
    assert one(rows["X-Api-Key:"], "[data-not-set]").get("class") == ["text-body-secondary"]
    assert rows["Content-Type:"].get_text() == "application/json"
