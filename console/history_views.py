"""The caller's history of calls: the list and one call."""

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from console.kept_files import shown_files
from console.models import Exchange
from console.rendering import render_exchange_body, shown_parts
from console.tryit import withheld_names
from portal.typed_requests import SignedInRequest


@login_required
@require_GET
def history(request: SignedInRequest) -> HttpResponse:
    exchanges = Exchange.objects.visible_to(user=request.user, session_key=None).select_related(
        "operation__api"
    )[:200]
    return render(request, "console/history.html", {"exchanges": exchanges})


@require_GET
def exchange_detail(request: HttpRequest, exchange_id: int) -> HttpResponse:
    # An anonymous visitor sees the calls of their session (the Try it panel links
    # here); any other call may be a signed-out owner's, who is asked to sign in.
    visible = Exchange.objects.visible_to(
        user=request.user, session_key=request.session.session_key
    )
    exchange = visible.select_related("operation__api").filter(pk=exchange_id).first()
    if exchange is None and not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if exchange is None:
        raise Http404("No such call in your history.")
    context = {
        "exchange": exchange,
        # ?parts= is Show more / Show all / Show less without script.
        "rendered": render_exchange_body(exchange, parts=shown_parts(request.GET.get("parts"))),
        "withheld": withheld_names(exchange),
        "files": shown_files(exchange.files.all()),
    }
    return render(request, "console/exchange_detail.html", context)


@require_GET
def exchange_content(request: HttpRequest, exchange_id: int) -> HttpResponse:
    """The response body of a call, as many parts as ?parts= asks (Show more, Show all,
    Show less), for whoever may see the call: its owner, or its session; 404 otherwise."""
    visible = Exchange.objects.visible_to(
        user=request.user, session_key=request.session.session_key
    )
    exchange = get_object_or_404(visible, pk=exchange_id)
    rendered = render_exchange_body(exchange, parts=shown_parts(request.GET.get("parts")))
    if rendered.kind not in ("json", "text"):
        raise Http404("The call's response has no text to show.")
    context = {"exchange": exchange, "rendered": rendered}
    return render(request, "console/_exchange_content.html", context)
