"""Hostile backends, hostile form input and hostile gateway calls against live portals.

Starts the portal (`manage.py migrate`, then `manage.py runserver --noreload`) on a free
loopback port with a temporary SQLite database, starts scripted backends in this process
(tests/backends.py), registers an API for each, and sends every case through real HTTP
POSTs to the Try it view, as a browser with htmx would. A second portal process, under
gunicorn (the production server, which decodes chunked bodies) on the same database,
takes the gateway cases, sent on raw sockets: a malformed chunked body, a backend's
Location outside its own URL in every spelling, method overrides and Max-Forwards, and
a number out of range for the sample backend (directly, through the gateway and through
Try it). Prints how many cases ran, how many reached a host other than the registered
one, how many answered 5xx (the gateway's own 502 and 504 errors excepted), and how much
the Try it portal's resident memory grew while it handled a 1 GB body, a gzip bomb and
6 MB of text with one emoji.

    .venv/bin/python bench/hostile.py        (or: make bench)

Exits 1 when a goal is missed. The portal runs portal.settings through a small shim
written to the temporary directory (SETTINGS_SHIM): plain static storage (no
collectstatic), the bench's test CA trusted, and a resolver that answers only
"localhost" and IP literals, so all traffic stays on loopback and even the "name that
does not resolve" case sends no DNS query.
"""

from __future__ import annotations

import contextlib
import http.client
import http.cookiejar
import json
import os
import re
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import trustme  # noqa: E402 - after the sys.path insert, like the imports below

from tests.backends import (  # noqa: E402
    MB,
    ScriptedServer,
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
from tests.backends import Exchange as Backend  # noqa: E402

GOAL_GROWTH_MB = 50
# The cases whose memory is measured, by name.
GB_BODY = "1 GB body"
GZIP_BOMB = "gzip bomb (200 KB -> 200 MB)"
EMOJI_TEXT = "6 MB of text with one emoji"
MEASURED = (GB_BODY, GZIP_BOMB, EMOJI_TEXT)
# Portal limits for the run: short timeouts keep the slow cases quick; the cap is the
# production default, since the memory goal is about it.
PORTAL_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "bench",
    "ALLOWED_HOSTS": "127.0.0.1",
    "SECURE_SSL_REDIRECT": "false",
    "SESSION_COOKIE_SECURE": "false",
    "CSRF_COOKIE_SECURE": "false",
    "SECURE_HSTS_SECONDS": "0",
    "PORTAL_OUTBOUND_ALLOWED_NETWORKS": "127.0.0.1/32",
    "PORTAL_OUTBOUND_ALLOWED_PORTS": "*",
    "PORTAL_OUTBOUND_CONNECT_TIMEOUT": "1",
    "PORTAL_OUTBOUND_READ_TIMEOUT": "1",
    "PORTAL_OUTBOUND_DEADLINE": "2",
    "PORTAL_OUTBOUND_MAX_RESPONSE_BYTES": str(5 * MB),
    "PORTAL_TRY_IT_RATE_LIMIT": "0",  # the bench is one client sending ~100 calls
    "PORTAL_DEMO_API_KEY": "bench-demo-key",
    # The cases call the sample backend, directly, through the gateway and Try it.
    "PORTAL_DEMO_BACKEND_ENABLED": "true",
    "PORTAL_ENV_FILE": "",
    "LOG_LEVEL": "WARNING",
}
DEMO_KEY = PORTAL_ENV["PORTAL_DEMO_API_KEY"]
# The gateway's own answers for a failed backend, which are 5xx by design.
GATEWAY_BACKEND_ERRORS = ("BackendError", "BackendTimeout", "BackendResponseTooLarge")
# Seconds the bench waits for one answer from the portal; the portal's own deadline is 2.
ANSWER_TIMEOUT = 15.0

# Imported by the portal process instead of portal.settings (DJANGO_SETTINGS_MODULE).
SETTINGS_SHIM = """
from portal.settings import *  # noqa: F403

import ipaddress as _ipaddress
import socket as _socket

import requests.adapters as _adapters

# No collectstatic for a bench run: plain storage, as in the tests.
STORAGES = {{**STORAGES, "staticfiles": {{
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}}}
# The bench's TLS backends are signed by its own CA; the portal still verifies.
_adapters.DEFAULT_CA_BUNDLE_PATH = {ca_bundle!r}
_real_getaddrinfo = _socket.getaddrinfo


def _loopback_only(host, *args, **kwargs):
    # Keeps every lookup on this machine: no DNS query leaves it during the bench.
    name = host.decode() if isinstance(host, bytes) else str(host or "")
    try:
        _ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        if name != "localhost":
            raise _socket.gaierror(_socket.EAI_NONAME, "Name or service not known") from None
    return _real_getaddrinfo(host, *args, **kwargs)


_socket.getaddrinfo = _loopback_only
"""

