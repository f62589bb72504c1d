"""analytics/ report.py, ranges.py, selectors.py and export.py: totals, time buckets,
percentiles, status classes, bandwidth, top lists, the scope and the CSV export, over
GatewayCall rows with chosen times."""

from __future__ import annotations

import csv
import io
import zoneinfo
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.http import Http404
from django.utils import timezone

from analytics import ranges
from analytics.export import CSV_COLUMNS, csv_filename, csv_lines
from analytics.ranges import TimeRange
from analytics.report import Latency, Report, build_report, percentile
from analytics.selectors import Filters, require_visible_subscription, scoped_calls
from gateway.models import CallOutcome, CallSource, GatewayCall
from gateway.recording import record_call
from tests.factories import make_product, make_subscription, make_user

pytestmark = pytest.mark.django_db

DAY_START = datetime(2025, 3, 3, 0, 0, tzinfo=UTC)
DAY = TimeRange(start=DAY_START, end=DAY_START + timedelta(hours=24), preset="24h")
PARIS = zoneinfo.ZoneInfo("Europe/Paris")


def call(
    at: datetime,
    *,
    status: int | None = 200,
    outcome: str = CallOutcome.FORWARDED,
    duration: float = 10.0,
    bytes_in: int = 0,
    bytes_out: int = 0,
    **fields,
) -> GatewayCall:
    """An unsaved call record; lists of them go to bulk_create."""
    return GatewayCall(
        created_at=at,
        method=fields.pop("method", "POST"),
        path=fields.pop("path", "/gateway/demo/score"),
        outcome=outcome,
        status_code=status,
        duration_ms=duration,
        request_bytes=bytes_in,
        response_bytes=bytes_out,
        **fields,
    )


def refused(at: datetime, *, status: int = 429, outcome: str = CallOutcome.RATE_LIMITED, **kw):
    return call(at, status=status, outcome=outcome, duration=0.5, **kw)


def report(time_range: TimeRange = DAY, **kwargs) -> Report:
    calls = GatewayCall.objects.between(time_range.start, time_range.end)
    kwargs.setdefault("with_subscribers", True)
    return build_report(calls=calls, time_range=time_range, tz=UTC, **kwargs)


def at(hours: float = 0, minutes: float = 0) -> datetime:
    return DAY_START + timedelta(hours=hours, minutes=minutes)


# --- Bucket sizes and starts ------------------------------------------------------------


@pytest.mark.parametrize(
    ("span", "seconds"),
    [
        (timedelta(hours=1), 60),
        (timedelta(hours=2), 60),
        (timedelta(hours=6), 300),
        (timedelta(hours=24), 900),
        (timedelta(days=7), 3600),
        (timedelta(days=30), 86400),
        (timedelta(days=90), 86400),
        (timedelta(days=366), 86400),
    ],
)
def test_bucket_size_follows_the_span(span, seconds) -> None:
    time_range = TimeRange(start=DAY_START, end=DAY_START + span)
    assert ranges.bucket_size_for(time_range=time_range).seconds == seconds


@pytest.mark.parametrize(
    ("preset", "buckets"), [("1h", 61), ("24h", 97), ("7d", 169), ("30d", 31), ("90d", 91)]
)
def test_presets_give_a_bucket_count_a_chart_can_show(preset, buckets) -> None:
    # "now" is mid-bucket, so the first bucket starts before the range: one more.
    time_range = ranges.preset_range(preset=preset, now=at(12, 7.5))
    size = ranges.bucket_size_for(time_range=time_range)
    starts = ranges.bucket_starts(time_range=time_range, size=size, tz=UTC)
    assert len(starts) == buckets
    assert starts[0] <= time_range.start < starts[1]
    assert starts[-1] < time_range.end


def test_fifteen_minute_buckets_are_aligned_on_the_quarter_hour() -> None:
    time_range = TimeRange(start=at(10, 7), end=at(10, 7) + timedelta(hours=24))
    starts = ranges.bucket_starts(time_range=time_range, size=ranges.FIFTEEN_MINUTES, tz=UTC)
    assert starts[:3] == [at(10, 0), at(10, 15), at(10, 30)]
    assert len(starts) == 97
    assert {start.minute for start in starts} == {0, 15, 30, 45}


