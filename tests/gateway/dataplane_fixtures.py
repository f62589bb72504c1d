"""The two data planes the gateway tests run against: the portal's own gateway
(in-process, behind Django's live server) and nginx with gateway/dataplane/ (started on
a free port from the rendered configuration), both counting in the same Redis."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.cache import cache

from gateway.dataplane import keys, records, render
from tests.processes import free_port, stop

PLANES = ["in-process", "nginx"]


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    def error(self) -> dict:
        assert self.header("Content-Type") == "application/json"
        assert self.header("Cache-Control") == "no-store"
        assert self.header("X-Content-Type-Options") == "nosniff"
        return json.loads(self.body)["error"]


def call(
    base: str, method: str, path: str, *, headers: dict[str, str] | None = None, body: bytes = b""
) -> Answer:
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=20)
    try:
        connection.request(method, path, body=body or None, headers=headers or {})
        response = connection.getresponse()
        return Answer(response.status, response.headers, response.read())
    finally:
        connection.close()


def _answers(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
        return True
    return False


@contextlib.contextmanager
def running_nginx(directory: Path, *, redis_url: str, workers: int = 1) -> Iterator[str]:
    """nginx serving the data plane on a free port: its base URL."""
    port = free_port()
    conf = render.render(
        directory=directory, listen=f"127.0.0.1:{port}", redis_url=redis_url, workers=workers
    )
    process = subprocess.Popen(
        render.nginx_command(conf), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 10
        while not _answers(port):
            if process.poll() is not None:
                raise AssertionError(f"nginx exited: {process.stderr.read().decode()}")  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "nginx did not listen within 10 s"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)
        log = directory / "error.log"
        if log.exists():
            errors = [line for line in log.read_text().splitlines() if "[error]" in line]
            assert not [e for e in errors if "lua" in e], errors


@dataclass
class Plane:
    name: str
    start: Callable[[], str]  # the gateway's base URL, once the data is in place
    redis_url: str
    conf: list[Path]

    def refresh(self) -> None:
        """What the data plane's runner does each second: the routes rendered again."""
        if self.name == "nginx":
            assert render.refresh(conf=self.conf[0], redis_url=self.redis_url)

    def drain(self) -> None:
        """Wait until the calls made so far are recorded."""
        if self.name != "nginx":
            return
        time.sleep(0.2)
        while records.drain():
            pass


@pytest.fixture(params=PLANES)
def plane(request, settings, redis_url, tmp_path) -> Iterator[Plane]:
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url}
    }
    cache.clear()
    stack = contextlib.ExitStack()
    conf: list[Path] = []
    if request.param == "nginx":
        if not os.path.exists(settings.PORTAL_DATAPLANE_NGINX):
            pytest.fail("nginx is missing: `make test` installs Debian's nginx-extras")

        def start() -> str:
            keys.push_all()
            conf.append(tmp_path / "nginx" / "nginx.conf")
            return stack.enter_context(running_nginx(tmp_path / "nginx", redis_url=redis_url))
    else:
        live_server = request.getfixturevalue("live_server")

        def start() -> str:
            return live_server.url

    with stack:
        yield Plane(request.param, start, redis_url, conf)
