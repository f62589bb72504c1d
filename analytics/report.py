"""The analytics report over gateway call records (GatewayCall rows): totals, buckets
over time, latency percentiles and top lists.

Counting and summing happen in the database: one GROUP BY a truncated time
(TruncMinute/TruncHour/TruncDay in the site's time zone, which Django translates for
SQLite and PostgreSQL alike) and status class gives the charts' counts and, summed
here, the totals; one GROUP BY for each top list. Five- and fifteen-minute buckets are
minute groups folded together here, at most 1,440 x 6 rows for a day.

Percentiles are computed in Python from the durations of the range. To stay bounded
whatever the range, at most LATENCY_SAMPLE_LIMIT durations are read: when the range
holds more, a systematic sample is read instead (every n-th call by id, `id % n = 0`
in SQL), and the page says the figures are estimated from a sample.

Latency counts the calls that reached a backend (forwarded, or failed at the
backend): a call the gateway refuses answers in about a millisecond and says
nothing about an API's speed.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from django.contrib.auth import get_user_model
from django.db.models import Case, CharField, Count, F, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Mod, TruncDay, TruncHour, TruncMinute
from django.utils import timezone

from analytics.ranges import BucketSize, TimeRange, bucket_size_for, bucket_start, bucket_starts
from catalog.models import Operation
from gateway.models import CallOutcome, GatewayCall, Subscription

LATENCY_SAMPLE_LIMIT = 20_000
TOP_LIMIT = 10

# Outcomes of calls that went to a backend; every other outcome is a refusal by the
# gateway itself (no key, bad key, limits, unknown path, bad request).
REACHED_BACKEND = (CallOutcome.FORWARDED, CallOutcome.BACKEND_ERROR)
REFUSED = "refused"
OTHER = "other"
# Status classes in the order charts stack and list them.
STATUS_CLASSES = ("2xx", "3xx", "4xx", "5xx", REFUSED, OTHER)
STATUS_CLASS_NAMES = {
    "2xx": "2xx success",
    "3xx": "3xx redirect",
    "4xx": "4xx client error",
    "5xx": "5xx server error",
    REFUSED: "Refused by the gateway",
    OTHER: "No status",
}
SUCCESS_CLASSES = ("2xx", "3xx")

# What the database truncates a call's time to, per BucketSize.unit.
_TRUNCATE = {"minute": TruncMinute, "hour": TruncHour, "day": TruncDay}


def _status_class() -> Case:
    """The call's status class, as an SQL expression."""
    return Case(
        When(~Q(outcome__in=REACHED_BACKEND), then=Value(REFUSED)),
        When(status_code__gte=200, status_code__lt=300, then=Value("2xx")),
        When(status_code__gte=300, status_code__lt=400, then=Value("3xx")),
        When(status_code__gte=400, status_code__lt=500, then=Value("4xx")),
        When(status_code__gte=500, status_code__lt=600, then=Value("5xx")),
        default=Value(OTHER),
        output_field=CharField(),
    )


def percentile(*, sorted_values: Sequence[float], fraction: float) -> float | None:
    """Linear interpolation between the closest ranks (as numpy's default does);
    None for no values."""
    if not sorted_values:
        return None
    position = (len(sorted_values) - 1) * fraction
    lower = math.floor(position)
    upper = math.ceil(position)
    weight = position - lower
    return sorted_values[lower] * (1 - weight) + sorted_values[upper] * weight


@dataclass(frozen=True)
class Latency:
    p50: float | None = None
    p95: float | None = None
    p99: float | None = None

    @classmethod
    def of(cls, values: Iterable[float]) -> Latency:
        ordered = sorted(values)
        return cls(
            p50=percentile(sorted_values=ordered, fraction=0.50),
            p95=percentile(sorted_values=ordered, fraction=0.95),
            p99=percentile(sorted_values=ordered, fraction=0.99),
        )


