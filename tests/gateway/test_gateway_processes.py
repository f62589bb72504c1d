"""The gateway across processes: two portal servers sharing one Redis hold one limit.

Each test starts portal processes under gunicorn, the production server, with DEBUG off,
on a database of the test run's own redis-server (tests/conftest.py: a free port, no
persistence; `make test` installs Debian's redis-server when it is missing). They share
the test's data: with PostgreSQL the test database itself (the test commits its rows),
with SQLite a copy of the test database in a file.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection

from catalog.models import Api, Operation, ParameterLocation
from gateway.models import CallOutcome, GatewayCall
from tests import log_scan
from tests.backends import ScriptedServer, reply_with, scripted_server
from tests.factories import make_product, make_subscription
from tests.processes import free_port

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
KEY_HEADER = "Ocp-Apim-Subscription-Key"
LIMIT = 10


def shared_database_url(tmp_path: Path) -> str:
    """A DATABASE_URL under which other processes see what this test committed."""
    database = connection.settings_dict
    if connection.vendor == "postgresql":
        user = quote(database["USER"] or "", safe="")
        password = quote(database["PASSWORD"] or "", safe="")
        host = database["HOST"] or "127.0.0.1"
        port = database["PORT"] or 5432
        return f"postgres://{user}:{password}@{host}:{port}/{database['NAME']}"
    assert connection.vendor == "sqlite", connection.vendor
    # The test database lives in this process's memory: the servers get a copy.
    path = tmp_path / "portal.sqlite3"
    connection.ensure_connection()
    with contextlib.closing(sqlite3.connect(path)) as copy:
        connection.connection.backup(copy)
    return f"sqlite:///{path}"


def recorded_outcomes(database_url: str) -> list[str]:
    """The outcomes of the calls the servers recorded under /gateway/shop/, in order."""
    if database_url.startswith("sqlite:///"):
        with contextlib.closing(sqlite3.connect(database_url.removeprefix("sqlite:///"))) as db:
            rows = db.execute(
                "SELECT outcome FROM gateway_gatewaycall WHERE path LIKE '/gateway/shop/%' "
                "ORDER BY created_at, id"
            ).fetchall()
        return [outcome for (outcome,) in rows]
    return list(
        GatewayCall.objects.filter(path__startswith="/gateway/shop/")
        .order_by("created_at", "id")
        .values_list("outcome", flat=True)
    )


class Portal:
    def __init__(self, process: subprocess.Popen, port: int, log: Path) -> None:
        self.process = process
        self.port = port
        self.log = log

    def request(
        self, method: str, path: str, *, headers: dict | None = None, body=None
    ) -> tuple[int, dict[str, str], bytes]:
        client = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            client.request(
                method, path, body=body, headers=headers or {}, encode_chunked=body is not None
            )
            response = client.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            client.close()


def gunicorn_environment(*, port: int, database_url: str, redis_url: str) -> dict[str, str]:
    """The production profile on loopback; REDIS_URL empty: none."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("GUNICORN_")}
    inherited.pop("REDIS_URL", None)
    return {
        **inherited,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DEBUG": "false",
        "SECRET_KEY": settings.SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": database_url,
        # Each request closes its connection: nothing is left open on the test database.
        "DATABASE_CONN_MAX_AGE": "0",
        **({"REDIS_URL": redis_url} if redis_url else {}),
        "PORTAL_OUTBOUND_ALLOWED_NETWORKS": "127.0.0.1/32",
        "PORTAL_OUTBOUND_ALLOWED_PORTS": "*",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_THREADS": "4",
    }


GUNICORN = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "portal.wsgi"]


