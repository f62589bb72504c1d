"""On PostgreSQL, a full-text vector of every operation, kept by the database itself.

A stored generated column (the database computes it on every insert and update, bulk
ones included, so no code path can leave it stale) and a GIN index on it. The column
is not a model field: only catalog/search.py reads it, on PostgreSQL. SQLite gets
nothing (the search falls back to LIKE there). The expression is the one
docs/design.md "Search" describes; a later migration changing the type of one of its
columns must drop the column first.
"""

from django.db import migrations


def _words(column: str) -> str:
    # The text, then again split at camel case (getPetById: get Pet By Id), with every
    # run of characters other than letters and digits made a space.
    split = rf"regexp_replace({column}, '([[:lower:][:digit:]])([[:upper:]])', '\1 \2', 'g')"
    return rf"regexp_replace({column} || ' ' || {split}, '[^[:alnum:]]+', ' ', 'g')"


VECTOR = (
    "setweight(to_tsvector('simple'::regconfig, "
    f"{_words('name')} || ' ' || {_words('operation_id')} || ' ' || {_words('url_template')}"
    "), 'A') || "
    f"setweight(to_tsvector('simple'::regconfig, {_words('tags')}), 'B') || "
    f"setweight(to_tsvector('simple'::regconfig, {_words('description')}), 'D')"
)

FORWARD = [
    "ALTER TABLE operations_operation ADD COLUMN search_vector tsvector "
    f"GENERATED ALWAYS AS ({VECTOR}) STORED",
    "CREATE INDEX operations_operation_search ON operations_operation USING gin (search_vector)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS operations_operation_search",
    "ALTER TABLE operations_operation DROP COLUMN IF EXISTS search_vector",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("operations", "0011_kept_files"),
    ]

    operations = [
        migrations.RunPython(_run(FORWARD), _run(BACKWARD), elidable=False),
    ]
