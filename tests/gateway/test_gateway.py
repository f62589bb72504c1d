"""/gateway/<url suffix>/<path>: the gateway view, against scripted backends on loopback.

Every refused call is checked twice: the exact answer, and that the backend saw no
connection at all.
"""

import json

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from catalog.models import Api, Operation, Parameter, ParameterLocation
from catalog.registration import create_missing_template_parameters
from gateway.models import CallOutcome, CallSource, GatewayCall, SubscriptionState
from tests.backends import Exchange, blackhole, reply_with, scripted_server, unused_port
from tests.factories import make_product, make_subscription

pytestmark = pytest.mark.django_db

KEY_HEADER = "Ocp-Apim-Subscription-Key"
JSON_HEADERS = [("Content-Type", "application/json")]
SANDBOX = "sandbox; default-src 'none'"


def add_operation(
    api: Api,
    slug: str,
    method: str,
    template: str,
    *,
    required: tuple[str, ...] = (),
    query: tuple[str, ...] = (),
    headers: tuple[str, ...] = (),
    secret: tuple[str, ...] = (),
) -> Operation:
    operation = Operation.objects.create(
        api=api,
        name=slug.replace("-", " ").title(),
        slug=slug,
        method=method,
        url_template=template,
    )
    create_missing_template_parameters(operation=operation)
    for name in query:
        Parameter.objects.create(operation=operation, name=name, location=ParameterLocation.QUERY)
    for name in headers:
        Parameter.objects.create(operation=operation, name=name, location=ParameterLocation.HEADER)
    operation.parameters.filter(name__in=required).update(required=True)
    operation.parameters.filter(name__in=secret).update(secret=True)
    return operation


def register(service_url: str, *, suffix: str = "shop/v1") -> Api:
    api = Api.objects.create(
        name="Shop", slug="shop", service_url=f"{service_url}/base", url_suffix=suffix
    )
    add_operation(
        api, "get-item", "GET", "/items/{item}?api-version={apiversion}", required=("apiversion",)
    )
    add_operation(api, "latest-item", "GET", "/items/latest")
    add_operation(api, "delete-item", "DELETE", "/items/{item}")
    add_operation(
        api,
        "add-item",
        "POST",
        "/items",
        query=("verbose", "tag"),
        headers=("X-Trace", "X-Tenant"),
        required=("X-Tenant",),
    )
    add_operation(api, "search", "GET", "/search?filter=name:{name}&format=json")
    add_operation(api, "by-key", "GET", "/keys/{apikey}?token={token}", secret=("apikey", "token"))
    return api


@pytest.fixture
def backend():
    handler = reply_with(
        200,
        headers=[
            *JSON_HEADERS,
            ("X-Backend", "yes"),
            ("Set-Cookie", "sessionid=stolen; Path=/"),
            ("Link", "</a>; rel=a"),
            ("Link", "</b>; rel=b"),
            ("Connection", "close, X-Hop"),
            ("X-Hop", "hop"),
            ("Server", "backend/1.0"),
            ("Content-Security-Policy", "default-src *"),
            ("Cache-Control", "public, max-age=3600"),
        ],
        body=b'{"ok": true}',
    )
    with scripted_server(handler) as server:
        yield server


@pytest.fixture
def api(backend) -> Api:
    return register(backend.url)


@pytest.fixture
def owner():
    # No password: hashing one costs half a second.
    return get_user_model().objects.create(username="owner")


@pytest.fixture
def product(api):
    return make_product(api, rate=5, quota=100)


@pytest.fixture
def subscription(product, owner):
    return make_subscription(user=owner, product=product)


@pytest.fixture
def key(subscription) -> str:
    return subscription.key("primary")


def error_of(response) -> dict:
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    assert response["X-Content-Type-Options"] == "nosniff"
    return json.loads(response.content)["error"]


def last_call() -> GatewayCall:
    call = GatewayCall.objects.order_by("-id").first()
    assert call is not None, "no gateway call recorded"
    return call


# --- Forwarding ---------------------------------------------------------------------------


def test_a_call_is_forwarded_and_the_answer_passed_back(client, backend, api, key, owner):
    response = client.get(
        "/gateway/shop/v1/items/42?api-version=2.0",
        headers={KEY_HEADER: key, "Accept": "application/json"},
    )
    assert response.status_code == 200
    assert response.content == b'{"ok": true}'
    [sent] = backend.requests
    assert (sent.method, sent.target) == ("GET", "/base/items/42?api-version=2.0")
    assert sent.header("Accept") == "application/json"
    assert sent.header("Host") == backend.url.removeprefix("http://")
    assert response["Content-Type"] == "application/json"
    assert response["X-Backend"] == "yes"
    assert response["Link"] == "</a>; rel=a, </b>; rel=b"
    assert response["Content-Length"] == "12"
    assert response["X-RateLimit-Limit"] == "5"
    assert response["X-RateLimit-Remaining"] == "4"
    assert response["X-Quota-Remaining"] == "99"
    assert "Retry-After" not in response


def test_the_answer_cannot_act_on_the_portals_origin(client, backend, api, key):
    response = client.get("/gateway/shop/v1/items/42?api-version=2.0", headers={KEY_HEADER: key})
    assert response.status_code == 200
    assert "Set-Cookie" not in response
    assert not response.cookies
    assert "X-Hop" not in response  # named by Connection: hop-by-hop
    assert response["Content-Security-Policy"] == SANDBOX
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "no-store"
    assert response.get("Server") != "backend/1.0"
    assert "Cookie" not in response.get("Vary", "")


