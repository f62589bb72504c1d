"""outbound.send against real loopback backends (tests/backends.py) where the wire
matters, and `responses` where a fake is enough (classification of library errors).

The test settings allow 127.0.0.1/32 only. 127.0.0.2 is "another host": a backend
there must never receive anything. No test opens a connection to a non-loopback address.
"""

from __future__ import annotations

import gzip
import logging
import socket
import ssl
import threading
import time
import tracemalloc
import zlib

import pytest
import responses
import trustme
from requests import exceptions as requests_exceptions
from urllib3 import HTTPHeaderDict
from urllib3.exceptions import ProtocolError

from httpcore import network_policy, watchdog
from httpcore.errors import ErrorKind, OutboundRefused
from httpcore.outbound import SendLimits, check_request, send
from httpcore.templating import OutboundRequest
from tests.backends import (
    Exchange,
    StreamedBody,
    reply_with,
    response_head,
    scripted_server,
    unused_port,
)

MB = 1024 * 1024
BASE = "/demo-backend"
LIMITS = SendLimits(
    connect_timeout=2.0,
    read_timeout=2.0,
    deadline=5.0,
    max_response_bytes=1 * MB,
    max_request_body_bytes=64 * 1024,
)


def call(
    url: str,
    *,
    service_url: str,
    method: str = "GET",
    headers: tuple[tuple[str, str], ...] = (),
    body: bytes | None = None,
    secret_names: frozenset[str] = frozenset(),
) -> OutboundRequest:
    return OutboundRequest(
        method=method,
        url=url,
        service_url=service_url,
        headers=headers,
        body=body,
        secret_names=secret_names,
    )


def limits(**changes: float) -> SendLimits:
    values = {**LIMITS.__dict__, **changes}
    return SendLimits(**values)


def assert_error(result, kind: ErrorKind, message: str) -> None:
    assert (result.error_kind, result.error_message) == (kind, message)
    assert result.response is None
    assert result.ok is False


@pytest.fixture
def backend():
    """A backend on 127.0.0.1 answering 200 "ok"; tests needing another script make one."""
    with scripted_server(reply_with(200, body=b"ok")) as server:
        yield server


@pytest.fixture
def other_host():
    """A backend on 127.0.0.2, which the policy does not allow: it must receive nothing."""
    with scripted_server(reply_with(200, body=b"other"), host="127.0.0.2") as server:
        yield server


# --- What goes on the wire ----------------------------------------------------


def test_get_sends_exactly_the_built_request(backend):
    result = send(
        call(
            f"{backend.url}{BASE}/items/a%2Fb?q=x%20y&key=k1",
            service_url=f"{backend.url}{BASE}",
            headers=(("X-Trace", "t-1"), ("Authorization", "Bearer abc")),
        ),
        limits=LIMITS,
    )

    assert result.ok
    [received] = backend.requests
    assert received.method == "GET"
    assert received.target == f"{BASE}/items/a%2Fb?q=x%20y&key=k1"
    assert received.headers == (
        ("Host", f"127.0.0.1:{backend.port}"),
        ("User-Agent", "api-portal/0.1"),
        ("Accept-Encoding", "gzip, deflate"),
        ("Accept", "*/*"),
        ("X-Trace", "t-1"),
        ("Authorization", "Bearer abc"),
    )
    assert received.body == b""
    assert (result.response.status_code, result.response.reason) == (200, "OK")
    assert result.response.body == b"ok"
    assert result.response.headers == (("Content-Length", "2"),)
    assert (result.response.size, result.response.truncated) == (2, False)
    assert result.error_kind is None
    assert result.error_message == ""
    assert result.duration_ms > 0


def test_post_sends_the_body_and_its_length(backend):
    body = b'{"name": "caf\xc3\xa9", "n": 1}'
    result = send(
        call(
            f"{backend.url}{BASE}/jobs",
            service_url=f"{backend.url}{BASE}",
            method="POST",
            headers=(("Content-Type", "application/json"), ("X-Api-Key", "s3cret")),
            body=body,
        ),
        limits=LIMITS,
    )

    assert result.ok
    [received] = backend.requests
    assert (received.method, received.target, received.body) == ("POST", f"{BASE}/jobs", body)
    assert received.headers == (
        ("Host", f"127.0.0.1:{backend.port}"),
        ("User-Agent", "api-portal/0.1"),
        ("Accept-Encoding", "gzip, deflate"),
        ("Accept", "*/*"),
        ("Content-Type", "application/json"),
        ("X-Api-Key", "s3cret"),
        ("Content-Length", str(len(body))),
    )


def test_a_caller_may_replace_the_default_accept_and_user_agent(backend):
    send(
        call(
            f"{backend.url}/",
            service_url=backend.url,
            headers=(("Accept", "application/json"), ("User-Agent", "my-tests/2")),
        ),
        limits=LIMITS,
    )
    [received] = backend.requests
    assert received.header("Accept") == "application/json"
    assert received.header("User-Agent") == "my-tests/2"


def test_repeated_request_headers_are_refused_unsent(backend):
    result = send(
        call(
            f"{backend.url}/",
            service_url=backend.url,
            headers=(("X-Tag", "a"), ("x-tag", "b")),
        ),
        limits=LIMITS,
    )
    assert_error(result, ErrorKind.INVALID_INPUT, "Header x-tag is given twice.")
    assert backend.connections == 0


