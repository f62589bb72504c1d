import json
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db.models.signals import post_save

from operations import outbound
from operations.demo.registration import register_demo_api
from operations.masking import is_secret_name
from operations.models import Api, Exchange


@pytest.fixture(autouse=True)
def plain_static_storage(settings) -> None:
    """Tests run without collectstatic, so static URLs need no manifest."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def empty_cache() -> None:
    """Rate-limit counters live in the cache; each test starts with none."""
    cache.clear()


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


@pytest.fixture(autouse=True)
def secrets_are_never_stored(monkeypatch):
    """After every test: no secret value that was sent appears in any stored exchange.

    Secrets are the values of credential headers, headers and query keys marked
    secret, as they went out through outbound.send.
    """
    sent: set[str] = set()
    stored: list[str] = []
    real_send = outbound.send

    def recording_send(request, **kwargs):
        secret_names = request.secret_names
        for name, value in request.headers:
            if is_secret_name(name, secret_names=secret_names):
                sent.add(value.partition(" ")[2] if " " in value else value)
        for key, value in parse_qsl(urlsplit(request.url).query):
            if key.lower() in secret_names:
                sent.add(value)
        return real_send(request, **kwargs)

    def record(sender, instance, **kwargs):
        stored.append(_stored_text(instance))

    monkeypatch.setattr(outbound, "send", recording_send)
    post_save.connect(record, sender=Exchange, weak=False, dispatch_uid="secret-scan")
    try:
        yield
    finally:
        post_save.disconnect(sender=Exchange, dispatch_uid="secret-scan")
    # Very short values ("x") would match by chance; real keys are longer.
    leaked = [s for s in sent if len(s) >= 4 and any(s in text for text in stored)]
    assert leaked == [], f"secret values stored in exchanges: {leaked}"


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