def test_the_call_is_recorded(client, backend, api, key, subscription, owner, product):
    client.get("/gateway/shop/v1/items/42?api-version=2.0", headers={KEY_HEADER: key})
    call = last_call()
    assert call.source == CallSource.GATEWAY
    assert (call.api, call.operation.slug) == (api, "get-item")
    assert (call.subscription, call.product, call.user) == (subscription, product, owner)
    assert (call.method, call.path) == ("GET", "/gateway/shop/v1/items/42?api-version=2.0")
    assert (call.outcome, call.status_code, call.error_kind) == (CallOutcome.FORWARDED, 200, "")
    assert call.duration_ms >= call.backend_duration_ms > 0
    assert (call.request_bytes, call.response_bytes) == (0, 12)
    assert call.client_address == "127.0.0.1"


def test_a_body_is_forwarded_with_declared_query_and_header_parameters(client, backend, api, key):
    response = client.post(
        "/gateway/shop/v1/items?verbose=true&tag=a&tag=b%20c",
        data=b'{"name": "chair"}',
        content_type="application/json",
        headers={KEY_HEADER: key, "X-Trace": "t-1", "X-Tenant": "acme"},
    )
    assert response.status_code == 200
    [sent] = backend.requests
    assert (sent.method, sent.target) == ("POST", "/base/items?verbose=true&tag=a&tag=b%20c")
    assert sent.body == b'{"name": "chair"}'
    assert sent.header("Content-Type") == "application/json"
    assert (sent.header("X-Trace"), sent.header("X-Tenant")) == ("t-1", "acme")
    assert last_call().request_bytes == 17


def test_only_declared_and_standard_headers_reach_the_backend(client, backend, api, key):
    client.post(
        "/gateway/shop/v1/items",
        data=b"{}",
        content_type="application/json",
        headers={
            KEY_HEADER: key,
            "X-Tenant": "acme",
            "Accept": "application/json",
            "Accept-Language": "fr",
            "If-Match": '"v1"',
            "If-None-Match": '"v2"',
            "Authorization": "Bearer not-declared-token",
            "Cookie": "sessionid=abc",
            "X-Forwarded-For": "10.0.0.1",
            "X-Undeclared": "no",
            "Origin": "https://evil.example",
        },
    )
    [sent] = backend.requests
    names = {name.lower() for name in sent.header_names}
    assert names >= {"x-tenant", "accept", "accept-language", "if-match", "if-none-match"}
    for dropped in (
        KEY_HEADER,
        "authorization",
        "cookie",
        "x-forwarded-for",
        "x-undeclared",
        "origin",
    ):
        assert dropped.lower() not in names
    assert sent.header("Accept-Language") == "fr"


def test_method_overrides_and_max_forwards_stay_behind(client, backend, api, key):
    response = client.post(
        "/gateway/shop/v1/items",
        data=b"{}",
        content_type="application/json",
        headers={
            KEY_HEADER: key,
            "X-Tenant": "acme",
            "X-HTTP-Method-Override": "DELETE",
            "X-HTTP-Method": "DELETE",
            "X-Method-Override": "DELETE",
            "Max-Forwards": "0",
        },
    )
    assert response.status_code == 200
    [sent] = backend.requests
    assert (sent.method, sent.target) == ("POST", "/base/items")
    names = {name.lower() for name in sent.header_names}
    assert not names & {"x-http-method-override", "x-http-method", "x-method-override"}
    assert "max-forwards" not in names


OVERRIDING_HEADERS = {
    "X-HTTP-Method-Override": "DELETE",
    "X-HTTP-Method": "DELETE",
    "X-Method-Override": "DELETE",
    "Max-Forwards": "0",
}


def test_method_overrides_and_max_forwards_never_reach_the_backend(client, backend, api, key):
    response = client.get(
        "/gateway/shop/v1/items/7?api-version=2", headers={KEY_HEADER: key, **OVERRIDING_HEADERS}
    )
    assert response.status_code == 200
    [sent] = backend.requests
    assert (sent.method, sent.target) == ("GET", "/base/items/7?api-version=2")
    names = {name.lower() for name in sent.header_names}
    assert names.isdisjoint(name.lower() for name in OVERRIDING_HEADERS)


def test_method_overrides_stay_behind_even_when_the_operation_declares_them(
    client, backend, api, key
):
    operation = api.operations.get(slug="get-item")
    for name in OVERRIDING_HEADERS:
        Parameter.objects.create(operation=operation, name=name, location=ParameterLocation.HEADER)
    response = client.get(
        "/gateway/shop/v1/items/7?api-version=2", headers={KEY_HEADER: key, **OVERRIDING_HEADERS}
    )
    assert response.status_code == 200
    [sent] = backend.requests
    assert sent.method == "GET"
    names = {name.lower() for name in sent.header_names}
    assert names.isdisjoint(name.lower() for name in OVERRIDING_HEADERS)


