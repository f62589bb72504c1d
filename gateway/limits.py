"""A subscription's rate limit (sliding) and quota (fixed period), counted in the cache.

With REDIS_URL set every process counts in the same Redis, so the limits hold for
the whole deployment; local memory counts per process.

The rate is a sliding window estimated from two fixed windows: the previous window's
count weighs by how much of it still lies inside the sliding period. A call is counted
only when it is admitted, so refused calls use up nothing.

In Redis one script decides and counts in a single round trip, atomically: concurrent
calls from any number of processes are decided one after the other, so a burst cannot
slip past the limit. Other caches (local memory) count with an atomic increment first
and decide after, so concurrent calls each see their own count; a refused call takes
its count back.
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
from django.core.cache import cache

from gateway.models import CallOutcome, Product, Subscription
from gateway.wording import calls_in_words, format_duration
from portal import shared_cache


@dataclass(frozen=True)
class Admission:
    allowed: bool
    refused_by: str = ""  # "rate" or "quota" when refused
    retry_after: int = 0  # seconds, when refused
    rate_limit: int = 0  # 0: the product has no rate limit
    rate_remaining: int = 0
    rate_period: int = 0
    quota_limit: int = 0  # 0: the product has no quota
    quota_remaining: int = 0
    quota_reset: int = 0  # seconds until the quota period renews

    def headers(self) -> list[tuple[str, str]]:
        """What the gateway tells its callers (README, "Gateway")."""
        headers: list[tuple[str, str]] = []
        if self.rate_limit:
            headers += [
                ("X-RateLimit-Limit", str(self.rate_limit)),
                ("X-RateLimit-Remaining", str(self.rate_remaining)),
                ("X-RateLimit-Period", str(self.rate_period)),
            ]
        if self.quota_limit:
            headers += [
                ("X-Quota-Limit", str(self.quota_limit)),
                ("X-Quota-Remaining", str(self.quota_remaining)),
                ("X-Quota-Reset", str(self.quota_reset)),
            ]
        if not self.allowed:
            headers.append(("Retry-After", str(self.retry_after)))
        return headers


def _rate_keys(subscription_id: int, *, period: int, now: float) -> tuple[str, str, float]:
    index = int(now // period)
    elapsed_fraction = (now - index * period) / period
    return (
        f"gw-rate:{subscription_id}:{period}:{index}",
        f"gw-rate:{subscription_id}:{period}:{index - 1}",
        elapsed_fraction,
    )


def _quota_key(subscription_id: int, *, period: int, now: float) -> tuple[str, int]:
    index = int(now // period)
    return f"gw-quota:{subscription_id}:{period}:{index}", index


@dataclass(frozen=True)
class _Plan:
    """One call's counters: their keys, limits and lifetimes."""

    rate_limit: int
    rate_key: str
    previous_key: str
    elapsed_fraction: float
    rate_ttl: int
    quota_limit: int
    quota_key: str
    quota_ttl: int


ADMITTED, REFUSED_BY_RATE, REFUSED_BY_QUOTA = "admitted", "rate", "quota"


@dataclass(frozen=True)
class _Count:
    verdict: str
    # The counts as they stand after the decision: an admitted call is in them.
    current: int
    previous: int
    used: int


# --- Counting in Redis: one script, one round trip ----------------------------------------

# The script is a file of its own, which the nginx data plane runs too (its comment says
# what it takes and answers): both gateways count the same counters the same way.
_REDIS_SCRIPT = (Path(__file__).parent / "dataplane" / "limits.lua").read_text()
_VERDICTS = {0: REFUSED_BY_RATE, 1: REFUSED_BY_QUOTA, 2: ADMITTED}
_script: Any = None  # registered once; runs on whichever client it is given


def _count_in_redis(client: redis.Redis, plan: _Plan) -> _Count:
    global _script
    if _script is None:
        _script = client.register_script(_REDIS_SCRIPT)
    # The keys as Django's cache names them, so that cache.get reads the same counters.
    keys = [
        cache.make_and_validate_key(plan.rate_key),
        cache.make_and_validate_key(plan.previous_key),
        cache.make_and_validate_key(plan.quota_key),
    ]
    # EVALSHA, loading the script first where the server does not know it yet.
    verdict, current, previous, used = _script(
        keys=keys,
        args=[
            plan.rate_limit,
            plan.rate_ttl,
            repr(plan.elapsed_fraction),
            plan.quota_limit,
            plan.quota_ttl,
        ],
        client=client,
    )
    return _Count(_VERDICTS[int(verdict)], int(current), int(previous), int(used))


# --- Counting in any other cache ----------------------------------------------------------


def _increment(key: str, *, timeout: int) -> int:
    # add() does nothing when the key exists, so concurrent first calls never reset it.
    cache.add(key, 0, timeout=timeout)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.add(key, 0, timeout=timeout)
        return cache.incr(key)


def _take_back(key: str) -> None:
    with contextlib.suppress(ValueError):
        cache.decr(key)


def _count_in_cache(plan: _Plan) -> _Count:
    current = previous = used = 0
    if plan.rate_limit:
        current = _increment(plan.rate_key, timeout=plan.rate_ttl)
        previous = cache.get(plan.previous_key) or 0
        if previous * (1 - plan.elapsed_fraction) + current > plan.rate_limit:
            _take_back(plan.rate_key)
            used = (cache.get(plan.quota_key) or 0) if plan.quota_limit else 0
            return _Count(REFUSED_BY_RATE, current - 1, previous, used)
    if plan.quota_limit:
        used = _increment(plan.quota_key, timeout=plan.quota_ttl)
        if used > plan.quota_limit:
            _take_back(plan.quota_key)
            if plan.rate_limit:
                _take_back(plan.rate_key)
                current -= 1
            return _Count(REFUSED_BY_QUOTA, current, previous, used - 1)
    return _Count(ADMITTED, current, previous, used)


