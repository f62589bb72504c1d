"""Numbers in words, as the analytics page and its charts' axes show them: counts,
durations and byte sizes, with at most three significant digits."""

from __future__ import annotations

from collections.abc import Callable

ValueFormat = Callable[[float], str]


def format_count(value: float) -> str:
    """12 → "12", 1500 → "1.5k", 2_000_000 → "2M"."""
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            return f"{_trim(value / limit)}{suffix}"
    return _trim(value)


def format_duration_ms(value: float) -> str:
    """0.4 → "0.4 ms", 120 → "120 ms", 1500 → "1.5 s"."""
    if abs(value) >= 1000:
        return f"{_trim(value / 1000)} s"
    return f"{_trim(value)} ms"


def format_bytes(value: float) -> str:
    """512 → "512 B", 1536 → "1.5 KB", in powers of 1024."""
    for power, unit in ((4, "TB"), (3, "GB"), (2, "MB"), (1, "KB")):
        if abs(value) >= 1024**power:
            return f"{_trim(value / 1024**power)} {unit}"
    return f"{_trim(value)} B"


def _trim(value: float) -> str:
    """At most three significant digits, no trailing zeros: 1.50 → "1.5", 120.0 → "120"."""
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}".rstrip("0").rstrip(".")
    if abs(value) >= 0.1:
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return f"{value:.2g}"
