"""One public URL (gateway/public_urls.py): where the pages tell a developer to call.

An API on the gateway shows its gateway URL, `<portal>/gateway/<url suffix>...`, on the
operation page, the API page, the OpenAPI export (tests/openapi/test_openapi_export.py), the Try
it result panel, the history and the code samples (tests/samples/test_samples.py); its backend's
URL is shown to staff only, labelled. Each page is read here as an anonymous visitor, a
signed-in developer and staff would read it.
"""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from django.test import Client

from catalog import snapshot
from catalog.models import Api, Operation, ParameterLocation
from catalog.registration import create_missing_template_parameters
from console.models import Exchange
from gateway import public_urls
from httpcore.masking import MASK
from tests.backends import Exchange as BackendExchange
from tests.backends import scripted_server, unused_port
from tests.console.test_operation_try import RRS_TRY, rrs_form
from tests.factories import make_product, make_subscription, make_user

pytestmark = pytest.mark.django_db

PORTAL = "https://portal.example.com/"
DEMO_BACKEND = "http://127.0.0.1:9/demo-backend"  # demo_api's service URL
DEMO_TEMPLATE = (
    "/workspaces/{workspace}/services/{service}/execute?api-version={apiversion}&details={details}"
)
VIEWERS = ["anonymous", "developer", "staff"]
SECRET = "s3cr3t-query-value"


def viewer_client(viewer: str) -> Client:
    client = Client()
    if viewer != "anonymous":
        client.force_login(make_user(viewer, staff=viewer == "staff"))
    return client


def page(client: Client, url: str, **extra) -> BeautifulSoup:
    response = client.get(url, **extra)
    assert response.status_code == 200
    return BeautifulSoup(response.content, "html.parser")


def make_operation(service_url: str, *, suffix: str = "shop/v1", slug: str = "shop") -> Operation:
    api = Api.objects.create(
        name=slug.title(), slug=slug, service_url=service_url, url_suffix=suffix
    )
    operation = Operation.objects.create(
        api=api, name="Item", slug="item", method="GET", url_template="/items/{item}?q={q}"
    )
    create_missing_template_parameters(operation=operation)
    operation.parameters.filter(name="q").update(secret=True)
    operation.parameters.create(name="token", location=ParameterLocation.QUERY, secret=True)
    return operation


def try_it(client: Client, operation: Operation, **data) -> BeautifulSoup:
    url = f"/apis/{operation.api.slug}/operations/{operation.slug}/try"
    form = {"param-template-item": "42", "param-template-q": SECRET, **data}
    response = client.post(url, form, headers={"HX-Request": "true"})
    assert response.status_code == 200
    return BeautifulSoup(response.content, "html.parser")


# --- Which APIs are on the gateway ------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "base"),
    [
        ({"url_suffix": "shop"}, "https://portal.example.com/gateway/shop"),
        ({"url_suffix": " /shop/v1/ "}, "https://portal.example.com/gateway/shop/v1"),
        ({"url_suffix": ""}, None),
        ({"url_suffix": " / "}, None),
        ({"url_suffix": "shop", "published": False}, None),
    ],
    ids=["suffix", "suffix with slashes", "no suffix", "blank suffix", "unpublished"],
)
def test_an_api_is_on_the_gateway_when_published_with_a_suffix(fields, base):
    api = Api.objects.create(name="A", slug="a", service_url="https://b.example.com/v1", **fields)
    assert public_urls.gateway_base(api=api, portal_url=PORTAL) == base
    assert public_urls.public_base(api=api, portal_url=PORTAL) == (base or api.service_url)


def test_a_key_does_not_change_the_url():
    api = Api.objects.create(
        name="A", slug="a", service_url="https://b.example.com", url_suffix="a"
    )
    without = public_urls.gateway_base(api=api, portal_url=PORTAL)
    make_product(api, subscription_required=True)
    snapshot.forget_everything()
    assert public_urls.gateway_base(api=api, portal_url=PORTAL) == without


