"""The hostile cases of bench/hostile.py, each with the answer it expects: hostile
backends (one scripted server per behaviour, in the bench's process), hostile form input
sent to Try it, and hostile calls to the gateway on raw sockets.
"""

from __future__ import annotations

import contextlib
import json
import re
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field

import trustme

from tests.backends import (
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
from tests.backends import Exchange as Backend

# The sample backend's key in the portals of the run (PORTAL_DEMO_API_KEY).
DEMO_KEY = "bench-demo-key"

# The cases whose memory is measured, by name.
GB_BODY = "1 GB body"


GZIP_BOMB = "gzip bomb (200 KB -> 200 MB)"


EMOJI_TEXT = "6 MB of text with one emoji"


# --- What a case is and what it answered -------------------------------------------------


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


# --- The hostile backends ----------------------------------------------------------------


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


# --- The hostile form input --------------------------------------------------------------


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
