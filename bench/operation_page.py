"""The operation page of a 5 MB OpenAPI document: server time and load time in Chromium.

    .venv/bin/python bench/operation_page.py [--operations 480] [--requests 30] [--loads 7]

Generates a real-world-shaped OpenAPI 3.0 document (`tests/openapi_generator.py`: shared
and recursive `$ref`s, named examples, long Markdown; 480 operations give about 5 MB of
JSON), imports it with `manage.py import_openapi`, and serves the portal under gunicorn
(the production profile, bench/workspace.py). Every operation page is fetched once, cold
(its schema trees not cached yet): p50 and max shown. Three pages are then measured: the
one with the most HTML (the biggest schema trees and examples), the largest with a
recursive schema, and the median one by size:

- server time: `--requests` sequential GETs on one keep-alive connection, after one
  first (cold: its schema trees not yet cached) request, shown on its own; p50 goal
  under 100 ms; the same for the minimal Django view (`/bench-minimal/`) in the same run,
  and the ratio;
- load in Chromium (Debian's, through Playwright): `--loads` fresh contexts (no cache)
  per page, each `goto` to the load event, the navigation entry's `loadEventEnd`; median
  goal under 1 s; the minimal view's median beside it.

Exits 1 when a goal is missed. Needs `make test-tools` (Chromium).
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.gunicorn_portal import gunicorn
from bench.report import Report, load_average, time_limit
from bench.workspace import workspace
from tests.chromium import launch_chromium

GOAL_SERVER_MS = 100
GOAL_LOAD_MS = 1000
GOAL_DOCUMENT_BYTES = 5_000_000
API_SLUG = "large"


def operation_paths() -> dict[str, bool]:
    """Every operation page of the large API, and whether its operation has a recursive
    schema (the generator's Node and Folder definitions)."""
    from catalog.models import Operation

    operations = Operation.objects.filter(api__slug=API_SLUG).select_related("api")
    paths = {
        op.get_absolute_url(): any(n in json.dumps(op.openapi) for n in ("/Node", "/Folder"))
        for op in operations.order_by("order")
    }
    if not paths:
        raise SystemExit("the import stored no operation")
    return paths


def crawl(port: int, paths: dict[str, bool]) -> dict[str, tuple[float, int]]:
    """Each page once, cold (its schema trees not cached yet): time in ms and HTML size."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    result = {}
    try:
        for path in paths:
            started = time.perf_counter()
            connection.request("GET", path)
            response = connection.getresponse()
            body = response.read()
            result[path] = ((time.perf_counter() - started) * 1000, len(body))
            if response.status != 200:
                raise SystemExit(f"{path} answered {response.status}")
    finally:
        connection.close()
    return result


def pages_to_measure(
    crawled: dict[str, tuple[float, int]], paths: dict[str, bool]
) -> dict[str, str]:
    """The page with the most HTML, the largest with a recursive schema, the median one."""
    by_size = sorted(crawled, key=lambda path: crawled[path][1], reverse=True)
    recursive = next((path for path in by_size if paths[path]), by_size[0])
    chosen = {"largest": by_size[0], "recursive schema": recursive}
    chosen["median"] = by_size[len(by_size) // 2]
    return {f"{label} ({crawled[p][1] / 1000:.0f} KB)": p for label, p in chosen.items()}


def server_times(port: int, path: str, *, requests: int) -> tuple[float, list[float]]:
    """The first request's time, then each of `requests` more, in ms."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    times = []
    try:
        for _ in range(requests + 1):
            started = time.perf_counter()
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            times.append((time.perf_counter() - started) * 1000)
            if response.status != 200:
                raise SystemExit(f"{path} answered {response.status}")
    finally:
        connection.close()
    return times[0], times[1:]


def load_times(browser, url: str, *, loads: int) -> list[float]:
    times = []
    for _ in range(loads):
        context = browser.new_context()
        try:
            page = context.new_page()
            response = page.goto(url, wait_until="load", timeout=30_000)
            if response is None or response.status != 200:
                raise SystemExit(f"{url} did not load")
            times.append(
                page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")
            )
        finally:
            context.close()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--operations", type=int, default=480)
    parser.add_argument("--tags", type=int, default=20)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--loads", type=int, default=7)
    options = parser.parse_args()
    time_limit(900)
    report = Report("operation page of a large document")
    report.info(f"load average: {load_average()}")

    from tests.openapi_generator import generate_document

    with workspace("operation-page") as space:
        text = json.dumps(generate_document(operations=options.operations, tags=options.tags))
        document = space.directory / "openapi.json"
        document.write_text(text, encoding="utf-8")
        report.figure(
            "document size",
            f"{len(text) / 1e6:.2f} MB, {options.operations} operations",
            f">= {GOAL_DOCUMENT_BYTES / 1e6:.0f} MB",
            ok=len(text) >= GOAL_DOCUMENT_BYTES,
        )
        started = time.perf_counter()
        space.manage("import_openapi", str(document), "--api", API_SLUG, timeout=600)
        report.info(f"imported in {time.perf_counter() - started:.1f} s")
        space.setup_django()
        paths = operation_paths()

        from playwright.sync_api import sync_playwright

        with gunicorn(space) as portal, sync_playwright() as playwright:
            _, minimal = server_times(portal.port, "/bench-minimal/", requests=options.requests)
            minimal_p50 = statistics.median(minimal)
            report.figure("minimal Django view: p50", f"{minimal_p50:.1f} ms")
            browser = launch_chromium(playwright)
            try:
                crawled = crawl(portal.port, paths)
                cold = [elapsed for elapsed, _ in crawled.values()]
                report.figure(
                    f"every operation page once, cold: p50 of {len(cold)}",
                    f"{statistics.median(cold):.0f} ms, max {max(cold):.0f} ms",
                )
                slowest = max(crawled, key=lambda path: crawled[path][0])
                first_path = next(iter(crawled))
                report.info(
                    f"slowest cold: {slowest}{' (the first)' if slowest == first_path else ''}"
                )
                pages = pages_to_measure(crawled, paths)
                minimal_load = statistics.median(
                    load_times(browser, portal.url("/bench-minimal/"), loads=options.loads)
                )
                report.figure("minimal Django view: load in Chromium", f"{minimal_load:.0f} ms")
                for label, path in pages.items():
                    report.info(f"{label}: {path}")
                    first, times = server_times(portal.port, path, requests=options.requests)
                    p50 = statistics.median(times)
                    report.figure(
                        f"{label}: server p50 (first request {first:.0f} ms)",
                        f"{p50:.1f} ms, {p50 / minimal_p50:.1f}x the minimal view",
                        f"< {GOAL_SERVER_MS} ms",
                        ok=p50 < GOAL_SERVER_MS,
                    )
                    loaded = statistics.median(
                        load_times(browser, portal.url(path), loads=options.loads)
                    )
                    report.figure(
                        f"{label}: load in Chromium, median of {options.loads}",
                        f"{loaded:.0f} ms, {loaded / minimal_load:.1f}x the minimal view",
                        f"< {GOAL_LOAD_MS} ms",
                        ok=loaded < GOAL_LOAD_MS,
                    )
            finally:
                browser.close()
    report.info(f"load average: {load_average()}")
    return report.exit_code()


if __name__ == "__main__":
    sys.exit(main())
