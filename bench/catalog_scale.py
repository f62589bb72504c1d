"""The reading pages at scale: SQL queries, server time and throughput with 1,000 APIs.

    .venv/bin/python bench/catalog_scale.py [--requests 30] [--seconds 5]

Loads 10 APIs of 20 operations each (3 parameters and 2 documented responses per
operation), counts the SQL queries of the catalog, an API page, an operation page and a
search, then grows the catalog to 1,000 APIs and 20,000 operations (bulk_create) and
measures again:

- SQL queries per page, at 10 and at 1,000 APIs: goal at most 10, and the same at both
  sizes (a count that grows with the catalog is an N+1);
- server time per page, the median of `--requests` requests (fewer when a page takes
  more than 10 s for them) through Django's test Client in this process (DEBUG off):
  goal at most 50 ms;
- throughput under the production profile (gunicorn -c gunicorn.conf.py portal.wsgi,
  collected static files), wrk (or Python threads) with 8 keep-alive connections for
  `--seconds` per page, as a fraction of a minimal Django view (`/bench-minimal/`,
  answering "ok", in the bench's own URLconf) under the same server: shown, no goal.

PostgreSQL and Redis when DATABASE_URL and REDIS_URL are set, else a temporary SQLite
file. Exits 1 when a goal is missed.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.gunicorn_portal import gunicorn
from bench.load_generators import run_load
from bench.processes import wait_until_idle
from bench.report import Report, load_average, ms, percentile, time_limit
from bench.workspace import workspace

GOAL_QUERIES = 10
GOAL_SERVER_TIME = 0.050
# Enough to keep 2 workers busy; a slow page leaves no more than this many queued.
CONNECTIONS = 8
# A slow page gets fewer requests, so that the bench stays bounded.
MAX_SECONDS_A_PAGE = 10
SMALL, LARGE, OPERATIONS_PER_API = 10, 1000, 20
DOMAINS = [
    "Payments",
    "Orders",
    "Inventory",
    "Shipping",
    "Customers",
    "Billing",
    "Catalog",
    "Search",
    "Analytics",
    "Notifications",
]
VERBS = [("GET", "List"), ("GET", "Get"), ("POST", "Create"), ("PUT", "Update")]
VERBS += [("DELETE", "Delete")]
NOUNS = ["order", "invoice", "customer", "payment"]
SEARCH = "refunds"  # in the names of 1 API in 97
DESCRIPTION = (
    "The **{name}** lets partners manage {domain} from their own systems.\n\n"
    "- pagination with `page` and `per_page`\n- webhooks for every change\n"
    "- sandbox at https://sandbox.example.com\n\nSee the [guide](https://example.com/{slug})."
)


def api_slug(number: int) -> str:
    return f"api-{number:04d}"


def load(first: int, last: int) -> None:
    """APIs first..last-1 with their operations, parameters and responses."""
    from catalog.models import Api, Operation, Parameter, ResponseDoc

    apis = []
    for number in range(first, last):
        domain = DOMAINS[number % len(DOMAINS)]
        name = f"{domain} API {number}" + (" (refunds)" if number % 97 == 0 else "")
        apis.append(
            Api(
                name=name,
                slug=api_slug(number),
                description=DESCRIPTION.format(
                    name=name, domain=domain.lower(), slug=api_slug(number)
                ),
                service_url=f"https://{domain.lower()}.example.com/v1",
                version="1.0",
            )
        )
    apis = Api.objects.bulk_create(apis, batch_size=500)
    operations = []
    for api in apis:
        for index in range(OPERATIONS_PER_API):
            method, verb = VERBS[index % len(VERBS)]
            noun = NOUNS[index // len(VERBS) % len(NOUNS)]
            operations.append(
                Operation(
                    api=api,
                    name=f"{verb} {noun}s" if verb == "List" else f"{verb} {noun} {index}",
                    slug=f"op-{index:03d}",
                    method=method,
                    url_template=f"/{noun}s/{{id}}?api-version={{version}}",
                    description=f"{verb} a {noun}. Needs the `{noun}.write` scope.",
                    order=index,
                    tags=noun,
                )
            )
    operations = Operation.objects.bulk_create(operations, batch_size=1000)
    parameters, responses = [], []
    for operation in operations:
        parameters += [
            Parameter(operation=operation, name="id", location="template", required=True),
            Parameter(operation=operation, name="version", location="template", default="2024"),
            Parameter(
                operation=operation,
                name="Ocp-Apim-Subscription-Key",
                location="header",
                secret=True,
            ),
        ]
        responses += [
            ResponseDoc(operation=operation, status_code=200, example='{"id": "x"}'),
            ResponseDoc(operation=operation, status_code=404, description="Not found"),
        ]
    Parameter.objects.bulk_create(parameters, batch_size=2000)
    ResponseDoc.objects.bulk_create(responses, batch_size=2000)


def pages() -> dict[str, str]:
    middle = api_slug(SMALL // 2)
    return {
        "catalog": "/",
        "API page": f"/apis/{middle}/",
        "operation page": f"/apis/{middle}/operations/op-010/",
        "search": f"/?q={SEARCH}",
    }


def count_queries(client) -> dict[str, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = {}
    for name, path in pages().items():
        client.get(path)  # caches (templates, content types) are not the page's queries
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path)
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}")
        counts[name] = len(captured.captured_queries)
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=5)
    options = parser.parse_args()
    time_limit(280)
    report = Report("Catalog at scale (bench/catalog_scale.py)")
    with workspace("catalog") as space:
        space.setup_django()
        from django.test import Client

        client = Client(HTTP_HOST="127.0.0.1")
        load(0, SMALL)
        small = count_queries(client)
        started = time.perf_counter()
        load(SMALL, LARGE)
        report.info(
            f"loaded {LARGE:,} APIs, {LARGE * OPERATIONS_PER_API:,} operations, "
            f"{LARGE * OPERATIONS_PER_API * 3:,} parameters, "
            f"{LARGE * OPERATIONS_PER_API * 2:,} responses in "
            f"{time.perf_counter() - started:.1f} s"
        )
        large = count_queries(client)
        for name in pages():
            report.figure(
                f"SQL queries, {name}",
                f"{small[name]} at {SMALL} APIs, {large[name]} at {LARGE:,}",
                f"<= {GOAL_QUERIES}, the same at both",
                max(small[name], large[name]) <= GOAL_QUERIES and small[name] == large[name],
            )
        for name, path in pages().items():
            times: list[float] = []
            size = 0
            deadline = time.monotonic() + MAX_SECONDS_A_PAGE
            while len(times) < options.requests and time.monotonic() < deadline:
                began = time.perf_counter()
                response = client.get(path)
                times.append(time.perf_counter() - began)
                size = len(response.content)
            p50 = percentile(times, 0.5)
            report.figure(
                f"server time, {name} at {LARGE:,} APIs (median of {len(times)})",
                f"{ms(p50)} (p90 {ms(percentile(times, 0.9))}, page {size / 1024:.0f} KB)",
                f"<= {ms(GOAL_SERVER_TIME)}",
                p50 <= GOAL_SERVER_TIME,
            )
        with gunicorn(space) as portal:
            report.info(
                f"throughput: gunicorn {portal.workers} workers x {portal.threads} threads, "
                f"{CONNECTIONS} connections, {options.seconds:g} s a page"
            )
            paths = {"minimal view": "/bench-minimal/", **pages()}
            rates = {}
            for name, path in paths.items():
                # The requests the previous page left queued are not this page's.
                wait_until_idle(portal.worker_pids())
                result = run_load(
                    portal.port, [path], seconds=options.seconds, concurrency=CONNECTIONS
                )
                rates[name] = result.rate
                if not result.requests:
                    report.figure(
                        f"throughput, {name}",
                        f"no answer within {options.seconds:g} s ({result.tool})",
                        ok=None if result.errors == 0 else False,
                    )
                    continue
                share = result.rate / rates["minimal view"]
                fraction = (
                    f", {share:.2%} of the minimal view"
                    if share < 0.01
                    else (f", {share:.1%} of the minimal view")
                )
                report.figure(
                    f"throughput, {name}",
                    f"{result.rate:,.1f} requests/s ({result.tool}, {result.errors} errors, "
                    f"p50 {ms(result.latency_p50 or 0)}"
                    + ("" if name == "minimal view" else fraction)
                    + ")",
                    ok=None if result.errors == 0 else False,
                )
            wait_until_idle(portal.worker_pids())
    report.info(f"load {load_average()}")
    return report.exit_code()


if __name__ == "__main__":
    sys.exit(main())