def test_of_two_apis_with_one_suffix_the_older_is_on_the_gateway():
    older = Api.objects.create(
        name="O", slug="o", service_url="https://o.example.com", url_suffix="x"
    )
    newer = Api.objects.create(
        name="N", slug="n", service_url="https://n.example.com", url_suffix="x/"
    )
    assert public_urls.gateway_base(api=older, portal_url=PORTAL) == f"{PORTAL}gateway/x"
    assert public_urls.gateway_base(api=newer, portal_url=PORTAL) is None


@pytest.mark.parametrize(
    ("url", "moved"),
    [
        ("https://b.example.com/v1", "G"),
        ("https://b.example.com/v1/", "G/"),
        ("https://b.example.com/v1/items/1?q=2", "G/items/1?q=2"),
        ("https://b.example.com/v1?q=2", "G?q=2"),
        ("https://b.example.com/v10/items", None),
        ("https://b.example.com/items", None),
        ("https://other.example.com/v1/items", None),
        ("/v1/items", None),
    ],
)
def test_only_urls_under_the_service_url_move_under_the_gateway(url, moved):
    service = "https://b.example.com/v1/"
    assert public_urls.under_gateway(url=url, service_url=service, base="G") == moved


def test_only_active_staff_see_backends():
    assert public_urls.sees_backend(make_user("dev")) is False
    assert public_urls.sees_backend(make_user("boss", staff=True)) is True
    assert public_urls.sees_backend(make_user("gone", staff=True, is_active=False)) is False
    assert public_urls.sees_backend(None) is False


# --- The operation page and the API page ---------------------------------------------------


@pytest.mark.parametrize("viewer", VIEWERS)
def test_the_operation_page_shows_the_gateway_url(demo_api, viewer):
    soup = page(viewer_client(viewer), "/apis/azureml-demo/operations/rrs-execute/")
    header = soup.select_one("[data-operation-url]")
    assert header.get_text() == f"http://testserver/gateway/azureml-demo{DEMO_TEMPLATE}"
    backend = soup.select_one("[data-backend-url]")
    if viewer == "staff":
        assert backend.get_text(" ", strip=True) == (
            f"Backend (staff only): {DEMO_BACKEND}{DEMO_TEMPLATE}"
        )
    else:
        assert backend is None
        assert "127.0.0.1:9" not in str(soup)
        assert "demo-backend" not in str(soup)


def test_the_gateway_url_follows_the_host_the_portal_is_called_by(demo_api):
    soup = page(Client(), "/apis/azureml-demo/", HTTP_HOST="localhost:8000")
    assert soup.select_one("[data-api-url]").get_text() == (
        "http://localhost:8000/gateway/azureml-demo"
    )


@pytest.mark.parametrize("viewer", VIEWERS)
def test_the_api_page_shows_the_gateway_url(demo_api, viewer):
    soup = page(viewer_client(viewer), "/apis/azureml-demo/")
    terms = {dt.get_text(strip=True): dt.find_next_sibling("dd") for dt in soup.select("dt")}
    assert terms["Gateway URL"].get_text(strip=True) == "http://testserver/gateway/azureml-demo"
    assert "Service URL" not in terms
    if viewer == "staff":
        assert terms["Backend (staff only)"].get_text(strip=True) == DEMO_BACKEND
    else:
        assert "Backend (staff only)" not in terms
        assert "127.0.0.1:9" not in str(soup)
        assert "demo-backend" not in str(soup)


@pytest.mark.parametrize("viewer", VIEWERS)
def test_an_api_off_the_gateway_shows_its_service_url_to_everyone(viewer):
    operation = make_operation("https://b.example.com/v1", suffix="")
    client = viewer_client(viewer)
    soup = page(client, "/apis/shop/operations/item/")
    assert soup.select_one("[data-operation-url]").get_text() == (
        "https://b.example.com/v1/items/{item}?q={q}"
    )
    assert soup.select_one("[data-backend-url]") is None
    soup = page(client, operation.api.get_absolute_url())
    terms = {dt.get_text(strip=True): dt.find_next_sibling("dd") for dt in soup.select("dt")}
    assert terms["Service URL"].get_text(strip=True) == "https://b.example.com/v1"
    assert "Gateway URL" not in terms and "Backend (staff only)" not in terms