def test_response_headers_are_kept_in_wire_order_with_duplicates():
    headers = [
        ("Set-Cookie", "a=1; Path=/"),
        ("X-Request-Id", "r-1"),
        ("Set-Cookie", "b=2; Path=/"),
        ("content-type", "application/json; charset=utf-8"),
    ]
    with scripted_server(reply_with(201, headers=headers, body=b"{}")) as server:
        result = send(call(f"{server.url}/", service_url=server.url), limits=LIMITS)

    assert result.response.status_code == 201
    assert result.response.reason == "Created"
    assert result.response.headers == (*headers, ("Content-Length", "2"))
    assert result.response.content_type == "application/json; charset=utf-8"
    assert result.response.header("Set-Cookie") == "a=1; Path=/"


def test_a_head_request_has_no_body(backend):
    result = send(call(f"{backend.url}/", service_url=backend.url, method="HEAD"), limits=LIMITS)
    assert result.ok
    assert (result.response.body, result.response.size) == (b"", 0)
    assert backend.requests[0].method == "HEAD"


def test_an_error_status_is_a_response_not_an_error():
    with scripted_server(reply_with(503, body=b"down")) as server:
        result = send(call(f"{server.url}/", service_url=server.url), limits=LIMITS)
    assert result.ok
    assert (result.response.status_code, result.response.body) == (503, b"down")


# --- The re-check before sending (registered origin only, checked headers) ---

MISMATCHES = [
    pytest.param(
        "http://127.0.0.2:{other}/demo-backend/x",
        "http://127.0.0.1:{port}/demo-backend",
        "The URL does not point at the API's service http://127.0.0.1:{port}",
        id="other-host",
    ),
    pytest.param(
        "http://127.0.0.1:{port}/demo-backend/x",
        "http://127.0.0.1:{free}/demo-backend",
        "The URL does not point at the API's service http://127.0.0.1:{free}",
        id="other-port",
    ),
    pytest.param(
        "https://127.0.0.1:{port}/demo-backend/x",
        "http://127.0.0.1:{port}/demo-backend",
        "The URL does not point at the API's service http://127.0.0.1:{port}",
        id="other-scheme",
    ),
    pytest.param(
        "http://127.1:{port}/demo-backend/x",
        "http://127.0.0.1:{port}/demo-backend",
        "The URL does not point at the API's service http://127.0.0.1:{port}",
        id="host-spelled-differently",
    ),
    pytest.param(
        "http://127.0.0.1:{port}/demo-backendX/x",
        "http://127.0.0.1:{port}/demo-backend",
        "The URL path is outside the API's base path /demo-backend",
        id="base-path-prefix-only",
    ),
    pytest.param(
        "http://127.0.0.1:{port}/admin/",
        "http://127.0.0.1:{port}/demo-backend",
        "The URL path is outside the API's base path /demo-backend",
        id="outside-base-path",
    ),
    pytest.param(
        "http://127.0.0.1:{port}/",
        "http://127.0.0.1:{port}/demo-backend/",
        "The URL path is outside the API's base path /demo-backend",
        id="root-with-base-path",
    ),
    pytest.param(
        "http://user:pw@127.0.0.1:{port}/demo-backend/x",
        "http://127.0.0.1:{port}/demo-backend",
        "The URL must not contain user info",
        id="user-info",
    ),
    pytest.param(
        "http://127.0.0.1:{port}@127.0.0.2:{other}/demo-backend/x",
        "http://127.0.0.1:{port}/demo-backend",
        "The URL must not contain user info",
        id="user-info-looking-like-the-host",
    ),
    pytest.param(
        "http://127.0.0.1:{port}/demo-backend/x#frag",
        "http://127.0.0.1:{port}/demo-backend",
        "The URL has a fragment",
        id="fragment",
    ),
    pytest.param(
        "http://127.0.0.1:{port}/demo-backend/a b",
        "http://127.0.0.1:{port}/demo-backend",
        "The URL contains a space, a control character or a backslash",
        id="space",
    ),
    pytest.param(
        "http://127.0.0.1:{port}/demo-backend/x\r\nX-Injected: 1",
        "http://127.0.0.1:{port}/demo-backend",
        "The URL contains a space, a control character or a backslash",
        id="crlf",
    ),
    pytest.param(
        "http://127.0.0.1:{port}\\@127.0.0.2:{other}/demo-backend/x",
        "http://127.0.0.1:{port}/demo-backend",
        "The URL contains a space, a control character or a backslash",
        id="backslash",
    ),
    pytest.param(
        "file:///etc/passwd",
        "http://127.0.0.1:{port}/demo-backend",
        "The URL does not point at the API's service http://127.0.0.1:{port}",
        id="file-scheme",
    ),
]


@pytest.mark.parametrize(("url", "service_url", "message"), MISMATCHES)
def test_a_url_that_differs_from_the_registration_is_refused_unsent(
    backend, other_host, url, service_url, message
):
    ports = {"port": backend.port, "other": other_host.port, "free": unused_port()}
    result = send(call(url.format(**ports), service_url=service_url.format(**ports)), limits=LIMITS)

    assert_error(result, ErrorKind.INVALID_INPUT, message.format(**ports))
    assert (backend.connections, other_host.connections) == (0, 0)


