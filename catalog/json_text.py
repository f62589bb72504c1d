"""A JSON value stored as its text, so that an object's keys keep their order.

PostgreSQL's `jsonb` (what `models.JSONField` uses there) keeps an object's keys in an
order of its own, shorter keys first; a documented schema's properties, an API's security
schemes and an operation's named examples are shown in the document's order
(docs/design.md, "Documented schemas"). Nothing queries inside these values, so text
loses nothing; SQLite stored JSONField as text already.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.db import models


class JSONTextField(models.TextField):
    description = "A JSON value kept as text, in its keys' order"
    # What django-stubs reads as the attribute's type: any JSON value, not a str.
    _pyi_private_set_type: Any
    _pyi_private_get_type: Any

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Any:
        return None if value is None else json.loads(value)

    def to_python(self, value: Any) -> Any:
        # Already a Python value (assigned, or from a fixture written by value_to_string).
        return value

    def get_prep_value(self, value: Any) -> Any:
        if value is None:
            return None
        # ASCII escapes: a NUL or a lone surrogate from a document is then storable text
        # (PostgreSQL's text refuses NUL; neither database takes a lone surrogate).
        return json.dumps(value, separators=(",", ":"))

    def value_to_string(self, obj: models.Model) -> Any:
        # The value itself, as JSONField does, so dumpdata writes JSON, not JSON in a string.
        return self.value_from_object(obj)

    def formfield(
        self,
        form_class: type[forms.Field] | None = None,
        choices_form_class: type[forms.ChoiceField] | None = None,
        **kwargs: Any,
    ) -> forms.Field | None:
        return super().formfield(
            form_class=form_class or forms.JSONField,
            choices_form_class=choices_form_class,
            **kwargs,
        )
