"""HTTP endpoints of the sample backend. The behaviour lives in service.py."""

import functools
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.oauth2_backends import get_oauthlib_core

from demo import service as demo
from demo.service import DemoError

View = Callable[..., HttpResponse]


def _refuse_unless_enabled() -> None:
    # Off (PORTAL_DEMO_BACKEND_ENABLED), the backend is not there: the portal's own 404.
    if not settings.PORTAL_DEMO_BACKEND_ENABLED:
        raise Http404("The sample backend is off.")


def endpoint(*methods: str) -> Callable[[View], View]:
    """The checks every backend URL makes, in the real service's order: verb, key,
    api-version. It is an API called with a key, not from a form, so no CSRF."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, **kwargs: str) -> HttpResponse:
            _refuse_unless_enabled()
            try:
                if request.method not in methods:
                    raise DemoError(
                        status=405,
                        code="MethodNotAllowed",
                        message=f"{request.method} is not allowed here; use {', '.join(methods)}.",
                        headers={"Allow": ", ".join(methods)},
                    )
                demo.check_authorization(
                    header=request.headers.get("Authorization"),
                    expected_key=settings.PORTAL_DEMO_API_KEY,
                )
                demo.check_api_version(value=request.GET.get("api-version"))
                return view(request, **kwargs)
            except RequestDataTooBig:
                limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
                message = f"The request body is larger than {limit} bytes."
                return DemoError(status=413, code="RequestTooLarge", message=message).as_response()
            except DemoError as error:
                return error.as_response()

        return csrf_exempt(wrapper)

    return decorate


@endpoint("POST")
def execute(request: HttpRequest, *, workspace: str, service: str) -> HttpResponse:
    details = demo.wants_details(value=request.GET.get("details"))
    return JsonResponse(demo.execute(body=request.body, details=details))


@endpoint("POST")
def submit_job(request: HttpRequest, *, workspace: str, service: str) -> HttpResponse:
    job = demo.submit_job(
        workspace=workspace, service=service, body=request.body, now=timezone.now()
    )
    # AzureML answers the new job's id as a bare JSON string.
    return JsonResponse(job.id.hex, safe=False)


@endpoint("POST")
def start_job(request: HttpRequest, *, workspace: str, service: str, jobid: str) -> HttpResponse:
    demo.start_job(
        workspace=workspace,
        service=service,
        jobid=jobid,
        now=timezone.now(),
        duration_seconds=settings.PORTAL_DEMO_JOB_SECONDS,
    )
    return JsonResponse(None, safe=False)


@endpoint("GET", "DELETE")
def job(request: HttpRequest, *, workspace: str, service: str, jobid: str) -> HttpResponse:
    if request.method == "DELETE":
        demo.delete_job(workspace=workspace, service=service, jobid=jobid)
        return JsonResponse(None, safe=False)
    found = demo.find_job(workspace=workspace, service=service, jobid=jobid)
    return JsonResponse(demo.job_status(job=found, now=timezone.now()))


@csrf_exempt
def oauth_profile(request: HttpRequest) -> HttpResponse:
    """The OAuth-protected operation: 200 with a valid bearer token of the demo
    authorization server holding the "profile" scope, else 401 with a JSON error and a
    WWW-Authenticate challenge (RFC 6750). django-oauth-toolkit checks the token."""
    _refuse_unless_enabled()
    if request.method != "GET":
        return DemoError(
            status=405,
            code="MethodNotAllowed",
            message=f"{request.method} is not allowed here; use GET.",
            headers={"Allow": "GET"},
        ).as_response()
    valid, checked = get_oauthlib_core().verify_request(request, scopes=[demo.OAUTH_SCOPE])
    if not valid:
        return demo.oauth_refusal(has_token=bool(request.headers.get("Authorization")))
    return JsonResponse(demo.oauth_profile(token=checked.access_token))


@csrf_exempt
def not_found(request: HttpRequest) -> HttpResponse:
    _refuse_unless_enabled()
    # A JSON 404 for every other path, so clients of the backend never get an HTML page.
    return DemoError(
        status=404, code="NotFound", message=f"There is no resource at {request.path}."
    ).as_response()
