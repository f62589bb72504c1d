"""Connections kept between calls (docs/design.md, "Outbound: allowed addresses, pinned"
and "Connections kept between calls"): a connection an earlier call left is used again
only by a call to the same scheme, name and pinned address, within the idle limit,
after the name was resolved and checked again; never across addresses, names or
policies.

The backends keep their connections open (HTTP/1.1 keep-alive) and count them. The
test settings allow 127.0.0.1/32; 127.0.0.2 is another host.
"""

from __future__ import annotations

import contextlib
import http.server
import ipaddress
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from httpcore import network_policy, transport, watchdog
from httpcore.errors import ErrorKind
from httpcore.network_policy import NetworkPolicy
from httpcore.outbound import SendLimits, send
from httpcore.templating import OutboundRequest
from tests.backends import reply_with, scripted_server

LIMITS = SendLimits(
    connect_timeout=2.0,
    read_timeout=2.0,
    deadline=5.0,
    max_response_bytes=1024,
    max_request_body_bytes=64 * 1024,
    keep_alive=5.0,
)
LOOPBACK_ONLY = NetworkPolicy(allowed_networks=(ipaddress.ip_network("127.0.0.1/32"),))
BOTH = NetworkPolicy(allowed_networks=(ipaddress.ip_network("127.0.0.0/30"),))


