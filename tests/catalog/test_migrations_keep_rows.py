"""A database created before the packages were split (its last migration was
operations 0006) migrates to the current schema with every row kept, on SQLite and on
PostgreSQL (docs/design.md, "Packages and app labels")."""

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from catalog.models import Api, Operation, Parameter, ResponseDoc
from console.models import Exchange
from testing.models import Collection, CollectionVariable, Run, RunStep, SavedRequest

BEFORE_THE_SPLIT = [("operations", "0006_exchange_secrets_withheld")]
BEFORE_ORDERED_TEXT = [("operations", "0007_openapi_definitions_servers_environments")]

pytestmark = pytest.mark.django_db(transaction=True)


def _migrate(targets: list[tuple[str, str]]) -> Any:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _latest() -> list[tuple[str, str]]:
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


@pytest.fixture
def back_to_latest() -> Iterator[None]:
    yield
    _migrate(_latest())


def _old_rows(old: Any) -> dict[str, int]:
    user = old.get_model("auth", "User").objects.create(username="before-split")
    api = old.get_model("operations", "Api").objects.create(
        name="Scoring", slug="scoring", service_url="https://scoring.example.test/v1"
    )
    operation = old.get_model("operations", "Operation").objects.create(
        api=api, name="Execute", slug="execute", method="POST", url_template="/execute"
    )
    old.get_model("operations", "Parameter").objects.create(
        operation=operation, name="api-version", location="query", default="2.0"
    )
    old.get_model("operations", "ResponseDoc").objects.create(
        operation=operation, status_code=200, description="Scored", example='{"score": 1}'
    )
    old.get_model("operations", "Exchange").objects.create(
        owner=user,
        operation=operation,
        operation_name="Scoring / Execute",
        method="POST",
        url="https://scoring.example.test/v1/execute?api-version=2.0",
        request_body='{"input": [1]}',
        status_code=200,
    )
    collection = old.get_model("operations", "Collection").objects.create(
        owner=user, name="Nightly"
    )
    old.get_model("operations", "CollectionVariable").objects.create(
        collection=collection, name="jobid", value="42"
    )
    old.get_model("operations", "SavedRequest").objects.create(
        collection=collection,
        operation=operation,
        name="Execute once",
        operation_label="Scoring / Execute",
        values={"params": {"api-version": "2.0"}},
    )
    run = old.get_model("operations", "Run").objects.create(collection=collection)
    old.get_model("operations", "RunStep").objects.create(run=run, name="Execute once")
    return {"user": user.pk, "api": api.pk, "operation": operation.pk, "collection": collection.pk}


def test_a_database_from_before_the_split_keeps_every_row(back_to_latest: None) -> None:
    keys = _old_rows(_migrate(BEFORE_THE_SPLIT))

    _migrate(_latest())

    api = Api.objects.get(pk=keys["api"])
    assert (api.name, api.service_url) == ("Scoring", "https://scoring.example.test/v1")
    operation = Operation.objects.get(pk=keys["operation"])
    assert (operation.api_id, operation.method, operation.url_template) == (
        api.pk,
        "POST",
        "/execute",
    )
    assert list(Parameter.objects.filter(operation=operation).values_list("name", "default")) == [
        ("api-version", "2.0")
    ]
    assert list(
        ResponseDoc.objects.filter(operation=operation).values_list("status_code", "example")
    ) == [(200, '{"score": 1}')]
    exchange = Exchange.objects.get(operation=operation)
    assert (exchange.owner_id, exchange.request_body, exchange.status_code) == (
        keys["user"],
        '{"input": [1]}',
        200,
    )
    collection = Collection.objects.get(pk=keys["collection"])
    assert collection.owner_id == keys["user"]
    assert list(
        CollectionVariable.objects.filter(collection=collection).values_list("name", "value")
    ) == [("jobid", "42")]
    saved = SavedRequest.objects.get(collection=collection)
    assert (saved.operation_id, saved.values) == (operation.pk, {"params": {"api-version": "2.0"}})
    assert RunStep.objects.filter(run__in=Run.objects.filter(collection=collection)).count() == 1


def test_stored_definitions_survive_the_move_to_ordered_text(back_to_latest: None) -> None:
    old = _migrate(BEFORE_ORDERED_TEXT)
    definitions = {"components": {"schemas": {"Score": {"type": "number", "minimum": 0}}}}
    api = old.get_model("operations", "Api").objects.create(
        name="Scoring",
        slug="scoring",
        service_url="https://scoring.example.test/v1",
        openapi=definitions,
    )
    operation = old.get_model("operations", "Operation").objects.create(
        api=api,
        name="Execute",
        slug="execute",
        url_template="/execute",
        openapi={"operationId": "execute"},
    )

    _migrate(_latest())

    assert Api.objects.get(pk=api.pk).openapi == definitions
    assert Operation.objects.get(pk=operation.pk).openapi == {"operationId": "execute"}


BEFORE_THE_SMALL_SEARCH_INDEX = [("operations", "0012_operation_search_vector_postgresql")]


def test_operations_stored_before_the_search_index_are_found(
    client: Any, back_to_latest: None
) -> None:
    old = _migrate(BEFORE_THE_SMALL_SEARCH_INDEX)
    api = old.get_model("operations", "Api").objects.create(
        name="Scoring",
        slug="scoring",
        service_url="https://scoring.example.test/v1",
        published=True,
    )
    old.get_model("operations", "Operation").objects.create(
        api=api,
        name="Execute",
        slug="execute",
        url_template="/execute",
        operation_id="runScoringJob",
        description="Scores a batch of penguins.",
    )

    _migrate(_latest())

    def found(query: str) -> list[str]:
        return [operation.slug for operation in client.get("/", {"q": query}).context["results"]]

    assert found("penguin") == ["execute"]
    assert found("Scoring") == ["execute"]  # a camel-case piece of the operationId
    assert found("walrus") == []
