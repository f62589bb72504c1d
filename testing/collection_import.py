"""A collection created from a file, such as the export writes (testing.collection_export).

Import reads YAML or JSON (JSON is YAML), checks the whole document before writing
anything (testing.collection_check) and reports every problem with its place in the
file.
"""

from __future__ import annotations

import json
from typing import Any

import yaml
from django.contrib.auth.models import User
from django.db import transaction

from console.kept_files import keep_files
from httpcore.masking import is_secret
from portal.secrets import encrypt
from testing.collection_check import (
    CollectionFileError,
    CollectionPlan,
    RequestPlan,
    check_document,
)
from testing.models import Collection, CollectionVariable, SavedRequest
from testing.variables import refers_only

# Far above any real collection (bodies included); parsing is not free.
MAX_FILE_CHARS = 10_000_000


def import_collection(*, text: str, owner: User, name: str | None = None) -> Collection:
    """Create a collection for `owner` from an exported file (YAML or JSON).

    Checks the whole file first and raises CollectionFileError listing every
    problem; then writes in one transaction, so an error imports nothing. An
    import never replaces anything: when the owner already has a collection of
    that name, the new one is named "<name> (2)" (or (3), ...). `name` overrides
    the file's name. A secret variable the file gives no value (an export never
    does) is created empty: the owner fills it in before running the collection; a
    value the file does give is stored encrypted.
    """
    if len(text) > MAX_FILE_CHARS:
        raise CollectionFileError([f"the file: larger than {MAX_FILE_CHARS // 1_000_000} MB"])
    plan = check_document(_load(text), name=name)
    with transaction.atomic():
        return _write(plan=plan, owner=owner)


def _load(text: str) -> Any:
    """The document: JSON first when it looks like JSON (YAML refuses tab indentation,
    which JSON allows), else YAML."""
    json_error: json.JSONDecodeError | None = None
    if text.lstrip().startswith("{"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            json_error = error
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        if json_error is not None:
            where = f"line {json_error.lineno}, column {json_error.colno}"
            raise CollectionFileError([f"{where}: not valid JSON ({json_error.msg})"]) from None
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "the file"
        problem = getattr(error, "problem", None) or str(error)
        raise CollectionFileError([f"{where}: not valid YAML or JSON ({problem})"]) from None


def _unique_name(*, owner: User, name: str) -> str:
    taken = set(Collection.objects.filter(owner=owner).values_list("name", flat=True))
    candidate, number = name, 1
    while candidate in taken:
        number += 1
        suffix = f" ({number})"
        candidate = name[: 200 - len(suffix)] + suffix
    return candidate


def _stored(value: str, *, secret: bool) -> str:
    """A literal secret is kept encrypted; a reference to variables is kept readable."""
    if secret and value and not refers_only(value):
        return encrypt(value)
    return value


def _write(*, plan: CollectionPlan, owner: User) -> Collection:
    collection = Collection(owner=owner, name=_unique_name(owner=owner, name=plan.name))
    collection.description = plan.description
    if plan.ignored_headers is not None:
        collection.ignored_headers = plan.ignored_headers
    collection.save()
    CollectionVariable.objects.bulk_create(
        CollectionVariable(
            collection=collection,
            name=name,
            value=encrypt(value) if secret else value,
            secret=secret,
        )
        for name, value, secret in plan.variables
    )
    for order, request in enumerate(plan.requests):
        saved = _saved_request(collection=collection, order=order, request=request)
        saved.save()
        keep_files(files=request.content.files, saved_request=saved)
    return collection


def _saved_request(*, collection: Collection, order: int, request: RequestPlan) -> SavedRequest:
    operation, content = request.operation, request.content
    secret_names = {p.name.lower() for p in operation.parameters.all() if p.secret}

    def stored(name: str, value: str) -> str:
        return _stored(value, secret=is_secret(name, value, secret_names=secret_names))

    values = {
        "template": {k: stored(k, v) for k, v in content.template.items()},
        "query": [[k, stored(k, v)] for k, v in content.query],
        "headers": [[n, stored(n, v)] for n, v in content.headers],
        "body": content.body,
    }
    if content.cookies:
        # As the export writes them: only when there are some.
        values["cookies"] = [[n, stored(n, v)] for n, v in content.cookies]
    if content.content_type:
        values["content_type"] = content.content_type
    if content.parts:
        values["parts"] = content.parts
    return SavedRequest(
        collection=collection,
        name=request.name,
        order=order,
        operation=operation,
        operation_label=f"{operation.api.name}: {operation.name}",
        values=values,
        server=content.server,
        server_url=content.server_url,
        expected_status=content.expected_status,
        checks=content.checks,
        extract=content.extract,
        repeat_until=content.repeat_until,
        repeat_max_tries=content.repeat_max_tries,
        repeat_delay_seconds=content.repeat_delay_seconds,
    )
