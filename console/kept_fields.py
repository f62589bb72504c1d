"""The Try it form's parameter and cookie fields as a first visit shows them, rendered
once per process.

An operation page opened without a share link, a Try again or a chosen content type
starts from the operation's defaults (never a stored secret: catalog/stored_values.py),
the same for every visitor with the same subscription key header and the same
`references` (whether the user has environments). Rendering its fields through Django's
widget templates was a fifth of the page's server time, so each process keeps their HTML
under the configuration's generation (catalog/snapshot.py). A bound form, or one
prefilled by a link or an earlier call, is rendered as it is.
"""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from catalog import snapshot
from catalog.models import Operation
from console.forms import TryItForm


def _render(form: TryItForm) -> SafeString:
    html = render_to_string("console/_tryit_fields.html", {"form": form})
    return mark_safe(html)  # noqa: S308 - rendered by the template engine, escaped there


def first_visit_fields(
    *,
    operation: Operation,
    form: TryItForm,
    references: bool,
    prefilled: bool,
    content_type: str | None,
) -> SafeString | None:
    """The kept fields of a first visit's form (built with these `references`); None for
    any other form."""
    if form.is_bound or prefilled or content_type is not None:
        return None
    key = ("try-it-fields", operation.pk, form.key_header, references)
    return snapshot.kept(key, lambda: _render(form))
