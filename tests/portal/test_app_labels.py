"""The models moved out of operations/ keep the app label and tables they were created
under, so a database migrated before the move keeps every row (docs/design.md,
"Packages and app labels")."""

from django.apps import apps
from django.db import connection

from catalog.models import Api, ApiServer, Operation, Parameter, ResponseDoc
from console.models import Environment, Exchange, KeptFile, KeptFileChunk
from openapi.models import PendingImport
from testing.models import (
    Collection,
    CollectionShare,
    CollectionVariable,
    Run,
    RunStep,
    SavedRequest,
)

MOVED = [
    Api,
    Operation,
    Parameter,
    ResponseDoc,
    Exchange,
    Collection,
    CollectionShare,
    CollectionVariable,
    SavedRequest,
    Run,
    RunStep,
    PendingImport,
    ApiServer,
    Environment,
    KeptFile,
    KeptFileChunk,
]


def test_the_moved_models_keep_the_operations_label_and_their_tables():
    for model in MOVED:
        assert model._meta.app_label == "operations", model
        assert model._meta.db_table == f"operations_{model._meta.model_name}", model
    assert set(apps.get_app_config("operations").get_models()) == set(MOVED)


def test_every_table_of_the_operations_label_exists_in_the_migrated_database(db):
    tables = set(connection.introspection.table_names())
    assert {model._meta.db_table for model in MOVED} <= tables
