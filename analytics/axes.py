"""What a chart's axes say: round values for a value axis, round times for a time
axis, and a bucket's time in full for tooltips. Numbers and words only; charts.py
draws them."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo


@dataclass(frozen=True)
class Tick:
    index: int  # the x position (bucket) the label belongs to
    label: str


def nice_ticks(
    *, maximum: float, count: int = 5, integers: bool = False, binary: bool = False
) -> list[float]:
    """Round tick values from 0 to at least `maximum`, at most about `count` steps:
    steps of 1, 2, 2.5 or 5 times a power of ten (whole numbers when `integers`).
    `binary` rounds in units of 1024, 1024² ..., for byte counts: 20 KB, not 19.5 KB."""
    if not maximum or maximum <= 0 or not math.isfinite(maximum):
        return [0.0, 1.0]
    if binary and maximum >= 1024:
        unit = 1024 ** math.floor(math.log(maximum, 1024))
        return [tick * unit for tick in nice_ticks(maximum=maximum / unit, count=count)]
    raw_step = maximum / count
    magnitude = 10 ** math.floor(math.log10(raw_step))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw_step)
    if integers:
        step = max(1.0, float(math.ceil(step)))
    top = math.ceil(maximum / step - 1e-9) * step
    steps = round(top / step)
    return [round(i * step, 10) for i in range(steps + 1)]


@dataclass(frozen=True)
class _TickRule:
    """Label the buckets whose local start `matches`: about one every `step` seconds."""

    step: int
    matches: Callable[[datetime], bool]
    label: Callable[[datetime], str]


def _time_of_day(moment: datetime) -> str:
    # Midnight names the day, so a range crossing one says which day is which.
    if moment.hour == 0 and moment.minute == 0:
        return _day(moment)
    return f"{moment:%H:%M}"


def _day(moment: datetime) -> str:
    return f"{moment.day} {moment:%b}"


def _month(moment: datetime) -> str:
    return f"{moment:%b %Y}"


def _every(seconds: int) -> Callable[[datetime], bool]:
    return lambda moment: (moment.hour * 3600 + moment.minute * 60 + moment.second) % seconds == 0


def _midnight(moment: datetime) -> bool:
    return moment.hour == 0 and moment.minute == 0


_DAY = 86400
_TICK_RULES = [
    *(
        _TickRule(step, _every(step), _time_of_day)
        for step in (60, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200)
    ),
    _TickRule(_DAY, _midnight, _day),
    _TickRule(2 * _DAY, lambda m: _midnight(m) and m.toordinal() % 2 == 0, _day),
    _TickRule(7 * _DAY, lambda m: _midnight(m) and m.weekday() == 0, _day),
    _TickRule(
        14 * _DAY, lambda m: _midnight(m) and m.weekday() == 0 and m.isocalendar()[1] % 2 == 0, _day
    ),
    _TickRule(30 * _DAY, lambda m: _midnight(m) and m.day == 1, _month),
    _TickRule(61 * _DAY, lambda m: _midnight(m) and m.day == 1 and m.month % 2 == 1, _month),
    _TickRule(91 * _DAY, lambda m: _midnight(m) and m.day == 1 and m.month % 3 == 1, _month),
    _TickRule(182 * _DAY, lambda m: _midnight(m) and m.day == 1 and m.month % 6 == 1, _month),
]


def time_ticks(
    *, starts: Sequence[datetime], bucket_seconds: int, max_ticks: int, tz: tzinfo
) -> list[Tick]:
    """Labels for a time axis: the finest round step (10 minutes, 3 hours, Mondays, first
    of the month ...) that gives at least two and at most `max_ticks` labels, each on the
    bucket starting at that round time (in `tz`)."""
    local = [start.astimezone(tz) for start in starts]
    best: list[Tick] = []
    for rule in _TICK_RULES:
        # A step finer than the buckets would label every bucket.
        if rule.step < bucket_seconds:
            continue
        ticks = [Tick(i, rule.label(m)) for i, m in enumerate(local) if rule.matches(m)]
        if 2 <= len(ticks) <= max_ticks:
            return ticks
        if len(ticks) <= max_ticks and len(ticks) > len(best):
            best = ticks
    if len(best) >= 2 or not local:
        return best
    # A short range with no round time in it: its ends, then.
    ends = sorted({0, len(local) - 1})
    return [Tick(i, f"{local[i]:%H:%M}") for i in ends]


def bucket_label(*, start: datetime, bucket_seconds: int, tz: tzinfo) -> str:
    """A bucket's start in full for tooltips: "Mon 3 Mar 14:15", or "Mon 3 Mar 2025"."""
    local = start.astimezone(tz)
    if bucket_seconds >= _DAY:
        return f"{local:%a} {local.day} {local:%b %Y}"
    return f"{local:%a} {local.day} {local:%b %H:%M}"
