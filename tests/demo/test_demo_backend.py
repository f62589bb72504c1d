"""The built-in sample backend, called over HTTP as the portal's Try it console calls it."""

import json
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from bs4 import BeautifulSoup
from django.test import Client
from django.utils import timezone

from demo.models import DemoJob
from tests.markup import one

pytestmark = pytest.mark.django_db

KEY = "test-demo-key"
SERVICE = "/demo-backend/workspaces/ws1/services/svc1"
EXECUTE = f"{SERVICE}/execute?api-version=2.0&details=true"
JOBS = f"{SERVICE}/jobs?api-version=2.0"
SENTENCE_INPUT = {
    "Inputs": {"input1": {"ColumnNames": ["Col2"], "Values": [["This is a good day"]]}},
    "GlobalParameters": {},
}
FEATURES = [f"Col2_HashingFeature.{n}" for n in range(8)]
# The counts of hashing.py's pinned vector for the sentence, as AzureML's strings.
SENTENCE_COUNTS = ["2", "1", "1", "1", "0", "0", "1", "3"]


@pytest.fixture(autouse=True)
def _demo_key(settings: Any) -> None:
    settings.PORTAL_DEMO_API_KEY = KEY


def call(
    client: Client,
    method: str,
    url: str,
    body: Any = None,
    *,
    raw: bytes | None = None,
    auth: str | None = f"Bearer {KEY}",
) -> Any:
    headers = {"Authorization": auth} if auth is not None else {}
    data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
    return client.generic(method, url, data, content_type="application/json", headers=headers)


def error_of(response: Any) -> tuple[str, str]:
    error = response.json()["error"]
    return error["code"], error["message"]


# --- RRS: execute -----------------------------------------------------------------


def test_execute_answers_the_hashed_table_in_azureml_shape(client: Client) -> None:
    response = call(client, "POST", EXECUTE, SENTENCE_INPUT)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "Results": {
            "output1": {
                "type": "table",
                "value": {
                    "ColumnNames": ["Col2", *FEATURES],
                    "ColumnTypes": ["String", *["Int32"] * 8],
                    "Values": [["This is a good day", *SENTENCE_COUNTS]],
                },
            }
        }
    }


@pytest.mark.parametrize("query", ["api-version=2.0", "api-version=2.0&details=false"])
def test_execute_without_details_omits_column_types(client: Client, query: str) -> None:
    response = call(client, "POST", f"{SERVICE}/execute?{query}", SENTENCE_INPUT)

    assert response.status_code == 200
    assert response.json()["Results"]["output1"]["value"] == {
        "ColumnNames": ["Col2", *FEATURES],
        "Values": [["This is a good day", *SENTENCE_COUNTS]],
    }


@pytest.mark.parametrize("bits", [2, "2"])
def test_hashing_bitsize_global_parameter_sets_the_column_count(client: Client, bits: Any) -> None:
    body = {**SENTENCE_INPUT, "GlobalParameters": {"Hashing bitsize": bits}}

    value = call(client, "POST", EXECUTE, body).json()["Results"]["output1"]["value"]

    assert value["ColumnNames"] == ["Col2", *[f"Col2_HashingFeature.{n}" for n in range(4)]]
    counts = [int(count) for count in value["Values"][0][1:]]
    assert len(counts) == 4
    assert sum(counts) == 9


def test_each_text_column_is_hashed_and_other_columns_pass_through(client: Client) -> None:
    body = {
        "Inputs": {
            "input1": {
                "ColumnNames": ["Id", "Title", "Score", "Ok", "Body"],
                "Values": [
                    [7, "Good day", 1.5, True, "This is a good day"],
                    [8, None, 2, False, ""],
                ],
            }
        }
    }

    value = call(client, "POST", EXECUTE, body).json()["Results"]["output1"]["value"]

    title = [f"Title_HashingFeature.{n}" for n in range(8)]
    text = [f"Body_HashingFeature.{n}" for n in range(8)]
    assert value["ColumnNames"] == ["Id", "Title", "Score", "Ok", "Body", *title, *text]
    assert value["ColumnTypes"][:5] == ["Int64", "String", "Double", "Boolean", "String"]
    first, second = value["Values"]
    assert first[:5] == ["7", "Good day", "1.5", "True", "This is a good day"]
    assert sum(int(count) for count in first[5:13]) == 3  # "good", "day", "good day"
    assert first[13:] == SENTENCE_COUNTS
    # A null text cell stays null and counts nothing.
    assert second == ["8", None, "2", "False", "", *["0"] * 16]


