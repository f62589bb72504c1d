"""What testers do with calls: save them, organise collections, start runs.

Access: a collection's owner may do everything; members of a group it is shared
with may read it, or read and run it (ShareAccess). Others get a 404.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Mapping

from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import Max
from django.shortcuts import get_object_or_404
from django.utils.safestring import mark_safe

from console import servers
from console.kept_files import copy_files
from console.models import Exchange
from console.tryit import client_key, restore_values, secret_names_of
from httpcore.masking import MASK, NOT_SET, is_secret, mask_value
from httpcore.ratelimit import TooManyCalls, give_back, take_call
from portal.secrets import PREFIX, decrypt, encrypt
from testing import replay
from testing.checks import format_check
from testing.diffing import MAX_SHOWN_CHARS, ResponseDiff
from testing.models import Collection, Run, RunStatus, SavedRequest
from testing.variables import refers_only

DEFAULT_COLLECTION_NAME = "My requests"


def readable_collection(*, user: User, collection_id: int) -> Collection:
    return get_object_or_404(Collection.objects.readable_by(user), pk=collection_id)


def runnable_collection(*, user: User, collection_id: int) -> Collection:
    return get_object_or_404(Collection.objects.runnable_by(user), pk=collection_id)


def owned_collection(*, user: User, collection_id: int) -> Collection:
    return get_object_or_404(Collection.objects.filter(owner=user), pk=collection_id)


def readable_saved_request(*, user: User, saved_id: int) -> SavedRequest:
    requests = SavedRequest.objects.filter(collection__in=Collection.objects.readable_by(user))
    return get_object_or_404(requests.select_related("collection", "operation__api"), pk=saved_id)


def runnable_saved_request(*, user: User, saved_id: int) -> SavedRequest:
    requests = SavedRequest.objects.filter(collection__in=Collection.objects.runnable_by(user))
    return get_object_or_404(requests.select_related("collection", "operation__api"), pk=saved_id)


def owned_saved_request(*, user: User, saved_id: int) -> SavedRequest:
    requests = SavedRequest.objects.filter(collection__owner=user)
    return get_object_or_404(requests.select_related("collection", "operation__api"), pk=saved_id)


def can_run(*, user: User, collection: Collection) -> bool:
    return Collection.objects.runnable_by(user).filter(pk=collection.pk).exists()


class CollectionNotFound(LookupError):
    """No collection, or more than one, answers to a reference; the message says which."""


def find_collection(*, reference: str) -> Collection:
    """The collection a command line names: the one with this id, else with this name."""
    if reference.isdigit():
        found = Collection.objects.filter(pk=int(reference)).select_related("owner").first()
        if found is not None:
            return found
    named = list(Collection.objects.filter(name=reference).select_related("owner")[:20])
    if not named:
        raise CollectionNotFound(f'No collection with the id or name "{reference}".')
    if len(named) > 1:
        ids = ", ".join(f"{c.pk} (owner {c.owner.get_username()})" for c in named)
        raise CollectionNotFound(
            f'{len(named)} collections are named "{reference}": {ids}. Give an id.'
        )
    return named[0]


# (section, lowercased name) -> the encrypted value stored for it
StoredSecrets = Mapping[tuple[str, str], str]


def stored_values(
    *, values: dict, secret_names: frozenset[str], kept: StoredSecrets | None = None
) -> dict:
    """Form values as a saved request keeps them: secret values encrypted.

    A value left as MASK takes the secret stored under its name in `kept` (the edit
    form shows stored secrets as MASK and never holds them in plain text).
    """
    kept = kept or {}

    def store(section: str, name: str, value: str) -> str:
        if value == MASK and (section, name.lower()) in kept:
            return kept[(section, name.lower())]
        # Query values too: a secret query parameter is as much a key as a header.
        return encrypt(value) if is_secret(name, value, secret_names=secret_names) else value

    return {
        "template": {
            name: store("template", name, value)
            for name, value in values.get("template", {}).items()
        },
        "query": [[name, store("query", name, value)] for name, value in values.get("query", [])],
        "headers": [
            [name, store("headers", name, value)] for name, value in values.get("headers", [])
        ],
        # A secret cookie (a session, an API key in a cookie) is a key like a header's.
        "cookies": [
            [name, store("cookies", name, value)] for name, value in values.get("cookies") or []
        ],
        "body": values.get("body"),
        "content_type": values.get("content_type") or "",
        **({"parts": values["parts"]} if values.get("parts") else {}),
    }


def stored_secrets(values: dict) -> dict[tuple[str, str], str]:
    """The encrypted values of a saved request's values, by section and name."""
    pairs = [
        *(("template", name, value) for name, value in (values.get("template") or {}).items()),
        *(("query", name, value) for name, value in values.get("query") or []),
        *(("headers", name, value) for name, value in values.get("headers") or []),
        *(("cookies", name, value) for name, value in values.get("cookies") or []),
    ]
    return {
        (section, name.lower()): value
        for section, name, value in pairs
        if isinstance(value, str) and value.startswith(PREFIX)
    }


