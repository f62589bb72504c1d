"""No key, token or query value in the server's log lines (portal/log_masking.py,
portal/gunicorn_logging.py).

An attacker who reads the server's log (a shared log service, a support ticket with a
pasted log, a backup) must find no subscription key sent in a query and no account
link's token. The servers are started for real: gunicorn with the project's
gunicorn.conf.py, and runserver as `make run` serves; requests carry a real key, a
real reset link and a real confirmation link, and the whole output is read after.
"""

from __future__ import annotations

import contextlib
import http.client
import logging
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from gunicorn.config import Config

from operations.masking import MASK
from portal import accounts
from portal.gunicorn_logging import MaskingLogger
from portal.log_masking import mask_log_text
from tests import log_scan
from tests.backends import ScriptedServer, reply_with, scripted_server
from tests.demo_server import ServerOutput, free_port
from tests.factories import make_user
from tests.test_gateway_processes import (
    ROOT,
    Portal,
    gunicorn_environment,
    portal,
    register,
    shared_database_url,
    wait_until_serving,
)

# --- The masking itself ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "logged"),
    [
        (
            '"GET /gateway/shop/items/1?subscription-key=0123abcd&page=2 HTTP/1.1" 200 2',
            f'"GET /gateway/shop/items/1?subscription-key={MASK}&page={MASK} HTTP/1.1" 200 2',
        ),
        # A bare item may be the secret itself; an empty value stays empty.
        ("/a?0123abcd&b=&c=3", f"/a?{MASK}&b=&c={MASK}"),
        ("/a?b=1#fragment", f"/a?b={MASK}"),
        ("http://h/a?k=v x", f"http://h/a?k={MASK} x"),
        ("/accounts/confirm/MQ/cz1b2c-0123abcd/", f"/accounts/confirm/MQ/{MASK}/"),
        ("/accounts/reset/MQ/cz1b2c-0123abcd/", f"/accounts/reset/MQ/{MASK}/"),
        ("/accounts/reset/MQ/cz1b2c-0123abcd", f"/accounts/reset/MQ/{MASK}"),
        ("/accounts/reset/MQ/cz1b2c-0123abcd/x?n=1", f"/accounts/reset/MQ/{MASK}/x?n={MASK}"),
        ("/accounts/confirm-email/MQ:1tZ:abc01/", f"/accounts/confirm-email/{MASK}/"),
        ("/accounts/password/reset/key/1-cz1b2c-0123/", f"/accounts/password/reset/key/1-{MASK}/"),
        # The steps after a reset link name no token; nor do the other account pages.
        ("/accounts/reset/MQ/set-password/", "/accounts/reset/MQ/set-password/"),
        (
            "/accounts/password/reset/key/1-set-password/",
            "/accounts/password/reset/key/1-set-password/",
        ),
        ("/accounts/reset/done/", "/accounts/reset/done/"),
        ("/accounts/confirm-email/", "/accounts/confirm-email/"),
        ("Not Found: /apis/shop/", "Not Found: /apis/shop/"),
        ("Is it there? Yes.", "Is it there? Yes."),
    ],
)
def test_mask_log_text(line, logged):
    assert mask_log_text(text=line) == logged


def _patterns(resolver: URLResolver, namespace: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _patterns(entry, inner)
        elif entry.name:
            yield f"{namespace}{entry.name}", entry


def _parameters(entry: URLPattern) -> list[str]:
    return list(getattr(entry.pattern, "converters", {})) or list(entry.pattern.regex.groupindex)


SECRET_PARAMETER = re.compile(r"(?:^|_)(?:token|key)(?:$|_)")


def test_every_account_link_with_a_token_is_masked():
    """Each URL of the portal with a token or key in its path (Django's auth views,
    django-allauth's when installed) is logged without it."""
    linked = []
    for name, entry in _patterns(get_resolver()):
        parameters = _parameters(entry)
        secret = [p for p in parameters if SECRET_PARAMETER.search(p)]
        if not secret:
            continue
        values = {p: "cz1b2c-0123456789abcdef" if p in secret else "MQ" for p in parameters}
        path = reverse(name, kwargs=values)
        assert "0123456789abcdef" not in mask_log_text(text=f'"GET {path} HTTP/1.1"'), path
        linked.append(name)
    assert {"confirm_account", "password_reset_confirm"} <= set(linked)


def test_gunicorn_masks_every_atom_a_format_may_name():
    """A custom access log format that names the query, the key header, the cookie or
    the raw URI gets them masked too."""

    class Response:
        status, sent, headers = "200 OK", 2, [("Set-Cookie", "sessionid=s3cr3t-session")]

    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/gateway/shop/items/1?subscription-key=0123abcd",
        "PATH_INFO": "/gateway/shop/items/1",
        "QUERY_STRING": "subscription-key=0123abcd",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_OCP_APIM_SUBSCRIPTION_KEY": "4567cdef",
        "HTTP_COOKIE": "sessionid=s3cr3t-session",
        "HTTP_USER_AGENT": "curl/8.5",
    }
    headers = [("Ocp-Apim-Subscription-Key", "4567cdef"), ("Authorization", "Bearer 89ab")]
    atoms = MaskingLogger(Config()).atoms(Response(), headers, environ, timedelta(seconds=1))
    assert {name: atoms[name] for name in atoms if MASK in str(atoms[name])} == {
        "r": f"GET /gateway/shop/items/1?subscription-key={MASK} HTTP/1.1",
        "q": f"subscription-key={MASK}",
        "{raw_uri}e": f"/gateway/shop/items/1?subscription-key={MASK}",
        "{query_string}e": f"subscription-key={MASK}",
        "{ocp-apim-subscription-key}i": MASK,
        "{authorization}i": f"Bearer {MASK}",
        "{set-cookie}o": MASK,
        "{http_ocp_apim_subscription_key}e": MASK,
        "{http_cookie}e": MASK,
    }
    assert atoms["a"] == "curl/8.5"
    assert not re.search("0123abcd|4567cdef|89ab|s3cr3t", repr(atoms))