def test_no_content_type_goes_without_a_body(client, backend, api, key):
    client.generic(
        "DELETE", "/gateway/shop/v1/items/7", headers={KEY_HEADER: key}, CONTENT_TYPE="text/plain"
    )
    [sent] = backend.requests
    assert (sent.method, sent.target, sent.body) == ("DELETE", "/base/items/7", b"")
    assert sent.header("Content-Type") is None


def test_an_encoded_slash_stays_inside_its_segment(client, backend, api, key):
    # gunicorn keeps the request line in RAW_URI; the test client does not, so it is given.
    response = client.get(
        "/gateway/shop/v1/items/a%2Fb%20c?api-version=2.0",
        headers={KEY_HEADER: key},
        RAW_URI="/gateway/shop/v1/items/a%2Fb%20c?api-version=2.0",
    )
    assert response.status_code == 200
    assert backend.requests[0].target == "/base/items/a%2Fb%20c?api-version=2.0"


def test_without_the_raw_path_an_encoded_slash_separates_segments(client, backend, api, key):
    response = client.get("/gateway/shop/v1/items/a%2Fb?api-version=2.0", headers={KEY_HEADER: key})
    assert response.status_code == 404
    assert backend.connections == 0


def test_a_literal_path_beats_a_placeholder(client, backend, api, key):
    assert client.get("/gateway/shop/v1/items/latest", headers={KEY_HEADER: key}).status_code == 200
    assert backend.requests[0].target == "/base/items/latest"
    assert last_call().operation.slug == "latest-item"


def test_the_longest_suffix_wins(client, backend, api, key):
    other = Api.objects.create(
        name="Shop v1 admin",
        slug="shop-admin",
        service_url=f"{backend.url}/admin",
        url_suffix="shop/v1/admin",
    )
    add_operation(other, "stats", "GET", "/stats")
    assert client.get("/gateway/shop/v1/admin/stats").status_code == 200
    assert backend.requests[0].target == "/admin/stats"


def test_query_placeholders_with_text_around_them(client, backend, api, key):
    response = client.get(
        "/gateway/shop/v1/search?filter=name:bob%26co&format=json", headers={KEY_HEADER: key}
    )
    assert response.status_code == 200
    assert backend.requests[0].target == "/base/search?filter=name:bob%26co&format=json"


def answering_with(*headers: tuple[str, str], status: int = 302):
    """A backend answering every call with `status` and these headers."""
    return scripted_server(reply_with(status, headers=[*headers, ("Content-Type", "text/plain")]))


# The backend is called at {backend}/base/items/latest ({backend}: http://{netloc}); each
# Location as the backend sends it, and where the caller is sent.
KEPT_LOCATIONS = [
    ("{backend}/base/items/9?x=1", "/gateway/shop/v1/items/9?x=1"),
    ("{backend}/base", "/gateway/shop/v1"),
    ("{backend}/base?page=2", "/gateway/shop/v1?page=2"),
    ("{backend}/base/items/9#part", "/gateway/shop/v1/items/9#part"),
    ("HTTP://{netloc}/base/items/9", "/gateway/shop/v1/items/9"),
    # Relative to the URL the gateway called, as a client resolves them.
    ("9", "/gateway/shop/v1/items/9"),
    ("../other/1", "/gateway/shop/v1/other/1"),
    ("/base/items/9", "/gateway/shop/v1/items/9"),
    ("?page=2", "/gateway/shop/v1/items/latest?page=2"),
    ("http:9", "/gateway/shop/v1/items/9"),
]
REFUSED_LOCATIONS = [
    "http://127.0.0.2:9999/x",
    "https://elsewhere.example/items/9",
    "//elsewhere.example/x",
    "///elsewhere.example/x",
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "\\\\elsewhere.example\\x",
    "http:/\\elsewhere.example/x",
    "/\\elsewhere.example/x",
    "https:elsewhere.example",
    "\tjavascript:alert(1)",
    "{backend}/basement",
    "{backend}/",
    "/x",
    "/",
    "../../x",
    "{backend}/base/../admin",
    "{backend}/base/%2e%2e/%2E%2e/admin",
    "{backend}/base/./items",
    "https://{netloc}/base/items/9",
    "http://user@{netloc}/base/items/9",
    "http://{netloc}:80/base/items/9",
    "http://127.0.0.1:notaport/base",
]


def spelled(location: str, server) -> str:
    netloc = server.url.removeprefix("http://")
    return location.format(backend=server.url, netloc=netloc)


@pytest.mark.parametrize(("location", "expected"), KEPT_LOCATIONS)
def test_a_location_under_the_backends_url_points_under_the_gateway(
    client, api, key, location, expected
) -> None:
    holder: list[str] = []

    def handler(exchange: Exchange) -> None:
        exchange.respond(302, headers=[("Location", holder[0])])

    with scripted_server(handler) as server:
        api.service_url = f"{server.url}/base"
        api.save()
        holder.append(spelled(location, server))
        response = client.get("/gateway/shop/v1/items/latest", headers={KEY_HEADER: key})

    assert (response.status_code, response["Location"]) == (302, expected)
    assert last_call().outcome == CallOutcome.FORWARDED


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308, 201])
@pytest.mark.parametrize("location", REFUSED_LOCATIONS)
def test_a_location_anywhere_else_is_a_502_without_it(client, api, key, location, status) -> None:
    with scripted_server() as decoy:
        holder: list[str] = []

        def handler(exchange: Exchange) -> None:
            exchange.respond(status, headers=[("Location", holder[0])], body=b"moved")

        with scripted_server(handler) as server:
            api.service_url = f"{server.url}/base"
            api.save()
            holder.append(spelled(location, server))
            response = client.get("/gateway/shop/v1/items/latest", headers={KEY_HEADER: key})
            assert len(server.requests) == 1

    assert response.status_code == 502
    assert "Location" not in response
    assert error_of(response) == {
        "code": "BackendError",
        "message": "The backend answered with a Location outside its own URL; the gateway "
        "does not pass it on.",
        "kind": "redirect",
    }
    assert response["X-RateLimit-Remaining"] == "4"
    assert decoy.connections == 0
    call = last_call()
    assert (call.outcome, call.status_code, call.error_kind) == (
        CallOutcome.BACKEND_ERROR,
        502,
        "redirect",
    )


