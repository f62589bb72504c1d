"""The settings file read from the environment: safe production defaults."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


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
    "PORTAL_DEMO_BACKEND_ENABLED",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
}
# And those of the development profile, which a developer's shell may hold.
DEVELOPMENT_VARIABLES = {
    "HOST",
    "PORT",
    "PORTAL_DEMO_BACKEND_URL",
    "PORTAL_ENV_FILE",
    "PORTAL_SITE_URL",
}


def run_python(
    *args: str, cwd: Path = ROOT, without: tuple[str, ...] = (), **env: str
) -> subprocess.CompletedProcess:
    """Python under `env` alone. PORTAL_ENV_FILE is empty unless given or in `without`,
    so that manage.py reads no .env of the checkout."""
    dropped = TEST_RUN_VARIABLES | DEVELOPMENT_VARIABLES
    clean = {k: v for k, v in os.environ.items() if k not in dropped}
    clean.update({"ALLOWED_HOSTS": "portal.example.com", "PORTAL_ENV_FILE": "", **env})
    for name in without:
        clean.pop(name, None)
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=clean, capture_output=True, text=True, timeout=60
    )


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return run_python("manage.py", *args, cwd=ROOT, without=(), **env)


def test_production_defaults_pass_check_deploy():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY="p" * 20 + "-x8#Kq2!vLz9@Wm4$Rt7^Yb1&Nc5*Hd3",
        PORTAL_SITE_URL="https://portal.example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_without_a_site_url_the_deployment_check_says_so():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY="p" * 20 + "-x8#Kq2!vLz9@Wm4$Rt7^Yb1&Nc5*Hd3",
    )
    assert result.returncode != 0
    assert "portal.W001" in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"DEBUG": "true"}, "http://127.0.0.1:8000"),
        ({"DEBUG": "true", "HOST": "0.0.0.0", "PORT": "8123"}, "http://127.0.0.1:8123"),
        ({"DEBUG": "true", "PORTAL_SITE_URL": "https://dev.example"}, "https://dev.example"),
        ({"SECRET_KEY": "k"}, ""),
    ],
)
def test_the_site_url_defaults_to_where_development_serves(env, expected):
    assert setting("settings.PORTAL_SITE_URL", **env) == expected


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


# --- Where `make run` serves: HOST and PORT ---------------------------------------------


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "http://127.0.0.1:8000/demo-backend"),
        ({"PORT": "8123"}, "http://127.0.0.1:8123/demo-backend"),
        ({"HOST": "localhost", "PORT": "9000"}, "http://localhost:9000/demo-backend"),
        # A server on every address is reached on loopback.
        ({"HOST": "0.0.0.0", "PORT": "8123"}, "http://127.0.0.1:8123/demo-backend"),
        ({"HOST": "::"}, "http://[::1]:8000/demo-backend"),
        ({"HOST": "::1", "PORT": "8123"}, "http://[::1]:8123/demo-backend"),
        ({"HOST": " ", "PORT": " 8123 "}, "http://127.0.0.1:8123/demo-backend"),
        (
            {"PORT": "8123", "PORTAL_DEMO_BACKEND_URL": "http://demo.example.com/backend"},
            "http://demo.example.com/backend",
        ),
    ],
)
def test_the_demo_backend_is_where_the_portal_serves(env, expected):
    assert setting("settings.PORTAL_DEMO_BACKEND_URL", SECRET_KEY="k", **env) == expected


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        # Off in production unless turned on (`make serve`, the demo profile, does).
        ({"SECRET_KEY": "k"}, "False"),
        ({"SECRET_KEY": "k", "PORTAL_DEMO_BACKEND_ENABLED": "true"}, "True"),
        ({"DEBUG": "true"}, "True"),
        ({"DEBUG": "true", "PORTAL_DEMO_BACKEND_ENABLED": "false"}, "False"),
    ],
)
def test_the_sample_backend_is_off_unless_debug_or_turned_on(env, expected):
    assert setting("settings.PORTAL_DEMO_BACKEND_ENABLED", **env) == expected


def test_with_debug_off_the_sample_backend_urls_are_404():
    """The production defaults, in a portal of their own: /demo-backend/ is not there."""
    probe = (
        "from django.test import Client; "
        "r = Client().post('/demo-backend/workspaces/w/services/s/execute?api-version=2.0', "
        "b'{}', content_type='application/json', "
        "secure=True, headers={'Authorization': 'Bearer demo-key-0123456789abcdef'}); "
        "print(r.status_code)"
    )
    result = manage("shell", "-v0", "-c", probe, SECRET_KEY="k", ALLOWED_HOSTS="testserver")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "404"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"DEBUG": "true"}, "['80', '443', '8080', '8443', '8000']"),
        ({"DEBUG": "true", "PORT": "8123"}, "['80', '443', '8080', '8443', '8123']"),
        ({"DEBUG": "true", "PORT": "8080"}, "['80', '443', '8080', '8443']"),
        # Production allows no port for the portal's own address.
        ({"SECRET_KEY": "k", "PORT": "8123"}, "['80', '443', '8080', '8443']"),
        ({"DEBUG": "true", "PORT": "8123", "PORTAL_OUTBOUND_ALLOWED_PORTS": "443"}, "['443']"),
    ],
)
def test_development_lets_backends_use_the_portals_port(env, expected):
    assert setting("settings.PORTAL_OUTBOUND_ALLOWED_PORTS", **env) == expected


@pytest.mark.parametrize("port", ["abc", "0", "65536", "-1", "80.5", "８０００"])
def test_a_port_that_is_no_port_number_stops_the_portal(port):
    result = manage("check", SECRET_KEY="k", PORT=port)
    assert result.returncode != 0
    assert (
        f"django.core.exceptions.ImproperlyConfigured: PORT must be a port number from 1 to "
        f"65535, not {port!r}." in result.stderr
    )


# --- The development settings file --------------------------------------------------------

SHOW = (
    "from django.conf import settings; "
    "print(settings.DEBUG, repr(settings.SECRET_KEY), settings.PORT)"
)
DEVELOPMENT_FILE = "DEBUG=true\nSECRET_KEY=key-from-the-file\nHOST=127.0.0.1\nPORT=8123\n"


@pytest.fixture
def checkout(tmp_path) -> Path:
    """A copy of manage.py and the project's packages, with a development .env beside
    them: what `make run` leaves in a checkout."""
    ignore = shutil.ignore_patterns("__pycache__")
    packages = [path for path in ROOT.iterdir() if (path / "apps.py").exists()]
    for package in [*packages, ROOT / "httpcore"]:
        shutil.copytree(package, tmp_path / package.name, ignore=ignore)
    shutil.copy(ROOT / "manage.py", tmp_path / "manage.py")
    (tmp_path / ".env").write_text(DEVELOPMENT_FILE)
    return tmp_path


def shown(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()[-1]


def test_manage_py_reads_the_env_file_beside_it(checkout):
    result = run_python(
        "manage.py", "shell", "-v0", "-c", SHOW, cwd=checkout, without=("PORTAL_ENV_FILE",)
    )
    assert shown(result) == "True 'key-from-the-file' 8123"


def test_manage_py_reads_it_from_any_directory(checkout, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    result = run_python(
        str(checkout / "manage.py"),
        "shell",
        "-v0",
        "-c",
        SHOW,
        cwd=elsewhere,
        without=("PORTAL_ENV_FILE",),
    )
    assert shown(result) == "True 'key-from-the-file' 8123"


def test_variables_of_the_environment_win_over_the_file(checkout):
    result = run_python(
        "manage.py",
        "shell",
        "-v0",
        "-c",
        SHOW,
        cwd=checkout,
        without=("PORTAL_ENV_FILE",),
        SECRET_KEY="key-from-the-environment",
        PORT="9000",
    )
    assert shown(result) == "True 'key-from-the-environment' 9000"


def test_an_empty_env_file_name_reads_none(checkout):
    result = run_python("manage.py", "shell", "-v0", "-c", SHOW, cwd=checkout, SECRET_KEY="k")
    assert shown(result) == "False 'k' 8000"


def test_gunicorns_application_reads_no_env_file(checkout):
    """What gunicorn loads imports the settings without manage.py: the .env of the
    checkout is not read, so the portal still refuses to serve without a key."""
    result = run_python("-c", "import portal.wsgi", cwd=checkout, without=("PORTAL_ENV_FILE",))
    assert result.returncode != 0
    assert "Set SECRET_KEY (or DEBUG=true for local development)." in result.stderr


def test_settings_imported_as_the_tests_import_them_read_no_env_file(checkout):
    """pytest-django imports the settings module itself, like gunicorn."""
    code = "import django; django.setup(); " + SHOW
    result = run_python(
        "-c",
        code,
        cwd=checkout,
        without=("PORTAL_ENV_FILE",),
        DJANGO_SETTINGS_MODULE="portal.settings",
        SECRET_KEY="k",
    )
    assert shown(result) == "False 'k' 8000"


def test_gunicorns_application_reads_the_file_it_is_told_to(checkout, tmp_path_factory):
    named = tmp_path_factory.mktemp("settings") / "portal.env"
    named.write_text("SECRET_KEY=key-from-the-named-file\n")
    code = "import portal.wsgi; from django.conf import settings; print(settings.SECRET_KEY)"
    result = run_python("-c", code, cwd=checkout, PORTAL_ENV_FILE=str(named))
    assert shown(result) == "key-from-the-named-file"


def test_manage_py_reads_the_named_file_instead_of_its_own(checkout, tmp_path_factory):
    named = tmp_path_factory.mktemp("settings") / "portal.env"
    named.write_text("SECRET_KEY=key-from-the-named-file\n")
    result = run_python(
        "manage.py", "shell", "-v0", "-c", SHOW, cwd=checkout, PORTAL_ENV_FILE=str(named)
    )
    assert shown(result) == "False 'key-from-the-named-file' 8000"


def test_a_named_file_that_is_missing_stops_the_portal(tmp_path):
    missing = tmp_path / "missing.env"
    for result in (
        manage("check", PORTAL_ENV_FILE=str(missing)),
        run_python("-c", "import portal.wsgi", PORTAL_ENV_FILE=str(missing)),
    ):
        assert result.returncode != 0
        assert (
            "django.core.exceptions.ImproperlyConfigured: "
            f"PORTAL_ENV_FILE names {missing}, which is not a file." in result.stderr
        )


def test_a_named_directory_stops_the_portal(tmp_path):
    result = manage("check", PORTAL_ENV_FILE=str(tmp_path))
    assert result.returncode != 0
    assert f"PORTAL_ENV_FILE names {tmp_path}, which is not a file." in result.stderr