@pytest.mark.parametrize(
    "path",
    [
        "/demo-backend/../admin",
        "/demo-backend/%2e%2e/admin",
        "/demo-backend/%2E%2e/admin",
        "/demo-backend/.%2E/admin",
        "/demo-backend/./x",
        "/demo-backend/%2e/x",
        "/demo-backend/..",
        "/demo-backend/x/..?q=1",
        "/demo-backend/a%2F..%2F..%2Fadmin",
        "/demo-backend/..%5Cadmin",
        # A path value is sent encoded once; a backend that decodes twice reads these
        # as dot segments.
        "/demo-backend/%252e%252e/admin",
        "/demo-backend/%252E./admin",
        "/demo-backend/a%252f..%252fadmin",
        "/demo-backend/%252e%252e%255cadmin",
    ],
)
def test_dot_segments_are_refused_unsent(backend, path):
    result = send(call(f"{backend.url}{path}", service_url=f"{backend.url}{BASE}"), limits=LIMITS)

    assert_error(result, ErrorKind.INVALID_INPUT, "The URL path contains a '.' or '..' segment")
    assert backend.connections == 0


@pytest.mark.parametrize(
    ("path", "wire"),
    [
        ("/demo-backend", "/demo-backend"),
        ("/demo-backend/", "/demo-backend/"),
        ("/demo-backend?x=1", "/demo-backend?x=1"),
        ("/demo-backend/a..b/...", "/demo-backend/a..b/..."),
        ("/demo-backend/.well-known/x", "/demo-backend/.well-known/x"),
        # requests unquotes unreserved characters; "..." is no dot segment.
        ("/demo-backend/%2e%2e%2E", "/demo-backend/..."),
        ("/demo-backend/%252e%252e%252e", "/demo-backend/%252e%252e%252e"),
    ],
)
def test_paths_inside_the_base_path_are_sent(backend, path, wire):
    result = send(call(f"{backend.url}{path}", service_url=f"{backend.url}{BASE}"), limits=LIMITS)

    assert result.ok, result.error_message
    assert [r.target for r in backend.requests] == [wire]


@pytest.mark.parametrize(
    ("url", "service_url"),
    [
        ("http://api.example.test/x", "http://api.example.test:80"),
        ("http://api.example.test:80/x", "http://api.example.test"),
        ("https://api.example.test:443/v1/x", "https://api.example.test/v1/"),
        ("HTTP://API.Example.TEST/x", "http://api.example.test"),
        ("http://[::1]:8080/x", "http://[::1]:8080"),
    ],
)
def test_default_ports_and_case_are_normalised_before_comparing(url, service_url):
    check_request(call(url, service_url=service_url), limits=LIMITS)  # does not raise


@pytest.mark.parametrize(
    "name",
    [
        "Host",
        "host",
        "Content-Length",
        "Transfer-Encoding",
        "Connection",
        "Keep-Alive",
        "TE",
        "Trailer",
        "Upgrade",
        "Proxy-Authorization",
        "Proxy-Connection",
        "Forwarded",
        "X-Forwarded-For",
        "X-Forwarded-Host",
    ],
)
def test_forbidden_headers_are_refused_unsent(backend, name):
    result = send(
        call(f"{backend.url}/", service_url=backend.url, headers=((name, "v"),)), limits=LIMITS
    )
    assert_error(
        result,
        ErrorKind.INVALID_INPUT,
        f"The portal sets {name} itself; it cannot be sent.",
    )
    assert backend.connections == 0


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ((("Cookie", "v"),), "The Cookie header is not name=value pairs."),
        ((("Cookie", "a=1;b=2"),), "The Cookie header is not name=value pairs."),
        ((("Cookie", "a=x y"),), "The Cookie header is not name=value pairs."),
        ((("Cookie", "a=1"), ("cookie", "b=2")), "The request has more than one Cookie header."),
    ],
)
def test_only_one_cookie_header_as_bind_writes_it_is_sent(backend, headers, message):
    # templating.bind writes the one Cookie header from documented cookies
    # (httpcore/cookies.py); anything else is refused before connecting.
    result = send(call(f"{backend.url}/", service_url=backend.url, headers=headers), limits=LIMITS)
    assert_error(result, ErrorKind.INVALID_INPUT, message)
    assert backend.connections == 0


NAME_RULE = ": use letters, digits and !#$%&'*+-.^_`|~ without spaces or colons."


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (("X-A", "v\r\nX-Injected: 1"), "The value of X-A contains a line break or NUL."),
        (("X-A", "v\nw"), "The value of X-A contains a line break or NUL."),
        (("X-A", "v\x00w"), "The value of X-A contains a line break or NUL."),
        (("X-A", "v\x01w"), "The value of X-A has characters other than printable ASCII."),
        (("X-A\r\nX-B", "v"), f"Header name 'X-A\\r\\nX-B' is not valid{NAME_RULE}"),
        (("X A", "v"), f"Header name 'X A' is not valid{NAME_RULE}"),
        (("X:A", "v"), f"Header name 'X:A' is not valid{NAME_RULE}"),
        (("", "v"), "A header value has no name."),
    ],
)
def test_malformed_headers_are_refused_unsent(backend, header, message):
    result = send(
        call(f"{backend.url}/", service_url=backend.url, headers=(header,)), limits=LIMITS
    )
    assert_error(result, ErrorKind.INVALID_INPUT, message)
    assert backend.connections == 0


@pytest.mark.parametrize("method", ["GET /x HTTP/1.1\r\n", "G ET", "", "CONNECT", "connect"])
def test_malformed_methods_are_refused_unsent(backend, method):
    result = send(call(f"{backend.url}/", service_url=backend.url, method=method), limits=LIMITS)
    assert_error(result, ErrorKind.INVALID_INPUT, f"The method {method!r} cannot be sent")
    assert backend.connections == 0


