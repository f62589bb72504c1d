"""The Authorize dialog's endpoints (the dialog itself is the `authorize_dialog` tag)."""

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from catalog import selectors
from catalog.models import Api
from console import authorize_steps, oauth
from console.authorization import scheme_of
from console.authorize_forms import AuthorizeForm
from console.tryit import client_key


def _return_to(request: HttpRequest, api: Api) -> str:
    """Back to the page the dialog was opened on (a path of the portal), else the API's."""
    wanted = request.POST.get("next", "")
    allowed = url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return (wanted if allowed and wanted.startswith("/") else api.get_absolute_url()) + "#authorize"


def _client_key(request: HttpRequest) -> str:
    return client_key(user=request.user, address=request.META.get("REMOTE_ADDR", ""))


@require_POST
def authorize(request: HttpRequest, api_slug: str) -> HttpResponse:
    api = selectors.get_api(user=request.user, api_slug=api_slug)
    scheme = scheme_of(api, request.POST.get("scheme", ""))
    if scheme is None:
        raise Http404("The API has no such security scheme.")
    back = _return_to(request, api)
    form = AuthorizeForm(request.POST, scheme=scheme)
    if not form.is_valid():
        authorize_steps.set_notice(
            session=request.session, api=api, text=f"{scheme.name}: {form.first_error}", error=True
        )
        return HttpResponseRedirect(back)
    following = authorize_steps.authorize(
        session=request.session,
        api=api,
        form=form,
        redirect_uri=request.build_absolute_uri(reverse("console:authorize_callback")),
        return_to=back,
        client_key=_client_key(request),
    )
    return HttpResponseRedirect(following)


@require_POST
def log_out(request: HttpRequest, api_slug: str) -> HttpResponse:
    api = selectors.get_api(user=request.user, api_slug=api_slug)
    authorize_steps.log_out(
        session=request.session,
        api=api,
        scheme=request.POST.get("scheme", ""),
        client_key=_client_key(request),
    )
    return HttpResponseRedirect(_return_to(request, api))


@require_GET
def callback(request: HttpRequest) -> HttpResponse:
    """Where the authorization server sends the browser back with a code."""
    try:
        finished = oauth.finish_authorization(
            session=request.session, answer=request.GET.dict(), client_key=_client_key(request)
        )
    except oauth.AuthorizeError as error:
        return render(
            request, "console/authorize_refused.html", {"message": error.message}, status=400
        )
    api = Api.objects.get(pk=finished.api_pk)
    authorize_steps.set_notice(
        session=request.session, api=api, text=f"{finished.scheme}: authorized."
    )
    return HttpResponseRedirect(finished.return_to)
