"""The portal under gunicorn (gunicorn.conf.py, portal.wsgi) on a free loopback port, in
a bench's workspace."""

from __future__ import annotations

import contextlib
import http.client
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.processes import children_of
from bench.workspace import PYTHON, REPO, Workspace
from tests.processes import free_port, stop


@dataclass
class Portal:
    base: str
    host: str
    port: int
    process: subprocess.Popen
    log: Path
    workers: int
    threads: int

    def worker_pids(self) -> list[int]:
        return children_of(self.process.pid)

    def url(self, path: str) -> str:
        return self.base + path


@contextlib.contextmanager
def gunicorn(space: Workspace, *, name: str = "portal", **extra: str) -> Iterator[Portal]:
    """gunicorn -c gunicorn.conf.py portal.wsgi on a free loopback port."""
    port = free_port()
    bind = f"127.0.0.1:{port}"
    env = space.env(
        GUNICORN_BIND=bind, PORTAL_DEMO_BACKEND_URL=f"http://{bind}/demo-backend", **extra
    )
    log = space.directory / f"{name}.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [PYTHON, "-m", "gunicorn", "-c", "gunicorn.conf.py", "portal.wsgi"],
            cwd=REPO,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    workers, threads = gunicorn_layout(env)
    portal = Portal(f"http://{bind}", "127.0.0.1", port, process, log, workers, threads)
    try:
        _wait_for(portal)
        yield portal
    finally:
        stop(process, timeout=30)


def gunicorn_layout(env: dict[str, str]) -> tuple[int, int]:
    """The workers and threads per worker gunicorn.conf.py sets in this environment."""
    done = subprocess.run(
        [
            PYTHON,
            "-c",
            "import runpy; conf = runpy.run_path('gunicorn.conf.py'); "
            "print(conf['workers'], conf['threads'])",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    workers, threads = done.stdout.split()
    return int(workers), int(threads)


def _wait_for(portal: Portal) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if portal.process.poll() is not None:
            break
        with contextlib.suppress(OSError, http.client.HTTPException):
            status, _ = get(portal.port, "/bench-minimal/")
            if status == 200 and len(portal.worker_pids()) >= portal.workers:
                return
        time.sleep(0.2)
    raise SystemExit(f"gunicorn did not start:\n{portal.log.read_text()[-3000:]}")


def get(port: int, path: str, *, timeout: float = 30) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()
