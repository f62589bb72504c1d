"""Hostile backends through the real Try it view: the portal-level evidence.

Each test registers an API at a scripted backend on loopback (tests/backends.py), POSTs
the Try it form with Django's test client and checks what a developer would see: a 200
page with either the classified error panel (exact kind and message) or a safe rendering
(exact status, escaped text). Small limits keep every case bounded: nothing may hang,
nothing may be a 500, nothing may reach a host other than the registered one.

The same behaviours are tested one level down in tests/httpcore/test_outbound.py; bench/hostile.py
runs them all against a live portal process and measures its memory.
"""

from __future__ import annotations

import contextlib
import ssl
import time
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from http import HTTPStatus

import pytest
import trustme
from bs4 import BeautifulSoup, Tag
from django.db.models.signals import post_save
from django.test import Client

from catalog.models import Api, Operation
from catalog.registration import create_missing_template_parameters
from console.models import Exchange
from console.rendering import DISPLAY_MAX_CHARS
from httpcore import outbound
from tests.backends import (
    MB,
    StreamedBody,
    blackhole,
    drip_body,
    gzip_bomb,
    long_header,
    many_headers,
    redirect,
    redirect_to_itself,
    reply_with,
    scripted_server,
    self_signed_context,
    short_body,
    stacked_gzip,
    switching_protocols,
)
from tests.backends import Exchange as Backend
from tests.markup import one

pytestmark = pytest.mark.django_db

CAP = 1 * MB
KEYS = [("Authorization", "Bearer s3cret-token-0123"), ("X-API-Key", "k-0123456789")]
METADATA = "http://169.254.169.254/latest/meta-data/iam/security-credentials/"
# Payload for markup tests; the escaped form must appear, the element must not.
IMG = "<img src=x onerror=alert(1)>"
IMG_ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"
# Python's punycode decoder is quadratic: decoding this took seconds, 5 MB minutes.
PUNYCODE = ("é" * 300_000).encode("punycode")


@pytest.fixture(autouse=True)
def small_limits(settings) -> None:
    settings.PORTAL_OUTBOUND_CONNECT_TIMEOUT = 0.5
    settings.PORTAL_OUTBOUND_READ_TIMEOUT = 0.5
    settings.PORTAL_OUTBOUND_DEADLINE = 1.5
    settings.PORTAL_OUTBOUND_MAX_RESPONSE_BYTES = CAP


@pytest.fixture
def decoy() -> Iterator:
    """Another port on the allowed loopback address: a redirect target that must get nothing."""
    with scripted_server(reply_with(200, body=b"decoy")) as server:
        yield server


@pytest.fixture
def elsewhere() -> Iterator:
    """Another host (127.0.0.2): it must never receive anything, not even a connect."""
    with scripted_server(reply_with(200, body=b"elsewhere"), host="127.0.0.2") as server:
        yield server


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def trusted_ca(ca, monkeypatch, tmp_path) -> trustme.CA:
    """Make requests' verify=True trust the test CA (and nothing else)."""
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setattr("requests.adapters.DEFAULT_CA_BUNDLE_PATH", str(bundle))
    return ca


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """200 KB on the wire, 200 MB once inflated."""
    return gzip_bomb(200 * MB)


def register(service_url: str, *, method: str = "GET") -> Operation:
    api = Api.objects.create(name="Hostile", slug="hostile", service_url=service_url)
    operation = Operation.objects.create(
        api=api,
        name="Call",
        slug="call",
        method=method,
        url_template="/items/{item}",
        request_content_type="application/json",
    )
    create_missing_template_parameters(operation=operation)
    return operation


def try_it(
    client: Client,
    operation: Operation,
    *,
    headers: Sequence[tuple[str, str]] = (),
    body: str = "",
):
    data = {
        "param-template-item": "1",
        "header_name": [name for name, _ in headers] or [""],
        "header_value": [value for _, value in headers] or [""],
        "body": body,
    }
    url = f"/apis/{operation.api.slug}/operations/{operation.slug}/try"
    return client.post(url, data, headers={"HX-Request": "true"})