def test_execute_with_no_rows_answers_an_empty_table(client: Client) -> None:
    body = {"Inputs": {"input1": {"ColumnNames": ["Col2"], "Values": []}}}

    value = call(client, "POST", EXECUTE, body).json()["Results"]["output1"]["value"]

    assert value["ColumnNames"] == ["Col2", *FEATURES]
    assert value["Values"] == []


def test_the_largest_double_and_an_underflow_are_numbers(client: Client) -> None:
    raw = (
        b'{"Inputs": {"input1": {"ColumnNames": ["A"], '
        b'"Values": [[1.7976931348623157e308], [1e-999]]}}}'
    )

    response = call(client, "POST", EXECUTE, raw=raw)
    submitted = call(client, "POST", JOBS, raw=raw)

    assert response.status_code == 200
    values = response.json()["Results"]["output1"]["value"]["Values"]
    assert values == [["1.7976931348623157e+308"], ["0.0"]]
    assert submitted.status_code == 200
    # PostgreSQL's jsonb keeps a number's digits, not its double: read back, it is the
    # integer those digits spell, which is the same double.
    stored = DemoJob.objects.get().inputs["input1"]["Values"]
    assert [[float(cell) for cell in row] for row in stored] == [[1.7976931348623157e308], [0.0]]


def test_execute_needs_no_csrf_token(settings: Any) -> None:
    csrf_client = Client(enforce_csrf_checks=True)

    response = call(csrf_client, "POST", EXECUTE, SENTENCE_INPUT)

    assert response.status_code == 200


# --- Refused calls ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("auth", "message"),
    [
        (
            None,
            "The request has no Authorization header; send 'Authorization: Bearer <API key>'.",
        ),
        (f"Basic {KEY}", "The Authorization scheme must be Bearer."),
        ("Bearer wrong-key", "The API key is not valid."),
        ("Bearer", "The API key is not valid."),
        (f"Bearer {KEY}x", "The API key is not valid."),
    ],
)
def test_bad_credentials_give_401(client: Client, auth: str | None, message: str) -> None:
    response = call(client, "POST", EXECUTE, SENTENCE_INPUT, auth=auth)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="demo-backend"'
    assert response.json() == {"error": {"code": "Unauthorized", "message": message, "details": []}}


def test_lower_case_bearer_scheme_is_accepted(client: Client) -> None:
    assert call(client, "POST", EXECUTE, SENTENCE_INPUT, auth=f"bearer {KEY}").status_code == 200


def test_an_unset_key_refuses_even_an_empty_bearer(client: Client, settings: Any) -> None:
    settings.PORTAL_DEMO_API_KEY = ""

    response = call(client, "POST", EXECUTE, SENTENCE_INPUT, auth="Bearer ")

    assert response.status_code == 401
    assert error_of(response) == ("Unauthorized", "The API key is not valid.")


def test_jobs_need_the_key_too(client: Client) -> None:
    assert call(client, "POST", JOBS, SENTENCE_INPUT, auth=None).status_code == 401
    assert DemoJob.objects.count() == 0