@dataclass(frozen=True)
class LatencySample:
    """Durations of calls that reached a backend: (created_at, operation id, ms)."""

    rows: Sequence[tuple[datetime, int | None, float]]
    reached: int  # how many such calls the range holds
    sampled: bool  # True when rows are every n-th of them, not all

    @property
    def size(self) -> int:
        return len(self.rows)


def latency_sample(
    *, calls: QuerySet[GatewayCall], reached: int, limit: int = LATENCY_SAMPLE_LIMIT
) -> LatencySample:
    """All durations of the calls that reached a backend, or every n-th by id when
    there are more than `limit`: never more than `limit` rows read."""
    reaching = calls.filter(outcome__in=REACHED_BACKEND).order_by()
    sampled = reached > limit
    if sampled:
        every = math.ceil(reached / limit)
        reaching = reaching.annotate(sample_slot=Mod("id", every)).filter(sample_slot=0)
    rows = list(reaching.values_list("created_at", "operation_id", "duration_ms")[:limit])
    return LatencySample(rows=rows, reached=reached, sampled=sampled)


@dataclass(frozen=True)
class Totals:
    calls: int
    by_class: dict[str, int]
    bytes_in: int  # request bodies, client to gateway
    bytes_out: int  # response bodies, gateway to client
    latency: Latency

    @property
    def succeeded(self) -> int:
        return sum(self.by_class.get(name, 0) for name in SUCCESS_CLASSES)

    @property
    def errors(self) -> int:
        """Calls that did not succeed: 4xx, 5xx, no status, or refused by the gateway."""
        return self.calls - self.succeeded

    @property
    def refused(self) -> int:
        return self.by_class.get(REFUSED, 0)

    @property
    def success_rate(self) -> float | None:
        return self.succeeded / self.calls if self.calls else None


@dataclass(frozen=True)
class Bucket:
    start: datetime
    by_class: dict[str, int]
    bytes_in: int
    bytes_out: int
    latency: Latency

    @property
    def calls(self) -> int:
        return sum(self.by_class.values())


@dataclass(frozen=True)
class _TimeGroups:
    """Per bucket start: calls by status class, bytes in and out (from the database)."""

    counts: dict[datetime, dict[str, int]]
    bytes_in: dict[datetime, int]
    bytes_out: dict[datetime, int]

    def totals(self, *, latency: Latency) -> Totals:
        by_class = dict.fromkeys(STATUS_CLASSES, 0)
        for counts in self.counts.values():
            for name, count in counts.items():
                by_class[name] += count
        return Totals(
            calls=sum(by_class.values()),
            by_class=by_class,
            bytes_in=sum(self.bytes_in.values()),
            bytes_out=sum(self.bytes_out.values()),
            latency=latency,
        )


def _time_groups(*, calls: QuerySet[GatewayCall], size: BucketSize, tz: tzinfo) -> _TimeGroups:
    """One GROUP BY (truncated time, status class): the charts' counts, and summed up,
    the totals, so the calls are scanned once for both."""
    counts: dict[datetime, dict[str, int]] = defaultdict(lambda: dict.fromkeys(STATUS_CLASSES, 0))
    bytes_in: dict[datetime, int] = defaultdict(int)
    bytes_out: dict[datetime, int] = defaultdict(int)
    truncate = _TRUNCATE[size.unit]
    grouped = (
        calls.order_by()
        .annotate(moment=truncate("created_at", tzinfo=tz), status_class=_status_class())
        .values("moment", "status_class")
        .annotate(calls=Count("id"), bytes_in=Sum("request_bytes"), bytes_out=Sum("response_bytes"))
    )
    for row in grouped:
        key = bucket_start(moment=row["moment"], size=size, tz=tz)
        counts[key][row["status_class"]] += row["calls"]
        bytes_in[key] += row["bytes_in"] or 0
        bytes_out[key] += row["bytes_out"] or 0
    return _TimeGroups(counts=dict(counts), bytes_in=dict(bytes_in), bytes_out=dict(bytes_out))