def test_a_body_over_the_limit_is_refused_unsent(backend):
    request = call(
        f"{backend.url}/", service_url=backend.url, method="POST", body=b"x" * (64 * 1024 + 1)
    )
    result = send(request, limits=LIMITS)
    assert_error(
        result,
        ErrorKind.INVALID_INPUT,
        "The request body is 65,537 bytes; the portal sends at most 64 KB",
    )
    assert backend.connections == 0
    with pytest.raises(OutboundRefused):
        check_request(request, limits=LIMITS)


def test_a_body_at_the_limit_is_sent(backend):
    body = b"x" * (64 * 1024)
    result = send(
        call(f"{backend.url}/", service_url=backend.url, method="PUT", body=body), limits=LIMITS
    )
    assert result.ok
    assert backend.requests[0].body == body


# --- Network policy on real sockets (allowed addresses, pinned) --------------


def test_a_backend_on_a_loopback_address_not_listed_is_blocked(other_host):
    result = send(call(f"{other_host.url}/x", service_url=other_host.url), limits=LIMITS)

    assert_error(
        result,
        ErrorKind.BLOCKED,
        "Destination 127.0.0.2 is not allowed by the portal's network policy",
    )
    assert other_host.connections == 0


def test_ipv6_loopback_is_blocked_when_not_listed():
    with scripted_server(host="::1") as server:
        result = send(call(f"{server.url}/x", service_url=server.url), limits=LIMITS)
    assert_error(
        result, ErrorKind.BLOCKED, "Destination ::1 is not allowed by the portal's network policy"
    )
    assert server.connections == 0


def test_ipv4_mapped_ipv6_is_judged_and_connected_as_ipv4(backend, other_host):
    allowed = f"http://[::ffff:127.0.0.1]:{backend.port}"
    blocked = f"http://[::ffff:127.0.0.2]:{other_host.port}"

    assert send(call(f"{allowed}/x", service_url=allowed), limits=LIMITS).ok
    result = send(call(f"{blocked}/x", service_url=blocked), limits=LIMITS)

    assert backend.requests[0].header("Host") == f"[::ffff:127.0.0.1]:{backend.port}"
    assert_error(
        result,
        ErrorKind.BLOCKED,
        "Destination 127.0.0.2 is not allowed by the portal's network policy",
    )
    assert other_host.connections == 0


def _resolver(monkeypatch, answers: dict[str, list[str]]) -> list[str]:
    """Make `name` resolve to each of answers[name] in turn (the last one sticks);
    other names resolve for real. Returns the names looked up."""
    real = network_policy.socket.getaddrinfo
    looked_up: list[str] = []

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in answers:
            return real(host, port, *args, **kwargs)
        looked_up.append(host)
        queue = answers[host]
        address = queue.pop(0) if len(queue) > 1 else queue[0]
        return real(address, port, *args, **kwargs)

    monkeypatch.setattr(network_policy.socket, "getaddrinfo", getaddrinfo)
    return looked_up


def test_a_name_resolving_to_a_blocked_address_is_blocked(monkeypatch, other_host):
    _resolver(monkeypatch, {"internal.test": ["127.0.0.2"]})
    url = f"http://internal.test:{other_host.port}"

    result = send(call(f"{url}/x", service_url=url), limits=LIMITS)

    assert_error(
        result,
        ErrorKind.BLOCKED,
        "Destination internal.test resolves to 127.0.0.2, which the portal's network "
        "policy does not allow",
    )
    assert other_host.connections == 0


def test_the_connection_goes_to_the_address_that_passed_the_check(monkeypatch):
    # DNS rebinding: the name answers 127.0.0.1 for the check, 127.0.0.2 afterwards.
    with (
        scripted_server(reply_with(200, body=b"checked")) as checked,
        scripted_server(host="127.0.0.2", port=checked.port) as rebound,
    ):
        looked_up = _resolver(monkeypatch, {"rebind.test": ["127.0.0.1", "127.0.0.2"]})
        url = f"http://rebind.test:{checked.port}"

        result = send(call(f"{url}/x", service_url=url), limits=LIMITS)

    assert result.ok
    assert result.response.body == b"checked"
    assert looked_up == ["rebind.test"]
    assert checked.requests[0].header("Host") == f"rebind.test:{checked.port}"
    assert rebound.connections == 0


def test_a_name_that_does_not_resolve_is_a_dns_error():
    url = "http://nosuch.invalid"
    result = send(call(f"{url}/x", service_url=url), limits=LIMITS)
    assert_error(result, ErrorKind.DNS, "The name nosuch.invalid does not resolve")


def test_a_redirect_is_returned_not_followed(other_host):
    location = f"{other_host.url}/stolen"
    with scripted_server(reply_with(302, headers=[("Location", location)])) as server:
        result = send(call(f"{server.url}/start", service_url=server.url), limits=LIMITS)

    assert result.ok
    assert result.response.status_code == 302
    assert result.response.header("Location") == location
    assert len(server.requests) == 1
    assert other_host.connections == 0


def test_a_redirect_body_is_capped_like_any_other():
    # requests' Session.send reads a 3xx body whole even with redirects off.
    body = b"r" * (3 * MB)
    headers = [("Location", "http://127.0.0.1:9/")]
    with scripted_server(reply_with(301, headers=headers, body=body)) as server:
        result = send(call(f"{server.url}/", service_url=server.url), limits=LIMITS)

    assert result.response.status_code == 301
    assert (result.response.truncated, result.response.size) == (True, 1 * MB)