def result_of(response) -> Tag:
    """The result panel of a Try it answer, which must be a 200."""
    assert response.status_code == 200
    panel = BeautifulSoup(response.content, "html.parser").select_one("#result")
    assert panel is not None, "no result panel: the form refused the input"
    return panel


def call(service_url: str, client: Client, **kwargs) -> Tag:
    """Register, try, and time it: every hostile case must end well within 3 s."""
    operation = register(service_url, method="POST" if kwargs.get("body") else "GET")
    started = time.monotonic()
    response = try_it(client, operation, **kwargs)
    elapsed = time.monotonic() - started
    assert elapsed < 3.0
    return result_of(response)


def status_of(panel: Tag) -> str:
    return one(panel, "[data-status]").get_text(" ", strip=True)


def assert_error_panel(panel: Tag, kind: str, message: str) -> None:
    error = panel.select_one("[data-error-kind]")
    assert error is not None, panel.get_text(" ", strip=True)[:300]
    assert (error["data-error-kind"], one(error, "[data-error-message]").get_text()) == (
        kind,
        message,
    )
    exchange = Exchange.objects.get()
    assert (exchange.error_kind, exchange.error_message) == (kind, message)


# --- Redirects: shown, never followed --------------------------------------------------


@pytest.mark.parametrize(
    ("status", "target"),
    [(302, "decoy"), (307, "decoy"), (308, "decoy"), (301, "metadata"), (302, "itself")],
    ids=["302-other-port", "307-other-port", "308-other-port", "301-metadata", "302-loop"],
)
def test_a_redirect_is_shown_once_and_never_followed(client, decoy, status, target):
    locations = {"decoy": f"{decoy.url}/steal", "metadata": METADATA}
    if target == "itself":
        handler = redirect_to_itself(status)
    else:
        handler = redirect(status, locations[target])
    with scripted_server(handler) as server:
        panel = call(server.url, client)
        location = locations.get(target, f"{server.url}/items/1")

    assert status_of(panel) == f"{status} {HTTPStatus(status).phrase}"
    assert panel.select_one("[data-redirect-location]").get_text() == location
    assert len(server.requests) == 1
    assert decoy.connections == 0


@pytest.mark.parametrize("status", [302, 307, 308])
def test_a_post_redirected_to_another_origin_takes_its_keys_nowhere(client, elsewhere, status):
    with scripted_server(redirect(status, f"{elsewhere.url}/collect")) as server:
        panel = call(server.url, client, headers=KEYS, body='{"a": 1}')

    assert elsewhere.connections == 0
    [received] = server.requests
    assert [received.header(name) for name, _ in KEYS] == [value for _, value in KEYS]
    assert status_of(panel).startswith(str(status))
    text = panel.get_text()
    assert "Bearer ••••••" in text
    assert not any(value in text for _, value in KEYS)


def test_an_https_redirect_to_http_is_shown_not_followed(client, trusted_ca, decoy):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    trusted_ca.issue_cert("localhost").configure_cert(context)
    downgrade = f"http://127.0.0.1:{decoy.port}/plain"
    with scripted_server(redirect(302, downgrade), ssl_context=context) as server:
        panel = call(f"https://localhost:{server.port}", client)

    assert status_of(panel) == "302 Found"
    assert panel.select_one("[data-redirect-location]").get_text() == downgrade
    assert server.server_names == ["localhost"]
    assert decoy.connections == 0


