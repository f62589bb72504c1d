"""The analytics page (analytics/views.py): who sees which calls, the filters,
bad filter values as form errors, and the CSV download."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from catalog.models import Api, Operation
from gateway.models import CallOutcome, GatewayCall
from gateway.recording import record_call
from tests.factories import make_product, make_subscription, make_user

pytestmark = pytest.mark.django_db

URL = reverse("analytics:analytics")


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def calls_of(subscription, count: int, *, status: int = 200, ago=timedelta(hours=1), **fields):
    for _ in range(count):
        record_call(
            subscription=subscription,
            created_at=timezone.now() - ago,
            method="POST",
            path=fields.pop("path", "/gateway/demo/score"),
            outcome=CallOutcome.FORWARDED,
            status_code=status,
            duration_ms=20.0,
            request_bytes=10,
            response_bytes=100,
            **fields,
        )


@pytest.fixture
def world(demo_api):
    """ada: 3 calls on Starter (one a 500), 1 on Gold; bob: 5 on Starter; 2 anonymous."""
    ada, bob = make_user("ada"), make_user("bob")
    admin = make_user("root", staff=True)
    starter = make_product(demo_api, slug="starter")
    gold = make_product(demo_api, slug="gold")
    operation = demo_api.operations.order_by("pk").first()
    subs = {
        "ada": make_subscription(user=ada, product=starter, name="Ada's app"),
        "ada-gold": make_subscription(user=ada, product=gold, name="Ada's gold app"),
        "bob": make_subscription(user=bob, product=starter, name="Bob's app"),
    }
    calls_of(subs["ada"], 2, api=demo_api, operation=operation)
    calls_of(subs["ada"], 1, status=500, api=demo_api, operation=operation)
    calls_of(subs["ada-gold"], 1)
    calls_of(subs["bob"], 5, api=demo_api, operation=operation)
    for _ in range(2):
        record_call(
            created_at=timezone.now() - timedelta(minutes=5),
            method="GET",
            path="/gateway/nowhere",
            outcome=CallOutcome.NOT_FOUND,
            status_code=404,
        )

    return SimpleNamespace(
        ada=ada,
        bob=bob,
        admin=admin,
        starter=starter,
        gold=gold,
        subs=subs,
        api=demo_api,
        operation=operation,
    )


def totals(response):
    assert response.status_code == 200, response.content[:2000]
    return response.context["report"].totals


# --- Who sees what ----------------------------------------------------------------------


def test_anonymous_visitors_are_asked_to_sign_in(client) -> None:
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next={URL}"
    csv_response = client.get(URL + "?export=csv")
    assert csv_response.status_code == 302


def test_the_page_only_answers_get(world) -> None:
    assert client_for(world.ada).post(URL).status_code == 405


def test_a_developer_sees_only_their_own_calls(world) -> None:
    response = client_for(world.ada).get(URL)
    numbers = totals(response)
    assert (numbers.calls, numbers.errors, numbers.bytes_in) == (4, 1, 40)
    page = response.content.decode()
    assert "Your calls through the gateway" in page
    assert 'data-top="operations"' in page
    # No one else's subscriptions, users or calls in the page or its choices.
    assert 'data-top="subscriptions"' not in page
    assert 'data-top="users"' not in page
    assert "Bob&#x27;s app" not in page
    assert "Bob's app" not in page
    bob_numbers = totals(client_for(world.bob).get(URL))
    assert (bob_numbers.calls, bob_numbers.errors) == (5, 0)


def test_staff_see_all_calls_and_the_top_subscriptions_and_users(world) -> None:
    response = client_for(world.admin).get(URL)
    numbers = totals(response)
    assert (numbers.calls, numbers.refused) == (11, 2)
    page = response.content.decode()
    assert "All calls through the gateway" in page
    report = response.context["report"]
    assert [(row.label, row.calls) for row in report.top_subscriptions] == [
        ("Bob's app", 5),
        ("Ada's app", 3),
        ("No subscription", 2),
        ("Ada's gold app", 1),
    ]
    assert [(row.label, row.calls) for row in report.top_users] == [
        ("bob", 5),
        ("ada", 4),
        ("Anonymous", 2),
    ]
    assert 'data-top="subscriptions"' in page
    assert 'data-top="users"' in page


@pytest.mark.parametrize(
    ("params", "calls"),
    [
        ({"product": "starter"}, 8),
        ({"product": "gold"}, 1),
        ({"api": "api"}, 8),
        ({"api": "api", "operation": "operation"}, 8),
        ({"subscription": "ada"}, 3),
        ({"subscription": "bob", "product": "gold"}, 0),
    ],
)
def test_staff_filter_by_api_operation_product_and_subscription(world, params, calls) -> None:
    ids = {
        "starter": world.starter.pk,
        "gold": world.gold.pk,
        "api": world.api.pk,
        "operation": world.operation.pk,
        "ada": world.subs["ada"].pk,
        "bob": world.subs["bob"].pk,
    }
    query = {name: ids[value] for name, value in params.items()}
    response = client_for(world.admin).get(URL, query)
    assert totals(response).calls == calls
    assert "data-active-filters" in response.content.decode()


def test_a_developer_filters_within_their_own_calls(world) -> None:
    ada = client_for(world.ada)
    assert totals(ada.get(URL, {"product": world.starter.pk})).calls == 3
    assert totals(ada.get(URL, {"product": world.gold.pk})).calls == 1
    assert totals(ada.get(URL, {"api": world.api.pk})).calls == 3
    assert totals(ada.get(URL, {"subscription": world.subs["ada-gold"].pk})).calls == 1


def test_someone_elses_subscription_is_a_404(world) -> None:
    ada = client_for(world.ada)
    assert ada.get(URL, {"subscription": world.subs["bob"].pk}).status_code == 404
    assert ada.get(URL, {"subscription": 987654}).status_code == 404
    assert ada.get(URL, {"subscription": "9" * 30}).status_code == 404
    csv_response = ada.get(URL, {"subscription": world.subs["bob"].pk, "export": "csv"})
    assert csv_response.status_code == 404
    # Staff may look at anyone's.
    assert (
        totals(client_for(world.admin).get(URL, {"subscription": world.subs["bob"].pk})).calls == 5
    )


# --- The time range ---------------------------------------------------------------------


def test_the_default_range_is_the_last_24_hours(world) -> None:
    calls_of(world.subs["ada"], 4, ago=timedelta(hours=25))
    response = client_for(world.ada).get(URL)
    assert totals(response).calls == 4
    report = response.context["report"]
    assert report.time_range.preset == "24h"
    assert report.bucket_size.seconds == 900
    assert "Last 24 hours" in response.content.decode()


@pytest.mark.parametrize(("preset", "calls"), [("1h", 0), ("24h", 4), ("7d", 6), ("30d", 7)])
def test_preset_ranges(world, preset, calls) -> None:
    calls_of(world.subs["ada"], 2, ago=timedelta(days=3))
    calls_of(world.subs["ada"], 1, ago=timedelta(days=20))
    # ada's four calls are an hour old: the last hour starts just after them.
    assert totals(client_for(world.ada).get(URL, {"range": preset})).calls == calls


def test_a_custom_range(world) -> None:
    calls_of(world.subs["ada"], 2, ago=timedelta(days=3))
    local = timezone.localtime()
    params = {
        "range": "custom",
        "from": (local - timedelta(days=4)).strftime("%Y-%m-%dT%H:%M"),
        "to": (local - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
    }
    response = client_for(world.ada).get(URL, params)
    assert totals(response).calls == 2
    assert response.context["report"].time_range.preset == ""
    assert response.context["report"].bucket_size.seconds == 3600
    # From and To without a range mean the custom range they describe.
    del params["range"]
    assert totals(client_for(world.ada).get(URL, params)).calls == 2


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        (
            {"range": "custom", "from": "2025-03-05T10:00", "to": "2025-03-04T10:00"},
            "to",
            "The end of the range must come after its start.",
        ),
        (
            {"range": "custom", "from": "2025-03-05T10:00", "to": "2025-03-05T10:00"},
            "to",
            "The end of the range must come after its start.",
        ),
        (
            {"range": "custom", "from": "2024-01-01T00:00", "to": "2025-01-02T00:00"},
            "to",
            "A range can span at most 366 days.",
        ),
        (
            {"range": "custom", "from": "2025-03-05T10:00"},
            "__all__",
            "A custom range needs both a From and a To time.",
        ),
        ({"range": "custom"}, "__all__", "A custom range needs both a From and a To time."),
        (
            {"range": "custom", "from": "yesterday", "to": "2025-03-05T10:00"},
            "from",
            "Enter a valid date/time.",
        ),
        (
            {"range": "forever"},
            "range",
            "Select a valid choice. forever is not one of the available choices.",
        ),
        (
            {"api": "abc"},
            "api",
            "Select a valid choice. That choice is not one of the available choices.",
        ),
        (
            {"api": "9" * 30},
            "api",
            "Select a valid choice. That choice is not one of the available choices.",
        ),
        (
            {"product": "999999"},
            "product",
            "Select a valid choice. That choice is not one of the available choices.",
        ),
        (
            {"subscription": "abc"},
            "subscription",
            "Select a valid choice. That choice is not one of the available choices.",
        ),
    ],
)
def test_bad_filter_values_are_form_errors(world, params, field, message) -> None:
    response = client_for(world.ada).get(URL, params)
    assert response.status_code == 400
    assert response.context["form"].errors[field] == [message]
    page = response.content.decode()
    assert message.replace("'", "&#x27;") in page
    assert "Correct the filter above to see the analytics." in page
    assert "report" not in response.context
    assert "data-chart=" not in page


def test_staff_naming_a_subscription_that_does_not_exist_get_a_form_error(world) -> None:
    for value in ("987654", "9" * 30, "abc"):
        response = client_for(world.admin).get(URL, {"subscription": value})
        assert response.status_code == 400
        assert response.context["form"].errors["subscription"] == [
            "Select a valid choice. That choice is not one of the available choices."
        ]


def test_a_year_and_a_day_is_allowed(world) -> None:
    params = {"range": "custom", "from": "2024-01-01T00:00", "to": "2025-01-01T00:00"}
    response = client_for(world.ada).get(URL, params)
    assert response.status_code == 200
    assert response.context["report"].bucket_size.seconds == 86400
    assert len(response.context["report"].buckets) == 366


def test_an_operation_of_another_api_is_a_form_error(world) -> None:
    other_api = Api.objects.create(name="Other", slug="other", service_url="https://example.com")
    other = Operation.objects.create(
        api=other_api, name="Ping", slug="ping", method="GET", url_template="/ping"
    )
    response = client_for(world.admin).get(URL, {"api": world.api.pk, "operation": other.pk})
    assert response.status_code == 400
    assert response.context["form"].errors["operation"] == [
        "Select a valid choice. That choice is not one of the available choices."
    ]


def test_operations_are_offered_once_an_api_is_chosen(world) -> None:
    admin = client_for(world.admin)
    page = admin.get(URL).content.decode()
    assert '<select name="operation"' not in page
    assert '<input type="hidden" name="operation"' in page
    page = admin.get(URL, {"api": world.api.pk}).content.decode()
    assert '<select name="operation"' in page
    assert f'<option value="{world.operation.pk}">{world.operation.name}' in page
    # A link naming only an operation still narrows the page.
    response = admin.get(URL, {"operation": world.operation.pk})
    assert totals(response).calls == 8


# --- The page ---------------------------------------------------------------------------


def test_the_page_draws_its_charts_inline(world) -> None:
    response = client_for(world.ada).get(URL)
    page = response.content.decode()
    for chart in ("chart-calls", "chart-status", "chart-latency", "chart-bandwidth"):
        assert f'data-chart="{chart}"' in page
        assert f'data-chart="{chart}-narrow"' in page
    assert "<script" not in page.split("<main", 1)[1]
    assert 'href="/static/css/analytics.css"' in page
    assert 'href="?export=csv"' in page
    assert response["Content-Security-Policy"].count("style-src 'self'") == 1


def test_a_range_without_calls_says_so(world) -> None:
    response = client_for(make_user("newcomer")).get(URL)
    page = response.content.decode()
    assert totals(response).calls == 0
    assert page.count("No calls in this range") >= 8  # four charts, two drawings each
    assert 'data-chart="chart-calls"' in page
    assert 'data-stat="calls"' in page


def test_names_are_escaped_in_the_page(world) -> None:
    hostile = make_subscription(
        user=world.ada, product=world.starter, name="<script>alert(1)</script>"
    )
    calls_of(hostile, 1)
    page = client_for(world.admin).get(URL).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_page_takes_a_bounded_number_of_queries(world, django_assert_max_num_queries) -> None:
    admin = client_for(world.admin)
    admin.get(URL)  # session and user loaded once
    with django_assert_max_num_queries(25):
        admin.get(URL, {"api": world.api.pk})


# --- CSV --------------------------------------------------------------------------------


def read_csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="gateway-calls-')
    assert response["X-Content-Type-Options"] == "nosniff"
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_the_csv_holds_the_developers_own_calls(world) -> None:
    rows = read_csv(client_for(world.ada).get(URL, {"export": "csv"}))
    assert len(rows) == 4
    assert {row["user"] for row in rows} == {"ada"}
    assert sorted(row["status_code"] for row in rows) == ["200", "200", "200", "500"]
    assert rows[0]["path"] == "/gateway/demo/score"
    assert "client_address" not in rows[0]


def test_the_csv_follows_the_filters(world) -> None:
    admin = client_for(world.admin)
    assert len(read_csv(admin.get(URL, {"export": "csv"}))) == 11
    rows = read_csv(admin.get(URL, {"export": "csv", "subscription": world.subs["bob"].pk}))
    assert [row["subscription"] for row in rows] == ["Bob's app"] * 5
    assert read_csv(admin.get(URL, {"export": "csv", "range": "1h"})) != []
    old = {"export": "csv", "range": "custom", "from": "2020-01-01T00:00", "to": "2020-02-01T00:00"}
    assert read_csv(admin.get(URL, old)) == []


def test_a_bad_range_downloads_nothing(world) -> None:
    response = client_for(world.ada).get(URL, {"export": "csv", "range": "forever"})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")


def test_the_csv_never_holds_a_key(world) -> None:
    key = world.subs["ada"].key("primary")
    calls_of(world.subs["ada"], 1, path="/gateway/demo/score?subscription-key=***")
    text = client_for(world.ada).get(URL, {"export": "csv"}).getvalue()
    assert key.encode() not in text
    assert b"subscription-key=***" in text
    assert GatewayCall.objects.count() == 12
