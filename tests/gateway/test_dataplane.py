"""The gateway's answers, the same through both data planes: the in-process gateway and
nginx (gateway/dataplane/), against a scripted backend, counting in one Redis."""

import time

import pytest
from django.contrib.auth import get_user_model

from gateway.models import CallOutcome, GatewayCall, SubscriptionState
from gateway.subscriptions import regenerate_key
from tests.backends import reply_with, scripted_server
from tests.factories import make_product, make_subscription
from tests.gateway.dataplane_fixtures import call
from tests.gateway.test_gateway import KEY_HEADER, SANDBOX, register

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def backend():
    handler = reply_with(
        200,
        headers=[
            ("Content-Type", "application/json"),
            ("X-Backend", "yes"),
            ("Set-Cookie", "sessionid=stolen; Path=/"),
            ("Content-Security-Policy", "default-src *"),
            ("Cache-Control", "public, max-age=3600"),
            ("Refresh", "0; url=https://elsewhere.example/"),
        ],
        body=b'{"ok": true}',
    )
    with scripted_server(handler) as server:
        yield server


@pytest.fixture
def api(backend):
    return register(backend.url)


@pytest.fixture
def owner():
    return get_user_model().objects.create(username="owner")


@pytest.fixture
def subscription(api, owner):
    return make_subscription(user=owner, product=make_product(api, rate=3, quota=100))


@pytest.fixture
def key(subscription) -> str:
    return subscription.key("primary")


ITEM = "/gateway/shop/v1/items/7?api-version=2"


def within_a_second(status: int, send):
    """The first answer with `status`, which must come within a second: nginx's workers
    keep a key they looked up for PORTAL_DATAPLANE_KEY_CACHE_SECONDS."""
    deadline = time.monotonic() + 1.0
    while (answer := send()).status != status:
        assert time.monotonic() < deadline, f"still {answer.status} after a second"
        time.sleep(0.02)
    return answer


def test_a_call_with_a_key_is_forwarded_sandboxed_without_the_key(plane, backend, key):
    base = plane.start()
    answer = call(base, "GET", ITEM, headers={KEY_HEADER: key, "Cookie": "sessionid=mine"})
    assert answer.status == 200, answer.body
    assert answer.body == b'{"ok": true}'
    assert answer.header("X-Backend") == "yes"
    assert answer.header("Content-Security-Policy") == SANDBOX
    assert answer.header("X-Content-Type-Options") == "nosniff"
    assert answer.header("Cache-Control") == "no-store"
    # The backend's cookie stays behind (the in-process portal may expire its own).
    assert "stolen" not in (answer.header("Set-Cookie") or "")
    assert answer.header("Refresh") is None
    assert answer.header("X-RateLimit-Limit") == "3"
    assert answer.header("X-RateLimit-Remaining") == "2"
    assert answer.header("X-Quota-Remaining") == "99"
    (sent,) = backend.requests
    assert sent.target == "/base/items/7?api-version=2"
    assert sent.header(KEY_HEADER) is None
    assert sent.header("Cookie") is None
    plane.drain()
    (record,) = GatewayCall.objects.all()
    assert record.outcome == CallOutcome.FORWARDED
    assert record.status_code == 200
    assert record.subscription_id is not None
    assert record.path == ITEM


def test_a_call_without_a_key_is_refused_with_401(plane, backend, key):
    answer = call(plane.start(), "GET", ITEM)
    assert answer.status == 401
    error = answer.error()
    assert error["code"] == "MissingSubscriptionKey"
    assert KEY_HEADER in error["message"]
    assert backend.requests == []
    plane.drain()
    assert GatewayCall.objects.get().outcome == CallOutcome.NO_KEY


def test_a_wrong_key_is_refused_with_401(plane, backend, key):
    answer = call(plane.start(), "GET", ITEM, headers={KEY_HEADER: "0" * 32})
    assert answer.status == 401
    assert answer.error() == {
        "code": "InvalidSubscriptionKey",
        "message": "The subscription key is not valid for this API.",
    }
    assert backend.requests == []


def test_the_key_in_the_query_works_and_is_masked_in_the_record(plane, backend, api, key):
    api.subscription_key_query = "subscription-key"
    api.save()
    base = plane.start()
    answer = call(base, "GET", f"{ITEM}&subscription-key={key}")
    assert answer.status == 200, answer.body
    (sent,) = backend.requests
    assert key not in sent.target
    plane.drain()
    assert key not in GatewayCall.objects.get().path


