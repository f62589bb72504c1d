"""Prism (`@stoplight/prism-cli`, installed by `make test`) as the judge of what Try it
sends: a mock of an OpenAPI document that validates every request against it and says
what is wrong in its `sl-violations` header (with a 422, 400 or 401 status)."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from tests.processes import free_port, stop

ROOT = Path(__file__).resolve().parent.parent
PRISM = ROOT / "node_modules" / ".bin" / "prism"
PRISM_ERRORS = "https://stoplight.io/prism/errors"


def _listening(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
        return True
    return False


@contextlib.contextmanager
def prism_mock(document: Path) -> Iterator[str]:
    """A Prism mock of the document on a free loopback port: its base URL."""
    if not PRISM.exists():
        raise RuntimeError(f"{PRISM} is missing: run `make test-tools` (npm ci) first.")
    port = free_port()
    process = subprocess.Popen(
        [str(PRISM), "mock", "--host", "127.0.0.1", "--port", str(port), str(document)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while not _listening(port):
            if process.poll() is not None:
                output = process.stdout.read().decode("utf-8", "replace") if process.stdout else ""
                raise RuntimeError(f"Prism stopped: {output[-2000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError("Prism did not start within 60 s")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)


def violations(*, headers: list, body: bytes) -> list[str]:
    """The request errors Prism found: in its `sl-violations` header (when the document
    has a response for them) or its own problem answer; [] for a conforming request.

    headers: the response's [name, value] pairs."""
    found: list[str] = []
    for name, value in headers:
        if str(name).lower() != "sl-violations":
            continue
        try:
            listed = json.loads(value)
        except ValueError:
            found.append(str(value))
            continue
        for violation in listed if isinstance(listed, list) else []:
            location = violation.get("location") or []
            if location[:1] == ["request"] and violation.get("severity") == "Error":
                found.append(f"{'.'.join(map(str, location))}: {violation.get('message')}")
    try:
        problem = json.loads(body)
    except ValueError:
        return found
    kind = str(problem.get("type", "")) if isinstance(problem, dict) else ""
    # NO_RESPONSE_RESPONSE_DEFINED (sic): the document gives the mock nothing to answer
    # with; it says nothing about the request.
    if kind.startswith(PRISM_ERRORS) and "#NO_RESPONSE_" not in kind:
        details = [v.get("message", "") for v in problem.get("validation") or []]
        found.append(f"{problem.get('title')}: {'; '.join(details) or problem.get('detail')}")
    return found
