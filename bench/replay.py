"""Replay 1,000 saved requests with concurrency 16 and report the rate and peak memory.

    .venv/bin/python bench/replay.py [--requests 1000] [--concurrency 16] [--goal 100]

It starts a portal of its own on loopback (`manage.py runserver`, threaded) with a
throw-away SQLite database, whose sample backend answers the calls. The replay runs
in this process through `replay.run_collection`, on the same database, exactly as
`manage.py replay` would: bind, send, record the exchange, check, record the step.
Exits 1 when the rate is under the goal (100 requests/s on a 2-core machine).
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.processes import cpu_seconds, own_cpu_seconds  # noqa: E402
from tests.processes import free_port  # noqa: E402

# Everything is bounded: a hung server or run must not hold a CI machine.
TIME_LIMIT_SECONDS = 300


def portal_env(*, database: Path, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DEBUG": "false",
        "SECRET_KEY": "bench",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "PORTAL_OUTBOUND_ALLOWED_NETWORKS": "127.0.0.1/32",
        "PORTAL_OUTBOUND_ALLOWED_PORTS": "*",
        "PORTAL_DEMO_BACKEND_URL": f"http://127.0.0.1:{port}/demo-backend",
        "PORTAL_DEMO_BACKEND_ENABLED": "true",
        "DATABASE_URL": f"sqlite:///{database}",
        # One log line per call would measure the terminal, not the replay.
        "LOG_LEVEL": "WARNING",
    }


def start_portal(*, env: dict[str, str], port: int) -> subprocess.Popen:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
    )
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("the portal did not start")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server
        except OSError:
            time.sleep(0.1)
    server.terminate()
    raise SystemExit("the portal did not listen within 30 s")


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
    parser.add_argument("--goal", type=float, default=100.0, help="requests/s to reach")
    options = parser.parse_args()
    signal.alarm(TIME_LIMIT_SECONDS)

    with tempfile.TemporaryDirectory(prefix="bench-replay-") as directory:
        port = free_port()
        env = portal_env(database=Path(directory) / "portal.sqlite3", port=port)
        os.environ.update(env)
        server = start_portal(env=env, port=port)
        try:
            import django

            django.setup()
            from testing import replay

            collection, user = build_collection(port=port, count=options.requests)
            cpu_before = own_cpu_seconds(), cpu_seconds(server.pid)
            started = time.monotonic()
            run = replay.run_collection(
                collection=collection, user=user, concurrency=options.concurrency
            )
            elapsed = time.monotonic() - started
            cpu = own_cpu_seconds() - cpu_before[0], cpu_seconds(server.pid) - cpu_before[1]
            server_peak = peak_memory_mb(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=10)

        steps = run.steps.count()
        passed = run.steps.filter(passed=True).count()
        rate = steps / elapsed
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"replayed {steps} requests in {elapsed:.1f} s: {rate:.0f} requests/s "
            f"(goal >= {options.goal:.0f}), concurrency {options.concurrency}, "
            f"{passed} passed"
        )
        server_text = f", portal serving the backend: {server_peak:.0f} MB" if server_peak else ""
        print(f"peak memory: {peak:.0f} MB (replaying process){server_text}")
        # Where the two cores went: the replay (bind, send, record, check) or the backend.
        print(f"cpu: replaying process {cpu[0]:.1f} s, portal serving the backend {cpu[1]:.1f} s")
        if steps != options.requests or passed != steps:
            print(f"FAILED: {steps - passed} requests failed or {options.requests - steps} not run")
            return 1
        if rate < options.goal:
            print(f"FAILED: {rate:.0f} requests/s is under the goal of {options.goal:.0f}")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