# --- The result panel and the history ----------------------------------------------------


def redirect_under_the_base_path(exchange: BackendExchange) -> None:
    """A redirect to the backend's own URL, under the service URL's base path."""
    assert exchange.request is not None
    location = f"http://{exchange.request.header('Host')}/base/items/43?page=2"
    exchange.respond(302, headers=[("Location", location), ("Content-Type", "text/plain")])


@pytest.fixture
def backend():
    with scripted_server(redirect_under_the_base_path) as server:
        yield server


@pytest.mark.parametrize("viewer", VIEWERS)
def test_an_admitted_call_shows_the_gateway_url_it_corresponds_to(backend, viewer):
    operation = make_operation(f"{backend.url}/base")
    client = viewer_client(viewer)
    soup = try_it(client, operation, **{"param-query-token": SECRET})
    [received] = backend.requests
    assert received.target == f"/base/items/42?q={SECRET}&token={SECRET}"
    public = f"http://testserver/gateway/shop/v1/items/42?q={MASK}&token={MASK}"
    assert soup.select_one("#result [data-requested-url]").get_text() == public
    gateway_location = "http://testserver/gateway/shop/v1/items/43?page=2"
    assert soup.select_one("#result [data-redirect-location]").get_text() == gateway_location
    headers = {row.th.get_text(): row.td.get_text() for row in soup.select(".response-headers tr")}
    assert headers["Location"] == gateway_location
    backend_line = soup.select_one("#result [data-backend-url]")
    if viewer == "staff":
        assert backend_line.get_text(" ", strip=True) == (
            f"Backend (staff only): {backend.url}/base/items/42?q={MASK}&token={MASK}"
        )
    else:
        assert backend_line is None
        assert backend.url.removeprefix("http://") not in str(soup)
    assert SECRET not in str(soup.select_one("#result"))

    # The history keeps the URL that was sent; its page shows it as the panel does.
    exchange = Exchange.objects.get()
    assert exchange.url == f"{backend.url}/base/items/42?q={MASK}&token={MASK}"
    detail = page(client, f"/history/{exchange.pk}/")
    assert detail.select_one("[data-requested-url]").get_text() == public
    assert (detail.select_one("[data-backend-url]") is not None) == (viewer == "staff")
    if viewer != "staff":
        assert backend.url.removeprefix("http://") not in str(detail)
    if viewer != "anonymous":
        history = client.get("/history/")
        assert history.status_code == 200
        assert backend.url.removeprefix("http://").encode() not in history.content
        assert b"/base/items" not in history.content


@pytest.mark.parametrize("viewer", VIEWERS)
def test_a_failed_call_is_told_in_the_gateways_words(demo_api, viewer):
    """127.0.0.1:9 refuses the connection; the backend's own message names it."""
    client = viewer_client(viewer)
    response = client.post(RRS_TRY, rrs_form(), headers={"HX-Request": "true"})
    soup = BeautifulSoup(response.content, "html.parser")
    error = soup.select_one("#result [data-error-kind]")
    assert error["data-error-kind"] == "connect"
    assert error.select_one("[data-error-message]").get_text() == (
        "The backend call failed: connection failed."
    )
    assert soup.select_one("#result [data-requested-url]").get_text() == (
        "http://testserver/gateway/azureml-demo/workspaces/ws1/services/svc1/execute"
        "?api-version=2.0&details=true"
    )
    backend_error = soup.select_one("#result [data-backend-error]")
    if viewer == "staff":
        assert backend_error.get_text() == (
            "Backend (staff only): Could not connect to 127.0.0.1:9: connection refused"
        )
    else:
        assert backend_error is None
        assert "127.0.0.1:9" not in str(soup)
        assert "demo-backend" not in str(soup)


