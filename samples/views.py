"""POST /apis/<api>/operations/<op>/samples: the code samples panel for a Try it form."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from catalog import selectors
from console.forms import TryItForm
from console.servers import pick_server
from console.share_links import share_url
from gateway import public_urls
from httpcore.templating import BindError
from samples.languages import LANGUAGE_KEYS
from samples.placeholders import fill_placeholders
from samples.request import SampleError
from samples.sample_set import build_samples

# A header error is also reported as this form-wide error; the panel lists the header
# errors themselves instead.
_HEADERS_ERROR = "Check the headers."


def form_errors(form: TryItForm) -> list[str]:
    """The form's errors in short: "label: message", one a line."""
    errors = [str(e) for e in form.non_field_errors() if e != _HEADERS_ERROR]
    errors += form.header_errors
    for name, messages in form.errors.items():
        if name != "__all__":
            errors += [f"{form.fields[name].label}: {message}" for message in messages]
    return errors


@never_cache  # with "Show secrets" on, the answer holds the form's secret values
@require_POST
def operation_samples(request: HttpRequest, api_slug: str, operation_slug: str) -> HttpResponse:
    operation = selectors.get_operation(
        user=request.user, api_slug=api_slug, operation_slug=operation_slug
    )
    form = TryItForm(request.POST, operation=operation, for_samples=True)
    reveal = request.POST.get("reveal") == "1"
    language = request.POST.get("lang", "")
    errors: list[str] = []
    # What the form still needs is written as placeholders, so that samples show at once.
    placeholders = fill_placeholders(form)
    context = {
        "operation": operation,
        "samples_partial": True,
        "lang": language if language in LANGUAGE_KEYS else LANGUAGE_KEYS[0],
        "share_url": request.build_absolute_uri(share_url(operation, request.POST)),
        "errors": errors,
        "samples": None,
    }
    servers = pick_server(
        api=operation.api,
        user=request.user,
        portal_url=public_urls.portal_url(request),
        session=request.session,
        posted=request.POST.get("server"),
    )
    if servers.chosen is None:
        errors.append(f"Server: {servers.error}")
    elif form.is_valid():
        try:
            context["samples"] = build_samples(
                operation=operation,
                values=form.values(),
                reveal=reveal,
                # For an API on the gateway, samples call the gateway at this portal's URL.
                portal_url=public_urls.portal_url(request),
                base_url=servers.chosen.base_url,
                placeholders=placeholders,
            )
        except BindError as error:
            form.add_bind_error(error)
        except SampleError as error:
            errors.append(str(error))
    if not form.is_valid():
        errors += form_errors(form)
    return render(request, "samples/_samples.html", context)
