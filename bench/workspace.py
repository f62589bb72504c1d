"""The data stores and settings a production-profile bench runs on, in a temporary
directory:

- database: PostgreSQL when DATABASE_URL names one (a temporary database is created
  beside it and dropped at the end, so the named database is never touched; when it
  does not exist, from the server's `postgres` database), else a
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
"""

from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
import sys
import tempfile
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


PYTHON = sys.executable


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
            f"Redis ({safe_url(redis_url)}, key prefix {prefix})"
            if redis_url
            else ("local memory (REDIS_URL not set)")
        )
        with database(directory, name) as (database_url, described):
            space = Workspace(directory, database_url, redis_url, f"{described}; cache: {cache}")
            print(f"   database: {described}; cache: {cache}", flush=True)
            space.manage("migrate", "--noinput", "-v0")
            space.manage("collectstatic", "--noinput", "-v0")
            yield space


def safe_url(url: str) -> str:
    """The URL without its user and password, for the output."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


@contextlib.contextmanager
def database(directory: Path, name: str) -> Iterator[tuple[str, str]]:
    """The URL of a bench's database and what it is: with DATABASE_URL naming
    PostgreSQL a temporary database beside it (dropped at the end), else a SQLite file
    in `directory`."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://", "pgsql://")):
        path = directory / "portal.sqlite3"
        why = "" if not url else f", DATABASE_URL is not PostgreSQL: {safe_url(url)}"
        yield f"sqlite:///{path}", f"SQLite, temporary file (DATABASE_URL not set{why})"
        return
    import psycopg

    database = f"bench_{name.replace('-', '_')}_{os.getpid()}"
    parts = urllib.parse.urlsplit(url)
    admin_url = _admin_url(url)
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
    try:
        yield (
            urllib.parse.urlunsplit(parts._replace(path=f"/{database}")),
            f"PostgreSQL, temporary database {database} beside {safe_url(url)}",
        )
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def _admin_url(url: str) -> str:
    """Where the temporary database is created from: the named database, or the server's
    `postgres` database when the named one does not exist (it names a place only)."""
    import psycopg

    try:
        with psycopg.connect(url, autocommit=True):
            return url
    except psycopg.OperationalError as error:
        if "does not exist" not in str(error):
            raise
    return urllib.parse.urlunsplit(urllib.parse.urlsplit(url)._replace(path="/postgres"))


def demo_catalog() -> str:
    """The demo registration (run `load_demo` first) and 20 more APIs in the catalog, as
    the page benches serve it; the URL of the demo's first operation page."""
    from catalog.models import Operation

    register(
        [
            {"slug": f"api-{n:02d}", "url": "https://example.com", "operations": []}
            for n in range(20)
        ]
    )
    return (
        Operation.objects.select_related("api").order_by("api__name", "order")[0].get_absolute_url()
    )


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