def test_gunicorns_error_log_names_a_failed_requests_uri_masked():
    """gunicorn logs "Error handling request <uri>" when a request fails outside the
    application."""

    class Kept(logging.Handler):
        def __init__(self) -> None:
            super().__init__()
            self.records: list[logging.LogRecord] = []

        def emit(self, record: logging.LogRecord) -> None:
            self.records.append(record)

    logger = MaskingLogger(Config())
    kept = Kept()
    logger.error_log.addHandler(kept)
    try:
        logger.error("Error handling request %s", "/gateway/shop/items/1?subscription-key=0123abcd")
    finally:
        logger.error_log.removeHandler(kept)
    assert [record.getMessage() for record in kept.records] == [
        f"Error handling request /gateway/shop/items/1?subscription-key={MASK}"
    ]


# --- Django's request loggers, in this process ----------------------------------------


@pytest.fixture
def reset_link(db) -> tuple[str, str, str]:
    user = make_user("reader")
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return f"/accounts/reset/{uid}/{token}/", uid, token


def test_a_404_under_a_reset_link_is_logged_without_its_token(client, caplog, reset_link):
    link, uid, token = reset_link
    assert client.get(link + "nothing-here").status_code == 404
    assert f"Not Found: /accounts/reset/{uid}/{MASK}/nothing-here" in caplog.messages
    assert token not in caplog.text


