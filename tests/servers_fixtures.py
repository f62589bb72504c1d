"""An API with two servers, each a scripted backend answering its own name: the fixtures
`first`, `second`, `operation` and `keyed` of the server tests (registered in conftest)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from catalog.models import Api, ApiServer, Operation
from catalog.registration import create_missing_template_parameters
from tests.backends import ScriptedServer, reply_with, scripted_server
from tests.factories import make_product


def answering(text: str):
    return reply_with(200, headers=[("Content-Type", "text/plain")], body=text.encode())


def make_operation(service_url: str, *, url_suffix: str = "") -> Operation:
    api = Api.objects.create(name="Two", slug="two", service_url=service_url, url_suffix=url_suffix)
    operation = Operation.objects.create(
        api=api, name="Item", slug="item", method="GET", url_template="/items/{item}"
    )
    create_missing_template_parameters(operation=operation)
    return operation


@pytest.fixture
def first() -> Iterator[ScriptedServer]:
    with scripted_server(answering("first")) as server:
        yield server


@pytest.fixture
def second() -> Iterator[ScriptedServer]:
    with scripted_server(answering("second")) as server:
        yield server


@pytest.fixture
def operation(first, second) -> Operation:
    """The service URL on `first`, a second server "Second" on `second`."""
    operation = make_operation(f"{first.url}/v1")
    ApiServer.objects.create(api=operation.api, url=f"{second.url}/v2", description="Second")
    return operation


@pytest.fixture
def keyed(first, second) -> Operation:
    """On the gateway, behind a key."""
    operation = make_operation(f"{first.url}/v1", url_suffix="two")
    ApiServer.objects.create(api=operation.api, url=f"{second.url}/v2", description="Sandbox")
    make_product(operation.api, slug="starter", rate=5, quota=100)
    return operation