def _buckets(
    *,
    groups: _TimeGroups,
    time_range: TimeRange,
    size: BucketSize,
    sample: LatencySample,
    tz: tzinfo,
) -> list[Bucket]:
    durations: dict[datetime, list[float]] = defaultdict(list)
    for created_at, _operation_id, duration in sample.rows:
        durations[bucket_start(moment=created_at, size=size, tz=tz)].append(duration)
    return [
        Bucket(
            start=start,
            by_class=dict(groups.counts.get(start) or dict.fromkeys(STATUS_CLASSES, 0)),
            bytes_in=groups.bytes_in.get(start, 0),
            bytes_out=groups.bytes_out.get(start, 0),
            latency=Latency.of(durations.get(start, ())),
        )
        for start in bucket_starts(time_range=time_range, size=size, tz=tz)
    ]


@dataclass(frozen=True)
class TopRow:
    """One line of a top list: an operation, a subscription or a user."""

    key: int | None  # the object's id, None for calls without one
    label: str
    detail: str
    calls: int
    errors: int
    bytes_in: int
    bytes_out: int
    p95: float | None = None
    filter_params: dict[str, int] = field(default_factory=dict)  # to narrow the page to it

    @classmethod
    def of(
        cls,
        grouped: tuple,
        *,
        label: str,
        detail: str,
        p95: float | None = None,
        filter_params: dict[str, int] | None = None,
    ) -> TopRow:
        """A line from a row of _grouped_top: (key, calls, errors, bytes in, bytes out)."""
        key, calls, errors, bytes_in, bytes_out = grouped
        return cls(
            key=key,
            label=label,
            detail=detail,
            calls=calls,
            errors=errors,
            bytes_in=bytes_in,
            bytes_out=bytes_out,
            p95=p95,
            filter_params=filter_params or {},
        )

    @property
    def error_rate(self) -> float:
        return self.errors / self.calls if self.calls else 0.0


def _grouped_top(
    *, calls: QuerySet[GatewayCall], by: str, limit: int
) -> list[tuple[int | None, int, int, int, int]]:
    """(id, calls, errors, bytes in, bytes out) of the `limit` ids with most calls."""
    success = Q(outcome__in=REACHED_BACKEND, status_code__gte=200, status_code__lt=400)
    rows = (
        calls.order_by()
        .values(by)
        .annotate(
            calls=Count("id"),
            succeeded=Count("id", filter=success),
            bytes_in=Sum("request_bytes"),
            bytes_out=Sum("response_bytes"),
        )
        # Ties by id, the calls without one last, on SQLite and PostgreSQL alike.
        .order_by("-calls", F(by).asc(nulls_last=True))[:limit]
    )
    return [
        (
            row[by],
            row["calls"],
            row["calls"] - row["succeeded"],
            row["bytes_in"] or 0,
            row["bytes_out"] or 0,
        )
        for row in rows
    ]


def top_operations(
    *, calls: QuerySet[GatewayCall], sample: LatencySample, limit: int = TOP_LIMIT
) -> list[TopRow]:
    """The operations with most calls, with their errors, p95 latency and bandwidth."""
    grouped = _grouped_top(calls=calls, by="operation_id", limit=limit)
    ids = [row[0] for row in grouped if row[0] is not None]
    operations = Operation.objects.select_related("api").only(
        "name", "method", "api__name", "api_id"
    )
    by_id = {operation.pk: operation for operation in operations.filter(pk__in=ids)}
    durations: dict[int | None, list[float]] = defaultdict(list)
    for _created_at, operation_id, duration in sample.rows:
        durations[operation_id].append(duration)
    rows = []
    for row in grouped:
        operation_id = row[0]
        operation = by_id.get(operation_id) if operation_id is not None else None
        if operation is not None:
            label, detail = operation.name, f"{operation.api.name} · {operation.method}"
            params = {"api": operation.api_id, "operation": operation.pk}
        else:
            label, detail, params = "No operation matched", "unknown paths, refused early", {}
        p95 = Latency.of(durations.get(operation_id, ())).p95
        rows.append(TopRow.of(row, label=label, detail=detail, p95=p95, filter_params=params))
    return rows


