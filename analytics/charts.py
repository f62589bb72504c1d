"""Charts as SVG markup, drawn on the server from plain series: no JavaScript, no CDN.

Pure functions: numbers and labels in, one `<svg>` element out. Every piece of text
(titles, labels, legend names, tooltips) is escaped here, so the markup can be put in
a page as it is. Colours are SVG presentation attributes (`fill=`, `stroke=`), never
`style=`: the portal's Content-Security-Policy (`style-src 'self'`) forbids inline
styles. The drawing has a `viewBox` and no fixed size, so it scales to its box; a
page shows a wide variant and a narrow one (larger text relative to the drawing) and
lets CSS pick, since a 640-unit drawing squeezed onto a phone has unreadable text.
Which ticks an axis shows comes from axes.py, and how a value reads from formats.py.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from analytics.axes import Tick, nice_ticks
from analytics.formats import ValueFormat, format_count

# Colours that read on Bootstrap's light theme (its own palette's values). In dark mode,
# static/css/analytics.css overrides the text, axis, grid and purple ones, by value.
GREEN = "#198754"
BLUE = "#0d6efd"
ORANGE = "#fd7e14"
RED = "#dc3545"
GREY = "#6c757d"
PURPLE = "#6f42c1"
TEAL = "#20c997"
AXIS = "#adb5bd"
GRID = "#e9ecef"
TEXT = "#212529"
MUTED_TEXT = "#495057"

FONT_FAMILY = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
# Average advance of a character, as a share of the font size: a generous estimate
# for digits and lower case in the fonts above, used to keep labels from colliding.
CHAR_WIDTH = 0.62
NO_DATA_MESSAGE = "No calls in this range"


@dataclass(frozen=True)
class Size:
    """A drawing's coordinate system: its viewBox, text size and x-axis label budget."""

    width: int
    height: int
    font_size: int = 12
    max_x_ticks: int = 7


WIDE = Size(width=640, height=300, font_size=12, max_x_ticks=7)
NARROW = Size(width=360, height=300, font_size=12, max_x_ticks=4)


@dataclass(frozen=True)
class Series:
    name: str
    colour: str
    values: Sequence[float | None]  # one per x position; None: no value there


@dataclass(frozen=True)
class Bar:
    name: str
    colour: str
    value: float


def _attr(value: object) -> str:
    return escape(str(value), quote=True)


def _text(value: object) -> str:
    return escape(str(value), quote=False)


