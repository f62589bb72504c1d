"""The README's shell blocks run as written, after its quick start.

The portal is served the way `make run` serves it (tests/demo_server.py), on a free
port: the blocks' `127.0.0.1:8000` becomes that port, and nothing else changes. Each
block runs in `sh -e`, in a directory of its own that holds `.venv` and `manage.py`
like a checkout (and `tests/`, for the sample documents), with only what a user would
have set: PORTAL_ENV_FILE for the checkout's .env, and KEY where the prose says to set
it. Every ```sh block is either one of BLOCKS_RUN or named in BLOCKS_NOT_RUN with the
reason, so that a new block cannot go untried unnoticed.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.demo_server import ROOT, DemoPortal, demo_portal

SH_BLOCK = re.compile(r"^```sh\n(.*?)^```$", re.MULTILINE | re.DOTALL)

CREATESUPERUSER = ".venv/bin/python manage.py createsuperuser"
IMPORT_OPENAPI = ".venv/bin/python manage.py import_openapi tests/specs/oas30-bookshop.yaml"
COLLECTIONS_IN_CI = '.venv/bin/python manage.py replay "AzureML batch flow" --junit report.xml'
GATEWAY_CURL = 'curl -H "Ocp-Apim-Subscription-Key: $KEY" \\'
BLOCKS_RUN = {CREATESUPERUSER, IMPORT_OPENAPI, COLLECTIONS_IN_CI, GATEWAY_CURL}
BLOCKS_NOT_RUN = {
    "make run": "the portal the other blocks run against is served like it",
    "make test": "this test suite",
    "make test-postgres": "this test suite again, on PostgreSQL and Redis",
    "export SECRET_KEY=... ALLOWED_HOSTS=portal.example.com \\": "a production host's values",
}


def sh_blocks() -> dict[str, str]:
    """The README's ```sh blocks, by their first line."""
    blocks = SH_BLOCK.findall((ROOT / "README.md").read_text())
    named = {block.splitlines()[0]: block for block in blocks}
    assert len(named) == len(blocks), "two ```sh blocks of the README start alike"
    return named


def test_every_block_is_run_or_named_as_not_run() -> None:
    assert not BLOCKS_RUN & BLOCKS_NOT_RUN.keys()
    assert set(sh_blocks()) == BLOCKS_RUN | BLOCKS_NOT_RUN.keys()


@pytest.fixture(scope="module")
def portal(tmp_path_factory) -> Iterator[DemoPortal]:
    with demo_portal(tmp_path_factory.mktemp("readme-portal")) as served:
        yield served


@pytest.fixture
def checkout(tmp_path) -> Path:
    """Where a user types the blocks: `.venv`, `manage.py` and `tests/` as in a checkout."""
    (tmp_path / ".venv").symlink_to(Path(sys.executable).parent.parent)
    (tmp_path / "manage.py").symlink_to(ROOT / "manage.py")
    (tmp_path / "tests").symlink_to(ROOT / "tests")
    return tmp_path


def as_typed(portal: DemoPortal, first_line: str) -> str:
    return sh_blocks()[first_line].replace("127.0.0.1:8000", f"127.0.0.1:{portal.port}")


