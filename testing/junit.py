"""Collection runs as JUnit XML, the report format CI systems read.

One <testsuite> per run (named after its collection), one <testcase> per saved
request. A request whose checks failed carries <failure>; one that could not be
sent or answered (a connection refused, an undefined variable) carries <error>;
a request the run never reached (it stopped at the first failure) is <skipped>.
<system-out> holds what went out and came back, and what the request did about a
Retry-After ("429, Retry-After 34 s: waited and retried").
Jenkins, GitLab and GitHub read the testsuite counts and the failure messages.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable

from testing.models import Run, RunStep
from testing.replay import is_gateway_refusal
from testing.retry_after import is_stored_note


def junit_xml(*, runs: list[Run]) -> str:
    """The runs as one <testsuites> document (UTF-8 text with an XML declaration)."""
    root = ET.Element("testsuites", name="API portal replay")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    total_time = 0.0
    for run in runs:
        suite = _suite(run)
        root.append(suite)
        for key in totals:
            totals[key] += int(suite.get(key, "0"))
        total_time += float(suite.get("time", "0"))
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", _seconds(total_time * 1000))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _seconds(milliseconds: float) -> str:
    return f"{milliseconds / 1000:.3f}"


def _suite_name(run: Run) -> str:
    return run.collection.name if run.collection else f"Run {run.pk}"


def _suite(run: Run) -> ET.Element:
    name = _suite_name(run)
    steps = list(run.steps.select_related("exchange").order_by("order", "id"))
    cases = [_case(step, classname=name) for step in steps]
    cases += [_skipped_case(label, classname=name) for label in _not_reached(run, steps)]
    failures = sum(1 for case in cases if case.find("failure") is not None)
    errors = sum(1 for case in cases if case.find("error") is not None)
    skipped = sum(1 for case in cases if case.find("skipped") is not None)
    if run.finished_at and run.started_at:
        duration_ms = (run.finished_at - run.started_at).total_seconds() * 1000
    else:
        duration_ms = sum(step.duration_ms for step in steps)
    suite = ET.Element(
        "testsuite",
        name=name,
        tests=str(len(cases)),
        failures=str(failures),
        errors=str(errors),
        skipped=str(skipped),
        time=_seconds(duration_ms),
        timestamp=run.started_at.replace(microsecond=0, tzinfo=None).isoformat()
        if run.started_at
        else "",
    )
    suite.extend(cases)
    return suite


def _not_reached(run: Run, steps: list[RunStep]) -> Iterable[str]:
    """Names of the collection's requests the run has no step for (fail fast stopped it)."""
    if run.collection is None:
        return []
    done = {step.saved_request_id for step in steps}
    requests = run.collection.requests.order_by("order", "id").values_list("pk", "name")
    return [name for pk, name in requests if pk not in done]


def _case(step: RunStep, *, classname: str) -> ET.Element:
    case = ET.Element(
        "testcase", classname=classname, name=step.name, time=_seconds(step.duration_ms)
    )
    failed = [r for r in step.check_results or [] if not r.get("passed")]
    if is_gateway_refusal(step.error):
        # The API's gateway answered 401/403/429: a failed test, not a fault of the run.
        element = ET.SubElement(case, "failure", message=_first_line(step.error))
        element.text = step.error
    elif step.error:
        element = ET.SubElement(case, "error", message=_first_line(step.error))
        element.text = step.error
    elif not step.passed:
        message = _check_line(failed[0]) if failed else "failed"
        element = ET.SubElement(case, "failure", message=message)
        element.text = "\n".join(_check_line(r) for r in failed) or message
    # What the step did about a Retry-After (a failed note is also the failure above).
    notes = [r.get("label", "") for r in step.check_results or [] if is_stored_note(r)]
    output = "\n".join(line for line in [_exchange_line(step), *notes] if line)
    if output:
        ET.SubElement(case, "system-out").text = output
    return case


def _skipped_case(name: str, *, classname: str) -> ET.Element:
    case = ET.Element("testcase", classname=classname, name=name, time="0.000")
    ET.SubElement(case, "skipped", message="not run: the run stopped at the first failure")
    return case


def _check_line(result: dict) -> str:
    label, detail = result.get("label", ""), result.get("detail", "")
    return f"{label}: {detail}" if detail else label


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "error"


def _exchange_line(step: RunStep) -> str:
    """What went out and what came back; the stored URL is already masked."""
    exchange = step.exchange
    if exchange is None:
        return ""
    answer = str(exchange.status_code) if exchange.status_code else exchange.error_kind
    tries = f" after {step.tries} tries" if step.tries > 1 else ""
    return f"{exchange.method} {exchange.url} -> {answer} in {exchange.duration_ms:.0f} ms{tries}"
