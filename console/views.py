from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_POST

from catalog import selectors
from console import environments, oauth
from console.authorization import supplied_names
from console.downloads import attachment, download_filename
from console.forms import TryItForm
from console.kept_fields import first_visit_fields
from console.kept_files import download, reused_files, with_reused
from console.models import Exchange
from console.rendering import render_exchange_body
from console.response_check import check_response_of
from console.schema_tree import operation_schemas
from console.servers import pick_server, remember_server
from console.share_links import LINK_SERVER, prefill_from_link
from console.tryit import client_key, retry_values, try_operation, withheld_names
from console.uploads import capped_uploads
from gateway.public_urls import portal_url
from gateway.tryit_access import GatewayRefused, try_it_console
from gateway.tryit_choice import remember_choice
from httpcore.ratelimit import TooManyCalls
from httpcore.templating import BindError
from portal.typed_requests import HtmxRequest


def _session_key(request: HttpRequest) -> str:
    if not request.session.session_key:
        request.session.save()
    return request.session.session_key or ""


def _earlier_call(request: HttpRequest, operation, *, exchange_id: str) -> Exchange | None:
    """The caller's earlier call named by ?from= ("Try again"), or by a Try again form's
    reuse_files (its kept files)."""
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
    earlier = _earlier_call(request, operation, exchange_id=request.GET.get("from", ""))
    prefill = retry_values(earlier) if earlier else prefill_from_link(operation, request.GET)
    console = try_it_console(api=operation.api, user=request.user)
    user_environments = environments.environment_choices(user=request.user)
    # An anonymous visitor has none: not even an empty query to compile.
    references = request.user.is_authenticated and bool(user_environments)
    content_type = request.GET.get("content_type")  # the Content type select
    form = TryItForm(
        operation=operation,
        prefill=prefill,
        key_header=console.key_header,
        references=references,
        content_type=content_type,
    )
    schemas = operation_schemas(operation=operation)
    servers = pick_server(
        api=operation.api,
        user=request.user,
        portal_url=portal_url(request),
        session=request.session,
        # Try again sends to the earlier call's server, a share link to the link's.
        recorded=(earlier.server, earlier.server_url) if earlier else None,
        linked=None if earlier else request.GET.get(LINK_SERVER),
    )
    context = {
        "operation": operation,
        "form": form,
        "console": console,
        "servers": servers,
        "withheld": withheld_names(earlier) if earlier else [],
        "reused": reused_files(earlier),
        "schemas": schemas,
        "kept_fields": first_visit_fields(
            operation=operation,
            form=form,
            schemas=schemas,
            references=references,
            prefilled=bool(prefill),
            content_type=content_type,
        ),
        "environments": user_environments,
        "environment": environments.selected_environment(
            user=request.user, session=request.session
        ),
    }
    return render(request, "console/operation_detail.html", context)


@require_POST
@capped_uploads  # before anything, the CSRF check included, reads the form
def operation_try(request: HtmxRequest, api_slug: str, operation_slug: str) -> HttpResponse:
    operation = selectors.get_operation(
        user=request.user, api_slug=api_slug, operation_slug=operation_slug
    )
    posted_subscription = request.POST.get("subscription")  # None: the form had no select
    console = try_it_console(
        api=operation.api, user=request.user, selected=posted_subscription or ""
    )
    address = request.META.get("REMOTE_ADDR", "")
    credentials = oauth.credentials_for_call(
        session=request.session,
        api=operation.api,
        client_key=client_key(user=request.user, address=address),
    )
    user_environments = environments.environment_choices(user=request.user)
    # Try again of a call that sent files: its kept files, for the fields left empty.
    reuse = _earlier_call(request, operation, exchange_id=request.POST.get("reuse_files", ""))
    form = TryItForm(
        request.POST,
        with_reused(files=request.FILES, exchange=reuse),
        operation=operation,
        key_header=console.key_header,
        supplied=supplied_names(operation=operation, held=credentials),
        references=bool(user_environments),
    )
    servers = pick_server(
        api=operation.api,
        user=request.user,
        portal_url=portal_url(request),
        session=request.session,
        posted=request.POST.get("server"),  # None: the form had no select
    )
    environment = environments.choose_environment(
        user=request.user, session=request.session, posted=request.POST.get("environment", "")
    )
    result = refusal = None
    retry_after = None
    if form.is_valid() and servers.chosen is not None:
        remember_server(
            api=operation.api, user=request.user, session=request.session, choice=servers.chosen
        )
        try:
            result = try_operation(
                operation=operation,
                values=form.values(),
                user=request.user,
                session_key=_session_key(request),
                address=address,
                base_url=servers.chosen.base_url,
                server=(servers.chosen.value, servers.chosen.url),
                environment=environments.variables_of(environment) if environment else None,
                credentials=credentials,
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
        "servers": servers,
        "exchange": exchange,
        "gateway": result.gateway if result else None,
        "refusal": refusal,
        "reused": reused_files(reuse),
        "rendered": render_exchange_body(exchange) if exchange else None,
        "response_check": check_response_of(operation=operation, exchange=exchange),
        "schemas": operation_schemas(operation=operation),
        "environments": user_environments,
        "environment": environment,
    }
    template = "console/_try_it.html" if request.htmx else "console/operation_detail.html"
    if retry_after is None:
        return render(request, template, context)
    response = render(request, template, context, status=429)
    response["Retry-After"] = str(retry_after)
    return response


@require_GET
def exchange_file(request: HttpRequest, exchange_id: int, file_id: int) -> HttpResponseBase:
    """A file the call sent, for whoever may see the call (its owner, or its session)."""
    visible = Exchange.objects.visible_to(
        user=request.user, session_key=request.session.session_key
    )
    exchange = get_object_or_404(visible, pk=exchange_id)
    return download(get_object_or_404(exchange.files, pk=file_id))


@require_GET
def exchange_body(request: HttpRequest, exchange_id: int) -> HttpResponse:
    visible = Exchange.objects.visible_to(
        user=request.user, session_key=request.session.session_key
    )
    exchange = get_object_or_404(visible, pk=exchange_id)
    return attachment(body=bytes(exchange.response_body), filename=download_filename(exchange))