def test_the_rate_limit_answers_429_with_retry_after(plane, backend, key):
    base = plane.start()
    answers = [call(base, "GET", ITEM, headers={KEY_HEADER: key}) for _ in range(4)]
    assert [a.status for a in answers] == [200, 200, 200, 429]
    refused = answers[-1]
    error = refused.error()
    assert error["code"] == "RateLimitExceeded"
    assert error["message"].startswith("Rate limit exceeded: at most 3 calls every 60 seconds.")
    assert int(refused.header("Retry-After")) > 0
    assert refused.header("X-RateLimit-Remaining") == "0"
    assert len(backend.requests) == 3
    plane.drain()
    assert GatewayCall.objects.filter(outcome=CallOutcome.RATE_LIMITED).count() == 1


def plenty_of_calls(subscription) -> None:
    # Calls made while waiting for a change must not meet the rate limit.
    subscription.product.rate_limit_calls = 1000
    subscription.product.save()


def test_a_suspended_subscription_is_refused_with_403(plane, backend, subscription, key):
    plenty_of_calls(subscription)
    base = plane.start()
    assert call(base, "GET", ITEM, headers={KEY_HEADER: key}).status == 200
    subscription.state = SubscriptionState.SUSPENDED
    subscription.save()
    answer = within_a_second(403, lambda: call(base, "GET", ITEM, headers={KEY_HEADER: key}))
    assert answer.error() == {
        "code": "SubscriptionSuspended",
        "message": "The subscription is suspended.",
    }
    sent = len(backend.requests)
    assert call(base, "GET", ITEM, headers={KEY_HEADER: key}).status == 403
    assert len(backend.requests) == sent


def test_unknown_paths_methods_and_query_keys(plane, backend, key):
    base = plane.start()
    headers = {KEY_HEADER: key}
    assert call(base, "GET", "/gateway/nothing/here", headers=headers).error()["code"] == (
        "ApiNotFound"
    )
    assert call(base, "GET", "/gateway/shop/v1/nope", headers=headers).error()["code"] == (
        "OperationNotFound"
    )
    refused = call(base, "PUT", "/gateway/shop/v1/items/7", headers=headers)
    assert refused.status == 405
    assert refused.header("Allow") == "DELETE, GET"
    unknown = call(base, "GET", f"{ITEM}&debug=1", headers=headers)
    assert unknown.status == 400
    assert unknown.error()["parameters"] == ["debug"]
    assert backend.requests == []


def redirecting(location: str):
    return reply_with(302, headers=[("Location", location)], body=b"")


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("/base/items/8", "/gateway/shop/v1/items/8"),
        ("8?page=2", "/gateway/shop/v1/items/8?page=2"),
        ("https://elsewhere.example/", None),
        ("//elsewhere.example/base/", None),
        ("/\\elsewhere.example/base/", None),
        ("/base/%2e%2e/admin", None),
        ("/base/../admin", None),
        ("javascript:alert(1)", None),
        ("/other/place", None),
    ],
)
def test_a_location_is_moved_under_the_gateway_or_refused(plane, location, expected, owner):
    with scripted_server(redirecting(location)) as server:
        api = register(server.url)
        product = make_product(api, rate=10)
        key = make_subscription(user=owner, product=product).key("primary")
        answer = call(plane.start(), "GET", ITEM, headers={KEY_HEADER: key})
    if expected is None:
        assert answer.status == 502
        assert answer.error()["kind"] == "redirect"
    else:
        assert answer.status == 302
        assert answer.header("Location") == expected


def test_a_backend_that_is_down_answers_502(plane, owner):
    from tests.backends import unused_port

    api = register(f"http://127.0.0.1:{unused_port()}")
    key = make_subscription(user=owner, product=make_product(api, rate=10)).key("primary")
    answer = call(plane.start(), "GET", ITEM, headers={KEY_HEADER: key})
    assert answer.status == 502
    error = answer.error()
    assert error["code"] == "BackendError"
    assert answer.header("X-RateLimit-Limit") == "10"
    plane.drain()
    assert GatewayCall.objects.get().outcome == CallOutcome.BACKEND_ERROR


def test_a_new_operation_is_served_once_the_routes_are_rendered_again(plane, backend, api, key):
    from tests.gateway.test_gateway import add_operation

    base = plane.start()
    assert call(base, "GET", "/gateway/shop/v1/stock", headers={KEY_HEADER: key}).status == 404
    add_operation(api, "stock", "GET", "/stock")
    plane.refresh()
    # nginx's new workers take over within moments (a second on a busy machine).
    deadline = time.monotonic() + 5
    while (
        answer := call(base, "GET", "/gateway/shop/v1/stock", headers={KEY_HEADER: key})
    ).status == 404:
        assert time.monotonic() < deadline, "the new route was not served within 5 s"
        time.sleep(0.05)
    assert answer.status == 200, answer.body
    assert backend.requests[-1].target == "/base/stock"


