"""gunicorn settings for the production profile, read from the environment.

Threaded workers: a Try it call waits on a backend for up to the outbound deadline,
and a thread waiting on a socket must not hold up the other visitors.
"""

import logging
import os
from pathlib import Path

from portal import gunicorn_workers

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# With REDIS_URL, 4 processes rather than 2: the threads of a process take turns on one
# interpreter lock, which hands over unfairly (a request that waits on a socket or its
# database now and then queues behind every busy thread of its process), while the
# kernel shares the cores between processes evenly. With 64 Try it calls sent at once
# on 2 cores (bench/concurrency.py, six alternating runs each) the catalog's p99 was
# 211-322 ms with 2 x 64, 125-202 ms with 4 x 32. Each keeps 64 threads all the same: a
# connection stays with the worker that accepted it, and connections do not spread
# evenly (26, 17, 12 and 9 of the bench's 64 in one run), so one worker must be able to
# hold every call in flight, as one of 2 x 64 could. Threads start only when needed. On
# PostgreSQL the threads of a process share a pool of DATABASE_POOL_MAX_SIZE
# connections (16), which a call waiting on its backend does not hold
# (httpcore/pipeline.py). Without REDIS_URL the limits are counted in each process's own
# memory: one worker, and more refused (portal/gunicorn_workers.py).
workers = gunicorn_workers.worker_count(environ=os.environ)
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "64"))
# Longer than PORTAL_OUTBOUND_DEADLINE (60 s by default), so a slow backend ends in
# the portal's own timeout panel, not in a killed worker.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "90"))
graceful_timeout = 30
keepalive = 5
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
# Every query value and the account links' tokens masked in the access and error logs.
logger_class = "portal.gunicorn_logging.MaskingLogger"


def on_starting(server) -> None:
    if not gunicorn_workers.redis_url(environ=os.environ):
        server.log.info("REDIS_URL is not set: one worker, counting limits in its own memory")


def nworkers_changed(server, new_value: int, old_value: int | None) -> None:
    """--workers on the command line, or TTIN later, cannot bring more workers than the
    counters allow: refused at start, undone afterwards."""
    reason = gunicorn_workers.workers_refusal(workers=new_value, environ=os.environ)
    if reason is None:
        return
    if old_value is None:
        raise SystemExit(reason)
    server.log.error(reason)
    server.num_workers = old_value


def post_worker_init(worker) -> None:
    """Compile the project's templates before the worker takes its first request.

    Django compiles a template the first time a page uses it and keeps it (the cached
    loader), and loading the tag libraries primes Markdown (portal_markdown): 10 ms of CPU
    more for the first catalog page of each worker, paid by its first visitor however
    busy the worker is then. A template that does not compile is logged and left to fail
    on its page, as it would without this: warming up never stops a worker.
    """
    from django.conf import settings
    from django.template.loader import get_template

    for directory in (Path(d) for engine in settings.TEMPLATES for d in engine["DIRS"]):
        for path in sorted(directory.rglob("*.html")):
            try:
                get_template(path.relative_to(directory).as_posix())
            except Exception:  # logged; the page will fail the same way when it is asked for
                logging.getLogger("gunicorn.error").exception("Template %s", path)
