"""A subscription's rate limit (sliding) and quota (fixed period), counted in the cache.

With REDIS_URL set every process counts in the same Redis, so the limits hold for
the whole deployment; local memory counts per process.

The rate is a sliding window estimated from two fixed windows: the previous window's
count weighs by how much of it still lies inside the sliding period. Counting is an
atomic increment first and a decision after, so concurrent calls each see their own
count and a burst cannot slip past the limit; a refused call takes its count back.
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass

from django.core.cache import cache

from gateway.models import Product, Subscription


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


def admit(*, subscription: Subscription, product: Product, now: float | None = None) -> Admission:
    """Count one call against the subscription, or refuse it without counting."""
    now = time.time() if now is None else now
    rate_limit, rate_period = product.rate_limit_calls, product.rate_limit_period_seconds
    quota_limit, quota_period = product.quota_calls, product.quota_period_seconds
    rate_remaining = quota_remaining = quota_reset = 0

    if rate_limit:
        current_key, previous_key, elapsed_fraction = _rate_keys(
            subscription.pk, period=rate_period, now=now
        )
        current = _increment(current_key, timeout=2 * rate_period + 1)
        previous = cache.get(previous_key) or 0
        estimate = previous * (1 - elapsed_fraction) + current
        if estimate > rate_limit:
            _take_back(current_key)
            return Admission(
                allowed=False,
                refused_by="rate",
                retry_after=_rate_retry_after(
                    limit=rate_limit,
                    period=rate_period,
                    previous=previous,
                    current=current - 1,
                    now=now,
                    elapsed_fraction=elapsed_fraction,
                ),
                rate_limit=rate_limit,
                rate_remaining=0,
                rate_period=rate_period,
                **_quota_state(subscription=subscription, product=product, now=now),
            )
        rate_remaining = max(0, rate_limit - math.ceil(estimate))

    if quota_limit:
        quota_key, index = _quota_key(subscription.pk, period=quota_period, now=now)
        quota_reset = max(1, math.ceil((index + 1) * quota_period - now))
        used = _increment(quota_key, timeout=quota_period + 1)
        if used > quota_limit:
            _take_back(quota_key)
            if rate_limit:
                _take_back(current_key)
            return Admission(
                allowed=False,
                refused_by="quota",
                retry_after=quota_reset,
                rate_limit=rate_limit,
                rate_remaining=rate_remaining + 1 if rate_limit else 0,
                rate_period=rate_period if rate_limit else 0,
                quota_limit=quota_limit,
                quota_remaining=0,
                quota_reset=quota_reset,
            )
        quota_remaining = quota_limit - used

    return Admission(
        allowed=True,
        rate_limit=rate_limit,
        rate_remaining=rate_remaining,
        rate_period=rate_period if rate_limit else 0,
        quota_limit=quota_limit,
        quota_remaining=quota_remaining,
        quota_reset=quota_reset,
    )


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
