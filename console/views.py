from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_POST

from catalog import selectors
from console.forms import TryItForm
from console.models import Exchange
from console.rendering import render_exchange_body
from console.response_check import check_response_of
from console.schema_tree import operation_schemas
from console.share_links import prefill_from_link
from console.tryit import retry_values, try_operation, withheld_names
from gateway.tryit_access import GatewayRefused, try_it_console
from gateway.tryit_choice import remember_choice
from httpcore.ratelimit import TooManyCalls
from httpcore.templating import BindError
from portal.typed_requests import HtmxRequest


def _session_key(request: HttpRequest) -> str:
    if not request.session.session_key:
        request.session.save()
    return request.session.session_key or ""


def _earlier_call(request: HttpRequest, operation) -> Exchange | None:
    """The caller's earlier call named by ?from=, for "Try again"."""
    exchange_id = request.GET.get("from", "")
    if not exchange_id.isdigit():
        return None
    visible = Exchange.objects.visible_to(
        user=request.user, session_key=request.session.session_key
    )
    return visible.filter(pk=exchange_id, operation=operation).first()


@require_GET
def operation_detail(request: HttpRequest, api_slug: str, operation_slug: str) -> HttpResponse:
    operation = selectors.get_operation(
        user=request.user, api_slug=api_slug, operation_slug=operation_slug
    )
    # "Try again" (?from=<exchange>) first, else a share link's values (?p.<name>=...).
    earlier = _earlier_call(request, operation)
    prefill = retry_values(earlier) if earlier else prefill_from_link(operation, request.GET)
    console = try_it_console(api=operation.api, user=request.user)
    form = TryItForm(operation=operation, prefill=prefill, key_header=console.key_header)
    context = {
        "operation": operation,
        "form": form,
        "console": console,
        "withheld": withheld_names(earlier) if earlier else [],
        "schemas": operation_schemas(operation=operation),
    }
    return render(request, "console/operation_detail.html", context)


@require_POST
def operation_try(request: HtmxRequest, api_slug: str, operation_slug: str) -> HttpResponse:
    operation = selectors.get_operation(
        user=request.user, api_slug=api_slug, operation_slug=operation_slug
    )
    posted_subscription = request.POST.get("subscription")  # None: the form had no select
    console = try_it_console(
        api=operation.api, user=request.user, selected=posted_subscription or ""
    )
    form = TryItForm(request.POST, operation=operation, key_header=console.key_header)
    result = refusal = None
    retry_after = None
    if form.is_valid():
        try:
            result = try_operation(
                operation=operation,
                values=form.values(),
                user=request.user,
                session_key=_session_key(request),
                address=request.META.get("REMOTE_ADDR", ""),
            )
        except BindError as error:
            form.add_bind_error(error)
        except TooManyCalls as error:
            form.add_error(None, str(error))
            retry_after = error.retry_after
        except GatewayRefused as error:  # shown in the result panel, like a backend's answer
            refusal = error.refusal
    if result or refusal:  # sent, or refused by the gateway: later pages open with this choice
        remember_choice(
            user=request.user,
            api=operation.api,
            subscriptions=console.subscriptions,
            posted=posted_subscription,
        )
    exchange = result.exchange if result else None
    context = {
        "operation": operation,
        "form": form,
        "console": console,
        "exchange": exchange,
        "gateway": result.gateway if result else None,
        "refusal": refusal,
        "rendered": render_exchange_body(exchange) if exchange else None,
        "response_check": check_response_of(operation=operation, exchange=exchange),
        "schemas": operation_schemas(operation=operation),
    }
    template = "console/_try_it.html" if request.htmx else "console/operation_detail.html"
    if retry_after is None:
        return render(request, template, context)
    response = render(request, template, context, status=429)
    response["Retry-After"] = str(retry_after)
    return response


@require_GET
def exchange_body(request: HttpRequest, exchange_id: int) -> HttpResponse:
    visible = Exchange.objects.visible_to(
        user=request.user, session_key=request.session.session_key
    )
    exchange = get_object_or_404(visible, pk=exchange_id)
    response = HttpResponse(bytes(exchange.response_body), content_type="application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="response-{exchange.pk}.bin"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