def test_daily_buckets_start_at_local_midnight_across_a_daylight_saving_change() -> None:
    # Paris moves its clocks forward on 30 March 2025: that day has 23 hours.
    time_range = TimeRange(
        start=datetime(2025, 3, 29, 12, tzinfo=PARIS), end=datetime(2025, 4, 1, 12, tzinfo=PARIS)
    )
    starts = ranges.bucket_starts(time_range=time_range, size=ranges.DAY, tz=PARIS)
    assert [start.astimezone(PARIS) for start in starts] == [
        datetime(2025, 3, d, tzinfo=PARIS) for d in (29, 30, 31)
    ] + [datetime(2025, 4, 1, tzinfo=PARIS)]
    assert starts[2] - starts[1] == timedelta(hours=23)


# --- Totals, status classes, bandwidth --------------------------------------------------


def test_totals_count_status_classes_success_errors_and_bandwidth() -> None:
    GatewayCall.objects.bulk_create(
        [
            call(at(1), status=200, bytes_in=100, bytes_out=1000),
            call(at(2), status=201, bytes_in=50, bytes_out=10),
            call(at(3), status=204),
            call(at(4), status=304),
            call(at(5), status=404, bytes_out=30),
            call(at(6), status=500),
            call(at(7), status=502, outcome=CallOutcome.BACKEND_ERROR, error_kind="connect"),
            refused(at(8)),
            refused(at(9), status=401, outcome=CallOutcome.NO_KEY),
            refused(at(10), status=404, outcome=CallOutcome.NOT_FOUND),
            # Outside the range: never counted.
            call(DAY_START - timedelta(seconds=1)),
            call(DAY.end),
        ]
    )
    totals = report().totals
    assert totals.calls == 10
    assert totals.by_class == {
        "2xx": 3,
        "3xx": 1,
        "4xx": 1,
        "5xx": 2,
        "refused": 3,
        "other": 0,
    }
    assert totals.succeeded == 4
    assert totals.errors == 6
    assert totals.refused == 3
    assert totals.success_rate == pytest.approx(0.4)
    assert (totals.bytes_in, totals.bytes_out) == (150, 1040)


def test_a_forwarded_call_without_a_status_is_in_its_own_class() -> None:
    GatewayCall.objects.bulk_create([call(at(1), status=None), call(at(1), status=200)])
    totals = report().totals
    assert totals.by_class["other"] == 1
    assert totals.errors == 1


def test_no_calls_give_zero_totals_and_no_latency() -> None:
    result = report()
    assert result.totals.calls == 0
    assert result.totals.success_rate is None
    assert result.totals.latency == Latency(None, None, None)
    assert len(result.buckets) == 96
    assert all(bucket.calls == 0 for bucket in result.buckets)
    assert result.top_operations == []


# --- Percentiles ------------------------------------------------------------------------


def test_percentile_interpolates_between_ranks() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(sorted_values=values, fraction=0.5) == pytest.approx(50.5)
    assert percentile(sorted_values=values, fraction=0.95) == pytest.approx(95.05)
    assert percentile(sorted_values=values, fraction=0.99) == pytest.approx(99.01)
    assert percentile(sorted_values=[7.0], fraction=0.99) == 7.0
    assert percentile(sorted_values=[], fraction=0.5) is None


def test_latency_percentiles_count_only_calls_that_reached_a_backend() -> None:
    GatewayCall.objects.bulk_create(
        [call(at(1, i), duration=float(i + 1)) for i in range(100)]
        # A flood of fast refusals would otherwise pull every percentile down.
        + [refused(at(2, i)) for i in range(500)]
    )
    latency = report().totals.latency
    assert latency.p50 == pytest.approx(50.5)
    assert latency.p95 == pytest.approx(95.05)
    assert latency.p99 == pytest.approx(99.01)


def test_backend_errors_count_in_latency() -> None:
    GatewayCall.objects.bulk_create(
        [
            call(at(1), duration=10),
            call(at(1), status=504, outcome=CallOutcome.BACKEND_ERROR, duration=30_000),
        ]
    )
    assert report().totals.latency.p99 == pytest.approx(10 + 0.99 * 29_990)


def test_a_large_range_reads_a_bounded_sample_of_durations() -> None:
    GatewayCall.objects.bulk_create([call(at(1, i / 10), duration=float(i)) for i in range(1000)])
    result = report(sample_limit=100)
    sample = result.latency_sample
    assert sample.sampled
    assert sample.reached == 1000
    assert 90 <= sample.size <= 100
    # Every tenth call by id: the estimate stays close to the true median (499.5).
    assert result.totals.latency.p50 == pytest.approx(499.5, abs=15)
    assert result.totals.calls == 1000  # counts are exact, only latency is sampled


