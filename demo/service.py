"""What the sample backend does: request checks, the hashed result table and
the batch job life cycle, in AzureML Studio (classic) web service terms.

Views only translate HTTP to these calls, so every refusal is a `DemoError`
carrying the status and AzureML-style error body the real service would send.
"""

import hmac
import json
import math
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.http import JsonResponse

from demo import hashing
from demo.models import DemoJob, JobStatus

API_VERSION = "2.0"
# The published service has one input and one output, named as AzureML names
# them by default; clients copy these names from the service's help page.
INPUT_NAME = "input1"
OUTPUT_NAME = "output1"
BITS_PARAMETER = "Hashing bitsize"
# Bit size 16 gives 65,536 columns per text column; the cap keeps one answer
# to a few megabytes whatever the caller asks for.
MAX_RESULT_CELLS = 200_000

Cell = str | int | float | bool | None


class DemoError(Exception):
    """A refused call, answered as {"error": {"code", "message", "details"}}."""

    def __init__(
        self,
        *,
        status: int,
        code: str,
        message: str,
        detail_code: str = "",
        target: str = "",
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.detail_code = detail_code
        self.target = target
        self.headers = headers or {}

    def as_response(self) -> JsonResponse:
        details = []
        if self.detail_code:
            details.append(
                {"code": self.detail_code, "target": self.target, "message": self.message}
            )
        body = {"error": {"code": self.code, "message": self.message, "details": details}}
        response = JsonResponse(body, status=self.status)
        for name, value in self.headers.items():
            response[name] = value
        return response


def bad_argument(*, message: str, detail_code: str, target: str) -> DemoError:
    return DemoError(
        status=400, code="BadArgument", message=message, detail_code=detail_code, target=target
    )


def _json_type(value: Any) -> str:
    # Messages speak JSON, the caller's language, not Python's type names.
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _bounded(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 3] + "..."


def _shown(value: Any) -> str:
    """A caller-supplied value for an error message, bounded in length."""
    return _bounded(json.dumps(value, ensure_ascii=False), 40)


# --- Checks every call passes -------------------------------------------------


def check_authorization(*, header: str | None, expected_key: str) -> None:
    challenge = {"WWW-Authenticate": 'Bearer realm="demo-backend"'}
    if not header:
        message = "The request has no Authorization header; send 'Authorization: Bearer <API key>'."
    elif header.partition(" ")[0].lower() != "bearer":
        message = "The Authorization scheme must be Bearer."
    # An unset key must refuse everything rather than match an empty one.
    elif expected_key and hmac.compare_digest(
        header.partition(" ")[2].strip().encode("utf-8"), expected_key.encode("utf-8")
    ):
        return
    else:
        message = "The API key is not valid."
    raise DemoError(status=401, code="Unauthorized", message=message, headers=challenge)


def check_api_version(*, value: str | None) -> None:
    supported = f"this service supports {API_VERSION}"
    if not value:
        message = f"The api-version query parameter is required; {supported}."
        raise bad_argument(message=message, detail_code="MissingApiVersion", target="api-version")
    if value != API_VERSION:
        message = f"api-version {_shown(value)} is not supported; {supported}."
        raise bad_argument(
            message=message, detail_code="UnsupportedApiVersion", target="api-version"
        )


def wants_details(*, value: str | None) -> bool:
    return (value or "").lower() == "true"


# --- The request body -------------------------------------------------------------


def _refuse_constant(name: str) -> None:
    # NaN and Infinity are not JSON; Python's parser would accept them.
    raise ValueError(f"{name} is not allowed")


class _OutOfRange(float):
    """A JSON number no double holds (1e999 reads as infinity), with its spelling."""

    literal = ""


def _first_out_of_range(payload: Any) -> tuple[str, str] | None:
    """The path (Inputs.input1.Values[0][1]) and spelling of the first number out of
    range, in document order; a loop, not recursion, whatever the nesting."""
    stack: list[tuple[str, Any]] = [("", payload)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, _OutOfRange):
            return path, value.literal
        if isinstance(value, dict):
            items = [(f"{path}.{key}" if path else str(key), item) for key, item in value.items()]
        elif isinstance(value, list):
            items = [(f"{path}[{index}]", item) for index, item in enumerate(value)]
        else:
            continue
        stack.extend(reversed(items))
    return None


def parse_body(*, body: bytes) -> dict[str, Any]:
    if not body.strip():
        raise bad_argument(
            message='The request body is empty; send a JSON object such as {"Inputs": {...}}.',
            detail_code="InvalidJson",
            target="body",
        )
    out_of_range: list[str] = []

    def parse_float(text: str) -> float:
        value = float(text)
        if math.isfinite(value):
            return value
        out_of_range.append(text)
        number = _OutOfRange(value)
        number.literal = text
        return number

    try:
        payload = json.loads(
            body.decode("utf-8"), parse_constant=_refuse_constant, parse_float=parse_float
        )
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise bad_argument(
            message=f"The request body is not valid JSON: {error}.",
            detail_code="InvalidJson",
            target="body",
        ) from None
    if not isinstance(payload, dict):
        raise bad_argument(
            message=f"The request body must be a JSON object, not {_json_type(payload)}.",
            detail_code="InvalidJson",
            target="body",
        )
    found = _first_out_of_range(payload) if out_of_range else None
    if found is not None:
        # It would read as infinity, which is not JSON: neither stored nor answered.
        path, literal = found
        path = _bounded(path, 120)
        raise bad_argument(
            message=f"{path or 'The request body'} is {_bounded(literal, 40)}, a number out "
            "of range; a number must be at most about 1.8e308 in magnitude.",
            detail_code="NumberOutOfRange",
            target=path or "body",
        )
    return payload


@dataclass(frozen=True)
class Table:
    column_names: list[str]
    # AzureML's type names: String, Int64, Double, Boolean.
    column_types: list[str]
    rows: list[list[Cell]]


@dataclass(frozen=True)
class ScoringRequest:
    table: Table
    bits: int


def _cell_type(cell: Cell) -> str:
    if isinstance(cell, bool):  # before int: bool is an int subclass
        return "Boolean"
    if isinstance(cell, int):
        return "Int64"
    return "Double" if isinstance(cell, float) else "String"


def _column_type(*, cells: list[Cell], target: str, name: str) -> str:
    types = {_cell_type(cell) for cell in cells if cell is not None}
    if types <= {"String"}:  # all-null columns count as text: they hash to zeros
        return "String"
    if types <= {"Int64", "Double"}:
        return "Double" if "Double" in types else "Int64"
    if types == {"Boolean"}:
        return "Boolean"
    raise bad_argument(
        message=f"{target}.Values column {_shown(name)} mixes {', '.join(sorted(types))} values; "
        "a column holds one type.",
        detail_code="InputParseError",
        target=f"{target}.Values",
    )


def parse_table(*, value: Any, target: str) -> Table:
    def refuse(message: str, where: str) -> DemoError:
        return bad_argument(message=message, detail_code="InputParseError", target=where)

    if not isinstance(value, dict):
        raise refuse(
            f"{target} must be an object with ColumnNames and Values, not {_json_type(value)}.",
            target,
        )
    for key in ("ColumnNames", "Values"):
        if key not in value:
            raise refuse(f"{target}.{key} is missing.", f"{target}.{key}")
    names, rows = value["ColumnNames"], value["Values"]
    if not isinstance(names, list) or not names:
        raise refuse(
            f"{target}.ColumnNames must be a non-empty array of strings.", f"{target}.ColumnNames"
        )
    for index, name in enumerate(names):
        if not isinstance(name, str) or not name.strip():
            where = f"{target}.ColumnNames[{index}]"
            raise refuse(f"{where} must be a non-empty string, not {_shown(name)}.", where)
    # Duplicates would make the output's feature column names ambiguous.
    if len(set(names)) != len(names):
        twice = next(name for name in names if names.count(name) > 1)
        raise refuse(f"{target}.ColumnNames has {_shown(twice)} twice.", f"{target}.ColumnNames")
    if not isinstance(rows, list):
        raise refuse(
            f"{target}.Values must be an array of rows, not {_json_type(rows)}.", f"{target}.Values"
        )
    for index, row in enumerate(rows):
        where = f"{target}.Values[{index}]"
        if not isinstance(row, list):
            raise refuse(f"{where} must be an array, not {_json_type(row)}.", where)
        if len(row) != len(names):
            raise refuse(f"{where} has {len(row)} values but ColumnNames has {len(names)}.", where)
        for column, cell in enumerate(row):
            if isinstance(cell, dict | list):
                raise refuse(
                    f"{where}[{column}] must be a string, number, boolean or null, "
                    f"not {_json_type(cell)}.",
                    f"{where}[{column}]",
                )
    types = [
        _column_type(cells=[row[index] for row in rows], target=target, name=name)
        for index, name in enumerate(names)
    ]
    return Table(column_names=names, column_types=types, rows=rows)


def parse_bits(*, global_parameters: Any) -> int:
    if global_parameters is None:
        return hashing.DEFAULT_BITS
    if not isinstance(global_parameters, dict):
        raise bad_argument(
            message=f"GlobalParameters must be an object, not {_json_type(global_parameters)}.",
            detail_code="InvalidGlobalParameter",
            target="GlobalParameters",
        )
    raw = global_parameters.get(BITS_PARAMETER, hashing.DEFAULT_BITS)
    bits = raw
    # AzureML clients often send every global parameter as a string.
    if isinstance(raw, str) and raw.strip().isascii() and raw.strip().isdigit():
        bits = int(raw.strip())
    if isinstance(bits, bool) or not isinstance(bits, int):
        bits = None
    if bits is None or not hashing.MIN_BITS <= bits <= hashing.MAX_BITS:
        raise bad_argument(
            message=f"GlobalParameters.{BITS_PARAMETER} must be an integer from "
            f"{hashing.MIN_BITS} to {hashing.MAX_BITS}, not {_shown(raw)}.",
            detail_code="InvalidGlobalParameter",
            target=f"GlobalParameters.{BITS_PARAMETER}",
        )
    return bits


def parse_request(*, payload: dict[str, Any]) -> ScoringRequest:
    if "Inputs" not in payload:
        raise bad_argument(
            message=f'The request has no Inputs; send {{"Inputs": {{"{INPUT_NAME}": '
            '{"ColumnNames": [...], "Values": [[...]]}}}.',
            detail_code="MissingInput",
            target="Inputs",
        )
    inputs = payload["Inputs"]
    if not isinstance(inputs, dict):
        raise bad_argument(
            message=f"Inputs must be an object, not {_json_type(inputs)}.",
            detail_code="MissingInput",
            target="Inputs",
        )
    for name in inputs:
        if name != INPUT_NAME:
            raise bad_argument(
                message=f"Inputs.{name} is not an input of this service; its only input is "
                f"{INPUT_NAME}.",
                detail_code="UnknownInput",
                target=f"Inputs.{name}",
            )
    if INPUT_NAME not in inputs:
        raise bad_argument(
            message=f"Inputs.{INPUT_NAME} is missing.",
            detail_code="MissingInput",
            target=f"Inputs.{INPUT_NAME}",
        )
    table = parse_table(value=inputs[INPUT_NAME], target=f"Inputs.{INPUT_NAME}")
    bits = parse_bits(global_parameters=payload.get("GlobalParameters"))
    text_columns = table.column_types.count("String")
    cells = len(table.rows) * (len(table.column_names) + text_columns * (1 << bits))
    if cells > MAX_RESULT_CELLS:
        raise bad_argument(
            message=f"The result would have {cells} cells, more than the limit of "
            f"{MAX_RESULT_CELLS}; use a smaller {BITS_PARAMETER} or fewer rows.",
            detail_code="ResultTooLarge",
            target=f"Inputs.{INPUT_NAME}",
        )
    return ScoringRequest(table=table, bits=bits)


# --- The answer -------------------------------------------------------------------


def _as_text(cell: Cell) -> str | None:
    # AzureML returns every value as a string, booleans in .NET spelling.
    if cell is None:
        return None
    if isinstance(cell, bool):
        return "True" if cell else "False"
    return str(cell)


def result_table(*, request: ScoringRequest, details: bool) -> dict[str, Any]:
    """The outputs: the input columns, then 2**bits count columns per text column."""
    table, width = request.table, 1 << request.bits
    text_columns = [i for i, kind in enumerate(table.column_types) if kind == "String"]
    names, types = list(table.column_names), list(table.column_types)
    for index in text_columns:
        names += [f"{table.column_names[index]}_HashingFeature.{n}" for n in range(width)]
        types += ["Int32"] * width
    values = []
    for row in table.rows:
        out = [_as_text(cell) for cell in row]
        for index in text_columns:
            counts = hashing.hash_features(text=str(row[index] or ""), bits=request.bits)
            out += [str(count) for count in counts]
        values.append(out)
    value: dict[str, Any] = {"ColumnNames": names}
    if details:
        value["ColumnTypes"] = types
    value["Values"] = values
    return {OUTPUT_NAME: {"type": "table", "value": value}}


def execute(*, body: bytes, details: bool) -> dict[str, Any]:
    request = parse_request(payload=parse_body(body=body))
    return {"Results": result_table(request=request, details=details)}


# --- Batch jobs ---------------------------------------------------------------------


def _timestamp(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _job_not_found(jobid: str) -> DemoError:
    return DemoError(
        status=404,
        code="NotFound",
        message=f"There is no job {_shown(jobid)} in this service.",
        detail_code="JobNotFound",
        target="jobid",
    )


def _job_key(jobid: str) -> uuid.UUID:
    try:
        return uuid.UUID(jobid)
    except ValueError:
        raise _job_not_found(jobid) from None


def find_job(*, workspace: str, service: str, jobid: str) -> DemoJob:
    # Filtering on the path's workspace and service keeps jobs private to them.
    job = DemoJob.objects.filter(pk=_job_key(jobid), workspace=workspace, service=service).first()
    if job is None:
        raise _job_not_found(jobid)
    return job


def submit_job(*, workspace: str, service: str, body: bytes, now: datetime) -> DemoJob:
    payload = parse_body(body=body)
    # Validate at submit, so a bad job is refused with a 400 rather than failing later.
    parse_request(payload=payload)
    return DemoJob.objects.create(
        workspace=workspace,
        service=service,
        inputs=payload["Inputs"],
        global_parameters=payload.get("GlobalParameters") or {},
        created_at=now,
    )


def start_job(
    *, workspace: str, service: str, jobid: str, now: datetime, duration_seconds: float
) -> None:
    # One conditional UPDATE, so of two concurrent starts (any process) only one wins.
    started = DemoJob.objects.filter(
        pk=_job_key(jobid), workspace=workspace, service=service, started_at__isnull=True
    ).update(started_at=now, ends_at=now + timedelta(seconds=max(duration_seconds, 0.0)))
    if started:
        return
    job = find_job(workspace=workspace, service=service, jobid=jobid)
    raise DemoError(
        status=409,
        code="Conflict",
        message=f"Job {job.id.hex} is {job.status_at(now=now).value}; only a NotStarted job can be "
        "started.",
        detail_code="JobAlreadyStarted",
        target="jobid",
    )


def job_status(*, job: DemoJob, now: datetime) -> dict[str, Any]:
    status, results, details = job.status_at(now=now), None, None
    if status == JobStatus.FINISHED:
        try:
            request = parse_request(
                payload={"Inputs": job.inputs, "GlobalParameters": job.global_parameters}
            )
            results = result_table(request=request, details=True)
        except DemoError as error:
            # Only reachable if a stored job no longer validates (edited row, changed
            # limits); the real service reports such a job as Failed with a reason.
            status, details = JobStatus.FAILED, error.message
    done = status in (JobStatus.FINISHED, JobStatus.FAILED)
    return {
        "StatusCode": status.value,
        "Results": results,
        "Details": details,
        "CreatedAt": _timestamp(job.created_at),
        "StartTime": _timestamp(job.started_at),
        "EndTime": _timestamp(job.ends_at) if done else None,
    }


def delete_job(*, workspace: str, service: str, jobid: str) -> None:
    deleted, _ = DemoJob.objects.filter(
        pk=_job_key(jobid), workspace=workspace, service=service
    ).delete()
    if not deleted:
        raise _job_not_found(jobid)


# --- The OAuth-protected operation -------------------------------------------------

OAUTH_SCOPE = "profile"


def oauth_refusal(*, has_token: bool) -> JsonResponse:
    """401 for a missing, unknown, expired, revoked or under-scoped token."""
    if has_token:
        error, message = "invalid_token", "The access token is not valid (unknown, expired, "
        message += f"revoked, or without the {OAUTH_SCOPE!r} scope)."
    else:
        error, message = "", "This operation needs an OAuth 2.0 bearer token."
    challenge = f'Bearer realm="demo-backend", scope="{OAUTH_SCOPE}"'
    if error:
        challenge += f', error="{error}"'
    return DemoError(
        status=401,
        code="Unauthorized",
        message=message,
        headers={"WWW-Authenticate": challenge},
    ).as_response()


def oauth_profile(*, token: Any) -> dict[str, Any]:
    """Who the token speaks for: the application, and the user for a code grant."""
    user = token.user
    return {
        "client_id": token.application.client_id if token.application else None,
        "user": user.get_username() if user is not None else None,
        "scope": token.scope,
        "expires": token.expires.isoformat(),
    }
