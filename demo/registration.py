"""The demo registration: the sample backend as an API with the guide's five operations."""

from __future__ import annotations

import json

from django.db import transaction

from catalog.models import Api, Operation, Parameter, ParameterLocation, ResponseDoc
from demo.service import execute

API_SLUG = "azureml-demo"
JSON = "application/json"

SCORING_INPUT = {
    "Inputs": {"input1": {"ColumnNames": ["Col2"], "Values": [["This is a good day"]]}},
    "GlobalParameters": {},
}
SERVICE_PATH = "/workspaces/{workspace}/services/{service}"

API_DESCRIPTION = """\
A machine-learning web service in the style of an AzureML Studio model: it scores text with
**Feature Hashing** (bit size 3, so 8 hashed columns counting unigrams and bigrams).

* **Request-Response (RRS)**: send rows, get the scored table back at once.
* **Batch Execution (BES)**: submit a job, start it, poll its status until `Finished`, delete it.

Every call needs the header `Authorization: Bearer <key>`; Try it sends the stored demo key
without showing it.
"""


def _pretty(value: object) -> str:
    return json.dumps(value, indent=2)


def _examples() -> tuple[str, str]:
    """RRS and BES Status answers for the body example, as the sample backend computes them."""
    scored = execute(body=json.dumps(SCORING_INPUT).encode(), details=True)
    status = {
        "StatusCode": "Finished",
        "Results": scored["Results"],
        "Details": None,
        "CreatedAt": "2026-01-01T10:00:00.000Z",
        "StartTime": "2026-01-01T10:00:05.000Z",
        "EndTime": "2026-01-01T10:00:07.000Z",
    }
    return _pretty(scored), _pretty(status)


def _operations(*, api_key: str) -> list[dict]:
    rrs_example, status_example = _examples()
    service_parameters = [
        {
            "name": "workspace",
            "default": "demo-workspace",
            "required": True,
            "description": "The workspace id.",
        },
        {
            "name": "service",
            "default": "text-features",
            "required": True,
            "description": "The web service id.",
        },
        {
            "name": "apiversion",
            "default": "2.0",
            "required": True,
            "allowed_values": "2.0",
            "description": "The service API version.",
        },
    ]
    jobid = {
        "name": "jobid",
        "required": True,
        "description": "The job id that BES Submit returned.",
    }
    headers = [
        {
            "name": "Content-Type",
            "location": ParameterLocation.HEADER,
            "default": JSON,
            "required": True,
            "description": "Media type of the body.",
        },
        {
            "name": "Authorization",
            "location": ParameterLocation.HEADER,
            "default": f"Bearer {api_key}",
            "required": True,
            "secret": True,
            "description": "The service's API key as a bearer token.",
        },
    ]
    return [
        {
            "slug": "rrs-execute",
            "name": "RRS Execute",
            "method": "POST",
            "tags": "Request-Response",
            "url_template": SERVICE_PATH + "/execute?api-version={apiversion}&details={details}",
            "description": "Score rows at once: the answer holds the input columns and their "
            "hashed features.",
            "body_example": _pretty(SCORING_INPUT),
            "parameters": [
                *service_parameters,
                {
                    "name": "details",
                    "default": "true",
                    "allowed_values": "true\nfalse",
                    "type": "boolean",
                    "description": "Include column types in the answer.",
                },
                *headers,
            ],
            "responses": [(200, "The scored table.", rrs_example)],
        },
        {
            "slug": "bes-submit",
            "name": "BES Submit",
            "method": "POST",
            "tags": "Batch Execution",
            "url_template": SERVICE_PATH + "/jobs?api-version={apiversion}",
            "description": "Submit a batch job. The answer is the job id, as a JSON string: "
            "use it in BES Start, Status and Delete.",
            "body_example": _pretty(SCORING_INPUT),
            "parameters": [*service_parameters, *headers],
            "responses": [(200, "The id of the new job.", '"0f4b7ad1c3d94e2c9b1e8a6d5f3c2b10"')],
        },
        {
            "slug": "bes-start",
            "name": "BES Start",
            "method": "POST",
            "tags": "Batch Execution",
            "url_template": SERVICE_PATH + "/jobs/{jobid}/start?api-version={apiversion}",
            "description": "Start a submitted job.",
            "body_example": "",
            "parameters": [*service_parameters, jobid, *headers[1:]],
            "responses": [(200, "The job is started.", "null")],
        },
        {
            "slug": "bes-status",
            "name": "BES Status",
            "method": "GET",
            "tags": "Batch Execution",
            "url_template": SERVICE_PATH + "/jobs/{jobid}?api-version={apiversion}",
            "description": "The job's status: NotStarted, Running, Failed, Cancelled or Finished; "
            "with the results once Finished.",
            "body_example": "",
            "parameters": [*service_parameters, jobid, *headers[1:]],
            "responses": [(200, "The job's status.", status_example)],
        },
        {
            "slug": "bes-delete",
            "name": "BES Delete",
            "method": "DELETE",
            "tags": "Batch Execution",
            "url_template": SERVICE_PATH + "/jobs/{jobid}?api-version={apiversion}",
            "description": "Cancel the job and delete it.",
            "body_example": "",
            "parameters": [*service_parameters, jobid, *headers[1:]],
            "responses": [(200, "The job is cancelled and deleted.", "null")],
        },
    ]


@transaction.atomic
def register_demo_api(*, service_url: str, api_key: str) -> Api:
    """Create or refresh the demo API; running it twice leaves one copy."""
    api, _ = Api.objects.update_or_create(
        slug=API_SLUG,
        defaults={
            "name": "AzureML Demo API",
            "url_suffix": API_SLUG,
            "service_url": service_url.rstrip("/"),
            "version": "2.0",
            "published": True,
            "description": API_DESCRIPTION,
        },
    )
    for order, spec in enumerate(_operations(api_key=api_key)):
        operation, _ = Operation.objects.update_or_create(
            api=api,
            slug=spec["slug"],
            defaults={
                "name": spec["name"],
                "method": spec["method"],
                "url_template": spec["url_template"],
                "description": spec["description"],
                "request_content_type": JSON if spec["method"] == "POST" else "",
                "body_example": spec["body_example"],
                "tags": spec["tags"],
                "order": order,
            },
        )
        operation.parameters.all().delete()
        Parameter.objects.bulk_create(
            Parameter(
                operation=operation,
                order=index,
                location=parameter.get("location", ParameterLocation.TEMPLATE),
                name=parameter["name"],
                required=parameter.get("required", False),
                default=parameter.get("default", ""),
                allowed_values=parameter.get("allowed_values", ""),
                type=parameter.get("type", "string"),
                description=parameter.get("description", ""),
                secret=parameter.get("secret", False),
            )
            for index, parameter in enumerate(spec["parameters"])
        )
        operation.responses.all().delete()
        ResponseDoc.objects.bulk_create(
            ResponseDoc(operation=operation, status_code=code, description=text, example=example)
            for code, text, example in spec["responses"]
        )
    return api
