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

from bench.hostile_cases import (  # noqa: E402
    DEMO_KEY,
    EMOJI_TEXT,
    GB_BODY,
    GZIP_BOMB,
    Answer,
    Case,
    FormValue,
    GatewayCase,
    World,
    behaviour_cases,
    demo_try_it_cases,
    error_of,
    gateway_cases,
    input_cases,
    stayed_inside,
)
from bench.processes import reset_peak, status_kb  # noqa: E402
from bench.report import Report  # noqa: E402
from bench.workspace import database, safe_url  # noqa: E402
from tests.backends import (  # noqa: E402
    MB,
    reply_with,
    scripted_server,
)
from tests.processes import free_port, stop  # noqa: E402

GOAL_GROWTH_MB = 50
REDIS = os.environ.get("REDIS_URL", "")
# The cases whose memory is measured, by name.
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
    "PORTAL_DEMO_API_KEY": DEMO_KEY,
    # The cases call the sample backend, directly, through the gateway and Try it.
    "PORTAL_DEMO_BACKEND_ENABLED": "true",
    "PORTAL_ENV_FILE": "",
    "LOG_LEVEL": "WARNING",
}


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

if REDIS_URL:  # the bench's own keys
    CACHES["default"]["KEY_PREFIX"] = {key_prefix!r}
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


# --- Sending -----------------------------------------------------------------------------


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


# --- The portal process ------------------------------------------------------------------


def portal_env(workdir: Path, ca_bundle: Path, *, database_url: str) -> dict[str, str]:
    (workdir / "bench_settings.py").write_text(
        SETTINGS_SHIM.format(ca_bundle=str(ca_bundle), key_prefix=f"bench-hostile-{os.getpid()}")
    )
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PORTAL_"))}
    return {
        **inherited,
        **PORTAL_ENV,
        "DATABASE_URL": database_url,
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
        stop(process)
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


# --- Memory of the portal process --------------------------------------------------------


def measure_growth(pid: int, baseline_kb: int, action: Callable[[], object]) -> float:
    """Peak RSS of `pid` above `baseline_kb` while `action` runs, in MB.

    The baseline is the RSS of the warmed-up portal, not the RSS just before the case:
    memory an earlier case left resident (freed but kept by the allocator) then counts
    against this case instead of hiding its growth. VmHWM after a reset is the kernel's
    own peak; where it cannot be reset, VmRSS is sampled every 2 ms instead.
    """
    exact = reset_peak(pid)
    sampled = [status_kb(pid, "VmRSS")]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.002):
            with contextlib.suppress(OSError, AttributeError):
                sampled.append(status_kb(pid, "VmRSS"))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        action()
    finally:
        stop.set()
        sampler.join()
    peak = status_kb(pid, "VmHWM") if exact else max(sampled)
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
    figures = Report("Hostile input (bench/hostile.py)")

    def line(label: str, found: list[str]) -> None:
        figures.figure(label, str(len(found)), "0", not found)
        for item in found:
            figures.info(f"  - {item}")

    figures.info(f"cases tried: {tally.tried} ({tally.gateway} of them on the gunicorn portal)")
    line("reached another host", tally.reached_other_host)
    line("5xx answers (the gateway's own 502 and 504 errors excepted)", tally.server_errors)
    line(f"no answer within {ANSWER_TIMEOUT:g} s", tally.no_answer)
    line("unexpected outcomes", tally.unexpected)
    for name in MEASURED:
        growth = tally.growth.get(name)
        figures.figure(
            f"memory growth, {name}",
            "not measured" if growth is None else f"{growth:.1f} MB",
            f"< {GOAL_GROWTH_MB} MB",
            growth is not None and growth < GOAL_GROWTH_MB,
        )
    figures.info(f"time: {elapsed:.1f} s")
    return figures.exit_code() == 0


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
        # PostgreSQL (a temporary database beside DATABASE_URL's) or a SQLite file; the
        # cache is REDIS_URL's when set.
        database_url, described = stack.enter_context(database(workdir, "hostile"))
        print(f"database: {described}; cache: {safe_url(REDIS) if REDIS else 'local memory'}")
        env = portal_env(workdir, ca_bundle, database_url=database_url)
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
            portal_memory = (pid, status_kb(pid, "VmRSS"))
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
