"""No key, token or query value in the server's log lines (portal/log_masking.py,
portal/gunicorn_logging.py).

An attacker who reads the server's log (a shared log service, a support ticket with a
pasted log, a backup) must find no subscription key sent in a query and no account
link's key. The servers are started for real: gunicorn with the project's
gunicorn.conf.py, and runserver as `make run` serves; requests carry a real key, a
real reset link and a real confirmation link (django-allauth's), and the whole output
is read after.
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
from secrets import token_hex

import pytest
from allauth.account.adapter import get_adapter
from allauth.account.forms import default_token_generator as reset_tokens
from allauth.account.models import EmailAddress, EmailConfirmationHMAC
from allauth.account.utils import user_pk_to_url_str
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from gunicorn.config import Config

from httpcore.masking import MASK
from portal.gunicorn_logging import MaskingLogger
from portal.log_masking import mask_log_text
from tests import log_scan
from tests.backends import ScriptedServer, reply_with, scripted_server
from tests.demo_server import ServerOutput
from tests.factories import make_user
from tests.gateway.test_gateway_processes import (
    ROOT,
    Portal,
    gunicorn_environment,
    portal,
    register,
    shared_database_url,
    wait_until_serving,
)
from tests.processes import free_port

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
        # The mails' confirmation link: a signed key, <pk>:<timestamp>:<signature>.
        ("/accounts/confirm/MQ:1xYeS6:zUx82gn-j5BpfwxS/", f"/accounts/confirm/{MASK}/"),
        ("/accounts/confirm/MQ%3A1xYeS6%3AzUx82gn/", f"/accounts/confirm/{MASK}/"),
        ("http://h/accounts/confirm/MQ:1xYeS6:zUx8 x", f"http://h/accounts/confirm/{MASK} x"),
        # A path that runs on past the key (a 404) keeps nothing of it.
        ("/accounts/confirm/MQ:1xYeS6:zUx8/more/", f"/accounts/confirm/{MASK}/{MASK}/"),
        ("/accounts/confirm-email/MQ:1xYeS6:zUx8/", f"/accounts/confirm-email/{MASK}/"),
        ("/accounts/confirm-email/MQ:1xYeS6:zUx8/x", f"/accounts/confirm-email/{MASK}/{MASK}"),
        # The reset link: <uidb36>-<timestamp>-<hash>; the key may run over a "/".
        ("/accounts/password/reset/key/1-cz1b2c-0123/", f"/accounts/password/reset/key/1-{MASK}/"),
        ("/accounts/password/reset/key/1-cz1b2c-0123", f"/accounts/password/reset/key/1-{MASK}"),
        (
            "/accounts/password/reset/key/1-cz1b2c-0123/x/?n=1",
            f"/accounts/password/reset/key/1-{MASK}/{MASK}/?n={MASK}",
        ),
        # The links mailed before: confirmation (redirected to sign-in) and reset.
        ("/accounts/confirm/MQ/cz1b2c-0123abcd/", f"/accounts/confirm/{MASK}/{MASK}/"),
        ("/accounts/reset/MQ/cz1b2c-0123abcd/", f"/accounts/reset/MQ/{MASK}/"),
        ("/accounts/reset/MQ/cz1b2c-0123abcd/x?n=1", f"/accounts/reset/MQ/{MASK}/{MASK}?n={MASK}"),
        # A link inside a query is masked with the query.
        (
            "/accounts/login/?next=/accounts/confirm/MQ:1xYeS6:zUx8/",
            f"/accounts/login/?next={MASK}",
        ),
        # The steps after a reset link name no key; nor do the other account pages.
        (
            "/accounts/password/reset/key/1-set-password/",
            "/accounts/password/reset/key/1-set-password/",
        ),
        ("/accounts/reset/MQ/set-password/", "/accounts/reset/MQ/set-password/"),
        ("/accounts/password/reset/key/done/", "/accounts/password/reset/key/done/"),
        ("/accounts/password/reset/done/", "/accounts/password/reset/done/"),
        ("/accounts/reset/done/", "/accounts/reset/done/"),
        ("/accounts/confirm-email/", "/accounts/confirm-email/"),
        ("/accounts/confirm/", "/accounts/confirm/"),
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
    """Each URL of the portal with a token or key in its path (django-allauth's, the
    portal's mount of its confirmation link, the links mailed before it) is logged
    without it, in the shapes of both keys: signed, and timestamp-hash."""
    linked = []
    for name, entry in _patterns(get_resolver()):
        parameters = _parameters(entry)
        secret = [p for p in parameters if SECRET_PARAMETER.search(p)]
        if not secret:
            continue
        for key in ("MQ:1xYeS6:0123456789abcdef-Zz_9", "cz1b2c-0123456789abcdef"):
            values = {p: key if p in secret else "MQ" for p in parameters}
            path = reverse(name, kwargs=values)
            logged = mask_log_text(text=f'"GET {path} HTTP/1.1"')
            assert not re.search("0123456789abcdef|1xYeS6|cz1b2c", logged), path
        linked.append(name)
    assert sorted(linked) == [
        "account_confirm_email",
        "account_reset_password_from_key",
        "confirm_email",
        "old_confirmation_link",
    ]


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


def confirmation_key(user) -> str:
    """The key of the link mailed to confirm `user`'s address."""
    return EmailConfirmationHMAC(EmailAddress.objects.get(user=user)).key


@pytest.fixture
def reset_link(db) -> tuple[str, str, str]:
    user = make_user("reader")
    uid = user_pk_to_url_str(user)
    token = reset_tokens.make_token(user)
    return f"/accounts/password/reset/key/{uid}-{token}/", uid, token


@pytest.mark.parametrize("mount", ["/accounts/confirm/", "/accounts/confirm-email/"])
def test_a_404_on_a_used_confirmation_link_is_logged_without_its_key(db, client, caplog, mount):
    key = confirmation_key(make_user("confirmed"))
    assert client.post(f"{mount}{key}/").status_code == 404
    assert f"Not Found: {mount}{MASK}/" in caplog.messages
    assert key.rpartition(":")[2] not in caplog.text


def test_a_500_on_a_confirmation_link_is_logged_without_its_key(db, client, caplog, monkeypatch):
    key = confirmation_key(make_user("pending", verified=False))

    def fails(cls, key):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(EmailConfirmationHMAC, "from_key", classmethod(fails))
    client.raise_request_exception = False
    assert client.get(f"/accounts/confirm/{key}/").status_code == 500
    assert f"Internal Server Error: /accounts/confirm/{MASK}/" in caplog.messages
    assert key.rpartition(":")[2] not in caplog.text


def test_a_csrf_refusal_on_a_reset_link_is_logged_without_its_key(caplog, reset_link):
    link, uid, token = reset_link
    response = Client(enforce_csrf_checks=True).post(link, {"password1": "x", "password2": "x"})
    assert response.status_code == 403
    assert (
        f"Forbidden (CSRF cookie not set.): /accounts/password/reset/key/{uid}-{MASK}/"
        in caplog.messages
    )
    assert token.rpartition("-")[2] not in caplog.text


# --- Real servers ---------------------------------------------------------------------

pytestmark_servers = pytest.mark.django_db(transaction=True)


@dataclass(frozen=True)
class Secrets:
    key: str
    reset_uid: str
    reset_token: str
    confirm_key: str
    old_confirm_uid: str
    old_confirm_token: str

    @property
    def all(self) -> list[str]:
        signature = self.confirm_key.rpartition(":")[2]
        return [self.key, self.reset_token, self.confirm_key, signature, self.old_confirm_token]


@pytest.fixture
def backend() -> Iterator[ScriptedServer]:
    with scripted_server(reply_with(200, body=b"ok")) as server:
        yield server


@pytest.fixture
def secrets(backend) -> Secrets:
    key = register(backend)
    reader = make_user("reader")
    pending = make_user("pending", verified=False)
    old_token = f"cz1b2c-{token_hex(16)}"
    log_scan.remember(old_token)
    return Secrets(
        key=key,
        reset_uid=user_pk_to_url_str(reader),
        reset_token=reset_tokens.make_token(reader),
        confirm_key=confirmation_key(pending),
        old_confirm_uid=urlsafe_base64_encode(force_bytes(pending.pk)),
        old_confirm_token=old_token,
    )


# A CSRF cookie and the form's field holding the same secret, as a browser sends them.
CSRF_SECRET = "a" * 32


def post_form(server: Portal, path: str) -> int:
    headers = {
        "Cookie": f"csrftoken={CSRF_SECRET}",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    body = f"csrfmiddlewaretoken={CSRF_SECRET}"
    return server.request("POST", path, headers=headers, body=body)[0]


def send_everything(server: Portal, secrets: Secrets) -> None:
    """The requests a real visitor sends with secrets in their target."""
    reset = f"/accounts/password/reset/key/{secrets.reset_uid}-{secrets.reset_token}/"
    confirmation = f"/accounts/confirm/{secrets.confirm_key}/"
    old = f"/accounts/confirm/{secrets.old_confirm_uid}/{secrets.old_confirm_token}/"
    status, _, _ = server.request("GET", f"/gateway/shop/items/1?subscription-key={secrets.key}")
    assert status == 200
    assert server.request("GET", reset)[0] == 302  # on to .../set-password/
    assert server.request("POST", confirmation)[0] == 403  # no CSRF cookie
    assert post_form(server, confirmation) == 302  # confirmed, on to the profile
    assert post_form(server, confirmation) == 404  # used
    assert server.request("GET", f"/accounts/confirm-email/{secrets.confirm_key}/x")[0] == 404
    assert server.request("GET", old)[0] == 302  # on to sign-in
    # A page reached from a link: the referrer repeats it.
    assert (
        server.request("GET", "/gateway/", headers={"Referer": f"http://127.0.0.1{reset}"})[0]
        == 404
    )


def assert_logged_masked(output: str, secrets: Secrets) -> None:
    assert [s for s in secrets.all if s in output] == []
    assert f"GET /gateway/shop/items/1?subscription-key={MASK} HTTP/1.1" in output
    uid = secrets.reset_uid
    assert f"GET /accounts/password/reset/key/{uid}-{MASK}/ HTTP/1.1" in output
    assert f"Forbidden (CSRF cookie not set.): /accounts/confirm/{MASK}/" in output
    assert f"Not Found: /accounts/confirm-email/{MASK}/{MASK}" in output
    assert f"POST /accounts/confirm/{MASK}/ HTTP/1.1" in output
    assert f"Not Found: /accounts/confirm/{MASK}/" in output
    assert f"GET /accounts/confirm/{MASK}/{MASK}/ HTTP/1.1" in output


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
    assert f'"http://127.0.0.1/accounts/password/reset/key/{secrets.reset_uid}-{MASK}/"' in output


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
        # runserver writes a request's line after its answer, in the request's thread: on a
        # busy machine the last lines can come after the next answer, so they are awaited
        # before the server stops.
        output.wait_for(re.compile(re.escape(f"GET /accounts/confirm/{MASK}/{MASK}/ HTTP/1.1")))
        output.wait_for(
            re.compile(r'"GET /gateway/ HTTP/1\.1" 404 .*\n.*"GET /gateway/ HTTP/1\.1" 404', re.S)
        )
    assert_logged_masked(output.read_to_the_end(), secrets)


# --- The suite's scan of the servers' output (tests/log_scan.py) ----------------------

# django-allauth's keys, as the mails of a server print them.
SIGNATURE = "zUx82gnhEczptkzf0q8q9_j5BpfwxS6oYjvHZxZEQgY"
CONFIRM_KEY = f"MQ:1xYeS6:{SIGNATURE}"
RESET_HASH = "f20e876f1b2c27635cae033e1b2c2763"
PRINTED_MAILS = "".join(
    "Content-Type: text/plain; charset=utf-8\n"
    f"Subject: {subject}\n\n"
    f"Open http://127.0.0.1:8123{path}\n" + "-" * 79 + "\n"
    for subject, path in [
        ("Confirm your account", f"/accounts/confirm/{CONFIRM_KEY}/"),
        ("Reset your password", f"/accounts/password/reset/key/1-cz1b2c-{RESET_HASH}/"),
    ]
)


@pytest.mark.parametrize(
    ("leak", "secret"),
    [
        (f"/accounts/confirm/{CONFIRM_KEY}/", SIGNATURE),
        # The key's ":" percent-encoded: its signature is still found.
        (f"/accounts/confirm/MQ%3A1xYeS6%3A{SIGNATURE}/", SIGNATURE),
        (f"/accounts/password/reset/key/1-cz1b2c-{RESET_HASH}/", RESET_HASH),
        (f"/accounts/confirm-email/1-cz1b2c-{RESET_HASH}/", RESET_HASH),
    ],
)
def test_the_scan_finds_a_printed_mails_key_repeated_outside_it(leak, secret):
    line = f'"GET {leak} HTTP/1.1" 302 0\n'
    with pytest.raises(AssertionError, match=secret):
        log_scan.assert_server_output_clean(text=PRINTED_MAILS + line, server="runserver")


def test_the_scan_leaves_the_printed_mails_and_masked_lines_alone():
    masked = (
        f'"GET /accounts/confirm/{MASK}/ HTTP/1.1" 302 0\n'
        f'"GET /accounts/password/reset/key/1-{MASK}/ HTTP/1.1" 302 0\n'
    )
    log_scan.assert_server_output_clean(text=PRINTED_MAILS + masked, server="runserver")


def test_the_suite_remembers_every_account_key_made_in_its_process(db):
    """The keys django-allauth makes here (and Django's reset tokens) are looked for in
    every server's output, and each test's log records, by their secret part too."""
    user = make_user("pending", verified=False)
    address = EmailAddress.objects.get(user=user)
    signed = EmailConfirmationHMAC(address).key
    made = [
        signed,
        signed.rpartition(":")[2],
        get_adapter().generate_emailconfirmation_key(address.email),
        reset_tokens.make_token(user),
        reset_tokens.make_token(user).rpartition("-")[2],
        default_token_generator.make_token(user),
    ]
    for value in made:
        with pytest.raises(AssertionError, match=re.escape(value)):
            log_scan.assert_server_output_clean(text=f"GET /x/{value}/", server="runserver")


def test_the_scan_finds_a_servers_own_key():
    key = "a3124689fd0be086056cfeffaab9e96c"
    line = f'"GET /gateway/shop/items/1?subscription-key={key} HTTP/1.1" 200 2\n'
    with pytest.raises(AssertionError, match=key):
        log_scan.assert_server_output_clean(text=line, server="gunicorn", own_secrets=[key])
