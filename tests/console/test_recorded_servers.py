"""The server a call went to is recorded (Exchange.server and server_url) and kept by
what opens it again: Try again and share links (console/servers.py). Each one is looked
up again for whoever opens it; one that cannot be chosen is said, and nothing is sent to
another one unseen. Attackers' side: another user and a visitor opening a staff member's
link to the staff-only service URL."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.http import QueryDict
from django.test import Client

from catalog.models import Api, ApiServer, Operation
from console.models import Exchange
from console.servers import HIDDEN_SERVICE_URL, UNKNOWN_LINKED_SERVER, UNKNOWN_SERVER
from console.share_links import share_url
from gateway.models import GatewayCall
from tests.console.test_tryit_servers import extra, options, page_url, soup_of, try_it
from tests.factories import make_user
from tests.markup import attr, one

pytestmark = pytest.mark.django_db


def chosen(soup) -> str:
    return attr(one(soup, "#try-it-server option[selected]"), "value")


def server_error(soup) -> str:
    found = soup.select_one("[data-server-error]")
    return found.get_text(strip=True) if found else ""


def try_again(client: Client, operation: Operation, exchange: Exchange):
    return soup_of(client.get(page_url(operation) + f"?from={exchange.pk}"))


# --- What the exchange records ---------------------------------------------------------


def test_the_exchange_records_the_choice_and_its_url(client, operation, first, second):
    try_it(client, operation, server=str(extra(operation).pk))
    try_it(client, operation, server="service")
    older, newer = Exchange.objects.order_by("pk")
    assert (older.server, older.server_url) == (str(extra(operation).pk), f"{second.url}/v2")
    assert (newer.server, newer.server_url) == ("service", f"{first.url}/v1")


def test_on_the_gateway_the_gateway_choice_is_recorded_at_the_gateway_url(client, keyed):
    try_it(client, keyed, server="gateway")
    assert GatewayCall.objects.count() == 1  # refused without a key, nothing sent
    assert Exchange.objects.count() == 0
    client.force_login(make_user("ada"))
    try_it(client, keyed, server=str(extra(keyed).pk))
    assert Exchange.objects.get().server == str(extra(keyed).pk)


# --- Try again -------------------------------------------------------------------------


def test_try_again_opens_on_the_recorded_server_whatever_was_chosen_since(
    client, operation, first, second
):
    client.force_login(make_user("ada"))
    try_it(client, operation, server=str(extra(operation).pk))
    earlier = Exchange.objects.get()
    try_it(client, operation, server="service")  # the session now remembers "service"
    assert chosen(soup_of(client.get(page_url(operation)))) == "service"
    soup = try_again(client, operation, earlier)
    assert chosen(soup) == str(extra(operation).pk)
    assert server_error(soup) == ""


def test_try_again_of_a_call_to_a_removed_server_says_so_and_chooses_none(
    client, operation, first, second
):
    client.force_login(make_user("ada"))
    try_it(client, operation, server=str(extra(operation).pk))
    earlier = Exchange.objects.get()
    extra(operation).delete()
    soup = try_again(client, operation, earlier)
    assert server_error(soup) == (
        f"This request's server {second.url}/v2 is no longer one of the API's servers."
    )
    assert chosen(soup) == ""  # "Choose a server": nothing goes to the service URL unseen
    # Sending the form as it is sends nothing.
    sent = try_it(client, operation, server="")
    assert server_error(sent) == f"{UNKNOWN_SERVER} Nothing was sent."
    assert len(first.requests) == 0 and len(second.requests) == 1
    assert Exchange.objects.count() == 1


def test_try_again_of_a_server_the_network_policy_no_longer_allows(
    client, operation, second, settings
):
    client.force_login(make_user("ada"))
    try_it(client, operation, server=str(extra(operation).pk))
    earlier = Exchange.objects.get()
    settings.PORTAL_OUTBOUND_ALLOWED_NETWORKS = []  # loopback no longer allowed
    soup = try_again(client, operation, earlier)
    assert server_error(soup) == (
        f"This request's server {second.url}/v2 is no longer one of the API's servers."
    )
    assert chosen(soup) == ""


def test_a_call_recorded_before_servers_were_opens_as_before(client, operation):
    client.force_login(make_user("ada"))
    try_it(client, operation, server=str(extra(operation).pk))
    try_it(client, operation, server="service")
    Exchange.objects.update(server="", server_url="")
    # On the session's last choice, as every Try again did.
    soup = try_again(client, operation, Exchange.objects.order_by("pk").first())
    assert chosen(soup) == "service" and server_error(soup) == ""


def test_try_again_of_a_staff_call_to_the_service_url_when_no_longer_staff(client, keyed, first):
    root = make_user("root", staff=True)
    client.force_login(root)
    try_it(client, keyed, server="service")
    earlier = Exchange.objects.get()
    root.is_staff = False
    root.save()
    soup = try_again(client, keyed, earlier)
    assert server_error(soup) == (
        f"This request's server {HIDDEN_SERVICE_URL} is no longer one of the API's servers."
    )
    assert first.url not in soup.get_text()
    assert first.url not in str(soup.select_one("#try-it"))


# --- Share links -----------------------------------------------------------------------


def test_a_share_link_carries_the_choice_never_a_url(operation, second):
    data = QueryDict(mutable=True)
    data.update({"param-template-item": "42", "server": str(extra(operation).pk)})
    url = share_url(operation, data)
    assert parse_qs(urlsplit(url).query)["server"] == [str(extra(operation).pk)]
    assert second.url.removeprefix("http://") not in url


def test_a_share_link_opens_on_its_server(client, operation):
    soup = soup_of(client.get(page_url(operation) + f"?p.item=7&server={extra(operation).pk}"))
    assert chosen(soup) == str(extra(operation).pk) and server_error(soup) == ""


@pytest.mark.parametrize("viewer", ["visitor", "another user"])
def test_a_staff_link_to_the_service_url_reveals_nothing_to_others(
    client, keyed, first, second, viewer
):
    root = Client()
    root.force_login(make_user("root", staff=True))
    # The link as the staff member's samples panel gives it.
    data = QueryDict(mutable=True)
    data.update({"param-template-item": "42", "server": "service"})
    link = share_url(keyed, data)
    assert chosen(soup_of(root.get(link))) == "service"
    if viewer == "another user":
        client.force_login(make_user("mallory"))
    response = client.get(link)
    soup = soup_of(response)
    assert server_error(soup) == UNKNOWN_LINKED_SERVER
    assert chosen(soup) == ""
    assert [value for value, _ in options(soup)] == ["", "gateway", str(extra(keyed).pk)]
    assert first.url.removeprefix("http://") not in response.content.decode()
    # Sending it as the link opened sends nothing.
    sent = try_it(client, keyed, server="service")
    assert server_error(sent) == f"{UNKNOWN_SERVER} Nothing was sent."
    assert first.url.removeprefix("http://") not in str(sent)
    assert (first.connections, second.connections) == (0, 0)


def test_a_link_to_another_apis_server_is_refused(client, operation):
    other = Api.objects.create(name="Other", slug="other", service_url="https://other.example")
    foreign = ApiServer.objects.create(api=other, url="https://foreign.example")
    soup = soup_of(client.get(page_url(operation) + f"?server={foreign.pk}"))
    assert server_error(soup) == UNKNOWN_LINKED_SERVER and chosen(soup) == ""


@pytest.mark.parametrize(
    "value", ["https://evil.example", "gateway", "99999", "1%0d%0aX-Evil:%201", "x" * 5000]
)
def test_a_forged_link_server_is_refused_and_named_nowhere(client, operation, value):
    response = client.get(page_url(operation) + f"?server={value}")
    soup = soup_of(response)
    assert server_error(soup) == UNKNOWN_LINKED_SERVER and chosen(soup) == ""
    assert b"evil" not in response.content.lower()


# --- Samples ---------------------------------------------------------------------------


def test_samples_of_a_try_again_show_the_recorded_server(client, operation, first, second):
    client.force_login(make_user("ada"))
    try_it(client, operation, server=str(extra(operation).pk))
    soup = try_again(client, operation, Exchange.objects.get())
    # The panel posts the form as the page opened it.
    posted = {"param-template-item": "42", "lang": "curl", "server": chosen(soup)}
    text = soup_of(
        client.post(page_url(operation) + "samples", posted, headers={"HX-Request": "true"})
    ).get_text()
    assert f"{second.url}/v2/items/42" in text and first.url not in text
