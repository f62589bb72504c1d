"""Large responses: the portal's memory for a 1 GB body, and the time to show 2 MiB of JSON.

    .venv/bin/python bench/large_responses.py [--runs 7]

1. Memory, live: the production profile (gunicorn -c gunicorn.conf.py portal.wsgi, DEBUG
   off, collected static files; PostgreSQL and Redis when DATABASE_URL and REDIS_URL are
   set, else a temporary SQLite file) with one worker (GUNICORN_WORKERS=1, so that the
   worker that handles the call is known), and a backend in a process of its own. Try it
   calls whose answer is 1 GB of text, 2 MiB of JSON and 5 MB of JSON: the worker's peak
   RSS (VmHWM, reset through /proc/<pid>/clear_refs) above its warmed-up RSS. Goal for
   the 1 GB body: at most 50 MB. The JSON figures are shown for comparison.
2. Chromium (Debian's /usr/bin/chromium through Playwright), on the same portal: the
   time from the Send click on the operation page until the result panel of 2 MiB of
   JSON is in the page and the page answers (the swap, then a frame and a task after it),
   and from the navigation to the call in the history until the same (the load event,
   then a frame and a task); goal <= 1 s each, medians of `--runs`, with the elements in
   the panel. The peer, in the same run: the same history page with the whole body
   highlighted (?parts=30, the panel as it was before it was shown in parts); also, for
   comparison, Show all (the whole formatted body as plain text) and a 20 KB answer.
3. Time, in this process: rendering a 2 MiB JSON response as the result panel shows it,
   render_body (decode, parse, pretty-print the first part, highlight it) plus the
   template of the result panel. Goal: the median of `--runs` runs at most 250 ms,
   highlighted. The whole body highlighted and Pygments on the same text, for
   comparison, and the plain-text fallback above PORTAL_HIGHLIGHT_MAX_CHARS, with its
   note.

Exits 1 when a goal is missed.
"""

from __future__ import annotations

import argparse
import gc
import re
import statistics
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
GOAL_RENDER = 0.250
GOAL_BROWSER_MS = 1000
JSON_BYTES = 2 * MB
LARGE_JSON_BYTES = 5_000_000  # under the 5 MiB response cap, over the highlight limit
GB = 1024 * MB


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    options = parser.parse_args()
    time_limit(600)
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
            browser_times(report, portal, runs=options.runs)
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


# In the page: press Send, and once htmx has swapped the new result panel in and settled
# it (its links work from then on), wait for a frame and a task after it: the panel is
# laid out and painted, and the page answers.
_SEND_AND_WAIT = """
() => new Promise((resolve) => {
  const started = performance.now();
  const card = document.querySelector('#try-it');
  card.dataset.stale = 'yes';
  document.body.addEventListener('htmx:afterSettle', function settled() {
    // Other parts of the page settle too (the code samples follow the form).
    const body = document.querySelector('#try-it:not([data-stale]) #result [data-body-kind]');
    if (!body) return;
    document.body.removeEventListener('htmx:afterSettle', settled);
    requestAnimationFrame(() => setTimeout(() => resolve({
      ms: performance.now() - started,
      kind: body.dataset.bodyKind,
      elements: document.querySelectorAll('#result *').length,
      code: body.querySelector('code').id,
    }), 0));
  });
  const buttons = [...card.querySelectorAll('button[type=submit]')];
  buttons.find((button) => button.textContent.trim() === 'Send').click();
})
"""
# After a navigation: the load event, then a frame and a task; the time from the start of
# the navigation (performance's time origin).
_LOADED = """
() => new Promise((resolve) => {
  const done = () => requestAnimationFrame(() => setTimeout(() => resolve({
    ms: performance.now(),
    kind: (document.querySelector('#result [data-body-kind]') || {dataset: {}}).dataset.bodyKind,
    elements: document.querySelectorAll('#result *').length,
  }), 0));
  if (document.readyState === 'complete') done(); else addEventListener('load', done);
})
"""
# Press a link of the part bar (Show all...) and wait as after Send.
_PRESS_AND_WAIT = """
(selector) => new Promise((resolve) => {
  const started = performance.now();
  const block = document.querySelector('[data-response-content]');
  block.dataset.stale = 'yes';
  document.body.addEventListener('htmx:afterSettle', function settled() {
    const shown = '[data-response-content]:not([data-stale]) [data-body-kind]';
    const body = document.querySelector(shown);
    if (!body) return;
    document.body.removeEventListener('htmx:afterSettle', settled);
    requestAnimationFrame(() => setTimeout(() => resolve({
      ms: performance.now() - started,
      kind: body.dataset.bodyKind,
      elements: document.querySelectorAll('#result *').length,
    }), 0));
  });
  block.querySelector(selector).click();
})
"""


