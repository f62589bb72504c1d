"""The development settings file `make run` writes (the Makefile's env-file target)."""

from __future__ import annotations

import re
import stat
import subprocess
from pathlib import Path

from tests.demo_server import ROOT, shell_environment

SECRET_KEY = re.compile(r"^SECRET_KEY=([A-Za-z0-9_-]{60,})$", re.MULTILINE)


def env_file(path: Path, **variables: str) -> str:
    """`make env-file` on `path` with `variables` on the command line; what it prints."""
    assignments = [f"{name}={value}" for name, value in variables.items()]
    done = subprocess.run(
        ["make", "-s", f"ENV_FILE={path}", *assignments, "env-file"],
        cwd=ROOT,
        env=shell_environment(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def settings_lines(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if not line.startswith("#")]


def test_the_first_run_writes_development_settings_with_a_key_of_their_own(tmp_path):
    path = tmp_path / ".env"
    printed = env_file(path)
    assert printed == (
        f"Wrote {path}: the development settings (DEBUG=true, a new SECRET_KEY) "
        "that manage.py reads.\n"
    )
    key = SECRET_KEY.search(path.read_text()).group(1)
    assert settings_lines(path) == [
        "DEBUG=true",
        f"SECRET_KEY={key}",
        "HOST=127.0.0.1",
        "PORT=8000",
    ]
    # The file holds a secret: only its owner reads it.
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not (tmp_path / ".env.tmp").exists()


def test_every_checkout_gets_another_key(tmp_path):
    first, second = tmp_path / "first.env", tmp_path / "second.env"
    env_file(first)
    env_file(second)
    keys = {SECRET_KEY.search(path.read_text()).group(1) for path in (first, second)}
    assert len(keys) == 2


def test_later_runs_record_host_and_port_and_keep_the_rest(tmp_path):
    path = tmp_path / ".env"
    env_file(path, PORT="8123")
    key = SECRET_KEY.search(path.read_text()).group(1)
    with path.open("a") as settings:
        settings.write("LOG_LEVEL=DEBUG\n")
    assert env_file(path, HOST="0.0.0.0", PORT="9000") == ""
    assert settings_lines(path) == [
        "DEBUG=true",
        f"SECRET_KEY={key}",
        "HOST=0.0.0.0",
        "PORT=9000",
        "LOG_LEVEL=DEBUG",
    ]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_file_without_host_and_port_gets_them(tmp_path):
    path = tmp_path / ".env"
    path.write_text("DEBUG=true\nSECRET_KEY=mine\n")
    env_file(path, PORT="8123")
    assert settings_lines(path) == ["DEBUG=true", "SECRET_KEY=mine", "HOST=127.0.0.1", "PORT=8123"]


def test_the_example_is_what_a_new_file_starts_from():
    """The committed .env.example holds the development settings with an empty key."""
    example = (ROOT / ".env.example").read_text().splitlines()
    assert [line for line in example if not line.startswith("#")] == [
        "DEBUG=true",
        "SECRET_KEY=",
        "HOST=127.0.0.1",
        "PORT=8000",
    ]


def test_git_ignores_the_settings_file():
    ignored = subprocess.run(
        ["git", "check-ignore", "--no-index", ".env"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert ignored.stdout.strip() == ".env"
