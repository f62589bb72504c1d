"""The Authorize button and dialog of an API's pages (console/authorization.py)."""

from __future__ import annotations

from dataclasses import dataclass

from django import template

from catalog.models import Api, Operation
from console import authorization, authorize_steps

register = template.Library()


@dataclass(frozen=True)
class Entry:
    scheme: authorization.Scheme
    shown: str  # the held credential, masked; "" when none is held
    asked: bool  # the operation (when on an operation's page) asks for it


@register.inclusion_tag("console/_authorize.html", takes_context=True)
def authorize_dialog(
    context: template.Context, api: Api, operation: Operation | None = None
) -> dict:
    request = context["request"]
    held = authorization.held_credentials(session=request.session, api=api)
    asked = (
        {name for r in authorization.requirements_of(operation) for name in r}
        if operation is not None
        else set()
    )
    entries = [
        Entry(
            scheme=scheme,
            shown=authorization.shown(scheme=scheme, held=held.get(scheme.name)),
            asked=scheme.name in asked,
        )
        for scheme in authorization.schemes_of(api)
    ]
    return {
        "api": api,
        "entries": entries,
        "notice": authorize_steps.take_notice(session=request.session, api=api),
        "next": request.get_full_path(),
        "csrf_token": context.get("csrf_token"),
        "authorized": sum(1 for entry in entries if entry.shown),
    }