def test_a_small_range_reads_every_duration() -> None:
    GatewayCall.objects.bulk_create([call(at(1), duration=float(i)) for i in range(50)])
    sample = report(sample_limit=100).latency_sample
    assert not sample.sampled
    assert sample.size == 50


# --- Buckets ----------------------------------------------------------------------------


def test_buckets_hold_their_calls_by_class_bytes_and_latency() -> None:
    GatewayCall.objects.bulk_create(
        [
            call(at(0, 1), status=200, duration=10, bytes_in=5, bytes_out=50),
            call(at(0, 14.9), status=200, duration=30, bytes_in=5, bytes_out=50),
            call(at(0, 14.9), status=404, duration=20),
            call(at(0, 15), status=503, duration=100, bytes_out=7),
            refused(at(0, 16)),
        ]
    )
    result = report()
    assert result.bucket_size == ranges.FIFTEEN_MINUTES
    first, second, third = result.buckets[:3]
    assert first.start == at(0, 0)
    assert (first.by_class["2xx"], first.by_class["4xx"], first.calls) == (2, 1, 3)
    assert (first.bytes_in, first.bytes_out) == (10, 100)
    assert first.latency.p50 == pytest.approx(20)
    assert second.start == at(0, 15)
    assert (second.by_class["5xx"], second.by_class["refused"], second.calls) == (1, 1, 2)
    assert second.latency.p50 == pytest.approx(100)  # the refusal has no latency
    assert third.calls == 0
    assert third.latency.p50 is None


@pytest.mark.parametrize("zone", ["Asia/Kolkata", "America/New_York", "UTC"])
def test_hourly_buckets_agree_with_the_database_in_any_time_zone(zone) -> None:
    # Kolkata is UTC+05:30: its hours start at half past in UTC.
    tz = zoneinfo.ZoneInfo(zone)
    week = TimeRange(start=DAY_START, end=DAY_START + timedelta(days=7))
    GatewayCall.objects.bulk_create(
        [call(DAY_START + timedelta(minutes=37 * i)) for i in range(200)]
    )
    with timezone.override(tz):
        calls = GatewayCall.objects.between(week.start, week.end)
        result = build_report(calls=calls, time_range=week, with_subscribers=False)
    assert result.bucket_size == ranges.HOUR
    assert sum(bucket.calls for bucket in result.buckets) == 200
    for bucket in result.buckets:
        expected = sum(
            1
            for i in range(200)
            if bucket.start
            <= DAY_START + timedelta(minutes=37 * i)
            < bucket.start + timedelta(hours=1)
        )
        assert bucket.calls == expected, bucket.start
        assert bucket.start.astimezone(tz).minute == 0


def test_daily_buckets_follow_the_local_day() -> None:
    month = TimeRange(
        start=datetime(2025, 3, 1, tzinfo=PARIS), end=datetime(2025, 3, 31, tzinfo=PARIS)
    )
    # 23:30 UTC on 9 March is 00:30 on 10 March in Paris.
    GatewayCall.objects.bulk_create([call(datetime(2025, 3, 9, 23, 30, tzinfo=UTC))])
    calls = GatewayCall.objects.between(month.start, month.end)
    result = build_report(calls=calls, time_range=month, with_subscribers=False, tz=PARIS)
    busy = [bucket for bucket in result.buckets if bucket.calls]
    assert [bucket.start.astimezone(PARIS).date().isoformat() for bucket in busy] == ["2025-03-10"]


# --- Top lists --------------------------------------------------------------------------


@pytest.fixture
def operations(demo_api):
    return list(demo_api.operations.order_by("pk")[:3])