@pytest.mark.parametrize(
    "location",
    [
        "javascript:alert(1)",
        " JaVaScRiPt:alert(document.cookie)",
        "data:text/html,<script>alert(1)</script>",
        f'"><a href="javascript:alert(1)">x</a>{IMG}',
    ],
    ids=["javascript", "javascript-mixed-case", "data-url", "markup"],
)
def test_a_dangerous_location_is_text_never_a_link(client, location):
    with scripted_server(redirect(302, location)) as server:
        operation = register(server.url)
        response = try_it(client, operation)
        assert len(server.requests) == 1

    panel = result_of(response)
    html = response.content.decode().lower()
    assert '<a href="javascript:' not in html
    assert "<img" not in html
    # The only link in the panel may be the portal's own; none in the redirect note.
    assert panel.select("[data-redirect] a") == []
    assert panel.select_one("[data-redirect-location]").get_text() == location.strip()
    assert status_of(panel) == "302 Found"


# --- Bodies and connections that would hang, exhaust or crash -------------------------


@pytest.mark.parametrize(
    ("handler", "kind", "message"),
    [
        pytest.param(
            drip_body,
            "timeout",
            "The backend did not finish answering within 1.5 s (the portal's deadline)",
            id="drip-a-byte-every-0.3s",
        ),
        pytest.param(
            Backend.hold,
            "timeout",
            "The backend did not answer within 0.5 s",
            id="accepts-never-answers",
        ),
        pytest.param(
            stacked_gzip(8),
            "protocol",
            "The response body could not be decoded: Too many content encodings in the chain: "
            "8 > 5",
            id="eight-content-encodings",
        ),
        pytest.param(
            short_body,
            "protocol",
            "The response body ended early: 10 bytes received, 90 more were announced",
            id="shorter-than-content-length",
        ),
        # http.client's limits: 100 header lines, 65536 bytes a line. A backend beyond
        # them gets a protocol error; the portal does not raise them.
        pytest.param(
            many_headers(150),
            "protocol",
            "The backend sent an invalid HTTP response: got more than 100 headers",
            id="150-headers",
        ),
        pytest.param(
            long_header(70 * 1024),
            "protocol",
            "The backend sent a header or status line that is too long",
            id="70kb-header-line",
        ),
        pytest.param(Backend.reset, "reset", "The connection was reset by the backend", id="reset"),
        pytest.param(
            switching_protocols,
            "protocol",
            "The backend answered 101 Switching Protocols; the portal does not switch "
            "protocols or wait for a later response",
            id="101-switching-protocols",
        ),
    ],
)
def test_a_broken_backend_is_an_error_panel(client, handler, kind, message):
    with scripted_server(handler) as server:
        panel = call(server.url, client)
    assert_error_panel(panel, kind, message)


def _self_signed(stack: contextlib.ExitStack, ca: trustme.CA) -> str:
    server = stack.enter_context(scripted_server(ssl_context=self_signed_context("localhost")))
    return f"https://localhost:{server.port}"


def _wrong_name(stack: contextlib.ExitStack, ca: trustme.CA) -> str:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("other.test").configure_cert(context)
    server = stack.enter_context(scripted_server(ssl_context=context))
    return f"https://localhost:{server.port}"


def _never_connects(stack: contextlib.ExitStack, ca: trustme.CA) -> str:
    return f"http://127.0.0.1:{stack.enter_context(blackhole())}"


Start = Callable[[contextlib.ExitStack, trustme.CA], str]  # starts a backend, gives its URL
DESTINATIONS: dict[str, tuple[Start, str, str]] = {
    "tls-self-signed": (
        _self_signed,
        "tls",
        "TLS certificate verification failed: self-signed certificate",
    ),
    "tls-wrong-name": (
        _wrong_name,
        "tls",
        "TLS certificate verification failed: hostname 'localhost' doesn't match 'other.test'",
    ),
    "name-does-not-resolve": (
        lambda stack, ca: "http://nosuch.invalid",
        "dns",
        "The name nosuch.invalid does not resolve",
    ),
    "address-never-answers": (
        _never_connects,
        "timeout",
        "Could not connect to {host_port} within 0.5 s",
    ),
}


