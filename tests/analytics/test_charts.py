"""analytics/ charts.py, axes.py and formats.py: server-drawn SVG charts. Each drawing
must parse as XML, escape its text, say when there is nothing to draw, and label its
axes without collisions."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET
import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest

from analytics import axes, charts, formats
from tests.markup import child

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = '<script>alert("x")</script> & co'


def parse(markup: str) -> ET.Element:
    root = ET.fromstring(markup)  # noqa: S314 - our own markup
    assert root.tag == f"{SVG}svg"
    return root


def texts(root: ET.Element) -> list[str]:
    return [element.text or "" for element in root.iter(f"{SVG}text")]


def starts(count: int, *, step: timedelta, first: datetime) -> list[datetime]:
    return [first + i * step for i in range(count)]


def bars(**overrides) -> str:
    values = overrides.pop("values", [3, 0, 5, 12])
    arguments = {
        "chart_id": "calls",
        "title": "Calls over time",
        "description": "Calls per hour.",
        "series": [
            charts.Series(name="2xx", colour=charts.GREEN, values=values),
            charts.Series(name="5xx", colour=charts.RED, values=[1] * len(values)),
        ],
        "x_ticks": [axes.Tick(0, "10:00"), axes.Tick(2, "12:00")],
        "x_labels": [f"Mon {10 + i}:00" for i in range(len(values))],
        **overrides,
    }
    return charts.stacked_bar_chart(**arguments)


def lines(values, **overrides) -> str:
    arguments = {
        "chart_id": "latency",
        "title": "Latency",
        "description": "p50 per hour.",
        "series": [charts.Series(name="p50", colour=charts.BLUE, values=values)],
        "x_ticks": [axes.Tick(0, "10:00")],
        "x_labels": [f"h{i}" for i in range(len(values))],
        "value_format": formats.format_duration_ms,
        **overrides,
    }
    return charts.line_chart(**arguments)


# --- Well-formed, accessible, CSP-proof -------------------------------------------------


def test_a_bar_chart_is_an_accessible_responsive_svg() -> None:
    root = parse(bars())
    assert root.get("viewBox") == "0 0 640 300"
    assert root.get("width") is None and root.get("height") is None
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "calls-title calls-desc"
    assert child(root, f"{SVG}title").text == "Calls over time"
    assert child(root, f"{SVG}title").get("id") == "calls-title"
    assert child(root, f"{SVG}desc").text == "Calls per hour."
    # The title is drawn too, and the legend names each series.
    assert texts(root)[0] == "Calls over time"
    legend = child(root, f"{SVG}g[@class='chart-legend']")
    assert [t.text for t in legend.iter(f"{SVG}text")] == ["2xx", "5xx"]
    assert [r.get("fill") for r in legend.iter(f"{SVG}rect")] == [charts.GREEN, charts.RED]


@pytest.mark.parametrize(
    "markup",
    [
        bars(),
        lines([1.0, None, 3.0]),
        charts.bar_list_chart(
            chart_id="s",
            title="Status",
            description="d",
            bars=[charts.Bar(name="2xx", colour=charts.GREEN, value=3)],
        ),
        charts.empty_chart(chart_id="e", title="Empty"),
    ],
)
def test_no_drawing_has_a_style_attribute_or_script(markup) -> None:
    # The page's CSP (style-src 'self') would drop inline styles: colours are attributes.
    root = parse(markup)
    assert all(element.get("style") is None for element in root.iter())
    assert root.find(f".//{SVG}script") is None
    assert "style=" not in markup


def test_every_text_is_escaped() -> None:
    markup = bars(
        title=HOSTILE,
        description=HOSTILE,
        series=[charts.Series(name=HOSTILE, colour=charts.GREEN, values=[1, 2])],
        x_ticks=[axes.Tick(0, HOSTILE)],
        x_labels=[HOSTILE, HOSTILE],
        chart_id='x" onload="alert(1)',
    )
    assert "<script>" not in markup
    assert "&lt;script&gt;" in markup
    root = parse(markup)
    assert child(root, f"{SVG}title").text == HOSTILE
    assert child(root, f"{SVG}desc").text == HOSTILE
    assert texts(root).count(HOSTILE) == 3  # the title, the legend and the x label
    assert root.get("onload") is None
    assert root.get("data-chart") == 'x" onload="alert(1)'
    tooltips = [t.text for t in root.iter(f"{SVG}title")][1:]
    assert tooltips == [f"{HOSTILE}: {HOSTILE} 1", f"{HOSTILE}: {HOSTILE} 2"]


def test_a_colour_cannot_break_out_of_its_attribute() -> None:
    markup = bars(series=[charts.Series(name="a", colour='red" onclick="x', values=[1])])
    root = parse(markup)
    filled = [e for e in root.iter() if e.get("fill") == 'red" onclick="x']
    assert filled
    assert all(e.get("onclick") is None for e in root.iter())


# --- Empty data -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "markup",
    [
        bars(
            series=[
                charts.Series(name="2xx", colour=charts.GREEN, values=[0, 0, 0]),
                charts.Series(name="5xx", colour=charts.RED, values=[0, None, 0]),
            ]
        ),
        bars(values=[], x_labels=[], x_ticks=[]),
        lines([None, None]),
        lines([]),
        charts.bar_list_chart(
            chart_id="s",
            title="Status classes",
            description="d",
            bars=[charts.Bar(name="2xx", colour=charts.GREEN, value=0)],
        ),
    ],
)
def test_no_data_draws_a_message_instead_of_empty_axes(markup) -> None:
    root = parse(markup)
    assert root.get("class") == "chart chart-empty"
    assert "No calls in this range" in texts(root)
    assert child(root, f"{SVG}desc").text == "No calls in this range"
    assert root.find(f".//{SVG}line") is None  # no axis, no gridline
    assert root.find(f".//{SVG}g[@class='chart-legend']") is None


def test_a_line_of_zeros_is_data_not_emptiness() -> None:
    root = parse(lines([0.0, 0.0]))
    assert root.get("class") == "chart chart-lines"


# --- Axes -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("maximum", "integers", "ticks"),
    [
        (7, True, [0, 2, 4, 6, 8]),
        (1, True, [0, 1]),
        (3, True, [0, 1, 2, 3]),
        (100, False, [0, 20, 40, 60, 80, 100]),
        (0.9, False, [0, 0.2, 0.4, 0.6, 0.8, 1.0]),
        (1234, False, [0, 250, 500, 750, 1000, 1250]),
        (0, True, [0, 1]),
    ],
)
def test_nice_ticks(maximum, integers, ticks) -> None:
    assert axes.nice_ticks(maximum=maximum, integers=integers) == ticks


def test_the_y_axis_has_a_gridline_and_label_per_tick() -> None:
    root = parse(bars(values=[3, 0, 5, 12]))  # stacked totals: 4, 1, 6, 13
    grid = child(root, f"{SVG}g[@class='chart-grid']")
    assert [t.text for t in grid.iter(f"{SVG}text")] == ["0", "5", "10", "15"]
    gridlines = list(grid.iter(f"{SVG}line"))
    assert len(gridlines) == 4
    ys = [float(line.attrib["y1"]) for line in gridlines]
    assert ys == sorted(ys, reverse=True)  # 0 at the bottom


def test_the_x_axis_has_the_given_ticks() -> None:
    root = parse(bars())
    axis = child(root, f"{SVG}g[@class='chart-x-axis']")
    assert [t.text for t in axis.iter(f"{SVG}text")] == ["10:00", "12:00"]
    assert len(list(axis.iter(f"{SVG}line"))) == 2


def test_stacked_bars_are_as_tall_as_their_values() -> None:
    root = parse(bars(values=[3, 0, 5, 12]))
    groups = list(child(root, f"{SVG}g[@class='chart-bars']"))
    assert len(groups) == 4  # every position has a 5xx call
    heights = [[float(r.attrib["height"]) for r in g.iter(f"{SVG}rect")] for g in groups]
    unit = heights[0][1]  # one 5xx call
    assert heights[0][0] == pytest.approx(3 * unit)
    assert heights[1] == [pytest.approx(unit)]  # the 0 draws nothing
    assert heights[3][0] == pytest.approx(12 * unit)
    assert child(groups[0], f"{SVG}title").text == "Mon 10:00: 2xx 3, 5xx 1"


def test_a_line_breaks_where_values_are_missing_and_dots_a_lone_point() -> None:
    root = parse(lines([1.0, 2.0, None, 4.0, None, 6.0, 7.0] + [1.0] * 40))
    path = child(root, f".//{SVG}path")
    assert path.attrib["d"].count("M") == 3
    assert path.get("stroke") == charts.BLUE
    assert path.get("fill") == "none"
    # More than 40 points: only the lone one (4.0) gets a dot.
    assert len(list(root.iter(f"{SVG}circle"))) == 1


def test_a_bar_list_shows_each_share() -> None:
    root = parse(
        charts.bar_list_chart(
            chart_id="status",
            title="Status classes",
            description="d",
            bars=[
                charts.Bar(name="2xx success", colour=charts.GREEN, value=3),
                charts.Bar(name="5xx server error", colour=charts.RED, value=1),
            ],
        )
    )
    assert texts(root)[1:] == ["2xx success", "3 (75.0%)", "5xx server error", "1 (25.0%)"]
    assert root.get("viewBox") == "0 0 640 " + str(int(root.attrib["viewBox"].split()[3]))


# --- Time axis ticks --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "step", "first", "max_ticks", "labels"),
    [
        # The last hour in minutes: every 10 minutes.
        (61, timedelta(minutes=1), datetime(2025, 3, 3, 9, 7, tzinfo=UTC), 7,
         ["09:10", "09:20", "09:30", "09:40", "09:50", "10:00"]),
        # A day in quarter hours: every 6 hours, midnight named by its date.
        (97, timedelta(minutes=15), datetime(2025, 3, 3, 10, 0, tzinfo=UTC), 7,
         ["12:00", "18:00", "4 Mar", "06:00"]),
        # A week in hours: each midnight.
        (169, timedelta(hours=1), datetime(2025, 3, 3, 10, tzinfo=UTC), 7,
         ["4 Mar", "5 Mar", "6 Mar", "7 Mar", "8 Mar", "9 Mar", "10 Mar"]),
        # The same on a phone: every other day.
        (169, timedelta(hours=1), datetime(2025, 3, 3, 10, tzinfo=UTC), 4,
         ["4 Mar", "6 Mar", "8 Mar", "10 Mar"]),
        # 90 days: every other Monday.
        (91, timedelta(days=1), datetime(2025, 1, 5, tzinfo=UTC), 7,
         ["6 Jan", "20 Jan", "3 Feb", "17 Feb", "3 Mar", "17 Mar", "31 Mar"]),
        # On a phone: the first of each month.
        (91, timedelta(days=1), datetime(2025, 1, 5, tzinfo=UTC), 4,
         ["Feb 2025", "Mar 2025", "Apr 2025"]),
        # A year: every other month, or each quarter on a phone.
        (366, timedelta(days=1), datetime(2025, 1, 1, tzinfo=UTC), 7,
         ["Jan 2025", "Mar 2025", "May 2025", "Jul 2025", "Sep 2025", "Nov 2025", "Jan 2026"]),
        (366, timedelta(days=1), datetime(2025, 1, 1, tzinfo=UTC), 4,
         ["Jan 2025", "Jul 2025", "Jan 2026"]),
    ],
)  # fmt: skip
def test_time_ticks_fall_on_round_times(count, step, first, max_ticks, labels) -> None:
    moments = starts(count, step=step, first=first)
    ticks = axes.time_ticks(
        starts=moments, bucket_seconds=int(step.total_seconds()), max_ticks=max_ticks, tz=UTC
    )
    assert [tick.label for tick in ticks] == labels
    assert all(moments[tick.index].minute % 10 == 0 for tick in ticks)


def test_time_ticks_use_the_local_clock() -> None:
    kolkata = zoneinfo.ZoneInfo("Asia/Kolkata")  # UTC+05:30
    moments = starts(25, step=timedelta(hours=1), first=datetime(2025, 3, 3, 0, 30, tzinfo=UTC))
    ticks = axes.time_ticks(starts=moments, bucket_seconds=3600, max_ticks=7, tz=kolkata)
    assert [tick.label for tick in ticks] == ["06:00", "12:00", "18:00", "4 Mar", "06:00"]
    assert moments[ticks[0].index] == datetime(2025, 3, 3, 0, 30, tzinfo=UTC)


def test_a_range_without_a_round_time_labels_its_ends() -> None:
    # Hours on a half-hour clock: no bucket starts on a whole hour.
    moments = starts(3, step=timedelta(hours=1), first=datetime(2025, 3, 3, 9, 30, tzinfo=UTC))
    ticks = axes.time_ticks(starts=moments, bucket_seconds=3600, max_ticks=7, tz=UTC)
    assert [(tick.index, tick.label) for tick in ticks] == [(0, "09:30"), (2, "11:30")]


@pytest.mark.parametrize("size", [charts.WIDE, charts.NARROW])
@pytest.mark.parametrize(
    ("count", "step"),
    [(61, 60), (73, 300), (97, 900), (169, 3600), (31, 86400), (91, 86400), (367, 86400)],
)
def test_x_labels_never_overlap(size, count, step) -> None:
    moments = starts(count, step=timedelta(seconds=step), first=datetime(2025, 3, 3, tzinfo=UTC))
    ticks = axes.time_ticks(starts=moments, bucket_seconds=step, max_ticks=size.max_x_ticks, tz=UTC)
    assert 2 <= len(ticks) <= size.max_x_ticks
    root = parse(
        bars(
            values=[1] * count,
            x_ticks=ticks,
            x_labels=[str(i) for i in range(count)],
            size=size,
        )
    )
    axis = child(root, f"{SVG}g[@class='chart-x-axis']")
    spans = []
    for text in axis.iter(f"{SVG}text"):
        assert text.text is not None
        x, width = float(text.attrib["x"]), charts._text_width(text.text, size.font_size)
        left = {"start": x, "middle": x - width / 2, "end": x - width}[text.attrib["text-anchor"]]
        assert left >= 0
        assert left + width <= size.width
        spans.append((left, left + width))
    for (_, right), (left, _) in itertools.pairwise(spans):
        assert right + 4 <= left


def test_bucket_label_for_tooltips() -> None:
    moment = datetime(2025, 3, 3, 14, 15, tzinfo=UTC)
    assert axes.bucket_label(start=moment, bucket_seconds=900, tz=UTC) == "Mon 3 Mar 14:15"
    assert axes.bucket_label(start=moment, bucket_seconds=86400, tz=UTC) == "Mon 3 Mar 2025"


# --- Value formats ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("function", "value", "text"),
    [
        (formats.format_count, 0, "0"),
        (formats.format_count, 12, "12"),
        (formats.format_count, 1500, "1.5k"),
        (formats.format_count, 2_000_000, "2M"),
        (formats.format_duration_ms, 0.4, "0.4 ms"),
        (formats.format_duration_ms, 120.4, "120 ms"),
        (formats.format_duration_ms, 12.25, "12.2 ms"),
        (formats.format_duration_ms, 1500, "1.5 s"),
        (formats.format_bytes, 512, "512 B"),
        (formats.format_bytes, 1536, "1.5 KB"),
        (formats.format_bytes, 5 * 1024**3, "5 GB"),
    ],
)
def test_value_formats(function, value, text) -> None:
    assert function(value) == text


def test_coordinates_are_short() -> None:
    assert not re.search(r"\d\.\d{3,}", bars())
