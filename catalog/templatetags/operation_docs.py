"""An operation page's documentation column, rendered once per process.

The parameters table, the request body and the responses read only the operation and its
documented schemas, never the visitor: each process keeps the rendered column under the
configuration's generation (catalog/snapshot.py), beside the operation it shows.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from catalog import snapshot
from catalog.models import Operation

register = template.Library()


def _render(*, operation: Operation, schemas: Any) -> SafeString:
    html = render_to_string(
        "catalog/_operation_docs.html", {"operation": operation, "schemas": schemas}
    )
    return mark_safe(html)  # noqa: S308 - rendered by the template engine, escaped there


@register.simple_tag
def operation_docs(operation: Operation, schemas: Any) -> SafeString:
    """templates/catalog/_operation_docs.html for the operation, kept by the process."""
    return snapshot.kept(
        ("operation-docs", operation.pk),
        lambda: _render(operation=operation, schemas=schemas),
    )