def test_a_regenerated_key_is_refused_within_a_second_and_the_new_one_works(
    plane, subscription, key
):
    plenty_of_calls(subscription)
    base = plane.start()
    assert call(base, "GET", ITEM, headers={KEY_HEADER: key}).status == 200
    fresh = regenerate_key(subscription=subscription, slot="primary")
    within_a_second(401, lambda: call(base, "GET", ITEM, headers={KEY_HEADER: key}))
    assert call(base, "GET", ITEM, headers={KEY_HEADER: fresh}).status == 200


def test_only_the_operations_headers_reach_the_backend(plane, backend, key):
    base = plane.start()
    headers = {
        KEY_HEADER: key,
        "X-Tenant": "acme",
        "X-Trace": "t-1",
        "X-Forwarded-For": "10.0.0.1",
        "Authorization": "Bearer portal-token",
        "X-HTTP-Method-Override": "DELETE",
        "Cookie": "csrftoken=portal",
        "Content-Type": "application/json",
    }
    answer = call(base, "POST", "/gateway/shop/v1/items?verbose=1", headers=headers, body=b"{}")
    assert answer.status == 200, answer.body
    (sent,) = backend.requests
    assert sent.method == "POST"
    assert sent.target == "/base/items?verbose=1"
    assert sent.header("X-Tenant") == "acme"
    assert sent.header("X-Trace") == "t-1"
    assert sent.header("Content-Type") == "application/json"
    assert sent.body == b"{}"
    for name in (KEY_HEADER, "X-Forwarded-For", "Authorization", "X-HTTP-Method-Override",
                 "Cookie"):  # fmt: skip
        assert sent.header(name) is None, name


def test_a_missing_required_header_is_a_400_and_nothing_is_sent(plane, backend, key):
    answer = call(plane.start(), "POST", "/gateway/shop/v1/items", headers={KEY_HEADER: key})
    assert answer.status == 400
    assert answer.error()["code"] == "MissingParameter"
    assert answer.error()["parameters"] == ["X-Tenant"]
    assert backend.requests == []


def test_an_answer_over_the_size_cap_is_a_502(plane, settings, owner):
    settings.PORTAL_OUTBOUND_MAX_RESPONSE_BYTES = 1000
    with scripted_server(reply_with(200, headers=[("Content-Type", "text/plain")],
                                    body=b"x" * 5000)) as server:  # fmt: skip
        api = register(server.url)
        key = make_subscription(user=owner, product=make_product(api, rate=10)).key("primary")
        answer = call(plane.start(), "GET", ITEM, headers={KEY_HEADER: key})
    assert answer.status == 502
    assert answer.error()["code"] == "BackendResponseTooLarge"


def test_both_planes_count_the_same_counters(plane, backend, subscription, key):
    """The in-process gateway and nginx run one Redis script on the same keys: the calls
    of one count against the other's limit."""
    from gateway.limits import admit

    for _ in range(2):
        assert admit(subscription=subscription, product=subscription.product).allowed
    base = plane.start()
    assert call(base, "GET", ITEM, headers={KEY_HEADER: key}).status == 200
    refused = call(base, "GET", ITEM, headers={KEY_HEADER: key})
    assert refused.status == 429
    assert refused.header("X-RateLimit-Remaining") == "0"


def test_secret_path_and_query_values_are_masked_in_the_record(plane, backend, key):
    base = plane.start()
    answer = call(
        base, "GET", "/gateway/shop/v1/keys/abc123?token=xyz789", headers={KEY_HEADER: key}
    )
    assert answer.status == 200, answer.body
    plane.drain()
    path = GatewayCall.objects.get().path
    assert "abc123" not in path
    assert "xyz789" not in path
    assert path == "/gateway/shop/v1/keys/••••••?token=••••••"


def test_a_bad_request_with_a_valid_key_carries_the_usage_headers(plane, backend, key):
    answer = call(plane.start(), "GET", f"{ITEM}&debug=1", headers={KEY_HEADER: key})
    assert answer.status == 400
    assert answer.header("X-RateLimit-Limit") == "3"
    assert answer.header("X-RateLimit-Remaining") == "3"


def test_a_body_over_the_cap_is_a_413_and_nothing_is_sent(plane, settings, backend, key):
    settings.PORTAL_OUTBOUND_MAX_REQUEST_BODY_BYTES = 100
    headers = {KEY_HEADER: key, "X-Tenant": "acme", "Content-Type": "application/json"}
    answer = call(
        plane.start(), "POST", "/gateway/shop/v1/items", headers=headers, body=b"x" * 1000
    )
    assert answer.status == 413
    assert answer.error()["code"] == "RequestBodyTooLarge"
    assert backend.requests == []


def test_a_missing_template_query_value_is_named_as_in_the_template(plane, backend, key):
    answer = call(plane.start(), "GET", "/gateway/shop/v1/items/7", headers={KEY_HEADER: key})
    assert answer.status == 400
    assert answer.error()["parameters"] == ["apiversion"]
    assert backend.requests == []
