"""Replay 1,000 saved requests with concurrency 16 and report the rate and CPU per request.

    .venv/bin/python bench/replay.py [--requests 1000] [--concurrency 16] [--goal 200]

It starts the production profile (bench/workspace.py: PostgreSQL and Redis when
DATABASE_URL and REDIS_URL are set, else a temporary SQLite file; gunicorn), whose
sample backend answers the calls. The replay runs in this process through
`replay.run_collection`, on the same database, exactly as `manage.py replay` would:
bind, send, record the exchange, check, record the step. Exits 1 when the rate is
under the goal (200 requests/s on a 2-core machine) or a step failed.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.gunicorn_portal import gunicorn  # noqa: E402
from bench.processes import cpu_seconds, own_cpu_seconds  # noqa: E402
from bench.report import Report, load_average, time_limit  # noqa: E402
from bench.workspace import workspace  # noqa: E402

# Everything is bounded: a hung server or run must not hold a CI machine.
TIME_LIMIT_SECONDS = 300
GOAL_RATE = 200.0


def peak_memory_mb(pid: int) -> float | None:
    """A process's peak resident memory (VmHWM), while it runs."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def build_collection(*, port: int, count: int):
    """The demo registration and a collection of `count` RRS Execute requests."""
    from django.conf import settings
    from django.contrib.auth import get_user_model

    from demo.collection import SCORING_NAME, create_demo_collection
    from demo.registration import register_demo_api
    from testing.models import Collection, SavedRequest

    api = register_demo_api(
        service_url=f"http://127.0.0.1:{port}/demo-backend", api_key=settings.PORTAL_DEMO_API_KEY
    )
    user, _ = get_user_model().objects.get_or_create(username="bench")
    create_demo_collection(owner=user, api=api)
    scoring = Collection.objects.get(owner=user, name=SCORING_NAME)
    bench = Collection.objects.create(owner=user, name="Bench: RRS Execute x many")
    for variable in scoring.variables.all():
        variable.pk, variable.collection = None, bench
        variable.save()
    template = scoring.requests.get()
    fields = {
        f.attname: getattr(template, f.attname)
        for f in SavedRequest._meta.concrete_fields
        if not f.primary_key
    }
    SavedRequest.objects.bulk_create(
        (
            SavedRequest(
                **{**fields, "collection_id": bench.pk, "order": n, "name": f"RRS Execute {n + 1}"}
            )
            for n in range(count)
        ),
        batch_size=200,
    )
    return bench, user


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--goal", type=float, default=GOAL_RATE, help="requests/s to reach")
    options = parser.parse_args()
    time_limit(TIME_LIMIT_SECONDS)
    report = Report("Replay (bench/replay.py)")
    # One log line per call would measure the terminal, not the replay.
    with workspace("replay") as space, gunicorn(space, LOG_LEVEL="WARNING") as server:
        space.setup_django(PORTAL_DEMO_BACKEND_URL=server.url("/demo-backend"), LOG_LEVEL="WARNING")
        from testing import replay

        collection, user = build_collection(port=server.port, count=options.requests)
        pids = [server.process.pid, *server.worker_pids()]
        cpu_before = own_cpu_seconds(), sum(cpu_seconds(pid) for pid in pids)
        started = time.monotonic()
        run = replay.run_collection(
            collection=collection, user=user, concurrency=options.concurrency
        )
        elapsed = time.monotonic() - started
        cpu = (
            own_cpu_seconds() - cpu_before[0],
            sum(cpu_seconds(pid) for pid in pids) - cpu_before[1],
        )
        server_peak = max((peak_memory_mb(pid) or 0.0) for pid in pids)
        steps = run.steps.count()
        passed = run.steps.filter(passed=True).count()
        from django.db import connections

        connections.close_all()
    rate = steps / elapsed if elapsed else 0.0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report.info(
        f"{steps} requests, concurrency {options.concurrency}, in {elapsed:.1f} s; "
        f"load {load_average()}"
    )
    report.figure(
        "steps passed",
        f"{passed} of {options.requests}",
        str(options.requests),
        steps == options.requests and passed == steps,
    )
    report.figure(
        "replay rate", f"{rate:.0f} requests/s", f">= {options.goal:.0f}", rate >= options.goal
    )
    # Where the two cores went: the replay (bind, send, record, check) or the backend.
    report.figure("replaying process CPU per request", f"{cpu[0] / max(steps, 1) * 1000:.1f} ms")
    report.figure(
        "portal serving the backend, CPU per request", f"{cpu[1] / max(steps, 1) * 1000:.1f} ms"
    )
    report.figure("peak memory, replaying process", f"{peak:.0f} MB")
    report.figure("peak memory, portal serving the backend", f"{server_peak:.0f} MB")
    return report.exit_code()


if __name__ == "__main__":
    sys.exit(main())