def test_two_locations_are_a_502(client, api, key):
    with answering_with(("Location", "/base/a"), ("Location", "/base/b")) as server:
        api.service_url = f"{server.url}/base"
        api.save()
        response = client.get("/gateway/shop/v1/items/latest", headers={KEY_HEADER: key})
    assert response.status_code == 502
    assert "Location" not in response
    assert error_of(response)["kind"] == "redirect"


def test_a_refresh_header_stays_behind(client, api, key):
    with answering_with(("Refresh", "0; url=https://elsewhere.example/"), status=200) as server:
        api.service_url = f"{server.url}/base"
        api.save()
        response = client.get("/gateway/shop/v1/items/latest", headers={KEY_HEADER: key})
    assert response.status_code == 200
    assert "Refresh" not in response


def test_an_api_in_no_product_needs_no_key(client, backend, api):
    response = client.get("/gateway/shop/v1/items/latest")
    assert response.status_code == 200
    assert "X-RateLimit-Limit" not in response
    call = last_call()
    assert (call.subscription, call.user, call.outcome) == (None, None, CallOutcome.FORWARDED)


def test_a_product_without_subscription_required_asks_for_no_key(client, backend, api):
    make_product(api, slug="open", subscription_required=False)
    assert client.get("/gateway/shop/v1/items/latest").status_code == 200


def test_the_view_needs_no_csrf_token_and_sets_no_cookie(backend, api, key):
    csrf_client = Client(enforce_csrf_checks=True)
    response = csrf_client.post(
        "/gateway/shop/v1/items",
        data=b"{}",
        content_type="application/json",
        headers={KEY_HEADER: key, "X-Tenant": "acme"},
    )
    assert response.status_code == 200
    assert not response.cookies


# --- The key --------------------------------------------------------------------------------


def test_the_key_in_the_header_is_stripped(client, backend, api, key):
    client.get("/gateway/shop/v1/items/latest", headers={KEY_HEADER: key})
    assert backend.requests[0].header(KEY_HEADER) is None


def test_the_key_in_the_query_is_stripped_and_masked(client, backend, api, key):
    response = client.get(f"/gateway/shop/v1/items/1?subscription-key={key}&api-version=2.0")
    assert response.status_code == 200
    assert backend.requests[0].target == "/base/items/1?api-version=2.0"
    assert last_call().path == "/gateway/shop/v1/items/1?subscription-key=••••••&api-version=2.0"


def test_the_header_wins_over_the_query(client, backend, api, key, subscription):
    other = subscription.key("secondary")
    # A valid header and a wrong query key: the header decides, and neither goes on.
    response = client.get(
        "/gateway/shop/v1/items/latest?subscription-key=wrong-key-value",
        headers={KEY_HEADER: key},
    )
    assert response.status_code == 200
    assert backend.requests[0].target == "/base/items/latest"
    assert backend.requests[0].header(KEY_HEADER) is None
    # A wrong header and a valid query key: the header decides.
    response = client.get(
        f"/gateway/shop/v1/items/latest?subscription-key={other}",
        headers={KEY_HEADER: "wrong-key-value"},
    )
    assert response.status_code == 401
    assert error_of(response)["code"] == "InvalidSubscriptionKey"
    assert len(backend.requests) == 1


def test_the_key_names_are_configured_per_api(client, backend, api, key):
    api.subscription_key_header = "X-Shop-Key"
    api.subscription_key_query = "shop-key"
    api.save()
    assert (
        client.get("/gateway/shop/v1/items/latest", headers={"X-Shop-Key": key}).status_code == 200
    )
    assert client.get(f"/gateway/shop/v1/items/latest?shop-key={key}").status_code == 200
    assert [r.target for r in backend.requests] == ["/base/items/latest"] * 2
    assert backend.requests[0].header("X-Shop-Key") is None
    # The default names are no key now: the header is dropped, the query key unknown.
    response = client.get("/gateway/shop/v1/items/latest", headers={KEY_HEADER: key})
    assert (response.status_code, error_of(response)["code"]) == (401, "MissingSubscriptionKey")
    assert "X-Shop-Key header or the shop-key query parameter" in error_of(response)["message"]


