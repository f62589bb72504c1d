"""A bounded load test: the catalog and an operation page at concurrency 64 for 60 s.

    .venv/bin/python bench/load.py [--seconds 60] [--concurrency 64]

Starts the production profile (gunicorn -c gunicorn.conf.py portal.wsgi, DEBUG off,
collected static files; PostgreSQL and Redis when DATABASE_URL and REDIS_URL are set,
else a temporary SQLite file) with the demo registration (`manage.py load_demo`, as
`make serve` does) and 20 more APIs in the catalog, and loads the catalog and the demo's
first operation page in turn over `--concurrency` keep-alive connections for
`--seconds`, with wrk (installed from Debian's packages when missing and root) or, where
there is none, Python threads. Reports requests per second and latency; goal: no error
(no answer other than 2xx or 3xx, no socket error, no error in gunicorn's log).
Exits 1 when a goal is missed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.gunicorn_portal import get, gunicorn
from bench.load_generators import run_load
from bench.report import Report, load_average, ms, time_limit
from bench.workspace import demo_catalog, workspace


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--concurrency", type=int, default=64)
    options = parser.parse_args()
    time_limit(int(options.seconds) + 180)
    report = Report("Load (bench/load.py)")
    with workspace("load") as space:
        space.manage("load_demo")
        space.setup_django()
        paths = ["/", demo_catalog()]
        with gunicorn(space) as portal:
            for path in paths:
                status, _ = get(portal.port, path)
                if status != 200:
                    raise SystemExit(f"{path} answered {status}")
            report.info(
                f"gunicorn {portal.workers} workers x {portal.threads} threads; "
                f"GET {' and '.join(paths)} in turn, {options.concurrency} connections, "
                f"{options.seconds:g} s"
            )
            result = run_load(
                portal.port, paths, seconds=options.seconds, concurrency=options.concurrency
            )
            log_errors = [
                line
                for line in portal.log.read_text(errors="replace").splitlines()
                if "[ERROR]" in line or "Traceback" in line
            ]
    report.info(f"load {load_average()}")
    report.figure(
        "requests per second",
        f"{result.rate:,.1f} ({result.requests:,} requests in {result.seconds:.1f} s, "
        f"{result.tool}; latency p50 {ms(result.latency_p50 or 0)}, "
        f"p99 {ms(result.latency_p99 or 0)})",
    )
    report.figure(
        "errors (non-2xx/3xx answers and socket errors)",
        f"{result.errors} ({result.detail or 'counted by the load loop'})",
        "0",
        result.errors == 0,
    )
    report.figure("errors in gunicorn's log", str(len(log_errors)), "0", not log_errors)
    for line in log_errors[:5]:
        report.info(f"  {line[:200]}")
    return report.exit_code()


if __name__ == "__main__":
    sys.exit(main())
