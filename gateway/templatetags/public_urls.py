"""Where the pages tell a developer to call (gateway/public_urls.py), for the viewer."""

from __future__ import annotations

from django import template

from catalog.models import Api, Operation
from gateway import public_urls
from gateway.tryit_access import GatewayRefusal

register = template.Library()


def _viewer(context: template.Context) -> tuple[str, public_urls.User | None]:
    request = context["request"]
    return public_urls.portal_url(request), getattr(request, "user", None)


@register.simple_tag(takes_context=True)
def api_address(context: template.Context, api: Api) -> public_urls.Address:
    portal_url, user = _viewer(context)
    return public_urls.api_address(api=api, portal_url=portal_url, user=user)


@register.simple_tag(takes_context=True)
def operation_address(context: template.Context, operation: Operation) -> public_urls.Address:
    portal_url, user = _viewer(context)
    return public_urls.operation_address(
        api=operation.api, url_template=operation.url_template, portal_url=portal_url, user=user
    )


@register.simple_tag(takes_context=True)
def refusal_address(
    context: template.Context, refusal: GatewayRefusal, operation: Operation
) -> public_urls.Address:
    portal_url, user = _viewer(context)
    return public_urls.call_address(
        api=operation.api, url=refusal.url, portal_url=portal_url, user=user
    )