def test_a_missing_key_is_401(client, backend, api, product):
    response = client.get("/gateway/shop/v1/items/latest")
    assert response.status_code == 401
    assert error_of(response) == {
        "code": "MissingSubscriptionKey",
        "message": "This API needs a subscription key: send it in the Ocp-Apim-Subscription-Key "
        "header or the subscription-key query parameter.",
    }
    assert backend.connections == 0
    call = last_call()
    assert (call.outcome, call.status_code, call.subscription) == (CallOutcome.NO_KEY, 401, None)


@pytest.mark.parametrize("wrong", ["0" * 32, "not a key", "x" * 5000])
def test_an_invalid_key_is_401(client, backend, api, product, wrong):
    response = client.get("/gateway/shop/v1/items/latest", headers={KEY_HEADER: wrong})
    assert response.status_code == 401
    assert error_of(response) == {
        "code": "InvalidSubscriptionKey",
        "message": "The subscription key is not valid for this API.",
    }
    assert backend.connections == 0
    assert last_call().outcome == CallOutcome.INVALID_KEY


def test_a_key_of_another_products_api_is_401(client, backend, api, product, owner):
    elsewhere = Api.objects.create(
        name="Other", slug="other", service_url=backend.url, url_suffix="other"
    )
    other_key = make_subscription(user=owner, product=make_product(elsewhere, slug="other")).key(
        "primary"
    )
    response = client.get("/gateway/shop/v1/items/latest", headers={KEY_HEADER: other_key})
    assert (response.status_code, error_of(response)["code"]) == (401, "InvalidSubscriptionKey")
    assert backend.connections == 0


@pytest.mark.parametrize(
    ("state", "code", "message"),
    [
        (
            SubscriptionState.SUBMITTED,
            "SubscriptionNotApproved",
            "The subscription is awaiting an admin's approval.",
        ),
        (SubscriptionState.SUSPENDED, "SubscriptionSuspended", "The subscription is suspended."),
        (SubscriptionState.CANCELLED, "SubscriptionCancelled", "The subscription is cancelled."),
        (SubscriptionState.REJECTED, "SubscriptionRejected", "The subscription was rejected."),
    ],
)
def test_a_subscription_that_is_not_active_is_403(
    client, backend, api, product, owner, state, code, message
):
    inactive = make_subscription(user=owner, product=product, state=state)
    response = client.get(
        "/gateway/shop/v1/items/latest", headers={KEY_HEADER: inactive.key("primary")}
    )
    assert response.status_code == 403
    assert error_of(response) == {"code": code, "message": message}
    assert "Retry-After" not in response
    assert backend.connections == 0
    call = last_call()
    assert (call.outcome, call.subscription, call.user) == (
        CallOutcome.INACTIVE_SUBSCRIPTION,
        inactive,
        owner,
    )


def test_the_secondary_key_works_too(client, backend, api, subscription):
    response = client.get(
        "/gateway/shop/v1/items/latest", headers={KEY_HEADER: subscription.key("secondary")}
    )
    assert response.status_code == 200


# --- Limits -------------------------------------------------------------------------------


def test_past_the_rate_limit_429_with_retry_after(client, backend, api, key, owner):
    answers = [
        client.get("/gateway/shop/v1/items/latest", headers={KEY_HEADER: key}) for _ in range(7)
    ]
    assert [a.status_code for a in answers] == [200] * 5 + [429] * 2
    assert [a["X-RateLimit-Remaining"] for a in answers] == ["4", "3", "2", "1", "0", "0", "0"]
    refused = answers[5]
    error = error_of(refused)
    assert error["code"] == "RateLimitExceeded"
    assert error["message"].startswith("Rate limit exceeded: at most 5 calls every 60 seconds.")
    assert 1 <= int(refused["Retry-After"]) <= 120
    assert refused["X-RateLimit-Limit"] == "5"
    assert refused["X-Quota-Remaining"] == "95"
    assert len(backend.requests) == 5
    assert last_call().outcome == CallOutcome.RATE_LIMITED


def test_past_the_quota_403_with_retry_after(client, backend, api, owner):
    product = make_product(api, slug="tiny", quota=2, quota_period=3600)
    key = make_subscription(user=owner, product=product).key("primary")
    answers = [
        client.get("/gateway/shop/v1/items/latest", headers={KEY_HEADER: key}) for _ in range(3)
    ]
    assert [a.status_code for a in answers] == [200, 200, 403]
    error = error_of(answers[2])
    assert error["code"] == "QuotaExceeded"
    assert 1 <= int(answers[2]["Retry-After"]) <= 3600
    assert answers[2]["Retry-After"] == answers[2]["X-Quota-Reset"]
    assert answers[2]["X-Quota-Remaining"] == "0"
    assert len(backend.requests) == 2
    assert last_call().outcome == CallOutcome.QUOTA_EXCEEDED


def test_refused_bad_requests_carry_the_usage_and_are_not_counted(client, backend, api, key):
    response = client.get("/gateway/shop/v1/items/latest?debug=1", headers={KEY_HEADER: key})
    assert response.status_code == 400
    assert response["X-RateLimit-Remaining"] == "5"
    assert response["X-Quota-Remaining"] == "100"
    ok = client.get("/gateway/shop/v1/items/latest", headers={KEY_HEADER: key})
    assert ok["X-RateLimit-Remaining"] == "4"


