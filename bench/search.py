"""The catalog's search at 20,000 operations: server time per query, and import time.

    .venv/bin/python bench/search.py [--apis 100] [--operations 200] [--requests 30]

Fills the catalog with `--apis` APIs of `--operations` operations each (20,000 by
default), stored from realistic generated documents (tests/openapi_generator.py: long
Markdown descriptions, tags, operationIds, parameters; ten seeds, so that a word is in
about a tenth of the APIs), then measures, through Django's test Client in this process
(DEBUG off), the median (p50) server time (and CPU time of the process: on SQLite the whole
request, whatever else the machine runs) of `--requests` requests of each of:

- the peers: a minimal Django view (`/bench-minimal/`) and the catalog page without a
  query (the page the search results replace);
- searches: an operationId, a path, a rare word, a common word, two words, a word no
  operation holds, and a query of punctuation only (what the process keeps of the short
  fields, on both).

Goal on both databases (their full-text indexes): each search's p50 at most 20 ms. Each
is shown with its ratio to the catalog page.
Then it imports a 470-operation document (`import_openapi`, `--imports` times, the
median); again with the search index dropped (PostgreSQL: its column and index; SQLite:
its FTS5 table and triggers), to show what keeping it costs an import.

PostgreSQL when DATABASE_URL names one (a temporary database beside it), else a
temporary SQLite file. Exits 1 when a goal is missed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import Report, load_average, ms, percentile, time_limit
from bench.workspace import workspace

GOAL_SEARCH = 0.020
SEEDS = 10
IMPORT_OPERATIONS = 470


def fill(*, apis: int, operations: int) -> None:
    from tests.openapi_generator import bulk_create_api, generate_document

    documents = [
        generate_document(operations=operations, tags=20, seed=seed) for seed in range(SEEDS)
    ]
    for number in range(apis):
        bulk_create_api(
            document=documents[number % SEEDS], slug=f"api-{number:03d}", name=f"API {number}"
        )


def queries() -> dict[str, str]:
    """Searches taken from the data, so that each finds what its name says."""
    from catalog.models import Operation

    sample = Operation.objects.filter(api__slug="api-005").order_by("order")[30]
    words = Operation.objects.filter(api__slug="api-007").order_by("order")[40].name.split()
    return {
        "operationId": sample.operation_id,
        "path": sample.url_template,
        "rare word": max(words, key=len),
        "common word": "list",
        "two words": f"{words[0]} {words[-1]}",
        "no hit": "zqxjkvw",
        "punctuation only": "%_&|",
    }


def found(text: str) -> int:
    from django.contrib.auth.models import AnonymousUser

    from catalog.search import parse_query, search_operations

    return search_operations(user=AnonymousUser(), query=parse_query(raw=text)).count


def timed(client, path: str, *, requests: int) -> tuple[float, float, float]:
    """p50 and p90 of the server time, and p50 of this process's CPU time (on SQLite all
    the work; on a busy machine, what the request costs whatever else runs)."""
    client.get(path)  # warm-up: templates, caches
    times = []
    cpu = []
    for _ in range(requests):
        began, began_cpu = time.perf_counter(), time.process_time()
        response = client.get(path)
        times.append(time.perf_counter() - began)
        cpu.append(time.process_time() - began_cpu)
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}")
    return percentile(times, 0.5), percentile(times, 0.9), percentile(cpu, 0.5)


def import_times(*, count: int, prefix: str) -> list[float]:
    from openapi.sync import import_openapi
    from tests.openapi_generator import generate_document

    document = generate_document(operations=IMPORT_OPERATIONS, tags=20, seed=99)
    times = []
    for number in range(count):
        began = time.perf_counter()
        import_openapi(document=document, api_slug=f"{prefix}-{number}")
        times.append(time.perf_counter() - began)
    return times


def drop_search_index(*, postgresql: bool) -> None:
    from django.db import connection

    statements = (
        [
            "ALTER TABLE operations_operation DROP COLUMN search_vector, "
            "DROP COLUMN search_naming, DROP COLUMN search_tags",
        ]
        if postgresql
        else [
            f"DROP TRIGGER operations_operation_search_{event}"
            for event in ("insert", "update", "delete")
        ]
        + ["DROP TABLE operations_operation_search"]
    )
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apis", type=int, default=100)
    parser.add_argument("--operations", type=int, default=200)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--imports", type=int, default=3)
    options = parser.parse_args()
    time_limit(900)
    report = Report("Search at scale (bench/search.py)")
    with workspace("search") as space:
        space.setup_django()
        from django.db import connection
        from django.test import Client

        started = time.perf_counter()
        fill(apis=options.apis, operations=options.operations)
        total = options.apis * options.operations
        postgresql = connection.vendor == "postgresql"
        if postgresql:
            # What autovacuum does after a bulk load: the GIN index's pending list merged,
            # the statistics the planner needs.
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
        report.info(
            f"stored {options.apis} APIs, {total:,} operations in "
            f"{time.perf_counter() - started:.1f} s ({connection.vendor})"
        )
        client = Client(HTTP_HOST="127.0.0.1")
        minimal, _, _ = timed(client, "/bench-minimal/", requests=options.requests)
        catalog, _, _ = timed(client, "/", requests=options.requests)
        report.figure("server time, minimal view (p50)", ms(minimal))
        report.figure(
            "server time, catalog page without a query (p50)",
            f"{ms(catalog)} ({catalog / minimal:.1f}x the minimal view)",
        )
        for name, text in queries().items():
            p50, p90, cpu = timed(client, "/?" + urlencode({"q": text}), requests=options.requests)
            report.figure(
                f"search, {name} {text!r} at {total:,} operations (p50 of {options.requests})",
                f"{ms(p50)} (p90 {ms(p90)}, CPU {ms(cpu)}, {found(text):,} found, "
                f"{p50 / catalog:.1f}x the catalog page, {p50 / minimal:.0f}x the minimal view)",
                f"<= {ms(GOAL_SEARCH)}",
                p50 <= GOAL_SEARCH,
            )

        kept = statistics.median(import_times(count=options.imports, prefix="kept"))
        report.figure(
            f"import of {IMPORT_OPERATIONS} operations (median of {options.imports})",
            f"{kept:.2f} s",
        )
        drop_search_index(postgresql=postgresql)
        bare = statistics.median(import_times(count=options.imports, prefix="bare"))
        report.figure(
            f"import of {IMPORT_OPERATIONS} operations without the search index",
            f"{bare:.2f} s (with it: {kept / bare:.2f}x)",
        )
    report.info(f"load {load_average()}")
    return report.exit_code()


if __name__ == "__main__":
    sys.exit(main())
