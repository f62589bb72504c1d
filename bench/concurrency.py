"""64 Try it calls to a backend that answers after 1 s, at once, while readers browse.

    .venv/bin/python bench/concurrency.py [--calls 64] [--delay 1.0]

Starts the production profile (gunicorn -c gunicorn.conf.py portal.wsgi, DEBUG off,
collected static files; PostgreSQL and Redis when DATABASE_URL and REDIS_URL are set,
else a temporary SQLite file) and a backend in a process of its own whose answer comes
after `--delay` seconds. 64 browsers, each on its own keep-alive connection and each
with one quick call sent before (so its session exists), press Send at the same moment;
meanwhile 4 readers load the catalog again and again until the last call is back.
Goals: every call answered with the backend's 200 within 2.5 s of the start, and the
catalog's p99 during that window under 250 ms.

gunicorn has GUNICORN_WORKERS x GUNICORN_THREADS threads (gunicorn.conf.py: 4 x 64 with
REDIS_URL, 1 x 64 without). A Try it call holds its thread while it waits for the
backend, and a connection stays with the worker that accepted it: a worker holding more
calls than it has threads makes the rest wait for one. Set GUNICORN_WORKERS and
GUNICORN_THREADS in the environment to try other values (the bench prints what it ran
with). A failed call is described (status, error panel) along with the errors of
gunicorn's log. Exits 1 when a goal is missed.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import sys
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.browser import Browser, shown_status
from bench.gunicorn_portal import gunicorn
from bench.loopback_backend import backend
from bench.report import Report, load_average, ms, percentile, time_limit
from bench.workspace import register, workspace

GOAL_ALL_WITHIN = 2.5
GOAL_CATALOG_P99 = 0.250
READERS = 4
LOG_ERROR = re.compile(r"\[ERROR\]|Internal Server Error|^[\w.]+(Error|Exception)\b")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=64)
    parser.add_argument("--delay", type=float, default=1.0)
    options = parser.parse_args()
    time_limit(240)
    report = Report("Concurrent Try it calls (bench/concurrency.py)")
    with workspace("concurrency") as space, backend() as server:
        space.setup_django()
        register(
            [
                {
                    "slug": "slow",
                    "url": server.url,
                    "operations": [
                        ("get", "GET", f"/slow?seconds={options.delay}"),
                        ("fast", "GET", "/fast"),
                    ],
                },
                *[{"slug": f"api-{n:02d}", "url": server.url, "operations": []} for n in range(20)],
            ]
        )
        with gunicorn(space) as portal:
            threads = portal.workers * portal.threads
            from_env = [n for n in ("GUNICORN_WORKERS", "GUNICORN_THREADS") if os.environ.get(n)]
            set_by = (
                f"{' and '.join(from_env)} from the environment"
                if from_env
                else "gunicorn.conf.py's default"
            )
            report.info(
                f"gunicorn {portal.workers} workers x {portal.threads} threads = {threads} "
                f"({set_by}); {options.calls} calls + {READERS} readers need "
                f"{options.calls + READERS} at once"
            )
            browsers = [Browser(portal.port, timeout=30) for _ in range(options.calls)]
            for browser in browsers:
                browser.open_operation("slow", "get")  # also opens its connection
                # A visitor who has used the console before: the session exists.
                browser.try_it("slow", "fast")
            calls, catalog, failures = run_window(browsers, portal.port)
            for browser in browsers:
                browser.close()
            # gunicorn's errors, Django's 500s and the exceptions of their tracebacks.
            log_errors = (
                [line for line in portal.log.read_text().splitlines() if LOG_ERROR.search(line)]
                if failures
                else []
            )
    report.info(f"load {load_average()}")
    answered = [seconds for seconds, ok in calls if ok]
    failed = len(calls) - len(answered)
    last = max((seconds for seconds, _ in calls), default=float("inf"))
    report.figure(
        f"{options.calls} calls answered with the backend's 200",
        f"{len(answered)} ({failed} failed)",
        f"{options.calls}",
        failed == 0,
    )
    for why, count in Counter(failures).most_common():
        report.info(f"failed: {count} x {why}")
    for line in log_errors[-5:]:
        report.info(f"gunicorn: {line}")
    report.figure(
        "slowest call (from the common start)",
        f"{last:.2f} s (fastest {min(s for s, _ in calls):.2f} s, "
        f"median {percentile([s for s, _ in calls], 0.5):.2f} s)",
        f"<= {GOAL_ALL_WITHIN} s",
        last <= GOAL_ALL_WITHIN,
    )
    # A call that found no free thread waited for one to finish its own backend call.
    queued = sum(1 for seconds, _ in calls if seconds > 2 * options.delay)
    report.figure(
        f"calls answered after twice the backend's delay ({2 * options.delay:g} s)",
        f"{queued} (they waited for a free thread, or for the CPU)",
    )
    p99 = percentile(catalog, 0.99) if catalog else float("inf")
    report.figure(
        f"catalog during the window: p99 of {len(catalog)} requests",
        f"{ms(p99)} (p50 {ms(percentile(catalog, 0.5))})" if catalog else "no request",
        f"< {ms(GOAL_CATALOG_P99)}",
        p99 < GOAL_CATALOG_P99,
    )
    return report.exit_code()


def run_window(
    browsers: list[Browser], port: int
) -> tuple[list[tuple[float, bool]], list[float], list[str]]:
    """Every browser presses Send at once; readers load the catalog until all are back.
    Returns (seconds from the start, answered with 200) per call, catalog times, and
    what each failed call got instead."""
    start = threading.Barrier(len(browsers) + READERS + 1)
    calls: list[tuple[float, bool]] = []
    catalog: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    done = threading.Event()
    t0 = [0.0]

    def call(browser: Browser) -> None:
        start.wait()
        try:
            status, html = browser.try_it("slow", "get")
            ok = status == 200 and shown_status(html) == 200
            why = "" if ok else failure(status, html)
        except (OSError, http.client.HTTPException) as error:
            ok, why = False, f"{type(error).__name__}: {error}"
        with lock:
            calls.append((time.perf_counter() - t0[0], ok))
            if why:
                failures.append(why)

    def read() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        start.wait()
        while not done.is_set():
            began = time.perf_counter()
            try:
                connection.request("GET", "/")
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    raise OSError(f"catalog answered {response.status}")
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            with lock:
                catalog.append(time.perf_counter() - began)
        connection.close()

    workers = [threading.Thread(target=call, args=(b,)) for b in browsers]
    readers = [threading.Thread(target=read) for _ in range(READERS)]
    for thread in workers + readers:
        thread.start()
    t0[0] = time.perf_counter()
    start.wait()
    t0[0] = time.perf_counter()
    for thread in workers:
        thread.join(60)
    done.set()
    for thread in readers:
        thread.join(60)
    return calls, catalog, failures


def failure(status: int, html: bytes) -> str:
    """What a call got instead of the backend's 200, in a few words."""
    if status != 200:
        return f"the portal answered {status}"
    kind = re.search(rb'data-error-kind="([^"]*)"', html)
    message = re.search(rb"data-error-message>([^<]*)<", html)
    if kind or message:
        return "error panel: " + " ".join(
            found.group(1).decode(errors="replace").strip() for found in (kind, message) if found
        )
    return f"the result panel shows status {shown_status(html)}"


if __name__ == "__main__":
    sys.exit(main())