def test_an_inactive_subscription_is_told_its_usage(client, backend, api, product, owner):
    suspended = make_subscription(user=owner, product=product, state=SubscriptionState.SUSPENDED)
    response = client.get(
        "/gateway/shop/v1/items/latest", headers={KEY_HEADER: suspended.key("primary")}
    )
    assert (response.status_code, response["X-RateLimit-Remaining"]) == (403, "5")


# --- Paths that name nothing ----------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/gateway/", "/gateway/nothing/here", "/gateway/shop", "/gateway/shopping/v1/items/1"],
)
def test_a_path_under_no_api_is_404(client, backend, api, key, path):
    response = client.get(f"{path}?subscription-key={key}", headers={KEY_HEADER: key})
    assert response.status_code == 404
    assert error_of(response) == {
        "code": "ApiNotFound",
        "message": "No API is published under this path.",
    }
    assert backend.connections == 0
    call = last_call()
    assert (call.api, call.outcome, call.status_code) == (None, CallOutcome.NOT_FOUND, 404)
    # Before the API is known any query value might be a key: all are masked.
    assert call.path == f"{path}?subscription-key=••••••"


def test_an_unpublished_api_or_one_without_a_suffix_is_not_on_the_gateway(client, backend, api):
    api.published = False
    api.save()
    assert client.get("/gateway/shop/v1/items/latest").status_code == 404
    api.published, api.url_suffix = True, ""
    api.save()
    assert client.get("/gateway/shop/v1/items/latest").status_code == 404
    assert client.get("/gateway/items/latest").status_code == 404
    assert backend.connections == 0


@pytest.mark.parametrize(
    "path",
    [
        "/gateway/shop/v1/",
        "/gateway/shop/v1/nothing",
        "/gateway/shop/v1/items/",
        "/gateway/shop/v1/items/1/2",
        "/gateway/shop/v1/Items/1",
    ],
)
def test_a_path_matching_no_operation_is_404(client, backend, api, key, path):
    response = client.get(path, headers={KEY_HEADER: key})
    assert response.status_code == 404
    assert error_of(response) == {
        "code": "OperationNotFound",
        "message": "Shop has no operation at this path.",
    }
    assert backend.connections == 0
    call = last_call()
    assert (call.api, call.operation, call.outcome) == (api, None, CallOutcome.NOT_FOUND)


def test_a_removed_operation_is_404(client, backend, api, key):
    for slug in ("search", "delete-item"):
        removed = Operation.objects.get(slug=slug)
        removed.removed = True
        removed.save()
    response = client.get("/gateway/shop/v1/search?format=json", headers={KEY_HEADER: key})
    assert (response.status_code, error_of(response)["code"]) == (404, "OperationNotFound")
    response = client.delete("/gateway/shop/v1/items/7", headers={KEY_HEADER: key})
    assert (response.status_code, response["Allow"]) == (405, "GET")
    assert backend.connections == 0


def test_another_method_is_405_with_allow(client, backend, api, key):
    response = client.put("/gateway/shop/v1/items/7", headers={KEY_HEADER: key})
    assert response.status_code == 405
    assert response["Allow"] == "DELETE, GET"
    assert error_of(response) == {
        "code": "MethodNotAllowed",
        "message": "This path of Shop does not take PUT; it takes DELETE, GET.",
    }
    assert backend.connections == 0
    assert last_call().outcome == CallOutcome.NOT_FOUND


def test_routes_are_checked_before_the_key(client, backend, api, product):
    # No key, unknown path: 404, not 401.
    assert client.get("/gateway/shop/v1/nothing").status_code == 404


# --- Bad requests ---------------------------------------------------------------------------


def test_an_undeclared_query_parameter_is_400_naming_it(client, backend, api, key):
    response = client.get(
        "/gateway/shop/v1/items/1?api-version=2&debug=1&admin=true&debug=2",
        headers={KEY_HEADER: key},
    )
    assert response.status_code == 400
    assert error_of(response) == {
        "code": "UnknownQueryParameter",
        "message": "The operation has no query parameter debug, admin.",
        "parameters": ["debug", "admin"],
    }
    assert backend.connections == 0
    assert last_call().outcome == CallOutcome.BAD_REQUEST


def test_a_missing_required_value_is_400_naming_it(client, backend, api, key):
    response = client.get("/gateway/shop/v1/items/1", headers={KEY_HEADER: key})
    assert response.status_code == 400
    assert error_of(response) == {
        "code": "MissingParameter",
        "message": "Missing required parameter: apiversion.",
        "parameters": ["apiversion"],
    }
    response = client.get("/gateway/shop/v1/items/1?api-version=", headers={KEY_HEADER: key})
    assert error_of(response)["parameters"] == ["apiversion"]
    response = client.post(
        "/gateway/shop/v1/items",
        data=b"{}",
        content_type="application/json",
        headers={KEY_HEADER: key},
    )
    assert (response.status_code, error_of(response)["parameters"]) == (400, ["X-Tenant"])
    assert backend.connections == 0


