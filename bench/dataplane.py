"""The data plane on nginx, measured against nginx alone and the in-process gateway.

Called by bench/gateway.py (`--planes`): the same small JSON backend behind three
front ends, started in the same run: nginx alone with `proxy_pass` (the yardstick), the
data plane (gateway/dataplane/: the key check, the limits' Redis script, the record of
each call, the answer's checks) and the in-process gateway under gunicorn. For each of
`runs` rounds, wrk at concurrency 1 and 16 against each; the figures are the medians of
the rounds. Then two data-plane nodes (two nginx processes) sharing Redis take a burst
through a limited product, split between them.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import statistics
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.load_generators import LoadResult, run_load
from tests.processes import free_port, stop

KEY_HEADER = "Ocp-Apim-Subscription-Key"

_PROXY_CONF = """
worker_processes {workers};
pid {directory}/nginx.pid;
error_log {directory}/error.log warn;
daemon off;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {directory}/body;
    proxy_temp_path {directory}/proxy;
    upstream backend {{ server 127.0.0.1:{backend}; keepalive 64; }}
    server {{
        listen 127.0.0.1:{port} reuseport;
        location / {{
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
    }}
}}
"""


_STATIC_CONF = """
worker_processes 1;
pid {directory}/nginx.pid;
error_log {directory}/error.log warn;
daemon off;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {directory}/body;
    server {{
        listen 127.0.0.1:{port} reuseport;
        keepalive_requests 100000;
        location / {{
            default_type application/json;
            return 200 '{{"ok": true}}';
        }}
    }}
}}
"""


@contextlib.contextmanager
def static_backend(directory: Path) -> Iterator[int]:
    """A backend that answers every GET with a small JSON at nginx's speed: its port."""
    with _nginx(directory, _STATIC_CONF, {}) as port:
        yield port


@contextlib.contextmanager
def _nginx(directory: Path, template: str, values: dict) -> Iterator[int]:
    from django.conf import settings

    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    conf = directory / "nginx.conf"
    conf.write_text(template.format(directory=directory, port=port, **values))
    command = [settings.PORTAL_DATAPLANE_NGINX, "-p", str(directory), "-c", str(conf)]
    process = subprocess.Popen(
        [*command, "-e", str(directory / "error.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(port, process, directory / "error.log")
        yield port
    finally:
        stop(process)


def _wait_for(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 10
    while True:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        if process.poll() is not None or time.monotonic() > deadline:
            text = log.read_text() if log.exists() else ""
            raise SystemExit(f"nginx did not start:\n{text}")
        time.sleep(0.05)


@contextlib.contextmanager
def proxy_nginx(directory: Path, *, backend_port: int, workers: int) -> Iterator[int]:
    """nginx alone in front of the backend: its port."""
    with _nginx(directory, _PROXY_CONF, {"workers": workers, "backend": backend_port}) as port:
        yield port


@contextlib.contextmanager
def dataplane_nginx(directory: Path, *, redis_url: str, workers: int) -> Iterator[int]:
    """A data-plane node with the portal's routes and keys, its records drained: its port."""
    from gateway.dataplane import keys, records, render

    port = free_port()
    conf = render.render(
        directory=directory, listen=f"127.0.0.1:{port}", redis_url=redis_url, workers=workers
    )
    keys.push_all()
    process = subprocess.Popen(
        render.nginx_command(conf), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    done = threading.Event()

    def drain() -> None:  # the portal's side: what `manage.py dataplane` does
        while not done.wait(0.2):
            while records.drain(batch=5000):
                pass

    drainer = threading.Thread(target=drain, daemon=True)
    drainer.start()
    try:
        _wait_for(port, process, directory / "error.log")
        yield port
    finally:
        stop(process)
        done.set()
        drainer.join(30)


@dataclass
class PlaneFigures:
    rate: list[float]
    p50: list[float]
    p99: list[float]
    errors: int = 0

    def add(self, load: LoadResult) -> None:
        self.rate.append(load.rate)
        self.p50.append(load.latency_p50 or 0.0)
        self.p99.append(load.latency_p99 or 0.0)
        self.errors += load.errors

    @property
    def median_rate(self) -> float:
        return statistics.median(self.rate)

    @property
    def median_p50(self) -> float:
        return statistics.median(self.p50)

    @property
    def median_p99(self) -> float:
        return statistics.median(self.p99)


def measure(
    planes: dict[str, tuple[int, str]], *, runs: int, seconds: float, concurrencies: list[int]
) -> dict[tuple[str, int], PlaneFigures]:
    """wrk against each plane (port, path) at each concurrency, `runs` rounds, interleaved
    so that the machine's load falls on every plane alike."""
    figures = {(name, c): PlaneFigures([], [], []) for name in planes for c in concurrencies}
    for _ in range(runs):
        for concurrency in concurrencies:
            for name, (port, path) in planes.items():
                load = run_load(port, [path], seconds=seconds, concurrency=concurrency)
                figures[(name, concurrency)].add(load)
    return figures


def two_node_burst(
    ports: list[int], key: str, *, path: str, clients: int, per_client: int
) -> list[int]:
    """`clients` threads at once, alternately on each node, each sending `per_client`
    calls on its own keep-alive connection: the statuses."""
    barrier = threading.Barrier(clients)
    statuses: list[int] = []
    lock = threading.Lock()

    def client(port: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        barrier.wait()
        mine = []
        for _ in range(per_client):
            connection.request("GET", path, headers={KEY_HEADER: key})
            response = connection.getresponse()
            response.read()
            mine.append(response.status)
        connection.close()
        with lock:
            statuses.extend(mine)

    threads = [
        threading.Thread(target=client, args=(ports[i % len(ports)],)) for i in range(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return statuses
