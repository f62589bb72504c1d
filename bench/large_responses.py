"""Large responses: the portal's memory for a 1 GB body, and the time to show 2 MiB of JSON.

    .venv/bin/python bench/large_responses.py [--runs 7]

1. Memory, live: the production profile (gunicorn -c gunicorn.conf.py portal.wsgi, DEBUG
   off, collected static files; PostgreSQL and Redis when DATABASE_URL and REDIS_URL are
   set, else a temporary SQLite file) with one worker (GUNICORN_WORKERS=1, so that the
   worker that handles the call is known), and a backend in a process of its own. Try it
   calls whose answer is 1 GB of text, 2 MiB of JSON and 5 MB of JSON: the worker's peak
   RSS (VmHWM, reset through /proc/<pid>/clear_refs) above its warmed-up RSS. Goal for
   the 1 GB body: at most 50 MB. The JSON figures are shown for comparison.
2. Time, in this process: rendering a 2 MiB JSON response as the result panel shows it,
   render_body (decode, parse, pretty-print, highlight) plus the template of the result
   panel. Goal: the median of `--runs` runs at most 500 ms, highlighted. Pygments on the
   same text, for comparison, and the plain-text fallback above
   PORTAL_HIGHLIGHT_MAX_CHARS, with its note.

Exits 1 when a goal is missed.
"""

from __future__ import annotations

import argparse
import gc
import re
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.browser import Browser, shown_status
from bench.gunicorn_portal import gunicorn
from bench.loopback_backend import backend, json_document
from bench.processes import MB, reset_peak, status_kb
from bench.report import Report, load_average, ms, time_limit
from bench.workspace import register, workspace

GOAL_GROWTH_MB = 50
GOAL_RENDER = 0.500
JSON_BYTES = 2 * MB
LARGE_JSON_BYTES = 5_000_000  # under the 5 MiB response cap, over the highlight limit
GB = 1024 * MB


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    options = parser.parse_args()
    time_limit(240)
    report = Report("Large responses (bench/large_responses.py)")
    with workspace("large") as space, backend() as server:
        space.setup_django()
        register(
            [
                {
                    "slug": "large",
                    "url": server.url,
                    "operations": [
                        ("small", "GET", "/json?bytes=20000"),
                        ("gb", "GET", f"/stream?bytes={GB}"),
                        ("json", "GET", f"/json?bytes={JSON_BYTES}"),
                        ("json5", "GET", f"/json?bytes={LARGE_JSON_BYTES}"),
                    ],
                }
            ]
        )
        with gunicorn(space, GUNICORN_WORKERS="1") as portal:
            report.info(f"gunicorn 1 worker x {portal.threads} threads (GUNICORN_WORKERS=1)")
            memory(report, portal)
        timing(report, runs=options.runs)
    report.info(f"load {load_average()}")
    return report.exit_code()


def memory(report: Report, portal) -> None:
    (worker,) = portal.worker_pids()
    browser = Browser(portal.port, timeout=120)
    browser.open_operation("large", "small")
    # Imports, templates, connections and the highlighter are set up once, and belong
    # to the baseline (small JSON is highlighted too). Memory a case leaves resident
    # counts against the next ones, so the 1 GB body goes first and each later figure is
    # an upper bound.
    for _ in range(3):
        browser.try_it("large", "small")
    baseline = status_kb(worker, "VmRSS")
    exact = reset_peak(worker)
    report.info(
        f"worker {worker}: warmed-up RSS {baseline / 1024:.0f} MB; peak from "
        + ("VmHWM after a reset" if exact else "VmHWM (could not reset: an upper bound)")
    )
    cases = [
        ("1 GB text body", "gb", True),
        ("5 MB JSON body (plain text)", "json5", False),
        ("2 MiB JSON body (highlighted)", "json", False),
    ]
    for label, operation, has_goal in cases:
        reset_peak(worker)
        started = time.perf_counter()
        status, html = browser.try_it("large", operation)
        elapsed = time.perf_counter() - started
        growth = max(0, status_kb(worker, "VmHWM") - baseline) / 1024
        shown = shown_status(html)
        kind = _body_kind(html)
        detail = f"{growth:.1f} MB (answer {status}, backend {shown}, shown as {kind}, "
        detail += f"{elapsed:.2f} s round trip, page {len(html) / MB:.1f} MB)"
        ok = status == 200 and shown == 200
        if has_goal:
            report.figure(
                f"worker memory growth, {label}",
                detail,
                f"<= {GOAL_GROWTH_MB} MB",
                ok and growth <= GOAL_GROWTH_MB,
            )
        else:
            report.figure(f"worker memory growth, {label}", detail, ok=None if ok else False)
    browser.close()


