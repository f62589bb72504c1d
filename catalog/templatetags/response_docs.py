from django import template

from catalog.models import Operation
from catalog.response_docs import ShownResponse, kept_responses

register = template.Library()


@register.simple_tag
def documented_responses(operation: Operation) -> tuple[ShownResponse, ...]:
    """The operation's responses in status order, `default` last (catalog/response_docs.py)."""
    return kept_responses(operation=operation)