def test_an_optional_query_placeholder_may_be_left_out(client, backend, api, key):
    response = client.get("/gateway/shop/v1/search?format=json", headers={KEY_HEADER: key})
    assert response.status_code == 200
    assert backend.requests[0].target == "/base/search?format=json"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("filter=bob", "The query parameter filter must look like name:{name}."),
        ("format=xml", "The query parameter format is fixed to 'json' by the operation."),
        ("filter=name:a&filter=name:b", "The query parameter filter is given twice."),
    ],
)
def test_template_query_values_that_do_not_fit_are_400(client, backend, api, key, query, message):
    response = client.get(f"/gateway/shop/v1/search?{query}", headers={KEY_HEADER: key})
    assert response.status_code == 400
    error = error_of(response)
    assert (error["code"], error["message"]) == ("InvalidParameter", message)
    assert backend.connections == 0


@pytest.mark.parametrize(
    ("raw", "parameter"),
    [
        ("/gateway/shop/v1/items/%2E%2E?api-version=2", "item"),
        ("/gateway/shop/v1/items/a%2F..%2Fb?api-version=2", "item"),
        # The gateway decodes a segment once; a value that decodes to a dot segment once
        # more is refused as Try it refuses it (a backend may decode twice).
        ("/gateway/shop/v1/items/%252e%252e?api-version=2", "item"),
        ("/gateway/shop/v1/items/%252E.?api-version=2", "item"),
        ("/gateway/shop/v1/items/.%252e?api-version=2", "item"),
        ("/gateway/shop/v1/items/a%252f%252e%252e%252fb?api-version=2", "item"),
        ("/gateway/shop/v1/items/%252e%252e%255cadmin?api-version=2", "item"),
        ("/gateway/shop/v1/items/%FF?api-version=2", "item"),
        ("/gateway/shop/v1/items/%00?api-version=2", "item"),
    ],
)
def test_a_path_value_bind_refuses_is_400_naming_it(client, backend, api, key, raw, parameter):
    response = client.get(raw, headers={KEY_HEADER: key}, RAW_URI=raw)
    assert response.status_code == 400
    error = error_of(response)
    assert (error["code"], error["parameter"]) == ("InvalidParameter", parameter)
    assert backend.connections == 0


def test_a_header_value_bind_refuses_is_400(client, backend, api, key):
    response = client.post(
        "/gateway/shop/v1/items",
        data=b"{}",
        content_type="application/json",
        headers={KEY_HEADER: key, "X-Tenant": "caf\u00e9"},
    )
    assert response.status_code == 400
    error = error_of(response)
    assert (error["code"], error["parameter"]) == ("InvalidParameter", "headers")
    assert "X-Tenant" in error["message"]
    assert backend.connections == 0


def test_a_body_on_get_is_400(client, backend, api, key):
    response = client.generic(
        "GET", "/gateway/shop/v1/items/latest", data=b"{}", headers={KEY_HEADER: key}
    )
    assert response.status_code == 400
    assert error_of(response) == {
        "code": "BodyNotAllowed",
        "message": "A GET call cannot carry a body.",
    }
    assert backend.connections == 0


def test_a_body_over_the_limit_is_413(client, backend, api, key, settings):
    settings.PORTAL_OUTBOUND_MAX_REQUEST_BODY_BYTES = 10
    headers = {KEY_HEADER: key, "X-Tenant": "acme"}
    fits = client.post(
        "/gateway/shop/v1/items", data=b"0123456789", content_type="text/plain", headers=headers
    )
    assert fits.status_code == 200
    response = client.post(
        "/gateway/shop/v1/items", data=b"0123456789X", content_type="text/plain", headers=headers
    )
    assert response.status_code == 413
    assert error_of(response) == {
        "code": "RequestBodyTooLarge",
        "message": "The request body is larger than the gateway takes (10 bytes).",
    }
    assert len(backend.requests) == 1
    assert last_call().outcome == CallOutcome.BAD_REQUEST


def test_a_chunked_body_the_server_cannot_delimit_is_411(client, backend, api, key):
    response = client.generic(
        "POST",
        "/gateway/shop/v1/items",
        headers={KEY_HEADER: key, "X-Tenant": "acme", "Transfer-Encoding": "chunked"},
    )
    assert response.status_code == 411
    assert error_of(response)["code"] == "LengthRequired"
    assert backend.connections == 0


def test_too_many_query_parameters_is_400(client, backend, api, key):
    query = "&".join(f"tag={n}" for n in range(201))
    response = client.post(
        f"/gateway/shop/v1/items?{query}", headers={KEY_HEADER: key, "X-Tenant": "a"}
    )
    assert (response.status_code, error_of(response)["code"]) == (400, "TooManyQueryParameters")
    assert backend.connections == 0


# --- Backend failures -----------------------------------------------------------------------


def test_a_backend_that_refuses_connections_is_502(client, api, key):
    api.service_url = f"http://127.0.0.1:{unused_port()}/base"
    api.save()
    response = client.get("/gateway/shop/v1/items/latest", headers={KEY_HEADER: key})
    assert response.status_code == 502
    assert error_of(response) == {
        "code": "BackendError",
        "message": "The backend call failed: connection failed.",
        "kind": "connect",
    }
    assert response["X-RateLimit-Remaining"] == "4"
    call = last_call()
    assert (call.outcome, call.status_code, call.error_kind) == (
        CallOutcome.BACKEND_ERROR,
        502,
        "connect",
    )
    assert call.backend_duration_ms is not None


