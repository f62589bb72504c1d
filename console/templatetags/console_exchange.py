"""A recorded call as the result panel shows it to the viewer (console/shown_exchange.py)."""

from __future__ import annotations

from django import template

from console import shown_exchange as shown
from console.models import Exchange
from gateway import public_urls

register = template.Library()


@register.simple_tag(takes_context=True)
def shown_exchange(context: template.Context, exchange: Exchange) -> shown.ShownExchange:
    request = context["request"]
    return shown.shown_exchange(
        exchange=exchange,
        portal_url=public_urls.portal_url(request),
        user=getattr(request, "user", None),
    )
