"""Number formats of the analytics page, the same as its charts' axes use."""

from __future__ import annotations

from django import template

from analytics import formats

register = template.Library()


@register.filter
def duration_ms(value: float | None) -> str:
    """120.4 → "120 ms", 1500 → "1.5 s", None → "—"."""
    return "—" if value is None else formats.format_duration_ms(value)


@register.filter
def byte_size(value: float | None) -> str:
    """1536 → "1.5 KB"."""
    return "—" if value is None else formats.format_bytes(value)


@register.filter
def percent(value: float | None) -> str:
    """0.9876 → "98.8 %", None → "—"."""
    return "—" if value is None else f"{value * 100:.1f} %"