def test_a_backend_that_does_not_answer_in_time_is_504(client, api, key, settings):
    settings.PORTAL_OUTBOUND_CONNECT_TIMEOUT = 0.2
    with blackhole() as port:
        api.service_url = f"http://127.0.0.1:{port}/base"
        api.save()
        response = client.get("/gateway/shop/v1/items/latest", headers={KEY_HEADER: key})
    assert response.status_code == 504
    assert error_of(response) == {
        "code": "BackendTimeout",
        "message": "The backend call failed: timed out.",
        "kind": "timeout",
    }
    assert last_call().error_kind == "timeout"


def test_a_blocked_destination_is_502_without_naming_it(client, api, key, settings):
    settings.PORTAL_OUTBOUND_ALLOWED_NETWORKS = []
    response = client.get("/gateway/shop/v1/items/latest", headers={KEY_HEADER: key})
    assert response.status_code == 502
    error = error_of(response)
    assert error["kind"] == "blocked_destination"
    assert "127.0.0.1" not in error["message"]


def test_an_answer_over_the_response_limit_is_502(client, api, key, settings):
    settings.PORTAL_OUTBOUND_MAX_RESPONSE_BYTES = 100
    with scripted_server(reply_with(200, body=b"x" * 101)) as server:
        api.service_url = f"{server.url}/base"
        api.save()
        response = client.get("/gateway/shop/v1/items/latest", headers={KEY_HEADER: key})
    assert response.status_code == 502
    assert error_of(response)["code"] == "BackendResponseTooLarge"
    assert last_call().error_kind == "too_large"


def test_backend_errors_pass_through_as_answers(client, api, key):
    with scripted_server(reply_with(503, headers=JSON_HEADERS, body=b'{"busy": 1}')) as server:
        api.service_url = f"{server.url}/base"
        api.save()
        response = client.get("/gateway/shop/v1/items/latest", headers={KEY_HEADER: key})
    assert (response.status_code, response.content) == (503, b'{"busy": 1}')
    assert last_call().outcome == CallOutcome.FORWARDED


def test_an_answer_without_content_type_gets_none(client, api, key):
    with scripted_server(reply_with(200, body=b"<script>alert(1)</script>")) as server:
        api.service_url = f"{server.url}/base"
        api.save()
        response = client.get("/gateway/shop/v1/items/latest", headers={KEY_HEADER: key})
    assert "Content-Type" not in response
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == SANDBOX


# --- Recording secrets ----------------------------------------------------------------------


def test_secret_path_and_query_values_are_masked_in_the_record(client, backend, api, key):
    response = client.get(
        "/gateway/shop/v1/keys/my-api-key-123?token=tok-secret-456", headers={KEY_HEADER: key}
    )
    assert response.status_code == 200
    assert backend.requests[0].target == "/base/keys/my-api-key-123?token=tok-secret-456"
    assert last_call().path == "/gateway/shop/v1/keys/••••••?token=••••••"


def test_values_secret_by_query_key_or_scheme_are_masked_in_the_record(client, backend, api, key):
    # Nothing marked secret: the names and the scheme say it.
    add_operation(api, "feed", "GET", "/feed", query=("api_token", "Session", "page", "note"))
    add_operation(api, "by-token", "GET", "/by-token/{item}?access_token={t}")
    response = client.get(
        "/gateway/shop/v1/feed?api_token=tok-1111&Session=sess-2222&page=3&note=Bearer%20n-3333",
        headers={KEY_HEADER: key},
    )
    assert response.status_code == 200
    assert backend.requests[0].target == (
        "/base/feed?api_token=tok-1111&Session=sess-2222&page=3&note=Bearer%20n-3333"
    )
    assert last_call().path == (
        "/gateway/shop/v1/feed?api_token=••••••&Session=••••••&page=3&note=••••••"
    )
    response = client.get(
        "/gateway/shop/v1/by-token/7?access_token=t-4444", headers={KEY_HEADER: key}
    )
    assert response.status_code == 200
    assert last_call().path == "/gateway/shop/v1/by-token/7?access_token=••••••"


def test_a_long_method_is_recorded_cut(client, backend, api, key):
    response = client.generic(
        "VERYLONGMETHOD", "/gateway/shop/v1/items/1", headers={KEY_HEADER: key}
    )
    assert response.status_code == 405
    assert last_call().method == "VERYLONGME"


@pytest.mark.parametrize("status", [204, 304])
def test_answers_without_a_body_pass_through(client, api, key, status):
    with scripted_server(reply_with(status, headers=[("ETag", '"v1"')])) as server:
        api.service_url = f"{server.url}/base"
        api.save()
        response = client.get(
            "/gateway/shop/v1/items/latest", headers={KEY_HEADER: key, "If-None-Match": '"v1"'}
        )
        assert server.requests[0].header("If-None-Match") == '"v1"'
    assert (response.status_code, response.content, response["ETag"]) == (status, b"", '"v1"')


def test_an_api_without_a_key_query_parameter_takes_the_header_only(client, backend, api, key):
    api.subscription_key_query = ""
    api.save()
    response = client.get(f"/gateway/shop/v1/items/latest?={key}")
    assert response.status_code == 401
    assert error_of(response) == {
        "code": "MissingSubscriptionKey",
        "message": "This API needs a subscription key: send it in the "
        "Ocp-Apim-Subscription-Key header.",
    }
    assert client.get("/gateway/shop/v1/items/latest", headers={KEY_HEADER: key}).status_code == 200
