"""The API as an OpenAPI document: /apis/<api>/openapi.json and .yaml.

The document is public: its server is where developers call the API (the gateway's URL
for an API on the gateway), for every viewer, staff included.
"""

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from catalog import selectors
from catalog.models import Api
from gateway import public_urls
from openapi.export import export_document
from openapi.export_text import dumps_json, dumps_yaml


def _server_url(*, request: HttpRequest, api: Api) -> str:
    return public_urls.public_base(api=api, portal_url=public_urls.portal_url(request))


def _document_response(*, text: str, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(text, content_type=content_type)
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_GET
def openapi_json(request: HttpRequest, api_slug: str) -> HttpResponse:
    api = selectors.get_api(user=request.user, api_slug=api_slug)
    return _document_response(
        text=dumps_json(export_document(api=api, server_url=_server_url(request=request, api=api))),
        content_type="application/json",
        filename=f"{api.slug}-openapi.json",
    )


@require_GET
def openapi_yaml(request: HttpRequest, api_slug: str) -> HttpResponse:
    api = selectors.get_api(user=request.user, api_slug=api_slug)
    return _document_response(
        text=dumps_yaml(export_document(api=api, server_url=_server_url(request=request, api=api))),
        content_type="application/yaml; charset=utf-8",
        filename=f"{api.slug}-openapi.yaml",
    )
