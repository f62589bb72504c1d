"""The words an operation's field is indexed under, the same on both databases.

The text, then again split at camel case (getPetById: get Pet By Id), with every run of
characters other than letters and digits made a space. PostgreSQL computes it in SQL
(catalog/migrations/0013); on SQLite the index's triggers call `search_words`, which
this module registers on every SQLite connection.
"""

from __future__ import annotations

import re
from typing import Any

from django.db.backends.signals import connection_created
from django.dispatch import receiver

# How much of a description is indexed: enough for what it is about, small enough that
# PostgreSQL keeps the vector in the row (docs/design.md, "Search").
DESCRIPTION_CHARS = 1000
SQL_FUNCTION = "search_words"

_CAMEL = re.compile(r"(?<=[^\W_A-Z])(?=[A-Z])")
_NOT_ALNUM = re.compile(r"[\W_]+")


def search_words(text: str | None) -> str:
    """The field's words as the index holds them (module docstring)."""
    if not text:
        return ""
    return _NOT_ALNUM.sub(" ", f"{text} {_CAMEL.sub(' ', text)}").strip()


@receiver(connection_created)
def register_on_sqlite(*, connection: Any, **kwargs: Any) -> None:
    if connection.vendor == "sqlite":
        connection.connection.create_function(SQL_FUNCTION, 1, search_words, deterministic=True)