def _num(value: float) -> str:
    """Coordinates with at most two decimals: smaller markup, same picture."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _text_width(text: str, font_size: float) -> float:
    return len(text) * font_size * CHAR_WIDTH


def _svg_open(*, chart_id: str, title: str, description: str, size: Size, kind: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{_attr(kind)}" '
        f'viewBox="0 0 {size.width} {size.height}" role="img" '
        f'aria-labelledby="{_attr(chart_id)}-title {_attr(chart_id)}-desc" '
        f'font-family="{_attr(FONT_FAMILY)}" font-size="{size.font_size}" '
        f'data-chart="{_attr(chart_id)}">',
        f'<title id="{_attr(chart_id)}-title">{_text(title)}</title>',
        f'<desc id="{_attr(chart_id)}-desc">{_text(description)}</desc>',
        f'<text x="0" y="{_num(size.font_size * 1.3)}" font-size="{size.font_size + 2}" '
        f'font-weight="600" fill="{TEXT}">{_text(title)}</text>',
    ]


def empty_chart(
    *, chart_id: str, title: str, size: Size = WIDE, message: str = NO_DATA_MESSAGE
) -> str:
    """The chart's title over a framed "No calls in this range", instead of bare axes."""
    parts = _svg_open(chart_id=chart_id, title=title, description=message, size=size, kind="empty")
    top = size.font_size * 2.2
    parts.append(
        f'<rect x="0.5" y="{_num(top)}" width="{size.width - 1}" '
        f'height="{_num(size.height - top - 0.5)}" rx="6" fill="#f8f9fa" stroke="{AXIS}" '
        f'stroke-dasharray="4 4"/>'
    )
    parts.append(
        f'<text x="{_num(size.width / 2)}" y="{_num((top + size.height) / 2)}" '
        f'text-anchor="middle" dominant-baseline="middle" fill="{MUTED_TEXT}" '
        f'font-size="{size.font_size + 2}" data-empty="true">{_text(message)}</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


def _legend(*, items: Sequence[tuple[str, str]], size: Size, top: float) -> tuple[list[str], float]:
    """Swatches and names in rows that wrap at the drawing's width; returns the markup
    and the y below the last row."""
    font = size.font_size
    swatch = font * 0.85
    gap = font * 1.2
    row_height = font * 1.5
    parts = ['<g class="chart-legend">']
    x, y = 0.0, top
    for name, colour in items:
        item_width = swatch + font * 0.4 + _text_width(name, font)
        if x > 0 and x + item_width > size.width:
            x, y = 0.0, y + row_height
        text_y = y + row_height / 2 + font * 0.35 - 2
        parts.append(
            f'<rect x="{_num(x)}" y="{_num(y + (row_height - swatch) / 2 - 2)}" '
            f'width="{_num(swatch)}" height="{_num(swatch)}" rx="2" fill="{_attr(colour)}"/>'
            f'<text x="{_num(x + swatch + font * 0.4)}" y="{_num(text_y)}" '
            f'fill="{MUTED_TEXT}">{_text(name)}</text>'
        )
        x += item_width + gap
    parts.append("</g>")
    return parts, y + row_height


@dataclass(frozen=True)
class _Plot:
    left: float
    top: float
    right: float
    bottom: float
    count: int  # x positions

    @property
    def width(self) -> float:
        return self.right - self.left

    @property
    def height(self) -> float:
        return self.bottom - self.top

    def slot(self) -> float:
        return self.width / max(self.count, 1)

    def x_center(self, index: int) -> float:
        return self.left + (index + 0.5) * self.slot()

    def y(self, value: float, top_value: float) -> float:
        return self.bottom - (value / top_value) * self.height if top_value else self.bottom


def _axes(
    *,
    size: Size,
    legend_bottom: float,
    count: int,
    y_ticks: Sequence[float],
    value_format: ValueFormat,
    x_ticks: Sequence[Tick],
) -> tuple[_Plot, list[str]]:
    """The plot area with its y gridlines and labels and its x labels."""
    font = size.font_size
    y_labels = [value_format(value) for value in y_ticks]
    label_width = max(_text_width(label, font) for label in y_labels)
    plot = _Plot(
        left=math.ceil(label_width + font * 0.8),
        top=legend_bottom + font * 0.8,
        right=size.width - font * 0.5,
        bottom=size.height - font * 2,
        count=count,
    )
    top_value = y_ticks[-1]
    parts = ['<g class="chart-grid">']
    for value, label in zip(y_ticks, y_labels, strict=True):
        y = plot.y(value, top_value)
        parts.append(
            f'<line x1="{_num(plot.left)}" y1="{_num(y)}" x2="{_num(plot.right)}" '
            f'y2="{_num(y)}" stroke="{AXIS if value == 0 else GRID}" stroke-width="1"/>'
            f'<text x="{_num(plot.left - font * 0.4)}" y="{_num(y + font * 0.35)}" '
            f'text-anchor="end" fill="{MUTED_TEXT}">{_text(label)}</text>'
        )
    parts.append("</g>")
    parts.append('<g class="chart-x-axis">')
    for tick in x_ticks:
        x = plot.x_center(tick.index)
        half = _text_width(tick.label, font) / 2
        # Labels at the ends are kept inside the drawing rather than cut off.
        if x - half < 0:
            anchor, text_x = "start", 0.0
        elif x + half > size.width:
            anchor, text_x = "end", float(size.width)
        else:
            anchor, text_x = "middle", x
        parts.append(
            f'<line x1="{_num(x)}" y1="{_num(plot.bottom)}" x2="{_num(x)}" '
            f'y2="{_num(plot.bottom + font * 0.4)}" stroke="{AXIS}"/>'
            f'<text x="{_num(text_x)}" y="{_num(plot.bottom + font * 1.5)}" '
            f'text-anchor="{anchor}" fill="{MUTED_TEXT}">{_text(tick.label)}</text>'
        )
    parts.append("</g>")
    return plot, parts


def _count_of(series: Sequence[Series]) -> int:
    counts = {len(s.values) for s in series}
    if len(counts) > 1:
        raise ValueError("every series needs one value per x position")
    return counts.pop() if counts else 0


def _frame(
    *,
    chart_id: str,
    title: str,
    description: str,
    size: Size,
    kind: str,
    series: Sequence[Series],
    y_ticks: list[float],
    value_format: ValueFormat,
    x_ticks: Sequence[Tick],
) -> tuple[list[str], _Plot, float]:
    """The opening, legend and axes every chart with data shares: (parts, plot, top value)."""
    parts = _svg_open(chart_id=chart_id, title=title, description=description, size=size, kind=kind)
    legend, legend_bottom = _legend(
        items=[(s.name, s.colour) for s in series], size=size, top=size.font_size * 1.8
    )
    parts += legend
    plot, axes = _axes(
        size=size,
        legend_bottom=legend_bottom,
        count=_count_of(series),
        y_ticks=y_ticks,
        value_format=value_format,
        x_ticks=x_ticks,
    )
    parts += axes
    return parts, plot, y_ticks[-1]


def stacked_bar_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    series: Sequence[Series],
    x_ticks: Sequence[Tick],
    x_labels: Sequence[str],
    value_format: ValueFormat = format_count,
    size: Size = WIDE,
    integers: bool = True,
) -> str:
    """One bar per x position, the series stacked in order from the axis up; each bar's
    tooltip names its position (`x_labels`) and every series' value."""
    count = _count_of(series)
    totals = [sum(s.values[i] or 0 for s in series) for i in range(count)]
    if not count or not any(totals):
        return empty_chart(chart_id=chart_id, title=title, size=size)
    parts, plot, top_value = _frame(
        chart_id=chart_id,
        title=title,
        description=description,
        size=size,
        kind="bars",
        series=series,
        y_ticks=nice_ticks(maximum=max(totals), integers=integers),
        value_format=value_format,
        x_ticks=x_ticks,
    )
    slot = plot.slot()
    # A hairline gap between bars while they are wide enough to spare one.
    gap = min(slot * 0.2, 2.0) if slot >= 4 else 0.0
    parts.append('<g class="chart-bars">')
    for i, total in enumerate(totals):
        if not total:
            continue
        summary = ", ".join(f"{s.name} {value_format(s.values[i] or 0)}" for s in series)
        parts.append(f"<g><title>{_text(x_labels[i])}: {_text(summary)}</title>")
        base = 0.0
        for s in series:
            value = s.values[i] or 0
            if value <= 0:
                continue
            y_top = plot.y(base + value, top_value)
            y_bottom = plot.y(base, top_value)
            parts.append(
                f'<rect x="{_num(plot.left + i * slot + gap / 2)}" y="{_num(y_top)}" '
                f'width="{_num(max(slot - gap, 0.5))}" height="{_num(y_bottom - y_top)}" '
                f'fill="{_attr(s.colour)}"/>'
            )
            base += value
        parts.append("</g>")
    parts.append("</g></svg>")
    return "".join(parts)


