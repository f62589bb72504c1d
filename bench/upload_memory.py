"""Upload memory: the portal's peak RSS growth while a 50 MB file goes through Try it.

    .venv/bin/python bench/upload_memory.py [--runs 3] [--megabytes 50]

Starts the production profile (gunicorn -c gunicorn.conf.py portal.wsgi, DEBUG off; one
worker, GUNICORN_WORKERS=1, so that the worker that handles the upload is known) with
PORTAL_OUTBOUND_MAX_REQUEST_BODY_BYTES raised to 64 MB, and a backend in a process of
its own whose /sink reads the body in pieces and answers its length and SHA-256. Each
run posts the file, as a browser does (multipart/form-data), to:

- the Try it of an operation whose body is the file (application/octet-stream),
- the Try it of an operation whose body is a multipart form with a file part,
- the peer: a view of the bench's own that only lets Django receive the upload (its
  upload handlers, a temporary file), the floor any Django view pays;

and reads the worker's peak RSS (VmHWM, reset through /proc/<pid>/clear_refs) above its
RSS just before. The backend's answer must show every byte arrived, unchunked. Goal: the
median growth of a Try it upload at most a fifth of the file's size. Exits 1 when a goal
is missed.
"""

from __future__ import annotations

import argparse
import hashlib
import html as html_text
import json
import re
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.browser import Browser, shown_status
from bench.gunicorn_portal import gunicorn
from bench.loopback_backend import backend
from bench.processes import MB, reset_peak, status_kb
from bench.report import Report, load_average, time_limit
from bench.workspace import workspace

CAP = 64 * MB
GOAL_SHARE = 0.2
DOCUMENT = {
    "openapi": "3.0.3",
    "info": {"title": "Uploads", "version": "1"},
    "paths": {
        "/sink": {
            "put": {
                "operationId": "putFile",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/octet-stream": {
                            "schema": {"type": "string", "format": "binary"}
                        }
                    },
                },
                "responses": {"200": {"description": "received"}},
            },
            "post": {
                "operationId": "postForm",
                "requestBody": {
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "required": ["file"],
                                "properties": {
                                    "file": {"type": "string", "format": "binary"},
                                    "title": {"type": "string", "example": "bench"},
                                },
                            }
                        }
                    },
                },
                "responses": {"200": {"description": "received"}},
            },
        }
    },
}


def _multipart(fields: list[tuple[str, str]], file_field: str, content: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    head = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields
    )
    file_head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; '
        'filename="bench.bin"\r\nContent-Type: application/octet-stream\r\n\r\n'
    ).encode()
    body = head + file_head + content + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def _post(browser: Browser, path: str, body: bytes, content_type: str) -> tuple[int, bytes]:
    return browser.request(
        "POST",
        path,
        body=body,
        headers={
            "Content-Type": content_type,
            "HX-Request": "true",
            "Referer": f"http://127.0.0.1:{browser.port}/",
        },
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--megabytes", type=int, default=50)
    options = parser.parse_args()
    time_limit(600)
    report = Report("Upload memory (bench/upload_memory.py)")
    content = (hashlib.sha256(b"seed").digest() * (options.megabytes * MB // 32 + 1))[
        : options.megabytes * MB
    ]
    digest = hashlib.sha256(content).hexdigest()
    extra = {"PORTAL_OUTBOUND_MAX_REQUEST_BODY_BYTES": str(CAP), "GUNICORN_TIMEOUT": "300"}
    with workspace("uploads") as space, backend() as server:
        space.setup_django(**extra)
        from openapi.sync import import_openapi

        api = import_openapi(document=DOCUMENT, api_slug="uploads", service_url=server.url).api
        slugs = {o.operation_id: o.slug for o in api.operations.all()}
        with gunicorn(space, GUNICORN_WORKERS="1", **extra) as portal:
            (worker,) = portal.worker_pids()
            report.info(
                f"gunicorn 1 worker x {portal.threads} threads; a {options.megabytes} MB file, "
                f"the cap {CAP // MB} MB; {options.runs} runs"
            )
            browser = Browser(portal.port, timeout=300)
            browser.open_operation("uploads", slugs["putFile"])
            token = [("csrfmiddlewaretoken", browser.token)]
            cases = {
                "Try it, file body": (
                    f"/apis/uploads/operations/{slugs['putFile']}/try",
                    _multipart(token, "file", content),
                ),
                "Try it, multipart part": (
                    f"/apis/uploads/operations/{slugs['postForm']}/try",
                    _multipart([*token, ("part-title", "bench")], "part-file", content),
                ),
                "peer: Django receiving it": ("/bench-upload/", _multipart([], "f", content)),
            }
            # Imports, templates and connections belong to the baseline.
            small = _multipart(token, "file", b"x" * 1024)
            _post(browser, cases["Try it, file body"][0], *small)
            growth: dict[str, list[float]] = {name: [] for name in cases}
            seconds: dict[str, list[float]] = {name: [] for name in cases}
            for _ in range(options.runs):
                for name, (path, (body, content_type)) in cases.items():
                    baseline = status_kb(worker, "VmRSS")
                    if not reset_peak(worker):
                        report.info("VmHWM could not be reset: figures are upper bounds")
                    started = time.perf_counter()
                    status, html = _post(browser, path, body, content_type)
                    seconds[name].append(time.perf_counter() - started)
                    growth[name].append(max(0, status_kb(worker, "VmHWM") - baseline) / 1024)
                    _check(name, status, html, size=len(content), digest=digest)
            browser.close()
    size_mb = len(content) / MB
    peer = statistics.median(growth["peer: Django receiving it"])
    for name in cases:
        median = statistics.median(growth[name])
        detail = (
            f"median {median:.1f} MB of a {size_mb:.0f} MB file ({median / size_mb:.2f} x; "
            f"runs {', '.join(f'{g:.1f}' for g in growth[name])} MB; "
            f"{statistics.median(seconds[name]):.2f} s round trip)"
        )
        if name.startswith("peer"):
            report.figure(f"worker peak RSS growth, {name}", detail)
        else:
            detail += f"; {median - peer:+.1f} MB against the peer"
            report.figure(
                f"worker peak RSS growth, {name}",
                detail,
                f"<= {GOAL_SHARE:.1f} x the file",
                median <= GOAL_SHARE * size_mb,
            )
    report.info(f"load {load_average()}")
    return report.exit_code()


def _check(name: str, status: int, html: bytes, *, size: int, digest: str) -> None:
    if name.startswith("peer"):
        if status != 200 or html != str(size).encode():
            raise SystemExit(f"{name}: answered {status}: {html[:500]!r}")
        return
    if status != 200 or shown_status(html) != 200:
        raise SystemExit(f"{name}: answered {status}: {html[:3000]!r}")
    # The result panel shows the backend's JSON, highlighted: the markup taken out.
    text = html_text.unescape(re.sub(rb"<[^>]+>", b"", html).decode("utf-8", "replace"))
    found = re.search(r'\{[^{}]*"sha256"[^{}]*\}', text)
    answer = json.loads(found.group(0)) if found else {}
    # A file body is the file; a multipart body holds it with its part headers.
    whole = answer.get("sha256") == digest and answer.get("bytes") == size
    if "multipart" in name:
        whole = answer.get("bytes", 0) > size
    if not whole or answer.get("chunked", True):
        raise SystemExit(f"{name}: the backend did not get the file as sent: {text[-3000:]}")


if __name__ == "__main__":
    sys.exit(main())
