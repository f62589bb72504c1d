"""gateway/registry.py: the routes each process keeps, and when it drops them."""

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache

from catalog import snapshot
from catalog.models import Api, Operation, Parameter, ParameterLocation
from gateway import registry
from gateway.models import GatewayCall
from tests.backends import reply_with, scripted_server
from tests.factories import make_product, make_subscription

pytestmark = pytest.mark.django_db

KEY_HEADER = "Ocp-Apim-Subscription-Key"


@pytest.fixture
def backend():
    with scripted_server(reply_with(200, body=b"ok")) as server:
        yield server


@pytest.fixture
def api(backend) -> Api:
    api = Api.objects.create(name="Shop", slug="shop", service_url=backend.url, url_suffix="shop")
    Operation.objects.create(api=api, name="Ping", slug="ping", method="GET", url_template="/ping")
    return api


def status(client, path: str, **headers: str) -> int:
    return client.get(path, headers=headers).status_code


def test_a_warm_call_costs_one_query_the_record(client, backend, api, django_assert_num_queries):
    owner = get_user_model().objects.create(username="owner")
    key = make_subscription(user=owner, product=make_product(api, rate=100)).key("primary")
    assert status(client, "/gateway/shop/ping", **{KEY_HEADER: key}) == 200
    with django_assert_num_queries(1) as captured:
        assert status(client, "/gateway/shop/ping", **{KEY_HEADER: key}) == 200
    assert captured.captured_queries[0]["sql"].startswith('INSERT INTO "gateway_gatewaycall"')
    assert GatewayCall.objects.count() == 2


def test_an_operation_added_is_routed_at_once(client, backend, api):
    assert status(client, "/gateway/shop/pong") == 404
    Operation.objects.create(api=api, name="Pong", slug="pong", method="GET", url_template="/pong")
    assert status(client, "/gateway/shop/pong") == 200


def test_a_changed_template_is_routed_at_once(client, backend, api):
    assert status(client, "/gateway/shop/ping") == 200
    operation = api.operations.get()
    operation.url_template = "/v2/ping"
    operation.save()
    assert status(client, "/gateway/shop/ping") == 404
    assert status(client, "/gateway/shop/v2/ping") == 200


def test_a_deleted_operation_is_gone_at_once(client, backend, api):
    assert status(client, "/gateway/shop/ping") == 200
    api.operations.get().delete()
    assert status(client, "/gateway/shop/ping") == 404


def test_a_query_parameter_declared_is_accepted_at_once(client, backend, api):
    assert status(client, "/gateway/shop/ping?verbose=1") == 400
    Parameter.objects.create(
        operation=api.operations.get(), name="verbose", location=ParameterLocation.QUERY
    )
    assert status(client, "/gateway/shop/ping?verbose=1") == 200


def test_a_query_parameter_deleted_is_refused_at_once(client, backend, api):
    parameter = Parameter.objects.create(
        operation=api.operations.get(), name="verbose", location=ParameterLocation.QUERY
    )
    assert status(client, "/gateway/shop/ping?verbose=1") == 200
    parameter.delete()
    assert status(client, "/gateway/shop/ping?verbose=1") == 400


def test_a_new_suffix_applies_at_once(client, backend, api):
    assert status(client, "/gateway/shop/ping") == 200
    api.url_suffix = "store/v2"
    api.save()
    assert status(client, "/gateway/shop/ping") == 404
    assert status(client, "/gateway/store/v2/ping") == 200


def test_a_product_asks_for_keys_at_once(client, backend, api):
    assert status(client, "/gateway/shop/ping") == 200
    product = make_product(slug="gold")
    product.apis.add(api)  # a change of the product's APIs alone
    assert status(client, "/gateway/shop/ping") == 401
    product.subscription_required = False
    product.save()
    assert status(client, "/gateway/shop/ping") == 200


def test_whether_an_api_needs_a_key_follows_its_products_at_once(api):
    """Try it and replays go through the gateway exactly when the gateway asks for keys."""
    other = Api.objects.create(name="Other", slug="other", service_url="https://other.example")
    assert not registry.requires_key(api.pk)
    product = make_product(slug="gold")
    assert not registry.requires_key(api.pk)
    product.apis.add(api)
    assert registry.requires_key(api.pk)
    assert not registry.requires_key(other.pk)
    product.subscription_required = False
    product.save()
    assert not registry.requires_key(api.pk)
    product.subscription_required = True
    product.save()
    assert registry.requires_key(api.pk)
    product.apis.remove(api)
    assert not registry.requires_key(api.pk)
    product.apis.add(api)
    product.delete()
    assert not registry.requires_key(api.pk)