def run_block(
    portal: DemoPortal, first_line: str, *, cwd: Path, **variables: str
) -> subprocess.CompletedProcess:
    done = subprocess.run(
        ["/bin/sh", "-e", "-c", as_typed(portal, first_line)],
        cwd=cwd,
        env={**portal.env, **variables},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def run_in_terminal(
    command: str, *, cwd: Path, env: dict[str, str], answers: list[tuple[str, str]]
) -> str:
    """`command` in a terminal of its own, each answer typed once its prompt has shown
    (passwords are read from the terminal, not from a pipe); what the terminal showed."""
    terminal, command_side = pty.openpty()
    process = subprocess.Popen(
        ["/bin/sh", "-e", "-c", command],
        cwd=cwd,
        env=env,
        stdin=command_side,
        stdout=command_side,
        stderr=command_side,
        start_new_session=True,
    )
    os.close(command_side)
    shown, unanswered_from = b"", 0
    pending = list(answers)
    deadline = time.monotonic() + 60
    try:
        while True:
            assert time.monotonic() < deadline, shown.decode(errors="replace")
            if select.select([terminal], [], [], 0.1)[0]:
                try:
                    chunk = os.read(terminal, 4096)
                except OSError:  # the command has ended and closed the terminal
                    break
                if not chunk:
                    break
                shown += chunk
            elif process.poll() is not None:
                break
            if pending and pending[0][0].encode() in shown[unanswered_from:]:
                unanswered_from = len(shown)
                os.write(terminal, pending.pop(0)[1].encode() + b"\n")
    finally:
        os.close(terminal)
        process.wait(timeout=30)
    assert process.returncode == 0, shown.decode(errors="replace")
    assert pending == [], shown.decode(errors="replace")
    return shown.decode(errors="replace")


def shell_output(portal: DemoPortal, code: str) -> str:
    done = portal.manage("shell", "-v0", "-c", code)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_createsuperuser(portal: DemoPortal, checkout: Path) -> None:
    password = "an admin passphrase of some length"
    shown = run_in_terminal(
        as_typed(portal, CREATESUPERUSER),
        cwd=checkout,
        env=portal.env,
        answers=[
            ("Username", "admin"),
            ("Email address: ", "admin@example.com"),
            ("Password: ", password),
            ("Password (again): ", password),
        ],
    )
    assert "Superuser created successfully." in shown
    assert password not in shown
    superusers = (
        "from django.contrib.auth.models import User; "
        "print(list(User.objects.filter(is_superuser=True).values_list('username', flat=True)))"
    )
    assert shell_output(portal, superusers) == "['admin']"


def test_import_openapi(portal: DemoPortal, checkout: Path) -> None:
    done = run_block(portal, IMPORT_OPENAPI, cwd=checkout)
    assert re.fullmatch(
        r'Imported "[^"]+" \([a-z0-9-]+\): [1-9]\d* added, 0 changed, 0 removed\.',
        done.stdout.splitlines()[0],
    ), done.stdout


def test_collections_in_ci(portal: DemoPortal, checkout: Path) -> None:
    done = run_block(portal, COLLECTIONS_IN_CI, cwd=checkout)
    assert "4 requests, 4 passed, 0 failed" in done.stdout
    assert "5 requests, 5 passed, 0 failed" in done.stdout
    assert "FAIL" not in done.stdout
    assert '<testsuite name="AzureML batch flow"' in (checkout / "report.xml").read_text()
    assert "AzureML batch flow" in (checkout / "flow.yaml").read_text()
    assert re.search(
        r'^Imported "AzureML batch flow \(2\)" \(id \d+, 4 requests\) for demo\.$',
        done.stdout,
        re.MULTILINE,
    ), done.stdout


def test_gateway_curl(portal: DemoPortal, checkout: Path) -> None:
    """KEY is a key of a Starter subscription, as the quick start leaves one."""
    key = shell_output(
        portal,
        "from django.contrib.auth.models import User; from gateway.models import Product; "
        "from gateway.subscriptions import subscribe; "
        "user = User.objects.create_user('reader', 'reader@example.com'); "
        "print(subscribe(user=user, product=Product.objects.get(slug='starter'), "
        "name='Starter for reader', accepted_terms=True).key('primary'))",
    )
    done = run_block(portal, GATEWAY_CURL, cwd=checkout, KEY=key)
    table = json.loads(done.stdout)["Results"]["output1"]["value"]
    assert table["ColumnNames"] == ["Col2", *(f"Col2_HashingFeature.{n}" for n in range(8))]
    assert table["Values"] == [["This is a good day", "2", "1", "1", "1", "0", "0", "1", "3"]]
