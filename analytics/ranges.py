"""The time range a report covers and the buckets it counts calls in.

A bucket's size follows the range's span (about 60 to 170 buckets), and buckets are
aligned on the local clock of the site's time zone, as the database truncates times:
days start at local midnight, fifteen minutes at :00, :15 ...
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo

from django.utils import timezone

MAX_RANGE = timedelta(days=366)

PRESETS: dict[str, tuple[str, timedelta]] = {
    "1h": ("Last hour", timedelta(hours=1)),
    "24h": ("Last 24 hours", timedelta(hours=24)),
    "7d": ("Last 7 days", timedelta(days=7)),
    "30d": ("Last 30 days", timedelta(days=30)),
    "90d": ("Last 90 days", timedelta(days=90)),
}
DEFAULT_PRESET = "24h"


@dataclass(frozen=True)
class TimeRange:
    start: datetime  # inclusive
    end: datetime  # exclusive
    preset: str = ""  # the preset's key, "" for a custom range

    @property
    def span(self) -> timedelta:
        return self.end - self.start

    @property
    def name(self) -> str:
        return PRESETS[self.preset][0] if self.preset in PRESETS else "Custom range"


@dataclass(frozen=True)
class BucketSize:
    seconds: int
    unit: str  # what the database truncates to: "minute", "hour" or "day"
    name: str  # "15 minutes"


MINUTE = BucketSize(60, "minute", "1 minute")
FIVE_MINUTES = BucketSize(300, "minute", "5 minutes")
FIFTEEN_MINUTES = BucketSize(900, "minute", "15 minutes")
HOUR = BucketSize(3600, "hour", "1 hour")
DAY = BucketSize(86400, "day", "1 day")


def preset_range(*, preset: str, now: datetime) -> TimeRange:
    return TimeRange(start=now - PRESETS[preset][1], end=now, preset=preset)


def bucket_size_for(*, time_range: TimeRange) -> BucketSize:
    """Between about 60 and 170 buckets for the presets; a year is 366 days."""
    span = time_range.span
    if span <= timedelta(hours=2):
        return MINUTE
    if span <= timedelta(hours=6):
        return FIVE_MINUTES
    if span <= timedelta(hours=24):
        return FIFTEEN_MINUTES
    if span <= timedelta(days=8):
        return HOUR
    return DAY


def bucket_start(*, moment: datetime, size: BucketSize, tz: tzinfo) -> datetime:
    """The start (in UTC) of the bucket holding the moment; buckets are aligned on the
    local clock of `tz`: days start at local midnight, 15 minutes at :00, :15 ..."""
    local = moment.astimezone(tz)
    if size.unit == "day":
        midnight = datetime.combine(local.date(), time.min)
        return timezone.make_aware(midnight, tz).astimezone(UTC)
    if size.unit == "hour":
        return local.replace(minute=0, second=0, microsecond=0).astimezone(UTC)
    minutes = size.seconds // 60
    floored = local.replace(minute=local.minute - local.minute % minutes, second=0, microsecond=0)
    return floored.astimezone(UTC)


def bucket_starts(*, time_range: TimeRange, size: BucketSize, tz: tzinfo) -> list[datetime]:
    """Every bucket meeting the range, in order (the first may begin before the range)."""
    # Local days last 23 to 25 hours; stepping 26 hours from a midnight always lands
    # in the next day, whose own midnight is then found.
    step = timedelta(seconds=size.seconds + (7200 if size.unit == "day" else 0))
    current = bucket_start(moment=time_range.start, size=size, tz=tz)
    starts = []
    while current < time_range.end:
        starts.append(current)
        current = bucket_start(moment=current + step, size=size, tz=tz)
    return starts
