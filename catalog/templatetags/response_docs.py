from django import template

from catalog.models import Operation
from catalog.response_docs import ShownResponse, shown_responses

register = template.Library()


@register.simple_tag
def documented_responses(operation: Operation) -> list[ShownResponse]:
    """The operation's responses in status order, `default` last (catalog/response_docs.py)."""
    return shown_responses(operation=operation)