REGISTER = """
import json, os
from catalog.models import Api, Operation, Parameter, ParameterLocation
from catalog.registration import create_missing_template_parameters
for spec in json.loads(os.environ["BENCH_APIS"]):
    api = Api.objects.create(
        name=spec["slug"], slug=spec["slug"], service_url=spec["url"],
        url_suffix=spec.get("suffix", ""),
    )
    for slug, method, template in spec["operations"]:
        operation = Operation.objects.create(
            api=api, name=slug, slug=slug, method=method, url_template=template,
            request_content_type="application/json",
        )
        create_missing_template_parameters(operation=operation)
        for name in spec.get("headers", []):
            Parameter.objects.create(
                operation=operation, name=name, location=ParameterLocation.HEADER
            )
"""


# --- What a case is and what it answered ------------------------------------------------

FormValue = str | bytes  # bytes: sent percent-encoded as they are (not UTF-8 text)


@dataclass
class Answer:
    status: int | None  # None: no answer within ANSWER_TIMEOUT
    html: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)

    def error_kind(self) -> str | None:
        found = re.search(r'data-error-kind="([a-z_]+)"', self.html)
        return found.group(1) if found else None

    def shown_status(self) -> int | None:
        found = re.search(r"data-status>(\d{3}) ", self.html)
        return int(found.group(1)) if found else None


@dataclass
class GatewayCase:
    """One request to the gunicorn portal, sent on a raw socket as it is."""

    name: str
    request: bytes
    check: Callable[[Answer], str | None]
    # Sent, then the sending side closed: a body that ends early.
    half_close: bool = False


@dataclass
class Case:
    name: str
    api: str  # slug of the registered API
    operation: str  # "get" or "post"
    form: list[tuple[str, FormValue]]
    # Says what is wrong with the answer, or None when it is what the case expects.
    check: Callable[[Answer], str | None]
    measure: bool = False  # record the portal's memory growth during this case


def error(kind: str) -> Callable[[Answer], str | None]:
    def check(answer: Answer) -> str | None:
        found = answer.error_kind()
        return None if found == kind else f"expected a {kind} panel, got {found or 'none'}"

    return check


def status(code: int, *, and_not: tuple[str, ...] = ()) -> Callable[[Answer], str | None]:
    """The response panel with this status, and none of `and_not` in the page."""

    def check(answer: Answer) -> str | None:
        if answer.shown_status() != code:
            return f"expected status {code}, got {answer.shown_status() or answer.error_kind()}"
        # The result panel and the portal's response headers; the form above the panel
        # shows the user's own input back to them.
        panel = answer.html[answer.html.find('id="result"') :]
        page = (panel + "\n".join(v for _, v in answer.headers)).lower()
        leaked = [text for text in and_not if text.lower() in page]
        return f"found {leaked} in the answer" if leaked else None

    return check


def answered(answer: Answer) -> str | None:
    """Hostile input: a form error or a result panel, either is fine; a 5xx is counted."""
    markers = ('id="result"', "is-invalid", 'id="header-errors"', 'role="alert"')
    return None if any(marker in answer.html for marker in markers) else "no panel, no form error"


# --- The hostile backends ---------------------------------------------------------------


@dataclass
class World:
    """Everything the cases point at, started in this process."""

    stack: contextlib.ExitStack
    ca: trustme.CA
    decoy: ScriptedServer  # 127.0.0.1, another port: a redirect target
    other: ScriptedServer  # 127.0.0.2: another host, which must receive nothing
    inputs: ScriptedServer  # the registered backend for the hostile form input
    apis: dict[str, str] = field(default_factory=dict)  # slug -> service URL
    backends: dict[str, ScriptedServer] = field(default_factory=dict)  # one per behaviour

    # slug -> URL suffix, for the APIs on the gateway
    suffixes: dict[str, str] = field(default_factory=dict)
    # slug -> (operations, declared header parameters), for APIs not shaped like the rest
    shapes: dict[str, tuple[list[tuple[str, str, str]], list[str]]] = field(default_factory=dict)

    def serve(
        self,
        slug: str,
        handler: Callable[[Backend], None],
        ssl_context: ssl.SSLContext | None = None,
        *,
        base: str = "",
    ) -> str:
        server = self.stack.enter_context(scripted_server(handler, ssl_context=ssl_context))
        # TLS backends are reached by name, so that the certificate check has one to match.
        host = "localhost" if ssl_context else server.host
        self.apis[slug] = f"{server.scheme}://{host}:{server.port}{base}"
        self.backends[slug] = server
        return slug

    def tls(self, *names: str) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert(*names).configure_cert(context)
        return context


