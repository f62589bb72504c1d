"""The gateway: its overhead, its throughput and the accuracy of its rate limit.

    .venv/bin/python bench/gateway.py [--calls 300] [--seconds 10] [--concurrency 16]
                                      [--clients 32] [--limit 200]

Starts the production profile (gunicorn -c gunicorn.conf.py portal.wsgi, DEBUG off;
PostgreSQL and Redis when DATABASE_URL and REDIS_URL are set, else a temporary SQLite
file) and a small JSON backend in a process of its own, both on loopback. The workers
must share their counters: without REDIS_URL the bench starts a redis-server of its own
(Debian's package), and without one it runs a single worker. Three parts:

1. Overhead: each of --calls rounds (after 30 to warm up) sends a direct GET to the
   backend (http.client, a new connection, as the gateway opens one per call) and the
   same call through /gateway/ with a subscription key (a keep-alive connection, as an
   API client keeps one); the overhead of a round is the difference. Goal: p50 at most
   5 ms. The key check, the limits, the forwarding and the record of the call are all
   in it (the product has a rate limit and a quota too large to be reached).
2. Throughput: --concurrency keep-alive connections call through the gateway for
   --seconds (wrk, or Python threads where there is none), then the same against
   /bench-minimal/ (a view answering "ok") as the yardstick. Goal: no error.
3. The limit's accuracy: --clients threads, each with its connection, call at the same
   moment through a product limited to --limit calls per 60 s until each has sent
   2 x limit / clients calls. Goal: admitted at most limit + 1 %.

4. With --planes, the data plane on nginx (bench/dataplane.py): nginx alone with
   proxy_pass, the data plane and the in-process gateway on the same backend, wrk at
   concurrency 1 and 16 on each, --runs rounds, medians. Goals: the data plane adds at
   most 1 ms at p50 and 5 ms at p99 to nginx alone, and serves at least half its calls
   per second at concurrency 16. Then two data-plane nodes (two nginx processes) sharing
   Redis take --clients clients at once, alternately on each, through a product limited
   to --limit calls per 60 s. Goal: admitted at most limit + 1 %.

Exits 1 when a goal is missed.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.gunicorn_portal import gunicorn
from bench.load_generators import run_load
from bench.loopback_backend import backend, direct_call
from bench.report import Report, load_average, ms, percentile, time_limit
from bench.workspace import workspace
from tests.processes import free_port

GOAL_P50 = 0.005
WARM_UP = 30
KEY_HEADER = "Ocp-Apim-Subscription-Key"
PLENTY = 1_000_000_000


@contextlib.contextmanager
def shared_counters() -> Iterator[str]:
    """REDIS_URL as given, else a redis-server of the bench's own; "" when there is none."""
    if os.environ.get("REDIS_URL"):
        yield "Redis from REDIS_URL"
        return
    server = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not os.path.exists(server):
        yield ""
        return
    port = free_port()
    process = subprocess.Popen(
        [server, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.environ["REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + 10
        while (
            subprocess.run(
                ["redis-cli", "-p", str(port), "ping"], capture_output=True, check=False
            ).stdout.strip()
            != b"PONG"
        ):
            if time.monotonic() > deadline:
                raise SystemExit("the bench's redis-server did not start")
            time.sleep(0.1)
        yield f"a redis-server of the bench's own on port {port}"
    finally:
        del os.environ["REDIS_URL"]
        process.terminate()
        process.wait(timeout=10)


def register_keyed_api(backend_url: str, *, limit: int) -> tuple[str, str]:
    """The backend as an API in two products; returns a key of each: (unlimited, limited)."""
    from django.contrib.auth import get_user_model

    from catalog.models import Api, Operation
    from gateway.models import Product, QuotaPeriod, Subscription, SubscriptionState

    api = Api.objects.create(name="Fast", slug="fast", service_url=backend_url, url_suffix="fast")
    Operation.objects.create(api=api, name="Get", slug="get", method="GET", url_template="/fast")
    owner = get_user_model().objects.create(username="bench")
    keys = []
    for slug, rate, quota in (("plenty", PLENTY, PLENTY), ("limited", limit, 0)):
        product = Product.objects.create(
            name=slug,
            slug=slug,
            rate_limit_calls=rate,
            rate_limit_period_seconds=60,
            quota_calls=quota,
            quota_period_seconds=QuotaPeriod.MONTH,
        )
        product.apis.add(api)
        subscription = Subscription.objects.create(
            user=owner, product=product, name=slug, state=SubscriptionState.ACTIVE
        )
        keys.append(subscription.key("primary"))
    return keys[0], keys[1]


class Client:
    """One keep-alive connection to the portal, as an API client keeps one."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def call(self, key: str) -> int:
        for attempt in (1, 2):
            try:
                self.connection.request(
                    "GET", "/gateway/fast/fast", headers={KEY_HEADER: key, "Accept": "*/*"}
                )
                response = self.connection.getresponse()
                response.read()
                return response.status
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server closed an idle keep-alive connection: reconnect once.
                self.connection.close()
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.connection.close()


def gateway_call(client: Client, key: str) -> float:
    started = time.perf_counter()
    status = client.call(key)
    elapsed = time.perf_counter() - started
    if status != 200:
        raise SystemExit(f"the gateway answered {status}")
    return elapsed


def limit_burst(port: int, key: str, *, clients: int, per_client: int) -> list[int]:
    barrier = threading.Barrier(clients)
    statuses: list[int] = []
    lock = threading.Lock()

    def client() -> None:
        connection = Client(port)
        barrier.wait()
        mine = [connection.call(key) for _ in range(per_client)]
        connection.close()
        with lock:
            statuses.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return statuses


def register_limited(*, slug: str, limit: int) -> str:
    """Another product limited to `limit` calls per 60 s on the bench's API: its key."""
    from django.contrib.auth import get_user_model

    from catalog.models import Api
    from gateway.models import Product, Subscription, SubscriptionState

    product = Product.objects.create(
        name=slug, slug=slug, rate_limit_calls=limit, rate_limit_period_seconds=60
    )
    product.apis.add(Api.objects.get(slug="fast"))
    subscription = Subscription.objects.create(
        user=get_user_model().objects.get(username="bench"),
        product=product,
        name=slug,
        state=SubscriptionState.ACTIVE,
    )
    return subscription.key("primary")


def compare_planes(
    options: argparse.Namespace, directory: Path, backend_port: int, portal_port: int
) -> dict:
    """Part 4: the figures of bench/dataplane.py."""
    from bench import dataplane

    nodes_key = register_limited(slug="limited-nodes", limit=options.limit)
    plenty = subscription_key(slug="plenty")
    redis_url = os.environ["REDIS_URL"]
    workers = options.nginx_workers
    with contextlib.ExitStack() as stack:
        suffix = "fast"
        if options.plane_backend == "nginx":
            backend_port = stack.enter_context(dataplane.static_backend(directory / "static"))
            suffix = "fastx"
            register_second_api(f"http://127.0.0.1:{backend_port}", suffix=suffix)
        return _compare(options, directory, backend_port, portal_port, suffix=suffix,
                        keys=(plenty, nodes_key), redis_url=redis_url, workers=workers)  # fmt: skip


def register_second_api(url: str, *, suffix: str) -> None:
    """The bench's API again on another backend, in the same products."""
    from catalog.models import Api, Operation
    from gateway.models import Product

    api = Api.objects.create(name=suffix, slug=suffix, service_url=url, url_suffix=suffix)
    Operation.objects.create(api=api, name="Get", slug="get", method="GET", url_template="/fast")
    for product in Product.objects.all():
        product.apis.add(api)


def _compare(
    options: argparse.Namespace,
    directory: Path,
    backend_port: int,
    portal_port: int,
    *,
    suffix: str,
    keys: tuple[str, str],
    redis_url: str,
    workers: int,
) -> dict:
    from bench import dataplane

    plenty, nodes_key = keys
    path = f"/gateway/{suffix}/fast?subscription-key={plenty}"
    with (
        dataplane.proxy_nginx(
            directory / "proxy", backend_port=backend_port, workers=workers
        ) as proxy,
        dataplane.dataplane_nginx(directory / "node1", redis_url=redis_url, workers=workers) as one,
        dataplane.dataplane_nginx(directory / "node2", redis_url=redis_url, workers=workers) as two,
    ):
        for port, warm in ((proxy, "/fast"), (one, path), (two, path)):
            run_load(port, [warm], seconds=1, concurrency=4)
        figures = dataplane.measure(
            {
                "nginx proxy_pass": (proxy, "/fast"),
                "data plane": (one, path),
                "in-process gateway": (portal_port, path),
            },
            runs=options.runs,
            seconds=options.plane_seconds,
            concurrencies=[1, options.concurrency],
        )
        statuses = dataplane.two_node_burst(
            [one, two],
            nodes_key,
            path=f"/gateway/{suffix}/fast",
            clients=options.clients,
            per_client=max(1, 2 * options.limit // options.clients),
        )
    return {"figures": figures, "statuses": statuses, "backend": options.plane_backend}


def subscription_key(*, slug: str) -> str:
    from gateway.models import Subscription

    return Subscription.objects.get(product__slug=slug).key("primary")


def report_planes(report: Report, options: argparse.Namespace, planes: dict) -> None:
    figures = planes["figures"]
    report.info(
        f"data plane: {options.runs} rounds of {options.plane_seconds:g} s per plane and "
        f"concurrency, nginx {options.nginx_workers} worker(s) each, backend "
        f"{planes['backend']}; medians; load {load_average()}"
    )
    for concurrency in (1, options.concurrency):
        base = figures[("nginx proxy_pass", concurrency)]
        for name in ("nginx proxy_pass", "data plane", "in-process gateway"):
            one = figures[(name, concurrency)]
            report.figure(
                f"c={concurrency} {name}",
                f"{one.median_rate:,.0f}/s, p50 {ms(one.median_p50)}, p99 {ms(one.median_p99)}"
                f" ({one.errors} errors)",
            )
        plane = figures[("data plane", concurrency)]
        added_p50 = plane.median_p50 - base.median_p50
        added_p99 = plane.median_p99 - base.median_p99
        report.figure(f"c={concurrency} data plane added p50", ms(added_p50), "<= 1 ms",
                      added_p50 <= 0.001)  # fmt: skip
        report.figure(f"c={concurrency} data plane added p99", ms(added_p99), "<= 5 ms",
                      added_p99 <= 0.005)  # fmt: skip
        report.figure(f"c={concurrency} data plane errors", str(plane.errors), "0",
                      plane.errors == 0)  # fmt: skip
    c = options.concurrency
    share = figures[("data plane", c)].median_rate / figures[("nginx proxy_pass", c)].median_rate
    report.figure(f"c={c} data plane / nginx proxy_pass", f"{share:.0%}", ">= 50 %", share >= 0.5)
    statuses = planes["statuses"]
    admitted, refused = statuses.count(200), statuses.count(429)
    others = len(statuses) - admitted - refused
    allowed = options.limit * 1.01
    report.figure(
        f"two data-plane nodes, limit {options.limit} per 60 s, {options.clients} clients",
        f"{admitted} admitted, {refused} refused (429) of {len(statuses)} sent"
        + (f", {others} other answers" if others else ""),
        f"<= {allowed:g} admitted, nothing else",
        admitted <= allowed and others == 0,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--limit", type=int, default=200)
    parser.add_argument("--planes", action="store_true", help="the nginx data plane too")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--plane-seconds", type=float, default=5)
    parser.add_argument("--nginx-workers", type=int, default=1)
    parser.add_argument(
        "--plane-backend",
        choices=["nginx", "python"],
        default="nginx",
        help="behind the planes: nginx answering a small JSON, or the Python backend",
    )
    options = parser.parse_args()
    plane_time = 6 * options.runs * (options.plane_seconds + 2) if options.planes else 0
    time_limit(int(2 * options.seconds + plane_time) + 300)
    report = Report("Gateway (bench/gateway.py)")
    with shared_counters() as counters:
        extra = {} if counters else {"GUNICORN_WORKERS": "1"}
        with workspace("gateway") as space, backend() as server:
            space.setup_django(**extra)
            plenty_key, limited_key = register_keyed_api(server.url, limit=options.limit)
            with gunicorn(space, **extra) as portal:
                report.info(
                    f"gunicorn {portal.workers} workers x {portal.threads} threads; counters: "
                    f"{counters or 'local memory, so a single worker'}; backend: small JSON "
                    f"on 127.0.0.1:{server.port} (another process)"
                )
                client = Client(portal.port)
                for _ in range(WARM_UP):
                    direct_call(server.port)
                    gateway_call(client, plenty_key)
                direct, through, overhead = [], [], []
                for _ in range(options.calls):
                    one = direct_call(server.port)
                    two = gateway_call(client, plenty_key)
                    direct.append(one)
                    through.append(two)
                    overhead.append(two - one)
                client.close()

                path = f"/gateway/fast/fast?subscription-key={plenty_key}"
                load = run_load(
                    portal.port, [path], seconds=options.seconds, concurrency=options.concurrency
                )
                minimal = run_load(
                    portal.port,
                    ["/bench-minimal/"],
                    seconds=options.seconds,
                    concurrency=options.concurrency,
                )

                per_client = max(1, 2 * options.limit // options.clients)
                statuses = limit_burst(
                    portal.port, limited_key, clients=options.clients, per_client=per_client
                )
                if options.planes and counters:
                    planes = compare_planes(options, space.directory, server.port, portal.port)
                log_errors = [
                    line
                    for line in portal.log.read_text(errors="replace").splitlines()
                    if "[ERROR]" in line or "Traceback" in line
                ]

    report.info(f"{options.calls} rounds after {WARM_UP} to warm up; load {load_average()}")
    report.figure(
        "direct call p50 / p99", f"{ms(percentile(direct, 0.5))} / {ms(percentile(direct, 0.99))}"
    )
    report.figure(
        "through the gateway p50 / p99",
        f"{ms(percentile(through, 0.5))} / {ms(percentile(through, 0.99))}",
    )
    p50, p99 = percentile(overhead, 0.5), percentile(overhead, 0.99)
    report.figure("overhead p50", ms(p50), f"<= {ms(GOAL_P50)}", p50 <= GOAL_P50)
    report.figure("overhead p99", ms(p99))
    report.figure(
        f"gateway calls per second at concurrency {options.concurrency}",
        f"{load.rate:,.1f} ({load.requests:,} in {load.seconds:.1f} s, {load.tool}; latency "
        f"p50 {ms(load.latency_p50 or 0)}, p99 {ms(load.latency_p99 or 0)}; "
        f"minimal view {minimal.rate:,.1f}/s)",
    )
    report.figure(
        "gateway errors under load",
        f"{load.errors} ({load.detail or 'none'})",
        "0",
        load.errors == 0,
    )
    admitted = statuses.count(200)
    refused = statuses.count(429)
    others = len(statuses) - admitted - refused
    allowed = options.limit * 1.01
    report.figure(
        f"limit {options.limit} per 60 s, {options.clients} clients at once",
        f"{admitted} admitted, {refused} refused (429) of {len(statuses)} sent"
        + (f", {others} other answers" if others else ""),
        f"<= {allowed:g} admitted, nothing else",
        admitted <= allowed and others == 0,
    )
    report.figure("errors in gunicorn's log", str(len(log_errors)), "0", not log_errors)
    if options.planes:
        if not counters:
            report.figure("data plane", "not measured: no Redis", "Redis", False)
        else:
            report_planes(report, options, planes)
    for line in log_errors[:5]:
        report.info(line)
    return report.exit_code()


if __name__ == "__main__":
    sys.exit(main())