@pytest.mark.parametrize("case", DESTINATIONS)
def test_an_unreachable_or_untrusted_backend_is_an_error_panel(client, trusted_ca, case):
    start, kind, message = DESTINATIONS[case]
    with contextlib.ExitStack() as stack:
        service_url = start(stack, trusted_ca)
        panel = call(service_url, client)
    host_port = service_url.removeprefix("http://")
    assert_error_panel(panel, kind, message.format(host_port=host_port))


def huge(case: str, bomb: bytes, *, bomb_type: str = "text/plain") -> Callable[[Backend], None]:
    """The backends of the size cases: streamed, inflated, or wide in memory once decoded."""
    if case == "1-gb-body":
        return StreamedBody(1024 * MB)
    if case == "gzip-bomb":
        headers = [("Content-Encoding", "gzip"), ("Content-Type", bomb_type)]
        return reply_with(200, headers=headers, body=bomb)
    # One emoji makes Python store the decoded text at 4 bytes a character.
    return StreamedBody(6 * MB, content_type="text/plain; charset=utf-8", first="😀".encode())


@pytest.mark.parametrize("case", ["1-gb-body", "gzip-bomb"])
def test_a_huge_body_is_cut_at_the_cap(client, bomb, case):
    handler = huge(case, bomb, bomb_type="application/octet-stream")
    with scripted_server(handler) as server:
        panel = call(server.url, client)

    assert status_of(panel) == "200 OK"
    assert "The response was truncated at 1.0\xa0MB, the portal's limit." in panel.get_text()
    exchange = Exchange.objects.get()
    assert (exchange.truncated, exchange.response_size) == (True, CAP)
    assert len(bytes(exchange.response_body)) == CAP
    if case == "1-gb-body":
        # The portal stopped reading at the cap and hung up: the rest was never sent.
        assert handler.sent < 64 * MB
        # The page shows the beginning; the whole kept body is a download.
        assert panel.select_one("[data-body-kind=text]").get_text() == "x" * DISPLAY_MAX_CHARS
        cut = panel.select_one("[data-body-cut]")
        assert cut.get_text() == (
            "Only the first 500,000 characters are shown. Download the whole content (1.0\xa0MB)."
        )
        assert client.get(cut.a["href"]).content == b"x" * CAP
    else:
        assert panel.select_one("[data-body-kind=binary]") is not None


@pytest.mark.parametrize("case", ["1-gb-body", "gzip-bomb", "5-mb-text-with-an-emoji"])
def test_memory_stays_near_the_cap_on_a_huge_body(
    client, settings, monkeypatch, bomb, case
) -> None:
    """Python allocations while the portal handles the response, with the default 5 MiB
    cap: outbound.send holds the cap once (plus a chunk); the whole view (storing,
    escaping, rendering) stays under 50 MB. bench/hostile.py measures the process's RSS."""
    settings.PORTAL_OUTBOUND_MAX_RESPONSE_BYTES = 5 * MB
    handler = huge(case, bomb)
    send_peaks: list[int] = []
    real_send = outbound.send

    def measured_send(request, **kwargs):
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        try:
            return real_send(request, **kwargs)
        finally:
            send_peaks.append(tracemalloc.get_traced_memory()[1] - before)

    monkeypatch.setattr(outbound, "send", measured_send)
    # tests/conftest.py's secret scan serialises every stored exchange as JSON (5 MB of
    # NUL bytes become 30 MB of "\u0000"): test machinery, not the portal's memory.
    post_save.disconnect(sender=Exchange, dispatch_uid="secret-scan")
    with scripted_server(handler) as server:
        operation = register(server.url)
        tracemalloc.start()
        try:
            response = try_it(client, operation)
            _, view_peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()

    result_of(response)
    assert Exchange.objects.get().response_size == 5 * MB
    assert send_peaks[0] < 5 * MB + 1 * MB, f"{send_peaks[0] / MB:.1f} MB"
    assert view_peak < 50 * MB, f"{view_peak / MB:.1f} MB"