def test_whether_an_api_needs_a_key_is_read_once_per_snapshot(api, django_assert_num_queries):
    make_product(api, slug="gold")
    with django_assert_num_queries(1):
        assert registry.requires_key(api.pk)
    with django_assert_num_queries(0):
        assert registry.requires_key(api.pk)
        assert not registry.requires_key(api.pk + 1000)


def test_bulk_changes_wait_for_the_cache_time(client, backend, api, settings):
    assert status(client, "/gateway/shop/ping") == 200
    # A bulk update sends no signal: the kept routes still hold...
    Operation.objects.filter(api=api).update(url_template="/pong")
    assert status(client, "/gateway/shop/ping") == 200
    # ...until they expire.
    settings.PORTAL_GATEWAY_ROUTE_CACHE_SECONDS = 0
    assert status(client, "/gateway/shop/ping") == 404
    assert status(client, "/gateway/shop/pong") == 200


def test_a_new_generation_from_another_process_drops_the_routes(client, backend, api, monkeypatch):
    monkeypatch.setattr(snapshot, "GENERATION_CHECK_SECONDS", 60)
    assert status(client, "/gateway/shop/ping") == 200
    Operation.objects.filter(api=api).update(url_template="/pong")
    # What another process's save does to the shared cache...
    cache.set(snapshot.GENERATION_KEY, "from-another-process", timeout=None)
    # ...is read once the check interval has passed.
    assert status(client, "/gateway/shop/pong") == 404
    monkeypatch.setattr(snapshot, "GENERATION_CHECK_SECONDS", 0)
    assert status(client, "/gateway/shop/pong") == 200


def test_changes_drop_the_routes_again_on_commit(api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        api.save()
    assert snapshot.forget_everything in callbacks


def test_an_invalid_template_leaves_the_other_operations_routed(client, backend, api):
    Operation.objects.filter(api=api).update(url_template="/broken/{")
    Operation.objects.create(api=api, name="Ok", slug="ok", method="GET", url_template="/ok")
    assert status(client, "/gateway/shop/ok") == 200
    assert status(client, "/gateway/shop/broken/x") == 404


def test_of_two_apis_with_one_suffix_the_older_one_keeps_it(client, backend, api):
    newer = Api.objects.create(name="New", slug="new", service_url=backend.url, url_suffix="shop")
    Operation.objects.create(
        api=newer, name="Ping", slug="ping", method="GET", url_template="/ping"
    )
    assert status(client, "/gateway/shop/ping") == 200
    assert GatewayCall.objects.get().api == api


def test_api_entry_finds_unpublished_apis(api):
    api.published = False
    api.save()
    entry = registry.api_entry(api.pk)
    assert (entry.pk, entry.name, list(entry.operations)) == (
        api.pk,
        "Shop",
        [api.operations.get().pk],
    )
    assert registry.api_entry(api.pk + 1000) is None


def test_kept_values_last_until_the_configuration_changes(api):
    loads = []

    def load() -> str:
        loads.append(1)
        return f"value {len(loads)}"

    assert snapshot.kept(("thing",), load) == "value 1"
    assert snapshot.kept(("thing",), load) == "value 1"
    assert snapshot.kept(("other",), load) == "value 2"
    api.name = "Shop, renamed"
    api.save()
    assert snapshot.kept(("thing",), load) == "value 3"


def test_a_failed_load_keeps_nothing(api):
    def failing() -> str:
        raise LookupError("not there")

    with pytest.raises(LookupError):
        snapshot.kept(("missing",), failing)
    assert snapshot.kept(("missing",), lambda: "found") == "found"


def test_kept_values_are_bounded(monkeypatch):
    monkeypatch.setattr(snapshot, "KEPT_ENTRIES", 3)
    for number in range(3):
        snapshot.kept((number,), lambda number=number: number)
    assert snapshot.kept((0,), lambda: "loaded again") == 0
    snapshot.kept((3,), lambda: 3)  # the fourth starts again from none
    assert snapshot.kept((0,), lambda: "loaded again") == "loaded again"