def behaviour_cases(world: World) -> list[Case]:
    """Every hostile backend behaviour, one API each."""
    keys = [("Authorization", "Bearer s3cret-token-0123"), ("X-API-Key", "k-0123456789")]
    metadata = "http://169.254.169.254/latest/meta-data/"
    decoy, other = world.decoy.url, world.other.url
    no_secrets = tuple(value for _, value in keys)
    img = "<img src=x onerror=alert(1)>"
    html = f"<script>alert(1)</script>{img}".encode()
    bomb = gzip_bomb(200 * MB)
    punycode = ("é" * 300_000).encode("punycode")
    table: list[tuple[str, Callable[[Backend], None], Callable[[Answer], str | None]]] = [
        ("302 to another port", redirect(302, f"{decoy}/steal"), status(302)),
        ("307 to another port", redirect(307, f"{decoy}/steal"), status(307)),
        ("308 to another port", redirect(308, f"{decoy}/steal"), status(308)),
        ("301 to the metadata address", redirect(301, metadata), status(301)),
        ("redirect loop", redirect_to_itself(302), status(302)),
        (
            "javascript: Location",
            redirect(302, "javascript:alert(1)"),
            status(302, and_not=('href="javascript:',)),
        ),
        ("drip a byte every 0.3 s", drip_body, error("timeout")),
        ("accepts, never answers", Backend.hold, error("timeout")),
        ("eight content encodings", stacked_gzip(8), error("protocol")),
        ("body shorter than Content-Length", short_body, error("protocol")),
        (
            "binary body",
            reply_with(200, headers=[("Content-Type", "image/png")], body=bytes(range(256))),
            status(200),
        ),
        (
            "invalid UTF-8 labelled utf-8",
            reply_with(200, headers=[("Content-Type", "text/plain; charset=utf-8")], body=b"\xff"),
            status(200),
        ),
        (
            "charset=punycode (quadratic decoder)",
            reply_with(
                200, headers=[("Content-Type", "text/plain; charset=punycode")], body=punycode
            ),
            status(200),
        ),
        (
            "JSON nested 1500 deep",
            reply_with(
                200, headers=[("Content-Type", "application/json")], body=b"[" * 1500 + b"]" * 1500
            ),
            status(200),
        ),
        ("150 response headers", many_headers(150), error("protocol")),
        ("70 KB header line", long_header(70 * 1024), error("protocol")),
        ("connection reset", Backend.reset, error("reset")),
        ("101 Switching Protocols", switching_protocols, error("protocol")),
        (
            "HTML with script and onerror",
            reply_with(200, headers=[("Content-Type", "text/html")], body=html),
            status(200, and_not=("<script>alert", "<img src=x")),
        ),
        (
            "Content-Type with markup",
            reply_with(200, headers=[("Content-Type", f"text/html;{img}")], body=b"x"),
            status(200, and_not=("<img src=x",)),
        ),
        (
            "Set-Cookie sessionid",
            reply_with(200, headers=[("Set-Cookie", "sessionid=attacker; Path=/")], body=b"x"),
            status(200, and_not=("attacker",)),
        ),
    ]
    cases = [
        Case(name, world.serve(f"b{index}", handler), "get", [("param-template-item", "1")], check)
        for index, (name, handler, check) in enumerate(table)
    ]
    key_rows = [("header_name", n) for n, _ in keys] + [("header_value", v) for _, v in keys]
    post_form: list[tuple[str, FormValue]] = [
        ("param-template-item", "1"),
        ("body", '{"a": 1}'),
        *key_rows,
    ]
    cases.append(
        Case(
            "POST with keys, 307 to another host",
            world.serve("post-redirect", redirect(307, f"{other}/collect")),
            "post",
            post_form,
            status(307, and_not=no_secrets),
        )
    )
    https_to_http = redirect(302, f"http://127.0.0.1:{world.decoy.port}/plain")
    tls_cases = [
        ("https redirect to http", https_to_http, world.tls("localhost"), status(302)),
        ("TLS self-signed", reply_with(200), self_signed_context("localhost"), error("tls")),
        ("TLS wrong name", reply_with(200), world.tls("other.test"), error("tls")),
    ]
    for index, (name, handler, context, check) in enumerate(tls_cases):
        slug = world.serve(f"t{index}", handler, ssl_context=context)
        cases.append(Case(name, slug, "get", [("param-template-item", "1")], check))
    world.apis["dns"] = "http://nosuch.invalid"
    world.apis["blackhole"] = f"http://127.0.0.1:{world.stack.enter_context(blackhole())}"
    cases += [
        Case("name does not resolve", "dns", "get", [("param-template-item", "1")], error("dns")),
        Case(
            "address never answers",
            "blackhole",
            "get",
            [("param-template-item", "1")],
            error("timeout"),
        ),
    ]
    gzip_headers = [("Content-Encoding", "gzip"), ("Content-Type", "text/plain")]
    huge: dict[str, Callable[[Backend], None]] = {
        GB_BODY: StreamedBody(1024 * MB),
        GZIP_BOMB: reply_with(200, headers=gzip_headers, body=bomb),
        # One emoji: Python stores the decoded text at 4 bytes a character.
        EMOJI_TEXT: StreamedBody(
            6 * MB, content_type="text/plain; charset=utf-8", first="😀".encode()
        ),
    }
    for index, (name, handler) in enumerate(huge.items()):
        slug = world.serve(f"h{index}", handler)
        cases.append(Case(name, slug, "get", [("param-template-item", "1")], status(200), True))
    return cases


