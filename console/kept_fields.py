"""The Try it form's fields (parameters and cookies, header rows, body editor) as a first
visit shows them, rendered once per process.

An operation page opened without a share link, a Try again or a chosen content type
starts from the operation's defaults (never a stored secret: catalog/stored_values.py),
the same for every visitor with the same subscription key header and the same
`references` (whether the user has environments). Rendering its fields through Django's
widget templates was a third of the page's server time, so each process keeps their HTML
under the configuration's generation (catalog/snapshot.py). A bound form, or one
prefilled by a link or an earlier call, is rendered as it is. What depends on the visitor
(the CSRF token, the server, environment and subscription selects) is not in them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from catalog import snapshot
from catalog.models import Operation
from console.forms import TryItForm


@dataclass(frozen=True)
class KeptFields:
    parameters: SafeString  # templates/console/_tryit_fields.html
    headers: SafeString  # templates/console/_header_rows.html
    body: SafeString  # templates/console/_body_editor.html, "" without a body


def _html(template: str, context: dict[str, Any]) -> SafeString:
    # The template engine escaped every value.
    return mark_safe(render_to_string(template, context))  # noqa: S308


def _render(*, operation: Operation, form: TryItForm, schemas: Any) -> KeptFields:
    context = {"operation": operation, "form": form, "schemas": schemas}
    return KeptFields(
        parameters=_html("console/_tryit_fields.html", context),
        headers=_html("console/_header_rows.html", context),
        body=_html("console/_body_editor.html", context) if form.body_choice else mark_safe(""),
    )


def first_visit_fields(
    *,
    operation: Operation,
    form: TryItForm,
    schemas: Any,
    references: bool,
    prefilled: bool,
    content_type: str | None,
) -> KeptFields | None:
    """The kept fields of a first visit's form (built with these `references`); None for
    any other form."""
    if form.is_bound or prefilled or content_type is not None:
        return None
    key = ("try-it-fields", operation.pk, form.key_header, references)
    return snapshot.kept(key, lambda: _render(operation=operation, form=form, schemas=schemas))