def test_top_operations_rank_by_calls_with_errors_p95_and_bandwidth(demo_api, operations) -> None:
    score, status = operations[:2]
    rows = [
        call(at(1), api=demo_api, operation=score, duration=float(d), bytes_in=10, bytes_out=100)
        for d in range(1, 21)
    ]
    rows += [call(at(2), api=demo_api, operation=score, status=500, duration=1.0)]
    rows += [call(at(3), api=demo_api, operation=status, duration=5.0) for _ in range(3)]
    rows += [refused(at(4), status=404, outcome=CallOutcome.NOT_FOUND) for _ in range(2)]
    GatewayCall.objects.bulk_create(rows)
    top = report().top_operations
    assert [row.key for row in top] == [score.pk, status.pk, None]
    first = top[0]
    assert (first.label, first.calls, first.errors) == (score.name, 21, 1)
    assert first.detail == f"{demo_api.name} · {score.method}"
    assert (first.bytes_in, first.bytes_out) == (200, 2000)
    assert first.p95 == pytest.approx(19.0)
    assert first.filter_params == {"api": demo_api.pk, "operation": score.pk}
    assert first.error_rate == pytest.approx(1 / 21)
    assert (top[1].calls, top[1].errors, top[1].p95) == (3, 0, 5.0)
    unmatched = top[2]
    assert (unmatched.label, unmatched.calls, unmatched.errors) == ("No operation matched", 2, 2)
    assert unmatched.p95 is None
    assert unmatched.filter_params == {}


def test_top_operations_keep_the_ten_busiest(demo_api) -> None:
    operations = list(demo_api.operations.all())
    rows = []
    for rank, operation in enumerate(operations):
        rows += [call(at(1), api=demo_api, operation=operation) for _ in range(rank + 1)]
    GatewayCall.objects.bulk_create(rows)
    top = report().top_operations
    assert len(top) == min(10, len(operations))
    assert [row.calls for row in top] == sorted((row.calls for row in top), reverse=True)
    assert top[0].key == operations[-1].pk


def test_top_subscriptions_and_users_for_staff(demo_api) -> None:
    ada, bob = make_user("ada"), make_user("bob")
    product = make_product(demo_api, slug="starter")
    ada_sub = make_subscription(user=ada, product=product, name="Ada's app")
    bob_sub = make_subscription(user=bob, product=product, name="Bob's app")
    for _ in range(3):
        record_call(
            subscription=ada_sub,
            created_at=at(1),
            method="GET",
            path="/g",
            outcome=CallOutcome.FORWARDED,
            status_code=200,
            response_bytes=10,
        )
    record_call(
        subscription=bob_sub,
        created_at=at(1),
        method="GET",
        path="/g",
        outcome=CallOutcome.FORWARDED,
        status_code=500,
    )
    GatewayCall.objects.bulk_create([refused(at(2), status=401, outcome=CallOutcome.NO_KEY)])
    result = report()
    subs = result.top_subscriptions
    assert [(row.label, row.calls, row.errors) for row in subs] == [
        ("Ada's app", 3, 0),
        ("Bob's app", 1, 1),
        ("No subscription", 1, 1),
    ]
    assert subs[0].detail == "ada · Starter"
    assert subs[0].bytes_out == 30
    assert subs[0].filter_params == {"subscription": ada_sub.pk}
    assert [(row.label, row.calls) for row in result.top_users] == [
        ("ada", 3),
        ("bob", 1),
        ("Anonymous", 1),
    ]
    assert report(with_subscribers=False).top_subscriptions == []
    assert report(with_subscribers=False).top_users == []


def test_the_report_takes_a_fixed_number_of_queries(
    demo_api, django_assert_max_num_queries
) -> None:
    operation = demo_api.operations.first()
    GatewayCall.objects.bulk_create(
        [call(at(i % 24, i % 60), api=demo_api, operation=operation) for i in range(300)]
    )
    with django_assert_max_num_queries(8):
        report()


# --- Scope ------------------------------------------------------------------------------


@pytest.fixture
def two_developers(demo_api):
    ada, bob = make_user("ada"), make_user("bob")
    starter = make_product(demo_api, slug="starter")
    gold = make_product(demo_api, slug="gold")
    subs = {
        "ada-starter": make_subscription(user=ada, product=starter),
        "ada-gold": make_subscription(user=ada, product=gold),
        "bob-starter": make_subscription(user=bob, product=starter),
    }
    for name, count in (("ada-starter", 2), ("ada-gold", 3), ("bob-starter", 5)):
        for _ in range(count):
            record_call(
                subscription=subs[name],
                api=demo_api,
                created_at=at(1),
                method="GET",
                path="/g",
                outcome=CallOutcome.FORWARDED,
                status_code=200,
                source=CallSource.GATEWAY,
            )
    return SimpleNamespace(ada=ada, bob=bob, starter=starter, gold=gold, subs=subs)