# --- The hostile form input ------------------------------------------------------------


def input_cases(world: World) -> list[Case]:
    """Path values, query values, headers and bodies made to leave the registered API.

    tests/console/test_hostile_inputs.py holds the exact expectations for each (its cases are
    inline in its parametrize decorators, so not importable); here only the goals count:
    nothing reaches another host, no 5xx.
    """
    other = f"{world.other.host}:{world.other.port}"
    world.apis["inputs"] = f"{world.inputs.url}/base"
    paths: list[FormValue] = [
        "..",
        ".",
        "../../admin",
        "..\\..\\admin",
        "%2e%2e%2f",
        f"@{other}",
        f"//{other}/steal",
        f"http://{other}/steal",
        f"\\\\{other}\\steal",
        "a?api-version=2",
        "a#frag",
        "a;jsessionid=x",
        "\uff0e\uff0e\uff0fadmin",
        "a\u202eb",
        "a\x00b",
        "a\r\nHost: evil",
        "x" * 10_000,
        b"\xff\xfe",
    ]
    queries: list[FormValue] = [
        "1&api-version=2",
        f"x#@{other}",
        f"http://{other}/",
        "a\r\nHost: evil",
        "x" * 100_000,
        b"\xed\xa0\x80",  # a UTF-8 encoded surrogate
        "%00",
    ]
    headers = [
        ("Host", other),
        ("X-Forwarded-Host", other),
        ("Forwarded", f"host={other}"),
        ("X-A", f"v\r\nHost: {other}"),
        ("Transfer-Encoding", "chunked"),
        ("Content-Length", "0"),
        ("Cookie", "sessionid=x"),
        ("Proxy-Authorization", "Basic eDp5"),
        ("X A", "v"),
        ("X-Long", "v" * 10_000),
        ("X-Nul", "a\x00b"),
        ("Connection", "close, Host"),
    ]
    bodies = [
        '{"a": NaN}',
        "[" * 100_000,
        "\ufeff{}",
        f'{{"url": "http://{other}/"}}',
        '{"a": "\\ud800"}',
        "x" * (2 * MB),
        "not json",
    ]
    cases = [
        Case(f"path {value[:30]!r}", "inputs", "get", [("param-template-item", value)], answered)
        for value in paths
    ]
    cases += [
        Case(
            f"query {value[:30]!r}",
            "inputs",
            "get",
            [("param-template-item", "1"), ("param-template-q", value)],
            answered,
        )
        for value in queries
    ]
    cases += [
        Case(
            f"header {name[:20]!r}: {value[:20]!r}",
            "inputs",
            "get",
            [("param-template-item", "1"), ("header_name", name), ("header_value", value)],
            answered,
        )
        for name, value in headers
    ]
    many = [("header_name", f"X-H{i}") for i in range(60)] + [("header_value", "v")] * 60
    cases.append(
        Case("60 headers", "inputs", "get", [("param-template-item", "1"), *many], answered)
    )
    cases += [
        Case(
            f"body {body[:20]!r}",
            "inputs",
            "post",
            [("param-template-item", "1"), ("body", body)],
            answered,
        )
        for body in bodies
    ]
    for case in cases:
        if case.operation == "get":
            case.form.append(("param-template-v", "1"))
    return cases


def stayed_inside(world: World) -> list[str]:
    """Requests at the inputs backend that left the registered base path or Host, and
    behaviour backends called more than once (each gets one POST: a redirect followed
    back to itself would show here)."""
    host = f"{world.inputs.host}:{world.inputs.port}"
    outside = [
        f"left the registered API: {r.method} {r.target} (Host {r.header('Host')})"
        for r in world.inputs.requests
        if not r.target.startswith("/base/items/") or r.header("Host") != host
    ]
    repeated = [
        f"backend {slug} received {len(server.requests)} requests"
        for slug, server in world.backends.items()
        if len(server.requests) > 1
    ]
    return outside + repeated


# --- Hostile calls to the gateway, under gunicorn ----------------------------------------

# A number no double holds: it would read as infinity, which is not JSON.
OUT_OF_RANGE = '{"Inputs": {"input1": {"ColumnNames": ["A"], "Values": [[%s]]}}}'
DEMO_SERVICE = "/workspaces/ws/services/svc"