# --- Deciding -----------------------------------------------------------------------------


def _rate_retry_after(
    *, limit: int, period: int, previous: int, current: int, now: float, elapsed_fraction: float
) -> int:
    """Seconds until the sliding estimate leaves room for one more call."""
    window_start = now - elapsed_fraction * period
    if current < limit and previous > 0:
        # previous * (1 - f) + current <= limit - 1 once f reaches this fraction
        fraction = 1 - (limit - 1 - current) / previous
        return max(1, math.ceil(window_start + fraction * period - now))
    # The current window alone is full: wait for it to end, then for its weight to fall.
    fraction = 1 - (limit - 1) / current if current else 0
    return max(1, math.ceil(window_start + period + max(0.0, fraction) * period - now))


def _plan(*, subscription: Subscription, product: Product, now: float) -> _Plan:
    rate_period = product.rate_limit_period_seconds or 1
    rate_key, previous_key, elapsed_fraction = _rate_keys(
        subscription.pk, period=rate_period, now=now
    )
    quota_key, _ = _quota_key(subscription.pk, period=product.quota_period_seconds or 1, now=now)
    return _Plan(
        rate_limit=product.rate_limit_calls,
        rate_key=rate_key,
        previous_key=previous_key,
        elapsed_fraction=elapsed_fraction,
        rate_ttl=2 * rate_period + 1,
        quota_limit=product.quota_calls,
        quota_key=quota_key,
        quota_ttl=(product.quota_period_seconds or 1) + 1,
    )


def admit(*, subscription: Subscription, product: Product, now: float | None = None) -> Admission:
    """Count one call against the subscription, or refuse it without counting."""
    now = time.time() if now is None else now
    plan = _plan(subscription=subscription, product=product, now=now)
    if not plan.rate_limit and not plan.quota_limit:
        return Admission(allowed=True)
    client = shared_cache.redis_client()
    count = _count_in_redis(client, plan) if client is not None else _count_in_cache(plan)

    state: dict[str, Any] = {}
    rate_period = product.rate_limit_period_seconds
    estimate = count.previous * (1 - plan.elapsed_fraction) + count.current
    if plan.rate_limit:
        state |= {
            "rate_limit": plan.rate_limit,
            "rate_period": rate_period,
            "rate_remaining": 0
            if count.verdict == REFUSED_BY_RATE
            else max(0, plan.rate_limit - math.ceil(estimate)),
        }
    quota_reset = 0
    if plan.quota_limit:
        period = product.quota_period_seconds
        quota_reset = max(1, math.ceil((int(now // period) + 1) * period - now))
        state |= {
            "quota_limit": plan.quota_limit,
            "quota_remaining": max(0, plan.quota_limit - count.used),
            "quota_reset": quota_reset,
        }
    if count.verdict == REFUSED_BY_RATE:
        retry_after = _rate_retry_after(
            limit=plan.rate_limit,
            period=rate_period,
            previous=count.previous,
            current=count.current,
            now=now,
            elapsed_fraction=plan.elapsed_fraction,
        )
        return Admission(allowed=False, refused_by="rate", retry_after=retry_after, **state)
    if count.verdict == REFUSED_BY_QUOTA:
        return Admission(allowed=False, refused_by="quota", retry_after=quota_reset, **state)
    return Admission(allowed=True, **state)


def _quota_state(*, subscription: Subscription, product: Product, now: float) -> dict:
    if not product.quota_calls:
        return {}
    key, index = _quota_key(subscription.pk, period=product.quota_period_seconds, now=now)
    used = cache.get(key) or 0
    return {
        "quota_limit": product.quota_calls,
        "quota_remaining": max(0, product.quota_calls - used),
        "quota_reset": max(1, math.ceil((index + 1) * product.quota_period_seconds - now)),
    }


def current_usage(
    *, subscription: Subscription, product: Product, now: float | None = None
) -> Admission:
    """The remaining rate and quota, without counting a call (subscription pages)."""
    now = time.time() if now is None else now
    state: dict = {"allowed": True}
    if product.rate_limit_calls:
        period = product.rate_limit_period_seconds
        current_key, previous_key, elapsed_fraction = _rate_keys(
            subscription.pk, period=period, now=now
        )
        counts = cache.get_many([current_key, previous_key])
        estimate = counts.get(previous_key, 0) * (1 - elapsed_fraction) + counts.get(current_key, 0)
        state |= {
            "rate_limit": product.rate_limit_calls,
            "rate_remaining": max(0, product.rate_limit_calls - math.ceil(estimate)),
            "rate_period": period,
        }
    state |= _quota_state(subscription=subscription, product=product, now=now)
    return Admission(**state)


@dataclass(frozen=True)
class LimitRefusal:
    status: int
    code: str
    outcome: str
    message: str


def limit_refusal(*, admission: Admission, product: Product) -> LimitRefusal:
    """The answer to a call the rate limit (429) or the quota (403) refused, in the same
    words for the gateway, Try it and replays."""
    if admission.refused_by == "rate":
        return LimitRefusal(
            status=429,
            code="RateLimitExceeded",
            outcome=CallOutcome.RATE_LIMITED,
            message=f"Rate limit exceeded: at most {calls_in_words(product.rate_limit_calls)} "
            f"every {product.rate_limit_period_seconds} seconds.",
        )
    return LimitRefusal(
        status=403,
        code="QuotaExceeded",
        outcome=CallOutcome.QUOTA_EXCEEDED,
        message=f"Quota exceeded: at most {calls_in_words(product.quota_calls)} every "
        f"{format_duration(product.quota_period_seconds)}.",
    )
