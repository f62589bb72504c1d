"""What the production-profile benches share: the data stores, a portal under gunicorn,
loopback backends in a process of their own, load loops, and the report.

Each bench works in a temporary directory:

- database: PostgreSQL when DATABASE_URL names one (a temporary database is created
  beside it and dropped at the end, so the named database is never touched), else a
  SQLite file in the directory;
- cache: Redis when REDIS_URL is set (keys under a prefix of the bench's own), else
  Django's local memory;
- settings: a module written to the directory imports portal.settings and changes only
  ROOT_URLCONF (portal.urls plus /bench-minimal/, a view answering "ok", the yardstick
  for throughput), STATIC_ROOT (collectstatic runs into the directory) and the cache
  key prefix;
- the environment is the Makefile's SERVE_ENV (DEBUG off, gunicorn.conf.py, HTTPS-only
  settings relaxed for plain http on loopback) with the Try it rate limit off and any
  port allowed for the loopback backends.

    .venv/bin/python bench/common.py backend      serves the backend routes (see below)

Traffic stays on 127.0.0.1. Every wait has a deadline.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
MB = 1024 * 1024

SETTINGS_MODULE = """
from portal.settings import *  # noqa: F403

ROOT_URLCONF = "bench_urls"
STATIC_ROOT = {static_root!r}
if "KEY_PREFIX" not in CACHES["default"]:
    CACHES["default"]["KEY_PREFIX"] = {key_prefix!r}
"""

URLCONF_MODULE = """
from django.http import HttpResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt


def minimal(request):
    return HttpResponse("ok")


@csrf_exempt
def upload(request):
    # Django's own receiving of an upload (its handlers, a temporary file): the floor.
    return HttpResponse(str(sum(f.size for f in request.FILES.values())))


urlpatterns = [
    path("bench-minimal/", minimal),
    path("bench-upload/", upload),
    path("", include("portal.urls")),
]
"""


# --- The report ---------------------------------------------------------------------------


class Report:
    """Prints each figure as it is measured, next to its goal; remembers the misses."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.missed: list[str] = []
        print(f"== {title}", flush=True)

    def info(self, text: str) -> None:
        print(f"   {text}", flush=True)

    def figure(self, name: str, value: str, goal: str = "", ok: bool | None = None) -> None:
        """ok None: a figure without a goal, shown for comparison."""
        mark = {True: "ok", False: "MISSED", None: ""}[ok]
        goal_text = f"  (goal {goal})" if goal else ""
        print(f"   {name}: {value}{goal_text}  {mark}".rstrip(), flush=True)
        if ok is False:
            self.missed.append(name)

    def exit_code(self) -> int:
        if self.missed:
            print(f"== {self.title}: MISSED {len(self.missed)}: {', '.join(self.missed)}")
            return 1
        print(f"== {self.title}: every goal met")
        return 0


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (fraction 0.5 = median, 0.99 = p99)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
    return ordered[rank - 1]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def load_average() -> str:
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"


def time_limit(seconds: int) -> None:
    """Ends the bench (SIGALRM) if it runs longer than `seconds`."""

    def expired(*_: object) -> None:
        raise SystemExit(f"the bench ran past its limit of {seconds} s")

    signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)


# --- Data stores and settings ------------------------------------------------------------


