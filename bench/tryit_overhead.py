"""Try it overhead: the portal's round trip against a direct call to the same backend.

    .venv/bin/python bench/tryit_overhead.py [--calls 300]

Starts the production profile (gunicorn -c gunicorn.conf.py portal.wsgi, DEBUG off,
collected static files; PostgreSQL and Redis when DATABASE_URL and REDIS_URL are set,
else a temporary SQLite file) and a small JSON backend in a process of its own, both on
loopback; the backend speaks HTTP/1.1 and keeps its connections open, as most do. Each
round sends one direct GET to the backend (http.client on a connection kept open, as
the portal keeps one to the backend between calls) and one Try it POST through the
portal (a browser's keep-alive connection, htmx partial answer), in turn, so both see
the same noise. The overhead of a round is the difference of the two; its p50 and p99
are held to the goals (5 ms and 20 ms). The CPU time the portal's workers spent per
call is shown beside them (it depends less on what else the machine runs). Exits 1
when a goal is missed.
"""

from __future__ import annotations

import argparse
import http.client
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.browser import Browser, shown_status
from bench.gunicorn_portal import gunicorn
from bench.loopback_backend import backend, direct_call
from bench.processes import cpu_seconds
from bench.report import Report, load_average, ms, percentile, time_limit
from bench.workspace import register, workspace

GOAL_P50 = 0.005
GOAL_P99 = 0.020
WARM_UP = 30


def portal_call(browser: Browser) -> float:
    started = time.perf_counter()
    status, html = browser.try_it("fast", "get")
    elapsed = time.perf_counter() - started
    if status != 200 or shown_status(html) != 200:
        raise SystemExit(f"the Try it call answered {status}: {html[:2000]!r}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    options = parser.parse_args()
    time_limit(240)
    report = Report("Try it overhead (bench/tryit_overhead.py)")
    with workspace("tryit") as space, backend(keep_alive=True) as server:
        space.setup_django()
        register([{"slug": "fast", "url": server.url, "operations": [("get", "GET", "/fast")]}])
        with gunicorn(space) as portal:
            report.info(
                f"gunicorn {portal.workers} workers x {portal.threads} threads; "
                f"backend: small JSON on 127.0.0.1:{server.port} (another process, HTTP/1.1)"
            )
            kept = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            browser = Browser(portal.port)
            browser.open_operation("fast", "get")
            for _ in range(WARM_UP):
                direct_call(server.port, kept=kept)
                portal_call(browser)
            direct, through, overhead = [], [], []
            workers = portal.worker_pids()
            cpu_before = sum(cpu_seconds(pid) for pid in workers)
            for _ in range(options.calls):
                one = direct_call(server.port, kept=kept)
                two = portal_call(browser)
                direct.append(one)
                through.append(two)
                overhead.append(two - one)
            cpu = sum(cpu_seconds(pid) for pid in workers) - cpu_before
            browser.close()
            kept.close()
    report.info(f"{options.calls} rounds after {WARM_UP} to warm up; load {load_average()}")
    report.figure(
        "direct call p50 / p99",
        f"{ms(percentile(direct, 0.5))} / {ms(percentile(direct, 0.99))}",
    )
    report.figure(
        "through the portal p50 / p99",
        f"{ms(percentile(through, 0.5))} / {ms(percentile(through, 0.99))}",
    )
    # What the portal's workers spent, whatever else the machine runs.
    report.figure("portal CPU per Try it call", ms(cpu / options.calls))
    p50, p99 = percentile(overhead, 0.5), percentile(overhead, 0.99)
    report.figure("overhead p50", ms(p50), f"<= {ms(GOAL_P50)}", p50 <= GOAL_P50)
    report.figure("overhead p99", ms(p99), f"<= {ms(GOAL_P99)}", p99 <= GOAL_P99)
    return report.exit_code()


if __name__ == "__main__":
    sys.exit(main())