def test_cookies_are_not_kept_between_calls():
    cookie_jar = reply_with(200, headers=[("Set-Cookie", "session=abc; Path=/")])
    with scripted_server(cookie_jar) as server:
        first = send(call(f"{server.url}/login", service_url=server.url), limits=LIMITS)
        second = send(call(f"{server.url}/me", service_url=server.url), limits=LIMITS)

    assert first.response.header("Set-Cookie") == "session=abc; Path=/"
    assert second.ok
    assert [r.header("Cookie") for r in server.requests] == [None, None]


def test_proxy_and_netrc_settings_of_the_environment_are_ignored(backend, monkeypatch, tmp_path):
    dead_proxy = f"http://127.0.0.1:{unused_port()}"
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, dead_proxy)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login alice password hunter2\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))

    result = send(call(f"{backend.url}/direct", service_url=backend.url), limits=LIMITS)

    assert result.ok
    [received] = backend.requests
    assert received.target == "/direct"  # origin-form: not sent to a proxy
    assert received.header("Authorization") is None


# --- Connection failures and timeouts -----------------------------------------


def test_connection_refused():
    port = unused_port()
    url = f"http://127.0.0.1:{port}"
    result = send(call(f"{url}/x", service_url=url), limits=LIMITS)
    assert_error(
        result, ErrorKind.CONNECT, f"Could not connect to 127.0.0.1:{port}: connection refused"
    )


def test_a_backend_that_never_answers_times_out_at_the_read_timeout():
    with scripted_server(Exchange.hold) as server:
        started = time.monotonic()
        result = send(
            call(f"{server.url}/x", service_url=server.url),
            limits=limits(connect_timeout=0.5, read_timeout=0.5, deadline=5.0),
        )
        elapsed = time.monotonic() - started

    assert_error(result, ErrorKind.TIMEOUT, "The backend did not answer within 0.5 s")
    assert 0.45 <= elapsed < 2.0


DEADLINE_MESSAGE = "The backend did not finish answering within 1 s (the portal's deadline)"


def _drip_body(exchange: Exchange) -> None:
    exchange.send(response_head(200, headers=[("Content-Length", "100")]))
    exchange.drip(b"x" * 100, interval=0.3)


def _drip_body_until_close(exchange: Exchange) -> None:
    exchange.send(response_head(200, headers=[("Connection", "close")]))
    exchange.drip(b"x" * 100, interval=0.3)


def _drip_headers(exchange: Exchange) -> None:
    head = response_head(200, headers=[(f"X-H{i}", "v") for i in range(50)])
    exchange.drip(head, interval=0.05)


@pytest.mark.parametrize("handler", [_drip_body, _drip_body_until_close, _drip_headers])
def test_a_dripping_backend_times_out_at_the_deadline(handler):
    # Every byte comes before the 0.5 s read timeout; only the deadline ends the call.
    with scripted_server(handler) as server:
        started = time.monotonic()
        result = send(
            call(f"{server.url}/x", service_url=server.url),
            limits=limits(read_timeout=0.5, deadline=1.0),
        )
        elapsed = time.monotonic() - started

    assert_error(result, ErrorKind.TIMEOUT, DEADLINE_MESSAGE)
    assert 0.95 <= elapsed < 1.8


# --- Response size (a bare, bounded session) ---------------------------------