def http_request(
    method: str,
    path: str,
    *,
    headers: tuple[tuple[str, str], ...] = (),
    body: bytes | None = None,
    chunked: bytes | None = None,
) -> bytes:
    """An HTTP/1.1 request as bytes; `chunked` is sent as it is after the head."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers]
    payload = b""
    if chunked is not None:
        lines.append("Transfer-Encoding: chunked")
        payload = chunked
    elif body is not None:
        lines.append(f"Content-Length: {len(body)}")
        payload = body
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


def error_of(answer: Answer) -> dict:
    try:
        error = json.loads(answer.html)["error"]
    except (ValueError, KeyError, TypeError):
        return {}
    return error if isinstance(error, dict) else {}


def gateway_error(
    code: int, name: str, *, kind: str = "", quiet: ScriptedServer | None = None
) -> Callable[[Answer], str | None]:
    """The gateway's own JSON error, no Location; `quiet` saw no connection at all."""

    def check(answer: Answer) -> str | None:
        error = error_of(answer)
        found = (answer.status, error.get("code"), error.get("kind", ""))
        if found != (code, name, kind):
            return f"expected {(code, name, kind)}, got {found} {answer.html[:80]!r}"
        if any(header.lower() == "location" for header, _ in answer.headers):
            return "the answer has a Location"
        if quiet is not None and quiet.connections:
            return f"the backend saw {quiet.connections} connection(s)"
        return None

    return check


def moved_to(location: str) -> Callable[[Answer], str | None]:
    def check(answer: Answer) -> str | None:
        found = [value for name, value in answer.headers if name.lower() == "location"]
        if (answer.status, found) != (302, [location]):
            return f"expected a 302 to {location}, got {answer.status} to {found}"
        return None

    return check


def forwarded_without(
    server: ScriptedServer, method: str, names: tuple[str, ...]
) -> Callable[[Answer], str | None]:
    """Forwarded (200), as `method`, with none of the headers `names`."""

    def check(answer: Answer) -> str | None:
        if answer.status != 200 or len(server.requests) != 1:
            return f"expected one call forwarded, got {answer.status}, {len(server.requests)}"
        sent = server.requests[0]
        leaked = [name for name in names if sent.header(name) is not None]
        if sent.method != method or leaked:
            return f"the backend got {sent.method} with {leaked}"
        return None

    return check


def demo_refusal(code: str, message: str) -> Callable[[Answer], str | None]:
    """The sample backend's 400 with this detail code, its message containing `message`."""

    def check(answer: Answer) -> str | None:
        error = error_of(answer)
        details = [detail.get("code") for detail in error.get("details", [])]
        if answer.status != 400 or details != [code] or message not in error.get("message", ""):
            return f"expected a 400 {code} naming {message!r}, got {answer.status} {error}"
        return None

    return check


def panel_refusal(message: str) -> Callable[[Answer], str | None]:
    """Try it's result panel with the backend's 400, its body naming `message`."""

    def check(answer: Answer) -> str | None:
        if answer.shown_status() != 400:
            return f"expected status 400, got {answer.shown_status() or answer.error_kind()}"
        panel = answer.html[answer.html.find('id="result"') :]
        return None if message in panel else f"{message!r} is not in the result panel"

    return check


def gateway_cases(world: World) -> list[GatewayCase]:
    """Malformed chunked bodies, Locations outside the backend's URL, method overrides
    and Max-Forwards, each to an API of its own on the gateway."""
    query = "?api-version=1&q=1"
    other = world.other.url.removeprefix("http://")
    off_origin = [
        ("on another host", f"http://{other}/x"),
        ("on another port", f"{world.decoy.url}/x"),
        ("scheme-relative //host", f"//{other}/x"),
        ("javascript:", "javascript:alert(1)"),
        ("data:", "data:text/html,<script>alert(1)</script>"),
        ("\\\\host", f"\\\\{other}\\x"),
        ("http:/\\host", f"http:/\\{other}/x"),
        ("/x, outside the base path", "/x"),
        ("%2e%2e segments", "/base/%2e%2e/%2e%2e/admin/"),
    ]
    cases: list[GatewayCase] = []
    for index, (label, location) in enumerate(off_origin):
        slug = world.serve(f"g{index}", redirect(302, location), base="/base")
        world.suffixes[slug] = slug
        cases.append(
            GatewayCase(
                f"gateway: Location {label}",
                http_request("GET", f"/gateway/{slug}/items/1{query}"),
                gateway_error(502, "BackendError", kind="redirect"),
            )
        )
    slug = world.serve("g-kept", redirect(302, "2?page=3"), base="/base")
    world.suffixes[slug] = slug
    cases.append(
        GatewayCase(
            "gateway: relative Location under the backend",
            http_request("GET", f"/gateway/{slug}/items/1{query}"),
            moved_to(f"/gateway/{slug}/items/2?page=3"),
        )
    )
    world.serve("g-chunked", reply_with(200))
    world.suffixes["g-chunked"] = "g-chunked"
    chunked_backend = world.backends["g-chunked"]
    chunked = [
        ("chunk size zz", b"zz\r\n", False),
        ("chunk without its CRLF", b"4\r\nabcdXX", False),
        ("chunked body cut short", b"5\r\nab", True),
        ("chunk size line of 70 KB", b"1" * 70_000, False),
    ]
    for label, chunks, half_close in chunked:
        cases.append(
            GatewayCase(
                f"gateway: {label}",
                http_request(
                    "POST",
                    "/gateway/g-chunked/items/1",
                    headers=(("Content-Type", "text/plain"),),
                    chunked=chunks,
                ),
                gateway_error(400, "InvalidRequest", quiet=chunked_backend),
                half_close=half_close,
            )
        )
    overrides = (
        ("X-HTTP-Method-Override", "DELETE"),
        ("X-HTTP-Method", "PUT"),
        ("X-Method-Override", "PATCH"),
        ("Max-Forwards", "0"),
    )
    names = tuple(name for name, _ in overrides)
    for method, body in (("POST", b"{}"), ("GET", None)):
        slug = world.serve(f"g-override-{method.lower()}", reply_with(200, body=b"{}"))
        world.suffixes[slug] = slug
        path = f"/gateway/{slug}/items/1" + ("" if body else query)
        headers = (*overrides, ("Content-Type", "application/json")) if body else overrides
        cases.append(
            GatewayCase(
                f"gateway: {method} with method overrides and Max-Forwards: 0",
                http_request(method, path, headers=headers, body=body),
                forwarded_without(world.backends[slug], method, names),
            )
        )
    slug = world.serve("g-options", reply_with(200))
    world.suffixes[slug] = slug
    cases.append(
        GatewayCase(
            "gateway: OPTIONS with Max-Forwards: 0",
            http_request("OPTIONS", f"/gateway/{slug}/items/1", headers=(("Max-Forwards", "0"),)),
            gateway_error(405, "MethodNotAllowed", quiet=world.backends[slug]),
        )
    )
    return cases + demo_cases(world)


