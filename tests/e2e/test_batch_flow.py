"""The batch guide, in a browser: BES Submit, Start, Status until Finished, Delete.

The job id travels as a user would carry it: read from Submit's answer (a bare JSON
string) and typed into the jobid field of the next operations.
"""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import (
    open_operation,
    param_input,
    problems_of,
    requested_url,
    response_json,
    result_status,
    screenshot,
    send,
)

pytestmark = pytest.mark.django_db(transaction=True)

API_NAME = "AzureML Demo API"
HASHED_COLUMNS = [f"Col2_HashingFeature.{index}" for index in range(8)]
POLL_SECONDS = 20


def test_batch_job_from_submit_to_delete(page: Page, live_server, live_demo_api) -> None:
    # The demo API is on the gateway: the result panel shows the URL a developer calls.
    jobs_url = (
        f"{live_server.url}/gateway/azureml-demo/workspaces/demo-workspace/services/"
        "text-features/jobs"
    )

    # Submit: the answer is the new job's id as a JSON string.
    open_operation(page, base_url=live_server.url, api_name=API_NAME, operation_name="BES Submit")
    send(page)
    assert result_status(page) == "200 OK"
    assert requested_url(page) == f"{jobs_url}?api-version=2.0"
    job_id = response_json(page)
    assert isinstance(job_id, str)
    assert re.fullmatch(r"[0-9a-f]{32}", job_id), job_id
    problems_of(page).assert_none()

    # Start: the id is typed into the jobid field.
    open_operation(page, base_url=live_server.url, api_name=API_NAME, operation_name="BES Start")
    param_input(page, "jobid").fill(job_id)
    send(page)
    assert result_status(page) == "200 OK"
    assert requested_url(page) == f"{jobs_url}/{job_id}/start?api-version=2.0"
    assert response_json(page) is None
    problems_of(page).assert_none()

    # Status: Send again and again until the job has finished.
    open_operation(page, base_url=live_server.url, api_name=API_NAME, operation_name="BES Status")
    param_input(page, "jobid").fill(job_id)
    seen = []
    deadline = time.monotonic() + POLL_SECONDS
    while True:
        send(page)
        assert result_status(page) == "200 OK"
        status = response_json(page)
        seen.append(status["StatusCode"])
        if status["StatusCode"] == "Finished" or time.monotonic() > deadline:
            break
        # The swapped-in form kept the typed id, so the next Send polls the same job.
        expect(param_input(page, "jobid")).to_have_value(job_id)
        page.wait_for_timeout(200)
    assert status["StatusCode"] == "Finished", f"still {seen[-1]} after {POLL_SECONDS} s"
    assert set(seen) <= {"NotStarted", "Running", "Finished"}, seen
    assert requested_url(page) == f"{jobs_url}/{job_id}?api-version=2.0"
    table = status["Results"]["output1"]["value"]
    assert table["ColumnNames"] == ["Col2", *HASHED_COLUMNS]
    [row] = table["Values"]
    assert row[0] == "This is a good day"
    assert sum(int(count) for count in row[1:]) == 9
    screenshot(page, "batch-status-finished")
    problems_of(page).assert_none()

    # Delete, then the job is gone.
    open_operation(page, base_url=live_server.url, api_name=API_NAME, operation_name="BES Delete")
    param_input(page, "jobid").fill(job_id)
    send(page)
    assert result_status(page) == "200 OK"
    assert requested_url(page) == f"{jobs_url}/{job_id}?api-version=2.0"
    expect(page.locator("#result .badge.method")).to_have_text("DELETE")
    problems_of(page).assert_none()

    open_operation(page, base_url=live_server.url, api_name=API_NAME, operation_name="BES Status")
    param_input(page, "jobid").fill(job_id)
    send(page)
    assert result_status(page) == "404 Not Found"
    error = response_json(page)["error"]
    assert error["code"] == "NotFound"
    assert error["message"] == f'There is no job "{job_id}" in this service.'
    assert [detail["code"] for detail in error["details"]] == ["JobNotFound"]
    screenshot(page, "batch-status-after-delete")
    problems_of(page).assert_none()
