"""The shipped demo collections: the batch (BES) flow and a scoring (RRS) call.

They run against the demo registration (demo.registration) and show
what a collection can do: variables, a secret API key, a value extracted from
one answer into the next request, a request repeated until the job is finished,
and checks on status, headers and JSON.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction

from catalog.models import Api
from demo.registration import SCORING_INPUT
from portal.secrets import decrypt, encrypt
from testing.checks import parse_check_line, parse_checks, parse_extract
from testing.models import Collection, CollectionVariable, SavedRequest

BATCH_NAME = "AzureML batch flow"
SCORING_NAME = "AzureML scoring"

_SERVICE = {"workspace": "{{workspace}}", "service": "{{service}}", "apiversion": "2.0"}
_JOB = {**_SERVICE, "jobid": "{{jobid}}"}
# Only a reference to the secret variable: the key itself lives encrypted in api_key.
_AUTHORIZATION = ["Authorization", "Bearer {{api_key}}"]
_JSON_BODY = ["Content-Type", "application/json"]


def _body() -> str:
    return json.dumps(SCORING_INPUT, indent=2) + "\n"


def _batch_requests() -> list[dict]:
    return [
        {
            "name": "BES Submit",
            "operation": "bes-submit",
            "template": _SERVICE,
            "headers": [_JSON_BODY, _AUTHORIZATION],
            "body": _body(),
            "status": 200,
            "extract": "jobid = json $",
        },
        {"name": "BES Start", "operation": "bes-start", "template": _JOB, "status": 200},
        {
            "name": "BES Status",
            "operation": "bes-status",
            "template": _JOB,
            "status": 200,
            "checks": "json $.StatusCode = Finished\njson $.Results.output1.value.ColumnNames",
            # The job runs for PORTAL_DEMO_JOB_SECONDS (2) after Start: the second look,
            # 3 s later, finds it done. Two looks keep the flow within Starter's 5 calls
            # a minute, so that BES Delete runs (and passes) even when the job is late.
            "repeat_until": "json $.StatusCode = Finished",
            "repeat_max_tries": 2,
            "repeat_delay_seconds": 3.0,
        },
        {"name": "BES Delete", "operation": "bes-delete", "template": _JOB, "status": 200},
    ]


def _scoring_requests() -> list[dict]:
    return [
        {
            "name": "RRS Execute",
            "operation": "rrs-execute",
            "template": {**_SERVICE, "details": "true"},
            "headers": [_JSON_BODY, _AUTHORIZATION],
            "body": _body(),
            # expected status 200 is the "status 200" check.
            "status": 200,
            "checks": "header Content-Type = application/json\njson $.Results.output1.type = table",
        }
    ]


def _set_variables(*, collection: Collection) -> None:
    plain = {"workspace": "demo-workspace", "service": "text-features"}
    for name, value in plain.items():
        CollectionVariable.objects.update_or_create(
            collection=collection, name=name, defaults={"value": value, "secret": False}
        )
    key = settings.PORTAL_DEMO_API_KEY
    variable = CollectionVariable.objects.filter(collection=collection, name="api_key").first()
    # Encryption is randomised: rewrite only when the key changed, so reloading is a no-op.
    if variable is None or not variable.secret or decrypt(variable.value) != key:
        CollectionVariable.objects.update_or_create(
            collection=collection, name="api_key", defaults={"value": encrypt(key), "secret": True}
        )


def _set_request(*, collection: Collection, api: Api, order: int, spec: dict) -> None:
    operation = api.operations.get(slug=spec["operation"])
    repeat = spec.get("repeat_until")
    SavedRequest.objects.update_or_create(
        collection=collection,
        name=spec["name"],
        defaults={
            "order": order,
            "operation": operation,
            "operation_label": f"{api.name}: {operation.name}",
            "values": {
                "template": dict(spec["template"]),
                "query": [],
                "headers": [list(pair) for pair in spec.get("headers", [_AUTHORIZATION])],
                "body": spec.get("body"),
            },
            "expected_status": spec.get("status"),
            "checks": parse_checks(spec.get("checks", "")),
            "extract": parse_extract(spec.get("extract", "")),
            "repeat_until": parse_check_line(repeat) if repeat else None,
            "repeat_max_tries": spec.get("repeat_max_tries", 1),
            "repeat_delay_seconds": spec.get("repeat_delay_seconds", 1.0),
        },
    )


def _collection(
    *, owner: User, api: Api, name: str, description: str, requests: list[dict]
) -> Collection:
    collection, _ = Collection.objects.update_or_create(
        owner=owner, name=name, defaults={"description": description}
    )
    _set_variables(collection=collection)
    # Refreshed by name: baselines already captured and requests a user added stay.
    for order, spec in enumerate(requests):
        _set_request(collection=collection, api=api, order=order, spec=spec)
    return collection


@transaction.atomic
def create_demo_collection(*, owner: User, api: Api) -> Collection:
    """Create or refresh the demo collections of `owner`; the batch flow is returned.

    Running it twice leaves one of each. The scoring collection ("AzureML
    scoring", one RRS Execute call) is created beside it.
    """
    _collection(
        owner=owner,
        api=api,
        name=SCORING_NAME,
        description="Score one row with the request-response service and check the table.",
        requests=_scoring_requests(),
    )
    return _collection(
        owner=owner,
        api=api,
        name=BATCH_NAME,
        description="Submit a batch job, start it, poll its status until it is Finished, "
        "then delete it. The job id travels from BES Submit to the other requests in "
        "{{jobid}}.",
        requests=_batch_requests(),
    )