@pytest.mark.parametrize(
    ("query", "detail_code", "message"),
    [
        ("", "MissingApiVersion", "The api-version query parameter is required; "
         "this service supports 2.0."),
        ("?api-version=", "MissingApiVersion", "The api-version query parameter is required; "
         "this service supports 2.0."),
        ("?api-version=1.0", "UnsupportedApiVersion", 'api-version "1.0" is not supported; '
         "this service supports 2.0."),
    ],
)  # fmt: skip
def test_missing_or_unsupported_api_version_gives_400(
    client: Client, query: str, detail_code: str, message: str
) -> None:
    response = call(client, "POST", f"{SERVICE}/execute{query}", SENTENCE_INPUT)

    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "BadArgument",
            "message": message,
            "details": [{"code": detail_code, "target": "api-version", "message": message}],
        }
    }


def table(names: Any, values: Any) -> dict[str, Any]:
    return {"Inputs": {"input1": {"ColumnNames": names, "Values": values}}}


BAD_BODIES = [
    (b"", "InvalidJson", "The request body is empty; send a JSON object such as "
     '{"Inputs": {...}}.'),
    (b"{", "InvalidJson", "The request body is not valid JSON: Expecting property name enclosed "
     "in double quotes: line 1 column 2 (char 1)."),
    (b"\xff\xfe", "InvalidJson", "The request body is not valid JSON: 'utf-8' codec can't decode "
     "byte 0xff in position 0: invalid start byte."),
    (b'{"Inputs": NaN}', "InvalidJson", "The request body is not valid JSON: NaN is not allowed."),
    (b"[1, 2]", "InvalidJson", "The request body must be a JSON object, not array."),
    ({"GlobalParameters": {}}, "MissingInput", 'The request has no Inputs; send {"Inputs": '
     '{"input1": {"ColumnNames": [...], "Values": [[...]]}}}.'),
    ({"Inputs": []}, "MissingInput", "Inputs must be an object, not array."),
    ({"Inputs": {}}, "MissingInput", "Inputs.input1 is missing."),
    ({"Inputs": {"input2": {}}}, "UnknownInput",
     "Inputs.input2 is not an input of this service; its only input is input1."),
    ({"Inputs": {"input1": "text"}}, "InputParseError",
     "Inputs.input1 must be an object with ColumnNames and Values, not string."),
    ({"Inputs": {"input1": {"Values": [["a"]]}}}, "InputParseError",
     "Inputs.input1.ColumnNames is missing."),
    ({"Inputs": {"input1": {"ColumnNames": ["Col2"]}}}, "InputParseError",
     "Inputs.input1.Values is missing."),
    (table([], []), "InputParseError", "Inputs.input1.ColumnNames must be a non-empty array "
     "of strings."),
    (table(["Col2", 3], []), "InputParseError",
     "Inputs.input1.ColumnNames[1] must be a non-empty string, not 3."),
    (table(["A", "A"], []), "InputParseError", 'Inputs.input1.ColumnNames has "A" twice.'),
    (table(["Col2"], {"a": 1}), "InputParseError",
     "Inputs.input1.Values must be an array of rows, not object."),
    (table(["Col2"], ["a"]), "InputParseError", "Inputs.input1.Values[0] must be an array, "
     "not string."),
    (table(["Col2"], [["a", "b"]]), "InputParseError",
     "Inputs.input1.Values[0] has 2 values but ColumnNames has 1."),
    (table(["A", "B"], [["a", "b"], ["c"]]), "InputParseError",
     "Inputs.input1.Values[1] has 1 values but ColumnNames has 2."),
    (table(["Col2"], [[["nested"]]]), "InputParseError",
     "Inputs.input1.Values[0][0] must be a string, number, boolean or null, not array."),
    (table(["Col2"], [["a"], [1]]), "InputParseError",
     'Inputs.input1.Values column "Col2" mixes Int64, String values; a column holds one type.'),
    ({**table(["Col2"], [["a"]]), "GlobalParameters": []}, "InvalidGlobalParameter",
     "GlobalParameters must be an object, not array."),
    ({**table(["Col2"], [["a"]]), "GlobalParameters": {"Hashing bitsize": 17}},
     "InvalidGlobalParameter", "GlobalParameters.Hashing bitsize must be an integer from 1 to 16, "
     "not 17."),
    ({**table(["Col2"], [["a"]]), "GlobalParameters": {"Hashing bitsize": "three"}},
     "InvalidGlobalParameter", "GlobalParameters.Hashing bitsize must be an integer from 1 to 16, "
     'not "three".'),
    ({**table(["Col2"], [["a"]]), "GlobalParameters": {"Hashing bitsize": True}},
     "InvalidGlobalParameter", "GlobalParameters.Hashing bitsize must be an integer from 1 to 16, "
     "not true."),
    ({**table(["Col2"], [["a"]] * 4), "GlobalParameters": {"Hashing bitsize": 16}},
     "ResultTooLarge", "The result would have 262148 cells, more than the limit of 200000; "
     "use a smaller Hashing bitsize or fewer rows."),
    # Numbers no double holds would read as infinity, which is not JSON.
    (b'{"Inputs": {"input1": {"ColumnNames": ["A"], "Values": [[1], [1e999]]}}}',
     "NumberOutOfRange", "Inputs.input1.Values[1][0] is 1e999, a number out of range; "
     "a number must be at most about 1.8e308 in magnitude."),
    (b'{"Inputs": {"input1": {"ColumnNames": ["A"], "Values": [[-1E+999]]}}}',
     "NumberOutOfRange", "Inputs.input1.Values[0][0] is -1E+999, a number out of range; "
     "a number must be at most about 1.8e308 in magnitude."),
    (b'{"Inputs": {"input1": {"ColumnNames": ["A"], "Values": [["a"]]}}, '
     b'"GlobalParameters": {"Hashing bitsize": 2, "x": ' + b"9" * 400 + b'.0}}',
     "NumberOutOfRange", "GlobalParameters.x is " + "9" * 37 + "..., a number out of range; "
     "a number must be at most about 1.8e308 in magnitude."),
    (b'{"Inputs": {"input1": {"ColumnNames": ["A"], "Values": [[NaN]]}}}', "InvalidJson",
     "The request body is not valid JSON: NaN is not allowed."),
    (b'{"Inputs": {"input1": {"ColumnNames": ["A"], "Values": [[Infinity]]}}}', "InvalidJson",
     "The request body is not valid JSON: Infinity is not allowed."),
    (b'{"Inputs": {"input1": {"ColumnNames": ["A"], "Values": [[-Infinity]]}}}', "InvalidJson",
     "The request body is not valid JSON: -Infinity is not allowed."),
    (b"[1e999]", "InvalidJson", "The request body must be a JSON object, not array."),
]  # fmt: skip