@dataclass
class Workspace:
    directory: Path
    database_url: str
    redis_url: str
    stores: str  # what the output says about them

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of the production profile (the Makefile's SERVE_ENV)."""
        # GUNICORN_WORKERS, GUNICORN_THREADS and DATABASE_CONN_MAX_AGE come through, to
        # try other values; the portal's own settings do not.
        inherited = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DJANGO_", "PORTAL_"))
            and k not in {"DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY", "GUNICORN_BIND"}
        }
        return {
            **inherited,
            "DEBUG": "false",
            "SECRET_KEY": SECRET_KEY,
            # A developer's .env (what manage.py would read) is not the bench's profile.
            "PORTAL_ENV_FILE": "",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "false",
            "SESSION_COOKIE_SECURE": "false",
            "CSRF_COOKIE_SECURE": "false",
            "SECURE_HSTS_SECONDS": "0",
            "PORTAL_SITE_URL": "http://127.0.0.1",
            "PORTAL_OUTBOUND_ALLOWED_NETWORKS": "127.0.0.1/32",
            # The demo profile: the sample backend answers.
            "PORTAL_DEMO_BACKEND_ENABLED": "true",
            # The bench's backends listen on ports the system picks.
            "PORTAL_OUTBOUND_ALLOWED_PORTS": "*",
            # One client sends hundreds of calls a minute.
            "PORTAL_TRY_IT_RATE_LIMIT": "0",
            "DATABASE_URL": self.database_url,
            **({"REDIS_URL": self.redis_url} if self.redis_url else {}),
            "DJANGO_SETTINGS_MODULE": "bench_settings",
            "PYTHONPATH": os.pathsep.join([str(self.directory), str(REPO)]),
            **extra,
        }

    def setup_django(self, **extra: str) -> None:
        """Configure Django in this process, on the same stores as the portal."""
        os.environ.update(self.env(**extra))
        for path in (str(REPO), str(self.directory)):
            if path not in sys.path:
                sys.path.insert(0, path)
        import django

        django.setup()

    def manage(self, *args: str, timeout: float = 300, **extra: str) -> str:
        done = subprocess.run(
            [PYTHON, str(REPO / "manage.py"), *args],
            cwd=REPO,
            env=self.env(**extra),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode != 0:
            raise SystemExit(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout


SECRET_KEY = secrets.token_urlsafe(50)


@contextlib.contextmanager
def workspace(name: str) -> Iterator[Workspace]:
    """A temporary directory, database and settings module; migrated, static collected."""
    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as tmp:
        directory = Path(tmp)
        prefix = f"bench-{name}-{os.getpid()}"
        (directory / "bench_settings.py").write_text(
            SETTINGS_MODULE.format(static_root=str(directory / "static"), key_prefix=prefix)
        )
        (directory / "bench_urls.py").write_text(URLCONF_MODULE)
        redis_url = os.environ.get("REDIS_URL", "")
        cache = (
            f"Redis ({_safe_url(redis_url)}, key prefix {prefix})"
            if redis_url
            else ("local memory (REDIS_URL not set)")
        )
        with _database(directory, name) as (database_url, database):
            space = Workspace(directory, database_url, redis_url, f"{database}; cache: {cache}")
            print(f"   database: {database}; cache: {cache}", flush=True)
            space.manage("migrate", "--noinput", "-v0")
            space.manage("collectstatic", "--noinput", "-v0")
            yield space


def _safe_url(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


@contextlib.contextmanager
def _database(directory: Path, name: str) -> Iterator[tuple[str, str]]:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://", "pgsql://")):
        path = directory / "portal.sqlite3"
        why = "" if not url else f", DATABASE_URL is not PostgreSQL: {_safe_url(url)}"
        yield f"sqlite:///{path}", f"SQLite, temporary file (DATABASE_URL not set{why})"
        return
    import psycopg

    database = f"bench_{name.replace('-', '_')}_{os.getpid()}"
    parts = urllib.parse.urlsplit(url)
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
    try:
        yield (
            urllib.parse.urlunsplit(parts._replace(path=f"/{database}")),
            f"PostgreSQL, temporary database {database} beside {_safe_url(url)}",
        )
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


# --- The portal under gunicorn -----------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


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


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = (entry / "stat").read_text()
            if int(stat.rpartition(")")[2].split()[1]) == pid:
                found.append(int(entry.name))
    return sorted(found)


def status_kb(pid: int, key: str) -> int:
    text = Path(f"/proc/{pid}/status").read_text()
    found = re.search(rf"^{key}:\s+(\d+) kB", text, re.M)
    if not found:
        raise OSError(f"no {key} for {pid}")
    return int(found.group(1))


def reset_peak(pid: int) -> bool:
    """VmHWM back to the current RSS (Linux >= 4.0); False when not allowed."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return status_kb(pid, "VmHWM") <= status_kb(pid, "VmRSS") + 1024


def get(port: int, path: str, *, timeout: float = 30) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


# --- A browser on the portal -------------------------------------------------------------


class Browser:
    """One keep-alive connection with cookies and the CSRF token, as a browser has."""

    def __init__(self, port: int, *, timeout: float = 30) -> None:
        self.port = port
        self.timeout = timeout
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        self.cookies: dict[str, str] = {}
        self.token = ""

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict | None = None
    ) -> tuple[int, bytes]:
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (1, 2):
            try:
                self.connection.request(method, path, body=body, headers=headers)
                response = self.connection.getresponse()
                data = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server closed an idle keep-alive connection: reconnect once.
                self.connection.close()
                self.connection = http.client.HTTPConnection(
                    "127.0.0.1", self.port, timeout=self.timeout
                )
                if attempt == 2:
                    raise
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, data

    def open_operation(self, api: str, operation: str) -> None:
        status, page = self.request("GET", f"/apis/{api}/operations/{operation}/")
        found = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if status != 200 or not found:
            raise SystemExit(f"the operation page answered {status} without a CSRF token")
        self.token = found.group(1).decode()

    def try_it(
        self, api: str, operation: str, form: list[tuple[str, str]] | None = None
    ) -> tuple[int, bytes]:
        body = urllib.parse.urlencode([("csrfmiddlewaretoken", self.token), *(form or [])])
        return self.request(
            "POST",
            f"/apis/{api}/operations/{operation}/try",
            body=body.encode(),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "HX-Request": "true",
                "Referer": f"http://127.0.0.1:{self.port}/",
            },
        )

    def close(self) -> None:
        self.connection.close()


def shown_status(html: bytes) -> int | None:
    found = re.search(rb"data-status>(\d{3}) ", html)
    return int(found.group(1)) if found else None


def register(apis: list[dict]) -> None:
    """Create APIs and operations (Django set up in this process): each dict has slug,
    url and operations as (slug, method, template)."""
    from catalog.models import Api, Operation
    from catalog.registration import create_missing_template_parameters

    for spec in apis:
        api = Api.objects.create(name=spec["slug"], slug=spec["slug"], service_url=spec["url"])
        for slug, method, template in spec["operations"]:
            operation = Operation.objects.create(
                api=api, name=slug, slug=slug, method=method, url_template=template
            )
            create_missing_template_parameters(operation=operation)


# --- Backends in a process of their own --------------------------------------------------


def json_document(size: int, *, seed: int = 7) -> bytes:
    """A JSON response of at most `size` bytes, as an order API would answer: a list of
    orders with nested customers, items, addresses, dates, numbers, booleans, nulls, and
    some text outside ASCII, markup and quotes."""
    rng = random.Random(seed)
    names = ["Ada Lovelace", "Grace Hopper", "Émile Zola", "Zoë Saldaña", "Søren Kierkegaard"]
    products = ["Widget <large> & co", 'Gadget "pro"', "Cable 2 m", "Adapter USB-C → HDMI"]
    pieces: list[bytes] = []
    total = 2
    number = 0
    while True:
        items: list[dict[str, Any]] = [
            {
                "sku": f"SKU-{rng.randrange(10**5):05d}",
                "name": rng.choice(products),
                "quantity": rng.randrange(1, 5),
                "unit_price": round(rng.uniform(1, 200), 2),
            }
            for _ in range(rng.randrange(1, 4))
        ]
        order = {
            "id": f"ord_{number:07d}",
            "created_at": f"2024-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
            f"T{rng.randrange(24):02d}:{rng.randrange(60):02d}:00Z",
            "status": rng.choice(["pending", "paid", "shipped", "cancelled"]),
            "customer": {
                "id": rng.randrange(10**6),
                "name": rng.choice(names),
                "email": f"customer{number}@example.com",
                "vip": rng.random() < 0.1,
            },
            "items": items,
            "total": round(sum(i["quantity"] * i["unit_price"] for i in items), 2),
            "currency": "EUR",
            "notes": None if rng.random() < 0.7 else "Leave it at the door, please 🙂",
            "tags": rng.sample(["gift", "express", "fragile", "b2b"], rng.randrange(0, 3)),
            "shipping": {
                "address": f"{rng.randrange(1, 200)} Rue de la Paix, 75002 Paris",
                "carrier": rng.choice(["DHL", "UPS", "La Poste"]),
                "tracking": f"JD{rng.randrange(10**12):012d}SE",
            },
        }
        piece = json.dumps(order, ensure_ascii=False).encode()
        if total + len(piece) + 2 > size:
            break
        pieces.append(piece)
        total += len(piece) + 2
        number += 1
    return b"[" + b", ".join(pieces) + b"]"


class _BackendHandler(BaseHTTPRequestHandler):
    """PUT or POST /sink: the body's length and SHA-256. GET /fast: a small JSON answer at
    once. /slow?seconds=S: the same after S seconds.
    /stream?bytes=N: N bytes of text streamed in 64 KiB pieces. /json?bytes=N: the
    json_document of N bytes. HTTP/1.0: one request a connection, as the portal sends."""

    documents: dict[int, bytes] = {}
    lock = threading.Lock()

    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        params = dict(urllib.parse.parse_qsl(query))
        if path == "/slow":
            time.sleep(float(params.get("seconds", "1")))
        if path in {"/fast", "/slow"}:
            self._answer(b'{"status": "ok", "value": 42}', "application/json")
        elif path == "/stream":
            self._stream(int(params["bytes"]))
        elif path == "/json":
            size = int(params["bytes"])
            with self.lock:
                if size not in self.documents:
                    self.documents[size] = json_document(size)
            self._answer(self.documents[size], "application/json")
        else:
            self._answer(b"not found", "text/plain", status=404)

    def do_PUT(self) -> None:
        """/sink: reads the body in 64 KiB pieces and answers its length and SHA-256."""
        length = int(self.headers.get("Content-Length") or 0)
        digest = hashlib.sha256()
        left = length
        while left:
            piece = self.rfile.read(min(left, 64 * 1024))
            if not piece:
                break
            digest.update(piece)
            left -= len(piece)
        answer = {"bytes": length - left, "sha256": digest.hexdigest()}
        answer["chunked"] = "chunked" in (self.headers.get("Transfer-Encoding") or "")
        self._answer(json.dumps(answer).encode(), "application/json")

    do_POST = do_PUT

    def _answer(self, body: bytes, content_type: str, status: int = 200) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _stream(self, size: int) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        chunk = b"x" * (64 * 1024)
        sent = 0
        with contextlib.suppress(OSError):  # the portal hangs up at its cap
            while sent < size:
                piece = chunk[: size - sent]
                self.wfile.write(piece)
                sent += len(piece)

    def log_message(self, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # 64 connections at once must not wait for a SYN retry


def serve_backend() -> None:
    server = _Server(("127.0.0.1", 0), _BackendHandler)
    print(server.server_address[1], flush=True)
    # Ends when the bench closes our stdin (or dies).
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdin.read()
    server.shutdown()


@dataclass
class Backend:
    port: int
    process: subprocess.Popen

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def direct_call(port: int) -> float:
    """Seconds for one GET /fast straight to the backend on a new connection, as the
    portal opens one per call: the yardstick of the overhead benches."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", "/fast", headers={"Accept": "*/*"})
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise SystemExit(f"the backend answered {response.status}")
    finally:
        connection.close()
    return time.perf_counter() - started


@contextlib.contextmanager
def backend() -> Iterator[Backend]:
    """The backend routes served by another Python process on a loopback port."""
    process = subprocess.Popen(
        [PYTHON, str(Path(__file__).resolve()), "backend"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline() if process.stdout else ""
        if not line.strip().isdigit():
            raise SystemExit("the bench backend did not start")
        yield Backend(int(line), process)
    finally:
        if process.stdin:
            process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- Load ---------------------------------------------------------------------------------


@dataclass
class LoadResult:
    tool: str
    seconds: float
    requests: int
    errors: int  # non-2xx answers and socket errors
    latency_p50: float | None  # seconds
    latency_p99: float | None
    detail: str = ""
    by_path: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def ensure_wrk() -> str | None:
    """wrk, installed from Debian's packages when missing and this is root; None if not."""
    found = shutil.which("wrk")
    if found or os.geteuid() != 0 or not shutil.which("apt-get"):
        return found
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for commands in (
        [["apt-get", "install", "-y", "-qq", "wrk"]],
        [["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "wrk"]],
    ):
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            for command in commands:
                subprocess.run(command, env=env, check=True, capture_output=True, timeout=240)
            if found := shutil.which("wrk"):
                return found
    return None


_WRK_SCRIPT = """
local paths = {%s}
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1])
end
"""


def run_load(
    port: int, paths: list[str], *, seconds: float, concurrency: int, prefer_wrk: bool = True
) -> LoadResult:
    """GET `paths` in turn over `concurrency` keep-alive connections for `seconds`."""
    wrk = ensure_wrk() if prefer_wrk else None
    if wrk:
        return _wrk_load(wrk, port, paths, seconds=seconds, concurrency=concurrency)
    return _python_load(port, paths, seconds=seconds, concurrency=concurrency)


def _wrk_load(
    wrk: str, port: int, paths: list[str], *, seconds: float, concurrency: int
) -> LoadResult:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_WRK_SCRIPT % ", ".join(json.dumps(p) for p in paths))
    try:
        threads = max(1, min(concurrency, os.cpu_count() or 1))
        done = subprocess.run(
            [
                wrk,
                f"-t{threads}",
                f"-c{concurrency}",
                f"-d{max(1, round(seconds))}s",
                "--timeout",
                "10s",
                "--latency",
                "-s",
                script.name,
                f"http://127.0.0.1:{port}{paths[0]}",
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
        )
    finally:
        os.unlink(script.name)
    out = done.stdout
    if done.returncode != 0:
        raise SystemExit(f"wrk failed:\n{out}\n{done.stderr}")
    requests = int(re.search(r"(\d+) requests in ([\d.]+)(\w+)", out).group(1))  # type: ignore[union-attr]
    duration = re.search(r"requests in ([\d.]+)(ms|s|m)", out)
    factor = {"ms": 0.001, "s": 1.0, "m": 60.0}[duration.group(2)]  # type: ignore[union-attr]
    elapsed = float(duration.group(1)) * factor  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    errors = (int(non_2xx.group(1)) if non_2xx else 0) + (
        sum(int(n) for n in sockets.groups()) if sockets else 0
    )
    return LoadResult(
        tool="wrk",
        seconds=elapsed,
        requests=requests,
        errors=errors,
        latency_p50=_wrk_latency(out, "50%"),
        latency_p99=_wrk_latency(out, "99%"),
        detail=(sockets.group(0) if sockets else "no socket errors"),
    )


def _wrk_latency(out: str, label: str) -> float | None:
    found = re.search(rf"^\s+{re.escape(label)}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    if not found:
        return None
    return float(found.group(1)) * {"us": 1e-6, "ms": 1e-3, "s": 1.0}[found.group(2)]


def _python_load(port: int, paths: list[str], *, seconds: float, concurrency: int) -> LoadResult:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker(offset: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine: list[float] = []
        failed = 0
        index = offset
        while time.monotonic() < stop:
            path = paths[index % len(paths)]
            index += 1
            started = time.perf_counter()
            try:
                connection.request("GET", path)
                response = connection.getresponse()
                response.read()
                if not 200 <= response.status < 400:
                    failed += 1
                if response.will_close:
                    connection.close()
            except (OSError, http.client.HTTPException):
                failed += 1
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            mine.append(time.perf_counter() - started)
        connection.close()
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    started = time.monotonic()
    workers = [threading.Thread(target=worker, args=(n,)) for n in range(concurrency)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(seconds + 30)
    elapsed = time.monotonic() - started
    return LoadResult(
        tool=f"Python threads ({concurrency}, http.client keep-alive)",
        seconds=elapsed,
        requests=len(latencies),
        errors=errors[0],
        latency_p50=percentile(latencies, 0.5) if latencies else None,
        latency_p99=percentile(latencies, 0.99) if latencies else None,
    )


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process, from /proc; 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_until_idle(pids: list[int], *, seconds: float = 90) -> float:
    """Wait until these processes use less than 5% of a core (the requests a load run
    left queued are done); returns the seconds waited."""
    started = time.monotonic()
    before = sum(cpu_seconds(pid) for pid in pids)
    while time.monotonic() - started < seconds:
        time.sleep(0.5)
        now = sum(cpu_seconds(pid) for pid in pids)
        if now - before < 0.025:
            break
        before = now
    return time.monotonic() - started


if __name__ == "__main__":
    if sys.argv[1:] == ["backend"]:
        serve_backend()
    else:
        raise SystemExit(__doc__)
