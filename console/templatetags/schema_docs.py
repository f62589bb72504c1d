"""The operation page's rendered schema trees (console/schema_tree.py)."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString, mark_safe

from catalog.models import Parameter
from console.schema_tree import NamedExample, OperationSchemas

register = template.Library()


@register.filter
def response_schema(schemas: OperationSchemas | None, status_code: int | str) -> SafeString:
    """The rendered tree of a documented response's schema by its code ("200", "4XX",
    "default"); "" when none is documented. A range and `default` are listed on their own
    (catalog/response_docs.py), so a code without a schema shows none of theirs."""
    if schemas is None:
        return mark_safe("")
    code = str(status_code)
    for key in (code, code.lower()):
        if key in schemas.responses:
            # Rendered by the template engine (console/_schema_tree.html), so escaped.
            return mark_safe(schemas.responses[key])  # noqa: S308
    return mark_safe("")


@register.filter
def response_examples(schemas: OperationSchemas | None, status_code: int | str) -> list:
    """The named examples of the response documented for this exact code."""
    if schemas is None:
        return []
    return schemas.response_examples.get(str(status_code), [])


@register.filter
def example_texts(examples: list[NamedExample]) -> list[str]:
    return [example.text for example in examples]


@register.filter
def parameter_type(schemas: OperationSchemas | None, parameter: Parameter) -> str:
    """The parameter's documented type as the schema tree labels it, else the catalog's."""
    documented = (
        schemas.parameter_type(location=parameter.location, name=parameter.name)
        if schemas is not None
        else ""
    )
    return documented or parameter.type