def line_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    series: Sequence[Series],
    x_ticks: Sequence[Tick],
    x_labels: Sequence[str],
    value_format: ValueFormat = format_count,
    size: Size = WIDE,
    binary: bool = False,
) -> str:
    """One line per series; a None value breaks the line, and a point with no
    neighbour is drawn as a dot so it does not vanish. `binary`: a byte axis."""
    count = _count_of(series)
    values = [v for s in series for v in s.values if v is not None]
    if not count or not values:
        return empty_chart(chart_id=chart_id, title=title, size=size)
    parts, plot, top_value = _frame(
        chart_id=chart_id,
        title=title,
        description=description,
        size=size,
        kind="lines",
        series=series,
        y_ticks=nice_ticks(maximum=max(values), binary=binary),
        value_format=value_format,
        x_ticks=x_ticks,
    )
    show_all_dots = count <= 40
    parts.append('<g class="chart-lines">')
    for s in series:
        points = [
            None if v is None else (plot.x_center(i), plot.y(v, top_value))
            for i, v in enumerate(s.values)
        ]
        path: list[str] = []
        dots: list[tuple[float, float]] = []
        for i, point in enumerate(points):
            if point is None:
                continue
            starts_segment = i == 0 or points[i - 1] is None
            path.append(f"{'M' if starts_segment else 'L'}{_num(point[0])},{_num(point[1])}")
            alone = starts_segment and (i + 1 >= len(points) or points[i + 1] is None)
            if alone or show_all_dots:
                dots.append(point)
        colour = _attr(s.colour)
        parts.append(
            f'<path d="{" ".join(path)}" fill="none" stroke="{colour}" stroke-width="2" '
            f'stroke-linejoin="round" stroke-linecap="round"/>'
        )
        parts += [
            f'<circle cx="{_num(x)}" cy="{_num(y)}" r="2.5" fill="{colour}"/>' for x, y in dots
        ]
    parts.append("</g>")
    # Tooltips: an invisible column per position with data, naming every value there.
    parts.append('<g class="chart-hover">')
    slot = plot.slot()
    for i in range(count):
        here = [(s.name, value) for s in series if (value := s.values[i]) is not None]
        if not here:
            continue
        summary = ", ".join(f"{name} {value_format(value)}" for name, value in here)
        parts.append(
            f'<rect x="{_num(plot.left + i * slot)}" y="{_num(plot.top)}" '
            f'width="{_num(slot)}" height="{_num(plot.height)}" fill="transparent">'
            f"<title>{_text(x_labels[i])}: {_text(summary)}</title></rect>"
        )
    parts.append("</g></svg>")
    return "".join(parts)