def test_a_500_on_a_confirmation_link_is_logged_without_its_token(db, client, caplog, monkeypatch):
    user = make_user("pending", is_active=False)
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = accounts.confirmation_tokens.make_token(user)

    def fails(**kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(accounts, "confirm_account", fails)
    client.raise_request_exception = False
    assert client.get(f"/accounts/confirm/{uid}/{token}/").status_code == 500
    assert f"Internal Server Error: /accounts/confirm/{uid}/{MASK}/" in caplog.messages
    assert token not in caplog.text


def test_a_csrf_refusal_on_a_reset_link_is_logged_without_its_token(caplog, reset_link):
    link, uid, token = reset_link
    response = Client(enforce_csrf_checks=True).post(link, {"new_password1": "x"})
    assert response.status_code == 403
    assert f"Forbidden (CSRF cookie not set.): /accounts/reset/{uid}/{MASK}/" in caplog.messages
    assert token not in caplog.text


# --- Real servers ---------------------------------------------------------------------

pytestmark_servers = pytest.mark.django_db(transaction=True)


@dataclass(frozen=True)
class Secrets:
    key: str
    reset_uid: str
    reset_token: str
    confirm_uid: str
    confirm_token: str

    @property
    def all(self) -> list[str]:
        return [self.key, self.reset_token, self.confirm_token]


@pytest.fixture
def backend() -> Iterator[ScriptedServer]:
    with scripted_server(reply_with(200, body=b"ok")) as server:
        yield server


@pytest.fixture
def secrets(backend) -> Secrets:
    key = register(backend)
    reader = make_user("reader")
    pending = make_user("pending", is_active=False)
    return Secrets(
        key=key,
        reset_uid=urlsafe_base64_encode(force_bytes(reader.pk)),
        reset_token=default_token_generator.make_token(reader),
        confirm_uid=urlsafe_base64_encode(force_bytes(pending.pk)),
        confirm_token=accounts.confirmation_tokens.make_token(pending),
    )


def send_everything(server: Portal, secrets: Secrets) -> None:
    """The requests a real visitor sends with secrets in their target."""
    reset = f"/accounts/reset/{secrets.reset_uid}/{secrets.reset_token}/"
    confirm = f"/accounts/confirm/{secrets.confirm_uid}/{secrets.confirm_token}/"
    status, _, _ = server.request("GET", f"/gateway/shop/items/1?subscription-key={secrets.key}")
    assert status == 200
    assert server.request("GET", reset)[0] == 302  # on to .../set-password/
    assert server.request("GET", reset + "missing")[0] == 404
    assert server.request("GET", confirm)[0] == 302  # confirmed, on to the profile
    # A page reached from a link: the referrer repeats it.
    assert (
        server.request("GET", "/gateway/", headers={"Referer": f"http://127.0.0.1{reset}"})[0]
        == 404
    )


def assert_logged_masked(output: str, secrets: Secrets) -> None:
    assert [s for s in secrets.all if s in output] == []
    assert f"GET /gateway/shop/items/1?subscription-key={MASK} HTTP/1.1" in output
    assert f"GET /accounts/reset/{secrets.reset_uid}/{MASK}/ HTTP/1.1" in output
    assert f"Not Found: /accounts/reset/{secrets.reset_uid}/{MASK}/missing" in output
    assert f"GET /accounts/confirm/{secrets.confirm_uid}/{MASK}/ HTTP/1.1" in output


@pytestmark_servers
def test_gunicorn_logs_no_key_nor_token(secrets, tmp_path):
    database_url = shared_database_url(tmp_path)
    with portal(
        name="logs", database_url=database_url, redis_url="", tmp_path=tmp_path, workers=""
    ) as server:
        wait_until_serving(server)
        send_everything(server, secrets)
    output = server.log.read_text()
    assert_logged_masked(output, secrets)
    assert f'"http://127.0.0.1/accounts/reset/{secrets.reset_uid}/{MASK}/"' in output


@contextlib.contextmanager
def runserver(*, database_url: str) -> Iterator[tuple[Portal, ServerOutput]]:
    """manage.py runserver as `make run` starts it, with DEBUG on."""
    port = free_port()
    env = gunicorn_environment(port=port, database_url=database_url, redis_url="")
    env |= {"DEBUG": "true", "PORTAL_ENV_FILE": "", "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = ServerOutput(process.stdout)
    server = Portal(process, port, Path("-"))
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, output.text
            with contextlib.suppress(OSError, http.client.HTTPException):
                server.request("GET", "/gateway/")
                break
            assert time.monotonic() < deadline, output.text
            time.sleep(0.1)
        yield server, output
    finally:
        process.terminate()
        process.wait(timeout=15)
    log_scan.assert_server_output_clean(text=output.read_to_the_end(), server="runserver")


@pytestmark_servers
def test_runserver_logs_no_key_nor_token(secrets, tmp_path):
    with runserver(database_url=shared_database_url(tmp_path)) as (server, output):
        send_everything(server, secrets)
    assert_logged_masked(output.read_to_the_end(), secrets)


# --- The suite's scan of the servers' output (tests/log_scan.py) ----------------------

PRINTED_MAIL = (
    "Content-Type: text/plain; charset=utf-8\n"
    "Subject: Confirm your account\n\n"
    "Open http://127.0.0.1:8123/accounts/confirm/MQ/diy617-f20e876f1b2c27635cae033e/\n"
    + "-" * 79
    + "\n"
)


def test_the_scan_finds_a_printed_mails_token_repeated_outside_it():
    leak = '"GET /accounts/confirm/MQ/diy617-f20e876f1b2c27635cae033e/ HTTP/1.1" 302 0\n'
    with pytest.raises(AssertionError, match="f20e876f1b2c27635cae033e"):
        log_scan.assert_server_output_clean(text=PRINTED_MAIL + leak, server="runserver")


def test_the_scan_leaves_the_printed_mail_and_masked_lines_alone():
    masked = f'"GET /accounts/confirm/MQ/{MASK}/ HTTP/1.1" 302 0\n'
    log_scan.assert_server_output_clean(text=PRINTED_MAIL + masked, server="runserver")


def test_the_scan_finds_a_servers_own_key():
    key = "a3124689fd0be086056cfeffaab9e96c"
    line = f'"GET /gateway/shop/items/1?subscription-key={key} HTTP/1.1" 200 2\n'
    with pytest.raises(AssertionError, match=key):
        log_scan.assert_server_output_clean(text=line, server="gunicorn", own_secrets=[key])
