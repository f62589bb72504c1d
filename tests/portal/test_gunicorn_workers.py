"""The production profile never counts a limit per process (portal/gunicorn_workers.py).

Rate limits, quotas, the Try it limit and the resend throttle count in Django's cache,
which only Redis shares between processes. A Starter key must not get its 5 calls a
minute from each of 4 workers: without REDIS_URL gunicorn runs one worker and refuses
to start with more; with REDIS_URL it runs 4.
"""

from __future__ import annotations

import re
import runpy
import subprocess
from collections.abc import Iterator

import pytest

from tests.backends import ScriptedServer, reply_with, scripted_server
from tests.gateway.test_gateway_processes import (
    GUNICORN,
    KEY_HEADER,
    LIMIT,
    ROOT,
    gunicorn_environment,
    portal,
    register,
    shared_database_url,
    wait_until_serving,
)
from tests.processes import free_port

REFUSAL = (
    "gunicorn: {n} workers without REDIS_URL would each count rate limits, quotas and "
    "throttles on their own, multiplying every limit by {n}. Set REDIS_URL to share the "
    "counters, or run one worker (GUNICORN_WORKERS=1).\n"
)
BOOTING = re.compile(r"Booting worker with pid: \d+")


@pytest.fixture
def backend() -> Iterator[ScriptedServer]:
    with scripted_server(reply_with(200, body=b"ok")) as server:
        yield server


def configured_workers(monkeypatch, **env: str) -> int:
    """`workers` as gunicorn.conf.py sets it under the Makefile's SERVE_ENV plus `env`."""
    for name in ("REDIS_URL", "GUNICORN_WORKERS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PORTAL_ENV_FILE", "")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(ROOT / "gunicorn.conf.py"))["workers"]


def test_make_serve_without_redis_runs_one_worker(monkeypatch):
    assert configured_workers(monkeypatch) == 1


def test_with_redis_the_profile_runs_four_workers(monkeypatch):
    assert configured_workers(monkeypatch, REDIS_URL="redis://cache:6379/0") == 4


def test_redis_url_in_the_env_file_counts(monkeypatch, tmp_path):
    env_file = tmp_path / "production.env"
    env_file.write_text("REDIS_URL=redis://cache:6379/0\n")
    assert configured_workers(monkeypatch, PORTAL_ENV_FILE=str(env_file)) == 4


def test_one_worker_asked_for_runs_without_redis(monkeypatch):
    assert configured_workers(monkeypatch, GUNICORN_WORKERS="1") == 1


def test_more_workers_without_redis_stop_the_configuration(monkeypatch):
    with pytest.raises(SystemExit) as stopped:
        configured_workers(monkeypatch, GUNICORN_WORKERS="3")
    assert f"{stopped.value}\n" == REFUSAL.format(n=3)


class FakeArbiter:
    """What the hook reads and sets on gunicorn's arbiter."""

    def __init__(self) -> None:
        self.num_workers = 1
        self.errors: list[str] = []
        self.log = self

    def error(self, message: str) -> None:
        self.errors.append(message)


def test_a_later_ttin_without_redis_is_logged_and_undone(monkeypatch):
    configured_workers(monkeypatch)
    hook = runpy.run_path(str(ROOT / "gunicorn.conf.py"))["nworkers_changed"]
    arbiter = FakeArbiter()
    arbiter.num_workers = 2  # what TTIN does
    hook(arbiter, 2, 1)
    assert arbiter.num_workers == 1
    assert [f"{e}\n" for e in arbiter.errors] == [REFUSAL.format(n=2)]


def test_a_later_ttin_with_redis_is_kept(monkeypatch):
    configured_workers(monkeypatch, REDIS_URL="redis://cache:6379/0")
    hook = runpy.run_path(str(ROOT / "gunicorn.conf.py"))["nworkers_changed"]
    arbiter = FakeArbiter()
    arbiter.num_workers = 5
    hook(arbiter, 5, 4)
    assert (arbiter.num_workers, arbiter.errors) == (5, [])


@pytest.fixture
def bare_env() -> dict[str, str]:
    return gunicorn_environment(port=free_port(), database_url="sqlite:///unused", redis_url="")


@pytest.mark.parametrize(
    ("extra_env", "arguments"),
    [({"GUNICORN_WORKERS": "2"}, []), ({}, ["--workers", "2"])],
    ids=["GUNICORN_WORKERS=2", "--workers 2"],
)
def test_gunicorn_refuses_two_workers_without_redis(bare_env, extra_env, arguments):
    done = subprocess.run(
        [*GUNICORN, *arguments],
        cwd=ROOT,
        env={**bare_env, **extra_env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.endswith(REFUSAL.format(n=2)), done.stderr
    assert "Booting worker" not in done.stdout + done.stderr


@pytest.mark.django_db(transaction=True)
def test_gunicorn_starts_two_workers_with_redis(backend, redis_url, tmp_path):
    key = register(backend)
    with portal(
        name="two",
        database_url=shared_database_url(tmp_path),
        redis_url=redis_url,
        tmp_path=tmp_path,
        workers="2",
    ) as server:
        wait_until_serving(server)
        assert server.request("GET", "/gateway/shop/items/1", headers={KEY_HEADER: key})[0] == 200
        booted = BOOTING.findall(server.log.read_text())
    assert len(booted) == 2


@pytest.mark.django_db(transaction=True)
def test_make_serve_without_redis_holds_a_limit(backend, tmp_path):
    """The attacker's side: a key limited to LIMIT calls sends more, each on a
    connection of its own (any worker may take it); LIMIT get through."""
    key = register(backend)
    with portal(
        name="serve",
        database_url=shared_database_url(tmp_path),
        redis_url="",
        tmp_path=tmp_path,
        workers="",
    ) as server:
        wait_until_serving(server)
        statuses = [
            server.request("GET", f"/gateway/shop/items/{n}", headers={KEY_HEADER: key})[0]
            for n in range(LIMIT + 10)
        ]
    assert statuses == [200] * LIMIT + [429] * 10
    log = server.log.read_text()
    assert len(BOOTING.findall(log)) == 1
    assert "REDIS_URL is not set: one worker, counting limits in its own memory" in log
