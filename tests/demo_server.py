"""A portal served the way `make run` serves it, for the tests that need a real one.

The Makefile's own `env-file` target writes the development settings (DEBUG=true, a
new SECRET_KEY, HOST and PORT) into a file of the test's own, named by PORTAL_ENV_FILE
where a developer's shell would have ./.env; the database is an SQLite file beside it.
Then `manage.py migrate`, `manage.py load_demo` and `manage.py runserver HOST:PORT` on
a free port other than 8000, with none of the variables the test run sets for itself:
every command sees what it would see after `make run PORT=<port>`.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests import log_scan
from tests.processes import free_port, stop

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
# What pyproject.toml sets for the test run, or a developer's shell may hold: none of it
# reaches the portal, whose settings come from its file alone.
_DROPPED = {
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "REDIS_URL",
    "HOST",
    "PORT",
    "LOG_LEVEL",
    "TIME_ZONE",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "DJANGO_SETTINGS_MODULE",
    "MFLAGS",
}
_DROPPED_PREFIXES = ("PORTAL_", "SECURE_", "EMAIL_", "DATABASE_", "GUNICORN_", "MAKE")


def shell_environment(**extra: str) -> dict[str, str]:
    """The test run's environment without any of the portal's settings, plus `extra`."""
    kept = {
        name: value
        for name, value in os.environ.items()
        if name not in _DROPPED and not name.startswith(_DROPPED_PREFIXES)
    }
    return {**kept, "PYTHONUNBUFFERED": "1", **extra}


def write_env_file(*, path: Path, host: str, port: int) -> None:
    """What `make run HOST=<host> PORT=<port>` writes before it migrates: the Makefile's
    env-file target, run on `path` instead of ./.env."""
    subprocess.run(
        ["make", "-s", f"ENV_FILE={path}", f"HOST={host}", f"PORT={port}", "env-file"],
        cwd=ROOT,
        env=shell_environment(),
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )


class ServerOutput:
    """What the server prints (the console email backend's mails included), read by a
    thread as it comes."""

    def __init__(self, stream) -> None:
        self._lines: list[str] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream) -> None:
        for line in stream:
            with self._lock:
                self._lines.append(line)

    @property
    def text(self) -> str:
        with self._lock:
            return "".join(self._lines)

    def read_to_the_end(self, *, timeout: float = 10) -> str:
        """Everything, once the server has closed its output."""
        self._thread.join(timeout)
        return self.text

    def wait_for(self, pattern: re.Pattern[str], *, timeout: float = 10) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while not (found := pattern.search(self.text)):
            assert time.monotonic() < deadline, f"{pattern.pattern!r} not in:\n{self.text}"
            time.sleep(0.05)
        return found


def run_manage(*args: str, env: dict[str, str], cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """`.venv/bin/python manage.py <args>` under `env`."""
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


@dataclass
class DemoPortal:
    port: int
    env_file: Path
    # The environment of a shell after `make run`: PORTAL_ENV_FILE stands for ./.env.
    env: dict[str, str]
    output: ServerOutput = field(repr=False)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def manage(self, *args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
        return run_manage(*args, env=self.env, cwd=cwd)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


@contextlib.contextmanager
def demo_portal(directory: Path) -> Iterator[DemoPortal]:
    """`make run PORT=<a free port>`, with its files in `directory`."""
    port = free_port()
    assert port != 8000
    env_file = directory / ".env"
    write_env_file(path=env_file, host=HOST, port=port)
    with env_file.open("a") as settings:
        settings.write(f"DATABASE_URL=sqlite:///{directory / 'db.sqlite3'}\n")
    env = shell_environment(PORTAL_ENV_FILE=str(env_file))
    for command in (("migrate", "--noinput"), ("load_demo",)):
        done = run_manage(*command, env=env)
        assert done.returncode == 0, done.stdout + done.stderr
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "runserver", "--noreload", f"{HOST}:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    portal = DemoPortal(port=port, env_file=env_file, env=env, output=ServerOutput(server.stdout))
    try:
        deadline = time.monotonic() + 30
        while not _answers(portal.url + "/"):
            assert server.poll() is None, f"runserver exited:\n{portal.output.text}"
            assert time.monotonic() < deadline, f"runserver did not answer:\n{portal.output.text}"
            time.sleep(0.1)
        yield portal
    finally:
        stop(server)
    log_scan.assert_server_output_clean(
        text=portal.output.read_to_the_end(),
        server="runserver",
        own_secrets=subscription_keys(portal),
    )


def subscription_keys(portal: DemoPortal) -> list[str]:
    """Every subscription key in the portal's database (load_demo's, the tests')."""
    done = portal.manage(
        "shell",
        "-v0",
        "-c",
        "from gateway.models import Subscription\n"
        "for s in Subscription.objects.all():\n"
        "    print(s.key('primary'), s.key('secondary'))",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.split()
