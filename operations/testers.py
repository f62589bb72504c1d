"""What testers do with calls: save them, organise collections, start runs.

Access: a collection's owner may do everything; members of a group it is shared
with may read it, or read and run it (ShareAccess). Others get a 404.
"""

from __future__ import annotations

import threading

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.db.models import Max
from django.shortcuts import get_object_or_404

from operations import replay
from operations.masking import MASK, is_secret_name
from operations.models import Collection, Exchange, Run, RunStatus, SavedRequest
from operations.secrets import encrypt
from operations.tryit import restore_values

DEFAULT_COLLECTION_NAME = "My requests"


def readable_collection(*, user: AbstractBaseUser, collection_id: int) -> Collection:
    return get_object_or_404(Collection.objects.readable_by(user), pk=collection_id)


def runnable_collection(*, user: AbstractBaseUser, collection_id: int) -> Collection:
    return get_object_or_404(Collection.objects.runnable_by(user), pk=collection_id)


def owned_collection(*, user: AbstractBaseUser, collection_id: int) -> Collection:
    return get_object_or_404(Collection.objects.filter(owner=user), pk=collection_id)


def readable_saved_request(*, user: AbstractBaseUser, saved_id: int) -> SavedRequest:
    requests = SavedRequest.objects.filter(collection__in=Collection.objects.readable_by(user))
    return get_object_or_404(requests.select_related("collection", "operation__api"), pk=saved_id)


def runnable_saved_request(*, user: AbstractBaseUser, saved_id: int) -> SavedRequest:
    requests = SavedRequest.objects.filter(collection__in=Collection.objects.runnable_by(user))
    return get_object_or_404(requests.select_related("collection", "operation__api"), pk=saved_id)


def owned_saved_request(*, user: AbstractBaseUser, saved_id: int) -> SavedRequest:
    requests = SavedRequest.objects.filter(collection__owner=user)
    return get_object_or_404(requests.select_related("collection", "operation__api"), pk=saved_id)


def can_run(*, user: AbstractBaseUser, collection: Collection) -> bool:
    return Collection.objects.runnable_by(user).filter(pk=collection.pk).exists()


def stored_values(*, values: dict, secret_names: frozenset[str]) -> dict:
    """Form values as a saved request keeps them: secret header values encrypted."""
    headers = [
        [name, encrypt(value) if is_secret_name(name, secret_names=secret_names) else value]
        for name, value in values.get("headers", [])
    ]
    template = {
        name: encrypt(value) if name.lower() in secret_names and value else value
        for name, value in values.get("template", {}).items()
    }
    return {
        "template": template,
        "query": values.get("query", []),
        "headers": headers,
        "body": values.get("body"),
    }


@transaction.atomic
def save_exchange(
    *,
    exchange: Exchange,
    user: AbstractBaseUser,
    name: str,
    collection: Collection | None,
    new_collection_name: str = "",
) -> SavedRequest:
    """Keep a call from the history as a saved request, with its response as the baseline."""
    if collection is None:
        collection, _ = Collection.objects.get_or_create(
            owner=user, name=new_collection_name.strip() or DEFAULT_COLLECTION_NAME
        )
    secret_names = (
        frozenset(p.name.lower() for p in exchange.operation.parameters.all() if p.secret)
        if exchange.operation
        else frozenset()
    )
    last = collection.requests.aggregate(last=Max("order"))["last"]
    saved = SavedRequest.objects.create(
        collection=collection,
        name=name,
        order=0 if last is None else last + 1,
        operation=exchange.operation,
        operation_label=exchange.operation_name,
        values=stored_values(values=restore_values(exchange), secret_names=secret_names),
        expected_status=exchange.status_code,
    )
    if exchange.status_code is not None:
        replay.capture_baseline(saved=saved, exchange=exchange)
    return saved


def start_collection_run(*, collection: Collection, user: AbstractBaseUser) -> Run:
    """Create the run and carry it out in the background, so the page can show progress."""
    run = Run.objects.create(
        collection=collection,
        started_by=user,
        status=RunStatus.PENDING,
        total_steps=collection.requests.count(),
    )
    if not settings.PORTAL_RUNS_IN_BACKGROUND:
        replay.run_collection(collection=collection, user=user, run=run)
        return run

    def work() -> None:
        try:
            replay.run_collection(collection=collection, user=user, run=run)
        finally:
            # A thread's database connection is its own; nothing else closes it.
            connection.close()

    # The run outlives the request; a thread keeps the deployment to one process type.
    threading.Thread(target=work, name=f"collection-run-{run.pk}", daemon=True).start()
    return run


def shown_values(saved: SavedRequest) -> dict:
    """A saved request's values for a page: secrets masked, never decrypted."""
    values = saved.values or {}

    def shown(value: object) -> object:
        return MASK if isinstance(value, str) and value.startswith("enc:") else value

    return {
        "template": {name: shown(value) for name, value in values.get("template", {}).items()},
        "query": values.get("query", []),
        "headers": [[name, shown(value)] for name, value in values.get("headers", [])],
        "body": values.get("body"),
    }