def top_subscriptions(*, calls: QuerySet[GatewayCall], limit: int = TOP_LIMIT) -> list[TopRow]:
    grouped = _grouped_top(calls=calls, by="subscription_id", limit=limit)
    ids = [row[0] for row in grouped if row[0] is not None]
    subscriptions = Subscription.objects.select_related("user", "product").filter(pk__in=ids)
    by_id = {subscription.pk: subscription for subscription in subscriptions}
    rows = []
    for row in grouped:
        subscription = by_id.get(row[0]) if row[0] is not None else None
        if subscription is not None:
            label = subscription.name
            detail = f"{subscription.user.get_username()} · {subscription.product.name}"
            params = {"subscription": subscription.pk}
        else:
            label, detail, params = "No subscription", "calls without a valid key", {}
        rows.append(TopRow.of(row, label=label, detail=detail, filter_params=params))
    return rows


def top_users(*, calls: QuerySet[GatewayCall], limit: int = TOP_LIMIT) -> list[TopRow]:
    grouped = _grouped_top(calls=calls, by="user_id", limit=limit)
    ids = [row[0] for row in grouped if row[0] is not None]
    users = get_user_model().objects.filter(pk__in=ids)
    by_id = {user.pk: user for user in users}
    rows = []
    for row in grouped:
        user = by_id.get(row[0]) if row[0] is not None else None
        if user is not None:
            label, detail = user.get_username(), user.email
        else:
            label, detail = "Anonymous", "calls without a valid key"
        rows.append(TopRow.of(row, label=label, detail=detail))
    return rows


def refusal_reasons(*, calls: QuerySet[GatewayCall]) -> list[tuple[str, int]]:
    """Why the gateway refused calls: (reason in words, calls), most frequent first."""
    rows = (
        calls.exclude(outcome__in=REACHED_BACKEND)
        .order_by()
        .values("outcome")
        .annotate(calls=Count("id"))
        .order_by("-calls", "outcome")
    )
    names = dict(CallOutcome.choices)
    return [(names.get(row["outcome"], row["outcome"]), row["calls"]) for row in rows]


@dataclass(frozen=True)
class Report:
    time_range: TimeRange
    bucket_size: BucketSize
    totals: Totals
    buckets: list[Bucket]
    latency_sample: LatencySample
    refusals: list[tuple[str, int]]
    top_operations: list[TopRow]
    top_subscriptions: list[TopRow]  # empty unless asked for (staff)
    top_users: list[TopRow]


def build_report(
    *,
    calls: QuerySet[GatewayCall],
    time_range: TimeRange,
    with_subscribers: bool,
    tz: tzinfo | None = None,
    sample_limit: int = LATENCY_SAMPLE_LIMIT,
) -> Report:
    """Everything the analytics page shows about `calls` (already narrowed to the range
    and scope): totals, buckets over time, and the top lists (subscriptions and users
    only `with_subscribers`, which is for staff)."""
    tz = tz or timezone.get_current_timezone()
    size = bucket_size_for(time_range=time_range)
    groups = _time_groups(calls=calls, size=size, tz=tz)
    counted = groups.totals(latency=Latency())
    reached = counted.calls - counted.refused
    sample = latency_sample(calls=calls, reached=reached, limit=sample_limit)
    totals = groups.totals(
        latency=Latency.of(duration for _moment, _operation, duration in sample.rows)
    )
    has_calls = totals.calls > 0
    return Report(
        time_range=time_range,
        bucket_size=size,
        totals=totals,
        buckets=_buckets(groups=groups, time_range=time_range, size=size, sample=sample, tz=tz),
        latency_sample=sample,
        refusals=refusal_reasons(calls=calls) if totals.refused else [],
        top_operations=top_operations(calls=calls, sample=sample) if has_calls else [],
        top_subscriptions=top_subscriptions(calls=calls) if has_calls and with_subscribers else [],
        top_users=top_users(calls=calls) if has_calls and with_subscribers else [],
    )