# --- What the browser gets -------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "body", "kind", "text", "note"),
    [
        pytest.param(
            "application/octet-stream",
            bytes(range(256)),
            "binary",
            "Binary content: application/octet-stream, 256\xa0bytes. Download",
            "",
            id="binary",
        ),
        pytest.param(
            "text/plain; charset=utf-8",
            b"caf\xc3 \xff ok",
            "text",
            "caf\ufffd \ufffd ok",
            "Some bytes were not valid in the declared character set and are shown as \ufffd.",
            id="invalid-utf8-labelled-utf8",
        ),
        pytest.param(
            "text/plain; charset=undefined",
            b"hello",
            "text",
            "hello",
            "The declared character set 'undefined' is not supported; shown as UTF-8.",
            id="charset-undefined",
        ),
        pytest.param(
            "text/plain; charset=punycode",
            PUNYCODE,
            "text",
            PUNYCODE[:40].decode(),
            "The declared character set 'punycode' is not supported; shown as UTF-8.",
            id="charset-punycode-quadratic",
        ),
        pytest.param(
            "application/json",
            b"[" * 1500 + b"]" * 1500,
            "text",
            "[" * 1500 + "]" * 1500,
            "The JSON is nested too deeply to format; it is shown as received.",
            id="json-nested-1500-deep",
        ),
    ],
)
def test_an_awkward_body_is_rendered_safely(client, content_type, body, kind, text, note):
    with scripted_server(reply_with(200, headers=[("Content-Type", content_type)], body=body)) as s:
        panel = call(s.url, client)

    assert status_of(panel) == "200 OK"
    shown = panel.select_one(f"[data-body-kind={kind}]").get_text(" ", strip=True)
    assert shown.startswith(text) if kind == "text" else shown == text
    assert (panel.select_one("[data-body-note]").get_text() if note else "") == note
    if kind == "binary":
        download = client.get(panel.select_one("[data-body-kind=binary] a")["href"])
        assert (download.content, download["X-Content-Type-Options"]) == (body, "nosniff")


SCRIPT = "<script>alert(1)</script>"


@pytest.mark.parametrize(
    ("status", "reason", "headers", "body"),
    [
        pytest.param(200, None, [("Content-Type", "text/html")], f"{SCRIPT}{IMG}", id="html-body"),
        pytest.param(
            200, None, [("Content-Type", "application/json")], f'{{"x": "{IMG}"}}', id="json"
        ),
        pytest.param(200, None, [("Content-Type", f"text/html;{IMG}")], "x", id="content-type"),
        pytest.param(200, None, [("Content-Type", f"image/png;{IMG}")], "\0", id="binary-type"),
        pytest.param(200, f"OK {IMG}", [], "", id="reason"),
        pytest.param(200, None, [(f"X-{'A' * 3}", IMG)], "", id="header-value"),
    ],
)
def test_markup_from_the_backend_is_escaped_text(client, status, reason, headers, body):
    def handler(exchange: Backend) -> None:
        exchange.respond(status, reason=reason, headers=headers, body=body.encode())

    with scripted_server(handler) as server:
        operation = register(server.url)
        response = try_it(client, operation)

    html = response.content.decode()
    panel = result_of(response)
    assert IMG_ESCAPED in html
    assert panel.select("img, script, [onerror]") == []
    assert "<script>alert" not in html


def test_a_backend_cannot_set_the_portals_session_cookie(client):
    headers = [
        ("Set-Cookie", "sessionid=attacker; Path=/; HttpOnly"),
        ("Content-Type", "text/plain"),
    ]
    with scripted_server(reply_with(200, headers=headers, body=b"hi")) as server:
        operation = register(server.url)
        response = try_it(client, operation)

    panel = result_of(response)
    assert "attacker" not in response.content.decode()
    assert all("attacker" not in value for _, value in response.items())
    cookie = response.cookies.get("sessionid")
    assert cookie is None or cookie.value == client.session.session_key
    assert ["Set-Cookie", "••••••"] in Exchange.objects.get().response_headers
    assert status_of(panel) == "200 OK"
