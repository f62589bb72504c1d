"""gateway/limits.py: the sliding rate limit and the fixed-period quota, in the cache.

Every call passes `now`, so windows and their boundaries are exact.
"""

import threading

import pytest
from django.core.cache import cache

from gateway.limits import Admission, admit, current_usage
from gateway.models import Product, Subscription
from portal import shared_cache

MINUTE = 60
# The start of a rate window (a multiple of 60) and of a quota hour (of 3600).
START = 1_800_000_000.0 - (1_800_000_000 % 3600)


@pytest.fixture(autouse=True, params=["local memory", "redis"])
def counters(request, settings) -> str:
    """Each test counts in local memory (the generic increments) and in Redis (the
    script), whatever cache the run is configured with."""
    if request.param == "redis":
        location = f"{request.getfixturevalue('redis_server')}/2"
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": location,
            }
        }
    else:
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()
    assert (shared_cache.redis_client() is not None) == (request.param == "redis")
    return request.param


def product(*, rate: int = 0, rate_period: int = MINUTE, quota: int = 0, quota_period=3600):
    # admit reads only the limits and the subscription's id: no database needed.
    return Product(
        rate_limit_calls=rate,
        rate_limit_period_seconds=rate_period,
        quota_calls=quota,
        quota_period_seconds=quota_period,
    )


def subscription(pk: int = 1) -> Subscription:
    return Subscription(pk=pk)


def calls(count: int, *, sub: Subscription, prod: Product, now: float) -> list[Admission]:
    return [admit(subscription=sub, product=prod, now=now) for _ in range(count)]


def allowed(admissions: list[Admission]) -> int:
    return sum(a.allowed for a in admissions)


# --- The sliding estimate ----------------------------------------------------------------


def test_the_limit_admits_exactly_its_calls_in_one_window():
    sub, prod = subscription(), product(rate=5)
    admissions = calls(7, sub=sub, prod=prod, now=START + 10)
    assert [a.allowed for a in admissions] == [True] * 5 + [False] * 2
    assert [a.rate_remaining for a in admissions[:5]] == [4, 3, 2, 1, 0]
    assert admissions[5].refused_by == "rate"


def test_the_previous_window_weighs_by_how_much_of_it_is_still_inside_the_period():
    sub, prod = subscription(), product(rate=10)
    assert allowed(calls(10, sub=sub, prod=prod, now=START - 30)) == 10
    # Half-way through the next window the previous 10 count as 5: 5 more fit.
    admissions = calls(7, sub=sub, prod=prod, now=START + 30)
    assert [a.allowed for a in admissions] == [True] * 5 + [False] * 2
    # Three quarters through, they count as 2.5: the estimate 2.5 + 5 + 1 leaves room.
    assert admit(subscription=sub, product=prod, now=START + 45).allowed
    # At the end of the next window those 6 calls weigh 6 x 1/60: 9 more fit, not 10.
    assert allowed(calls(10, sub=sub, prod=prod, now=START + 60 + 59)) == 9
    # A window later nothing of them is left.
    assert allowed(calls(11, sub=sub, prod=prod, now=START + 180)) == 10


def test_subscriptions_are_counted_apart():
    prod = product(rate=2)
    assert allowed(calls(3, sub=subscription(1), prod=prod, now=START)) == 2
    assert allowed(calls(3, sub=subscription(2), prod=prod, now=START)) == 2


def test_a_product_without_limits_admits_everything_and_says_nothing():
    admissions = calls(50, sub=subscription(), prod=product(), now=START)
    assert allowed(admissions) == 50
    assert admissions[-1].headers() == []


# --- Retry-After --------------------------------------------------------------------------


def test_retry_after_when_the_previous_window_still_weighs():
    sub, prod = subscription(), product(rate=10)
    calls(10, sub=sub, prod=prod, now=START - 30)
    calls(5, sub=sub, prod=prod, now=START + 30)
    refused = admit(subscription=sub, product=prod, now=START + 30)
    # previous 10 x (1 - f) + 5 + 1 <= 10 once f reaches 0.6: 36 s into the window.
    assert (refused.allowed, refused.retry_after) == (False, 6)
    assert not admit(subscription=sub, product=prod, now=START + 35).allowed
    assert admit(subscription=sub, product=prod, now=START + 36).allowed


def test_retry_after_when_the_current_window_alone_is_full():
    sub, prod = subscription(), product(rate=10)
    calls(10, sub=sub, prod=prod, now=START + 10)
    refused = admit(subscription=sub, product=prod, now=START + 10)
    # Next window: 10 x (1 - f) + 1 <= 10 once f reaches 0.1, 6 s into it.
    assert (refused.allowed, refused.retry_after) == (False, 56)
    assert not admit(subscription=sub, product=prod, now=START + 65).allowed
    assert admit(subscription=sub, product=prod, now=START + 66).allowed