def test_a_call_off_the_gateway_shows_the_backend_url_and_its_message(client):
    port = unused_port()
    operation = make_operation(f"http://127.0.0.1:{port}/base", suffix="")
    soup = try_it(client, operation)
    assert soup.select_one("#result [data-requested-url]").get_text() == (
        f"http://127.0.0.1:{port}/base/items/42?q={MASK}"
    )
    assert soup.select_one("#result [data-error-message]").get_text() == (
        f"Could not connect to 127.0.0.1:{port}: connection refused"
    )
    assert soup.select_one("#result [data-backend-url]") is None


@pytest.mark.parametrize("viewer", VIEWERS)
def test_a_refused_call_shows_the_same_public_url(backend, viewer):
    operation = make_operation(f"{backend.url}/base")
    make_product(operation.api, subscription_required=True)
    soup = try_it(viewer_client(viewer), operation)
    assert soup.select_one("#result [data-refusal-code]").get_text() == "MissingSubscriptionKey"
    assert soup.select_one("#result [data-requested-url]").get_text() == (
        f"http://testserver/gateway/shop/v1/items/42?q={MASK}"
    )
    backend_line = soup.select_one("#result [data-backend-url]")
    if viewer == "staff":
        assert backend_line.get_text(" ", strip=True) == (
            f"Backend (staff only): {backend.url}/base/items/42?q={MASK}"
        )
    else:
        assert backend_line is None
        assert backend.url.removeprefix("http://") not in str(soup)
    assert backend.requests == []


def test_an_admitted_call_with_a_key_shows_the_gateway_url(backend):
    operation = make_operation(f"{backend.url}/base")
    product = make_product(operation.api, subscription_required=True)
    developer = make_user("ada")
    subscription = make_subscription(user=developer, product=product)
    client = Client()
    client.force_login(developer)
    soup = try_it(
        client,
        operation,
        header_name=["Ocp-Apim-Subscription-Key", ""],
        header_value=[subscription.key("primary"), ""],
        subscription=str(subscription.pk),
    )
    assert soup.select_one("#result [data-status]").get_text(strip=True) == "302 Found"
    assert soup.select_one("#result [data-requested-url]").get_text() == (
        f"http://testserver/gateway/shop/v1/items/42?q={MASK}"
    )
    assert backend.url.removeprefix("http://") not in str(soup)


@pytest.mark.parametrize("viewer", ["developer", "staff"])
@pytest.mark.parametrize("change", ["operation deleted", "service URL changed"])
def test_a_call_that_cannot_be_placed_any_more_shows_no_url_but_to_staff(backend, viewer, change):
    operation = make_operation(f"{backend.url}/base")
    client = viewer_client(viewer)
    try_it(client, operation)
    exchange = Exchange.objects.get()
    if change == "operation deleted":
        operation.delete()
    else:
        Api.objects.filter(pk=operation.api_id).update(service_url="https://new.example.com")
        snapshot.forget_everything()
    soup = page(client, f"/history/{exchange.pk}/")
    unknown = soup.select_one("[data-requested-url-unknown]")
    assert soup.select_one("[data-requested-url]") is None
    assert unknown.get_text(strip=True) == (
        "The URL is not shown: the operation or the API's address has changed since this call."
    )
    backend_line = soup.select_one("[data-backend-url]")
    if viewer == "staff":
        assert backend_line.get_text(" ", strip=True) == (
            f"Backend (staff only): {backend.url}/base/items/42?q={MASK}"
        )
    else:
        assert backend_line is None
        assert backend.url.removeprefix("http://") not in str(soup)
        location = soup.select_one("[data-redirect-location]").get_text()
        assert location == public_urls.HIDDEN_ADDRESS
