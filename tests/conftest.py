import contextlib
import json
import logging
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import pytest
import redis
from allauth.account import app_settings as allauth_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import EmailConfirmationHMAC
from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core import mail
from django.core.cache import cache
from django.db.models import QuerySet
from django.db.models.signals import post_save
from django.test import override_settings

from catalog import snapshot
from catalog.models import Api
from console.models import Exchange
from demo.registration import register_demo_api
from gateway import access
from gateway.models import GatewayCall, Subscription
from httpcore import outbound, transport
from httpcore.cookies import cookie_pairs
from httpcore.masking import auth_scheme, is_secret
from tests import log_scan
from tests.processes import free_port, stop

# Fixtures shared by test modules in several folders.
pytest_plugins = ["tests.servers_fixtures", "tests.gateway.dataplane_fixtures"]


def worker_number() -> int:
    """Which of pytest-xdist's workers runs this process (gw0, gw1...): 0 without xdist."""
    return int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))


def worker_redis_url(url: str, *, worker: int) -> str:
    """The database of a Redis URL moved up by the worker's number: redis://h:6379/0 is
    /0 for gw0 and /1 for gw1."""
    parts = urlsplit(url)
    database = int(parts.path.strip("/") or 0) + worker
    assert database < 16, f"{url}: worker gw{worker} would need Redis database {database}"
    return urlunsplit(parts._replace(path=f"/{database}"))


@pytest.fixture(scope="session", autouse=True)
def own_redis_database_per_worker() -> Iterator[None]:
    """With REDIS_URL (make test-postgres) the cache is one Redis that every test empties
    (empty_cache): each xdist worker gets a database of its own, or one worker's test
    would lose its counters and sessions to the other's."""
    if not settings.REDIS_URL or not worker_number():
        yield
        return
    default = settings.CACHES["default"]
    location = worker_redis_url(default["LOCATION"], worker=worker_number())
    with override_settings(
        CACHES={**settings.CACHES, "default": {**default, "LOCATION": location}}
    ):
        yield


@pytest.fixture(autouse=True)
def plain_static_storage(settings) -> None:
    """Tests run without collectstatic, so static URLs need no manifest."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    """Django's default hasher spends a quarter of a second of CPU on each password set or
    checked, on purpose; the suite makes and signs in hundreds of users. The servers it
    starts as processes of their own keep the default."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def gateway_records_at_once(settings) -> None:
    """A gateway call's row is written before its answer (tests read it at once);
    tests/gateway/test_gateway_recording.py checks the background writer."""
    settings.PORTAL_GATEWAY_RECORD_IN_BACKGROUND = False


@pytest.fixture(autouse=True)
def empty_cache() -> None:
    """Rate-limit counters and the gateway's lookups live in the cache, and each process
    keeps the gateway's routes: each test starts with none."""
    cache.clear()
    snapshot.forget_local()
    # Connections to backends kept by an earlier test (httpcore/transport.py).
    transport.close_kept_connections()


def _stored_text(exchange: Exchange) -> str:
    return json.dumps(
        [
            exchange.url,
            exchange.values,
            exchange.request_headers,
            exchange.request_body,
            exchange.response_headers,
            exchange.error_message,
            bytes(exchange.response_body).decode("utf-8", "replace"),
        ]
    )


def _stored_call_text(call: GatewayCall) -> str:
    return json.dumps([call.method, call.path, call.error_kind])