def test_retry_after_is_at_least_one_second():
    sub, prod = subscription(), product(rate=1)
    calls(1, sub=sub, prod=prod, now=START + 59.9)
    refused = admit(subscription=sub, product=prod, now=START + 59.9)
    assert refused.retry_after >= 1


def test_the_headers_of_an_admitted_and_a_refused_call():
    sub, prod = subscription(), product(rate=2, quota=100)
    first = admit(subscription=sub, product=prod, now=START + 600)
    assert first.headers() == [
        ("X-RateLimit-Limit", "2"),
        ("X-RateLimit-Remaining", "1"),
        ("X-RateLimit-Period", "60"),
        ("X-Quota-Limit", "100"),
        ("X-Quota-Remaining", "99"),
        ("X-Quota-Reset", "3000"),
    ]
    admit(subscription=sub, product=prod, now=START + 600)
    refused = admit(subscription=sub, product=prod, now=START + 600)
    assert refused.headers() == [
        ("X-RateLimit-Limit", "2"),
        ("X-RateLimit-Remaining", "0"),
        ("X-RateLimit-Period", "60"),
        ("X-Quota-Limit", "100"),
        ("X-Quota-Remaining", "98"),
        ("X-Quota-Reset", "3000"),
        ("Retry-After", "90"),  # the next window, once 2 x (1 - f) + 1 <= 2
    ]


# --- Refused calls are not counted --------------------------------------------------------


def test_calls_refused_by_the_rate_are_not_counted():
    sub, prod = subscription(), product(rate=3, quota=10)
    admissions = calls(20, sub=sub, prod=prod, now=START + 59)
    assert allowed(admissions) == 3
    # Had the 17 refusals counted, the previous window would weigh 10, not 1.5.
    usage = current_usage(subscription=sub, product=prod, now=START + 90)
    assert usage.rate_remaining == 3 - 2  # 3 x 0.5 = 1.5, rounded up
    # Nor did they use the quota.
    assert usage.quota_remaining == 10 - 3


def test_calls_refused_by_the_quota_do_not_use_the_rate():
    sub, prod = subscription(), product(rate=100, quota=2)
    admissions = calls(5, sub=sub, prod=prod, now=START + 10)
    assert [a.allowed for a in admissions] == [True, True, False, False, False]
    assert {a.refused_by for a in admissions[2:]} == {"quota"}
    assert current_usage(subscription=sub, product=prod, now=START + 10).rate_remaining == 98


def test_current_usage_counts_nothing():
    sub, prod = subscription(), product(rate=2, quota=5)
    for _ in range(5):
        usage = current_usage(subscription=sub, product=prod, now=START)
    assert (usage.rate_remaining, usage.quota_remaining) == (2, 5)
    assert allowed(calls(3, sub=sub, prod=prod, now=START)) == 2


# --- The quota period ---------------------------------------------------------------------


def test_the_quota_holds_for_its_fixed_period_then_renews():
    sub, prod = subscription(), product(quota=3, quota_period=3600)
    assert allowed(calls(3, sub=sub, prod=prod, now=START + 100)) == 3
    refused = admit(subscription=sub, product=prod, now=START + 3000)
    assert (refused.allowed, refused.refused_by) == (False, "quota")
    # Retry-After is when the period renews: the end of the hour.
    assert refused.retry_after == refused.quota_reset == 600
    assert ("Retry-After", "600") in refused.headers()
    assert not admit(subscription=sub, product=prod, now=START + 3599).allowed
    renewed = admit(subscription=sub, product=prod, now=START + 3600)
    assert (renewed.allowed, renewed.quota_remaining, renewed.quota_reset) == (True, 2, 3600)


@pytest.mark.parametrize("period", [86400, 7 * 86400])
def test_longer_quota_periods(period):
    sub, prod = subscription(), product(quota=1, quota_period=period)
    start = START - START % period
    assert admit(subscription=sub, product=prod, now=start + 5).allowed
    assert admit(subscription=sub, product=prod, now=start + period - 1).allowed is False
    assert admit(subscription=sub, product=prod, now=start + period).allowed


# --- Concurrency --------------------------------------------------------------------------


@pytest.mark.parametrize(("limit", "per_thread"), [(200, 20), (50, 10)])
def test_concurrent_calls_at_the_edge_admit_at_most_the_limit(limit, per_thread) -> None:
    """32 threads send at once; at most limit + 1 % may pass (exactly the limit here)."""
    sub, prod = subscription(), product(rate=limit, quota=10 * limit)
    barrier = threading.Barrier(32)
    results: list[bool] = []
    lock = threading.Lock()

    def client() -> None:
        barrier.wait()
        mine = [
            admit(subscription=sub, product=prod, now=START + 5).allowed for _ in range(per_thread)
        ]
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(results) == 32 * per_thread
    admitted = sum(results)
    assert admitted <= limit * 1.01
    assert admitted == limit
    usage = current_usage(subscription=sub, product=prod, now=START + 5)
    assert (usage.rate_remaining, usage.quota_remaining) == (0, 9 * limit)