def browser_times(report: Report, portal, *, runs: int) -> None:
    from playwright.sync_api import sync_playwright

    from tests.chromium import launch_chromium

    operation = portal.url("/apis/large/operations/json/")
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        context = chromium.new_context(viewport={"width": 1366, "height": 900})
        try:
            page = context.new_page()
            small = _median(runs, lambda: _send(page, portal.url("/apis/large/operations/small/")))
            sends, show_all = [], []
            for _ in range(runs):
                page.goto(operation, wait_until="load")
                sends.append(page.evaluate(_SEND_AND_WAIT))
                show_all.append(page.evaluate(_PRESS_AND_WAIT, "[data-show-all]"))
            exchange = sends[-1]["code"].removeprefix("response-body-")
            history = portal.url(f"/history/{exchange}/")
            shown = _median(runs, lambda: _navigate(page, history))
            whole = _median(runs, lambda: _navigate(page, history + "?parts=30"))
        finally:
            context.close()
            chromium.close()
    send = _median_of(sends)
    report.figure(
        f"Chromium: Send to the result panel of 2 MiB of JSON shown, median of {runs}",
        f"{send['ms']:.0f} ms, {send['elements']:,} elements in the panel, kind {send['kind']}"
        f" ({send['ms'] / whole['ms']:.2f}x the whole highlighted; a 20 KB answer: "
        f"{small['ms']:.0f} ms, {small['elements']:,} elements)",
        f"<= {GOAL_BROWSER_MS} ms",
        send["ms"] <= GOAL_BROWSER_MS and send["kind"] == "json",
    )
    report.figure(
        f"Chromium: the call in the history, navigation to the panel shown, median of {runs}",
        f"{shown['ms']:.0f} ms, {shown['elements']:,} elements, kind {shown['kind']} "
        f"({shown['ms'] / whole['ms']:.2f}x the whole highlighted)",
        f"<= {GOAL_BROWSER_MS} ms",
        shown["ms"] <= GOAL_BROWSER_MS and shown["kind"] == "json",
    )
    report.figure(
        "  peer: the same history page with the whole body highlighted (?parts=30)",
        f"{whole['ms']:.0f} ms, {whole['elements']:,} elements, kind {whole['kind']}",
    )
    every = _median_of(show_all)
    report.figure(
        "  Show all (the whole formatted body as plain text), press to shown",
        f"{every['ms']:.0f} ms, {every['elements']:,} elements, kind {every['kind']}",
    )


def _send(page, url: str) -> dict:
    """Send from a freshly loaded operation page (htmx has set up its form)."""
    page.goto(url, wait_until="load")
    return page.evaluate(_SEND_AND_WAIT)


def _navigate(page, url: str) -> dict:
    page.goto(url, wait_until="commit")
    return page.evaluate(_LOADED)


def _median(runs: int, measure) -> dict:
    return _median_of([measure() for _ in range(runs)])


def _median_of(results: list[dict]) -> dict:
    """The run whose time is the median (the upper one of an even number)."""
    middle = statistics.median_high(result["ms"] for result in results)
    return next(result for result in results if result["ms"] == middle)


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
    from console.rendering import MAX_PARTS, RenderedBody, render_body

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
    markup = rendered.highlighted or ""
    report.figure(
        f"2 MiB JSON ({len(body):,} bytes) rendered, its first part highlighted, median of {runs}",
        f"{ms(median)} (fastest {ms(times[0])}, slowest {ms(times[-1])}; kind {rendered.kind}, "
        f"{len(rendered.text):,} characters pretty, {len(markup):,} of markup, "
        f"{markup.count('<span'):,} spans, page {len(html):,} characters)",
        f"<= {ms(GOAL_RENDER)}",
        median <= GOAL_RENDER and rendered.kind == "json" and rendered.more,
    )
    wholes = []
    for _ in range(3):
        started = time.perf_counter()
        every = render_body(body=body, content_type="application/json", parts=MAX_PARTS)
        wholes.append(time.perf_counter() - started)
    report.figure(
        "  the whole body highlighted (?parts=30), for comparison, median of 3",
        f"{ms(statistics.median(wholes))}, {len(every.highlighted or ''):,} characters of markup, "
        f"{(every.highlighted or '').count('<span'):,} spans",
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
    highlight(every.text, JsonLexer(), HtmlFormatter(nowrap=True))
    report.figure(
        "  Pygments' JsonLexer on the whole text, for comparison",
        ms(time.perf_counter() - started),
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