@pytest.fixture(autouse=True)
def secrets_are_never_stored(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """After every test: no secret value that was sent appears in any stored exchange
    or gateway call.

    Secrets are the values masking calls secret (by the header's or query key's name,
    or an auth scheme in the value), as they went out through outbound.send (the part
    after a scheme word), every subscription key presented
    to the gateway's key check, and every subscription key saved.
    """
    sent: set[str] = set()
    stored: list[str] = []
    real_send = outbound.send
    real_check_key = access.check_key

    def recording_check_key(*, api, key):
        sent.add(key)
        return real_check_key(api=api, key=key)

    def record_keys(sender, instance, **kwargs):
        for slot in ("primary", "secondary"):
            if getattr(instance, f"{slot}_key_encrypted", ""):
                sent.add(instance.key(slot))

    def record_call(sender, instance, **kwargs):
        stored.append(_stored_call_text(instance))

    def recording_send(request, **kwargs):
        secret_names = request.secret_names
        for name, value in request.headers:
            if name.lower() == "cookie":
                # Masked cookie by cookie (masking.mask_cookie_header): the secret ones.
                sent.update(
                    text
                    for cookie, text in cookie_pairs(value)
                    if is_secret(cookie, text, secret_names=secret_names)
                )
            elif is_secret(name, value, secret_names=secret_names):
                scheme = auth_scheme(value)
                sent.add(value.split(scheme, 1)[1].strip() if scheme else value)
        for key, value in parse_qsl(urlsplit(request.url).query):
            if is_secret(key, value, secret_names=secret_names):
                sent.add(value)
        return real_send(request, **kwargs)

    def record(sender, instance, **kwargs):
        stored.append(_stored_text(instance))

    real_bulk_create = QuerySet.bulk_create

    def recording_bulk_create(queryset, objs, *args, **kwargs):
        # Saved without post_save: a replay's exchanges back together, the gateway's
        # background writer.
        objs = list(objs)
        created = real_bulk_create(queryset, objs, *args, **kwargs)
        for instance in objs:
            if isinstance(instance, Exchange):
                record(Exchange, instance)
            elif isinstance(instance, GatewayCall):
                record_call(GatewayCall, instance)
        return created

    monkeypatch.setattr(outbound, "send", recording_send)
    monkeypatch.setattr(access, "check_key", recording_check_key)
    monkeypatch.setattr(QuerySet, "bulk_create", recording_bulk_create)
    post_save.connect(record, sender=Exchange, weak=False, dispatch_uid="secret-scan")
    post_save.connect(record_call, sender=GatewayCall, weak=False, dispatch_uid="secret-scan")
    post_save.connect(record_keys, sender=Subscription, weak=False, dispatch_uid="secret-scan")
    try:
        yield
    finally:
        post_save.disconnect(sender=Exchange, dispatch_uid="secret-scan")
        post_save.disconnect(sender=GatewayCall, dispatch_uid="secret-scan")
        post_save.disconnect(sender=Subscription, dispatch_uid="secret-scan")
    # Very short values ("x") would match by chance; real keys are longer.
    leaked = [s for s in sent if len(s) >= 4 and any(s in text for text in stored)]
    assert leaked == [], f"secret values stored in exchanges or gateway calls: {leaked}"


def _logged_text(records: list[logging.LogRecord]) -> str:
    lines = []
    for record in records:
        with contextlib.suppress(Exception):  # arguments that do not fit the message
            lines.append(record.getMessage())
        if record.exc_info:
            lines.append(logging.Formatter().formatException(record.exc_info))
    return "\n".join(lines)


@pytest.fixture(autouse=True)
def secrets_are_never_logged(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """After every test: no subscription key saved and no account key made (nor one in
    a link of a mail sent) during the test appears in a log record of the test.

    Account keys are django-allauth's: its confirmation keys, signed
    (EmailConfirmationHMAC.key) or random (EmailConfirmation's, the adapter's
    generate_emailconfirmation_key), and the reset tokens of its generator and of
    Django's default_token_generator. Every such key is also remembered for the scan of
    the output of the servers the suite starts (tests/log_scan.py).
    """
    created: set[str] = set()

    def keep(value: str) -> None:
        for part in log_scan.secret_parts(value):
            created.add(part)
            log_scan.remember(part)

    def recording(real):
        def record(*args, **kwargs):
            value = real(*args, **kwargs)
            keep(value)
            return value

        return record

    generators = {PasswordResetTokenGenerator, allauth_settings.PASSWORD_RESET_TOKEN_GENERATOR}
    for generator in generators:
        if "make_token" in vars(generator):
            monkeypatch.setattr(generator, "make_token", recording(generator.make_token))
    monkeypatch.setattr(
        EmailConfirmationHMAC, "key", property(recording(EmailConfirmationHMAC.key.fget))
    )
    monkeypatch.setattr(
        DefaultAccountAdapter,
        "generate_emailconfirmation_key",
        recording(DefaultAccountAdapter.generate_emailconfirmation_key),
    )

    def record_keys(sender, instance, **kwargs):
        for slot in ("primary", "secondary"):
            if getattr(instance, f"{slot}_key_encrypted", ""):
                keep(instance.key(slot))

    post_save.connect(record_keys, sender=Subscription, weak=False, dispatch_uid="log-scan")
    try:
        yield
    finally:
        post_save.disconnect(sender=Subscription, dispatch_uid="log-scan")
    for message in getattr(mail, "outbox", []):
        for body in (message.body, *(c for c, _ in getattr(message, "alternatives", []))):
            for token in log_scan.link_tokens(str(body)):
                keep(token)
    logged = _logged_text(caplog.get_records("setup") + caplog.get_records("call"))
    leaked = log_scan.leaked(text=logged, secrets=created)
    assert leaked == [], f"keys or account tokens logged: {leaked}"


@pytest.fixture
def demo_api(db) -> Api:
    """The demo registration, pointing at an address nothing listens on."""
    return register_demo_api(
        service_url="http://127.0.0.1:9/demo-backend", api_key=settings.PORTAL_DEMO_API_KEY
    )


@pytest.fixture
def live_demo_api(live_server) -> Api:
    """The demo registration, pointing at the sample backend of a live portal."""
    return register_demo_api(
        service_url=f"{live_server.url}/demo-backend", api_key=settings.PORTAL_DEMO_API_KEY
    )


# The Makefile passes its REDIS_SERVER; Debian's package puts it here.
REDIS_SERVER = os.environ.get("REDIS_SERVER", "/usr/bin/redis-server")


def _redis_answers(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1) as sock:
        sock.sendall(b"PING\r\n")
        return sock.recv(16).startswith(b"+PONG")
    return False


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory) -> Iterator[str]:
    """A redis-server of the test run's own, on a free port, without persistence:
    "redis://127.0.0.1:<port>" (add a database number). `make test` installs Debian's
    redis-server package when it is missing."""
    server = REDIS_SERVER if os.path.exists(REDIS_SERVER) else shutil.which("redis-server")
    assert server, "redis-server is missing: `make test` installs Debian's redis-server package"
    port = free_port()
    arguments = ["--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"]
    directory = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        [server, *arguments, "--dir", str(directory)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not _redis_answers(port):
            assert process.poll() is None, "redis-server exited"
            assert time.monotonic() < deadline, "redis-server did not answer within 10 s"
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}"
    finally:
        stop(process)


@pytest.fixture
def redis_url(redis_server) -> str:
    """A database of the run's own redis-server, emptied: no counter of another test."""
    url = f"{redis_server}/3"
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()
    return url