def secret_names_for(saved: SavedRequest) -> frozenset[str]:
    return secret_names_of(saved.operation) if saved.operation else frozenset()


@transaction.atomic
def save_exchange(
    *,
    exchange: Exchange,
    user: User,
    name: str,
    collection: Collection | None,
    new_collection_name: str = "",
) -> SavedRequest:
    """Keep a call from the history as a saved request, with its response as the baseline."""
    if collection is None:
        collection_name = new_collection_name.strip() or DEFAULT_COLLECTION_NAME
        # Names are not unique (a tester may create two alike): reuse the first.
        same_name = Collection.objects.filter(owner=user, name=collection_name).order_by("id")
        collection = same_name.first() or Collection.objects.create(
            owner=user, name=collection_name
        )
    secret_names = secret_names_of(exchange.operation) if exchange.operation else frozenset()
    last = collection.requests.aggregate(last=Max("order"))["last"]
    saved = SavedRequest.objects.create(
        collection=collection,
        name=name,
        order=0 if last is None else last + 1,
        operation=exchange.operation,
        operation_label=exchange.operation_name,
        # The server the call went to, as its choice: every replay looks it up again.
        server=exchange.server,
        server_url=exchange.server_url,
        values=stored_values(values=restore_values(exchange), secret_names=secret_names),
        expected_status=exchange.status_code,
    )
    if exchange.status_code is not None:
        replay.capture_baseline(saved=saved, exchange=exchange)
    copy_files(files=exchange.files.all(), saved_request=saved)
    return saved


def take_calls(*, user: User, address: str, count: int) -> None:
    """Count calls started from a page against the Try it limit (the same counter), so
    that replays cannot multiply traffic to a backend where Try it may not.

    Raises TooManyCalls, before anything is sent, when they do not all fit; the calls
    counted for them are given back, so a refused run leaves the user's calls as they were.
    """
    limit, window = settings.PORTAL_TRY_IT_RATE_LIMIT, settings.PORTAL_TRY_IT_RATE_WINDOW
    key = client_key(user=user, address=address)
    now = time.time()
    for taken in range(1, count + 1):
        decision = take_call(client_key=key, limit=limit, window=window, now=now)
        if not decision.allowed:
            give_back(client_key=key, window=window, count=taken, now=now)
            raise TooManyCalls(retry_after=decision.retry_after, limit=limit, window=window)


def replay_on_request(
    *, saved: SavedRequest, user: User, address: str
) -> tuple[Run, replay.StepOutcome]:
    """The page's Replay button: one call against the rate limit, then the replay.

    Raises TooManyCalls when the user has used up their calls.
    """
    take_calls(user=user, address=address, count=1)
    return replay.run_saved_request(saved=saved, user=user)


