"""manage.py dataplane: nginx started from the rendered configuration, the calls it
records drained into GatewayCall rows, a changed route reloaded, nginx stopped."""

import threading
import time

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from gateway.dataplane import runner
from gateway.models import CallOutcome, GatewayCall
from tests.backends import reply_with, scripted_server
from tests.factories import make_product, make_subscription
from tests.gateway.dataplane_fixtures import call
from tests.gateway.test_gateway import KEY_HEADER, add_operation, register
from tests.processes import free_port

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shared_redis(settings, redis_url) -> str:
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url}
    }
    settings.REDIS_URL = redis_url
    return redis_url


def eventually(check, *, within: float = 10.0):
    deadline = time.monotonic() + within
    while not (found := check()):
        assert time.monotonic() < deadline, "not within the time"
        time.sleep(0.05)
    return found


def test_the_runner_serves_records_reloads_and_stops(shared_redis, tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "REFRESH_SECONDS", 0.2)
    with scripted_server(reply_with(200, body=b"ok")) as server:
        api = register(server.url)
        owner = get_user_model().objects.create(username="owner")
        key = make_subscription(user=owner, product=make_product(api, rate=10)).key("primary")
        port = free_port()
        stop = threading.Event()
        thread = threading.Thread(
            target=runner.run,
            kwargs={
                "directory": tmp_path / "dp",
                "listen": f"127.0.0.1:{port}",
                "redis_url": shared_redis,
                "stop": stop,
            },
        )
        thread.start()
        try:
            base = f"http://127.0.0.1:{port}"

            def answered():
                try:
                    return call(base, "GET", "/gateway/shop/v1/items/latest",
                                headers={KEY_HEADER: key})  # fmt: skip
                except OSError:
                    return None

            assert eventually(answered).status == 200
            eventually(lambda: GatewayCall.objects.filter(outcome=CallOutcome.FORWARDED).exists())
            add_operation(api, "stock", "GET", "/stock")
            eventually(
                lambda: (
                    call(base, "GET", "/gateway/shop/v1/stock", headers={KEY_HEADER: key}).status
                    == 200
                )
            )
        finally:
            stop.set()
            thread.join(60)
    assert not thread.is_alive()
    with pytest.raises(OSError):
        call(f"http://127.0.0.1:{port}", "GET", "/gateway/")


def test_the_command_needs_redis(settings):
    settings.REDIS_URL = ""
    with pytest.raises(CommandError, match="REDIS_URL"):
        call_command("dataplane", "--render-only")


def test_the_command_renders_the_configuration(shared_redis, tmp_path, capsys):
    call_command(
        "dataplane", "--render-only", "--directory", str(tmp_path), "--listen", "127.0.0.1:9"
    )
    conf = (tmp_path / "nginx.conf").read_text()
    assert "listen 127.0.0.1:9 reuseport;" in conf
    assert (tmp_path / "dataplane_config.lua").read_text().startswith("return {")