def _body_kind(html: bytes) -> str:
    found = re.search(rb'data-body-kind="(\w+)"', html)
    return found.group(1).decode() if found else "nothing"


def timing(report: Report, *, runs: int) -> None:
    from django.conf import settings
    from django.contrib.auth.models import AnonymousUser
    from django.template.loader import render_to_string
    from django.test import RequestFactory
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import JsonLexer

    from console.models import Exchange
    from console.rendering import RenderedBody, render_body

    body = json_document(JSON_BYTES)
    # The panel shows the call as the viewer may see it: an anonymous visitor.
    request = RequestFactory().get("/", HTTP_HOST="127.0.0.1")
    request.user = AnonymousUser()

    def panel(body: bytes) -> tuple[RenderedBody, str]:
        rendered = render_body(body=body, content_type="application/json")
        exchange = Exchange(
            pk=1,
            method="GET",
            url="http://127.0.0.1/orders",
            status_code=200,
            reason="OK",
            response_headers=[["Content-Type", "application/json"]],
            request_headers=[],
            response_size=len(body),
            response_content_type="application/json",
            duration_ms=12,
        )
        html = render_to_string(
            "console/_result.html", {"exchange": exchange, "rendered": rendered}, request=request
        )
        return rendered, html

    panel(body)  # imports and the template, once
    times = []
    for _ in range(runs):
        gc.collect()
        started = time.perf_counter()
        rendered, html = panel(body)
        times.append(time.perf_counter() - started)
    times.sort()
    median = times[len(times) // 2]
    report.figure(
        f"2 MiB JSON ({len(body):,} bytes) rendered highlighted, median of {runs}",
        f"{ms(median)} (fastest {ms(times[0])}, slowest {ms(times[-1])}; kind {rendered.kind}, "
        f"{len(rendered.text):,} characters pretty, {len(rendered.highlighted or ''):,} of markup)",
        f"<= {ms(GOAL_RENDER)}",
        median <= GOAL_RENDER and rendered.kind == "json",
    )
    gc.collect()
    tracemalloc.start()
    panel(body)
    peak = tracemalloc.get_traced_memory()[1] / MB
    tracemalloc.stop()
    report.figure(
        "  Python allocations at the peak of that rendering (tracemalloc)", f"{peak:.0f} MB"
    )
    started = time.perf_counter()
    highlight(rendered.text, JsonLexer(), HtmlFormatter(nowrap=True))
    report.figure(
        "  Pygments' JsonLexer on the same text, for comparison", ms(time.perf_counter() - started)
    )

    large = json_document(LARGE_JSON_BYTES)
    started = time.perf_counter()
    fallback, html = panel(large)
    elapsed = time.perf_counter() - started
    noted = fallback.note and fallback.note in html
    report.figure(
        f"{len(large) / 1e6:.1f} MB JSON (over PORTAL_HIGHLIGHT_MAX_CHARS = "
        f"{settings.PORTAL_HIGHLIGHT_MAX_CHARS:,}) rendered as plain text",
        f"{ms(elapsed)}, kind {fallback.kind}, note shown: {fallback.note!r}",
        "plain text with a note",
        fallback.kind == "text" and bool(noted),
    )


if __name__ == "__main__":
    sys.exit(main())