def bar_list_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    bars: Sequence[Bar],
    value_format: ValueFormat = format_count,
    size: Size = WIDE,
) -> str:
    """Horizontal bars, one a row, each with its name, value and share of the total.
    The drawing's height follows the number of rows."""
    total = sum(bar.value for bar in bars)
    font = size.font_size
    if not bars or total <= 0:
        return empty_chart(chart_id=chart_id, title=title, size=size)
    row_height = font * 2.4
    top = font * 2.4
    height = math.ceil(top + row_height * len(bars) + font * 0.5)
    sized = Size(size.width, height, size.font_size, size.max_x_ticks)
    parts = _svg_open(
        chart_id=chart_id, title=title, description=description, size=sized, kind="bar-list"
    )
    names_width = max(_text_width(bar.name, font) for bar in bars) + font
    value_labels = [f"{value_format(bar.value)} ({bar.value / total:.1%})" for bar in bars]
    values_width = max(_text_width(label, font) for label in value_labels) + font * 0.6
    bar_space = size.width - names_width - values_width
    largest = max(bar.value for bar in bars)
    for index, (bar, label) in enumerate(zip(bars, value_labels, strict=True)):
        y = top + index * row_height
        middle = y + row_height / 2
        length = bar_space * bar.value / largest if largest else 0
        if bar.value > 0:
            length = max(length, 2.0)
        parts.append(
            f"<g><title>{_text(bar.name)}: {_text(label)}</title>"
            f'<text x="0" y="{_num(middle + font * 0.35)}" fill="{TEXT}">{_text(bar.name)}</text>'
            f'<rect x="{_num(names_width)}" y="{_num(y + row_height * 0.2)}" '
            f'width="{_num(bar_space)}" height="{_num(row_height * 0.6)}" rx="3" fill="{GRID}"/>'
            f'<rect x="{_num(names_width)}" y="{_num(y + row_height * 0.2)}" '
            f'width="{_num(length)}" height="{_num(row_height * 0.6)}" rx="3" '
            f'fill="{_attr(bar.colour)}"/>'
            f'<text x="{size.width}" y="{_num(middle + font * 0.35)}" text-anchor="end" '
            f'fill="{MUTED_TEXT}">{_text(label)}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)
