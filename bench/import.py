"""Import a 10+ MB OpenAPI document of 1,000 operations, then time the pages it makes.

    .venv/bin/python bench/import.py [--operations 1000] [--tags 40] [--apis 200]
                                     [--requests 20] [--seed 0]

The document comes from tests/openapi_generator.py (deterministic, real-world shaped:
many tags, shared and recursive $refs, long Markdown, examples) and is written to a
temporary file. Two throw-away databases are migrated (PostgreSQL when DATABASE_URL names
one: temporary databases beside it, dropped at the end; else SQLite files; the cache is
REDIS_URL's when set), then the document is imported with `manage.py import_openapi`
(called in-process) in a fresh process, twice, each time into its own fresh database:
once for the time and the growth of the peak resident memory (ru_maxrss), once under
tracemalloc for the peak of Python allocations
(tracemalloc slows allocation down, so that run is not timed). Then, with `--apis` APIs
in the catalog (the imported one and small ones), this process measures each page with
Django's test Client (DEBUG off): its SQL queries (CaptureQueriesContext) and its server
time, the median (p50) of `--requests` requests after one warm-up request.

Goals: import <= 15 s and <= 600 MB (both measures); every page <= 10 queries and a p50
under 300 ms. Each figure is printed next to its goal; the exit status is 1 when one is
missed. No network: the processes' name lookups and connections are refused (and
counted), but for the database's and Redis' own addresses; the document's server,
api.example.com, is never resolved.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import Report  # noqa: E402
from bench.workspace import database, safe_url  # noqa: E402

REDIS = os.environ.get("REDIS_URL", "")
# Everything is bounded: a hung import or page must not hold a CI machine.
TIME_LIMIT_SECONDS = 600
CHILD_TIME_LIMIT_SECONDS = 240
GOAL_IMPORT_SECONDS = 15.0
GOAL_IMPORT_MB = 600.0
GOAL_QUERIES = 10
GOAL_PAGE_MS = 300.0
GOAL_DOCUMENT_BYTES = 10_000_000
API_SLUG = "bench-big"


def bench_env(*, database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DEBUG": "false",
        "SECRET_KEY": "bench",
        "ALLOWED_HOSTS": "testserver",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "WARNING",
    }


def _stores() -> set[tuple[str, int]]:
    """The host and port of the database and of Redis, which the bench may reach."""
    stores = set()
    for name, port in (("DATABASE_URL", 5432), ("REDIS_URL", 6379)):
        parts = urllib.parse.urlsplit(os.environ.get(name, ""))
        if parts.hostname and parts.scheme != "sqlite":
            stores.add((parts.hostname, parts.port or port))
    return stores


def refuse_network() -> list[str]:
    """Name lookups and connections raise, but for the stores' own addresses; what was
    attempted is listed."""
    attempts: list[str] = []
    stores = _stores()
    real_getaddrinfo, real_create_connection = socket.getaddrinfo, socket.create_connection

    def getaddrinfo(host, port=None, *args, **kwargs):
        if (host, int(port or 0)) in stores:
            return real_getaddrinfo(host, port, *args, **kwargs)
        attempts.append(f"lookup {host!r}")
        raise socket.gaierror(socket.EAI_NONAME, "the bench makes no lookups")

    def create_connection(address, *args, **kwargs):
        if (address[0], int(address[1])) in stores:
            return real_create_connection(address, *args, **kwargs)
        attempts.append(f"connect {address!r}")
        raise OSError("the bench makes no connections")

    socket.getaddrinfo = getaddrinfo
    socket.create_connection = create_connection
    return attempts


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- the import, in a fresh process ----------------------------------------------------


def child_import(document_path: Path, *, trace: bool) -> dict:
    """Runs in a child process: import the document, report time and memory as JSON."""
    import io
    import tracemalloc

    import django

    django.setup()
    from django.core.management import call_command

    import openapi.documents
    import openapi.sync  # noqa: F401 - both loaded before the baseline, like a server would
    from catalog.models import Operation

    attempts = refuse_network()
    rss_before = peak_rss_mb()
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    output = io.StringIO()
    call_command("import_openapi", str(document_path), api_slug=API_SLUG, stdout=output)
    elapsed = time.perf_counter() - started
    traced_peak = tracemalloc.get_traced_memory()[1] / 2**20 if trace else None
    return {
        "seconds": elapsed,
        "rss_before_mb": rss_before,
        "rss_growth_mb": peak_rss_mb() - rss_before,
        "traced_peak_mb": traced_peak,
        "headline": output.getvalue().splitlines()[0],
        "operations": Operation.objects.filter(api__slug=API_SLUG).count(),
        "network_attempts": attempts,
    }


def run_child(document_path: Path, *, database_url: str, trace: bool) -> dict:
    command = [sys.executable, __file__, "--child-import", str(document_path)]
    if trace:
        command.append("--trace")
    done = subprocess.run(
        command,
        cwd=ROOT,
        env=bench_env(database_url=database_url),
        capture_output=True,
        text=True,
        timeout=CHILD_TIME_LIMIT_SECONDS,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"the import failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- the pages, in this process --------------------------------------------------------


def add_small_apis(count: int, *, description: str) -> None:
    """Small APIs with the big one's long Markdown description: the catalog's worst case."""
    from catalog.models import Api, Operation

    apis = Api.objects.bulk_create(
        Api(
            name=f"Bench API {n:03d}",
            slug=f"bench-{n:03d}",
            service_url="https://api.example.com",
            description=f"Small API number {n}. {description}",
            version="1.0",
        )
        for n in range(count)
    )
    Operation.objects.bulk_create(
        Operation(api=api, name=f"Operation {k}", slug=f"op-{k}", url_template=f"/op/{k}", order=k)
        for api in apis
        for k in range(5)
    )


def heaviest_operation_url() -> str:
    """The operation page with the most documentation: the worst case of that page."""
    from django.db.models import Sum
    from django.db.models.functions import Length

    from catalog.models import Operation

    operation = (
        Operation.objects.filter(api__slug=API_SLUG)
        .annotate(size=Sum(Length("responses__example")))
        .order_by("-size", "order")
        .select_related("api")
        .first()
    )
    return operation.get_absolute_url()


def measure_page(client, url: str, *, requests: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    response = client.get(url)  # warm-up: templates compiled, connections open
    if response.status_code != 200:
        raise SystemExit(f"{url} answered {response.status_code}")
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    # Counted now: every request starts by clearing the connection's query log.
    queries = len(captured.captured_queries)
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
    return {
        "queries": queries,
        "p50_ms": statistics.median(times),
        "max_ms": max(times),
        "kb": len(response.content) / 1024,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--operations", type=int, default=1000)
    parser.add_argument("--tags", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--apis", type=int, default=200, help="APIs in the catalog, in all")
    parser.add_argument("--requests", type=int, default=20, help="timed requests per page")
    parser.add_argument("--child-import", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child_import:
        print(json.dumps(child_import(options.child_import, trace=options.trace)))
        return 0

    signal.alarm(TIME_LIMIT_SECONDS)
    report = Report("Import (bench/import.py)")
    from tests.openapi_generator import generate_document

    with (
        tempfile.TemporaryDirectory(prefix="bench-import-") as directory,
        contextlib.ExitStack() as stores,
    ):
        workdir = Path(directory)
        (workdir / "traced").mkdir()
        started = time.perf_counter()
        document = generate_document(
            operations=options.operations, tags=options.tags, seed=options.seed
        )
        text = json.dumps(document)
        generated = time.perf_counter() - started
        document_path = workdir / "openapi.json"
        document_path.write_text(text, encoding="utf-8")
        size = len(text)
        del document, text

        database_url, described = stores.enter_context(database(workdir, "import"))
        traced_url, _ = stores.enter_context(database(workdir / "traced", "import_traced"))
        print(f"database: {described}; cache: {safe_url(REDIS) if REDIS else 'local memory'}")
        migrated = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
            cwd=ROOT,
            env=bench_env(database_url=traced_url),
            capture_output=True,
            text=True,
            timeout=CHILD_TIME_LIMIT_SECONDS,
        )
        if migrated.returncode != 0:
            raise SystemExit(f"migrate failed:\n{migrated.stdout}\n{migrated.stderr}")
        os.environ.update(bench_env(database_url=database_url))
        warnings.filterwarnings("ignore", message="No directory at")
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connections

        call_command("migrate", verbosity=0)
        connections.close_all()

        print(
            f"document: {options.operations} operations, {options.tags} tags, "
            f"{size / 1e6:.1f} MB of JSON (generated in {generated:.1f} s)"
        )
        report.figure(
            "document size",
            f"{size / 1e6:.2f} MB",
            f">= {GOAL_DOCUMENT_BYTES / 1e6:.0f} MB",
            ok=size >= GOAL_DOCUMENT_BYTES or options.operations < 1000,
        )
        timed = run_child(document_path, database_url=database_url, trace=False)
        traced = run_child(document_path, database_url=traced_url, trace=True)
        print(f"import: {timed['headline']}")
        report.figure(
            "operations imported",
            str(timed["operations"]),
            str(options.operations),
            ok=timed["operations"] == options.operations,
        )
        report.figure(
            "import time",
            f"{timed['seconds']:.2f} s",
            f"<= {GOAL_IMPORT_SECONDS:.0f} s",
            ok=timed["seconds"] <= GOAL_IMPORT_SECONDS,
        )
        report.figure(
            "import peak RSS growth (ru_maxrss)",
            f"{timed['rss_growth_mb']:.0f} MB",
            f"<= {GOAL_IMPORT_MB:.0f} MB",
            ok=timed["rss_growth_mb"] <= GOAL_IMPORT_MB,
        )
        report.figure(
            "import tracemalloc peak",
            f"{traced['traced_peak_mb']:.0f} MB",
            f"<= {GOAL_IMPORT_MB:.0f} MB",
            ok=traced["traced_peak_mb"] <= GOAL_IMPORT_MB,
        )
        print(f"  (process RSS before the import: {timed['rss_before_mb']:.0f} MB)")
        attempts = timed["network_attempts"] + traced["network_attempts"]
        report.figure("import network attempts", str(len(attempts)), "0", ok=not attempts)

        from django.test import Client, override_settings

        from catalog.models import Api

        add_small_apis(
            max(options.apis - 1, 0), description=Api.objects.get(slug=API_SLUG).description
        )
        attempts = refuse_network()
        pages = {
            f"catalog ({options.apis} APIs)": "/",
            "catalog, search": "/?q=account",
            "API page 1": f"/apis/{API_SLUG}/",
            "API page 7": f"/apis/{API_SLUG}/?page=7",
            "API page, search": f"/apis/{API_SLUG}/?q=account",
            "operation page (largest docs)": heaviest_operation_url(),
        }
        print(f"pages: p50 of {options.requests} requests each, DEBUG off, test Client")
        plain_static = {
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
        with override_settings(STORAGES=plain_static):  # no collectstatic for a bench run
            client = Client()
            for label, url in pages.items():
                figures = measure_page(client, url, requests=options.requests)
                report.figure(
                    f"{label}: queries",
                    str(figures["queries"]),
                    f"<= {GOAL_QUERIES}",
                    ok=figures["queries"] <= GOAL_QUERIES,
                )
                report.figure(
                    f"{label}: p50",
                    f"{figures['p50_ms']:.0f} ms",
                    f"< {GOAL_PAGE_MS:.0f} ms",
                    ok=figures["p50_ms"] < GOAL_PAGE_MS,
                )
                print(f"    {url}  max {figures['max_ms']:.0f} ms, {figures['kb']:.0f} KB of HTML")
        report.figure("pages network attempts", str(len(attempts)), "0", ok=not attempts)

    return report.exit_code()


if __name__ == "__main__":
    sys.exit(main())
