"""The analytics page's charts, drawn from a Report with analytics/charts.py.

Each chart comes in two drawings, a wide one and a narrow one for phones (the page
shows one of them by CSS), so text keeps a readable size on both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo

from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from analytics import axes, charts, formats
from analytics.report import STATUS_CLASS_NAMES, STATUS_CLASSES, Report

CLASS_COLOURS = {
    "2xx": charts.GREEN,
    "3xx": charts.BLUE,
    "4xx": charts.ORANGE,
    "5xx": charts.RED,
    "refused": charts.GREY,
    "other": charts.PURPLE,
}
ALWAYS_SHOWN_CLASSES = ("2xx", "4xx", "5xx", "refused")

# The calls chart gets a row of its own on wide screens, hence a wider drawing.
CALLS_WIDE = charts.Size(width=900, height=300, font_size=12, max_x_ticks=9)


@dataclass(frozen=True)
class ChartPair:
    wide: SafeString
    narrow: SafeString


@dataclass(frozen=True)
class ReportCharts:
    calls: ChartPair
    status_classes: ChartPair
    latency: ChartPair
    bandwidth: ChartPair


def _safe(markup: str) -> SafeString:
    # charts.py escapes every text and attribute value it writes; the markup holds
    # nothing else from the database.
    return mark_safe(markup)  # noqa: S308


def _shown_classes(report: Report) -> list[str]:
    """The classes with calls in the range, and the usual ones even when empty (a
    legend without 5xx would leave the reader wondering)."""
    return [
        name
        for name in STATUS_CLASSES
        if name in ALWAYS_SHOWN_CLASSES or report.totals.by_class.get(name)
    ]


def report_charts(*, report: Report, tz: tzinfo | None = None) -> ReportCharts:
    tz = tz or timezone.get_current_timezone()
    starts = [bucket.start for bucket in report.buckets]
    seconds = report.bucket_size.seconds
    x_labels = [axes.bucket_label(start=start, bucket_seconds=seconds, tz=tz) for start in starts]
    interval = report.bucket_size.name
    totals = report.totals
    span = f"{report.time_range.name.lower()}, in {interval} intervals"

    def pair(draw, *, chart_id: str, wide: charts.Size = charts.WIDE) -> ChartPair:
        drawings = []
        for suffix, size in (("", wide), ("-narrow", charts.NARROW)):
            ticks = axes.time_ticks(
                starts=starts, bucket_seconds=seconds, max_ticks=size.max_x_ticks, tz=tz
            )
            drawings.append(_safe(draw(chart_id=chart_id + suffix, size=size, x_ticks=ticks)))
        return ChartPair(*drawings)

    classes = _shown_classes(report)
    class_series = [
        charts.Series(
            name=STATUS_CLASS_NAMES[name],
            colour=CLASS_COLOURS[name],
            values=[bucket.by_class.get(name, 0) for bucket in report.buckets],
        )
        for name in classes
    ]
    calls = pair(
        lambda **kw: charts.stacked_bar_chart(
            title="Calls over time",
            description=f"{totals.calls:,} calls, {span}, stacked by status class.",
            series=class_series,
            x_labels=x_labels,
            **kw,
        ),
        chart_id="chart-calls",
        wide=CALLS_WIDE,
    )

    latency_series = [
        charts.Series(
            name=name, colour=colour, values=[getattr(b.latency, name) for b in report.buckets]
        )
        for name, colour in (("p50", charts.BLUE), ("p95", charts.ORANGE), ("p99", charts.RED))
    ]
    latency = pair(
        lambda **kw: charts.line_chart(
            title="Latency percentiles",
            description=(
                f"p50, p95 and p99 of the duration of calls that reached a backend, {span}."
            ),
            series=latency_series,
            x_labels=x_labels,
            value_format=formats.format_duration_ms,
            **kw,
        ),
        chart_id="chart-latency",
    )

    # An interval without calls moved no bytes: a zero, unlike its latency, which is
    # unknown. Without any call the chart says so instead of drawing a flat line.
    any_calls = totals.calls > 0
    bytes_in = [b.bytes_in if any_calls else None for b in report.buckets]
    bytes_out = [b.bytes_out if any_calls else None for b in report.buckets]
    bandwidth_series = [
        charts.Series(
            name="In (requests)",
            colour=charts.PURPLE,
            values=bytes_in,
        ),
        charts.Series(
            name="Out (responses)",
            colour=charts.TEAL,
            values=bytes_out,
        ),
    ]
    bandwidth = pair(
        lambda **kw: charts.line_chart(
            title="Bandwidth",
            description=(
                f"Request and response body bytes per interval, {span}: "
                f"{formats.format_bytes(totals.bytes_in)} in, "
                f"{formats.format_bytes(totals.bytes_out)} out."
            ),
            series=bandwidth_series,
            x_labels=x_labels,
            value_format=formats.format_bytes,
            binary=True,
            **kw,
        ),
        chart_id="chart-bandwidth",
    )

    bars = [
        charts.Bar(
            name=STATUS_CLASS_NAMES[name],
            colour=CLASS_COLOURS[name],
            value=totals.by_class.get(name, 0),
        )
        for name in classes
    ]
    breakdown = ", ".join(f"{bar.name}: {bar.value:,}" for bar in bars)
    status_classes = ChartPair(
        *(
            _safe(
                charts.bar_list_chart(
                    chart_id=chart_id,
                    title="Status classes",
                    description=f"{totals.calls:,} calls: {breakdown}.",
                    bars=bars,
                    size=size,
                )
            )
            for chart_id, size in (
                ("chart-status", charts.Size(width=420, height=220, font_size=12)),
                ("chart-status-narrow", charts.NARROW),
            )
        )
    )
    return ReportCharts(
        calls=calls, status_classes=status_classes, latency=latency, bandwidth=bandwidth
    )
