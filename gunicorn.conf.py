"""gunicorn settings for the production profile, read from the environment.

Threaded workers: a Try it call waits on a backend for up to the outbound deadline,
and a thread waiting on a socket must not hold up the other visitors.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
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
