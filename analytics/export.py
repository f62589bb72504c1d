"""The gateway calls of a report's scope as a CSV download.

Rows stream from the database in chunks, so a year of calls never sits in memory.
Text cells that a spreadsheet would run as a formula are defused.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime, tzinfo

from django.db.models import QuerySet
from django.utils import timezone

from analytics.ranges import TimeRange
from gateway.models import GatewayCall

CSV_COLUMNS = (
    "created_at",
    "source",
    "api",
    "operation",
    "product",
    "subscription_id",
    "subscription",
    "user",
    "method",
    "path",
    "outcome",
    "status_code",
    "error_kind",
    "duration_ms",
    "backend_duration_ms",
    "request_bytes",
    "response_bytes",
)
_CSV_FIELDS = (
    "created_at",
    "source",
    "api__slug",
    "operation__name",
    "product__slug",
    "subscription_id",
    "subscription__name",
    "user__username",
    "method",
    "path",
    "outcome",
    "status_code",
    "error_kind",
    "duration_ms",
    "backend_duration_ms",
    "request_bytes",
    "response_bytes",
)
# A cell starting with one of these is a formula to a spreadsheet (CSV injection):
# such text cells get a leading apostrophe, as OWASP advises.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value: object, *, tz: tzinfo) -> object:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(tz).isoformat(timespec="milliseconds")
    if isinstance(value, float):
        return round(value, 3)
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


class _Echo:
    """A file-like object whose write returns the line, for a streamed csv.writer."""

    def write(self, value: str) -> str:
        return value


def csv_lines(*, calls: QuerySet[GatewayCall], tz: tzinfo | None = None) -> Iterator[str]:
    """The calls as CSV lines, oldest first, read in chunks so a long range streams
    rather than loading at once. Paths are stored masked; no key or secret is in a row."""
    tz = tz or timezone.get_current_timezone()
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    rows = calls.order_by("created_at", "id").values_list(*_CSV_FIELDS)
    for row in rows.iterator(chunk_size=2000):
        yield writer.writerow([_csv_cell(value, tz=tz) for value in row])


def csv_filename(*, time_range: TimeRange, tz: tzinfo | None = None) -> str:
    tz = tz or timezone.get_current_timezone()
    start = time_range.start.astimezone(tz)
    end = time_range.end.astimezone(tz)
    return f"gateway-calls-{start:%Y%m%d-%H%M}-{end:%Y%m%d-%H%M}.csv"