def demo_cases(world: World) -> list[GatewayCase]:
    """Numbers out of range for the sample backend, directly and through the gateway
    (the same process serves both); the Try it one is in demo_try_it_cases."""
    world.suffixes["demo"] = "demo"
    world.shapes["demo"] = (
        [
            ("jobs", "POST", f"{DEMO_SERVICE}/jobs?api-version={{v}}"),
            ("execute", "POST", f"{DEMO_SERVICE}/execute?api-version={{v}}"),
        ],
        ["Authorization"],
    )
    headers = (("Authorization", f"Bearer {DEMO_KEY}"), ("Content-Type", "application/json"))
    cases = []
    for number, operation in (("1e999", "jobs"), ("-1e999", "execute"), ("1E+400", "jobs")):
        body = (OUT_OF_RANGE % number).encode()
        path = f"{DEMO_SERVICE}/{operation}?api-version=2.0"
        check = demo_refusal("NumberOutOfRange", f"Inputs.input1.Values[0][0] is {number}")
        for where, prefix in (("sample backend", "/demo-backend"), ("gateway", "/gateway/demo")):
            cases.append(
                GatewayCase(
                    f"{where}: {number} in {operation}",
                    http_request("POST", prefix + path, headers=headers, body=body),
                    check,
                )
            )
    for constant in ("NaN", "-Infinity"):
        cases.append(
            GatewayCase(
                f"gateway: {constant} in jobs",
                http_request(
                    "POST",
                    f"/gateway/demo{DEMO_SERVICE}/jobs?api-version=2.0",
                    headers=headers,
                    body=(OUT_OF_RANGE % constant).encode(),
                ),
                demo_refusal("InvalidJson", f"{constant} is not allowed"),
            )
        )
    return cases


def demo_try_it_cases() -> list[Case]:
    form: list[tuple[str, FormValue]] = [
        ("param-template-v", "2.0"),
        ("header_name", "Authorization"),
        ("header_value", f"Bearer {DEMO_KEY}"),
        ("body", OUT_OF_RANGE % "1e999"),
    ]
    check = panel_refusal("Inputs.input1.Values[0][0] is 1e999")
    return [
        Case(f"Try it: 1e999 in {operation}", "demo", operation, list(form), check)
        for operation in ("jobs", "execute")
    ]


def raw_call(port: int, case: GatewayCase) -> Answer:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=ANSWER_TIMEOUT) as sock:
            sock.sendall(case.request)
            if case.half_close:
                sock.shutdown(socket.SHUT_WR)
            response = http.client.HTTPResponse(sock)
            response.begin()
            body = response.read()
            return Answer(response.status, body.decode(errors="replace"), response.getheaders())
    except (OSError, http.client.HTTPException):
        return Answer(None)


# --- The portal process -----------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def portal_env(workdir: Path, ca_bundle: Path) -> dict[str, str]:
    (workdir / "bench_settings.py").write_text(SETTINGS_SHIM.format(ca_bundle=str(ca_bundle)))
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PORTAL_"))}
    return {
        **inherited,
        **PORTAL_ENV,
        "DATABASE_URL": f"sqlite:///{workdir / 'portal.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "bench_settings",
        "PYTHONPATH": os.pathsep.join([str(workdir), str(REPO)]),
    }


