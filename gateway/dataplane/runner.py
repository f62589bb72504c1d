"""`manage.py dataplane`: nginx serving the gateway, and the portal's side of it.

It renders the configuration, writes every key into Redis and starts nginx, then, until
stopped: drains the recorded calls into GatewayCall rows (every 0.2 s), renders the
routes again each second and reloads nginx when they changed (an API, an operation or
a product saved), and writes every key again each minute (a bulk update made without
a save). Stopping it stops nginx gracefully and drains what the workers pushed.
"""

from __future__ import annotations

import logging
import subprocess
import threading
import time
from pathlib import Path

from gateway.dataplane import keys, records, render

logger = logging.getLogger(__name__)

DRAIN_SECONDS = 0.2
REFRESH_SECONDS = 1.0
SWEEP_SECONDS = 60.0


def run(*, directory: Path, listen: str, redis_url: str, stop: threading.Event) -> int:
    """Serve until `stop` is set or nginx exits; nginx's exit status."""
    conf = render.render(directory=directory, listen=listen, redis_url=redis_url)
    keys.push_all()
    # The configured nginx binary on files the portal wrote: no caller's input.
    process = subprocess.Popen(render.nginx_command(conf))  # noqa: S603
    refreshed = swept = time.monotonic()
    try:
        while not stop.wait(DRAIN_SECONDS) and process.poll() is None:
            while records.drain():
                pass
            now = time.monotonic()
            if now - refreshed >= REFRESH_SECONDS:
                refreshed = now
                try:
                    if render.refresh(conf=conf, redis_url=redis_url):
                        logger.info("dataplane: routes changed, nginx reloaded")
                except (OSError, subprocess.CalledProcessError):
                    logger.exception("dataplane: the routes could not be reloaded")
            if now - swept >= SWEEP_SECONDS:
                swept = now
                keys.push_all()
    finally:
        if process.poll() is None:
            subprocess.run(render.nginx_command(conf, "quit"), check=False, capture_output=True)  # noqa: S603
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        while records.drain():
            pass
    return process.returncode or 0
