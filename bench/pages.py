"""Throughput of the catalog and of an operation page, as a share of a minimal view's.

    .venv/bin/python bench/pages.py [--runs 3] [--seconds 5] [--connections 8]

Starts the production profile (gunicorn -c gunicorn.conf.py portal.wsgi, DEBUG off,
collected static files; PostgreSQL and Redis when DATABASE_URL and REDIS_URL are set,
else a temporary SQLite file) with the demo registration (`manage.py load_demo`) and 20
more APIs in the catalog, as bench/load.py does. Each run loads, in turn, the minimal
Django view (`/bench-minimal/`, answering "ok"), the catalog and the demo's first
operation page for `--seconds` each over `--connections` keep-alive connections (wrk, or
Python threads where there is none), once the workers are idle again, and divides each
page's requests per second by the minimal view's of the same run. The figures are the
medians of `--runs` runs. Goals: the catalog at least 25 % of the minimal view, the
operation page at least 15 %. Exits 1 when a goal is missed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.gunicorn_portal import get, gunicorn
from bench.load_generators import run_load
from bench.processes import wait_until_idle
from bench.report import Report, load_average, ms, time_limit
from bench.workspace import demo_catalog, workspace

# The share of the minimal view's requests per second each page must reach.
GOALS = {"catalog": 0.25, "operation page": 0.15}
MINIMAL = "minimal view"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--connections", type=int, default=8)
    options = parser.parse_args()
    time_limit(int(options.runs * 3 * (options.seconds + 40)) + 180)
    report = Report("Pages against a minimal view (bench/pages.py)")
    with workspace("pages") as space:
        space.manage("load_demo")
        space.setup_django()
        paths = {MINIMAL: "/bench-minimal/", "catalog": "/", "operation page": demo_catalog()}
        shares: dict[str, list[float]] = {name: [] for name in GOALS}
        rates: dict[str, list[float]] = {name: [] for name in paths}
        with gunicorn(space) as portal:
            for path in paths.values():
                status, _ = get(portal.port, path)
                if status != 200:
                    raise SystemExit(f"{path} answered {status}")
            report.info(
                f"gunicorn {portal.workers} workers x {portal.threads} threads; "
                f"{options.connections} connections, {options.seconds:g} s a page, "
                f"{options.runs} runs; operation page {paths['operation page']}"
            )
            for run in range(1, options.runs + 1):
                measured = {}
                for name, path in paths.items():
                    # The requests the previous page left queued are not this page's.
                    wait_until_idle(portal.worker_pids())
                    result = run_load(
                        portal.port,
                        [path],
                        seconds=options.seconds,
                        concurrency=options.connections,
                    )
                    if result.errors:
                        report.figure(f"errors, {name} (run {run})", str(result.errors), "0", False)
                    measured[name] = result.rate
                    rates[name].append(result.rate)
                    report.info(
                        f"run {run}, {name}: {result.rate:,.1f} requests/s "
                        f"({result.tool}, p50 {ms(result.latency_p50 or 0)})"
                    )
                for name in GOALS:
                    shares[name].append(measured[name] / measured[MINIMAL])
            wait_until_idle(portal.worker_pids())
    report.info(f"load {load_average()}")
    report.figure(
        f"{MINIMAL} (median of {options.runs})",
        f"{statistics.median(rates[MINIMAL]):,.1f} requests/s",
    )
    for name, goal in GOALS.items():
        share = statistics.median(shares[name])
        each = ", ".join(f"{value:.1%}" for value in shares[name])
        report.figure(
            f"{name} (median of {options.runs})",
            f"{statistics.median(rates[name]):,.1f} requests/s, {share:.1%} of the minimal "
            f"view (runs: {each})",
            f">= {goal:.0%}",
            share >= goal,
        )
    return report.exit_code()


if __name__ == "__main__":
    sys.exit(main())
