"""Serve the gateway's data plane on nginx (docs/design.md, "Data plane")."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from gateway.dataplane import records, render, runner


class Command(BaseCommand):
    help = (
        "Serve /gateway/ on nginx with the portal's keys, routes and limits (needs REDIS_URL); "
        "--render-only writes the configuration, --drain-only records the queued calls."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--listen", default="127.0.0.1:8001", help="address:port")
        parser.add_argument("--directory", default="var/dataplane", help="nginx's files")
        parser.add_argument("--render-only", action="store_true")
        parser.add_argument("--drain-only", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        redis_url = settings.REDIS_URL
        if not redis_url:
            raise CommandError("The data plane counts and checks in Redis: set REDIS_URL.")
        directory = Path(options["directory"]).resolve()
        if options["render_only"]:
            conf = render.render(directory=directory, listen=options["listen"], redis_url=redis_url)
            self.stdout.write(f"Wrote {conf}")
            return
        if options["drain_only"]:
            total = 0
            while count := records.drain():
                total += count
            self.stdout.write(f"Recorded {total} calls")
            return
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        self.stdout.write(
            f"Serving the gateway's data plane at http://{options['listen']}/gateway/"
        )
        status = runner.run(
            directory=directory, listen=options["listen"], redis_url=redis_url, stop=stop
        )
        if status:
            raise CommandError(f"nginx exited with status {status}")