class KeepAliveBackend:
    """An HTTP/1.1 backend that keeps connections open; counts connections and
    requests, and answers `body` (or as many bytes as asked with ?size=N)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, body: bytes = b"ok") -> None:
        backend = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def setup(self) -> None:
                super().setup()
                with backend.lock:
                    backend.connections += 1

            def do_GET(self) -> None:
                with backend.lock:
                    backend.requests.append((self.client_address[1], self.headers["Host"]))
                size = int(self.path.partition("size=")[2] or 0)
                payload = b"x" * size if size else backend.body
                self.send_response(200)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_POST = do_GET

            def log_message(self, *args: object) -> None:
                pass

        self.lock = threading.Lock()
        self.connections = 0
        self.requests: list[tuple[int, str]] = []
        self.body = body
        self.server = http.server.ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.host, self.port = host, self.server.server_address[1]
        self.url = f"http://{host}:{self.port}"


@contextlib.contextmanager
def keep_alive_backend(**kwargs: object) -> Iterator[KeepAliveBackend]:
    backend = KeepAliveBackend(**kwargs)  # type: ignore[arg-type]
    thread = threading.Thread(target=backend.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield backend
    finally:
        backend.server.shutdown()
        backend.server.server_close()


@pytest.fixture(autouse=True)
def _no_kept_connections():
    transport.close_kept_connections()
    yield
    transport.close_kept_connections()


def call(url: str, service_url: str, method: str = "GET") -> OutboundRequest:
    return OutboundRequest(
        method=method,
        url=url,
        service_url=service_url,
        headers=(),
        body=None,
        secret_names=frozenset(),
    )


def resolver(monkeypatch, answers: dict[str, list[str]]) -> list[str]:
    """`name` resolves to each of answers[name] in turn (the last one sticks); returns
    the names looked up, so that lookups can be counted."""
    real = socket.getaddrinfo
    looked_up: list[str] = []

    def getaddrinfo(host, port, *args, **kwargs):
        looked_up.append(host)
        if host not in answers:
            return real(host, port, *args, **kwargs)
        queue = answers[host]
        address = queue.pop(0) if len(queue) > 1 else queue[0]
        return real(address, port, *args, **kwargs)

    monkeypatch.setattr(network_policy.socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return looked_up


def test_calls_to_the_same_backend_share_one_connection():
    with keep_alive_backend() as backend:
        results = [send(call(f"{backend.url}/x", backend.url), limits=LIMITS) for _ in range(5)]
    assert all(result.ok and result.response.body == b"ok" for result in results)
    assert backend.connections == 1
    assert len({port for port, _ in backend.requests}) == 1


def test_without_keep_alive_every_call_has_its_own_connection():
    limits = SendLimits(**{**LIMITS.__dict__, "keep_alive": 0.0})
    with keep_alive_backend() as backend:
        for _ in range(3):
            assert send(call(f"{backend.url}/x", backend.url), limits=limits).ok
    assert backend.connections == 3


def test_a_connection_idle_longer_than_the_limit_is_not_used_again():
    limits = SendLimits(**{**LIMITS.__dict__, "keep_alive": 0.2})
    with keep_alive_backend() as backend:
        assert send(call(f"{backend.url}/x", backend.url), limits=limits).ok
        time.sleep(0.3)
        assert send(call(f"{backend.url}/x", backend.url), limits=limits).ok
    assert backend.connections == 2


def test_a_pinned_ip_literal_is_not_looked_up_again(monkeypatch):
    looked_up = resolver(monkeypatch, {})
    with keep_alive_backend() as backend:
        assert send(call(f"{backend.url}/x", backend.url), limits=LIMITS).ok
    assert looked_up == []


def test_a_name_is_looked_up_once_a_call_and_its_address_connected_to_as_is(monkeypatch):
    with keep_alive_backend() as backend:
        url = f"http://backend.test:{backend.port}"
        looked_up = resolver(monkeypatch, {"backend.test": ["127.0.0.1"]})
        assert send(call(f"{url}/x", url), limits=LIMITS).ok
        assert send(call(f"{url}/x", url), limits=LIMITS).ok
    # Checked again on every call, kept connection or not; the pinned literal never.
    assert looked_up == ["backend.test", "backend.test"]
    assert backend.connections == 1


def test_rebinding_to_a_forbidden_address_neither_reuses_nor_reaches_it(monkeypatch):
    # The name answers 127.0.0.1 for the first call, then 127.0.0.2, which the policy
    # forbids: the second call is refused, the kept connection to 127.0.0.1 unused.
    with (
        keep_alive_backend() as allowed,
        keep_alive_backend(host="127.0.0.2", port=allowed.port) as forbidden,
    ):
        url = f"http://rebind.test:{allowed.port}"
        resolver(monkeypatch, {"rebind.test": ["127.0.0.1", "127.0.0.2"]})
        first = send(call(f"{url}/x", url), limits=LIMITS, policy=LOOPBACK_ONLY)
        second = send(call(f"{url}/x", url), limits=LIMITS, policy=LOOPBACK_ONLY)

    assert first.ok
    assert second.error_kind == ErrorKind.BLOCKED
    assert (allowed.connections, len(allowed.requests)) == (1, 1)
    assert (forbidden.connections, forbidden.requests) == (0, [])


def test_a_name_that_moves_to_another_allowed_address_gets_a_new_connection(monkeypatch):
    with (
        keep_alive_backend(body=b"first") as first_host,
        keep_alive_backend(host="127.0.0.2", port=first_host.port, body=b"second") as second_host,
    ):
        url = f"http://moved.test:{first_host.port}"
        resolver(monkeypatch, {"moved.test": ["127.0.0.1", "127.0.0.2"]})
        first = send(call(f"{url}/x", url), limits=LIMITS, policy=BOTH)
        second = send(call(f"{url}/x", url), limits=LIMITS, policy=BOTH)

    assert (first.response.body, second.response.body) == (b"first", b"second")
    assert (first_host.connections, second_host.connections) == (1, 1)


def test_two_names_of_one_address_do_not_share_a_connection(monkeypatch):
    with keep_alive_backend() as backend:
        resolver(monkeypatch, {"one.test": ["127.0.0.1"], "two.test": ["127.0.0.1"]})
        for name in ("one.test", "two.test", "one.test", "two.test"):
            url = f"http://{name}:{backend.port}"
            assert send(call(f"{url}/x", url), limits=LIMITS).ok

    assert backend.connections == 2
    ports = {}
    for port, host in backend.requests:
        ports.setdefault(host.partition(":")[0], set()).add(port)
    assert len(ports["one.test"]) == len(ports["two.test"]) == 1
    assert ports["one.test"] != ports["two.test"]


def test_a_cut_answer_leaves_no_connection_behind():
    # The rest of a body cut at the limit would be read as the next call's answer.
    with keep_alive_backend() as backend:
        cut = send(call(f"{backend.url}/x?size=500000", backend.url), limits=LIMITS)
        after = send(call(f"{backend.url}/x", backend.url), limits=LIMITS)

    assert cut.response.truncated
    assert after.response.body == b"ok"
    assert backend.connections == 2


def test_a_kept_connection_the_backend_closed_is_replaced_not_an_error():
    # HTTP/1.1 answers with a length, then the connection closed: the next call on a
    # kept connection finds it closed and goes on a new one, for GET and POST alike.
    with scripted_server(reply_with(200, body=b"fine")) as server:
        results = [
            send(call(f"{server.url}/x", server.url, method=method), limits=LIMITS)
            for method in ("GET", "POST", "GET", "POST")
        ]
    assert [result.error_message for result in results] == [""] * 4
    assert all(result.response.body == b"fine" for result in results)
    assert len(server.requests) == 4


def test_the_deadline_watches_a_kept_connection(monkeypatch):
    watched: list[socket.socket] = []
    real_watch = watchdog.Deadline.watch

    def watch(self, sock):
        watched.append(sock)
        real_watch(self, sock)

    monkeypatch.setattr(watchdog.Deadline, "watch", watch)
    with keep_alive_backend() as backend:
        assert send(call(f"{backend.url}/x", backend.url), limits=LIMITS).ok
        assert send(call(f"{backend.url}/x", backend.url), limits=LIMITS).ok

    assert backend.connections == 1
    assert len(watched) == 2 and watched[0] is watched[1]