def start_collection_run(*, collection: Collection, user: User, address: str) -> Run:
    """Create the run and carry it out in the background, so the page can show progress.

    Each request counts as one call against the rate limit (a request repeated until
    a check holds still counts once: its tries are bounded). Raises TooManyCalls,
    with no run created, when they do not all fit.
    """
    total = collection.requests.count()
    take_calls(user=user, address=address, count=total)
    run = Run.objects.create(
        collection=collection, started_by=user, status=RunStatus.PENDING, total_steps=total
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


def _shown(name: str, value: object, *, secret_names: frozenset[str]) -> object:
    # As the history shows a secret: the scheme word kept ("Bearer ••••••"). The plain
    # value is only read to find that word; it never reaches the page. A secret stored
    # in clear (saved before masking knew its name or scheme) is masked all the same.
    if not isinstance(value, str):
        return value
    if value.startswith(PREFIX):
        plain = decrypt(value)
        return mask_value(plain) if plain else MASK
    if refers_only(value) or not is_secret(name, value, secret_names=secret_names):
        return value
    return mask_value(value) if value else NOT_SET_SHOWN


# An empty secret, muted on the page.
NOT_SET_SHOWN = mark_safe(  # noqa: S308 - a literal, nothing of the saved request in it
    f'<span class="text-body-secondary" data-not-set>{NOT_SET}</span>'
)


def shown_server(*, saved: SavedRequest, user: User) -> str:
    """The server a saved request is sent to, as `user` may see it; "" for the API's
    first one (the default)."""
    if not saved.server or saved.operation is None:
        return ""
    return servers.shown_server_url(
        api=saved.operation.api, value=saved.server, url=saved.server_url, user=user
    )


def shown_values(saved: SavedRequest) -> dict:
    """A saved request's values for a page: secrets masked."""
    values = saved.values or {}
    names = secret_names_for(saved)

    def shown(name: str, value: object) -> object:
        return _shown(name, value, secret_names=names)

    return {
        "template": {
            name: shown(name, value) for name, value in values.get("template", {}).items()
        },
        "query": [[name, shown(name, value)] for name, value in values.get("query", [])],
        "headers": [[name, shown(name, value)] for name, value in values.get("headers", [])],
        "cookies": [[name, shown(name, value)] for name, value in values.get("cookies") or []],
        "body": values.get("body"),
        "content_type": values.get("content_type") or "",
    }


def shown_expectations(saved: SavedRequest) -> dict:
    """Checks and the repeat condition in the syntax testers type in the edit form."""
    checks = saved.checks if isinstance(saved.checks, list) else []
    return {
        "checks": [format_check(check) for check in checks],
        "repeat_until": format_check(saved.repeat_until) if saved.repeat_until else "",
    }


def _json_text(value: object) -> object:
    # Strings as they are (long ones are already cut to the start of their text by
    # diffing); other values as JSON, so that a page says null and true, not None and True.
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def shown_diff(diff: ResponseDiff | None) -> ResponseDiff | None:
    """A replay's diff for a page: the JSON values written as JSON, and no more of them
    (or of a text diff) than MAX_SHOWN_CHARS characters, with a note saying so."""
    if diff is None:
        return None
    changes: list[dict] = []
    size = 0
    for change in diff.json_changes:
        if size > MAX_SHOWN_CHARS:
            break
        old, new = _json_text(change.get("old")), _json_text(change.get("new"))
        size += len(change.get("path", "")) + len(str(old)) + len(str(new))
        changes.append({**change, "old": old, "new": new})
    note = diff.note
    if len(changes) < len(diff.json_changes):
        note = (
            f"The changes are cut at {MAX_SHOWN_CHARS:,} characters: the first {len(changes)} "
            f"of {len(diff.json_changes)} are listed."
        )
    text_diff = diff.text_diff
    if len(text_diff) > MAX_SHOWN_CHARS:  # a diff kept before the cap
        text_diff = (
            text_diff[:MAX_SHOWN_CHARS] + f"\n… (the diff is cut at {MAX_SHOWN_CHARS:,} characters)"
        )
    return dataclasses.replace(diff, json_changes=changes, note=note, text_diff=text_diff)