@pytest.mark.parametrize(("body", "detail_code", "message"), BAD_BODIES)
def test_malformed_execute_input_gives_400_naming_the_problem(
    client: Client, body: Any, detail_code: str, message: str
) -> None:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()

    response = call(client, "POST", EXECUTE, raw=raw)

    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["message"]) == ("BadArgument", message)
    assert [detail["code"] for detail in error["details"]] == [detail_code]


@pytest.mark.parametrize(("body", "detail_code", "message"), BAD_BODIES)
def test_malformed_job_input_gives_400_and_creates_no_job(
    client: Client, body: Any, detail_code: str, message: str
) -> None:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()

    response = call(client, "POST", JOBS, raw=raw)

    assert response.status_code == 400
    assert error_of(response) == ("BadArgument", message)
    assert DemoJob.objects.count() == 0


def test_a_body_over_the_upload_limit_gives_413(client: Client, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    body = table(["Col2"], [["x" * 200]])

    response = call(client, "POST", EXECUTE, body)

    assert response.status_code == 413
    assert error_of(response) == ("RequestTooLarge", "The request body is larger than 100 bytes.")


@pytest.mark.parametrize(
    "path",
    [
        "/demo-backend/",
        "/demo-backend/nothing-here",
        f"{SERVICE}/score",
        f"{SERVICE}/execute/",
        f"{SERVICE}/jobs/{'a' * 32}/stop",
        f"/demo-backend/workspaces/{'w' * 101}/services/svc1/execute",
    ],
)
def test_unknown_paths_give_a_json_404(client: Client, path: str) -> None:
    response = call(client, "POST", f"{path}?api-version=2.0", SENTENCE_INPUT)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    code, message = error_of(response)
    assert code == "NotFound"
    assert message == f"There is no resource at {path}."


@pytest.mark.parametrize(
    ("method", "url", "allow"),
    [
        ("GET", EXECUTE, "POST"),
        ("PUT", EXECUTE, "POST"),
        ("GET", JOBS, "POST"),
        ("DELETE", JOBS, "POST"),
        ("GET", f"{SERVICE}/jobs/{'a' * 32}/start?api-version=2.0", "POST"),
        ("POST", f"{SERVICE}/jobs/{'a' * 32}?api-version=2.0", "GET, DELETE"),
        ("PATCH", f"{SERVICE}/jobs/{'a' * 32}?api-version=2.0", "GET, DELETE"),
    ],
)
def test_wrong_verb_gives_405_with_allow(client: Client, method: str, url: str, allow: str) -> None:
    # The verb is checked before the key, as a real gateway does.
    response = call(client, method, url, auth=None)

    assert response.status_code == 405
    assert response["Allow"] == allow
    assert error_of(response) == (
        "MethodNotAllowed",
        f"{method} is not allowed here; use {allow}.",
    )


# --- BES: batch jobs --------------------------------------------------------------


def job_url(jobid: str, suffix: str = "", service: str = SERVICE) -> str:
    return f"{service}/jobs/{jobid}{suffix}?api-version=2.0"


def submit(client: Client, body: Any = SENTENCE_INPUT) -> str:
    response = call(client, "POST", JOBS, body)
    assert response.status_code == 200
    jobid = response.json()
    assert isinstance(jobid, str)
    return jobid


def iso(value: str) -> datetime:
    assert value.endswith("Z")
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_full_batch_flow_submit_start_running_finished_delete(
    client: Client, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.PORTAL_DEMO_JOB_SECONDS = 30

    jobid = submit(client)
    assert len(jobid) == 32
    assert uuid.UUID(jobid).hex == jobid

    status = call(client, "GET", job_url(jobid)).json()
    assert status["StatusCode"] == "NotStarted"
    assert (status["Results"], status["StartTime"], status["EndTime"]) == (None, None, None)
    assert abs(iso(status["CreatedAt"]) - timezone.now()) < timedelta(seconds=5)

    started = call(client, "POST", job_url(jobid, "/start"))
    assert started.status_code == 200
    assert started.json() is None

    running = call(client, "GET", job_url(jobid)).json()
    assert running["StatusCode"] == "Running"
    assert running["Results"] is None
    assert running["EndTime"] is None
    start_time = iso(running["StartTime"])

    again = call(client, "POST", job_url(jobid, "/start"))
    assert again.status_code == 409
    assert error_of(again) == (
        "Conflict",
        f"Job {jobid} is Running; only a NotStarted job can be started.",
    )

    later = start_time + timedelta(seconds=31)
    monkeypatch.setattr(timezone, "now", lambda: later)
    finished = call(client, "GET", job_url(jobid)).json()
    rrs = call(client, "POST", EXECUTE, SENTENCE_INPUT).json()
    assert finished == {
        "StatusCode": "Finished",
        "Results": rrs["Results"],
        "Details": None,
        "CreatedAt": status["CreatedAt"],
        "StartTime": running["StartTime"],
        "EndTime": (start_time + timedelta(seconds=30)).isoformat(timespec="milliseconds")[:-6]
        + "Z",
    }

    assert error_of(call(client, "POST", job_url(jobid, "/start")))[1] == (
        f"Job {jobid} is Finished; only a NotStarted job can be started."
    )

    deleted = call(client, "DELETE", job_url(jobid))
    assert deleted.status_code == 200
    assert deleted.json() is None
    gone = call(client, "GET", job_url(jobid))
    assert gone.status_code == 404
    assert error_of(gone) == ("NotFound", f'There is no job "{jobid}" in this service.')
    assert call(client, "DELETE", job_url(jobid)).status_code == 404
    assert not DemoJob.objects.exists()


def test_a_zero_second_job_is_finished_right_after_start(client: Client, settings: Any) -> None:
    settings.PORTAL_DEMO_JOB_SECONDS = 0
    body = {**SENTENCE_INPUT, "GlobalParameters": {"Hashing bitsize": 1}}
    jobid = submit(client, body)

    call(client, "POST", job_url(jobid, "/start"))
    status = call(client, "GET", job_url(jobid)).json()

    assert status["StatusCode"] == "Finished"
    value = status["Results"]["output1"]["value"]
    assert value["ColumnNames"] == ["Col2", "Col2_HashingFeature.0", "Col2_HashingFeature.1"]
    assert value["Values"] == [["This is a good day", "4", "5"]]


def test_job_state_lives_in_the_database_with_a_fixed_end(client: Client, settings: Any) -> None:
    settings.PORTAL_DEMO_JOB_SECONDS = 30
    jobid = submit(client)
    call(client, "POST", job_url(jobid, "/start"))

    # Another process (or a restart) sees only the row; shortening the setting
    # afterwards must not finish a job that is already running.
    row = DemoJob.objects.get(pk=jobid)
    assert row.ends_at is not None and row.started_at is not None
    assert row.ends_at - row.started_at == timedelta(seconds=30)
    assert row.inputs == SENTENCE_INPUT["Inputs"]
    settings.PORTAL_DEMO_JOB_SECONDS = 0
    assert call(client, "GET", job_url(jobid)).json()["StatusCode"] == "Running"


def test_a_job_belongs_to_its_workspace_and_service(client: Client) -> None:
    jobid = submit(client)
    others = [
        "/demo-backend/workspaces/ws2/services/svc1",
        "/demo-backend/workspaces/ws1/services/x",
    ]

    for other in others:
        for method, suffix in [("GET", ""), ("POST", "/start"), ("DELETE", "")]:
            response = call(client, method, job_url(jobid, suffix, service=other))
            assert response.status_code == 404, (other, method)
            assert error_of(response)[0] == "NotFound"

    assert call(client, "GET", job_url(jobid)).json()["StatusCode"] == "NotStarted"


# A random id is named in the test's id, not spelled in it: every xdist worker collects
# the same tests.
@pytest.mark.parametrize(
    "jobid", [pytest.param(uuid.uuid4().hex, id="a-random-job-id"), "not-a-job", "1234"]
)
def test_unknown_job_ids_give_404(client: Client, jobid: str) -> None:
    for method, suffix in [("GET", ""), ("POST", "/start"), ("DELETE", "")]:
        response = call(client, method, job_url(jobid, suffix))
        assert response.status_code == 404
        assert response.json()["error"] == {
            "code": "NotFound",
            "message": f'There is no job "{jobid}" in this service.',
            "details": [
                {
                    "code": "JobNotFound",
                    "target": "jobid",
                    "message": f'There is no job "{jobid}" in this service.',
                }
            ],
        }


def test_the_dashed_uuid_form_of_a_job_id_is_accepted(client: Client) -> None:
    jobid = submit(client)

    response = call(client, "GET", job_url(str(uuid.UUID(jobid))))

    assert response.json()["StatusCode"] == "NotStarted"


def test_job_calls_check_the_api_version(client: Client) -> None:
    jobid = submit(client)

    response = call(client, "GET", f"{SERVICE}/jobs/{jobid}?api-version=2014-10-01")

    assert response.status_code == 400
    assert error_of(response)[1] == (
        'api-version "2014-10-01" is not supported; this service supports 2.0.'
    )


def test_a_stored_job_that_no_longer_validates_reports_failed(client: Client) -> None:
    past = timezone.now() - timedelta(minutes=5)
    job = DemoJob.objects.create(
        workspace="ws1",
        service="svc1",
        inputs={"input1": {"ColumnNames": ["Col2"], "Values": [["a", "b"]]}},
        started_at=past,
        ends_at=past + timedelta(seconds=1),
    )

    status = call(client, "GET", job_url(job.id.hex)).json()

    assert status["StatusCode"] == "Failed"
    assert status["Results"] is None
    assert status["Details"] == "Inputs.input1.Values[0] has 2 values but ColumnNames has 1."
    assert status["EndTime"] is not None


# --- The same refusal through the gateway and through Try it --------------------------------

OUT_OF_RANGE = b'{"Inputs": {"input1": {"ColumnNames": ["A"], "Values": [[1e999]]}}}'
OUT_OF_RANGE_MESSAGE = (
    "Inputs.input1.Values[0][0] is 1e999, a number out of range; "
    "a number must be at most about 1.8e308 in magnitude."
)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ["execute?api-version=2.0", "jobs?api-version=2.0"])
def test_a_number_out_of_range_through_the_gateway_is_the_backends_400(
    client: Client, live_demo_api: Any, path: str
) -> None:
    response = client.post(
        f"/gateway/azureml-demo/workspaces/ws1/services/svc1/{path}",
        OUT_OF_RANGE,
        content_type="application/json",
        headers={"Authorization": f"Bearer {KEY}"},
    )

    assert response.status_code == 400
    assert error_of(response) == ("BadArgument", OUT_OF_RANGE_MESSAGE)
    assert DemoJob.objects.count() == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("operation", ["rrs-execute", "bes-submit"])
def test_a_number_out_of_range_in_try_it_shows_the_backends_400(
    client: Client, live_demo_api: Any, operation: str
) -> None:
    form = {
        "param-template-workspace": "ws1",
        "param-template-service": "svc1",
        "param-template-apiversion": "2.0",
        "param-template-details": "true",
        "header_name": ["Content-Type", "Authorization"],
        "header_value": ["application/json", f"Bearer {KEY}"],
        "body": OUT_OF_RANGE.decode(),
    }

    response = client.post(
        f"/apis/azureml-demo/operations/{operation}/try", form, headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    soup = BeautifulSoup(response.content, "html.parser")
    assert one(soup, "[data-status]").get_text(strip=True) == "400 Bad Request"
    shown = json.loads(one(soup, "[data-body-kind=json]").get_text())
    assert shown["error"]["message"] == OUT_OF_RANGE_MESSAGE
    assert shown["error"]["details"][0]["target"] == "Inputs.input1.Values[0][0]"


# --- Off: PORTAL_DEMO_BACKEND_ENABLED -----------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("POST", EXECUTE),
        ("POST", JOBS),
        pytest.param(
            "GET", f"{SERVICE}/jobs/{uuid.uuid4().hex}?api-version=2.0", id="GET-a-random-job"
        ),
        pytest.param(
            "POST",
            f"{SERVICE}/jobs/{uuid.uuid4().hex}/start?api-version=2.0",
            id="POST-start-a-random-job",
        ),
        pytest.param(
            "DELETE",
            f"{SERVICE}/jobs/{uuid.uuid4().hex}?api-version=2.0",
            id="DELETE-a-random-job",
        ),
        ("GET", "/demo-backend/"),
        ("GET", "/demo-backend/anything/else"),
    ],
)
def test_when_off_every_backend_url_is_the_portals_404(
    client: Client, settings: Any, method: str, url: str
) -> None:
    settings.PORTAL_DEMO_BACKEND_ENABLED = False
    # With the right key and a valid body: it is not there at all.
    response = call(client, method, url, SENTENCE_INPUT)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert b"NotFound" not in response.content
    assert DemoJob.objects.count() == 0
