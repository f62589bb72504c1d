"""The settings file read from the environment: safe production defaults."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


# Variables the test run sets for itself; production must be judged without them.
TEST_RUN_VARIABLES = {
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "SECURE_SSL_REDIRECT",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "PORTAL_OUTBOUND_ALLOWED_NETWORKS",
    "PORTAL_OUTBOUND_ALLOWED_PORTS",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
}


def run_python(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in TEST_RUN_VARIABLES}
    clean.update({"ALLOWED_HOSTS": "portal.example.com", **env})
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60
    )


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return run_python("manage.py", *args, **env)


def test_production_defaults_pass_check_deploy():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY="p" * 20 + "-x8#Kq2!vLz9@Wm4$Rt7^Yb1&Nc5*Hd3",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_without_secret_key_and_debug_the_portal_refuses_to_start():
    """What gunicorn and runserver load is the WSGI application: it refuses at once."""
    result = run_python("-c", "import portal.wsgi")
    assert result.returncode != 0
    assert "Set SECRET_KEY (or DEBUG=true for local development)." in result.stderr


def test_without_secret_key_the_deployment_check_says_so():
    result = manage("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0
    assert "security.W009" in result.stdout + result.stderr


def test_without_secret_key_commands_that_need_none_still_run():
    """makemigrations and collectstatic sign nothing; Django refuses an empty key only
    where something uses it."""
    result = manage("makemigrations", "--check", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "No changes detected" in result.stdout


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"SECRET_KEY": "k"}, "[]"),
        ({"DEBUG": "true"}, "['127.0.0.1/32', '::1/128']"),
        (
            {"SECRET_KEY": "k", "PORTAL_OUTBOUND_ALLOWED_NETWORKS": "10.0.0.0/8, 192.168.1.0/24"},
            "['10.0.0.0/8', '192.168.1.0/24']",
        ),
    ],
)
def test_backends_may_reach_only_public_addresses_unless_networks_are_listed(env, expected):
    assert setting("settings.PORTAL_OUTBOUND_ALLOWED_NETWORKS", **env) == expected


def setting(expression: str, **env: str) -> str:
    """What `expression` prints in the settings' namespace, under `env`."""
    result = manage(
        "shell", "-v0", "-c", f"from django.conf import settings; print({expression})", **env
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()[-1]


@pytest.mark.parametrize(
    ("redis_url", "expected"),
    [
        ("", "django.contrib.sessions.backends.db"),
        ("redis://127.0.0.1:6379/0", "django.contrib.sessions.backends.cached_db"),
    ],
)
def test_sessions_are_read_from_redis_when_there_is_one(redis_url, expected):
    assert setting("settings.SESSION_ENGINE", SECRET_KEY="k", REDIS_URL=redis_url) == expected


POSTGRESQL = "postgres://portal:secret@db.example.com:5432/portal"
CONNECTIONS = (
    "settings.DATABASES['default']['CONN_MAX_AGE'], "
    "settings.DATABASES['default'].get('OPTIONS', {}).get('pool')"
)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "0 {'min_size': 4, 'max_size': 16, 'timeout': 10.0}"),
        (
            {"DATABASE_POOL_MAX_SIZE": "8", "DATABASE_POOL_MIN_SIZE": "2"},
            "0 {'min_size': 2, 'max_size': 8, 'timeout': 10.0}",
        ),
        # The pool never starts with more connections than it may hold.
        ({"DATABASE_POOL_MAX_SIZE": "2"}, "0 {'min_size': 2, 'max_size': 2, 'timeout': 10.0}"),
        ({"DATABASE_POOL_MAX_SIZE": "0"}, "60 None"),
        ({"DATABASE_POOL_MAX_SIZE": "0", "DATABASE_CONN_MAX_AGE": "5"}, "5 None"),
    ],
)
def test_postgresql_connections_come_from_a_pool_unless_it_is_turned_off(env, expected):
    assert setting(CONNECTIONS, SECRET_KEY="k", DATABASE_URL=POSTGRESQL, **env) == expected


def test_sqlite_keeps_its_connections_without_a_pool(tmp_path):
    sqlite = f"sqlite:///{tmp_path / 'portal.sqlite3'}"
    assert setting(CONNECTIONS, SECRET_KEY="k", DATABASE_URL=sqlite) == "60 None"


def test_postgresql_binds_values_on_the_server():
    options = "settings.DATABASES['default']['OPTIONS'].get('server_side_binding')"
    assert setting(options, SECRET_KEY="k", DATABASE_URL=POSTGRESQL) == "True"