def manage(env: dict[str, str], *args: str, extra_env: dict[str, str] | None = None) -> None:
    command = [sys.executable, str(REPO / "manage.py"), *args]
    done = subprocess.run(
        command, env={**env, **(extra_env or {})}, capture_output=True, text=True, timeout=120
    )
    if done.returncode != 0:
        raise SystemExit(f"manage.py {args[0]} failed:\n{done.stdout}\n{done.stderr}")


@contextlib.contextmanager
def portal(
    env: dict[str, str], workdir: Path, *, port: int | None = None, gunicorn: bool = False
) -> Iterator[tuple[str, int]]:
    """Run the portal (runserver, or gunicorn with one worker); yields its base URL and
    process id (gunicorn's master's)."""
    port = port or free_port()
    name = "gunicorn" if gunicorn else "portal"
    log = (workdir / f"{name}.log").open("w")
    if gunicorn:
        command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "portal.wsgi"]
        env = {
            **env,
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "GUNICORN_WORKERS": "1",
            "GUNICORN_THREADS": "4",
        }
    else:
        command = [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, process, workdir / f"{name}.log")
        yield base, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def wait_until_up(base: str, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(f"{base}/", timeout=2) as response,
        ):
            if response.status == 200:
                return
        time.sleep(0.2)
    log = log_path.read_text()[-3000:]
    raise SystemExit(f"the portal did not start:\n{log}")


# --- Memory of the portal process -------------------------------------------------------


def _status_kb(pid: int, key: str) -> int:
    status_text = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(rf"^{key}:\s+(\d+) kB", status_text, re.M).group(1))  # type: ignore[union-attr]


def reset_peak(pid: int) -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); False when not possible."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return _status_kb(pid, "VmHWM") <= _status_kb(pid, "VmRSS") + 1024


def measure_growth(pid: int, baseline_kb: int, action: Callable[[], object]) -> float:
    """Peak RSS of `pid` above `baseline_kb` while `action` runs, in MB.

    The baseline is the RSS of the warmed-up portal, not the RSS just before the case:
    memory an earlier case left resident (freed but kept by the allocator) then counts
    against this case instead of hiding its growth. VmHWM after a reset is the kernel's
    own peak; where it cannot be reset, VmRSS is sampled every 2 ms instead.
    """
    exact = reset_peak(pid)
    sampled = [_status_kb(pid, "VmRSS")]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.002):
            with contextlib.suppress(OSError, AttributeError):
                sampled.append(_status_kb(pid, "VmRSS"))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        action()
    finally:
        stop.set()
        sampler.join()
    peak = _status_kb(pid, "VmHWM") if exact else max(sampled)
    return max(0, peak - baseline_kb) / 1024


# --- A browser session on the portal -----------------------------------------------------


