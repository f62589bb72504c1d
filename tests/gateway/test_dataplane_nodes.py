"""Two data-plane nodes (two nginx processes) sharing Redis admit exactly the limit."""

import http.client
import threading

import pytest
from django.contrib.auth import get_user_model

from tests.backends import reply_with, scripted_server
from tests.factories import make_product, make_subscription
from tests.gateway.dataplane_fixtures import running_nginx
from tests.gateway.test_gateway import KEY_HEADER, register

pytestmark = pytest.mark.django_db

LIMIT = 20


@pytest.fixture
def shared_redis(settings, redis_url) -> str:
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url}
    }
    return redis_url


def test_two_nodes_admit_exactly_the_limit_between_them(shared_redis, tmp_path):
    from gateway.dataplane import keys

    with scripted_server(reply_with(200, body=b"ok")) as server:
        api = register(server.url)
        owner = get_user_model().objects.create(username="owner")
        key = make_subscription(user=owner, product=make_product(api, rate=LIMIT)).key("primary")
        keys.push_all()
        statuses: list[int] = []
        lock = threading.Lock()
        with (
            running_nginx(tmp_path / "one", redis_url=shared_redis, workers=2) as one,
            running_nginx(tmp_path / "two", redis_url=shared_redis, workers=2) as two,
        ):
            barrier = threading.Barrier(8)

            def client(base: str) -> None:
                port = int(base.rpartition(":")[2])
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
                barrier.wait()
                mine = []
                for _ in range(LIMIT // 2):
                    connection.request(
                        "GET", "/gateway/shop/v1/items/latest", headers={KEY_HEADER: key}
                    )
                    response = connection.getresponse()
                    response.read()
                    mine.append(response.status)
                connection.close()
                with lock:
                    statuses.extend(mine)

            threads = [threading.Thread(target=client, args=((one, two)[i % 2],)) for i in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(60)
    assert len(statuses) == 4 * LIMIT
    assert statuses.count(200) == LIMIT
    assert statuses.count(429) == 3 * LIMIT
    assert len(server.requests) == LIMIT