def test_a_developer_sees_only_their_calls(two_developers) -> None:
    world = two_developers
    ada, bob, starter, subs = world.ada, world.bob, world.starter, world.subs
    assert scoped_calls(user=ada, filters=Filters(time_range=DAY)).count() == 5
    assert scoped_calls(user=bob, filters=Filters(time_range=DAY)).count() == 5
    # Filters narrow within the own calls, never beyond them.
    only_starter = Filters(time_range=DAY, product=starter)
    assert scoped_calls(user=ada, filters=only_starter).count() == 2
    bobs = Filters(time_range=DAY, subscription=subs["bob-starter"])
    assert scoped_calls(user=ada, filters=bobs).count() == 0


def test_staff_see_every_call_and_filter_them(two_developers, demo_api) -> None:
    starter, subs = two_developers.starter, two_developers.subs
    admin = make_user("root", staff=True)
    assert scoped_calls(user=admin, filters=Filters(time_range=DAY)).count() == 10
    starter_calls = Filters(time_range=DAY, product=starter)
    assert scoped_calls(user=admin, filters=starter_calls).count() == 7
    by_api = Filters(time_range=DAY, api=demo_api, subscription=subs["ada-gold"])
    assert scoped_calls(user=admin, filters=by_api).count() == 3
    earlier = Filters(time_range=TimeRange(start=at(-5), end=at(1)))
    assert scoped_calls(user=admin, filters=earlier).count() == 0


def test_naming_someone_elses_subscription_is_a_404(two_developers) -> None:
    ada, subs = two_developers.ada, two_developers.subs
    require_visible_subscription(user=ada, subscription_id=str(subs["ada-gold"].pk))
    require_visible_subscription(user=ada, subscription_id=None)
    require_visible_subscription(user=ada, subscription_id="")
    require_visible_subscription(user=ada, subscription_id="abc")  # the form's error
    for value in (str(subs["bob-starter"].pk), "999999", "9" * 40):
        with pytest.raises(Http404):
            require_visible_subscription(user=ada, subscription_id=value)
    admin = make_user("root", staff=True)
    require_visible_subscription(user=admin, subscription_id=str(subs["bob-starter"].pk))


# --- CSV --------------------------------------------------------------------------------


def test_csv_lines_list_the_calls_oldest_first_with_masked_paths(demo_api) -> None:
    ada = make_user("ada")
    product = make_product(demo_api, slug="starter")
    sub = make_subscription(user=ada, product=product, name='=HYPERLINK("x")')
    operation = demo_api.operations.first()
    record_call(
        subscription=sub,
        api=demo_api,
        operation=operation,
        created_at=at(2),
        method="POST",
        path="/gateway/demo/score?subscription-key=***",
        outcome=CallOutcome.FORWARDED,
        status_code=200,
        duration_ms=12.3456,
        backend_duration_ms=10.0,
        request_bytes=3,
        response_bytes=4,
    )
    record_call(
        created_at=at(1),
        method="GET",
        path="/gateway/nowhere",
        outcome=CallOutcome.NOT_FOUND,
        status_code=404,
        duration_ms=0.5,
    )
    calls = GatewayCall.objects.between(DAY.start, DAY.end)
    text = "".join(csv_lines(calls=calls, tz=UTC))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert [row["path"] for row in rows] == [
        "/gateway/nowhere",
        "/gateway/demo/score?subscription-key=***",
    ]
    first, second = rows
    assert first["created_at"] == "2025-03-03T01:00:00.000+00:00"
    assert (first["api"], first["user"], first["status_code"], first["outcome"]) == (
        "",
        "",
        "404",
        "not_found",
    )
    assert second["api"] == demo_api.slug
    assert second["operation"] == operation.name
    assert (second["product"], second["user"]) == ("starter", "ada")
    assert second["subscription_id"] == str(sub.pk)
    # A name that a spreadsheet would run as a formula is written as text.
    assert second["subscription"] == '\'=HYPERLINK("x")'
    assert (second["duration_ms"], second["backend_duration_ms"]) == ("12.346", "10.0")
    assert (second["request_bytes"], second["response_bytes"]) == ("3", "4")


def test_csv_filename_names_the_range() -> None:
    assert csv_filename(time_range=DAY, tz=UTC) == ("gateway-calls-20250303-0000-20250304-0000.csv")