class Session:
    """Cookies and the CSRF token, as a browser keeps them."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.token = ""

    def open_operation(self, api: str, operation: str) -> None:
        with self.opener.open(f"{self.base}/apis/{api}/operations/{operation}/", timeout=10) as r:
            page = r.read().decode()
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if not found:
            raise SystemExit("no CSRF token on the operation page")
        self.token = found.group(1)

    def try_it(self, api: str, operation: str, form: list[tuple[str, FormValue]]) -> Answer:
        body = encode_form([("csrfmiddlewaretoken", self.token), *form])
        request = urllib.request.Request(
            f"{self.base}/apis/{api}/operations/{operation}/try",
            data=body,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "HX-Request": "true",
            },
        )
        try:
            with self.opener.open(request, timeout=ANSWER_TIMEOUT) as response:
                return Answer(response.status, response.read().decode(), response.getheaders())
        except urllib.error.HTTPError as failed:
            return Answer(
                failed.code, failed.read().decode(errors="replace"), failed.headers.items()
            )
        except (TimeoutError, urllib.error.URLError):
            return Answer(None)


def encode_form(pairs: list[tuple[str, FormValue]]) -> bytes:
    # Bytes values go out as they are, percent-encoded: a browser would not send them.
    return "&".join(
        f"{urllib.parse.quote_plus(name)}="
        + (
            urllib.parse.quote_from_bytes(value)
            if isinstance(value, bytes)
            else urllib.parse.quote_plus(value)
        )
        for name, value in pairs
    ).encode("ascii")


# --- The run -----------------------------------------------------------------------------


@dataclass
class Tally:
    tried: int = 0
    gateway: int = 0  # of which sent to the gateway portal (gunicorn)
    reached_other_host: list[str] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)
    no_answer: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    growth: dict[str, float] = field(default_factory=dict)


def run_gateway_case(port: int, world: World, case: GatewayCase, tally: Tally) -> None:
    decoys = (world.decoy.connections, world.other.connections)
    answer = raw_call(port, case)
    tally.tried += 1
    tally.gateway += 1
    if (world.decoy.connections, world.other.connections) != decoys:
        tally.reached_other_host.append(case.name)
    if answer.status is None:
        tally.no_answer.append(case.name)
    elif answer.status >= 500 and error_of(answer).get("code") not in GATEWAY_BACKEND_ERRORS:
        tally.server_errors.append(f"{case.name}: {answer.status}")
    elif problem := case.check(answer):
        tally.unexpected.append(f"{case.name}: {problem}")


def run_case(
    session: Session, world: World, portal_memory: tuple[int, int], case: Case, tally: Tally
) -> None:
    decoys = (world.decoy.connections, world.other.connections)
    holder: list[Answer] = []

    def send() -> None:
        holder.append(session.try_it(case.api, case.operation, case.form))

    if case.measure:
        tally.growth[case.name] = measure_growth(*portal_memory, send)
    else:
        send()
    answer = holder[0]
    tally.tried += 1
    if (world.decoy.connections, world.other.connections) != decoys:
        tally.reached_other_host.append(case.name)
    if answer.status is None:
        tally.no_answer.append(case.name)
    elif answer.status >= 500:
        tally.server_errors.append(f"{case.name}: {answer.status}")
    elif problem := case.check(answer):
        tally.unexpected.append(f"{case.name}: {problem}")


def report(tally: Tally, elapsed: float) -> bool:
    def line(label: str, found: list[str]) -> None:
        print(f"{label}: {len(found)} (goal 0)")
        for item in found:
            print(f"  - {item}")

    print(f"cases tried: {tally.tried} ({tally.gateway} of them on the gunicorn portal)")
    line("reached another host", tally.reached_other_host)
    line("5xx answers (the gateway's own 502 and 504 errors excepted)", tally.server_errors)
    line(f"no answer within {ANSWER_TIMEOUT:g} s", tally.no_answer)
    line("unexpected outcomes", tally.unexpected)
    for name, growth in tally.growth.items():
        print(f"memory growth, {name}: {growth:.1f} MB (goal < {GOAL_GROWTH_MB} MB)")
    print(f"time: {elapsed:.1f} s")
    failures = tally.reached_other_host + tally.server_errors + tally.no_answer + tally.unexpected
    over = [growth for growth in tally.growth.values() if growth >= GOAL_GROWTH_MB]
    return not failures and not over and len(tally.growth) == len(MEASURED)


def main() -> int:
    started = time.monotonic()
    with (
        tempfile.TemporaryDirectory(prefix="hostile-bench-") as tmp,
        contextlib.ExitStack() as stack,
    ):
        workdir = Path(tmp)
        ca = trustme.CA()
        ca_bundle = workdir / "ca.pem"
        ca.cert_pem.write_to_path(str(ca_bundle))
        world = World(
            stack=stack,
            ca=ca,
            decoy=stack.enter_context(scripted_server(reply_with(200, body=b"decoy"))),
            other=stack.enter_context(scripted_server(reply_with(200), host="127.0.0.2")),
            inputs=stack.enter_context(scripted_server(reply_with(200, body=b"{}"))),
        )
        gateway_port = free_port()
        world.apis["demo"] = f"http://127.0.0.1:{gateway_port}/demo-backend"
        cases = input_cases(world) + behaviour_cases(world) + demo_try_it_cases()
        calls = gateway_cases(world)
        env = portal_env(workdir, ca_bundle)
        manage(env, "migrate", "--noinput")
        manage(env, "shell", "-c", REGISTER, extra_env={"BENCH_APIS": registrations(world)})
        tally = Tally()
        with (
            portal(env, workdir) as (base, pid),
            portal(env, workdir, port=gateway_port, gunicorn=True),
        ):
            session = Session(base)
            session.open_operation("inputs", "get")
            # One ordinary call first: imports, templates and connections are set up once
            # and belong to the baseline, not to the first measured case.
            session.try_it("inputs", "get", [("param-template-item", "1")])
            portal_memory = (pid, _status_kb(pid, "VmRSS"))
            # The measured cases first, before the rest leaves memory resident.
            for case in sorted(cases, key=lambda case: not case.measure):
                run_case(session, world, portal_memory, case, tally)
            for call in calls:
                run_gateway_case(gateway_port, world, call, tally)
        tally.unexpected += stayed_inside(world)
    return 0 if report(tally, time.monotonic() - started) else 1


def registrations(world: World) -> str:
    operations = [
        ("get", "GET", "/items/{item}?api-version={v}&q={q}"),
        ("post", "POST", "/items/{item}"),
    ]
    return json.dumps(
        [
            {
                "slug": slug,
                "url": url,
                "operations": world.shapes.get(slug, (operations, []))[0],
                "headers": world.shapes.get(slug, (operations, []))[1],
                "suffix": world.suffixes.get(slug, ""),
            }
            for slug, url in world.apis.items()
        ]
    )


if __name__ == "__main__":
    sys.exit(main())
