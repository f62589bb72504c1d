"""The result panel's Save as variable controls (console/environments.py)."""

from __future__ import annotations

from dataclasses import dataclass

from django import template

from console import environments
from console.models import Environment, Exchange

register = template.Library()


@dataclass(frozen=True)
class SaveControls:
    values: list[environments.SaveableValue]
    environments: list[Environment]
    selected: Environment | None


@register.simple_tag(takes_context=True)
def save_controls(context: template.Context, exchange: Exchange) -> SaveControls | None:
    """What the viewer may save from the exchange's response: only its owner, signed
    in, and only from a JSON response."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if request is None or user is None or not user.is_authenticated:
        return None
    if exchange.owner_id != user.pk:
        return None
    values = environments.saveable_values(exchange)
    if not values:
        return None
    selected = context.get("environment") or environments.selected_environment(
        user=user, session=request.session
    )
    return SaveControls(
        values=values,
        environments=list(environments.environments_of(user=user)),
        selected=selected,
    )
