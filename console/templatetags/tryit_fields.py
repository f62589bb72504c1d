"""The Try it form's fields in Bootstrap's markup, without crispy-forms.

crispy-forms' field template, with its includes and conditions, was a third of an
operation page's server time (3.8 of 11 ms for the demo's RRS Execute, measured with
pyinstrument and per-node timers): `templates/console/_field.html` writes the same
markup for the fields the form has (text, number, password, select, item lists), and
`bootstrap_widget` gives the input the classes crispy's `crispy_field` gave it.
"""

from __future__ import annotations

from django import forms, template
from django.forms.boundfield import BoundField
from django.utils.safestring import SafeString

register = template.Library()


def widget_classes(field: BoundField) -> str:
    """The widget's own classes, its class name in lower case (`textinput`, `select`),
    then Bootstrap's for its kind and `is-invalid` when the field has errors; a file
    input is `form-control` first, then its own classes."""
    widget = field.field.widget
    classes = str(widget.attrs.get("class", "")).split()
    if isinstance(widget, forms.FileInput):
        return " ".join(["form-control", *classes, *(["is-invalid"] if field.errors else [])])
    name = type(widget).__name__.lower()
    if name not in classes:
        classes.append(name)
    if isinstance(widget, forms.CheckboxInput):
        classes.append("form-check-input")
    elif isinstance(widget, forms.Select):  # SelectMultiple too
        classes.append("form-select")
    else:
        classes.append("form-control")
    if field.errors:
        classes.append("is-invalid")
    return " ".join(classes)


@register.filter
def bootstrap_widget(field: BoundField) -> SafeString:
    return field.as_widget(attrs={"class": widget_classes(field)})


@register.filter
def is_file(field: BoundField) -> bool:
    return isinstance(field.field.widget, forms.FileInput)
