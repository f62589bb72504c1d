"""Try it's Server select (console/servers.py): the call goes to the chosen registered
server, and only to one of them. Two scripted backends on loopback, so what each one
received is known exactly."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from django.test import Client

from catalog.models import Api, ApiServer, Operation
from console.models import Exchange
from console.servers import UNKNOWN_SERVER
from gateway.models import GatewayCall
from tests.factories import make_subscription, make_user
from tests.markup import attr, one
from tests.servers_fixtures import make_operation

pytestmark = pytest.mark.django_db

KEY_HEADER = "Ocp-Apim-Subscription-Key"


def extra(operation: Operation) -> ApiServer:
    return operation.api.servers.get()


def page_url(operation: Operation) -> str:
    return f"/apis/{operation.api.slug}/operations/{operation.slug}/"


def soup_of(response) -> BeautifulSoup:
    assert response.status_code == 200
    return BeautifulSoup(response.content, "html.parser")


def try_it(client, operation: Operation, **data) -> BeautifulSoup:
    data = {"param-template-item": "42", **data}
    return soup_of(client.post(page_url(operation) + "try", data, headers={"HX-Request": "true"}))


def options(soup: BeautifulSoup) -> list[tuple[str, str]]:
    return [
        (attr(option, "value"), option.get_text(strip=True))
        for option in soup.select("#try-it-server option")
    ]


def selected(soup: BeautifulSoup) -> str:
    return attr(one(soup, "#try-it-server option[selected]"), "value")


def test_the_select_lists_the_service_url_then_the_other_servers(client, operation, first, second):
    soup = soup_of(client.get(page_url(operation)))
    assert options(soup) == [
        ("service", f"{first.url}/v1"),
        (str(extra(operation).pk), f"{second.url}/v2 (Second)"),
    ]
    assert selected(soup) == "service"


def test_an_api_with_one_server_shows_no_select(client, first):
    operation = make_operation(first.url)
    soup = soup_of(client.get(page_url(operation)))
    assert soup.select_one("#try-it-server") is None
    try_it(client, operation)
    assert [r.target for r in first.requests] == ["/items/42"]


def test_the_call_goes_to_the_chosen_server_and_the_panel_shows_its_url(
    client, operation, first, second
):
    soup = try_it(client, operation, server=str(extra(operation).pk))
    assert first.requests == []
    [received] = second.requests
    assert received.target == "/v2/items/42"
    assert received.header("Host") == second.url.removeprefix("http://")
    assert one(soup, "[data-requested-url]").get_text(strip=True) == f"{second.url}/v2/items/42"
    assert "second" in one(soup, "#result").get_text()
    assert Exchange.objects.get().url == f"{second.url}/v2/items/42"
    # The select keeps the choice after the Send.
    assert selected(soup) == str(extra(operation).pk)


def test_the_service_url_is_the_default(client, operation, first, second):
    try_it(client, operation, server="service")
    try_it(client, operation)  # a form without the select: the service URL
    assert [r.target for r in first.requests] == ["/v1/items/42", "/v1/items/42"]
    assert second.requests == []


@pytest.mark.parametrize(
    "forged",
    ["999999", "", "gateway", "http://127.0.0.1:1/", "https://evil.example.com", "-1", "1 OR 1"],
)
def test_a_server_not_in_the_list_is_refused_and_nothing_is_sent(
    client, operation, first, second, forged
):
    soup = try_it(client, operation, server=forged)
    assert one(soup, "[data-server-error]").get_text(strip=True) == (
        f"{UNKNOWN_SERVER} Nothing was sent."
    )
    assert "is-invalid" in one(soup, "#try-it-server").get_attribute_list("class")
    assert soup.select_one("#result") is None
    assert (first.connections, second.connections) == (0, 0)
    assert Exchange.objects.count() == 0


def test_a_server_removed_since_the_page_was_loaded_is_refused(client, operation, first, second):
    server = extra(operation)
    assert str(server.pk) in dict(options(soup_of(client.get(page_url(operation)))))
    server.delete()
    soup = try_it(client, operation, server=str(server.pk))
    assert one(soup, "[data-server-error]").get_text(strip=True).startswith(UNKNOWN_SERVER)
    assert (first.connections, second.connections) == (0, 0)
    assert Exchange.objects.count() == 0


def test_a_server_of_another_api_is_refused(client, operation, first, second):
    other = Api.objects.create(name="Other", slug="other", service_url="https://other.example.com")
    foreign = ApiServer.objects.create(api=other, url=f"{second.url}/foreign")
    try_it(client, operation, server=str(foreign.pk))
    assert (first.connections, second.connections) == (0, 0)


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("http://169.254.169.254/latest", "blocked_destination"),
        ("http://10.9.9.9", "blocked_destination"),
    ],
)
def test_a_server_row_written_past_the_validator_is_still_checked_at_send(
    client, operation, first, second, url, kind
):
    """A row saved without the admin's validation (a bulk write, a shell) meets the network
    policy again when the call is sent ("Outbound: allowed addresses, pinned")."""
    server = ApiServer.objects.create(api=operation.api, url=url)
    soup = try_it(client, operation, server=str(server.pk))
    assert attr(one(soup, "#result [data-error-kind]"), "data-error-kind") == kind
    assert (first.connections, second.connections) == (0, 0)


def test_the_choice_is_remembered_per_user_and_api(client, operation, second):
    developer = make_user("ada")
    client.force_login(developer)
    try_it(client, operation, server=str(extra(operation).pk))
    assert selected(soup_of(client.get(page_url(operation)))) == str(extra(operation).pk)
    # Another API opens on its own first server.
    other = Api.objects.create(name="Other", slug="other", service_url="https://o.example.com")
    Operation.objects.create(api=other, name="Op", slug="op", method="GET", url_template="/x")
    ApiServer.objects.create(api=other, url="https://o2.example.com")
    assert selected(soup_of(client.get("/apis/other/operations/op/"))) == "service"


def test_a_remembered_choice_reaches_no_one_else(client, operation, second):
    try_it(client, operation, server=str(extra(operation).pk))
    stranger = Client()
    assert selected(soup_of(stranger.get(page_url(operation)))) == "service"
    stranger.force_login(make_user("mallory"))
    assert selected(soup_of(stranger.get(page_url(operation)))) == "service"


def test_a_remembered_server_that_was_removed_falls_back_to_the_first(client, operation):
    client.force_login(make_user("ada"))
    try_it(client, operation, server=str(extra(operation).pk))
    extra(operation).delete()
    ApiServer.objects.create(api=operation.api, url="https://later.example.com")
    assert selected(soup_of(client.get(page_url(operation)))) == "service"


# --- An API on the gateway, behind a key (the `keyed` fixture) ------------------------


def test_on_the_gateway_the_gateway_comes_first_and_the_service_url_is_for_staff(
    client, keyed, first, second
):
    soup = soup_of(client.get(page_url(keyed)))
    assert options(soup) == [
        ("gateway", "http://testserver/gateway/two (gateway)"),
        (str(extra(keyed).pk), f"{second.url}/v2 (Sandbox)"),
    ]
    assert first.url not in soup.select_one("#try-it-server").get_text()
    staff = make_user("root", staff=True)
    client.force_login(staff)
    assert [value for value, _ in options(soup_of(client.get(page_url(keyed))))] == [
        "gateway",
        "service",
        str(extra(keyed).pk),
    ]


def test_a_developer_cannot_pick_the_service_url_of_an_api_on_the_gateway(
    client, keyed, first, second
):
    client.force_login(make_user("ada"))
    soup = try_it(client, keyed, server="service")
    assert soup.select_one("[data-server-error]") is not None
    assert (first.connections, second.connections) == (0, 0)
    assert GatewayCall.objects.count() == 0


def test_the_gateway_choice_still_needs_the_key(client, keyed, first):
    soup = try_it(client, keyed, server="gateway")
    assert one(soup, "#result [data-refusal-code]").get_text(strip=True) == "MissingSubscriptionKey"
    assert first.connections == 0


def test_a_call_to_another_server_is_no_gateway_call_and_never_carries_the_key(
    client, keyed, first, second
):
    developer = make_user("ada")
    client.force_login(developer)
    subscription = make_subscription(user=developer, product=keyed.api.products.get())
    key = subscription.key("primary")
    soup = try_it(
        client,
        keyed,
        server=str(extra(keyed).pk),
        header_name=[KEY_HEADER, ""],
        header_value=[key, ""],
    )
    [received] = second.requests
    assert received.header(KEY_HEADER) is None
    assert first.requests == []
    assert GatewayCall.objects.count() == 0
    assert soup.select_one("#result [data-gateway-usage]") is None
    # Shown where it went: that server is listed for everyone.
    assert one(soup, "[data-requested-url]").get_text(strip=True) == f"{second.url}/v2/items/42"


def test_without_a_key_another_server_answers(client, keyed, second):
    soup = try_it(client, keyed, server=str(extra(keyed).pk))
    assert one(soup, "#result [data-status]").get_text(strip=True) == "200 OK"
    assert len(second.requests) == 1


# --- Code samples ----------------------------------------------------------------------


def samples(client, operation: Operation, **data) -> BeautifulSoup:
    data = {"param-template-item": "42", "lang": "curl", **data}
    url = page_url(operation) + "samples"
    return soup_of(client.post(url, data, headers={"HX-Request": "true"}))


def test_samples_call_the_chosen_server(client, operation, first, second):
    text = samples(client, operation, server=str(extra(operation).pk)).get_text()
    assert f"{second.url}/v2/items/42" in text
    assert first.url not in text
    assert f"{first.url}/v1/items/42" in samples(client, operation, server="service").get_text()


def test_samples_of_another_server_of_an_api_on_the_gateway_skip_the_gateway(client, keyed, second):
    text = samples(client, keyed, server=str(extra(keyed).pk)).get_text()
    assert f"{second.url}/v2/items/42" in text
    assert "/gateway/" not in text
    assert KEY_HEADER not in text
    assert "http://testserver/gateway/two/items/42" in samples(client, keyed).get_text()


def test_samples_for_a_forged_server_are_an_error(client, operation, first, second):
    soup = samples(client, operation, server="https://evil.example.com")
    assert f"Server: {UNKNOWN_SERVER}" in soup.get_text()
    assert "evil.example.com" not in soup.get_text()
    assert (first.connections, second.connections) == (0, 0)