@contextlib.contextmanager
def portal(
    *, name: str, database_url: str, redis_url: str, tmp_path: Path, workers: str = "1"
) -> Iterator[Portal]:
    """gunicorn -c gunicorn.conf.py portal.wsgi on a free port; workers "": the
    configuration's default. Its output is scanned for secrets once it has stopped."""
    port = free_port()
    log = tmp_path / f"{name}.log"
    env = gunicorn_environment(port=port, database_url=database_url, redis_url=redis_url)
    if workers:
        env["GUNICORN_WORKERS"] = workers
    with log.open("w") as output:
        process = subprocess.Popen(
            GUNICORN, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    server = Portal(process, port, log)
    try:
        yield server
    finally:
        _stop(process)
    log_scan.assert_server_output_clean(text=log.read_text(), server=f"gunicorn {name}")


def wait_until_serving(*servers: Portal) -> None:
    deadline = time.monotonic() + 60
    for server in servers:
        while True:
            assert server.process.poll() is None, server.log.read_text()[-3000:]
            with contextlib.suppress(OSError, http.client.HTTPException):
                if server.request("GET", "/gateway/")[0] == 404:
                    break
            assert time.monotonic() < deadline, server.log.read_text()[-3000:]
            time.sleep(0.1)


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def register(backend: ScriptedServer) -> str:
    """The API in a product with a rate limit of LIMIT calls a day; returns a key."""
    api = Api.objects.create(
        name="Shop", slug="shop", service_url=f"{backend.url}/base", url_suffix="shop"
    )
    Operation.objects.create(
        api=api, name="Item", slug="item", method="GET", url_template="/items/{item}"
    )
    Operation.objects.create(api=api, name="Add", slug="add", method="POST", url_template="/items")
    # A day: the test cannot straddle the boundary of a window and see it slide.
    product = make_product(api, rate=LIMIT, rate_period=86400)
    owner = get_user_model().objects.create(username="owner")
    return make_subscription(user=owner, product=product).key("primary")


@pytest.fixture
def backend() -> Iterator[ScriptedServer]:
    with scripted_server(reply_with(200, body=b"ok")) as server:
        yield server


def test_the_rate_limit_holds_across_two_processes(backend, redis_url, tmp_path):
    key = register(backend)
    database_url = shared_database_url(tmp_path)
    with (
        portal(name="a", database_url=database_url, redis_url=redis_url, tmp_path=tmp_path) as a,
        portal(name="b", database_url=database_url, redis_url=redis_url, tmp_path=tmp_path) as b,
    ):
        wait_until_serving(a, b)
        assert a.process.pid != b.process.pid
        answers = []
        for number in range(2 * LIMIT + 4):
            server = (a, b)[number % 2]
            status, headers, _ = server.request(
                "GET", f"/gateway/shop/items/{number}", headers={KEY_HEADER: key}
            )
            answers.append((server is a, status, headers))
    statuses = [status for _, status, _ in answers]
    assert statuses == [200] * LIMIT + [429] * (LIMIT + 4)
    # Both processes counted in the same Redis: each saw the other's calls.
    assert [h["X-RateLimit-Remaining"] for _, _, h in answers[:LIMIT]] == [
        str(LIMIT - n) for n in range(1, LIMIT + 1)
    ]
    assert {from_a for from_a, status, _ in answers if status == 429} == {True, False}
    assert all(int(h["Retry-After"]) >= 1 for _, status, h in answers if status == 429)
    assert [r.target for r in backend.requests] == [f"/base/items/{n}" for n in range(LIMIT)]
    assert all(r.header(KEY_HEADER) is None for r in backend.requests)
    # Each server's writer thread recorded its calls, the last ones as its process ended.
    assert recorded_outcomes(database_url) == [CallOutcome.FORWARDED] * LIMIT + [
        CallOutcome.RATE_LIMITED
    ] * (LIMIT + 4)


def test_gunicorn_keeps_encoded_slashes_and_reads_chunked_bodies(backend, redis_url, tmp_path):
    key = register(backend)
    database_url = shared_database_url(tmp_path)
    with portal(
        name="a", database_url=database_url, redis_url=redis_url, tmp_path=tmp_path
    ) as server:
        wait_until_serving(server)
        status, _, _ = server.request(
            "GET", "/gateway/shop/items/a%2Fb%3Fc", headers={KEY_HEADER: key}
        )
        assert status == 200
        status, _, _ = server.request(
            "POST",
            "/gateway/shop/items",
            headers={KEY_HEADER: key, "Content-Type": "text/plain"},
            body=iter([b"chunk one, ", b"chunk two"]),
        )
        assert status == 200
    first, second = backend.requests
    assert first.target == "/base/items/a%2Fb%3Fc"
    assert (second.method, second.body) == ("POST", b"chunk one, chunk two")
    assert second.header("Content-Length") == "20"


def recorded_calls(database_url: str) -> list[tuple[str, str, int]]:
    """(path, outcome, status) of the calls the servers recorded under /gateway/shop/."""
    query = (
        "SELECT path, outcome, status_code FROM gateway_gatewaycall "
        "WHERE path LIKE '/gateway/shop/%' ORDER BY created_at, id"
    )
    if database_url.startswith("sqlite:///"):
        with contextlib.closing(sqlite3.connect(database_url.removeprefix("sqlite:///"))) as db:
            return [tuple(row) for row in db.execute(query).fetchall()]
    return list(
        GatewayCall.objects.filter(path__startswith="/gateway/shop/")
        .order_by("created_at", "id")
        .values_list("path", "outcome", "status_code")
    )


@pytest.mark.parametrize(
    "body",
    [b"zz\r\n", b"4\r\nabcdXX", b"5\r\nab"],
    ids=["size-not-hex", "chunk-without-terminator", "cut-short"],
)
def test_a_malformed_chunked_body_is_a_400_and_nothing_is_forwarded(
    backend, redis_url, tmp_path, body
):
    key = register(backend)
    database_url = shared_database_url(tmp_path)
    head = (
        "POST /gateway/shop/items HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"{KEY_HEADER}: {key}\r\nContent-Type: text/plain\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    ).encode()
    with portal(
        name="a", database_url=database_url, redis_url=redis_url, tmp_path=tmp_path
    ) as server:
        wait_until_serving(server)
        # A body cut short ends when the client stops sending: half-close the connection.
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
        try:
            sock.sendall(head + body)
            sock.shutdown(socket.SHUT_WR)
            response = http.client.HTTPResponse(sock)
            response.begin()
            answer = response.read()
        finally:
            sock.close()
        log = server.log.read_text()
    assert response.status == 400, log[-3000:]
    assert response.getheader("Content-Type") == "application/json"
    assert json.loads(answer) == {
        "error": {
            "code": "InvalidRequest",
            "message": "The request body could not be read: its chunked encoding is "
            "malformed or it ends early.",
        }
    }
    assert "Traceback" not in log
    assert backend.connections == 0
    assert recorded_calls(database_url) == [("/gateway/shop/items", CallOutcome.BAD_REQUEST, 400)]


def test_gunicorn_forwards_documented_cookies_of_repeated_headers_and_logs_none(
    backend, redis_url, tmp_path
):
    key = register(backend)
    operation = Operation.objects.get(slug="item")
    for name in ("session_token", "sessionid"):
        operation.parameters.create(name=name, location=ParameterLocation.COOKIE)
    victim, secret = "victimsession0123456789abcdefghij", "cookie-secret-5f0c2a9e7d3b41c8"
    # The servers' output is scanned for both once they stop.
    log_scan.remember(victim)
    log_scan.remember(secret)
    database_url = shared_database_url(tmp_path)
    with portal(
        name="a", database_url=database_url, redis_url=redis_url, tmp_path=tmp_path
    ) as server:
        wait_until_serving(server)
        client = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        try:
            client.putrequest("GET", "/gateway/shop/items/1")
            client.putheader(KEY_HEADER, key)
            client.putheader("Cookie", f"sessionid={victim}; csrftoken=csrf0123456789")
            client.putheader("Cookie", f"session_token={secret}")
            client.endheaders()
            response = client.getresponse()
            assert response.status == 200, response.read()
        finally:
            client.close()
    [sent] = backend.requests
    assert sent.header("Cookie") == f"session_token={secret}"