def test_a_body_over_the_cap_is_truncated_at_the_cap():
    body = bytes(range(256)) * (3 * MB // 256)
    with scripted_server(reply_with(200, body=body)) as server:
        result = send(call(f"{server.url}/big", service_url=server.url), limits=LIMITS)

    assert result.ok
    assert (result.response.truncated, result.response.size) == (True, 1 * MB)
    assert result.response.body == body[: 1 * MB]
    assert result.truncation_message == "The response was cut at 1 MB (the portal's limit)"


def test_a_body_exactly_at_the_cap_is_not_truncated():
    body = b"y" * MB
    with scripted_server(reply_with(200, body=body)) as server:
        result = send(call(f"{server.url}/", service_url=server.url), limits=LIMITS)

    assert (result.response.truncated, result.response.size) == (False, MB)
    assert result.response.body == body
    assert result.truncation_message == ""


def _gzip_of_zeros(size: int) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: gzip container
    zeros = bytes(MB)
    return b"".join(compressor.compress(zeros) for _ in range(size // MB)) + compressor.flush()


def test_a_gzip_bomb_stops_at_the_cap_of_decoded_bytes():
    bomb = _gzip_of_zeros(50 * MB)
    assert len(bomb) < 100 * 1024
    headers = [("Content-Encoding", "gzip"), ("Content-Type", "application/octet-stream")]
    with scripted_server(reply_with(200, headers=headers, body=bomb)) as server:
        tracemalloc.start()
        try:
            result = send(call(f"{server.url}/bomb", service_url=server.url), limits=LIMITS)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()

    assert result.ok
    assert (result.response.truncated, result.response.size) == (True, 1 * MB)
    assert result.response.body == bytes(MB)
    assert result.response.content_type == "application/octet-stream"
    assert peak < 8 * MB


def test_a_gzip_body_is_decoded():
    headers = [("Content-Encoding", "gzip")]
    with scripted_server(reply_with(200, headers=headers, body=gzip.compress(b"hello"))) as server:
        result = send(call(f"{server.url}/", service_url=server.url), limits=LIMITS)
    assert (result.response.body, result.response.size) == (b"hello", 5)


def test_stacked_content_encodings_beyond_urllib3s_limit_are_a_protocol_error():
    body = b"hello"
    for _ in range(6):
        body = gzip.compress(body)
    headers = [("Content-Encoding", ", ".join(["gzip"] * 6))]
    with scripted_server(reply_with(200, headers=headers, body=body)) as server:
        result = send(call(f"{server.url}/", service_url=server.url), limits=LIMITS)

    assert_error(
        result,
        ErrorKind.PROTOCOL,
        "The response body could not be decoded: Too many content encodings in the chain: 6 > 5",
    )


def test_a_body_that_is_not_the_announced_encoding_is_a_protocol_error():
    headers = [("Content-Encoding", "gzip")]
    with scripted_server(reply_with(200, headers=headers, body=b"plain text")) as server:
        result = send(call(f"{server.url}/", service_url=server.url), limits=LIMITS)

    assert result.error_kind == ErrorKind.PROTOCOL
    assert result.error_message.startswith("The response body could not be decoded: ")


# --- Broken backends (every failure classified) ------------------------------


def _short_body(exchange: Exchange) -> None:
    exchange.send(response_head(200, headers=[("Content-Length", "100")]) + b"x" * 10)


def _bad_chunk(exchange: Exchange) -> None:
    exchange.send(response_head(200, headers=[("Transfer-Encoding", "chunked")]) + b"zz\r\nab")


def _switching_protocols(exchange: Exchange) -> None:
    exchange.send(response_head(101, headers=[("Upgrade", "websocket"), ("Connection", "Upgrade")]))


def _too_many_headers(exchange: Exchange) -> None:
    exchange.send(response_head(200, headers=[(f"X-H{i}", "v") for i in range(101)]))


def _not_http(exchange: Exchange) -> None:
    exchange.send(b"SSH-2.0-OpenSSH_9.2\r\n")


def _raw(data: bytes):
    return lambda exchange: exchange.send(data)


_TWO_LENGTHS = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabc"
_LONG_CHUNK_LINE = (
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;" + b"x" * 70_000 + b"\r\nabc"
)
_HTTP2 = b"HTTP/2 200\r\ncontent-length: 0\r\n\r\n"


@pytest.mark.parametrize(
    ("handler", "kind", "message"),
    [
        (Exchange.reset, ErrorKind.RESET, "The connection was reset by the backend"),
        (
            Exchange.close,
            ErrorKind.RESET,
            "The backend closed the connection without answering",
        ),
        (
            _short_body,
            ErrorKind.PROTOCOL,
            "The response body ended early: 10 bytes received, 90 more were announced",
        ),
        (_bad_chunk, ErrorKind.PROTOCOL, "The backend sent an invalid chunked body"),
        (
            _switching_protocols,
            ErrorKind.PROTOCOL,
            "The backend answered 101 Switching Protocols; the portal does not switch "
            "protocols or wait for a later response",
        ),
        (
            _too_many_headers,
            ErrorKind.PROTOCOL,
            "The backend sent an invalid HTTP response: got more than 100 headers",
        ),
        (_not_http, ErrorKind.PROTOCOL, "The backend did not answer with an HTTP response"),
        (
            _raw(_TWO_LENGTHS),
            ErrorKind.PROTOCOL,
            "The backend sent an invalid header: Content-Length contained multiple "
            "unmatching values (3, 4)",
        ),
        (_raw(_LONG_CHUNK_LINE), ErrorKind.PROTOCOL, "The backend sent an invalid chunked body"),
        (
            _raw(_HTTP2),
            ErrorKind.PROTOCOL,
            "The backend answered in 'HTTP/2'; the portal speaks HTTP/1.0 and HTTP/1.1",
        ),
    ],
    ids=[
        "reset",
        "closed",
        "short-body",
        "bad-chunk",
        "101",
        "too-many-headers",
        "not-http",
        "two-content-lengths",
        "70kb-chunk-size-line",
        "http2-status-line",
    ],
)
def test_a_broken_backend_is_classified(handler, kind, message):
    with scripted_server(handler) as server:
        result = send(call(f"{server.url}/x", service_url=server.url), limits=LIMITS)
    assert_error(result, kind, message)


def test_control_characters_from_the_backend_are_replaced():
    # NUL cannot be stored in PostgreSQL text or jsonb; escape sequences forge log lines.
    head = b"HTTP/1.1 200 O\x00K\x1b[2J\r\nX-A: a\x00b\x7f\tc\r\nContent-Length: 0\r\n\r\n"
    with scripted_server(_raw(head)) as server:
        result = send(call(f"{server.url}/", service_url=server.url), limits=LIMITS)

    assert result.response.reason == "O\ufffdK\ufffd[2J"
    assert result.response.headers == (("X-A", "a\ufffdb\ufffd\tc"), ("Content-Length", "0"))


def test_an_error_message_quoting_the_backend_is_escaped_and_short():
    version = b"HTTP/\x00" + b"9" * 1000
    with scripted_server(_raw(version + b" 200 OK\r\n\r\n")) as server:
        result = send(call(f"{server.url}/", service_url=server.url), limits=LIMITS)

    assert_error(
        result,
        ErrorKind.PROTOCOL,
        "The backend answered in 'HTTP/\\x0099999999999999'; the portal speaks HTTP/1.0 and "
        "HTTP/1.1",
    )


def test_urllib3_logs_no_query_string_and_no_traceback(caplog):
    # A header section urllib3 cannot parse makes it log a warning with the full URL.
    caplog.set_level(logging.DEBUG, logger="urllib3")
    folded = _raw(b"HTTP/1.1 200 OK\r\n X-Fold: a\r\nContent-Length: 0\r\n\r\n")
    with scripted_server(folded) as server:
        send(
            call(
                f"{server.url}/x?api_key=k-secret-1&q=1",
                service_url=server.url,
                secret_names=frozenset({"api_key"}),
            ),
            limits=LIMITS,
        )

    records = [r for r in caplog.records if r.name.startswith("urllib3")]
    warning = next(r for r in records if r.levelno == logging.WARNING)
    assert warning.getMessage().startswith(
        f"Failed to parse headers (url={server.url}/x?(query not logged)): "
    )
    assert [r for r in records if "k-secret-1" in r.getMessage() or r.exc_info] == []


def test_a_1_gb_body_is_read_up_to_the_cap_only():
    streamed = StreamedBody(1024 * MB)
    with scripted_server(streamed) as server:
        tracemalloc.start()
        try:
            result = send(call(f"{server.url}/", service_url=server.url), limits=LIMITS)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()

    assert (result.response.truncated, result.response.size) == (True, 1 * MB)
    assert streamed.sent < 64 * MB  # the portal hung up instead of draining 1 GB
    assert peak < 2 * MB  # the body once, not a bytearray and its bytes copy


def test_headers_larger_than_the_cap_are_too_large():
    headers = [(f"X-H{i}", "v" * 1000) for i in range(20)]
    with scripted_server(reply_with(200, headers=headers)) as server:
        result = send(
            call(f"{server.url}/", service_url=server.url),
            limits=limits(max_response_bytes=16 * 1024),
        )
    assert_error(
        result, ErrorKind.TOO_LARGE, "The response headers alone exceed 16 KB (the portal's limit)"
    )


# --- TLS (verify=True always) -------------------------------------------------


@pytest.fixture(scope="module")
def ca():
    return trustme.CA()


def _tls_server_context(ca: trustme.CA, *names: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*names).configure_cert(context)
    return context


def test_a_certificate_the_portal_does_not_trust_is_a_tls_error(ca):
    context = _tls_server_context(ca, "localhost", "127.0.0.1")
    with scripted_server(ssl_context=context) as server:
        result = send(call(f"{server.url}/x", service_url=server.url), limits=LIMITS)

    assert_error(
        result,
        ErrorKind.TLS,
        "TLS certificate verification failed: unable to get local issuer certificate",
    )
    assert server.requests == []


@pytest.fixture
def trusted_ca(ca, monkeypatch, tmp_path):
    """Make requests' verify=True trust the test CA (and nothing else)."""
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setattr("requests.adapters.DEFAULT_CA_BUNDLE_PATH", str(bundle))
    return ca


def test_tls_verifies_the_name_while_connecting_to_the_pinned_address(trusted_ca):
    context = _tls_server_context(trusted_ca, "localhost")
    with scripted_server(reply_with(200, body=b"secure"), ssl_context=context) as server:
        url = f"https://localhost:{server.port}"
        result = send(call(f"{url}/x", service_url=url), limits=LIMITS)

    assert result.ok, result.error_message
    assert result.response.body == b"secure"
    assert server.server_names == ["localhost"]  # SNI is the name, not 127.0.0.1
    assert server.requests[0].header("Host") == f"localhost:{server.port}"


def test_a_certificate_for_another_name_is_a_tls_error(trusted_ca):
    context = _tls_server_context(trusted_ca, "other.test")
    with scripted_server(ssl_context=context) as server:
        url = f"https://localhost:{server.port}"
        result = send(call(f"{url}/x", service_url=url), limits=LIMITS)

    assert_error(
        result,
        ErrorKind.TLS,
        "TLS certificate verification failed: hostname 'localhost' doesn't match 'other.test'",
    )
    assert server.requests == []


# --- Library errors, faked with `responses` -----------------------------------

FAKE = "https://api.example.test"


@pytest.mark.parametrize(
    ("error", "kind", "message"),
    [
        (
            requests_exceptions.ConnectTimeout("connect timed out"),
            ErrorKind.TIMEOUT,
            "Could not connect to api.example.test:443 within 2 s",
        ),
        (
            requests_exceptions.ReadTimeout("read timed out"),
            ErrorKind.TIMEOUT,
            "The backend did not answer within 2 s",
        ),
        (
            requests_exceptions.SSLError("handshake failure"),
            ErrorKind.TLS,
            "The TLS connection with api.example.test:443 failed",
        ),
        (
            requests_exceptions.ConnectionError(ConnectionRefusedError(111, "Connection refused")),
            ErrorKind.CONNECT,
            "Could not connect to api.example.test:443: connection refused",
        ),
        (
            requests_exceptions.ConnectionError(
                ProtocolError("Connection aborted.", ConnectionResetError(104, "reset by peer"))
            ),
            ErrorKind.RESET,
            "The connection was reset by the backend",
        ),
        (
            requests_exceptions.ChunkedEncodingError("bad chunk"),
            ErrorKind.PROTOCOL,
            "The backend sent an invalid chunked body",
        ),
        (
            requests_exceptions.InvalidHeader("header"),
            ErrorKind.PROTOCOL,
            "The exchange with the backend failed (InvalidHeader)",
        ),
        (
            RuntimeError("a bug somewhere below"),
            ErrorKind.PROTOCOL,
            "The exchange with the backend failed (RuntimeError)",
        ),
    ],
    ids=["connect-timeout", "read-timeout", "ssl", "refused", "reset", "chunked", "other", "bug"],
)
@responses.activate
def test_library_errors_are_classified_never_raised(error, kind, message):
    responses.add(responses.GET, f"{FAKE}/x", body=error)
    result = send(call(f"{FAKE}/x", service_url=FAKE), limits=LIMITS)
    assert_error(result, kind, message)


@responses.activate
def test_a_faked_response_keeps_repeated_headers():
    responses.add(
        responses.GET,
        f"{FAKE}/x",
        body=b"{}",
        status=200,
        headers=HTTPHeaderDict([("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"), ("X-A", "1")]),
        content_type="application/json",
    )
    result = send(call(f"{FAKE}/x", service_url=FAKE), limits=LIMITS)

    assert result.ok
    assert [v for k, v in result.response.headers if k == "Set-Cookie"] == ["a=1", "b=2"]
    assert result.response.header("X-A") == "1"
    assert result.response.content_type == "application/json"


# --- Logging (no keys or account tokens) -------------------------------------


def test_one_log_line_per_call_with_secrets_masked(backend, caplog):
    caplog.set_level(logging.INFO, logger="httpcore.outbound")
    request = call(
        f"{backend.url}{BASE}/x?api_key=k-123&q=visible",
        service_url=f"{backend.url}{BASE}",
        headers=(("Authorization", "Bearer tok-456"), ("X-Api-Key", "hdr-789")),
        secret_names=frozenset({"api_key", "x-api-key", "authorization"}),
    )

    send(request, limits=LIMITS)

    [record] = [r for r in caplog.records if r.name == "httpcore.outbound"]
    assert record.levelno == logging.INFO
    text = record.getMessage()
    assert text.startswith(
        f"outbound GET {backend.url}{BASE}/x?api_key=••••••&q=visible -> 200 in "
    )
    for secret in ("k-123", "tok-456", "hdr-789", "Bearer"):
        assert secret not in text


def test_a_failed_call_logs_its_error_kind(caplog):
    caplog.set_level(logging.INFO, logger="httpcore.outbound")
    port = unused_port()
    url = f"http://127.0.0.1:{port}"
    send(
        call(f"{url}/x?token=t-1", service_url=url, secret_names=frozenset({"token"})),
        limits=LIMITS,
    )

    [record] = [r for r in caplog.records if r.name == "httpcore.outbound"]
    assert record.getMessage().startswith(
        f"outbound GET {url}/x?token=•••••• -> connect: Could not connect to 127.0.0.1:{port}: "
        "connection refused in "
    )


def test_send_reads_its_limits_and_policy_from_settings(settings):
    settings.PORTAL_OUTBOUND_MAX_RESPONSE_BYTES = 200
    with scripted_server(reply_with(200, body=b"z" * 300)) as server:
        result = send(call(f"{server.url}/", service_url=server.url))
        assert (result.response.size, result.response.truncated) == (200, True)

        settings.PORTAL_OUTBOUND_ALLOWED_NETWORKS = []
        result = send(call(f"{server.url}/", service_url=server.url))
        assert result.error_kind == ErrorKind.BLOCKED
    assert server.connections == 1


def test_limits_from_settings(settings):
    settings.PORTAL_OUTBOUND_CONNECT_TIMEOUT = 1.5
    settings.PORTAL_OUTBOUND_READ_TIMEOUT = 2.5
    settings.PORTAL_OUTBOUND_DEADLINE = 9.0
    settings.PORTAL_OUTBOUND_MAX_RESPONSE_BYTES = 1234
    settings.PORTAL_OUTBOUND_MAX_REQUEST_BODY_BYTES = 567
    settings.PORTAL_OUTBOUND_KEEP_ALIVE_SECONDS = 0.5
    assert SendLimits.from_settings() == SendLimits(
        connect_timeout=1.5,
        read_timeout=2.5,
        deadline=9.0,
        max_response_bytes=1234,
        max_request_body_bytes=567,
        keep_alive=0.5,
    )


def test_one_watchdog_expires_each_deadline_on_time_and_only_unfinished_ones():
    long = watchdog.Deadline(60)
    finished = watchdog.Deadline(0.05)
    short = watchdog.Deadline(0.1)
    with long:
        with finished:
            pass
        # Registered after a deadline a minute away, it must still wake the watchdog.
        short.__enter__()
        time.sleep(0.4)
        assert short.expired
        assert not finished.expired
        assert not long.expired
    short.__exit__(None, None, None)
    assert [t.name for t in threading.enumerate()].count("outbound-deadlines") == 1


def test_the_watchdog_is_woken_only_for_a_deadline_due_before_the_others(monkeypatch):
    condition = watchdog._watchdog._condition
    woken = []
    real_notify = condition.notify
    monkeypatch.setattr(condition, "notify", lambda *args: woken.append(1) or real_notify(*args))
    first = watchdog.Deadline(50)
    later = watchdog.Deadline(55)
    sooner = watchdog.Deadline(0.05)
    with first:
        count = len(woken)
        with later:
            assert len(woken) == count  # due after one it already waits for
        with sooner:
            assert len(woken) == count + 1
            time.sleep(0.3)
            assert sooner.expired
    assert not first.expired and not later.expired


def test_a_finished_deadline_lets_go_of_its_sockets():
    deadline = watchdog.Deadline(30)
    one, two = socket.socketpair()
    with one, two:
        with deadline:
            deadline.watch(one)
        assert deadline._sockets == []
