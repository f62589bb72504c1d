"""The analytics page: calls through the gateway over a time range, for the user's scope."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponseBase, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from analytics.export import csv_filename, csv_lines
from analytics.forms import AnalyticsFilterForm
from analytics.ranges import TimeRange
from analytics.report import build_report
from analytics.report_charts import report_charts
from analytics.selectors import require_visible_subscription, scoped_calls, sees_all_calls
from portal.typed_requests import SignedInRequest

TEMPLATE = "analytics/analytics.html"


@login_required
@require_GET
def analytics(request: SignedInRequest) -> HttpResponseBase:
    """`?export=csv` downloads the calls in range for the scope instead of the page."""
    require_visible_subscription(user=request.user, subscription_id=request.GET.get("subscription"))
    form = AnalyticsFilterForm(request.GET, user=request.user)
    if not form.is_valid():
        return render(request, TEMPLATE, {"form": form}, status=400)
    filters = form.filters()
    calls = scoped_calls(user=request.user, filters=filters)
    if request.GET.get("export") == "csv":
        return _csv_download(calls=calls, time_range=filters.time_range)
    staff = sees_all_calls(user=request.user)
    report = build_report(calls=calls, time_range=filters.time_range, with_subscribers=staff)
    context = {
        "form": form,
        "filters": filters,
        "report": report,
        "charts": report_charts(report=report),
        "staff": staff,
    }
    return render(request, TEMPLATE, context)


def _csv_download(*, calls, time_range: TimeRange) -> StreamingHttpResponse:
    response = StreamingHttpResponse(csv_lines(calls=calls), content_type="text/csv; charset=utf-8")
    filename = csv_filename(time_range=time_range)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
